//! Callee-saved register canaries across both kinds of switch, on the target
//! itself: `crate::arch` provides `canary_call` (in assembly, so the compiler
//! cannot keep values in registers on our behalf), `Regs`, `NAMES`, `MAIN`
//! and `OTHER` for its ABI.
//!
//! - `cem_swapcontext` is called directly from `canary_call`: each side loads
//!   its own canaries, switches, and must find them again when resumed.
//! - `Coroutine::resume` / `Yielder::suspend` are inline asm inside Rust code,
//!   so they are reached through a small Rust function; the check then covers
//!   what a caller relies on: the registers survive a call that resumes or
//!   suspends a coroutine (asm saves plus the clobber lists at both sites).

use core::fmt::Write;
use core::ptr::{addr_of, addr_of_mut};

use cem_ctx::{make_context, swap_context, Context, Coroutine, Yielder};

use crate::arch::{canary_call, Regs, MAIN, N, NAMES, OTHER};
use crate::work::{check, StaticStack, STACK_SIZE};

static mut SWAP_STACK: StaticStack = StaticStack([0; STACK_SIZE]);
static mut CO_STACK: StaticStack = StaticStack([0; STACK_SIZE]);
static mut MAIN_CTX: Context = unsafe { core::mem::zeroed() };
static mut OTHER_CTX: Context = unsafe { core::mem::zeroed() };
/// What the other side found after being resumed.
static mut OTHER_FOUND: Regs = [0; N];

/// Compares the checked registers and prints every mismatch.
fn compare(out: &mut dyn Write, side: &str, expected: &Regs, found: &Regs) -> bool {
    let mut ok = true;
    for (i, name) in NAMES.iter().enumerate() {
        if expected[i] != found[i] {
            let _ = writeln!(
                out,
                "     {side}: {name} was {:#018x}, expected {:#018x}",
                found[i], expected[i]
            );
            ok = false;
        }
    }
    ok
}

extern "C" fn swap_side() {
    // SAFETY: the contexts are statics used by this test only, one side at a time.
    unsafe {
        canary_call(
            &OTHER,
            addr_of_mut!(OTHER_FOUND),
            cem_ctx::ffi::cem_swapcontext as *const () as usize,
            addr_of_mut!(OTHER_CTX) as usize,
            addr_of!(MAIN_CTX) as usize,
        );
        swap_context(addr_of_mut!(OTHER_CTX), addr_of!(MAIN_CTX));
    }
    // Never resumed a third time.
    cem_ctx::trap()
}

type CanaryCoroutine = Coroutine<'static, usize, usize, usize, &'static mut [u8]>;

extern "C" fn resume_thunk(co: usize, _: usize) {
    // SAFETY: `co` is the address of the live coroutine in `run`.
    let co = unsafe { &mut *(co as *mut CanaryCoroutine) };
    let _ = co.resume(0);
}

extern "C" fn suspend_thunk(y: usize, _: usize) {
    // SAFETY: `y` is the address of the coroutine's own Yielder, passed from its body.
    let y = unsafe { &*(y as *const Yielder<usize, usize>) };
    let _ = y.suspend(1);
}

/// Runs both canary checks; true when both sides of both switches passed.
///
/// # Safety
/// Called once: it takes the static stacks.
pub unsafe fn run(out: &mut dyn Write) -> bool {
    let mut all = true;
    let n = NAMES.len();
    // SAFETY: statics used by this function only, once.
    unsafe {
        let stack = addr_of_mut!(SWAP_STACK);
        if make_context(
            addr_of_mut!(OTHER_CTX),
            stack.cast(),
            STACK_SIZE,
            Some(swap_side),
            None,
        )
        .is_err()
        {
            return check(out, "canary context created", false);
        }
        let mut first: Regs = [0; N];
        let mut second: Regs = [0; N];
        let swap = cem_ctx::ffi::cem_swapcontext as *const () as usize;
        let (m, o) = (
            addr_of_mut!(MAIN_CTX) as usize,
            addr_of!(OTHER_CTX) as usize,
        );
        canary_call(&MAIN, &mut first, swap, m, o);
        canary_call(&MAIN, &mut second, swap, m, o);
        let ok = compare(out, "main side", &MAIN, &first)
            & compare(out, "main side, second trip", &MAIN, &second)
            & compare(out, "context side", &OTHER, &*addr_of!(OTHER_FOUND));
        all &= check(
            out,
            format_args!("cem_swapcontext: {n} callee-saved registers survive, both sides"),
            ok,
        );

        OTHER_FOUND = [0; N];
        let stack: &'static mut [u8] = &mut (*addr_of_mut!(CO_STACK)).0;
        let mut co: CanaryCoroutine = match Coroutine::new(stack, |_, y: &Yielder<usize, usize>| {
            let mut found: Regs = [0; N];
            canary_call(
                &OTHER,
                &mut found,
                suspend_thunk as *const () as usize,
                y as *const _ as usize,
                0,
            );
            OTHER_FOUND = found;
            0
        }) {
            Ok(co) => co,
            Err(_) => return check(out, "canary coroutine created", false),
        };
        let mut first: Regs = [0; N];
        let mut second: Regs = [0; N];
        let co_addr = addr_of_mut!(co) as usize;
        canary_call(
            &MAIN,
            &mut first,
            resume_thunk as *const () as usize,
            co_addr,
            0,
        );
        canary_call(
            &MAIN,
            &mut second,
            resume_thunk as *const () as usize,
            co_addr,
            0,
        );
        let ok = co.is_complete()
            & compare(out, "resumer", &MAIN, &first)
            & compare(out, "resumer, second trip", &MAIN, &second)
            & compare(out, "coroutine", &OTHER, &*addr_of!(OTHER_FOUND));
        all &= check(
            out,
            format_args!(
                "Coroutine resume/suspend: {n} callee-saved registers survive, both sides"
            ),
            ok,
        );
    }
    all
}

//! Behaviour of the switch through the raw API (`make_context`,
//! `swap_context`, and the C exports), run by libtest-mimic.
//!
//! Tests that must observe the process stopping (the trap) run a child
//! process (`support::isolate`) and check that it died on the trap
//! instruction inside `cem_context_trap`.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering::SeqCst};

use cem_ctx::{ffi, make_context, swap_context, Context, MakeContextError};
use libtest_mimic::{Arguments, Failed, Trial};

mod support;
use support::{
    canary, ensure, expect_child, isolate, ScratchStack as Stack, CAME_BACK, TRAPPED,
    UNKNOWN_SCENARIO,
};

// Per-ABI entry probe written in assembly; each module provides the
// assembly of `entry_probe` declared below. The register
// canary probe (`canary_call`) is shared with the coroutine tests.
#[cfg(all(target_arch = "x86_64", not(windows)))]
#[path = "switch/x86_64_sysv.rs"]
mod arch;
#[cfg(all(target_arch = "x86_64", windows))]
#[path = "switch/x86_64_win64.rs"]
mod arch;
#[cfg(target_arch = "aarch64")]
#[path = "switch/aarch64_aapcs64.rs"]
mod arch;
#[cfg(target_arch = "riscv64")]
#[path = "switch/riscv_psabi.rs"]
mod arch;

extern "C" {
    /// A context entry function that records the stack and frame pointers on
    /// its first instruction in ENTRY_SP / ENTRY_FP, then continues in
    /// `entry_probe_body` on the same stack with the same return address.
    fn entry_probe();
}

/// Stack and frame pointer as `entry_probe` found them.
static ENTRY_SP: AtomicU64 = AtomicU64::new(1);
static ENTRY_FP: AtomicU64 = AtomicU64::new(1);

/// A context shared between the two sides of a test through a static.
struct Slot(UnsafeCell<Context>);
// SAFETY: each test's contexts are used by one thread at a time, handed over
// through the switch itself.
unsafe impl Sync for Slot {}
impl Slot {
    const fn new() -> Self {
        Slot(UnsafeCell::new(Context {
            ..unsafe { core::mem::zeroed() }
        }))
    }
    fn get(&self) -> *mut Context {
        self.0.get()
    }
}

fn make(
    ctx: *mut Context,
    stack: &mut Stack,
    f: unsafe extern "C" fn(),
    r: Option<unsafe extern "C" fn()>,
) {
    // SAFETY: ctx points at a static Slot or a local; the stack outlives every switch in the test.
    unsafe { make_context(ctx, stack.base(), stack.size(), Some(f), r) }.expect("make_context");
}

// ---------------------------------------------------------------- canaries

/// `cem_swapcontext` as `canary_call` calls it: directly, from the probe, so
/// that no compiler-generated frame saves a register on its behalf.
fn swap_callee() -> canary::Callee {
    // SAFETY: both are `extern "C"` functions of two pointer arguments; the
    // probe passes a `*mut Context` and a `*const Context` as the ABI does.
    unsafe {
        core::mem::transmute::<unsafe extern "C" fn(*mut Context, *const Context), canary::Callee>(
            ffi::cem_swapcontext,
        )
    }
}

/// Loads `input` into every callee-saved register, switches from `save` to
/// `restore` and, when resumed, returns what those registers then held.
fn canary_swap(save: *mut Context, restore: *const Context, input: &canary::Regs) -> canary::Regs {
    let mut found = canary::zeroed();
    // SAFETY: both contexts are valid for the switch (the caller's contract,
    // as for swap_context); input and found outlive the call.
    unsafe {
        canary::canary_call(
            swap_callee(),
            save.cast(),
            restore.cast_mut().cast(),
            input,
            &mut found,
        )
    };
    found
}

mod canaries {
    use super::*;
    pub static MAIN: Slot = Slot::new();
    pub static CO: Slot = Slot::new();
    pub static CO_FOUND: AtomicPtr<canary::Regs> = AtomicPtr::new(core::ptr::null_mut());

    pub extern "C" fn coroutine() {
        // Load the coroutine's own canaries and switch back: the main side
        // sees every register clobbered and must get its own values back.
        let found = canary_swap(CO.get(), MAIN.get(), &canary::COROUTINE);
        CO_FOUND.store(Box::into_raw(Box::new(found)), SeqCst);
        unsafe { swap_context(CO.get(), MAIN.get()) };
        unreachable!("canary coroutine resumed a third time");
    }
}

/// Every callee-saved register survives a round trip, in both directions.
fn callee_saved_canaries() -> Result<(), Failed> {
    use canaries::*;
    let mut stack = Stack::new(64 * 1024);
    make(CO.get(), &mut stack, coroutine, None);
    // main -> coroutine (loads its canaries) -> main
    let found = canary_swap(MAIN.get(), CO.get(), &canary::MAIN);
    canary::check_regs("main side", &canary::MAIN, &found, &[])?;
    // main (loads its canaries again) -> coroutine, which checks its own
    let again = canary_swap(MAIN.get(), CO.get(), &canary::MAIN);
    canary::check_regs("main side, second trip", &canary::MAIN, &again, &[])?;
    let co_found = unsafe { Box::from_raw(CO_FOUND.swap(core::ptr::null_mut(), SeqCst)) };
    canary::check_regs("coroutine side", &canary::COROUTINE, &co_found, &[])?;
    Ok(())
}

// ------------------------------------------------------------ entry state

static PROBE_MAIN: Slot = Slot::new();
static PROBE_CO: Slot = Slot::new();

/// Reached from `entry_probe` after it recorded the entry registers.
extern "C" fn entry_probe_body() {
    unsafe { swap_context(PROBE_CO.get(), PROBE_MAIN.get()) };
}

/// `func` starts with the ABI's entry alignment and a zero frame pointer.
fn entry_alignment() -> Result<(), Failed> {
    // Every base alignment and a few sizes: the library aligns the top.
    for misalign in 0..16usize {
        for extra in [0usize, 1, 7, 8, 9, 15] {
            let mut stack = Stack::new(16 * 1024);
            let base = unsafe { stack.base().cast::<u8>().add(misalign) };
            let size = stack.size() - 16 - extra;
            unsafe {
                make_context(PROBE_CO.get(), base.cast(), size, Some(entry_probe), None)
                    .map_err(|e| e.to_string())?;
                swap_context(PROBE_MAIN.get(), PROBE_CO.get());
            }
            let sp = ENTRY_SP.load(SeqCst);
            let fp = ENTRY_FP.load(SeqCst);
            let top = (base as u64 + size as u64) & !15;
            ensure(
                canary::entry_sp_ok(sp),
                format!("entry sp {sp:#x} misaligned (base+{misalign}, size-{extra})"),
            )?;
            ensure(
                sp <= top && sp >= top - 64,
                format!("entry sp {sp:#x} not just below the top {top:#x}"),
            )?;
            ensure(fp == 0, format!("entry frame pointer {fp:#x}, expected 0"))?;
        }
    }
    Ok(())
}

// ------------------------------------------------------------ return path

static RET_MAIN: Slot = Slot::new();
static RET_CO: Slot = Slot::new();
static RET_LOG: AtomicU64 = AtomicU64::new(0);

extern "C" fn ret_func_body() {
    RET_LOG.store(RET_LOG.load(SeqCst) * 10 + 1, SeqCst);
}
extern "C" fn ret_return_func() {
    RET_LOG.store(RET_LOG.load(SeqCst) * 10 + 2, SeqCst);
    unsafe { swap_context(RET_CO.get(), RET_MAIN.get()) };
}

/// When `func` returns, `return_func` runs on the same stack.
fn return_func_runs() -> Result<(), Failed> {
    let mut stack = Stack::new(16 * 1024);
    make(
        RET_CO.get(),
        &mut stack,
        ret_func_body,
        Some(ret_return_func),
    );
    unsafe { swap_context(RET_MAIN.get(), RET_CO.get()) };
    let log = RET_LOG.load(SeqCst);
    ensure(
        log == 12,
        format!("expected func then return_func (12), got {log}"),
    )?;
    let sp = cem_ctx::saved_stack_pointer(unsafe { &*RET_CO.get() }) as u64;
    let lo = stack.base() as u64;
    // `<=`: a return_func that tail-calls swap_context (RISC-V release
    // builds do) saves sp exactly at the aligned top, where it was called.
    ensure(
        // `<=`: when func is tail-called into cem_swapcontext (release
        // builds on AArch64), the saved sp is the stack top itself.
        sp > lo && sp <= lo + stack.size() as u64,
        format!(
            "return_func did not run on the coroutine stack: saved sp {sp:#x}, stack {lo:#x}..={:#x}",
            lo + stack.size() as u64
        ),
    )
}

// ------------------------------------------------------------------ chains

static CHAIN: [Slot; 4] = [Slot::new(), Slot::new(), Slot::new(), Slot::new()];
static CHAIN_LOG: AtomicU64 = AtomicU64::new(0);

fn chain_step(me: usize, next: usize) {
    CHAIN_LOG.store(CHAIN_LOG.load(SeqCst) * 10 + me as u64, SeqCst);
    unsafe { swap_context(CHAIN[me].get(), CHAIN[next].get()) };
}
extern "C" fn chain_1() {
    chain_step(1, 2);
    chain_step(1, 2);
}
extern "C" fn chain_2() {
    chain_step(2, 3);
    chain_step(2, 3);
}
extern "C" fn chain_3() {
    chain_step(3, 1);
    chain_step(3, 0);
}

/// Contexts switch directly to each other, not only back to main:
/// main -> 1 -> 2 -> 3 -> 1 -> 2 -> 3 -> main.
fn context_to_context_chain() -> Result<(), Failed> {
    let mut stacks: Vec<Stack> = (0..3).map(|_| Stack::new(16 * 1024)).collect();
    let entries: [unsafe extern "C" fn(); 3] = [chain_1, chain_2, chain_3];
    for (i, s) in stacks.iter_mut().enumerate() {
        make(CHAIN[i + 1].get(), s, entries[i], None);
    }
    unsafe { swap_context(CHAIN[0].get(), CHAIN[1].get()) };
    let log = CHAIN_LOG.load(SeqCst);
    ensure(
        log == 123_123,
        format!("switch order {log}, expected 123123"),
    )
}

// ------------------------------------------------------------- round robin

const RR_CONTEXTS: usize = 10_000;
const RR_ROUNDS: u64 = 8;

struct RoundRobin {
    main: Context,
    ctxs: Vec<Context>,
    sums: Vec<u64>,
    current: usize,
}
static RR: AtomicPtr<RoundRobin> = AtomicPtr::new(core::ptr::null_mut());

extern "C" fn rr_worker() {
    let rr = RR.load(SeqCst);
    let id = unsafe { (*rr).current };
    // Stack-local state that must survive every suspension.
    let mut acc: u64 = id as u64;
    for round in 0..RR_ROUNDS {
        acc = acc
            .wrapping_mul(6364136223846793005)
            .wrapping_add(round ^ id as u64);
        unsafe {
            (&mut (*rr).sums)[id] = acc;
            swap_context(&mut (&mut (*rr).ctxs)[id], &(*rr).main);
        }
    }
    // Done: report one last time and never come back.
    unsafe { swap_context(&mut (&mut (*rr).ctxs)[id], &(*rr).main) };
}

fn rr_expected(id: usize) -> u64 {
    let mut acc = id as u64;
    for round in 0..RR_ROUNDS {
        acc = acc
            .wrapping_mul(6364136223846793005)
            .wrapping_add(round ^ id as u64);
    }
    acc
}

/// 10,000 contexts, each resumed in turn, each keeping state on its own stack.
fn round_robin_10k() -> Result<(), Failed> {
    let mut stacks: Vec<Stack> = (0..RR_CONTEXTS).map(|_| Stack::new(8 * 1024)).collect();
    let rr = Box::into_raw(Box::new(RoundRobin {
        main: Context::default(),
        ctxs: vec![Context::default(); RR_CONTEXTS],
        sums: vec![0; RR_CONTEXTS],
        current: 0,
    }));
    RR.store(rr, SeqCst);
    let mut switches = 0u64;
    unsafe {
        for (i, s) in stacks.iter_mut().enumerate() {
            make(&mut (&mut (*rr).ctxs)[i], s, rr_worker, None);
        }
        for _ in 0..=RR_ROUNDS {
            for i in 0..RR_CONTEXTS {
                (*rr).current = i;
                swap_context(&mut (*rr).main, &(&(*rr).ctxs)[i]);
                switches += 2;
            }
        }
    }
    let rr = unsafe { Box::from_raw(rr) };
    let bad = (0..RR_CONTEXTS)
        .filter(|&i| rr.sums[i] != rr_expected(i))
        .count();
    ensure(bad == 0, format!("{bad} of {RR_CONTEXTS} checksums wrong"))?;
    ensure(
        switches == 2 * (RR_ROUNDS + 1) * RR_CONTEXTS as u64,
        "switch count",
    )
}

// ---------------------------------------------------------- thread migration

struct Migrate {
    co: Context,
    back: Context,
    seen: Vec<(std::thread::ThreadId, u64)>,
}
static MIGRATE: AtomicPtr<Migrate> = AtomicPtr::new(core::ptr::null_mut());

/// Kept out of line: a thread-local address computed before a switch must not
/// be reused after it, since the context may resume on another thread.
#[inline(never)]
fn thread_id() -> std::thread::ThreadId {
    std::thread::current().id()
}

extern "C" fn migrating() {
    let m = MIGRATE.load(SeqCst);
    let mut counter = 100u64; // lives on the coroutine stack
    loop {
        counter += 1;
        unsafe {
            Vec::push(&mut (*m).seen, (thread_id(), counter));
            swap_context(&mut (*m).co, &(*m).back);
        }
    }
}

/// A context suspended on one thread resumes on another with its stack intact.
fn thread_migration() -> Result<(), Failed> {
    let mut stack = Stack::new(64 * 1024);
    let m = Box::into_raw(Box::new(Migrate {
        co: Context::default(),
        back: Context::default(),
        seen: vec![],
    }));
    MIGRATE.store(m, SeqCst);
    unsafe { make(&mut (*m).co, &mut stack, migrating, None) };
    let addr = m as usize;
    let resume_here = move || {
        let m = addr as *mut Migrate;
        unsafe { swap_context(&mut (*m).back, &(*m).co) };
        thread_id()
    };
    let t1 = std::thread::spawn(resume_here)
        .join()
        .map_err(|_| "thread 1 panicked")?;
    let t2 = std::thread::spawn(resume_here)
        .join()
        .map_err(|_| "thread 2 panicked")?;
    let m = unsafe { Box::from_raw(m) };
    ensure(t1 != t2, "threads are not distinct")?;
    ensure(
        m.seen == vec![(t1, 101), (t2, 102)],
        format!(
            "coroutine saw {:?}, expected [({t1:?}, 101), ({t2:?}, 102)]",
            m.seen
        ),
    )
}

// ------------------------------------------------------------ self switch

/// `save == restore` returns at once with every register intact.
fn self_switch() -> Result<(), Failed> {
    let mut ctx = Context::default();
    let mut total = 0u64;
    for i in 0..1000u64 {
        unsafe { swap_context(&mut ctx, &ctx) };
        total += i;
    }
    ensure(total == 499_500, "loop state corrupted by self switch")
}

// -------------------------------------------------- values and arguments

static VAL_MAIN: Slot = Slot::new();
static VAL_CO: Slot = Slot::new();

extern "C" fn doubler(arg: *mut core::ffi::c_void) {
    // The entry argument, then every value that arrives, is doubled and sent back.
    let mut v = arg as usize;
    loop {
        v = unsafe { cem_ctx::swap_context_value(VAL_CO.get(), VAL_MAIN.get(), (v * 2) as *mut _) }
            as usize;
    }
}

/// `swap_context_value` carries a pointer-sized value each way and
/// `make_context_with_arg` hands the entry function its argument.
fn values_through_the_switch() -> Result<(), Failed> {
    let mut stack = Stack::new(16 * 1024);
    unsafe {
        cem_ctx::make_context_with_arg(
            VAL_CO.get(),
            stack.base(),
            stack.size(),
            Some(doubler),
            21 as *mut _,
            None,
        )
        .map_err(|e| e.to_string())?;
    }
    let mut got = vec![unsafe {
        cem_ctx::swap_context_value(VAL_MAIN.get(), VAL_CO.get(), core::ptr::null_mut())
    } as usize];
    for v in [5usize, 1000, usize::MAX / 4] {
        got.push(
            unsafe { cem_ctx::swap_context_value(VAL_MAIN.get(), VAL_CO.get(), v as *mut _) }
                as usize,
        );
    }
    ensure(
        got == [42, 10, 2000, usize::MAX / 2 - 1],
        format!("values {got:?}"),
    )
}

// ------------------------------------------------------------ prefetch

/// The prefetch hints never fault, even when the saved stack pointer is
/// garbage (a prefetch of an unmapped address is dropped by the CPU).
fn prefetch_hints_never_fault() -> Result<(), Failed> {
    let mut stack = Stack::new(16 * 1024);
    let mut ctx = Context::default();
    make(&mut ctx, &mut stack, never_runs, None);
    cem_ctx::prefetch_context(&ctx);
    unsafe { cem_ctx::prefetch_stack(&ctx) };
    for garbage in [0u64, 8, u64::MAX, 0xdead_0000_0000, 1 << 47] {
        let mut bad = Context::default();
        #[cfg(target_arch = "x86_64")]
        {
            bad.rsp = garbage;
        }
        #[cfg(target_arch = "aarch64")]
        {
            bad.sp = garbage;
        }
        #[cfg(target_arch = "riscv64")]
        {
            bad.sp = garbage as usize;
        }
        unsafe { cem_ctx::prefetch_stack(&bad) };
        cem_ctx::prefetch_context(garbage as usize as *const Context);
    }
    Ok(())
}

// ------------------------------------------------------------ bad arguments

extern "C" fn never_runs() {}

/// Each invalid argument gets its own error and leaves the context untouched.
fn make_context_errors() -> Result<(), Failed> {
    use MakeContextError as E;
    let mut stack = Stack::new(4096);
    let base = stack.base();
    let size = stack.size();
    let sentinel = Context {
        ..unsafe { core::mem::zeroed() }
    };
    let mut ctx = sentinel;
    let f: Option<unsafe extern "C" fn()> = Some(never_runs);
    let mut backing = [0u64; 32];
    let misaligned = unsafe { backing.as_mut_ptr().cast::<u8>().add(4) }.cast::<Context>();
    let cases: Vec<(&str, Result<(), E>, E)> = unsafe {
        vec![
            (
                "NULL ctx",
                make_context(core::ptr::null_mut(), base, size, f, None),
                E::NullContext,
            ),
            (
                "misaligned ctx",
                make_context(misaligned, base, size, f, None),
                E::MisalignedContext,
            ),
            (
                "NULL func",
                make_context(&mut ctx, base, size, None, None),
                E::NullFunction,
            ),
            (
                "NULL stack",
                make_context(&mut ctx, core::ptr::null_mut(), size, f, None),
                E::NullStack,
            ),
            (
                "overflowing stack",
                make_context(&mut ctx, usize::MAX as *mut _, 4096, f, None),
                E::StackOverflowsAddressSpace,
            ),
            (
                "tiny stack",
                make_context(&mut ctx, base, cem_ctx::MIN_STACK_SIZE - 1, f, None),
                E::StackTooSmall,
            ),
            (
                "zero stack",
                make_context(&mut ctx, base, 0, f, None),
                E::StackTooSmall,
            ),
        ]
    };
    for (what, got, want) in cases {
        ensure(
            got == Err(want),
            format!("{what}: got {got:?}, expected {want:?}"),
        )?;
        let code = want.code();
        ensure(
            code < 0 && E::from_code(code) == Some(want),
            format!("{what}: code {code} does not round-trip"),
        )?;
    }
    ensure(
        ctx == sentinel,
        "a failed make_context wrote to the context",
    )?;
    // Exactly the minimum is accepted when the top is aligned.
    let min_ok = unsafe { make_context(&mut ctx, base, cem_ctx::MIN_STACK_SIZE, f, None) };
    ensure(
        min_ok.is_ok(),
        format!("MIN_STACK_SIZE rejected: {min_ok:?}"),
    )?;
    // The C entry reports the same codes.
    let c = unsafe { ffi::cem_makecontext_checked(&mut ctx, core::ptr::null_mut(), size, f, None) };
    ensure(
        c == ffi::CEM_ERR_NULL_STACK,
        format!("cem_makecontext_checked returned {c}"),
    )
}

// ------------------------------------------------------ TEB (Windows only)

#[cfg(windows)]
mod teb {
    use super::*;

    /// StackBase, StackLimit, DeallocationStack, ExceptionList of this thread.
    pub fn read() -> [u64; 4] {
        let (base, limit, dealloc, list): (u64, u64, u64, u64);
        // SAFETY: reads four fields of the current thread's TEB.
        unsafe {
            core::arch::asm!(
                "mov {b}, gs:[0x08]",
                "mov {l}, gs:[0x10]",
                "mov {d}, gs:[0x1478]",
                "mov {e}, gs:[0x00]",
                b = out(reg) base, l = out(reg) limit, d = out(reg) dealloc, e = out(reg) list,
                options(nostack, readonly, preserves_flags)
            );
        }
        [base, limit, dealloc, list]
    }

    pub static MAIN: Slot = Slot::new();
    pub static CO: Slot = Slot::new();
    pub static SEEN: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

    pub extern "C" fn coroutine() {
        for (slot, v) in SEEN.iter().zip(read()) {
            slot.store(v, SeqCst);
        }
        unsafe { swap_context(CO.get(), MAIN.get()) };
    }
}

/// A fresh context's TEB describes its own stack; the main stack's fields
/// are back after the round trip.
#[cfg(windows)]
fn teb_stack_fields_follow_the_stack() -> Result<(), Failed> {
    use teb::*;
    let before = read();
    let mut stack = Stack::new(64 * 1024);
    make(CO.get(), &mut stack, coroutine, None);
    unsafe { swap_context(MAIN.get(), CO.get()) };
    let after = read();
    let seen: Vec<u64> = SEEN.iter().map(|v| v.load(SeqCst)).collect();
    let base = stack.base() as u64;
    let top = (base + stack.size() as u64) & !15;
    ensure(
        seen == [top, base, base, u64::MAX],
        format!("coroutine saw TEB {seen:x?}, expected [{top:#x}, {base:#x}, {base:#x}, -1]"),
    )?;
    ensure(
        after == before,
        format!("main TEB {after:x?} after the round trip, was {before:x?}"),
    )
}

// --------------------------------------------------- trap (child processes)

static CHILD_MAIN: Slot = Slot::new();
static CHILD_CO: Slot = Slot::new();
extern "C" fn returns_at_once() {}

/// Runs one scenario in the child process (see `support`); each must end in
/// the trap.
fn child(scenario: &str, stack: &mut Stack) -> ! {
    isolate::install_trap_observer();
    match scenario {
        "null-return-func" => make(CHILD_CO.get(), stack, returns_at_once, None),
        "return-func-returns" => make(
            CHILD_CO.get(),
            stack,
            returns_at_once,
            Some(returns_at_once),
        ),
        "makecontext-invalid" => unsafe {
            ffi::cem_makecontext(
                CHILD_CO.get(),
                stack.base(),
                16,
                Some(returns_at_once),
                None,
            )
        },
        _ => isolate::exit_now(UNKNOWN_SCENARIO),
    }
    unsafe { swap_context(CHILD_MAIN.get(), CHILD_CO.get()) };
    isolate::exit_now(CAME_BACK)
}

fn expect_trap(scenario: &'static str) -> impl FnOnce() -> Result<(), Failed> {
    move || expect_child(scenario, &[TRAPPED])
}

fn main() {
    isolate::run_if_child();
    let args = Arguments::from_args();
    let tests = vec![
        Trial::test("entry_alignment_and_zero_frame_pointer", entry_alignment),
        Trial::test("return_func_runs_after_func", return_func_runs),
        Trial::test("context_to_context_chain", context_to_context_chain),
        Trial::test("round_robin_10000_contexts_checksum", round_robin_10k),
        Trial::test("thread_migration", thread_migration),
        Trial::test("save_equals_restore_is_harmless", self_switch),
        Trial::test("make_context_errors", make_context_errors),
        Trial::test("values_through_the_switch", values_through_the_switch),
        Trial::test("prefetch_hints_never_fault", prefetch_hints_never_fault),
        Trial::test(
            "trap_when_return_func_null",
            expect_trap("null-return-func"),
        ),
        Trial::test(
            "trap_when_return_func_returns",
            expect_trap("return-func-returns"),
        ),
        Trial::test(
            "trap_on_invalid_makecontext",
            expect_trap("makecontext-invalid"),
        ),
        Trial::test("callee_saved_register_canaries", callee_saved_canaries),
    ];
    #[cfg(windows)]
    let tests = {
        let mut tests = tests;
        tests.push(Trial::test(
            "teb_stack_fields_follow_the_stack",
            teb_stack_fields_follow_the_stack,
        ));
        tests
    };
    libtest_mimic::run(&args, tests).exit();
}

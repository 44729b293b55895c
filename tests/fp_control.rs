//! FP control state across switches, as documented: on x86-64 the MXCSR
//! control bits (6–15) and the x87 control word belong to each context, while
//! the MXCSR status flags (0–5, caller-saved in psABI §3.2.1) follow the
//! running thread, as they do across a call. On AArch64, FPCR and FPSR are
//! global (AAPCS64 §6.1.2), and on RISC-V fcsr has thread storage duration
//! (psABI): a mode change in one context is seen in the other.
//! Checked for both switch families: `cem_swapcontext` and the `Coroutine`
//! fast path (with the default `fp_control: true`, and `false`, where the
//! coroutine shares its resumer's control state).

use std::cell::UnsafeCell;
use std::sync::Mutex;

use cem_ctx::{make_context, swap_context, Context, Coroutine, CoroutineResult, Options, Yielder};
use libtest_mimic::{Arguments, Failed, Trial};

fn ensure(cond: bool, msg: impl Into<String>) -> Result<(), Failed> {
    if cond {
        Ok(())
    } else {
        Err(msg.into().into())
    }
}

/// The FP state the tests read and write: `(MXCSR, x87 CW)` on x86-64,
/// `(FPCR, FPSR)` on AArch64.
#[cfg(target_arch = "x86_64")]
mod fp {
    pub type State = (u32, u16);

    pub fn get() -> State {
        let mut mxcsr = 0u32;
        let mut cw = 0u16;
        // SAFETY: stores 4 and 2 bytes to the locals.
        unsafe {
            core::arch::asm!("stmxcsr [{}]", "fnstcw [{}]", in(reg) &mut mxcsr, in(reg) &mut cw,
                options(nostack))
        };
        (mxcsr, cw)
    }

    pub fn set(s: State) {
        // SAFETY: loads valid MXCSR and control word values.
        unsafe {
            core::arch::asm!("ldmxcsr [{}]", "fldcw [{}]", in(reg) &s.0, in(reg) &s.1,
                options(nostack))
        };
    }

    /// PE, the inexact-result status flag.
    pub const STATUS: u32 = 0x20;
    /// The main side: defaults (all exceptions masked, round to nearest).
    pub const MAIN: State = (0x1f80, 0x037f);
    /// The other side: round toward zero, FTZ + DAZ; x87 single precision, truncation.
    pub const OTHER: State = (0xffc0, 0x0c7f);
    pub const CONTROL: u32 = 0xffc0;

    pub fn with_status(s: State) -> State {
        (s.0 | STATUS, s.1)
    }
}

#[cfg(target_arch = "aarch64")]
mod fp {
    pub type State = (u64, u64);

    pub fn get() -> State {
        let (fpcr, fpsr): (u64, u64);
        // SAFETY: reads two system registers.
        unsafe {
            core::arch::asm!("mrs {}, fpcr", "mrs {}, fpsr", out(reg) fpcr, out(reg) fpsr,
                options(nostack))
        };
        (fpcr, fpsr)
    }

    pub fn set(s: State) {
        // SAFETY: writes a rounding mode / flush-to-zero setting and flags.
        unsafe {
            core::arch::asm!("msr fpcr, {}", "msr fpsr, {}", in(reg) s.0, in(reg) s.1,
                options(nostack))
        };
    }

    /// FPSR.IXC, the inexact cumulative flag.
    pub const STATUS: u64 = 0x10;
    pub const MAIN: State = (0, 0);
    /// RMode = round toward zero (bits 22–23), FZ (bit 24).
    pub const OTHER: State = (0b111 << 22, 0);

    pub fn with_status(s: State) -> State {
        (s.0, s.1 | STATUS)
    }
}

#[cfg(any(target_arch = "riscv64", target_arch = "riscv32"))]
mod fp {
    /// fcsr: `frm` (bits 5–7) and `fflags` (bits 0–4); the second half is unused.
    pub type State = (usize, usize);

    pub fn get() -> State {
        let fcsr: usize;
        // SAFETY: reads fcsr.
        unsafe { core::arch::asm!("frcsr {}", out(reg) fcsr, options(nostack)) };
        (fcsr, 0)
    }

    pub fn set(s: State) {
        // SAFETY: writes a rounding mode and flags.
        unsafe { core::arch::asm!("fscsr {}", in(reg) s.0, options(nostack)) };
    }

    /// NX, the inexact flag.
    pub const STATUS: usize = 0x1;
    pub const MAIN: State = (0, 0);
    /// frm = RTZ (round toward zero).
    pub const OTHER: State = (1 << 5, 0);

    pub fn with_status(s: State) -> State {
        (s.0 | STATUS, s.1)
    }
}

/// What each side expects to find after a switch into it, given what the
/// side that switched away had set (`left`) and what this side had before it
/// switched away itself (`own`).
#[cfg(target_arch = "x86_64")]
fn expected(own: fp::State, left: fp::State, shared: bool) -> fp::State {
    if shared {
        return left;
    }
    // Control bits and the x87 CW are this context's own; the status flags
    // are those the thread had when the other side switched away.
    ((own.0 & fp::CONTROL) | (left.0 & !fp::CONTROL), own.1)
}

/// AArch64: FPCR and FPSR are global state (AAPCS64 §6.1.2), never switched.
/// RISC-V: fcsr has thread storage duration (psABI, "Floating-Point Register
/// Convention"), never switched.
#[cfg(not(target_arch = "x86_64"))]
fn expected(_own: fp::State, left: fp::State, _shared: bool) -> fp::State {
    left
}

/// The script both switch families play. `switch(state)` sets `state`,
/// switches to the other side, and returns what it finds when resumed.
///
/// 1. main sets MAIN with a status flag and starts the other side, which
///    finds its inherited control state (equal to main's: the skip path)
///    and main's status flag;
/// 2. the other side sets OTHER without flags and switches back: main finds
///    its own control state and the other side's (clear) flags;
/// 3. main sets MAIN + flag again: the other side finds OTHER with main's flag;
/// 4. the other side sets OTHER + flag: main finds MAIN + flag.
struct Log(Mutex<Vec<(&'static str, fp::State, fp::State)>>);

impl Log {
    fn check(&self, what: &'static str, found: fp::State, want: fp::State) {
        self.0.lock().unwrap().push((what, found, want));
    }
    fn verdict(&self) -> Result<(), Failed> {
        let log = self.0.lock().unwrap();
        let bad: Vec<String> = log
            .iter()
            .filter(|(_, f, w)| f != w)
            .map(|(what, f, w)| format!("{what}: found {f:x?}, expected {w:x?}"))
            .collect();
        ensure(
            log.len() == 4,
            format!("{} checks ran, expected 4", log.len()),
        )?;
        ensure(bad.is_empty(), bad.join("; "))
    }
}

fn other_side(log: &Log, shared: bool, switch: &mut dyn FnMut(fp::State) -> fp::State) {
    let entry = fp::get();
    log.check(
        "other side at entry (inherits main's control, main's flags)",
        entry,
        expected(fp::MAIN, fp::with_status(fp::MAIN), shared),
    );
    let found = switch(fp::OTHER);
    log.check(
        "other side after main set its flag",
        found,
        expected(fp::OTHER, fp::with_status(fp::MAIN), shared),
    );
    switch(fp::with_status(fp::OTHER));
}

fn main_side(log: &Log, shared: bool, switch: &mut dyn FnMut(fp::State) -> fp::State) {
    let found = switch(fp::with_status(fp::MAIN));
    log.check(
        "main after the other side cleared its flags",
        found,
        expected(fp::MAIN, fp::OTHER, shared),
    );
    let found = switch(fp::with_status(fp::MAIN));
    log.check(
        "main after the other side set its flag",
        found,
        expected(fp::MAIN, fp::with_status(fp::OTHER), shared),
    );
}

// ------------------------------------------------------- cem_swapcontext

struct Slot(UnsafeCell<Context>);
// SAFETY: one test uses these, one side at a time, handed over by the switch.
unsafe impl Sync for Slot {}
static MAIN_CTX: Slot = Slot(UnsafeCell::new(unsafe { core::mem::zeroed() }));
static OTHER_CTX: Slot = Slot(UnsafeCell::new(unsafe { core::mem::zeroed() }));
static SWAP_LOG: Log = Log(Mutex::new(Vec::new()));

fn swap_then_read(save: &Slot, restore: &Slot, state: fp::State) -> fp::State {
    fp::set(state);
    // SAFETY: both contexts are valid; the other one is suspended or fresh.
    unsafe { swap_context(save.0.get(), restore.0.get()) };
    fp::get()
}

extern "C" fn swap_other_side() {
    other_side(&SWAP_LOG, false, &mut |s| {
        swap_then_read(&OTHER_CTX, &MAIN_CTX, s)
    });
    unreachable!("resumed after the script ended");
}

fn swapcontext_script() -> Result<(), Failed> {
    let before = fp::get();
    let mut stack = vec![0u128; 64 * 1024 / 16];
    fp::set(fp::MAIN);
    // SAFETY: the stack outlives every switch into the context.
    unsafe {
        make_context(
            OTHER_CTX.0.get(),
            stack.as_mut_ptr().cast(),
            stack.len() * 16,
            Some(swap_other_side),
            None,
        )
    }
    .map_err(|e| e.to_string())?;
    main_side(&SWAP_LOG, false, &mut |s| {
        swap_then_read(&MAIN_CTX, &OTHER_CTX, s)
    });
    fp::set(before);
    SWAP_LOG.verdict()
}

// ---------------------------------------------------- Coroutine fast path

fn coroutine_script(fp_control: bool) -> Result<(), Failed> {
    let before = fp::get();
    let log = Log(Mutex::new(Vec::new()));
    let shared = !fp_control;
    let log_ref: &'static Log = Box::leak(Box::new(log));
    fp::set(fp::MAIN);
    let mut co: Coroutine<'static, fp::State, fp::State, (), &'static mut [u8]> =
        Coroutine::with_options(
            vec![0u8; 64 * 1024].leak(),
            Options { fp_control },
            move |first: fp::State, y: &Yielder<fp::State, fp::State>| {
                // The first resume's input is unused: entry state is read here.
                let _ = first;
                other_side(log_ref, shared, &mut |s| {
                    fp::set(s);
                    y.suspend(s);
                    fp::get()
                });
            },
        )
        .map_err(|e| e.to_string())?;
    main_side(log_ref, shared, &mut |s| {
        fp::set(s);
        match co.resume(s) {
            CoroutineResult::Yield(_) | CoroutineResult::Complete(()) => fp::get(),
        }
    });
    // Let the coroutine finish (its last switch) so that dropping it is clean.
    fp::set(fp::MAIN);
    let last = co.resume(fp::MAIN);
    fp::set(before);
    ensure(
        last == CoroutineResult::Complete(()),
        "coroutine did not complete",
    )?;
    log_ref.verdict()
}

fn main() {
    let args = Arguments::from_args();
    let tests = vec![
        Trial::test(
            "swapcontext_control_per_context_status_per_thread",
            swapcontext_script,
        ),
        Trial::test("coroutine_control_per_context_status_per_thread", || {
            coroutine_script(true)
        }),
        Trial::test("coroutine_fp_control_false_shares_control", || {
            coroutine_script(false)
        }),
    ];
    libtest_mimic::run(&args, tests).exit();
}

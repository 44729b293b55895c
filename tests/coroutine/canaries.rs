//! Register canaries for the `Coroutine` fast path (resume is a call into the
//! ABI's `*_resume` routine, suspend a jump into `*_suspend`), as strong as
//! the `cem_swapcontext` canaries of the switch tests.
//!
//! Both sides run the switch from inside the shared probe `canary_call`
//! (`tests/support/canary/`), which fills every callee-saved register (and on
//! Windows the TEB stack fields) with a distinct canary first: the main side
//! calls `shim_resume`, the coroutine calls `shim_suspend`. What a side finds
//! when its shim returns must be exactly what it loaded, although the other
//! side ran with its own canaries in between; each register is reported by
//! name. Checked: the main side after three resumes (restored by suspend, the
//! last time by the final suspend), the coroutine after two suspensions
//! (restored by resume), the FP control state kept per side or shared
//! (`Options::fp_control`), and on Windows the TEB fields a fresh coroutine
//! starts with and the main side's at the end.
//!
//! What the fast path saves itself (rbx/rbp/FP control/TEB on x86-64,
//! x19/x29 on AArch64) is compared directly in unoptimised builds. In
//! optimised ones the shim's own prologue and epilogue save those registers
//! and keep live values in them across the switch, so a lost one faults
//! there (the test runs in a child process for that reason) or, for the
//! AArch64 frame pointer, is caught by comparing x29 around the switch. The
//! rest of the callee-saved state is saved by compiler-generated code because
//! the switch's inline asm declares it clobbered, so a register missing from
//! that list shows up in `canary_call`'s output too. With `std`, a panic
//! unwinding right after the switch and the forced unwind of a dropped
//! suspended coroutine check the frame state the unwinder depends on.
//!
//! Limit (AArch64, unoptimised builds): `Coroutine::resume` and
//! `Yielder::suspend` are then functions of their own that save x19 (paired
//! with x20 for 16-byte alignment) and their x29/x30 frame record in the
//! prologue and reload them from the stack in the epilogue, and no code in
//! between reads x19 or a value through x29 that was stored before the
//! switch. A lost x19 or x29 has no effect there, so those builds cannot show
//! it (optimised builds do); with `std`, a frame pointer lost by suspend still
//! breaks the unwind check.

use core::ffi::c_void;

use cem_ctx::{Coroutine, CoroutineResult, Options, Yielder};
use libtest_mimic::Failed;

use crate::support::canary::{self, Regs};
use crate::support::{describe, isolate};

/// Exit code of a child whose canaries differed (the messages went to stderr).
const MISMATCH: i32 = 1;

/// Runs `fast_path_canaries` in a child process (scenario `fast-path-kept` or
/// `fast-path-shared`, see `child` in coroutine.rs). In optimised builds the
/// registers the switch restores itself hold live values of the function
/// around the switch (`Coroutine::resume` inlined into `shim_resume`), so
/// losing one faults there before `canary_call` can name it; the child turns
/// that into a failure of this test rather than the end of the whole binary.
pub fn expect_child_passes(scenario: &str) -> Result<(), Failed> {
    let code = isolate::run_child(scenario).map_err(|e| {
        format!(
            "{scenario}: {e}: the switch broke the code around it (a lost frame pointer \
             aborts the unwind test with std)"
        )
    })?;
    match code {
        0 => Ok(()),
        MISMATCH => Err(format!("{scenario}: callee-saved state lost across the switch (listed above)").into()),
        code => Err(format!(
            "{scenario}: the child exited with {} instead of finishing: a register the switch must restore held a \
             live value of the switching function (a debug build names the register)",
            describe(code)
        )
        .into()),
    }
}

/// The child side of `expect_child_passes`: exits 0 when every canary
/// matched, MISMATCH after printing the differences, or with the trap
/// observer's code (Unix) or the exception code (Windows) if the switch broke
/// the code around it.
pub fn run_in_child(options: Options) -> ! {
    // Not on Windows: its observer is a vectored exception handler, which
    // would also catch the exceptions that carry the std unwind test's panics;
    // a fault there ends the child with the exception code instead.
    #[cfg(unix)]
    isolate::install_trap_observer();
    match fast_path_canaries(options) {
        Ok(()) => isolate::exit_now(0),
        Err(e) => {
            let msg = format!("{}\n", e.message().unwrap_or("failed"));
            // Written straight to fd 2: after a fork another thread may have
            // held std's stderr lock.
            write_stderr(msg.as_bytes());
            isolate::exit_now(MISMATCH)
        }
    }
}

#[cfg(unix)]
fn write_stderr(bytes: &[u8]) {
    // SAFETY: writes the buffer to fd 2.
    unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
}

#[cfg(windows)]
fn write_stderr(bytes: &[u8]) {
    use std::io::Write;
    std::io::stderr().write_all(bytes).ok();
}

type Co = Coroutine<'static, (), Payload, Payload, &'static mut [u8]>;

/// What the coroutine hands to the main side at each suspension and at the
/// end: the registers its previous suspension found, and a pattern that must
/// arrive intact. The resumer reads the value from the suspended coroutine's
/// stack after the switch, so a switch that leaves the resumer with the
/// coroutine's frame pointer shows up here in unoptimised AArch64 builds:
/// their code after the switch stores locals relative to x29, i.e. into the
/// suspended coroutine's frames.
#[derive(Clone, Copy, Debug)]
struct Payload {
    regs: Regs,
    pattern: [u64; 16],
}

/// The pattern sent with the `k`-th message.
fn pattern(k: u64) -> [u64; 16] {
    core::array::from_fn(|i| 0x5eed_0000_0000_0000 | k << 16 | i as u64)
}

/// The frame pointer of the calling function, where the ABI reserves one
/// for the whole function body (AAPCS64 §6.4.6 frame records, kept by Rust on
/// AArch64 Linux); 0 elsewhere (x86-64 allocates rbp like any register).
#[inline(always)]
fn frame_pointer() -> usize {
    #[cfg(target_arch = "aarch64")]
    {
        let fp: usize;
        // SAFETY: reads x29, nothing else.
        unsafe {
            core::arch::asm!("mov {}, x29", out(reg) fp, options(nomem, nostack, preserves_flags))
        };
        fp
    }
    #[cfg(not(target_arch = "aarch64"))]
    0
}

/// What the main side's shim works on; `fp` records its frame pointer before
/// and after the resume.
struct Resume<'a> {
    co: &'a mut Co,
    got: Option<CoroutineResult<Payload, Payload>>,
    fp: [usize; 2],
    depth: usize,
}

/// Resumes the coroutine once. Out of line, so that the resume site sits in
/// a frame of its own between the probe and the switch.
///
/// In optimised builds `Coroutine::resume` is inlined here, and this frame's
/// prologue and epilogue save and restore every callee-saved register it
/// uses, which hides a register the switch lost from `canary_call`. The
/// registers the switch itself restores (rbx/rbp, x19/x29) then hold this
/// function's live values: a lost rbx or rbp crashes on the next access, and
/// a lost x29, which optimised AArch64 code only reads in the epilogue (from
/// the stack), is caught by comparing the frame pointer before and after.
///
/// Each round resumes from a different stack depth (`Resume::depth` frames
/// of `resume_at_depth` in between), so the resumer's frame pointer differs
/// from round to round: a switch that kept a stale copy of the resumer's
/// frame pointer (from an earlier resume) instead of saving it anew would
/// otherwise go unnoticed, since the stale value would be the right one.
#[inline(never)]
unsafe extern "C" fn shim_resume(arg: *mut c_void, _: *mut c_void) {
    // SAFETY: `arg` is the `Resume` the test passed to canary_call.
    let r = unsafe { &mut *arg.cast::<Resume>() };
    resume_at_depth(r, r.depth);
}

#[inline(never)]
fn resume_at_depth(r: &mut Resume, depth: usize) {
    if depth > 0 {
        // A frame of its own (kept by black_box), then one level deeper.
        let pad = core::hint::black_box([depth as u8; 48]);
        resume_at_depth(r, depth - 1);
        core::hint::black_box(pad);
        return;
    }
    let before = frame_pointer();
    r.got = Some(r.co.resume(()));
    r.fp = [before, frame_pointer()];
}

/// What the coroutine's shim works on: its yielder, the value to yield, and
/// its frame pointer before and after the suspension.
struct Suspend<'a> {
    y: &'a Yielder<(), Payload>,
    send: Payload,
    fp: [usize; 2],
}

/// Suspends the coroutine once (see `shim_resume`).
#[inline(never)]
unsafe extern "C" fn shim_suspend(arg: *mut c_void, _: *mut c_void) {
    // SAFETY: `arg` is the `Suspend` the closure passed to canary_call.
    let s = unsafe { &mut *arg.cast::<Suspend>() };
    let before = frame_pointer();
    s.y.suspend(s.send);
    s.fp = [before, frame_pointer()];
}

/// An error when a shim's frame pointer changed across the switch.
fn check_fp(side: &str, fp: [usize; 2]) -> Option<String> {
    (fp[0] != fp[1]).then(|| {
        format!(
            "{side}: frame pointer (x29) of the switching function was {:#x}, expected {:#x}",
            fp[1], fp[0]
        )
    })
}

/// The canaries a side loads before its `round`-th switch.
fn main_canaries(round: u64) -> Regs {
    canary::variant(&canary::MAIN, round)
}
fn coroutine_canaries(round: u64) -> Regs {
    canary::variant(&canary::COROUTINE, round)
}

/// With `fp_control: false` the FP control state is shared: what one side
/// loaded must be what the other side finds.
fn shared_fp(side: &str, loaded_by_other: &Regs, found: &Regs) -> Vec<String> {
    canary::FP_CONTROL
        .iter()
        .filter(|&&i| loaded_by_other[i] & canary::MASKS[i] != found[i] & canary::MASKS[i])
        .map(|&i| {
            format!(
                "{side}: {} was {:#x}, expected {:#x} from the other side (fp_control: false shares it)",
                canary::NAMES[i],
                found[i] & canary::MASKS[i],
                loaded_by_other[i] & canary::MASKS[i]
            )
        })
        .collect()
}

/// Main side: three resumes, each from inside `canary_call`; the coroutine
/// suspends twice from inside `canary_call` and then returns. Checked: the
/// main side after each resume (restored by suspend, the last time by the
/// final suspend), the coroutine after each of its suspends (restored by the
/// next resume), and on Windows the TEB stack fields the coroutine starts
/// with and the main side's after the test.
pub fn fast_path_canaries(options: Options) -> Result<(), Failed> {
    #[cfg(windows)]
    let teb_before = canary::teb_stack();
    #[cfg(windows)]
    let teb_entry = std::rc::Rc::new(std::cell::Cell::new([0u64; 5]));

    let stack: &'static mut [u8] = vec![0u8; 64 * 1024].leak();
    #[cfg(windows)]
    let (lo, hi) = (
        stack.as_ptr() as u64,
        stack.as_ptr() as u64 + stack.len() as u64,
    );
    // Frame pointers the coroutine's shim saw around its two suspensions.
    let co_fp = std::rc::Rc::new(std::cell::Cell::new([[0usize; 2]; 2]));
    let mut co: Co = Coroutine::with_options(stack, options, {
        #[cfg(windows)]
        let teb_entry = teb_entry.clone();
        let co_fp = co_fp.clone();
        move |(), y: &Yielder<(), Payload>| {
            #[cfg(windows)]
            teb_entry.set(canary::teb_stack());
            let mut found = [canary::zeroed(), canary::zeroed()];
            let mut send = Payload {
                regs: canary::zeroed(),
                pattern: pattern(1),
            };
            let mut fp = [[0usize; 2]; 2];
            for (k, out) in found.iter_mut().enumerate() {
                let mut s = Suspend {
                    y,
                    send,
                    fp: [0; 2],
                };
                // SAFETY: `s` and the canary buffers outlive the call; the
                // shim suspends through the yielder this closure received.
                unsafe {
                    canary::canary_call(
                        shim_suspend,
                        (&mut s as *mut Suspend).cast(),
                        core::ptr::null_mut(),
                        &coroutine_canaries(k as u64 + 1),
                        out,
                    )
                };
                send = Payload {
                    regs: *out,
                    pattern: pattern(k as u64 + 2),
                };
                fp[k] = s.fp;
            }
            co_fp.set(fp);
            send
        }
    })
    .map_err(|e| e.to_string())?;

    let skip = if options.fp_control {
        &[][..]
    } else {
        canary::FP_CONTROL
    };
    let mut errors = Vec::new();
    let mut coroutine_found = Vec::new();
    for round in 1..=3u64 {
        let input = main_canaries(round);
        let mut found = canary::zeroed();
        let mut r = Resume {
            co: &mut co,
            got: None,
            fp: [0; 2],
            depth: round as usize,
        };
        // SAFETY: `r` and the canary buffers outlive the call.
        unsafe {
            canary::canary_call(
                shim_resume,
                (&mut r as *mut Resume).cast(),
                core::ptr::null_mut(),
                &input,
                &mut found,
            )
        };
        let side = format!("main side after resume {round}");
        errors.extend(canary::diff_regs(&side, &input, &found, skip));
        errors.extend(check_fp(&side, r.fp));
        if !options.fp_control && round < 3 {
            errors.extend(shared_fp(&side, &coroutine_canaries(round), &found));
        }
        let payload = match (round, r.got) {
            (1 | 2, Some(CoroutineResult::Yield(p))) | (3, Some(CoroutineResult::Complete(p))) => p,
            (_, got) => return Err(format!("resume {round} returned {got:?}").into()),
        };
        if payload.pattern != pattern(round) {
            errors.push(format!(
                "{side}: the value the coroutine handed over arrived as {:x?}, expected {:x?}",
                payload.pattern,
                pattern(round)
            ));
        }
        if round > 1 {
            coroutine_found.push(payload.regs);
        }
    }
    for (k, found) in coroutine_found.iter().enumerate() {
        let k = k as u64 + 1;
        let side = format!("coroutine side after suspend {k}");
        errors.extend(canary::diff_regs(
            &side,
            &coroutine_canaries(k),
            found,
            skip,
        ));
        errors.extend(check_fp(&side, co_fp.get()[k as usize - 1]));
        if !options.fp_control {
            errors.extend(shared_fp(&side, &main_canaries(k + 1), found));
        }
    }

    #[cfg(windows)]
    {
        const FIELDS: [&str; 5] = [
            "StackBase",
            "StackLimit",
            "DeallocationStack",
            "ExceptionList",
            "GuaranteedStackBytes",
        ];
        // A fresh coroutine's TEB describes its own stack: [lo, top), no SEH
        // frames yet, no stack guarantee.
        let top = hi & !15;
        let own = [top, lo, lo, u64::MAX, 0];
        let entry = teb_entry.get();
        let after = canary::teb_stack();
        for i in 0..5 {
            if entry[i] != own[i] {
                errors.push(format!(
                    "coroutine entry: TEB {} was {:#x}, expected {:#x}",
                    FIELDS[i], entry[i], own[i]
                ));
            }
            if after[i] != teb_before[i] {
                errors.push(format!(
                    "main side at the end: TEB {} was {:#x}, expected {:#x}",
                    FIELDS[i], after[i], teb_before[i]
                ));
            }
        }
    }

    #[cfg(all(feature = "std", panic = "unwind"))]
    errors.extend(unwind_after_the_switch(options));

    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n").into())
    }
}

/// The payload of the panic the unwind test raises in the coroutine.
#[cfg(all(feature = "std", panic = "unwind"))]
const UNWIND_TEST_PANIC: &str = "canary unwind test: panic inside the coroutine";

/// What `shim_resume_catching` works on.
#[cfg(all(feature = "std", panic = "unwind"))]
struct ResumeCatching<'a> {
    co: &'a mut Co,
    got: Option<std::thread::Result<CoroutineResult<Payload, Payload>>>,
}

/// `shim_resume` that catches a panic the resume propagates (unwinding must
/// not leave an `extern "C"` function, nor enter `canary_call`, which has no
/// unwind info).
#[cfg(all(feature = "std", panic = "unwind"))]
#[inline(never)]
unsafe extern "C" fn shim_resume_catching(arg: *mut c_void, _: *mut c_void) {
    // SAFETY: `arg` is the `ResumeCatching` the test passed to canary_call.
    let r = unsafe { &mut *arg.cast::<ResumeCatching>() };
    let co = &mut *r.co;
    r.got = Some(std::panic::catch_unwind(std::panic::AssertUnwindSafe(
        || co.resume(()),
    )));
}

/// A panic inside the coroutine is resumed in `Coroutine::resume` right
/// after the final switch, and unwinding that frame finds its caller through
/// the frame's CFI, which is based on the frame pointer in unoptimised
/// AArch64 code: a frame pointer the switch did not restore breaks it there
/// (the child aborts) even where no other code after the switch reads it.
/// Canaries are loaded on both sides, as above.
#[cfg(all(feature = "std", panic = "unwind"))]
fn unwind_after_the_switch(options: Options) -> Vec<String> {
    let stack: &'static mut [u8] = vec![0u8; 64 * 1024].leak();
    let co_found = std::rc::Rc::new(std::cell::Cell::new(canary::zeroed()));
    let seen = co_found.clone();
    let skip = if options.fp_control {
        &[][..]
    } else {
        canary::FP_CONTROL
    };
    let mut co: Co =
        match Coroutine::with_options(stack, options, move |(), y: &Yielder<(), Payload>| {
            let mut s = Suspend {
                y,
                send: Payload {
                    regs: canary::zeroed(),
                    pattern: pattern(1),
                },
                fp: [0; 2],
            };
            let mut found = canary::zeroed();
            // SAFETY: as in fast_path_canaries.
            unsafe {
                canary::canary_call(
                    shim_suspend,
                    (&mut s as *mut Suspend).cast(),
                    core::ptr::null_mut(),
                    &coroutine_canaries(1),
                    &mut found,
                )
            };
            seen.set(found);
            std::panic::panic_any(UNWIND_TEST_PANIC)
        }) {
            Ok(co) => co,
            Err(e) => return vec![e.to_string()],
        };
    let mut errors = Vec::new();
    for round in 1..=2u64 {
        // The unwind runs on this side, inside canary_call: on Windows the
        // TEB must describe this stack then, or the unwinder rejects its
        // frames, so those slots carry the real values here.
        #[allow(unused_mut)]
        let mut input = main_canaries(round);
        #[cfg(windows)]
        input[canary::TEB..canary::TEB + 5].copy_from_slice(&canary::teb_stack());
        let mut found = canary::zeroed();
        let mut r = ResumeCatching {
            co: &mut co,
            got: None,
        };
        // SAFETY: as in fast_path_canaries.
        unsafe {
            canary::canary_call(
                shim_resume_catching,
                (&mut r as *mut ResumeCatching).cast(),
                core::ptr::null_mut(),
                &input,
                &mut found,
            )
        };
        let side = format!("main side after resume {round} (unwind test)");
        errors.extend(canary::diff_regs(&side, &input, &found, skip));
        match (round, r.got) {
            (1, Some(Ok(CoroutineResult::Yield(_)))) => {}
            (2, Some(Err(payload))) if payload.downcast_ref() == Some(&UNWIND_TEST_PANIC) => errors
                .extend(canary::diff_regs(
                    "coroutine side after suspend 1 (unwind test)",
                    &coroutine_canaries(1),
                    &co_found.get(),
                    skip,
                )),
            (_, got) => errors.push(format!(
                "unwind test: resume {round} {}",
                match got {
                    Some(Ok(_)) => "returned",
                    Some(Err(_)) => "panicked",
                    None => "did not run",
                }
            )),
        }
    }

    // Dropping a suspended coroutine unwinds it from inside Yielder::suspend,
    // right after the switch into it: a frame pointer the resume did not
    // restore breaks that unwind (the child aborts).
    let stack: &'static mut [u8] = vec![0u8; 64 * 1024].leak();
    let dropped = std::rc::Rc::new(std::cell::Cell::new(false));
    let guard = DropFlag(dropped.clone());
    match Coroutine::with_options(stack, options, move |(), y: &Yielder<(), Payload>| {
        let _guard = guard;
        loop {
            y.suspend(Payload {
                regs: canary::zeroed(),
                pattern: pattern(1),
            });
        }
    }) {
        Ok(mut co) => {
            let first: CoroutineResult<Payload, Payload> = co.resume(());
            if first.as_yield().is_none() {
                errors.push("unwind test: the looping coroutine did not suspend".into());
            }
            drop(co);
            if !dropped.get() {
                errors
                    .push("unwind test: dropping the suspended coroutine did not unwind it".into());
            }
        }
        Err(e) => errors.push(e.to_string()),
    }
    errors
}

/// Sets its flag when dropped.
#[cfg(all(feature = "std", panic = "unwind"))]
struct DropFlag(std::rc::Rc<std::cell::Cell<bool>>);

#[cfg(all(feature = "std", panic = "unwind"))]
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

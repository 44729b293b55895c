//! Backtraces taken inside a coroutine continue into the code that resumed
//! it: through the start trampoline's DWARF CFI (what panic backtraces, gdb
//! and `perf --call-graph=dwarf` use), and through the frame-pointer chain
//! (`perf --call-graph=fp`), whose root record is the link block.

use cem_ctx::{Coroutine, CoroutineResult, Yielder};
use libtest_mimic::{Failed, Trial};

use super::{static_stack, Co};

/// The ABIs whose start trampoline describes the resumer (the others still
/// stop at the coroutine root).
const SUPPORTED: bool = cfg!(all(
    any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "riscv64"
    ),
    not(windows)
));

/// Resumes `co` once from a frame with a name the backtrace must show.
#[inline(never)]
fn named_resumer_frame<Y>(co: &mut Co<(), Y, ()>) -> Y {
    match std::hint::black_box(co).resume(()) {
        CoroutineResult::Yield(y) => y,
        CoroutineResult::Complete(()) => panic!("completed instead of yielding"),
    }
}

/// A `std::backtrace` captured inside the coroutine names the resumer's
/// function and its caller (this test), after the coroutine's own frames.
fn dwarf_backtrace_reaches_resumer() -> Result<(), Failed> {
    let mut co: Co<(), String, ()> =
        Coroutine::new(static_stack(256 * 1024), |(), y: &Yielder<(), String>| {
            y.suspend(std::backtrace::Backtrace::force_capture().to_string());
        })
        .map_err(|e| e.to_string())?;
    let bt = named_resumer_frame(&mut co);
    // The closure's name: `{{closure}}` or `{closure#0}`, by symbol mangling.
    let inside = bt.find("dwarf_backtrace_reaches_resumer::{");
    let resumer = bt.find("named_resumer_frame");
    let caller = bt.rfind("backtrace::dwarf_backtrace_reaches_resumer\n");
    let _ = co.resume(());
    match (inside, resumer, caller) {
        (Some(i), Some(r), Some(c)) if i < r && r < c => Ok(()),
        _ => Err(format!(
            "backtrace from inside the coroutine does not continue into its resumer \
             (closure at {inside:?}, resumer at {resumer:?}, test fn at {caller:?}):\n{bt}"
        )
        .into()),
    }
}
/// Walking frame records (the rbp, x29 or s0 chain) from inside the coroutine reaches a
/// return address in the resumer's function, on the resumer's stack. Needs
/// every frame in between built with frame pointers: scripts/test.sh runs it
/// with `RUSTFLAGS="-C force-frame-pointers=yes --cfg cem_frame_pointers"`.
#[cfg(cem_frame_pointers)]
fn frame_pointer_chain_reaches_resumer() -> Result<(), Failed> {
    /// Follows the records from the current rbp while they lie on the
    /// coroutine stack `[lo, hi)` or near `resumer_sp` (so a record of code
    /// without frame pointers ends the walk instead of faulting); returns
    /// them and whether one on the resumer's stack returns into `resumer`.
    #[inline(never)]
    fn walk(
        lo: usize,
        hi: usize,
        resumer_sp: usize,
        resumer: usize,
    ) -> (bool, Vec<(usize, usize)>) {
        let mut fp: usize;
        // SAFETY: reads the frame pointer.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            core::arch::asm!("mov {}, rbp", out(reg) fp, options(nomem, nostack))
        };
        // SAFETY: as above.
        #[cfg(target_arch = "aarch64")]
        unsafe {
            core::arch::asm!("mov {}, x29", out(reg) fp, options(nomem, nostack))
        };
        // SAFETY: as above.
        #[cfg(target_arch = "riscv64")]
        unsafe {
            core::arch::asm!("mv {}, s0", out(reg) fp, options(nomem, nostack))
        };
        // Where the record sits relative to fp: at fp on x86-64 and AArch64,
        // at fp - 16 on RISC-V (psABI "Frame Pointer Convention": fp is the
        // CFA, the previous fp and ra are the two words below it).
        const RECORD: isize = if cfg!(target_arch = "riscv64") {
            -16
        } else {
            0
        };
        let mut records = Vec::new();
        while fp % 8 == 0 && ((lo..hi).contains(&fp) || fp.abs_diff(resumer_sp) < 64 * 1024) {
            // SAFETY: fp lies on one of the two live stacks (checked above).
            let (next, pc) = unsafe {
                let record = fp.wrapping_add_signed(RECORD) as *const usize;
                (*record, *record.add(1))
            };
            records.push((fp, pc));
            if fp.abs_diff(resumer_sp) < 64 * 1024 && pc > resumer && pc < resumer + 4096 {
                return (true, records);
            }
            fp = next;
        }
        (false, records)
    }
    let stack = static_stack(256 * 1024);
    let (lo, hi) = (
        stack.as_ptr() as usize,
        stack.as_ptr() as usize + stack.len(),
    );
    let here = 0u8;
    let resumer_sp = std::hint::black_box(&here) as *const u8 as usize;
    let resumer = named_resumer_frame::<(bool, Vec<(usize, usize)>)> as *const () as usize;
    let mut co: Co<(), (bool, Vec<(usize, usize)>), ()> = Coroutine::new(
        stack,
        move |(), y: &Yielder<(), (bool, Vec<(usize, usize)>)>| {
            y.suspend(walk(lo, hi, resumer_sp, resumer));
        },
    )
    .map_err(|e| e.to_string())?;
    let (found, records) = named_resumer_frame(&mut co);
    let _ = co.resume(());
    if found {
        Ok(())
    } else {
        Err(format!(
            "frame-pointer walk from inside the coroutine never reached the resumer \
             (named_resumer_frame at {resumer:#x}, resumer sp near {resumer_sp:#x}): {records:x?}"
        )
        .into())
    }
}

#[cfg(not(cem_frame_pointers))]
fn frame_pointer_chain_reaches_resumer() -> Result<(), Failed> {
    Err("built without --cfg cem_frame_pointers".into())
}

/// The trials; ignored, with the reason printed, where they cannot run.
pub fn trials() -> Vec<Trial> {
    let dwarf = Trial::test(
        "backtrace_dwarf_reaches_resumer",
        dwarf_backtrace_reaches_resumer,
    );
    let fp = Trial::test(
        "backtrace_frame_pointers_reach_resumer",
        frame_pointer_chain_reaches_resumer,
    );
    if !SUPPORTED {
        println!(
            "note: the backtrace_* tests are not run here: this ABI's coroutine root does not \
             describe its resumer yet (tests/coroutine/backtrace.rs)"
        );
        return vec![dwarf.with_ignored_flag(true), fp.with_ignored_flag(true)];
    }
    if !cfg!(cem_frame_pointers) {
        println!(
            "note: backtrace_frame_pointers_reach_resumer needs every frame built with frame \
             pointers; scripts/test.sh runs it with RUSTFLAGS=\"-C force-frame-pointers=yes \
             --cfg cem_frame_pointers\""
        );
        return vec![dwarf, fp.with_ignored_flag(true)];
    }
    vec![dwarf, fp]
}

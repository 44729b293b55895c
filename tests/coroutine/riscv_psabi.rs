//! RISC-V (rv64gc) register canaries for the coroutine fast path
//! (`Coroutine::resume` / `Yielder::suspend`), whose inline asm saves s0, s1
//! and ra itself and declares s2–s11 and fs0–fs11 clobbered so that the
//! compiler saves the live ones. A wrong clobber list shows up here even in
//! debug builds, where the other coroutine tests keep values in memory.
//!
//! `canary_call(f, arg, input, output)` loads `input` into s0–s11 and
//! fs0–fs11, calls `f(arg)`, and stores what those registers hold when `f`
//! returns into `output`; it restores the caller's registers. `f` resumes
//! (main side) or suspends (coroutine side), so the registers must survive
//! a full round trip through the other side, which has loaded its own
//! canaries in the meantime.

use core::arch::global_asm;

use cem_ctx::{Coroutine, CoroutineResult, Yielder};
use libtest_mimic::Failed;

/// s0–s11, then the bit patterns of fs0–fs11.
pub type Regs = [u64; 24];

const NAMES: [&str; 24] = [
    "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "fs0", "fs1", "fs2",
    "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9", "fs10", "fs11",
];

// Frame (224 bytes, 16-byte aligned): caller's s0-s11 at 0, fs0-fs11 at 96,
// ra at 192, the output pointer at 200. `.option arch, +d`: LLVM assembles
// module-level asm in release builds without the target's D extension.
global_asm!(
    ".option push",
    ".option arch, +d",
    ".text",
    ".globl canary_call",
    ".p2align 4",
    "canary_call:",
    "addi sp, sp, -224",
    "sd s0, 0(sp)",
    "sd s1, 8(sp)",
    "sd s2, 16(sp)",
    "sd s3, 24(sp)",
    "sd s4, 32(sp)",
    "sd s5, 40(sp)",
    "sd s6, 48(sp)",
    "sd s7, 56(sp)",
    "sd s8, 64(sp)",
    "sd s9, 72(sp)",
    "sd s10, 80(sp)",
    "sd s11, 88(sp)",
    "fsd fs0, 96(sp)",
    "fsd fs1, 104(sp)",
    "fsd fs2, 112(sp)",
    "fsd fs3, 120(sp)",
    "fsd fs4, 128(sp)",
    "fsd fs5, 136(sp)",
    "fsd fs6, 144(sp)",
    "fsd fs7, 152(sp)",
    "fsd fs8, 160(sp)",
    "fsd fs9, 168(sp)",
    "fsd fs10, 176(sp)",
    "fsd fs11, 184(sp)",
    "sd ra, 192(sp)",
    "sd a3, 200(sp)",
    "mv t1, a0",
    "mv a0, a1",
    "ld s0, 0(a2)",
    "ld s1, 8(a2)",
    "ld s2, 16(a2)",
    "ld s3, 24(a2)",
    "ld s4, 32(a2)",
    "ld s5, 40(a2)",
    "ld s6, 48(a2)",
    "ld s7, 56(a2)",
    "ld s8, 64(a2)",
    "ld s9, 72(a2)",
    "ld s10, 80(a2)",
    "ld s11, 88(a2)",
    "fld fs0, 96(a2)",
    "fld fs1, 104(a2)",
    "fld fs2, 112(a2)",
    "fld fs3, 120(a2)",
    "fld fs4, 128(a2)",
    "fld fs5, 136(a2)",
    "fld fs6, 144(a2)",
    "fld fs7, 152(a2)",
    "fld fs8, 160(a2)",
    "fld fs9, 168(a2)",
    "fld fs10, 176(a2)",
    "fld fs11, 184(a2)",
    "jalr t1",
    "ld a3, 200(sp)",
    "sd s0, 0(a3)",
    "sd s1, 8(a3)",
    "sd s2, 16(a3)",
    "sd s3, 24(a3)",
    "sd s4, 32(a3)",
    "sd s5, 40(a3)",
    "sd s6, 48(a3)",
    "sd s7, 56(a3)",
    "sd s8, 64(a3)",
    "sd s9, 72(a3)",
    "sd s10, 80(a3)",
    "sd s11, 88(a3)",
    "fsd fs0, 96(a3)",
    "fsd fs1, 104(a3)",
    "fsd fs2, 112(a3)",
    "fsd fs3, 120(a3)",
    "fsd fs4, 128(a3)",
    "fsd fs5, 136(a3)",
    "fsd fs6, 144(a3)",
    "fsd fs7, 152(a3)",
    "fsd fs8, 160(a3)",
    "fsd fs9, 168(a3)",
    "fsd fs10, 176(a3)",
    "fsd fs11, 184(a3)",
    "ld s0, 0(sp)",
    "ld s1, 8(sp)",
    "ld s2, 16(sp)",
    "ld s3, 24(sp)",
    "ld s4, 32(sp)",
    "ld s5, 40(sp)",
    "ld s6, 48(sp)",
    "ld s7, 56(sp)",
    "ld s8, 64(sp)",
    "ld s9, 72(sp)",
    "ld s10, 80(sp)",
    "ld s11, 88(sp)",
    "fld fs0, 96(sp)",
    "fld fs1, 104(sp)",
    "fld fs2, 112(sp)",
    "fld fs3, 120(sp)",
    "fld fs4, 128(sp)",
    "fld fs5, 136(sp)",
    "fld fs6, 144(sp)",
    "fld fs7, 152(sp)",
    "fld fs8, 160(sp)",
    "fld fs9, 168(sp)",
    "fld fs10, 176(sp)",
    "fld fs11, 184(sp)",
    "ld ra, 192(sp)",
    "addi sp, sp, 224",
    "ret",
    ".option pop",
);

extern "C" {
    fn canary_call(f: extern "C" fn(*mut ()), arg: *mut (), input: *const Regs, output: *mut Regs);
}

fn canaries(tag: u64) -> Regs {
    let mut r = [0u64; 24];
    for (i, v) in r.iter_mut().enumerate() {
        *v = (tag << 48) | 0x0000_5eed_0000_0000 | i as u64;
    }
    r
}

type Co = Coroutine<'static, (), (), Regs, &'static mut [u8]>;

extern "C" fn resume_once(co: *mut ()) {
    // SAFETY: `co` is the coroutine `fast_path_canaries` passes in.
    let co = unsafe { &mut *co.cast::<Co>() };
    let _ = co.resume(());
}

extern "C" fn suspend_once(y: *mut ()) {
    // SAFETY: `y` is the yielder of the running coroutine.
    let y = unsafe { &*y.cast::<Yielder<(), ()>>() };
    y.suspend(());
}

fn check(side: &str, expected: &Regs, found: &Regs) -> Result<(), Failed> {
    let errors: Vec<String> = (0..24)
        .filter(|&i| expected[i] != found[i])
        .map(|i| {
            format!(
                "{side}: {} was {:#x}, expected {:#x}",
                NAMES[i], found[i], expected[i]
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; ").into())
    }
}

/// Every callee-saved register survives resume and suspend, on both sides.
pub fn fast_path_canaries() -> Result<(), Failed> {
    let stack: &'static mut [u8] = vec![0u8; 64 * 1024].leak();
    let mut co: Co = Coroutine::new(stack, |(), y: &Yielder<(), ()>| {
        let mut found = [0u64; 24];
        let y = y as *const Yielder<(), ()> as *mut ();
        // SAFETY: canary_call restores every register it loads.
        unsafe { canary_call(suspend_once, y, &canaries(0xc0c0), &mut found) };
        found
    })
    .map_err(|e| e.to_string())?;
    let main = canaries(0x3a3a);
    let mut found = [0u64; 24];
    // main -> coroutine (loads its canaries, suspends) -> main
    unsafe { canary_call(resume_once, (&mut co as *mut Co).cast(), &main, &mut found) };
    check("main side", &main, &found)?;
    match co.resume(()) {
        CoroutineResult::Complete(found) => check("coroutine side", &canaries(0xc0c0), &found),
        CoroutineResult::Yield(()) => Err("coroutine suspended twice".into()),
    }
}

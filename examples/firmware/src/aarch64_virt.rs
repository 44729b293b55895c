//! Board support for QEMU's AArch64 `virt` machine, run with
//! `qemu-system-aarch64 -M virt -cpu cortex-a53 -kernel <elf>
//! -semihosting-config enable=on,target=native`: boot code, an exception
//! vector table that reports instead of hanging, Arm semihosting for output
//! and the exit status, and the callee-saved register canaries.
//!
//! QEMU loads the ELF at its link address (`link-aarch64-virt.ld`, RAM starts at
//! 0x4000_0000) and enters `_start` at EL1 with the MMU and caches off (no
//! EL2/EL3 unless `-M virt,virtualization=on|secure=on`). Code runs from RAM
//! as Device memory then; the `aarch64-unknown-none*` targets compile with
//! strict alignment, which Device memory requires.

use core::arch::global_asm;
use core::fmt::{self, Write};

// Boot: stack, vectors, FP/SIMD access, .bss, then Rust. FP is enabled only
// in the hard-float build: CPACR_EL1.FPEN (bits 21:20) = 0b11 stops FP/SIMD
// instructions trapping at EL0/EL1 (Arm ARM D13.2.30). The softfloat build
// leaves them trapping, so any FP register access by the core would show up
// as an exception report (ESR EC 0x07) instead of passing unnoticed.
global_asm!(
    ".set FP_ENABLE, {fp}",
    ".section .text.boot, \"ax\"",
    ".globl _start",
    "_start:",
    "adrp x9, __stack_top",
    "add x9, x9, :lo12:__stack_top",
    "mov sp, x9",
    "adrp x9, exception_vectors",
    "add x9, x9, :lo12:exception_vectors",
    "msr vbar_el1, x9",
    ".if FP_ENABLE",
    "mov x9, #(3 << 20)",
    "msr cpacr_el1, x9",
    ".endif",
    "isb",
    // QEMU's ELF loader zero-fills .bss already; a real loader need not.
    "adrp x9, __bss_start",
    "add x9, x9, :lo12:__bss_start",
    "adrp x10, __bss_end",
    "add x10, x10, :lo12:__bss_end",
    "1: cmp x9, x10",
    "b.hs 2f",
    "str xzr, [x9], #8",
    "b 1b",
    "2:",
    // CurrentEL bits 3:2 = the exception level, as firmware_main's argument.
    "mrs x0, CurrentEL",
    "lsr x0, x0, #2",
    // x29 = 0 and x30 = 0 end frame-pointer walks and backtraces here.
    "mov x29, xzr",
    "mov x30, xzr",
    "bl {main}",
    "b .",
    fp = const FP_ENABLE,
    main = sym entry,
);

#[cfg(target_feature = "neon")]
const FP_ENABLE: u32 = 1;
#[cfg(not(target_feature = "neon"))]
const FP_ENABLE: u32 = 0;

// VBAR_EL1 table: 16 entries of 0x80 bytes, 2 KiB aligned (Arm ARM D1.10.2).
// Every entry reports which one was taken with ESR_EL1 and ELR_EL1; nothing
// here expects an exception.
global_asm!(
    ".section .text.vectors, \"ax\"",
    ".p2align 11",
    ".globl exception_vectors",
    "exception_vectors:",
    ".set VEC, 0",
    ".rept 16",
    ".p2align 7",
    "mov x0, #VEC",
    "mrs x1, esr_el1",
    "mrs x2, elr_el1",
    "b {handler}",
    ".set VEC, VEC + 1",
    ".endr",
    handler = sym unexpected_exception,
);

/// Exit statuses the test step tells apart.
pub const EXIT_OK: u32 = 0;
/// A check failed.
pub const EXIT_CHECK_FAILED: u32 = 1;
/// Entered at another exception level than EL1.
pub const EXIT_WRONG_EL: u32 = 2;
/// An exception was taken.
pub const EXIT_EXCEPTION: u32 = 3;
/// The panic handler ran.
pub const EXIT_PANIC: u32 = 4;

/// Entered from the boot code with the exception level it runs at.
extern "C" fn entry(el: u64) -> ! {
    let out = &mut Semihosting;
    let fp = if cfg!(target_feature = "neon") {
        "FP/SIMD on"
    } else {
        "softfloat, FP/SIMD trapping"
    };
    let _ = writeln!(out, "cem-ctx firmware on qemu virt: EL{el}, {fp}");
    if el != 1 {
        let _ = writeln!(out, "FAIL written for EL1, entered at EL{el}");
        exit(EXIT_WRONG_EL);
    }
    if crate::run_all(out) {
        let _ = writeln!(out, "firmware: all checks passed");
        exit(EXIT_OK)
    }
    let _ = writeln!(out, "firmware: checks FAILED");
    exit(EXIT_CHECK_FAILED)
}

/// Reports a panic and exits with the panic status.
pub fn panic_exit(info: &core::panic::PanicInfo<'_>) -> ! {
    let _ = writeln!(Semihosting, "FAIL panic: {info}");
    exit(EXIT_PANIC)
}

extern "C" fn unexpected_exception(vector: u64, esr: u64, elr: u64) -> ! {
    let _ = writeln!(
        Semihosting,
        "FAIL unexpected exception: vector {vector} (offset {:#x}), ESR_EL1 {esr:#x} (EC {:#x}), ELR_EL1 {elr:#x}",
        vector * 0x80,
        esr >> 26
    );
    exit(EXIT_EXCEPTION)
}

/// An Arm semihosting call (Arm "Semihosting for AArch32 and AArch64" v2,
/// §2.2): operation in w0, parameter in x1, result in x0, trapped by
/// `hlt #0xf000` in AArch64 state.
///
/// # Safety
/// `param` must be what the operation expects.
unsafe fn semihosting_call(op: u32, param: usize) -> usize {
    let ret: usize;
    // SAFETY: the debugger (QEMU) reads the parameter block and resumes after
    // the hlt; no register other than x0 changes.
    unsafe {
        core::arch::asm!("hlt #0xf000", inout("x0") op as usize => ret, in("x1") param, options(nostack));
    }
    ret
}

/// SYS_WRITE0 (0x04) in chunks: writes NUL-terminated strings to the console.
pub struct Semihosting;

impl Write for Semihosting {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut buf = [0u8; 129];
        for chunk in s.as_bytes().chunks(128) {
            buf[..chunk.len()].copy_from_slice(chunk);
            buf[chunk.len()] = 0;
            // SAFETY: buf is NUL-terminated and lives across the call.
            unsafe { semihosting_call(0x04, buf.as_ptr() as usize) };
        }
        Ok(())
    }
}

/// SYS_EXIT (0x18) with ADP_Stopped_ApplicationExit (0x20026) and `code`: on
/// AArch64 the parameter is a two-word block (semihosting v2 §5.17); QEMU
/// exits with `code` as its status.
pub fn exit(code: u32) -> ! {
    let block: [u64; 2] = [0x20026, u64::from(code)];
    // SAFETY: block lives across the call.
    unsafe { semihosting_call(0x18, block.as_ptr() as usize) };
    loop {
        core::hint::spin_loop();
    }
}

// ------------------------------------------------------------------ canaries

/// Registers the canary check fills and reads back: x19–x28, x29, then (with
/// FP/SIMD) the bit patterns of d8–d15 — every callee-saved register of
/// AAPCS64 §6.1.1 and §6.1.2 except sp and x30, which the switch returning
/// to the right place at all covers.
#[cfg(target_feature = "neon")]
pub const NAMES: &[&str] = &[
    "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28", "x29", "d8", "d9", "d10",
    "d11", "d12", "d13", "d14", "d15",
];
/// As above; the softfloat build has no FP registers to check.
#[cfg(not(target_feature = "neon"))]
pub const NAMES: &[&str] = &[
    "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28", "x29",
];

/// Slots of [`Regs`]; the softfloat build checks only the first 11.
pub const N: usize = 19;

/// One value per register of [`NAMES`].
pub type Regs = [u64; N];

/// Canaries of the main side: distinct per register.
pub const MAIN: Regs = {
    let mut r = [0u64; N];
    let mut i = 0;
    while i < N {
        r[i] = 0x1111_2222_3333_4400 + i as u64;
        i += 1;
    }
    r
};

/// Canaries of the other side (NaN payloads for the d registers).
pub const OTHER: Regs = {
    let mut r = [0u64; N];
    let mut i = 0;
    while i < N {
        r[i] = 0x7ff8_dead_beef_0000 + i as u64;
        i += 1;
    }
    r
};

extern "C" {
    /// Loads `input` into every register of [`NAMES`], calls the function at address `f` as `f(a0, a1)`, and
    /// when `f` returns stores what those registers then hold into `output`;
    /// the caller's own registers are restored before returning. With
    /// `f = cem_swapcontext` the check covers the switch alone.
    pub fn canary_call(input: *const Regs, output: *mut Regs, f: usize, a0: usize, a1: usize);
}

global_asm!(
    ".set FP_CANARY, {fp}",
    ".text",
    ".globl canary_call",
    ".p2align 4",
    "canary_call:",
    // The caller's x19-x30, d8-d15 and the output pointer: 176 bytes keeps sp
    // 16-byte aligned (AAPCS64 §6.4.5.1).
    "sub sp, sp, #176",
    "stp x19, x20, [sp, #0]",
    "stp x21, x22, [sp, #16]",
    "stp x23, x24, [sp, #32]",
    "stp x25, x26, [sp, #48]",
    "stp x27, x28, [sp, #64]",
    "stp x29, x30, [sp, #80]",
    ".if FP_CANARY",
    "stp d8, d9, [sp, #96]",
    "stp d10, d11, [sp, #112]",
    "stp d12, d13, [sp, #128]",
    "stp d14, d15, [sp, #144]",
    ".endif",
    "str x1, [sp, #160]",
    "ldp x19, x20, [x0, #0]",
    "ldp x21, x22, [x0, #16]",
    "ldp x23, x24, [x0, #32]",
    "ldp x25, x26, [x0, #48]",
    "ldp x27, x28, [x0, #64]",
    "ldr x29, [x0, #80]",
    ".if FP_CANARY",
    "ldp d8, d9, [x0, #88]",
    "ldp d10, d11, [x0, #104]",
    "ldp d12, d13, [x0, #120]",
    "ldp d14, d15, [x0, #136]",
    ".endif",
    "mov x0, x3",
    "mov x1, x4",
    "blr x2",
    "ldr x1, [sp, #160]",
    "stp x19, x20, [x1, #0]",
    "stp x21, x22, [x1, #16]",
    "stp x23, x24, [x1, #32]",
    "stp x25, x26, [x1, #48]",
    "stp x27, x28, [x1, #64]",
    "str x29, [x1, #80]",
    ".if FP_CANARY",
    "stp d8, d9, [x1, #88]",
    "stp d10, d11, [x1, #104]",
    "stp d12, d13, [x1, #120]",
    "stp d14, d15, [x1, #136]",
    ".endif",
    "ldp x19, x20, [sp, #0]",
    "ldp x21, x22, [sp, #16]",
    "ldp x23, x24, [sp, #32]",
    "ldp x25, x26, [sp, #48]",
    "ldp x27, x28, [sp, #64]",
    "ldp x29, x30, [sp, #80]",
    ".if FP_CANARY",
    "ldp d8, d9, [sp, #96]",
    "ldp d10, d11, [sp, #112]",
    "ldp d12, d13, [sp, #128]",
    "ldp d14, d15, [sp, #144]",
    ".endif",
    "add sp, sp, #176",
    "ret",
    fp = const FP_ENABLE,
);

//! AArch64 AAPCS64 `canary_call`: x19–x29 and d8–d15 (the low 64 bits of
//! v8–v15) are callee-saved (§6.1.1, §6.1.2). x30 and sp are covered by the
//! call returning at all; FPCR is not callee-saved state on AArch64.

use core::arch::global_asm;

/// Values for x19–x28, x29, then the bit patterns of d8–d15.
pub type Regs = [u64; 19];

/// Names for failure messages, in `Regs` order.
pub const NAMES: [&str; 19] = [
    "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28", "x29", "d8", "d9", "d10",
    "d11", "d12", "d13", "d14", "d15",
];

/// Every bit of every register is callee-saved (d8–d15: the low 64 bits of
/// v8–v15, AAPCS64 §6.1.2).
pub const MASKS: Regs = [u64::MAX; 19];

/// No FP control state is callee-saved on AArch64 (FPCR is global).
pub const FP_CONTROL: &[usize] = &[];

// In: x0 = f, x1 = a0, x2 = a1, x3 = input, x4 = output.
global_asm!(
    ".text",
    ".globl canary_call",
    ".p2align 4",
    "canary_call:",
    // Keep the caller's callee-saved registers (x19-x30, d8-d15) and the
    // output pointer: 176 bytes keeps sp 16-byte aligned.
    "sub sp, sp, #176",
    "stp x19, x20, [sp, #0]",
    "stp x21, x22, [sp, #16]",
    "stp x23, x24, [sp, #32]",
    "stp x25, x26, [sp, #48]",
    "stp x27, x28, [sp, #64]",
    "stp x29, x30, [sp, #80]",
    "stp d8, d9, [sp, #96]",
    "stp d10, d11, [sp, #112]",
    "stp d12, d13, [sp, #128]",
    "stp d14, d15, [sp, #144]",
    "str x4, [sp, #160]",
    "ldp x19, x20, [x3, #0]",
    "ldp x21, x22, [x3, #16]",
    "ldp x23, x24, [x3, #32]",
    "ldp x25, x26, [x3, #48]",
    "ldp x27, x28, [x3, #64]",
    "ldr x29, [x3, #80]",
    "ldp d8, d9, [x3, #88]",
    "ldp d10, d11, [x3, #104]",
    "ldp d12, d13, [x3, #120]",
    "ldp d14, d15, [x3, #136]",
    "mov x9, x0",
    "mov x0, x1",
    "mov x1, x2",
    "blr x9",
    "ldr x4, [sp, #160]",
    "stp x19, x20, [x4, #0]",
    "stp x21, x22, [x4, #16]",
    "stp x23, x24, [x4, #32]",
    "stp x25, x26, [x4, #48]",
    "stp x27, x28, [x4, #64]",
    "str x29, [x4, #80]",
    "stp d8, d9, [x4, #88]",
    "stp d10, d11, [x4, #104]",
    "stp d12, d13, [x4, #120]",
    "stp d14, d15, [x4, #136]",
    "ldp x19, x20, [sp, #0]",
    "ldp x21, x22, [sp, #16]",
    "ldp x23, x24, [sp, #32]",
    "ldp x25, x26, [sp, #48]",
    "ldp x27, x28, [sp, #64]",
    "ldp x29, x30, [sp, #80]",
    "ldp d8, d9, [sp, #96]",
    "ldp d10, d11, [sp, #112]",
    "ldp d12, d13, [sp, #128]",
    "ldp d14, d15, [sp, #144]",
    "add sp, sp, #176",
    "ret",
);

/// Canaries for the main side: distinct patterns; d8–d15 hold doubles 1.5, 2.5, …
pub const MAIN: Regs = [
    0x1111_2222_3333_4419,
    0x1111_2222_3333_4420,
    0x1111_2222_3333_4421,
    0x1111_2222_3333_4422,
    0x1111_2222_3333_4423,
    0x1111_2222_3333_4424,
    0x1111_2222_3333_4425,
    0x1111_2222_3333_4426,
    0x1111_2222_3333_4427,
    0x1111_2222_3333_4428,
    0x1111_2222_3333_4429,
    0x3ff8_0000_0000_0000,
    0x4004_0000_0000_0000,
    0x400c_0000_0000_0000,
    0x4012_0000_0000_0000,
    0x4016_0000_0000_0000,
    0x401a_0000_0000_0000,
    0x401e_0000_0000_0000,
    0x4021_0000_0000_0000,
];

/// Canaries for the coroutine side: other patterns, including NaN payloads.
pub const COROUTINE: Regs = [
    0xaaaa_bbbb_cccc_dd19,
    0xaaaa_bbbb_cccc_dd20,
    0xaaaa_bbbb_cccc_dd21,
    0xaaaa_bbbb_cccc_dd22,
    0xaaaa_bbbb_cccc_dd23,
    0xaaaa_bbbb_cccc_dd24,
    0xaaaa_bbbb_cccc_dd25,
    0xaaaa_bbbb_cccc_dd26,
    0xaaaa_bbbb_cccc_dd27,
    0xaaaa_bbbb_cccc_dd28,
    0xaaaa_bbbb_cccc_dd29,
    0x7ff8_dead_beef_0008,
    0x7ff8_dead_beef_0009,
    0x7ff8_dead_beef_0010,
    0x7ff8_dead_beef_0011,
    0xfff8_dead_beef_0012,
    0xfff8_dead_beef_0013,
    0xfff8_dead_beef_0014,
    0xfff8_dead_beef_0015,
];

//! RISC-V psABI (RV64 with D) `canary_call`: s0–s11 and fs0–fs11 are
//! callee-saved ("Integer Register Convention", "Floating-Point Register
//! Convention"). ra and sp are covered by the call returning at all; fcsr has
//! thread storage duration, so it is no canary (tests/fp_control.rs checks
//! that the switch leaves it alone).

use core::arch::global_asm;

/// Values for s0–s11, then the bit patterns of fs0–fs11.
pub type Regs = [u64; 24];

/// Names for failure messages, in `Regs` order.
pub const NAMES: [&str; 24] = [
    "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "fs0", "fs1", "fs2",
    "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9", "fs10", "fs11",
];

/// Every bit is callee-saved: XLEN = 64, and with the lp64d ABI the full
/// 64-bit FLEN of fs0–fs11.
pub const MASKS: Regs = [u64::MAX; 24];

/// No FP control state is callee-saved on RISC-V (fcsr is thread state).
pub const FP_CONTROL: &[usize] = &[];

// In: a0 = f, a1 = a0, a2 = a1, a3 = input, a4 = output.
// Frame (224 bytes, 16-byte aligned): caller's s0-s11 at 0, fs0-fs11 at 96,
// ra at 192, the output pointer at 200.
// `.option arch, +d`: LLVM assembles module-level asm in release builds
// without the target's D extension (see asm/riscv_psabi.s).
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
    "sd a4, 200(sp)",
    "ld s0, 0(a3)",
    "ld s1, 8(a3)",
    "ld s2, 16(a3)",
    "ld s3, 24(a3)",
    "ld s4, 32(a3)",
    "ld s5, 40(a3)",
    "ld s6, 48(a3)",
    "ld s7, 56(a3)",
    "ld s8, 64(a3)",
    "ld s9, 72(a3)",
    "ld s10, 80(a3)",
    "ld s11, 88(a3)",
    "fld fs0, 96(a3)",
    "fld fs1, 104(a3)",
    "fld fs2, 112(a3)",
    "fld fs3, 120(a3)",
    "fld fs4, 128(a3)",
    "fld fs5, 136(a3)",
    "fld fs6, 144(a3)",
    "fld fs7, 152(a3)",
    "fld fs8, 160(a3)",
    "fld fs9, 168(a3)",
    "fld fs10, 176(a3)",
    "fld fs11, 184(a3)",
    "mv t0, a0",
    "mv a0, a1",
    "mv a1, a2",
    "jalr t0",
    "ld a4, 200(sp)",
    "sd s0, 0(a4)",
    "sd s1, 8(a4)",
    "sd s2, 16(a4)",
    "sd s3, 24(a4)",
    "sd s4, 32(a4)",
    "sd s5, 40(a4)",
    "sd s6, 48(a4)",
    "sd s7, 56(a4)",
    "sd s8, 64(a4)",
    "sd s9, 72(a4)",
    "sd s10, 80(a4)",
    "sd s11, 88(a4)",
    "fsd fs0, 96(a4)",
    "fsd fs1, 104(a4)",
    "fsd fs2, 112(a4)",
    "fsd fs3, 120(a4)",
    "fsd fs4, 128(a4)",
    "fsd fs5, 136(a4)",
    "fsd fs6, 144(a4)",
    "fsd fs7, 152(a4)",
    "fsd fs8, 160(a4)",
    "fsd fs9, 168(a4)",
    "fsd fs10, 176(a4)",
    "fsd fs11, 184(a4)",
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

/// Canaries for the main side: distinct patterns; fs0–fs11 hold doubles.
pub const MAIN: Regs = [
    0x1111_2222_3333_4400,
    0x1111_2222_3333_4401,
    0x1111_2222_3333_4402,
    0x1111_2222_3333_4403,
    0x1111_2222_3333_4404,
    0x1111_2222_3333_4405,
    0x1111_2222_3333_4406,
    0x1111_2222_3333_4407,
    0x1111_2222_3333_4408,
    0x1111_2222_3333_4409,
    0x1111_2222_3333_4410,
    0x1111_2222_3333_4411,
    0x3ff8_0000_0000_0000,
    0x3ff8_1000_0000_0000,
    0x3ff8_2000_0000_0000,
    0x3ff8_3000_0000_0000,
    0x3ff8_4000_0000_0000,
    0x3ff8_5000_0000_0000,
    0x3ff8_6000_0000_0000,
    0x3ff8_7000_0000_0000,
    0x3ff8_8000_0000_0000,
    0x3ff8_9000_0000_0000,
    0x3ff8_a000_0000_0000,
    0x3ff8_b000_0000_0000,
];

/// Canaries for the coroutine side: other patterns, including NaN payloads.
pub const COROUTINE: Regs = [
    0xaaaa_bbbb_cccc_dd00,
    0xaaaa_bbbb_cccc_dd01,
    0xaaaa_bbbb_cccc_dd02,
    0xaaaa_bbbb_cccc_dd03,
    0xaaaa_bbbb_cccc_dd04,
    0xaaaa_bbbb_cccc_dd05,
    0xaaaa_bbbb_cccc_dd06,
    0xaaaa_bbbb_cccc_dd07,
    0xaaaa_bbbb_cccc_dd08,
    0xaaaa_bbbb_cccc_dd09,
    0xaaaa_bbbb_cccc_dd10,
    0xaaaa_bbbb_cccc_dd11,
    0x7ff8_dead_beef_0000,
    0x7ff8_dead_beef_0001,
    0x7ff8_dead_beef_0002,
    0x7ff8_dead_beef_0003,
    0x7ff8_dead_beef_0004,
    0x7ff8_dead_beef_0005,
    0xfff8_dead_beef_0006,
    0xfff8_dead_beef_0007,
    0xfff8_dead_beef_0008,
    0xfff8_dead_beef_0009,
    0xfff8_dead_beef_0010,
    0xfff8_dead_beef_0011,
];

/// psABI "Integer Calling Convention": sp is 16-byte aligned on entry.
pub fn entry_sp_ok(sp: u64) -> bool {
    sp.is_multiple_of(16)
}

// `sp_at_entry()`: the stack pointer at its first instruction.
global_asm!(
    ".text",
    ".globl sp_at_entry",
    ".p2align 4",
    "sp_at_entry:",
    "mv a0, sp",
    "ret"
);

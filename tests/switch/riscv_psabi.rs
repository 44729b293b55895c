//! RISC-V psABI (RV64) probe for the switch tests: the entry probe, in
//! assembly so that it sees the registers exactly as the entry trampoline
//! left them. The register canaries are `tests/support/canary/riscv_psabi.rs`.

use core::arch::global_asm;

global_asm!(
    ".text",
    ".globl entry_probe",
    ".p2align 4",
    "entry_probe:",
    "lla t1, {sp}",
    "sd sp, 0(t1)",
    "lla t1, {fp}",
    "sd s0, 0(t1)",
    "tail {body}",
    sp = sym super::ENTRY_SP,
    fp = sym super::ENTRY_FP,
    body = sym super::entry_probe_body,
);

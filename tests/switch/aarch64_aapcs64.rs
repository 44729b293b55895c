//! AArch64 AAPCS64 entry probe for the switch tests, in assembly so that it
//! sees the registers exactly as the entry trampoline left them. The register
//! canary probe is shared with the coroutine tests: `tests/support/canary/`.

use core::arch::global_asm;

global_asm!(
    ".text",
    ".globl entry_probe",
    ".p2align 4",
    "entry_probe:",
    "adrp x9, {sp}",
    "add x9, x9, :lo12:{sp}",
    "mov x10, sp",
    "str x10, [x9]",
    "adrp x9, {fp}",
    "add x9, x9, :lo12:{fp}",
    "str x29, [x9]",
    "b {body}",
    sp = sym super::ENTRY_SP,
    fp = sym super::ENTRY_FP,
    body = sym super::entry_probe_body,
);

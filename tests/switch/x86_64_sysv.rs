//! x86-64 System V entry probe for the switch tests, in assembly so that it
//! sees the registers exactly as the entry trampoline left them. The register
//! canary probe is shared with the coroutine tests: `tests/support/canary/`.

use core::arch::global_asm;

/// Alignment the psABI promises at a function's first instruction:
/// `(rsp + 8) % 16 == 0` (§3.2.2).
pub fn entry_sp_ok(sp: u64) -> bool {
    (sp + 8).is_multiple_of(16)
}

global_asm!(
    ".text",
    ".globl entry_probe",
    ".p2align 4",
    "entry_probe:",
    "mov qword ptr [rip + {sp}], rsp",
    "mov qword ptr [rip + {fp}], rbp",
    "jmp {body}",
    sp = sym super::ENTRY_SP,
    fp = sym super::ENTRY_FP,
    body = sym super::entry_probe_body,
);

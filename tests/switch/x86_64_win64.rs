//! Microsoft x64 entry probe for the switch tests, in assembly so that it
//! sees the registers exactly as the entry trampoline left them. The register
//! canary probe is shared with the coroutine tests: `tests/support/canary/`.

use core::arch::global_asm;

global_asm!(
    ".text",
    ".globl entry_probe",
    ".p2align 4",
    "entry_probe:",
    "mov qword ptr [rip + {sp}], rsp",
    "mov qword ptr [rip + {fp}], rbp",
    "mov qword ptr [rsp + 8], rcx",
    "mov qword ptr [rsp + 16], rdx",
    "mov qword ptr [rsp + 24], r8",
    "mov qword ptr [rsp + 32], r9",
    "jmp {body}",
    sp = sym super::ENTRY_SP,
    fp = sym super::ENTRY_FP,
    body = sym super::entry_probe_body,
);

//! x86-64 System V probes for the switch tests, in assembly so that the
//! compiler cannot keep values in registers on our behalf.
//!
//! `canary_swap(save, restore, input, output)` loads `input` into every
//! callee-saved register (rbx, rbp, r12–r15, MXCSR, x87 control word), calls
//! `cem_swapcontext(save, restore)`, and when it is resumed stores what those
//! registers then hold into `output`; it restores the caller's registers
//! before returning.

use core::arch::global_asm;

/// Values for rbx, rbp, r12, r13, r14, r15, MXCSR, x87 CW (in that order).
pub type Regs = [u64; 8];

/// Names for failure messages, in `Regs` order.
pub const NAMES: [&str; 8] = ["rbx", "rbp", "r12", "r13", "r14", "r15", "mxcsr", "x87 cw"];

/// Bits compared per register. Only MXCSR bits 6-15 are callee-saved in the
/// psABI (§3.2.1); its status flags (0-5) are not preserved by the switch.
pub const MASKS: Regs = [
    u64::MAX,
    u64::MAX,
    u64::MAX,
    u64::MAX,
    u64::MAX,
    u64::MAX,
    0xffc0,
    0xffff,
];

global_asm!(
    ".text",
    ".globl canary_swap",
    ".p2align 4",
    "canary_swap:",
    // Keep the caller's callee-saved registers; we are about to overwrite them.
    "push rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "push rcx", // output pointer, needed after the switch
    // 7 pushes after the call leave rsp 16-byte aligned; 16 more bytes hold
    // the caller's MXCSR and control word and keep the alignment for the call.
    "sub rsp, 16",
    "stmxcsr [rsp]",
    "fnstcw [rsp + 4]",
    "mov rbx, [rdx]",
    "mov rbp, [rdx + 8]",
    "mov r12, [rdx + 16]",
    "mov r13, [rdx + 24]",
    "mov r14, [rdx + 32]",
    "mov r15, [rdx + 40]",
    "ldmxcsr [rdx + 48]",
    "fldcw [rdx + 56]",
    "call {swap}",
    "mov rcx, [rsp + 16]",
    "mov [rcx], rbx",
    "mov [rcx + 8], rbp",
    "mov [rcx + 16], r12",
    "mov [rcx + 24], r13",
    "mov [rcx + 32], r14",
    "mov [rcx + 40], r15",
    "stmxcsr [rcx + 48]",
    "fnstcw [rcx + 56]",
    "ldmxcsr [rsp]",
    "fldcw [rsp + 4]",
    "add rsp, 16",
    "pop rcx",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    swap = sym cem_ctx::ffi::cem_swapcontext,
);

/// Canaries for the main side: distinct 64-bit patterns, MXCSR with
/// round-toward-zero + FTZ + DAZ, x87 CW with truncation and single precision.
pub const MAIN: Regs = [
    0x1111_2222_3333_4401,
    0x1111_2222_3333_4402,
    0x1111_2222_3333_4403,
    0x1111_2222_3333_4404,
    0x1111_2222_3333_4405,
    0x1111_2222_3333_4406,
    0xffc0,
    0x0c7f,
];

/// Canaries for the coroutine side: other patterns, MXCSR rounding down,
/// x87 CW double precision with round-to-nearest.
pub const COROUTINE: Regs = [
    0xaaaa_bbbb_cccc_dd01,
    0xaaaa_bbbb_cccc_dd02,
    0xaaaa_bbbb_cccc_dd03,
    0xaaaa_bbbb_cccc_dd04,
    0xaaaa_bbbb_cccc_dd05,
    0xaaaa_bbbb_cccc_dd06,
    0x3f80,
    0x027f,
];

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

//! x86-64 System V `canary_call`: rbx, rbp, r12–r15, the MXCSR control bits
//! and the x87 control word are callee-saved (psABI §3.2.1, Figure 3.4).

use core::arch::global_asm;

/// Values for rbx, rbp, r12, r13, r14, r15, MXCSR, x87 CW (in that order).
pub type Regs = [u64; 8];

/// Names for failure messages, in `Regs` order.
pub const NAMES: [&str; 8] = ["rbx", "rbp", "r12", "r13", "r14", "r15", "mxcsr", "x87 cw"];

/// Bits compared per register. Only MXCSR bits 6–15 are callee-saved in the
/// psABI (§3.2.1); its status flags (bits 0–5) are caller-saved.
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

/// Slots holding FP control state (shared between a coroutine and its
/// resumer with `Options { fp_control: false }`).
pub const FP_CONTROL: &[usize] = &[6, 7];

// In: rdi = f, rsi = a0, rdx = a1, rcx = input, r8 = output.
global_asm!(
    ".text",
    ".globl canary_call",
    ".p2align 4",
    "canary_call:",
    // Keep the caller's callee-saved registers; we are about to overwrite them.
    "push rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "push r8", // output pointer, needed after the call
    // 7 pushes after the call leave rsp 16-byte aligned; 16 more bytes hold
    // the caller's MXCSR and control word and keep the alignment for the call.
    "sub rsp, 16",
    "stmxcsr [rsp]",
    "fnstcw [rsp + 4]",
    "mov rax, rdi",
    "mov rdi, rsi",
    "mov rsi, rdx",
    "mov rbx, [rcx]",
    "mov rbp, [rcx + 8]",
    "mov r12, [rcx + 16]",
    "mov r13, [rcx + 24]",
    "mov r14, [rcx + 32]",
    "mov r15, [rcx + 40]",
    "ldmxcsr [rcx + 48]",
    "fldcw [rcx + 56]",
    "call rax",
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
    "pop r8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
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

//! Microsoft x64 `canary_call`: rbx, rbp, rdi, rsi, r12–r15, all 128 bits of
//! xmm6–xmm15, the MXCSR control bits and the x87 control word are
//! nonvolatile ("x64 calling convention", register volatility and
//! preservation). The five TEB fields that describe the current stack are
//! loaded with canaries too: the switch must carry them like registers.

use core::arch::global_asm;

/// rbx, rbp, rdi, rsi, r12–r15; xmm6–xmm15 as (low, high) pairs; MXCSR;
/// x87 CW; TEB StackBase, StackLimit, DeallocationStack, ExceptionList,
/// GuaranteedStackBytes.
pub type Regs = [u64; 35];

/// Names for failure messages, in `Regs` order.
pub const NAMES: [&str; 35] = [
    "rbx",
    "rbp",
    "rdi",
    "rsi",
    "r12",
    "r13",
    "r14",
    "r15",
    "xmm6.lo",
    "xmm6.hi",
    "xmm7.lo",
    "xmm7.hi",
    "xmm8.lo",
    "xmm8.hi",
    "xmm9.lo",
    "xmm9.hi",
    "xmm10.lo",
    "xmm10.hi",
    "xmm11.lo",
    "xmm11.hi",
    "xmm12.lo",
    "xmm12.hi",
    "xmm13.lo",
    "xmm13.hi",
    "xmm14.lo",
    "xmm14.hi",
    "xmm15.lo",
    "xmm15.hi",
    "mxcsr",
    "x87 cw",
    "TEB StackBase",
    "TEB StackLimit",
    "TEB DeallocationStack",
    "TEB ExceptionList",
    "TEB GuaranteedStackBytes",
];

/// Bits compared per slot: MXCSR control bits only (6-15; the status flags
/// are volatile), 16 bits of control word, 32 bits of GuaranteedStackBytes.
pub const MASKS: Regs = {
    let mut m = [u64::MAX; 35];
    m[28] = 0xffc0;
    m[29] = 0xffff;
    m[34] = 0xffff_ffff;
    m
};

/// Slots holding FP control state (shared between a coroutine and its
/// resumer with `Options { fp_control: false }`).
pub const FP_CONTROL: &[usize] = &[28, 29];

/// Index of TEB StackBase in `Regs`; the five TEB slots follow in the order
/// of [`teb_stack`].
pub const TEB: usize = 30;

// In: rcx = f, rdx = a0, r8 = a1, r9 = input, [rsp + 40] = output.
global_asm!(
    ".text",
    ".globl canary_call",
    ".p2align 4",
    "canary_call:",
    "push rbp",
    "push rbx",
    "push rdi",
    "push rsi",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    // The output pointer, the fifth argument, at [rsp + 40] on entry (above
    // the return address and the caller's 32 bytes of home space), now 64
    // bytes further up; kept at [rsp + 240] below.
    "push qword ptr [rsp + 104]",
    // 9 pushes after the call leave rsp 16-byte aligned. 240 bytes: 32 of
    // shadow space for the call, the caller's xmm6-15 at 32, its MXCSR and
    // control word at 192, its five TEB fields at 200.
    "sub rsp, 240",
    "movups [rsp + 32], xmm6",
    "movups [rsp + 48], xmm7",
    "movups [rsp + 64], xmm8",
    "movups [rsp + 80], xmm9",
    "movups [rsp + 96], xmm10",
    "movups [rsp + 112], xmm11",
    "movups [rsp + 128], xmm12",
    "movups [rsp + 144], xmm13",
    "movups [rsp + 160], xmm14",
    "movups [rsp + 176], xmm15",
    "stmxcsr [rsp + 192]",
    "fnstcw [rsp + 196]",
    "mov r10, gs:[0x30]",
    "mov rax, [r10 + 0x08]",
    "mov [rsp + 200], rax",
    "mov rax, [r10 + 0x10]",
    "mov [rsp + 208], rax",
    "mov rax, [r10 + 0x1478]",
    "mov [rsp + 216], rax",
    "mov rax, [r10]",
    "mov [rsp + 224], rax",
    "mov eax, [r10 + 0x1748]",
    "mov [rsp + 232], eax",
    // Canaries in, from r11; rcx, rdx and r8 (f, a0, a1) stay untouched.
    "mov r11, r9",
    "mov rbx, [r11]",
    "mov rbp, [r11 + 8]",
    "mov rdi, [r11 + 16]",
    "mov rsi, [r11 + 24]",
    "mov r12, [r11 + 32]",
    "mov r13, [r11 + 40]",
    "mov r14, [r11 + 48]",
    "mov r15, [r11 + 56]",
    "movups xmm6, [r11 + 64]",
    "movups xmm7, [r11 + 80]",
    "movups xmm8, [r11 + 96]",
    "movups xmm9, [r11 + 112]",
    "movups xmm10, [r11 + 128]",
    "movups xmm11, [r11 + 144]",
    "movups xmm12, [r11 + 160]",
    "movups xmm13, [r11 + 176]",
    "movups xmm14, [r11 + 192]",
    "movups xmm15, [r11 + 208]",
    "ldmxcsr [r11 + 224]",
    "fldcw [r11 + 232]",
    "mov rax, [r11 + 240]",
    "mov [r10 + 0x08], rax",
    "mov rax, [r11 + 248]",
    "mov [r10 + 0x10], rax",
    "mov rax, [r11 + 256]",
    "mov [r10 + 0x1478], rax",
    "mov rax, [r11 + 264]",
    "mov [r10], rax",
    "mov eax, [r11 + 272]",
    "mov [r10 + 0x1748], eax",
    "mov rax, rcx",
    "mov rcx, rdx",
    "mov rdx, r8",
    "call rax",
    // What came back.
    "mov r9, [rsp + 240]",
    "mov [r9], rbx",
    "mov [r9 + 8], rbp",
    "mov [r9 + 16], rdi",
    "mov [r9 + 24], rsi",
    "mov [r9 + 32], r12",
    "mov [r9 + 40], r13",
    "mov [r9 + 48], r14",
    "mov [r9 + 56], r15",
    "movups [r9 + 64], xmm6",
    "movups [r9 + 80], xmm7",
    "movups [r9 + 96], xmm8",
    "movups [r9 + 112], xmm9",
    "movups [r9 + 128], xmm10",
    "movups [r9 + 144], xmm11",
    "movups [r9 + 160], xmm12",
    "movups [r9 + 176], xmm13",
    "movups [r9 + 192], xmm14",
    "movups [r9 + 208], xmm15",
    "stmxcsr [r9 + 224]",
    "fnstcw [r9 + 232]",
    "mov r10, gs:[0x30]",
    "mov rax, [r10 + 0x08]",
    "mov [r9 + 240], rax",
    "mov rax, [r10 + 0x10]",
    "mov [r9 + 248], rax",
    "mov rax, [r10 + 0x1478]",
    "mov [r9 + 256], rax",
    "mov rax, [r10]",
    "mov [r9 + 264], rax",
    "mov eax, [r10 + 0x1748]",
    "mov [r9 + 272], eax",
    // The caller's state back.
    "mov rax, [rsp + 200]",
    "mov [r10 + 0x08], rax",
    "mov rax, [rsp + 208]",
    "mov [r10 + 0x10], rax",
    "mov rax, [rsp + 216]",
    "mov [r10 + 0x1478], rax",
    "mov rax, [rsp + 224]",
    "mov [r10], rax",
    "mov eax, [rsp + 232]",
    "mov [r10 + 0x1748], eax",
    "movups xmm6, [rsp + 32]",
    "movups xmm7, [rsp + 48]",
    "movups xmm8, [rsp + 64]",
    "movups xmm9, [rsp + 80]",
    "movups xmm10, [rsp + 96]",
    "movups xmm11, [rsp + 112]",
    "movups xmm12, [rsp + 128]",
    "movups xmm13, [rsp + 144]",
    "movups xmm14, [rsp + 160]",
    "movups xmm15, [rsp + 176]",
    "ldmxcsr [rsp + 192]",
    "fldcw [rsp + 196]",
    "add rsp, 240",
    "pop r9",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rsi",
    "pop rdi",
    "pop rbx",
    "pop rbp",
    "ret",
);

const fn canaries(tag: u64, mxcsr: u64, fcw: u64) -> Regs {
    let mut r = [0u64; 35];
    let mut i = 0;
    while i < 28 {
        r[i] = tag | (i as u64 + 1);
        i += 1;
    }
    r[28] = mxcsr;
    r[29] = fcw;
    r[30] = tag | 0x5b00; // StackBase
    r[31] = tag | 0x5100; // StackLimit
    r[32] = tag | 0xd500; // DeallocationStack
    r[33] = tag | 0xe100; // ExceptionList
    r[34] = (tag >> 32) & 0xffff_ff00 | 0x34;
    r
}

/// Canaries for the main side; MXCSR round-toward-zero + FTZ + DAZ, x87 CW
/// with truncation and single precision.
pub const MAIN: Regs = canaries(0x1111_2222_3333_0000, 0xffc0, 0x0c7f);

/// Canaries for the coroutine side; MXCSR rounding down, x87 CW double
/// precision with round-to-nearest.
pub const COROUTINE: Regs = canaries(0xaaaa_bbbb_cccc_0000, 0x3f80, 0x027f);

/// The TEB stack fields of the current thread, read through NT_TIB.Self
/// (gs:[0x30]): StackBase, StackLimit, DeallocationStack, ExceptionList,
/// GuaranteedStackBytes.
pub fn teb_stack() -> [u64; 5] {
    let (base, limit, dealloc, list, guaranteed): (u64, u64, u64, u64, u32);
    // SAFETY: reads five fields of the current thread's TEB.
    unsafe {
        core::arch::asm!(
            "mov {t}, gs:[0x30]",
            "mov {b}, [{t} + 0x08]",
            "mov {l}, [{t} + 0x10]",
            "mov {d}, [{t} + 0x1478]",
            "mov {e}, [{t}]",
            "mov {g:e}, [{t} + 0x1748]",
            t = out(reg) _,
            b = out(reg) base, l = out(reg) limit, d = out(reg) dealloc, e = out(reg) list,
            g = out(reg) guaranteed,
            options(nostack, readonly, preserves_flags)
        );
    }
    [base, limit, dealloc, list, u64::from(guaranteed)]
}

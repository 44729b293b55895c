//! Register canaries for the Microsoft x64 calling convention (UEFI x64):
//! the nonvolatile registers are rbx, rbp, rdi, rsi, r12–r15 and xmm6–xmm15
//! (all 128 bits), per "x64 calling convention: register volatility and
//! preservation" and UEFI spec §2.3.4.2. rsp is covered by returning at all.

use core::arch::global_asm;

/// Slots of [`Regs`]: 8 general registers, then xmm6–xmm15 as low/high halves.
pub const N: usize = 28;

/// One value per register half of [`NAMES`].
pub type Regs = [u64; N];

/// Names for failure messages, in [`Regs`] order.
pub const NAMES: &[&str] = &[
    "rbx", "rbp", "rdi", "rsi", "r12", "r13", "r14", "r15", "xmm6.lo", "xmm6.hi", "xmm7.lo",
    "xmm7.hi", "xmm8.lo", "xmm8.hi", "xmm9.lo", "xmm9.hi", "xmm10.lo", "xmm10.hi", "xmm11.lo",
    "xmm11.hi", "xmm12.lo", "xmm12.hi", "xmm13.lo", "xmm13.hi", "xmm14.lo", "xmm14.hi", "xmm15.lo",
    "xmm15.hi",
];

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

/// Canaries of the other side.
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
    /// Loads `input` into every register of [`NAMES`], calls the function at
    /// address `f` as `f(a0, a1)`, and when it returns stores what those
    /// registers then hold into `output`; the caller's own registers are
    /// restored before returning.
    pub fn canary_call(input: *const Regs, output: *mut Regs, f: usize, a0: usize, a1: usize);
}

// Frame: 8 pushes + 216 bytes keep rsp 16-byte aligned at the inner call
// (entry rsp ≡ 8 mod 16); [rsp, rsp+32) is the callee's home space, then the
// caller's xmm6–xmm15 and the output pointer. a1 (5th argument) is on the
// stack above the return address and our home space: entry rsp + 40.
global_asm!(
    ".text",
    ".globl canary_call",
    ".p2align 4",
    "canary_call:",
    "push rbx",
    "push rbp",
    "push rdi",
    "push rsi",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "sub rsp, 216",
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
    "mov [rsp + 192], rdx",
    "mov rax, r8",
    "mov r10, r9",
    "mov r11, [rsp + 320]",
    "mov rbx, [rcx]",
    "mov rbp, [rcx + 8]",
    "mov rdi, [rcx + 16]",
    "mov rsi, [rcx + 24]",
    "mov r12, [rcx + 32]",
    "mov r13, [rcx + 40]",
    "mov r14, [rcx + 48]",
    "mov r15, [rcx + 56]",
    "movups xmm6, [rcx + 64]",
    "movups xmm7, [rcx + 80]",
    "movups xmm8, [rcx + 96]",
    "movups xmm9, [rcx + 112]",
    "movups xmm10, [rcx + 128]",
    "movups xmm11, [rcx + 144]",
    "movups xmm12, [rcx + 160]",
    "movups xmm13, [rcx + 176]",
    "movups xmm14, [rcx + 192]",
    "movups xmm15, [rcx + 208]",
    "mov rcx, r10",
    "mov rdx, r11",
    "call rax",
    "mov rax, [rsp + 192]",
    "mov [rax], rbx",
    "mov [rax + 8], rbp",
    "mov [rax + 16], rdi",
    "mov [rax + 24], rsi",
    "mov [rax + 32], r12",
    "mov [rax + 40], r13",
    "mov [rax + 48], r14",
    "mov [rax + 56], r15",
    "movups [rax + 64], xmm6",
    "movups [rax + 80], xmm7",
    "movups [rax + 96], xmm8",
    "movups [rax + 112], xmm9",
    "movups [rax + 128], xmm10",
    "movups [rax + 144], xmm11",
    "movups [rax + 160], xmm12",
    "movups [rax + 176], xmm13",
    "movups [rax + 192], xmm14",
    "movups [rax + 208], xmm15",
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
    "add rsp, 216",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rsi",
    "pop rdi",
    "pop rbp",
    "pop rbx",
    "ret",
);

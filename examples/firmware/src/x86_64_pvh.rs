//! Board support for a QEMU x86-64 PC booted through the PVH entry point:
//! `qemu-system-x86_64 -kernel <elf>` finds the Xen PVH note
//! (XEN_ELFNOTE_PHYS32_ENTRY) and enters `pvh_start32` in 32-bit protected
//! mode with paging off. The boot code identity-maps the first GiB with 2 MiB
//! pages, enters long mode and calls Rust. Output goes to QEMU's debug
//! console (port 0xE9, `-debugcon`); the status leaves through the
//! `isa-debug-exit` device (port 0xF4): QEMU exits with `(value << 1) | 1`.
//!
//! `x86_64-unknown-none` has no SSE, and the boot code leaves it so: CR4.OSFXSR
//! stays clear (any SSE instruction, `stmxcsr`/`ldmxcsr` included, raises #UD)
//! and CR0.EM is set (x87 instructions such as `fnstcw` raise #NM). With no IDT
//! either fault ends in a triple fault, which `-no-reboot` turns into a QEMU
//! exit without the pass status: a switch that touched FP state cannot pass.

use core::arch::global_asm;
use core::fmt::{self, Write};

global_asm!(
    // The PVH entry note (Xen public/elfnote.h, XEN_ELFNOTE_PHYS32_ENTRY = 18):
    // a 32-bit physical entry address.
    ".pushsection .note.Xen, \"a\", @note",
    ".p2align 2",
    ".long 4",
    ".long 4",
    ".long 18",
    ".asciz \"Xen\"",
    ".long pvh_start32",
    ".popsection",
    ".section .text.boot, \"ax\"",
    ".code32",
    ".globl pvh_start32",
    "pvh_start32:",
    "cli",
    "cld",
    // .bss (the page tables included): a PVH loader need not zero it.
    "mov edi, offset __bss_start",
    "mov ecx, offset __bss_end",
    "sub ecx, edi",
    "xor eax, eax",
    "rep stosb",
    // PML4[0] -> PDPT, PDPT[0] -> PD, PD[i] = i * 2 MiB, present + writable +
    // page size (0x83); every other entry is zero (not present).
    "mov eax, offset boot_pdpt",
    "or eax, 3",
    "mov dword ptr [boot_pml4], eax",
    "mov eax, offset boot_pd",
    "or eax, 3",
    "mov dword ptr [boot_pdpt], eax",
    "mov edi, offset boot_pd",
    "xor ecx, ecx",
    "1:",
    "mov eax, ecx",
    "shl eax, 21",
    "or eax, 0x83",
    "mov dword ptr [edi + ecx * 8], eax",
    "inc ecx",
    "cmp ecx, 512",
    "jb 1b",
    // CR4.PAE, CR3, EFER.LME, then CR0.PG (with PE, and EM: no x87).
    "mov eax, cr4",
    "or eax, 0x20",
    "mov cr4, eax",
    "mov eax, offset boot_pml4",
    "mov cr3, eax",
    "mov ecx, 0xc0000080",
    "rdmsr",
    "or eax, 0x100",
    "wrmsr",
    "mov eax, cr0",
    "or eax, 0x80000005",
    "and eax, 0xfffffffd",
    "mov cr0, eax",
    "lgdt [boot_gdt_ptr]",
    // ljmp 0x08:start64 (ptr16:32 far jump, spelled out as bytes).
    ".byte 0xea",
    ".long start64",
    ".word 0x08",
    ".code64",
    "start64:",
    "mov ax, 0x10",
    "mov ds, ax",
    "mov es, ax",
    "mov ss, ax",
    "xor eax, eax",
    "mov fs, ax",
    "mov gs, ax",
    "lea rsp, [rip + __stack_top]",
    // rbp = 0 ends frame-pointer walks; rsp is 16-byte aligned before the
    // call, as the System V psABI (§3.2.2) requires.
    "xor ebp, ebp",
    "call {main}",
    "2:",
    "hlt",
    "jmp 2b",
    ".p2align 3",
    // Null, 64-bit code (L = 1), data: flat.
    "boot_gdt:",
    ".quad 0",
    ".quad 0x00af9a000000ffff",
    ".quad 0x00cf92000000ffff",
    "boot_gdt_ptr:",
    ".word 23",
    ".long boot_gdt",
    ".section .bss.boot_tables, \"aw\", @nobits",
    ".p2align 12",
    "boot_pml4: .skip 4096",
    "boot_pdpt: .skip 4096",
    "boot_pd: .skip 4096",
    ".text",
    main = sym entry,
);

/// QEMU's debug console and isa-debug-exit I/O ports.
const DEBUGCON_PORT: u16 = 0xe9;
const DEBUG_EXIT_PORT: u16 = 0xf4;

/// Statuses written to isa-debug-exit; QEMU exits with `(value << 1) | 1`.
const EXIT_PASSED: u32 = 0x10; // 33
const EXIT_FAILED: u32 = 0x11; // 35
const EXIT_PANIC: u32 = 0x12; // 37

/// Writes to QEMU's debug console.
pub struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            // SAFETY: an I/O port write; QEMU's debugcon ignores it if absent.
            unsafe {
                core::arch::asm!("out dx, al", in("dx") DEBUGCON_PORT, in("al") b, options(nomem, nostack))
            };
        }
        Ok(())
    }
}

/// Leaves QEMU through isa-debug-exit; halts if the device is missing, so the
/// test step's timeout (not a false pass) ends the run.
pub fn exit(value: u32) -> ! {
    // SAFETY: an I/O port write to QEMU's isa-debug-exit device.
    unsafe {
        core::arch::asm!("out dx, eax", in("dx") DEBUG_EXIT_PORT, in("eax") value, options(nomem, nostack))
    };
    loop {
        // SAFETY: waits for an interrupt; interrupts are off, so forever.
        unsafe { core::arch::asm!("hlt", options(nomem, nostack)) };
    }
}

/// Reports a panic and exits with the panic status.
pub fn panic_exit(info: &core::panic::PanicInfo<'_>) -> ! {
    let _ = writeln!(Console, "FAIL panic: {info}");
    exit(EXIT_PANIC)
}

extern "C" fn entry() -> ! {
    let out = &mut Console;
    let _ = writeln!(
        out,
        "cem-ctx firmware on qemu x86-64 (PVH entry, long mode, no SSE/x87)"
    );
    if crate::run_all(out) {
        let _ = writeln!(out, "firmware: all checks passed");
        exit(EXIT_PASSED)
    }
    let _ = writeln!(out, "firmware: checks FAILED");
    exit(EXIT_FAILED)
}

// ------------------------------------------------------------------ canaries

/// Slots of [`Regs`]: the System V callee-saved general registers (psABI
/// §3.2.1, Figure 3.4) rbx, rbp, r12–r15; rsp is covered by returning at all.
/// Without SSE there is no MXCSR or x87 control word to check.
pub const N: usize = 6;

/// One value per register of [`NAMES`].
pub type Regs = [u64; N];

/// Names for failure messages, in [`Regs`] order.
pub const NAMES: &[&str] = &["rbx", "rbp", "r12", "r13", "r14", "r15"];

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

// Six pushes and the output pointer: rsp is 16-byte aligned at the inner call
// (entry rsp ≡ 8 mod 16).
global_asm!(
    ".text",
    ".globl canary_call",
    ".p2align 4",
    "canary_call:",
    "push rbx",
    "push rbp",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "push rsi",
    "mov rax, rdx",
    "mov r10, rcx",
    "mov r11, r8",
    "mov rbx, [rdi]",
    "mov rbp, [rdi + 8]",
    "mov r12, [rdi + 16]",
    "mov r13, [rdi + 24]",
    "mov r14, [rdi + 32]",
    "mov r15, [rdi + 40]",
    "mov rdi, r10",
    "mov rsi, r11",
    "call rax",
    "pop rax",
    "mov [rax], rbx",
    "mov [rax + 8], rbp",
    "mov [rax + 16], r12",
    "mov [rax + 24], r13",
    "mov [rax + 32], r14",
    "mov [rax + 40], r15",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbp",
    "pop rbx",
    "ret",
);

//! Microsoft x64 calling convention (Windows, and UEFI x64 without the TEB
//! part): saved-state layout, including the TEB fields that describe the
//! current stack, and initial frame. The switch itself is `asm/x86_64_win64.s`.

use static_assertions::{assert_eq_align, assert_eq_size, const_assert_eq};

use super::x86_64_common::current_fp_control;
pub(crate) use super::x86_64_common::prefetch;

/// `.set CEM_TEB, 1|0` for `asm/x86_64_win64.s`: 1 where `gs` points at a
/// Windows Thread Environment Block, 0 on UEFI. UEFI uses the same calling
/// convention (UEFI spec §2.3.4.2) but has no TEB, and `gs` may hold anything
/// the firmware left there, so the TEB slots of [`Context`] and of the coroutine
/// frame are kept (same layout on both) but never read from or written to `gs:`.
#[cfg(not(target_os = "uefi"))]
macro_rules! teb_flag {
    () => {
        ".set CEM_TEB, 1\n"
    };
}
#[cfg(target_os = "uefi")]
macro_rules! teb_flag {
    () => {
        ".set CEM_TEB, 0\n"
    };
}

x86_64_global_asm!("../../asm/x86_64_win64.s", teb_flag!());

/// Saved nonvolatile state of a suspended context on Windows x64.
///
/// 288 bytes, 8-byte aligned (the xmm slots are read and written with
/// unaligned moves, so no 16-byte alignment is required). Follows the
/// Microsoft x64 calling convention ("Register volatility and preservation"):
/// rbx, rbp, rdi, rsi, rsp, r12–r15 and xmm6–xmm15 are nonvolatile, as are
/// MXCSR bits 6–15 and the x87 control word. The Thread Environment Block
/// fields that describe the current stack are switched with it, because
/// `__chkstk`, the exception dispatcher and `RtlVirtualUnwind` read them.
///
/// | offset | size | field | contents |
/// |-------:|-----:|-------|----------|
/// | 0–56 | 8 each | `rbx rbp rdi rsi r12 r13 r14 r15` | nonvolatile GPRs |
/// | 64 | 8 | `rsp` | stack pointer; `[rsp]` is the resume address |
/// | 72 | 4 | `mxcsr` | MXCSR (saved and restored on every switch) |
/// | 76 | 4 | `fpu_cw` | x87 control word in the low 16 bits |
/// | 80 | 8 | `stack_base` | TEB `NtTib.StackBase` (`gs:[0x08]`): high end of the stack |
/// | 88 | 8 | `stack_limit` | TEB `NtTib.StackLimit` (`gs:[0x10]`): low end |
/// | 96 | 8 | `deallocation_stack` | TEB `DeallocationStack` (`gs:[0x1478]`) |
/// | 104 | 8 | `exception_list` | TEB `NtTib.ExceptionList` (`gs:[0x00]`), -1 on a fresh stack |
/// | 112 | 4 | `guaranteed_stack_bytes` | TEB `GuaranteedStackBytes` (`gs:[0x1748]`) |
/// | 116 | 12 | `_reserved` | zero |
/// | 128–272 | 16 each | `xmm6` … `xmm15` | all 128 bits, as two `u64` (low first) |
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// rbx, offset 0 (fresh context: `func`).
    pub rbx: u64,
    /// rbp, offset 8 (fresh context: 0).
    pub rbp: u64,
    /// rdi, offset 16 (fresh context: `cem_context_trap`).
    pub rdi: u64,
    /// rsi, offset 24 (fresh context: `return_func` or `cem_context_trap`).
    pub rsi: u64,
    /// r12, offset 32 (fresh context: `func`'s argument).
    pub r12: u64,
    /// r13, offset 40.
    pub r13: u64,
    /// r14, offset 48.
    pub r14: u64,
    /// r15, offset 56.
    pub r15: u64,
    /// Stack pointer, offset 64. Points at the address the context resumes at.
    pub rsp: u64,
    /// MXCSR, offset 72 (4 bytes).
    pub mxcsr: u32,
    /// x87 FPU control word in the low 16 bits, offset 76 (4 bytes).
    pub fpu_cw: u32,
    /// TEB StackBase (high address of the stack), offset 80.
    pub stack_base: u64,
    /// TEB StackLimit (low address of the stack), offset 88.
    pub stack_limit: u64,
    /// TEB DeallocationStack, offset 96.
    pub deallocation_stack: u64,
    /// TEB ExceptionList, offset 104.
    pub exception_list: u64,
    /// TEB GuaranteedStackBytes, offset 112 (4 bytes).
    pub guaranteed_stack_bytes: u32,
    /// Offset 116, 12 bytes: zero, so that `xmm6` starts at 128.
    pub _reserved: [u32; 3],
    /// xmm6, offset 128 (16 bytes, low half first).
    pub xmm6: [u64; 2],
    /// xmm7, offset 144.
    pub xmm7: [u64; 2],
    /// xmm8, offset 160.
    pub xmm8: [u64; 2],
    /// xmm9, offset 176.
    pub xmm9: [u64; 2],
    /// xmm10, offset 192.
    pub xmm10: [u64; 2],
    /// xmm11, offset 208.
    pub xmm11: [u64; 2],
    /// xmm12, offset 224.
    pub xmm12: [u64; 2],
    /// xmm13, offset 240.
    pub xmm13: [u64; 2],
    /// xmm14, offset 256.
    pub xmm14: [u64; 2],
    /// xmm15, offset 272.
    pub xmm15: [u64; 2],
}

assert_eq_size!(Context, [u8; 288]);
assert_eq_align!(Context, u64);
const_assert_eq!(core::mem::offset_of!(Context, rbx), 0);
const_assert_eq!(core::mem::offset_of!(Context, rbp), 8);
const_assert_eq!(core::mem::offset_of!(Context, rdi), 16);
const_assert_eq!(core::mem::offset_of!(Context, rsi), 24);
const_assert_eq!(core::mem::offset_of!(Context, r12), 32);
const_assert_eq!(core::mem::offset_of!(Context, r15), 56);
const_assert_eq!(core::mem::offset_of!(Context, rsp), 64);
const_assert_eq!(core::mem::offset_of!(Context, mxcsr), 72);
const_assert_eq!(core::mem::offset_of!(Context, fpu_cw), 76);
const_assert_eq!(core::mem::offset_of!(Context, stack_base), 80);
const_assert_eq!(core::mem::offset_of!(Context, stack_limit), 88);
const_assert_eq!(core::mem::offset_of!(Context, deallocation_stack), 96);
const_assert_eq!(core::mem::offset_of!(Context, exception_list), 104);
const_assert_eq!(core::mem::offset_of!(Context, guaranteed_stack_bytes), 112);
const_assert_eq!(core::mem::offset_of!(Context, xmm6), 128);
const_assert_eq!(core::mem::offset_of!(Context, xmm15), 272);

/// Alignment the Microsoft x64 convention requires of rsp before a `call`.
pub const STACK_ALIGN: usize = 16;

/// Smallest stack `cem_makecontext_checked` accepts on this ABI, in bytes.
///
/// The library's own initial frame takes 56 bytes below the aligned top (a
/// zero end-of-walk slot, 32 bytes of shadow space for the entry function,
/// the entry address); the rest is room for a trivial `func`. What `func`
/// does on top, including any `__chkstk` probing for large frames, must be
/// added by the caller.
pub const MIN_STACK_SIZE: usize = 256;

extern "C" {
    fn cem_ctx_x86_64_win64_start();
}

/// Builds the initial frame below `top` (16-byte aligned) and the TEB values
/// for the stack `[base, top)`: StackBase = `top`, StackLimit and
/// DeallocationStack = `base`, ExceptionList = -1 (end of chain),
/// GuaranteedStackBytes = 0.
///
/// # Safety
/// `top - 56 .. top` must be writable memory owned by the new context.
pub(crate) unsafe fn init(
    base: usize,
    top: usize,
    func: usize,
    arg: usize,
    ret_func: unsafe extern "C" fn(),
    trap: unsafe extern "C" fn() -> !,
) -> Context {
    let end_of_walk = (top - 16) as *mut u64;
    end_of_walk.write(0);
    let entry = (top - 56) as *mut u64;
    entry.write(cem_ctx_x86_64_win64_start as *const () as u64);
    let (mxcsr, fpu_cw) = current_fp_control();
    Context {
        rbx: func as u64,
        rbp: 0,
        rdi: trap as usize as u64,
        rsi: ret_func as usize as u64,
        r12: arg as u64,
        rsp: entry as u64,
        mxcsr,
        fpu_cw,
        stack_base: top as u64,
        stack_limit: base as u64,
        deallocation_stack: base as u64,
        exception_list: u64::MAX,
        guaranteed_stack_bytes: 0,
        ..Context::default()
    }
}

// ------------------------------------------------ Rust coroutine fast path

extern "C" {
    fn cem_ctx_x86_64_win64_resume();
    fn cem_ctx_x86_64_win64_suspend();
    fn cem_ctx_x86_64_win64_coroutine_start();
}

/// Writes the initial frame of a Rust coroutine below `frame_top` (16-byte
/// aligned; the data block starts there) and returns the coroutine's saved
/// sp. The first resume restores rbx = `data`, rbp = 0, the creator's FP
/// control state and TEB values for the stack `[base, top)`, and continues at
/// the start trampoline with rsp = `frame_top - 16`, where a zero qword ends
/// stack walks.
///
/// # Safety
/// `frame_top - 88 .. frame_top` must be writable memory of the coroutine stack.
pub(crate) unsafe fn init_coroutine(
    base: usize,
    top: usize,
    frame_top: usize,
    data: usize,
) -> usize {
    let end_of_walk = (frame_top - 16) as *mut u64;
    end_of_walk.write(0);
    end_of_walk.add(1).write(0);
    let sp = frame_top - 16 - 72;
    let (mxcsr, fcw) = current_fp_control();
    let frame = sp as *mut u64;
    frame.write(u64::from(mxcsr) | (u64::from(fcw) << 32));
    frame.add(1).write(data as u64);
    frame.add(2).write(0);
    frame.add(3).write(top as u64); // StackBase
    frame.add(4).write(base as u64); // StackLimit
    frame.add(5).write(base as u64); // DeallocationStack
    frame.add(6).write(u64::MAX); // ExceptionList: end of chain
    frame.add(7).write(0); // GuaranteedStackBytes
    frame
        .add(8)
        .write(cem_ctx_x86_64_win64_coroutine_start as *const () as u64);
    sp
}

/// Inline asm for both directions: value in rdi, link block in rdx, and every
/// nonvolatile register except rbx/rbp (which the callee saves) declared
/// clobbered.
macro_rules! coroutine_switch_asm {
    ($($template:literal),+; $target:path, $value:ident, $link:ident) => {{
        let out: usize;
        #[cfg(target_feature = "sse")]
        core::arch::asm!(
            $($template),+,
            target = sym $target,
            inout("rdi") $value => out,
            in("rdx") $link,
            out("rsi") _, out("r12") _, out("r13") _, out("r14") _, out("r15") _,
            out("xmm6") _, out("xmm7") _, out("xmm8") _, out("xmm9") _, out("xmm10") _,
            out("xmm11") _, out("xmm12") _, out("xmm13") _, out("xmm14") _, out("xmm15") _,
            clobber_abi("C"),
        );
        // Without SSE (x86_64-unknown-uefi) the compiler never allocates xmm
        // registers, so xmm clobbers would make it save nothing; yet xmm6-xmm15
        // stay nonvolatile for the code around us (UEFI spec §2.3.4.2). Each
        // side keeps them in 160 bytes on its own stack across the switch
        // (rsp is 16-byte aligned here: no `nostack`). Suspend resumes at the
        // label after its `jmp` with rsp where it was, so the restore matches.
        #[cfg(not(target_feature = "sse"))]
        core::arch::asm!(
            "sub rsp, 160",
            "movups [rsp], xmm6", "movups [rsp + 16], xmm7", "movups [rsp + 32], xmm8",
            "movups [rsp + 48], xmm9", "movups [rsp + 64], xmm10", "movups [rsp + 80], xmm11",
            "movups [rsp + 96], xmm12", "movups [rsp + 112], xmm13", "movups [rsp + 128], xmm14",
            "movups [rsp + 144], xmm15",
            $($template),+,
            "movups xmm6, [rsp]", "movups xmm7, [rsp + 16]", "movups xmm8, [rsp + 32]",
            "movups xmm9, [rsp + 48]", "movups xmm10, [rsp + 64]", "movups xmm11, [rsp + 80]",
            "movups xmm12, [rsp + 96]", "movups xmm13, [rsp + 112]", "movups xmm14, [rsp + 128]",
            "movups xmm15, [rsp + 144]",
            "add rsp, 160",
            target = sym $target,
            inout("rdi") $value => out,
            in("rdx") $link,
            out("rsi") _, out("r12") _, out("r13") _, out("r14") _, out("r15") _,
            clobber_abi("C"),
        );
        out
    }};
}

/// Resumes the coroutine whose link block is at `link`, handing it `value`;
/// returns the value it suspends with. A `call`, balanced by the `ret` in
/// suspend; the TEB stack fields are switched both ways.
///
/// # Safety
/// `link` belongs to a suspended (or fresh) coroutine whose stack is alive.
#[inline(always)]
pub(crate) unsafe fn coroutine_resume(link: *mut super::CoroutineLink, value: usize) -> usize {
    // SAFETY: see coroutine_switch_asm.
    unsafe { coroutine_switch_asm!("call {target}"; cem_ctx_x86_64_win64_resume, value, link) }
}

/// Suspends the running coroutine (link block at `link`), handing `value` to
/// its resumer; returns the value of the next resume.
///
/// # Safety
/// Must run on the coroutine whose link block is `link`.
#[inline(always)]
pub(crate) unsafe fn coroutine_suspend(link: *mut super::CoroutineLink, value: usize) -> usize {
    // SAFETY: see coroutine_switch_asm.
    unsafe {
        coroutine_switch_asm!(
            "lea rax, [rip + 2f]", "jmp {target}", "2:";
            cem_ctx_x86_64_win64_suspend, value, link
        )
    }
}

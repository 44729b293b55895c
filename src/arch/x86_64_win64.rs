//! Microsoft x64 calling convention (Windows, and UEFI x64 without the TEB
//! part): saved-state layout, including the TEB fields that describe the
//! current stack, and initial frame. The switch itself is `asm/x86_64_win64.s`;
//! the Rust `Coroutine` fast path is inline asm at its call sites
//! (`asm/x86_64_win64_resume.s`, `asm/x86_64_win64_suspend.s`).

use core::mem::{offset_of, size_of};

use static_assertions::{assert_eq_align, assert_eq_size, const_assert_eq};

use super::x86_64_common::current_fp_control;
pub(crate) use super::x86_64_common::prefetch;
use super::CoroutineLink;

abi_global_asm!(
    sources: [
        include_str!("../../asm/x86_64_common.s"),
        include_str!("../../asm/x86_64_win64.s"),
        x86_64_common_epilogue!(),
    ],
    names: [
        MXCSR_CONTROL = super::x86_64_common::MXCSR_CONTROL,
        CEM_TEB = HAS_TEB as usize,
        CTX_RBX = offset_of!(Context, rbx),
        CTX_RBP = offset_of!(Context, rbp),
        CTX_RDI = offset_of!(Context, rdi),
        CTX_RSI = offset_of!(Context, rsi),
        CTX_R12 = offset_of!(Context, r12),
        CTX_R13 = offset_of!(Context, r13),
        CTX_R14 = offset_of!(Context, r14),
        CTX_R15 = offset_of!(Context, r15),
        CTX_RSP = offset_of!(Context, rsp),
        CTX_MXCSR = offset_of!(Context, mxcsr),
        CTX_FCW = offset_of!(Context, fpu_cw),
        CTX_TEB = offset_of!(Context, stack_base),
        CTX_XMM6 = offset_of!(Context, xmm6),
        CTX_XMM7 = offset_of!(Context, xmm7),
        CTX_XMM8 = offset_of!(Context, xmm8),
        CTX_XMM9 = offset_of!(Context, xmm9),
        CTX_XMM10 = offset_of!(Context, xmm10),
        CTX_XMM11 = offset_of!(Context, xmm11),
        CTX_XMM12 = offset_of!(Context, xmm12),
        CTX_XMM13 = offset_of!(Context, xmm13),
        CTX_XMM14 = offset_of!(Context, xmm14),
        CTX_XMM15 = offset_of!(Context, xmm15),
        TEB_SLOT_STACK_BASE = offset_of!(TebStack, stack_base),
        TEB_SLOT_STACK_LIMIT = offset_of!(TebStack, stack_limit),
        TEB_SLOT_DEALLOCATION = offset_of!(TebStack, deallocation_stack),
        TEB_SLOT_EXCEPTION_LIST = offset_of!(TebStack, exception_list),
        TEB_SLOT_GUARANTEED = offset_of!(TebStack, guaranteed_stack_bytes),
        TEB_EXCEPTION_LIST = teb::EXCEPTION_LIST,
        TEB_STACK_BASE = teb::STACK_BASE,
        TEB_STACK_LIMIT = teb::STACK_LIMIT,
        TEB_SELF = teb::SELF,
        TEB_DEALLOCATION_STACK = teb::DEALLOCATION_STACK,
        TEB_GUARANTEED_STACK_BYTES = teb::GUARANTEED_STACK_BYTES,
        FRAME_MXCSR = offset_of!(CoroutineFrame, mxcsr),
        FRAME_FCW = offset_of!(CoroutineFrame, fcw),
        FRAME_RBX = offset_of!(CoroutineFrame, rbx),
        FRAME_RBP = offset_of!(CoroutineFrame, rbp),
        FRAME_TEB = offset_of!(CoroutineFrame, teb),
        FRAME_SIZE = size_of::<CoroutineFrame>(),
        PARENT_MXCSR = offset_of!(ParentFrame, mxcsr),
        PARENT_FCW = offset_of!(ParentFrame, fcw),
        PARENT_TEB = offset_of!(ParentFrame, teb),
    ],
    options(att_syntax)
);

/// Whether `gs` points at a Windows Thread Environment Block whose stack
/// fields the switch keeps (`CEM_TEB` in the assembly). UEFI uses the same
/// calling convention (UEFI spec §2.3.4.2) but has no TEB, and `gs` may hold
/// anything the firmware left there, so the TEB slots of [`Context`] and of
/// the coroutine frame are kept (same layout on both) but `gs:` is never
/// touched.
const HAS_TEB: bool = cfg!(not(target_os = "uefi"));

/// Offsets of the fields in the Thread Environment Block (x64) that describe
/// the current stack, in bytes from the TEB's start (`gs:[0]` addresses it).
/// `NT_TIB` is the TEB's first member (winnt.h); `DeallocationStack` and
/// `GuaranteedStackBytes` are documented by their use in `SetThreadStackGuarantee`
/// and the stack-overflow handling of ntdll (stable since Windows XP x64).
mod teb {
    /// `NT_TIB.ExceptionList`: head of the SEH chain (x86 heritage; Wine's
    /// dispatcher still walks it).
    pub(super) const EXCEPTION_LIST: usize = 0x00;
    /// `NT_TIB.StackBase`: high end of the current stack.
    pub(super) const STACK_BASE: usize = 0x08;
    /// `NT_TIB.StackLimit`: low end of the committed stack.
    pub(super) const STACK_LIMIT: usize = 0x10;
    /// `NT_TIB.Self`: the TEB's own linear address.
    pub(super) const SELF: usize = 0x30;
    /// `TEB.DeallocationStack`: low end of the reserved stack.
    pub(super) const DEALLOCATION_STACK: usize = 0x1478;
    /// `TEB.GuaranteedStackBytes` (4 bytes): `SetThreadStackGuarantee`'s value.
    pub(super) const GUARANTEED_STACK_BYTES: usize = 0x1748;
}

/// The TEB stack fields as the switch copies them, in both the `Context`
/// (from `stack_base` on) and the `CoroutineFrame`. 40 bytes, 8-byte aligned
/// (36 used).
#[repr(C)]
#[derive(Clone, Copy)]
struct TebStack {
    stack_base: u64,
    stack_limit: u64,
    deallocation_stack: u64,
    exception_list: u64,
    guaranteed_stack_bytes: u32,
}

assert_eq_size!(TebStack, [u8; 40]);
const_assert_eq!(offset_of!(TebStack, stack_base), 0);
const_assert_eq!(offset_of!(TebStack, stack_limit), 8);
const_assert_eq!(offset_of!(TebStack, deallocation_stack), 16);
const_assert_eq!(offset_of!(TebStack, exception_list), 24);
const_assert_eq!(offset_of!(TebStack, guaranteed_stack_bytes), 32);

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
/// | 72 | 4 | `mxcsr` | MXCSR: control bits 6–15 kept per context, status flags follow the thread |
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
    /// MXCSR, offset 72 (4 bytes): control bits kept per context, status
    /// flags never loaded (they follow the thread), as on System V.
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
// Cem-ctx's Windows layout, which C code compiled against the header relies on.
const_assert_eq!(offset_of!(Context, rbx), 0);
const_assert_eq!(offset_of!(Context, rbp), 8);
const_assert_eq!(offset_of!(Context, rdi), 16);
const_assert_eq!(offset_of!(Context, rsi), 24);
const_assert_eq!(offset_of!(Context, r12), 32);
const_assert_eq!(offset_of!(Context, r13), 40);
const_assert_eq!(offset_of!(Context, r14), 48);
const_assert_eq!(offset_of!(Context, r15), 56);
const_assert_eq!(offset_of!(Context, rsp), 64);
const_assert_eq!(offset_of!(Context, mxcsr), 72);
const_assert_eq!(offset_of!(Context, fpu_cw), 76);
const_assert_eq!(offset_of!(Context, stack_base), 80);
const_assert_eq!(offset_of!(Context, stack_limit), 88);
const_assert_eq!(offset_of!(Context, deallocation_stack), 96);
const_assert_eq!(offset_of!(Context, exception_list), 104);
const_assert_eq!(offset_of!(Context, guaranteed_stack_bytes), 112);
const_assert_eq!(offset_of!(Context, _reserved), 116);
const_assert_eq!(offset_of!(Context, xmm6), 128);
const_assert_eq!(offset_of!(Context, xmm7), 144);
const_assert_eq!(offset_of!(Context, xmm8), 160);
const_assert_eq!(offset_of!(Context, xmm9), 176);
const_assert_eq!(offset_of!(Context, xmm10), 192);
const_assert_eq!(offset_of!(Context, xmm11), 208);
const_assert_eq!(offset_of!(Context, xmm12), 224);
const_assert_eq!(offset_of!(Context, xmm13), 240);
const_assert_eq!(offset_of!(Context, xmm14), 256);
const_assert_eq!(offset_of!(Context, xmm15), 272);
// The switch copies the TEB fields with TebStack's slot offsets from CTX_TEB.
const_assert_eq!(
    offset_of!(Context, stack_limit) - offset_of!(Context, stack_base),
    offset_of!(TebStack, stack_limit)
);
const_assert_eq!(
    offset_of!(Context, deallocation_stack) - offset_of!(Context, stack_base),
    offset_of!(TebStack, deallocation_stack)
);
const_assert_eq!(
    offset_of!(Context, exception_list) - offset_of!(Context, stack_base),
    offset_of!(TebStack, exception_list)
);
const_assert_eq!(
    offset_of!(Context, guaranteed_stack_bytes) - offset_of!(Context, stack_base),
    offset_of!(TebStack, guaranteed_stack_bytes)
);

/// The saved stack pointer of a suspended context (`CEM_CONTEXT_GET_SP`).
#[inline(always)]
pub(crate) fn saved_sp(ctx: &Context) -> usize {
    ctx.rsp as usize
}

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

/// What `init` writes below the 16-byte aligned top `T` of a fresh stack:
/// 56 bytes, from `T - 56` up.
///
/// | offset | size | field | contents |
/// |-------:|-----:|-------|----------|
/// | 0 | 8 | `entry` | the entry trampoline, popped by the first switch |
/// | 8 | 32 | `home` | shadow (home) space of the trampoline's callees |
/// | 40 | 16 | `end_of_walk` | a zero return address that ends every stack walk, and padding |
#[repr(C)]
struct InitialFrame {
    entry: u64,
    home: [u64; 4],
    end_of_walk: [u64; 2],
}

assert_eq_size!(InitialFrame, [u8; 56]);
const_assert_eq!(offset_of!(InitialFrame, home), 8);
const_assert_eq!(offset_of!(InitialFrame, end_of_walk), 40);

/// TEB values for a stack `[base, top)` that nothing ran on yet:
/// StackBase = `top`, StackLimit and DeallocationStack = `base`,
/// ExceptionList = -1 (end of chain), GuaranteedStackBytes = 0.
fn fresh_teb_stack(base: usize, top: usize) -> TebStack {
    TebStack {
        stack_base: top as u64,
        stack_limit: base as u64,
        deallocation_stack: base as u64,
        exception_list: u64::MAX,
        guaranteed_stack_bytes: 0,
    }
}

/// Builds the initial frame below `top` (16-byte aligned) and the TEB values
/// for the stack `[base, top)` (see `fresh_teb_stack`).
///
/// # Safety
/// `top - size_of::<InitialFrame>() .. top` (56 bytes) must be writable memory
/// owned by the new context.
pub(crate) unsafe fn init(
    base: usize,
    top: usize,
    func: usize,
    arg: usize,
    ret_func: unsafe extern "C" fn(),
    trap: unsafe extern "C" fn() -> !,
) -> Context {
    let frame = (top - size_of::<InitialFrame>()) as *mut InitialFrame;
    frame.write(InitialFrame {
        entry: cem_ctx_x86_64_win64_start as *const () as u64,
        home: [0; 4],
        end_of_walk: [0; 2],
    });
    let (mxcsr, fpu_cw) = current_fp_control();
    let teb = fresh_teb_stack(base, top);
    Context {
        rbx: func as u64,
        rbp: 0,
        rdi: trap as usize as u64,
        rsi: ret_func as usize as u64,
        r12: arg as u64,
        rsp: frame as u64,
        mxcsr,
        fpu_cw,
        stack_base: teb.stack_base,
        stack_limit: teb.stack_limit,
        deallocation_stack: teb.deallocation_stack,
        exception_list: teb.exception_list,
        guaranteed_stack_bytes: teb.guaranteed_stack_bytes,
        ..Context::default()
    }
}

// ------------------------------------------------ Rust coroutine fast path

/// The frame a suspended Rust coroutine leaves at its saved sp
/// (`LINK_COROUTINE_SP`; names `FRAME_*` in the assembly). 72 bytes, 8-byte
/// aligned. Built by the suspend site (`asm/x86_64_win64_suspend.s`), or by
/// `init_coroutine` for a fresh coroutine.
///
/// | offset | size | field | contents |
/// |-------:|-----:|-------|----------|
/// | 0 | 8 | `resume` | where it continues: the suspend site's landing (fresh: the start trampoline) |
/// | 8 | 4 | `mxcsr` | MXCSR (written only with FP control) |
/// | 12 | 4 | `fcw` | x87 control word in the low 16 bits |
/// | 16 | 40 | `teb` | the TEB stack fields (`TebStack`; written only where there is a TEB) |
/// | 56 | 8 | `rbx` | rbx (fresh coroutine: its data block) |
/// | 64 | 8 | `rbp` | rbp (fresh coroutine: 0, unread: the trampoline zeroes rbp) |
#[repr(C)]
pub(crate) struct CoroutineFrame {
    resume: u64,
    mxcsr: u32,
    fcw: u32,
    teb: TebStack,
    rbx: u64,
    rbp: u64,
}

assert_eq_size!(CoroutineFrame, [u8; 72]);
const_assert_eq!(offset_of!(CoroutineFrame, resume), 0);
const_assert_eq!(offset_of!(CoroutineFrame, mxcsr), 8);
const_assert_eq!(offset_of!(CoroutineFrame, fcw), 12);
const_assert_eq!(offset_of!(CoroutineFrame, teb), 16);
const_assert_eq!(offset_of!(CoroutineFrame, rbx), 56);
const_assert_eq!(offset_of!(CoroutineFrame, rbp), 64);
// The suspend site pushes rbp, rbx, reserves the FP and TEB slots in one
// subtraction and pushes the resume address: the frame is that push order.
const_assert_eq!(
    offset_of!(CoroutineFrame, rbp),
    offset_of!(CoroutineFrame, rbx) + 8
);
const_assert_eq!(
    size_of::<CoroutineFrame>(),
    offset_of!(CoroutineFrame, rbp) + 8
);

/// The frame the resumer of a running coroutine leaves at its saved sp
/// (`LINK_PARENT_SP`; names `PARENT_*`). 72 bytes, 8-byte aligned. The resume
/// site (`asm/x86_64_win64_resume.s`) pushes `rbx`, reserves the FP and TEB
/// slots, stores FP control and calls (`resume`); the landing pushes `rbp`
/// and stores the TEB fields.
///
/// | offset | size | field | contents |
/// |-------:|-----:|-------|----------|
/// | 0 | 8 | `rbp` | the resumer's rbp |
/// | 8 | 8 | `resume` | return address of the resume site's call |
/// | 16 | 4 | `mxcsr` | MXCSR (written only with FP control) |
/// | 20 | 4 | `fcw` | x87 control word in the low 16 bits |
/// | 24 | 40 | `teb` | the resumer's TEB stack fields (`TebStack`; only where there is a TEB) |
/// | 64 | 8 | `rbx` | the resumer's rbx |
#[repr(C)]
pub(crate) struct ParentFrame {
    rbp: u64,
    resume: u64,
    mxcsr: u32,
    fcw: u32,
    teb: TebStack,
    rbx: u64,
}

assert_eq_size!(ParentFrame, [u8; 72]);
const_assert_eq!(offset_of!(ParentFrame, rbp), 0);
const_assert_eq!(offset_of!(ParentFrame, resume), 8);
const_assert_eq!(offset_of!(ParentFrame, mxcsr), 16);
const_assert_eq!(offset_of!(ParentFrame, fcw), 20);
const_assert_eq!(offset_of!(ParentFrame, teb), 24);
const_assert_eq!(offset_of!(ParentFrame, rbx), 64);
const_assert_eq!(size_of::<ParentFrame>(), offset_of!(ParentFrame, rbx) + 8);

/// A fresh coroutine's stack below `frame_top`: its `CoroutineFrame`, then a
/// zero return address (and padding) at `frame_top - 16`, which the start
/// trampoline's unwind info makes the end of every stack walk. 88 bytes.
#[repr(C)]
struct InitialCoroutineFrame {
    frame: CoroutineFrame,
    end_of_walk: [u64; 2],
}

assert_eq_size!(InitialCoroutineFrame, [u8; 88]);
const_assert_eq!(offset_of!(InitialCoroutineFrame, end_of_walk), 72);
// The trampoline sets rsp = frame + FRAME_SIZE - 32 (the entry function's
// home space, end_of_walk above it), which must be 16-byte aligned: with
// frame = frame_top - 88 it is frame_top - 48.
const_assert_eq!(
    (size_of::<InitialCoroutineFrame>() - size_of::<CoroutineFrame>() + 32) % 16,
    0
);

extern "C" {
    fn cem_ctx_x86_64_win64_coroutine_start();
}

/// Writes the initial frame of a Rust coroutine below `frame_top` (16-byte
/// aligned; the data block starts there) and returns the coroutine's saved
/// sp. The first resume enters the start trampoline, which takes the
/// creator's FP control state, TEB values for the stack `[base, top)` and
/// rbx = `data` from this frame, sets rbp = 0, and runs the entry function
/// with rsp = `frame_top - 56` (`frame_top - 48` before the pushed return address),
/// where the zero qword at `frame_top - 16` ends stack walks.
///
/// # Safety
/// `frame_top - size_of::<InitialCoroutineFrame>() .. frame_top` (88 bytes)
/// must be writable memory of the coroutine stack.
pub(crate) unsafe fn init_coroutine(
    base: usize,
    top: usize,
    frame_top: usize,
    data: usize,
) -> usize {
    let start = (frame_top - size_of::<InitialCoroutineFrame>()) as *mut InitialCoroutineFrame;
    let (mxcsr, fcw) = current_fp_control();
    start.write(InitialCoroutineFrame {
        frame: CoroutineFrame {
            resume: cem_ctx_x86_64_win64_coroutine_start as *const () as u64,
            mxcsr,
            fcw,
            teb: fresh_teb_stack(base, top),
            rbx: data as u64,
            rbp: 0,
        },
        end_of_walk: [0; 2],
    });
    start as usize
}

/// 1 when the switch saves FP control state (`cfg(cem_fp_state)`), for the
/// templates' `.if`.
const FP_STATE: u8 = cfg!(cem_fp_state) as u8;

/// One fast-path site: the template `$file` from `asm/` with the offset
/// names it uses as const operands, value in rdi, link block in rdx, and
/// every nonvolatile register but rbx and rbp declared clobbered (rdi, rsi,
/// r12-r15, xmm6-xmm15: the Microsoft x64 convention's "Register volatility
/// and preservation"), together with the volatile ones (`clobber_abi("C")`).
/// rbx and rbp cannot be named in inline asm (LLVM reserves them): the
/// templates save them on the stack.
macro_rules! coroutine_site_asm {
    ($file:literal, $value:ident, $link:ident; $($name:ident = $v:expr),* $(,)?) => {{
        let out: usize;
        #[cfg(target_feature = "sse")]
        core::arch::asm!(
            x86_64_site_template!($file),
            FP_STATE = const FP_STATE,
            MXCSR_CONTROL = const super::x86_64_common::MXCSR_CONTROL,
            LINK_FP_CONTROL = const offset_of!(CoroutineLink, fp_control),
            LINK_COROUTINE_SP = const offset_of!(CoroutineLink, coroutine_sp),
            PARENT_MXCSR = const offset_of!(ParentFrame, mxcsr),
            PARENT_FCW = const offset_of!(ParentFrame, fcw),
            $($name = const $v,)*
            inout("rdi") $value => out,
            in("rdx") $link,
            out("rsi") _, out("r12") _, out("r13") _, out("r14") _, out("r15") _,
            out("xmm6") _, out("xmm7") _, out("xmm8") _, out("xmm9") _, out("xmm10") _,
            out("xmm11") _, out("xmm12") _, out("xmm13") _, out("xmm14") _, out("xmm15") _,
            clobber_abi("C"),
            options(att_syntax)
        );
        // Without SSE (x86_64-unknown-uefi) the compiler never allocates xmm
        // registers, so xmm clobbers would make it save nothing; yet xmm6-xmm15
        // stay nonvolatile for the code around us (UEFI spec §2.3.4.2). Each
        // side keeps them in 160 bytes on its own stack across the switch
        // (rsp is 16-byte aligned here: no `nostack`). Both templates come
        // back with rsp where it was (the resume site after its call, the
        // suspend site at its landing), so the restore matches.
        #[cfg(not(target_feature = "sse"))]
        core::arch::asm!(
            "subq $160, %rsp",
            "movups %xmm6, (%rsp)", "movups %xmm7, 16(%rsp)", "movups %xmm8, 32(%rsp)",
            "movups %xmm9, 48(%rsp)", "movups %xmm10, 64(%rsp)", "movups %xmm11, 80(%rsp)",
            "movups %xmm12, 96(%rsp)", "movups %xmm13, 112(%rsp)", "movups %xmm14, 128(%rsp)",
            "movups %xmm15, 144(%rsp)",
            x86_64_site_template!($file),
            "movups (%rsp), %xmm6", "movups 16(%rsp), %xmm7", "movups 32(%rsp), %xmm8",
            "movups 48(%rsp), %xmm9", "movups 64(%rsp), %xmm10", "movups 80(%rsp), %xmm11",
            "movups 96(%rsp), %xmm12", "movups 112(%rsp), %xmm13", "movups 128(%rsp), %xmm14",
            "movups 144(%rsp), %xmm15",
            "addq $160, %rsp",
            FP_STATE = const FP_STATE,
            MXCSR_CONTROL = const super::x86_64_common::MXCSR_CONTROL,
            LINK_FP_CONTROL = const offset_of!(CoroutineLink, fp_control),
            LINK_COROUTINE_SP = const offset_of!(CoroutineLink, coroutine_sp),
            PARENT_MXCSR = const offset_of!(ParentFrame, mxcsr),
            PARENT_FCW = const offset_of!(ParentFrame, fcw),
            $($name = const $v,)*
            inout("rdi") $value => out,
            in("rdx") $link,
            out("rsi") _, out("r12") _, out("r13") _, out("r14") _, out("r15") _,
            clobber_abi("C"),
            options(att_syntax)
        );
        out
    }};
}

/// Resumes the coroutine whose link block is at `link`, handing it `value`;
/// returns the value it suspends with. Inline: a `call` into the coroutine's
/// saved resume address, balanced by the `ret` of its suspend site; the
/// landing there switches the TEB stack fields and FP control state.
///
/// # Safety
/// `link` belongs to a suspended (or fresh) coroutine whose stack is alive.
#[inline(always)]
pub(crate) unsafe fn coroutine_resume(link: *mut CoroutineLink, value: usize) -> usize {
    // SAFETY: the template saves rbx and rbp itself and the landing restores
    // the FP control state and TEB fields; everything else it may change is
    // clobbered.
    unsafe {
        coroutine_site_asm!(
            "../../asm/x86_64_win64_resume.s", value, link;
            PARENT_RBX = offset_of!(ParentFrame, rbx),
            FRAME_RESUME = offset_of!(CoroutineFrame, resume),
        )
    }
}

/// Suspends the running coroutine (link block at `link`), handing `value` to
/// its resumer; returns the value of the next resume. Inline, including the
/// landing the next resume enters.
///
/// # Safety
/// Must run on the coroutine whose link block is `link`.
#[inline(always)]
pub(crate) unsafe fn coroutine_suspend(link: *mut CoroutineLink, value: usize) -> usize {
    // SAFETY: as in coroutine_resume.
    unsafe {
        coroutine_site_asm!(
            "../../asm/x86_64_win64_suspend.s", value, link;
            CEM_TEB = HAS_TEB as u8,
            LINK_PARENT_SP = offset_of!(CoroutineLink, parent_sp),
            FRAME_MXCSR = offset_of!(CoroutineFrame, mxcsr),
            FRAME_FCW = offset_of!(CoroutineFrame, fcw),
            FRAME_TEB = offset_of!(CoroutineFrame, teb),
            FRAME_RBX = offset_of!(CoroutineFrame, rbx),
            FRAME_RBP = offset_of!(CoroutineFrame, rbp),
            FRAME_SIZE = size_of::<CoroutineFrame>(),
            PARENT_TEB = offset_of!(ParentFrame, teb),
            TEB_SELF = teb::SELF,
            TEB_STACK_BASE = teb::STACK_BASE,
            TEB_STACK_LIMIT = teb::STACK_LIMIT,
            TEB_DEALLOCATION_STACK = teb::DEALLOCATION_STACK,
            TEB_EXCEPTION_LIST = teb::EXCEPTION_LIST,
            TEB_GUARANTEED_STACK_BYTES = teb::GUARANTEED_STACK_BYTES,
            TEB_SLOT_STACK_BASE = offset_of!(TebStack, stack_base),
            TEB_SLOT_STACK_LIMIT = offset_of!(TebStack, stack_limit),
            TEB_SLOT_DEALLOCATION = offset_of!(TebStack, deallocation_stack),
            TEB_SLOT_EXCEPTION_LIST = offset_of!(TebStack, exception_list),
            TEB_SLOT_GUARANTEED = offset_of!(TebStack, guaranteed_stack_bytes),
        )
    }
}

/// The "return address" of the coroutine root's frame record (the link
/// block's `root_pc`). Unused here: SEH unwinding ends at the coroutine root
/// (see the start trampoline in `asm/x86_64_win64.s`), and Windows has no
/// frame-pointer walk through the link block.
pub(crate) fn coroutine_root_pc() -> usize {
    0
}

//! x86-64 System V psABI (Linux, macOS, bare metal): saved-state layout and
//! initial frame. The switch itself is `asm/x86_64_sysv.s`.

use core::mem::{offset_of, size_of};

use static_assertions::{assert_eq_align, assert_eq_size, const_assert, const_assert_eq};

use super::x86_64_common::current_fp_control;
pub(crate) use super::x86_64_common::prefetch;
use super::CoroutineLink;

abi_global_asm!(
    sources: [
        include_str!("../../asm/x86_64_common.s"),
        include_str!("../../asm/x86_64_sysv.s"),
        include_str!("../../asm/x86_64_sysv_asan.s"),
        x86_64_common_epilogue!(),
    ],
    names: [
        MXCSR_CONTROL = super::x86_64_common::MXCSR_CONTROL,
        CTX_RBX = offset_of!(Context, rbx),
        CTX_RBP = offset_of!(Context, rbp),
        CTX_R12 = offset_of!(Context, r12),
        CTX_R13 = offset_of!(Context, r13),
        CTX_R14 = offset_of!(Context, r14),
        CTX_R15 = offset_of!(Context, r15),
        CTX_RSP = offset_of!(Context, rsp),
        CTX_MXCSR = offset_of!(Context, mxcsr),
        CTX_FCW = offset_of!(Context, _padding),
        FRAME_MXCSR = offset_of!(CoroutineFrame, mxcsr),
        FRAME_FCW = offset_of!(CoroutineFrame, fcw),
        FRAME_RBX = offset_of!(CoroutineFrame, rbx),
        FRAME_SIZE = size_of::<CoroutineFrame>(),
        PARENT_RBP = offset_of!(ParentFrame, rbp),
        PARENT_RESUME = offset_of!(ParentFrame, resume),
        PARENT_MXCSR = offset_of!(ParentFrame, mxcsr),
        PARENT_FCW = offset_of!(ParentFrame, fcw),
        PARENT_RBX = offset_of!(ParentFrame, rbx),
        PARENT_SIZE = size_of::<ParentFrame>(),
        CEM_ASAN = crate::sanitizer::HOOKS as u8,
        SAN_START = offset_of!(crate::sanitizer::SanitizerFns, start_switch_fiber),
        SAN_FINISH = offset_of!(crate::sanitizer::SanitizerFns, finish_switch_fiber),
        ASAN_RESUME = offset_of!(AsanFrame, resume),
        ASAN_BOTTOM = offset_of!(AsanFrame, bottom),
        ASAN_SIZE = offset_of!(AsanFrame, size),
        ASAN_FAKE = offset_of!(AsanFrame, fake_stack),
        ASAN_FRAME_SIZE = size_of::<AsanFrame>(),
    ],
    options(att_syntax)
);

/// Saved callee-saved state of a suspended context: the Cem runtime's
/// x86-64 `cem_context_t`, field for field.
///
/// 64 bytes, 8-byte aligned. Follows the System V AMD64 psABI §3.2.1
/// (Figure 3.4, "Register Usage"): rbx, rbp and r12–r15 are callee-saved, as
/// are the MXCSR control bits and the x87 control word.
///
/// | offset | size | field      | contents                                             |
/// |-------:|-----:|------------|------------------------------------------------------|
/// |      0 |    8 | `rbx`      | rbx (for a fresh context: `func`)                    |
/// |      8 |    8 | `rbp`      | rbp (for a fresh context: 0, ends frame-pointer walks)|
/// |     16 |    8 | `r12`      | r12 (fresh: `return_func`, or `cem_context_trap`)    |
/// |     24 |    8 | `r13`      | r13 (fresh: `cem_context_trap`)                      |
/// |     32 |    8 | `r14`      | r14 (fresh: `func`'s argument, 0 without one)        |
/// |     40 |    8 | `r15`      | r15                                                  |
/// |     48 |    8 | `rsp`      | stack pointer; `[rsp]` is the resume address         |
/// |     56 |    4 | `mxcsr`    | MXCSR                                                |
/// |     60 |    4 | `_padding` | x87 control word in the low 16 bits (Cem's name kept)|
///
/// On targets without SSE (`x86_64-unknown-none`) `mxcsr` and `_padding` are
/// left untouched by the switch, because `stmxcsr`/`fnstcw` fault until the
/// kernel enables the FPU.
///
/// The contents are only meaningful to `cem_swapcontext`; read `rsp` (or use
/// `CEM_CONTEXT_GET_SP` from C) to learn where a suspended context's stack is.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// rbx, offset 0.
    pub rbx: u64,
    /// rbp (frame pointer), offset 8.
    pub rbp: u64,
    /// r12, offset 16.
    pub r12: u64,
    /// r13, offset 24.
    pub r13: u64,
    /// r14, offset 32.
    pub r14: u64,
    /// r15, offset 40.
    pub r15: u64,
    /// Stack pointer, offset 48. Points at the address the context resumes at.
    pub rsp: u64,
    /// MXCSR, offset 56 (4 bytes), as saved by the last switch away. Its
    /// control bits (6–15, callee-saved in psABI §3.2.1) are made current
    /// again when the context resumes (loaded only if they differ); its
    /// status flags (0–5, caller-saved) are never loaded: they follow the
    /// thread, so the resumed side sees the flags the switching side had.
    pub mxcsr: u32,
    /// Offset 60 (4 bytes). Low 16 bits: the x87 FPU control word, kept per
    /// context like the MXCSR control bits. Upper 16 bits: zero from
    /// `cem_makecontext`. Named `_padding` as in Cem.
    pub _padding: u32,
}

assert_eq_size!(Context, [u8; 64]);
assert_eq_align!(Context, u64);
// Cem's layout, which C code compiled against Cem's header relies on.
const_assert_eq!(offset_of!(Context, rbx), 0);
const_assert_eq!(offset_of!(Context, rbp), 8);
const_assert_eq!(offset_of!(Context, r12), 16);
const_assert_eq!(offset_of!(Context, r13), 24);
const_assert_eq!(offset_of!(Context, r14), 32);
const_assert_eq!(offset_of!(Context, r15), 40);
const_assert_eq!(offset_of!(Context, rsp), 48);
const_assert_eq!(offset_of!(Context, mxcsr), 56);
const_assert_eq!(offset_of!(Context, _padding), 60);

/// The saved stack pointer of a suspended context (`CEM_CONTEXT_GET_SP`).
#[inline(always)]
pub(crate) fn saved_sp(ctx: &Context) -> usize {
    ctx.rsp as usize
}

/// Alignment the psABI requires of rsp before a `call` (§3.2.2).
pub const STACK_ALIGN: usize = 16;

/// Smallest stack `cem_makecontext_checked` accepts on this ABI, in bytes.
///
/// It covers what the library itself needs: up to 15 bytes lost to aligning
/// the top down to 16, the 8-byte entry slot, the return addresses of the
/// entry trampoline's calls and a small frame for `func`. Everything `func`
/// does on top (its locals, callees, and any signal handler that runs on this
/// stack: several KiB on x86-64 with AVX-512 state) must be added by the caller.
pub const MIN_STACK_SIZE: usize = 256;

extern "C" {
    fn cem_ctx_x86_64_sysv_start();
    #[cfg(target_os = "linux")]
    fn cem_ctx_x86_64_sysv_asan_start();
}

/// What a context switched away from by the AddressSanitizer slow path
/// (`asm/x86_64_sysv_asan.s`) leaves at its saved rsp, and what `init` writes
/// at `top - 32` of a fresh stack when ASan is present. 32 bytes. The stack
/// bounds ASan needs live here because `Context` (Cem's layout) has no room
/// for them; see `src/sanitizer.rs`.
///
/// | offset | size | field | contents |
/// |-------:|-----:|-------|----------|
/// | 0 | 8 | `resume` | where it continues (`[rsp]`, as for every suspended context) |
/// | 8 | 8 | `bottom` | low end of this stack |
/// | 16 | 8 | `size` | its size in bytes |
/// | 24 | 8 | `fake_stack` | ASan's `fake_stack_save` of this side (NULL when fresh) |
#[repr(C)]
struct AsanFrame {
    resume: u64,
    bottom: u64,
    size: u64,
    fake_stack: u64,
}

assert_eq_size!(AsanFrame, [u8; 32]);
// The resume address must stay at the saved rsp: the pop + jmp of both paths
// and CEM_CONTEXT_GET_SP readers rely on it.
const_assert_eq!(offset_of!(AsanFrame, resume), 0);

/// What `init` writes at the top of a fresh stack: the address the first
/// switch pops and jumps to. 8 bytes, just below the 16-byte aligned top, so
/// that after the pop rsp is the top itself.
#[repr(C)]
struct InitialFrame {
    entry: u64,
}

/// Under ASan (run-time test): unpoisons the stack and writes an `AsanFrame`
/// at `top - 32` whose resume address is the ASan start trampoline and which
/// holds the stack's bounds for the first switcher; returns it as the initial
/// rsp. The trampoline tells ASan it arrived and jumps to the ordinary start
/// with rsp == top. `None` without ASan.
///
/// # Safety
/// `top - 32 .. top` must be writable memory owned by the new context.
#[cfg(target_os = "linux")]
unsafe fn asan_initial_frame(base: usize, top: usize) -> Option<u64> {
    if !crate::sanitizer::asan_prepare_stack(base, top) {
        return None;
    }
    let frame = (top - size_of::<AsanFrame>()) as *mut AsanFrame;
    // SAFETY: forwarded to the caller.
    unsafe {
        frame.write(AsanFrame {
            resume: cem_ctx_x86_64_sysv_asan_start as *const () as u64,
            bottom: base as u64,
            size: (top - base) as u64,
            fake_stack: 0,
        })
    };
    Some(frame as u64)
}

/// No sanitizer hooks on this OS.
#[cfg(not(target_os = "linux"))]
unsafe fn asan_initial_frame(_base: usize, _top: usize) -> Option<u64> {
    None
}

/// Builds the initial frame at `top` (16-byte aligned, `top - MIN_STACK_SIZE`
/// writable) so that the first switch into the returned context runs the entry
/// trampoline, which calls `func`, then `ret_func`, then `trap`.
///
/// # Safety
/// `top - size_of::<InitialFrame>() .. top` (8 bytes; 32 bytes under ASan, see
/// `asan_initial_frame`) must be writable memory owned by the new context.
pub(crate) unsafe fn init(
    base: usize,
    top: usize,
    func: usize,
    arg: usize,
    ret_func: unsafe extern "C" fn(),
    trap: unsafe extern "C" fn() -> !,
) -> Context {
    let frame = (top - size_of::<InitialFrame>()) as *mut InitialFrame;
    // The switch pops this as the resume address; after the pop rsp == top.
    frame.write(InitialFrame {
        entry: cem_ctx_x86_64_sysv_start as *const () as u64,
    });
    let rsp = asan_initial_frame(base, top).unwrap_or(frame as u64);
    let (mxcsr, fcw) = current_fp_control();
    Context {
        rbx: func as u64,
        rbp: 0,
        r12: ret_func as usize as u64,
        r13: trap as usize as u64,
        r14: arg as u64,
        r15: 0,
        rsp,
        mxcsr,
        _padding: fcw,
    }
}

// ------------------------------------------------ Rust coroutine fast path

/// The frame a suspended Rust coroutine leaves at its saved sp
/// (`LINK_COROUTINE_SP`; names `FRAME_*` in the assembly). 32 bytes,
/// 16-byte aligned. Built by the suspend site (`asm/x86_64_sysv_suspend.s`),
/// or by `init_coroutine` for a fresh coroutine.
///
/// | offset | size | field | contents |
/// |-------:|-----:|-------|----------|
/// | 0 | 8 | `resume` | where it continues: the suspend site's landing (fresh: the start trampoline) |
/// | 8 | 4 | `mxcsr` | MXCSR (written only with FP control) |
/// | 12 | 4 | `fcw` | x87 control word in the low 16 bits |
/// | 16 | 8 | `rbx` | rbx (fresh coroutine: its data block) |
/// | 24 | 8 | `rbp` | rbp (fresh coroutine: 0) |
#[repr(C, align(16))]
pub(crate) struct CoroutineFrame {
    resume: u64,
    mxcsr: u32,
    fcw: u32,
    rbx: u64,
    rbp: u64,
}

assert_eq_size!(CoroutineFrame, [u8; 32]);
const_assert_eq!(offset_of!(CoroutineFrame, resume), 0);
const_assert_eq!(offset_of!(CoroutineFrame, mxcsr), 8);
const_assert_eq!(offset_of!(CoroutineFrame, fcw), 12);
const_assert_eq!(offset_of!(CoroutineFrame, rbx), 16);
const_assert_eq!(offset_of!(CoroutineFrame, rbp), 24);

/// The frame the resumer of a running coroutine leaves at its saved sp
/// (`LINK_PARENT_SP`; names `PARENT_*`). 32 bytes. The resume site
/// (`asm/x86_64_sysv_resume.s`) pushes `rbx`, reserves the FP slot and calls
/// (`resume`); the landing pushes `rbp`. `rbp`/`resume` form a frame record.
///
/// | offset | size | field | contents |
/// |-------:|-----:|-------|----------|
/// | 0 | 8 | `rbp` | the resumer's rbp |
/// | 8 | 8 | `resume` | return address of the resume site's call |
/// | 16 | 4 | `mxcsr` | MXCSR (written only with FP control) |
/// | 20 | 4 | `fcw` | x87 control word in the low 16 bits |
/// | 24 | 8 | `rbx` | the resumer's rbx |
#[repr(C)]
pub(crate) struct ParentFrame {
    rbp: u64,
    resume: u64,
    mxcsr: u32,
    fcw: u32,
    rbx: u64,
}

assert_eq_size!(ParentFrame, [u8; 32]);
const_assert_eq!(offset_of!(ParentFrame, rbp), 0);
const_assert_eq!(offset_of!(ParentFrame, resume), 8);
const_assert_eq!(offset_of!(ParentFrame, mxcsr), 16);
const_assert_eq!(offset_of!(ParentFrame, fcw), 20);
const_assert_eq!(offset_of!(ParentFrame, rbx), 24);
// The trampoline's CFI adds PARENT_SIZE as one ULEB128 byte.
const_assert!(size_of::<ParentFrame>() < 128);

extern "C" {
    fn cem_ctx_x86_64_sysv_coroutine_start();
}

/// The "return address" of the coroutine root's frame record (the link
/// block's `root_pc`): the start trampoline, where frame-pointer walks show
/// the step from the coroutine into its resumer.
pub(crate) fn coroutine_root_pc() -> usize {
    cem_ctx_x86_64_sysv_coroutine_start as *const () as usize
}

/// Writes the initial frame of a Rust coroutine below `frame_top` (16-byte
/// aligned; the data block starts there) and returns the coroutine's saved
/// sp. The first resume enters the start trampoline, which takes the
/// creator's FP control state from this frame and the data block from its
/// rbx slot, with rsp = `frame_top`.
///
/// # Safety
/// `frame_top - size_of::<CoroutineFrame>() .. frame_top` (32 bytes) must be
/// writable memory of the coroutine stack.
pub(crate) unsafe fn init_coroutine(
    _base: usize,
    _top: usize,
    frame_top: usize,
    data: usize,
) -> usize {
    let frame = (frame_top - size_of::<CoroutineFrame>()) as *mut CoroutineFrame;
    let (mxcsr, fcw) = current_fp_control();
    frame.write(CoroutineFrame {
        resume: cem_ctx_x86_64_sysv_coroutine_start as *const () as u64,
        mxcsr,
        fcw,
        rbx: data as u64,
        rbp: 0,
    });
    frame as usize
}

/// 1 when the switch saves FP control state (`cfg(cem_fp_state)`), for the
/// templates' `.if`.
const FP_STATE: u8 = cfg!(cem_fp_state) as u8;

/// One fast-path site: the template `$file` from `asm/` with the offset
/// names it uses as const operands, value in rdi, link block in rdx, r12-r15
/// and every caller-saved register declared clobbered. rbx and rbp cannot be
/// named in inline asm (LLVM reserves them): the templates save them on the
/// stack.
macro_rules! coroutine_site_asm {
    ($file:literal, $value:ident, $link:ident; $($name:ident = $v:expr),* $(,)?) => {{
        let out: usize;
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
            out("r12") _, out("r13") _, out("r14") _, out("r15") _,
            clobber_abi("C"),
            options(att_syntax)
        );
        out
    }};
}

/// Resumes the coroutine whose link block is at `link`, handing it `value`;
/// returns the value it suspends with. Inline: a `call` into the coroutine's
/// saved resume address, balanced by the `ret` of its suspend site.
///
/// # Safety
/// `link` belongs to a suspended (or fresh) coroutine whose stack is alive.
#[inline(always)]
pub(crate) unsafe fn coroutine_resume(link: *mut CoroutineLink, value: usize) -> usize {
    // SAFETY: the template saves rbx and rbp itself and the landing restores
    // the FP control state; everything else it may change is clobbered.
    unsafe {
        coroutine_site_asm!(
            "../../asm/x86_64_sysv_resume.s", value, link;
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
            "../../asm/x86_64_sysv_suspend.s", value, link;
            LINK_PARENT_SP = offset_of!(CoroutineLink, parent_sp),
            FRAME_MXCSR = offset_of!(CoroutineFrame, mxcsr),
            FRAME_FCW = offset_of!(CoroutineFrame, fcw),
            FRAME_RBX = offset_of!(CoroutineFrame, rbx),
            FRAME_RBP = offset_of!(CoroutineFrame, rbp),
            FRAME_SIZE = size_of::<CoroutineFrame>(),
        )
    }
}

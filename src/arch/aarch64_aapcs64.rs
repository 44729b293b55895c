//! AArch64 AAPCS64 (Linux, macOS, bare metal): saved-state layout and
//! initial frame. The switch itself is `asm/aarch64_aapcs64.s`.

use core::mem::{offset_of, size_of};

use static_assertions::{assert_eq_align, assert_eq_size, const_assert_eq};

use super::CoroutineLink;

abi_global_asm!(
    sources: [
        include_str!("../../asm/aarch64_aapcs64.s"),
        include_str!("../../asm/aarch64_aapcs64_asan.s"),
    ],
    names: [
        CTX_X19 = offset_of!(Context, x19),
        CTX_X21 = offset_of!(Context, x21),
        CTX_X23 = offset_of!(Context, x23),
        CTX_X25 = offset_of!(Context, x25),
        CTX_X27 = offset_of!(Context, x27),
        CTX_X29 = offset_of!(Context, x29),
        CTX_SP = offset_of!(Context, sp),
        CTX_D8 = offset_of!(Context, d8),
        CTX_D10 = offset_of!(Context, d10),
        CTX_D12 = offset_of!(Context, d12),
        CTX_D14 = offset_of!(Context, d14),
        FRAME_X19 = offset_of!(CoroutineFrame, x19),
        FRAME_SIZE = size_of::<CoroutineFrame>(),
        PARENT_X29 = offset_of!(ParentFrame, x29),
        PARENT_RESUME = offset_of!(ParentFrame, resume),
        PARENT_X19 = offset_of!(ParentFrame, x19),
        PARENT_SIZE = size_of::<ParentFrame>(),
        CEM_ASAN = crate::sanitizer::HOOKS as u8,
        SAN_START = offset_of!(crate::sanitizer::SanitizerFns, start_switch_fiber),
        SAN_FINISH = offset_of!(crate::sanitizer::SanitizerFns, finish_switch_fiber),
        ASAN_BOTTOM = offset_of!(AsanFrame, bottom),
        ASAN_SIZE = offset_of!(AsanFrame, size),
        ASAN_FAKE = offset_of!(AsanFrame, fake_stack),
        ASAN_SAVE = offset_of!(AsanFrame, scratch),
        ASAN_FRAME_SIZE = size_of::<AsanFrame>(),
    ],
);

/// Saved callee-saved state of a suspended context: the Cem runtime's ARM64
/// `cem_context_t`, field for field. 168 bytes, 8-byte aligned. Follows
/// AAPCS64 §6.1.1 (x19–x28 callee-saved, x29 frame pointer, x30 link
/// register) and §6.1.2 (the low 64 bits of v8–v15, i.e. d8–d15).
///
/// | offset | size | field | contents |
/// |-------:|-----:|-------|----------|
/// | 0–72   | 8 each | `x19`…`x28` | x19–x28 |
/// | 80     | 8 | `x29` | frame pointer |
/// | 88     | 8 | `x30` | link register: the resume address |
/// | 96     | 8 | `sp`  | stack pointer |
/// | 104–160| 8 each | `d8`…`d15` | d8–d15 (as `double`) |
///
/// x18 is never read or written: it is the platform register on Apple and
/// Windows and the shadow-call-stack pointer on some Linux builds. FPCR is not
/// saved: AAPCS64 §6.1.2 makes it a global register (its mode bits change only
/// through calls that affect the whole application's state), so a switch must
/// not undo a rounding-mode change made in another context.
///
/// On targets without FP registers (`aarch64-unknown-none-softfloat`) `d8`–`d15`
/// are left untouched by the switch.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[allow(missing_docs)]
pub struct Context {
    pub x19: u64,
    pub x20: u64,
    pub x21: u64,
    pub x22: u64,
    pub x23: u64,
    pub x24: u64,
    pub x25: u64,
    pub x26: u64,
    pub x27: u64,
    pub x28: u64,
    /// Frame pointer, offset 80.
    pub x29: u64,
    /// Link register, offset 88: where the context resumes.
    pub x30: u64,
    /// Stack pointer, offset 96.
    pub sp: u64,
    pub d8: f64,
    pub d9: f64,
    pub d10: f64,
    pub d11: f64,
    pub d12: f64,
    pub d13: f64,
    pub d14: f64,
    pub d15: f64,
}

assert_eq_size!(Context, [u8; 168]);
assert_eq_align!(Context, u64);
// Cem's layout, which C code compiled against Cem's header relies on.
const_assert_eq!(offset_of!(Context, x19), 0);
const_assert_eq!(offset_of!(Context, x20), 8);
const_assert_eq!(offset_of!(Context, x21), 16);
const_assert_eq!(offset_of!(Context, x22), 24);
const_assert_eq!(offset_of!(Context, x23), 32);
const_assert_eq!(offset_of!(Context, x24), 40);
const_assert_eq!(offset_of!(Context, x25), 48);
const_assert_eq!(offset_of!(Context, x26), 56);
const_assert_eq!(offset_of!(Context, x27), 64);
const_assert_eq!(offset_of!(Context, x28), 72);
const_assert_eq!(offset_of!(Context, x29), 80);
const_assert_eq!(offset_of!(Context, x30), 88);
const_assert_eq!(offset_of!(Context, sp), 96);
const_assert_eq!(offset_of!(Context, d8), 104);
const_assert_eq!(offset_of!(Context, d9), 112);
const_assert_eq!(offset_of!(Context, d10), 120);
const_assert_eq!(offset_of!(Context, d11), 128);
const_assert_eq!(offset_of!(Context, d12), 136);
const_assert_eq!(offset_of!(Context, d13), 144);
const_assert_eq!(offset_of!(Context, d14), 152);
const_assert_eq!(offset_of!(Context, d15), 160);
// The switch moves registers in pairs (stp/ldp at the first one's offset).
const_assert_eq!(offset_of!(Context, x20), offset_of!(Context, x19) + 8);
const_assert_eq!(offset_of!(Context, x22), offset_of!(Context, x21) + 8);
const_assert_eq!(offset_of!(Context, x24), offset_of!(Context, x23) + 8);
const_assert_eq!(offset_of!(Context, x26), offset_of!(Context, x25) + 8);
const_assert_eq!(offset_of!(Context, x28), offset_of!(Context, x27) + 8);
const_assert_eq!(offset_of!(Context, x30), offset_of!(Context, x29) + 8);
const_assert_eq!(offset_of!(Context, d9), offset_of!(Context, d8) + 8);
const_assert_eq!(offset_of!(Context, d11), offset_of!(Context, d10) + 8);
const_assert_eq!(offset_of!(Context, d13), offset_of!(Context, d12) + 8);
const_assert_eq!(offset_of!(Context, d15), offset_of!(Context, d14) + 8);

/// The saved stack pointer of a suspended context (`CEM_CONTEXT_GET_SP`).
#[inline(always)]
pub(crate) fn saved_sp(ctx: &Context) -> usize {
    ctx.sp as usize
}

/// Alignment AAPCS64 requires of sp at every public interface (§6.4.5.1).
pub const STACK_ALIGN: usize = 16;

/// Smallest stack `cem_makecontext_checked` accepts on this ABI, in bytes.
///
/// The library itself stores nothing on a fresh stack (the entry address
/// lives in `x30`; under ASan, 64 bytes of stack bounds) and only needs the top aligned to 16; the rest is room for
/// the entry trampoline's calls and a trivial `func`. What `func` does on top
/// (locals, callees, signal frames) must be added by the caller.
pub const MIN_STACK_SIZE: usize = 256;

extern "C" {
    fn cem_ctx_aarch64_aapcs64_start();
    #[cfg(target_os = "linux")]
    fn cem_ctx_aarch64_aapcs64_asan_start();
}

/// What a context switched away from by the AddressSanitizer slow path
/// (`asm/aarch64_aapcs64_asan.s`) leaves at its saved sp, and what `init`
/// writes at `top - 64` of a fresh stack when ASan is present. 64 bytes,
/// 16-byte aligned (AAPCS64 §6.4.5.1). The stack bounds ASan needs live here
/// because `Context` (Cem's layout) has no room for them; see
/// `src/sanitizer.rs`.
///
/// | offset | size | field | contents |
/// |-------:|-----:|-------|----------|
/// | 0 | 16 | `fp`, `lr` | frame record of the `cem_swapcontext` caller (AAPCS64 §6.4.6) |
/// | 16 | 8 | `bottom` | low end of this stack |
/// | 24 | 8 | `size` | its size in bytes (right after `bottom`: one `ldp`) |
/// | 32 | 8 | `fake_stack` | ASan's `fake_stack_save` of this side |
/// | 40 | 24 | `scratch` | the switch's arguments across the ASan call |
#[repr(C, align(16))]
struct AsanFrame {
    fp: u64,
    lr: u64,
    bottom: u64,
    size: u64,
    fake_stack: u64,
    scratch: [u64; 3],
}

assert_eq_size!(AsanFrame, [u8; 64]);
const_assert_eq!(
    offset_of!(AsanFrame, size),
    offset_of!(AsanFrame, bottom) + 8
);

/// Under ASan (run-time test): unpoisons the stack and writes an `AsanFrame`
/// at `top - 64` holding its bounds; returns the ASan start trampoline and
/// that frame as the initial (x30, sp). The trampoline tells ASan it arrived
/// and continues at the ordinary start with sp == top. `None` without ASan.
///
/// # Safety
/// `top - 64 .. top` must be writable memory owned by the new context.
#[cfg(target_os = "linux")]
unsafe fn asan_initial_frame(base: usize, top: usize) -> Option<(u64, u64)> {
    if !crate::sanitizer::asan_prepare_stack(base, top) {
        return None;
    }
    let frame = (top - size_of::<AsanFrame>()) as *mut AsanFrame;
    // SAFETY: forwarded to the caller.
    unsafe {
        frame.write(AsanFrame {
            fp: 0,
            lr: 0,
            bottom: base as u64,
            size: (top - base) as u64,
            fake_stack: 0,
            scratch: [0; 3],
        })
    };
    Some((
        cem_ctx_aarch64_aapcs64_asan_start as *const () as u64,
        frame as u64,
    ))
}

/// No sanitizer hooks on this OS.
#[cfg(not(target_os = "linux"))]
unsafe fn asan_initial_frame(_base: usize, _top: usize) -> Option<(u64, u64)> {
    None
}

/// Builds the initial register state for a stack whose 16-byte aligned top is
/// `top`: the first switch "returns" into the entry trampoline (x30), which
/// calls `func`, then `ret_func`, then `trap`. Nothing is written to the stack,
/// except under AddressSanitizer (detected at run time on Linux): then a
/// 64-byte `AsanFrame` at `top - 64` holds the stack's bounds.
///
/// # Safety
/// `top - MIN_STACK_SIZE .. top` must be writable memory owned by the new
/// context (written only under ASan).
pub(crate) unsafe fn init(
    base: usize,
    top: usize,
    func: usize,
    arg: usize,
    ret_func: unsafe extern "C" fn(),
    trap: unsafe extern "C" fn() -> !,
) -> Context {
    let (entry, sp) = asan_initial_frame(base, top).unwrap_or((
        cem_ctx_aarch64_aapcs64_start as *const () as u64,
        top as u64,
    ));
    Context {
        x19: func as u64,
        x20: ret_func as usize as u64,
        x21: trap as usize as u64,
        x22: arg as u64,
        x29: 0,
        x30: entry,
        sp,
        ..Context::default()
    }
}

// ------------------------------------------------ Rust coroutine fast path

/// The frame a suspended Rust coroutine leaves at its saved sp
/// (`LINK_COROUTINE_SP`; names `FRAME_*`). 32 bytes, 16-byte aligned. Built
/// by the suspend site (`asm/aarch64_aapcs64_suspend.s`), or by
/// `init_coroutine` for a fresh coroutine.
///
/// | offset | size | field | contents |
/// |-------:|-----:|-------|----------|
/// | 0 | 8 | `x29` | frame pointer (fresh coroutine: 0) |
/// | 8 | 8 | `resume` | where it continues: the suspend site's landing (fresh: the start trampoline) |
/// | 16 | 8 | `x19` | x19 (fresh coroutine: its data block) |
/// | 24 | 8 | `_unused` | keeps sp 16-byte aligned (AAPCS64 §6.4.5.1) |
#[repr(C, align(16))]
pub(crate) struct CoroutineFrame {
    x29: u64,
    resume: u64,
    x19: u64,
    _unused: u64,
}

assert_eq_size!(CoroutineFrame, [u8; 32]);
const_assert_eq!(offset_of!(CoroutineFrame, x29), 0);
const_assert_eq!(offset_of!(CoroutineFrame, resume), 8);
const_assert_eq!(offset_of!(CoroutineFrame, x19), 16);
const_assert_eq!(offset_of!(CoroutineFrame, _unused), 24);

/// The frame the resumer of a running coroutine leaves at its saved sp
/// (`LINK_PARENT_SP`; names `PARENT_*`), written by the landing. 32 bytes,
/// 16-byte aligned; `x29`/`resume` form an AAPCS64 frame record (§6.4.6).
///
/// | offset | size | field | contents |
/// |-------:|-----:|-------|----------|
/// | 0 | 8 | `x29` | the resumer's frame pointer |
/// | 8 | 8 | `resume` | x30: return address of the resume site's `blr` |
/// | 16 | 8 | `x19` | the resumer's x19 |
/// | 24 | 8 | `_unused` | keeps sp 16-byte aligned |
#[repr(C, align(16))]
pub(crate) struct ParentFrame {
    x29: u64,
    resume: u64,
    x19: u64,
    _unused: u64,
}

assert_eq_size!(ParentFrame, [u8; 32]);
const_assert_eq!(offset_of!(ParentFrame, x29), 0);
const_assert_eq!(offset_of!(ParentFrame, resume), 8);
const_assert_eq!(offset_of!(ParentFrame, x19), 16);
// The trampoline's CFI adds PARENT_SIZE as one ULEB128 byte.
static_assertions::const_assert!(size_of::<ParentFrame>() < 128);

extern "C" {
    fn cem_ctx_aarch64_aapcs64_coroutine_start();
}

/// The "return address" of the coroutine root's frame record (the link
/// block's `root_pc`): the start trampoline.
pub(crate) fn coroutine_root_pc() -> usize {
    cem_ctx_aarch64_aapcs64_coroutine_start as *const () as usize
}

/// Writes the initial frame of a Rust coroutine below `frame_top` (16-byte
/// aligned; the data block starts there) and returns the coroutine's saved
/// sp. The first resume enters the start trampoline, which takes the data
/// block from the x19 slot and continues with sp = `frame_top`.
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
    frame.write(CoroutineFrame {
        x29: 0,
        resume: cem_ctx_aarch64_aapcs64_coroutine_start as *const () as u64,
        x19: data as u64,
        _unused: 0,
    });
    frame as usize
}

/// One fast-path site: the template `$file` from `asm/` with the offset names
/// it uses as const operands, value in x0, link block in x1, x20–x28 (and,
/// with FP registers, v8–v15) besides `clobber_abi("C")` declared clobbered.
/// x19 and x29 cannot be named in inline asm (LLVM reserves them): the
/// templates save them. x18, the platform register, is never touched.
macro_rules! coroutine_site_asm {
    ($file:literal, $value:ident, $link:ident; $($name:ident = $v:expr),* $(,)?) => {{
        let out: usize;
        #[cfg(cem_fp_state)]
        core::arch::asm!(
            include_str!($file),
            LINK_COROUTINE_SP = const offset_of!(CoroutineLink, coroutine_sp),
            $($name = const $v,)*
            inout("x0") $value => out,
            in("x1") $link,
            out("x20") _, out("x21") _, out("x22") _, out("x23") _, out("x24") _,
            out("x25") _, out("x26") _, out("x27") _, out("x28") _,
            out("v8") _, out("v9") _, out("v10") _, out("v11") _,
            out("v12") _, out("v13") _, out("v14") _, out("v15") _,
            clobber_abi("C"),
        );
        #[cfg(not(cem_fp_state))]
        core::arch::asm!(
            include_str!($file),
            LINK_COROUTINE_SP = const offset_of!(CoroutineLink, coroutine_sp),
            $($name = const $v,)*
            inout("x0") $value => out,
            in("x1") $link,
            out("x20") _, out("x21") _, out("x22") _, out("x23") _, out("x24") _,
            out("x25") _, out("x26") _, out("x27") _, out("x28") _,
            clobber_abi("C"),
        );
        out
    }};
}

/// Resumes the coroutine whose link block is at `link`, handing it `value`;
/// returns the value it suspends with. Inline: a `blr` to the coroutine's
/// saved resume address, balanced by the `ret` of its suspend site.
///
/// # Safety
/// `link` belongs to a suspended (or fresh) coroutine whose stack is alive.
#[inline(always)]
pub(crate) unsafe fn coroutine_resume(link: *mut CoroutineLink, value: usize) -> usize {
    // SAFETY: the landing saves x19, x29 and x30 and the suspend site
    // restores them; the rest is declared clobbered.
    unsafe {
        coroutine_site_asm!(
            "../../asm/aarch64_aapcs64_resume.s", value, link;
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
            "../../asm/aarch64_aapcs64_suspend.s", value, link;
            LINK_PARENT_SP = offset_of!(CoroutineLink, parent_sp),
            FRAME_X29 = offset_of!(CoroutineFrame, x29),
            FRAME_X19 = offset_of!(CoroutineFrame, x19),
            FRAME_SIZE = size_of::<CoroutineFrame>(),
            PARENT_X29 = offset_of!(ParentFrame, x29),
            PARENT_X19 = offset_of!(ParentFrame, x19),
            PARENT_SIZE = size_of::<ParentFrame>(),
        )
    }
}

/// Cache prefetch hint for `addr`: never faults, whatever the address.
#[inline(always)]
pub(crate) fn prefetch(addr: usize) {
    // SAFETY: a prefetch hint reads nothing architecturally and cannot fault.
    unsafe {
        core::arch::asm!("prfm pldl1keep, [{0}]", in(reg) addr, options(nostack, readonly, preserves_flags))
    };
}

//! Arm M-profile (Cortex-M0/M0+, M3, M4/M4F, M7, M33), AAPCS32 in Thumb
//! state: saved-state layout and initial frames. The switch itself is
//! `asm/arm_aapcs32_m.s`.
//!
//! | build | saved by a switch |
//! |-------|-------------------|
//! | `thumbv6m-none-eabi` (ARMv6-M) | r4–r11, sp, lr (r8–r11 moved through r4–r7: Thumb-1) |
//! | `thumbv7m-none-eabi`, `thumbv7em-none-eabi` | r4–r11, sp, lr |
//! | `thumbv7em-none-eabihf` (M4F, M7) | r4–r11, sp, lr, s16–s31 |
//! | `thumbv8m.main-none-eabihf` (M33) | r4–r11, sp, lr, s16–s31, and the stack limit: the incoming context's limit is loaded into PSPLIM or MSPLIM (whichever stack pointer Thread mode runs on), so an overflow takes a UsageFault (STKOF) |
//!
//! FPSCR is global state per AAPCS32 and is never switched (see
//! `asm/arm_aapcs32_m.s`).

use core::mem::{offset_of, size_of};
use static_assertions::{assert_eq_align, assert_eq_size, const_assert_eq};

use super::CoroutineLink;

/// `CEM_THUMB1` in the assembly: 1 on ARMv6-M (Thumb-1 encodings only).
const THUMB1: usize = cfg!(cem_thumb1) as usize;
/// `CEM_STACK_LIMIT` in the assembly: 1 on ARMv8-M Mainline (PSPLIM/MSPLIM).
const STACK_LIMIT: usize = cfg!(cem_stack_limit) as usize;

// Every offset the assembly uses comes from here. The asm source writes its
// register lists as `{{r4-r7}}`: `global_asm!` reads a single brace as an
// operand.
abi_global_asm!(
    sources: [include_str!("../../asm/arm_aapcs32_m.s")],
    names: [
        CEM_THUMB1 = THUMB1,
        CEM_STACK_LIMIT = STACK_LIMIT,
        CTX_R4 = offset_of!(Context, r4),
        CTX_R8 = offset_of!(Context, r8),
        CTX_R11 = offset_of!(Context, r11),
        CTX_SP = offset_of!(Context, sp),
        CTX_LR = offset_of!(Context, lr),
        CTX_LIMIT = offset_of!(Context, stack_limit),
        CTX_D8 = offset_of!(Context, d8),
    ],
);

/// Saved callee-saved state of a suspended context on Arm M-profile:
/// cem-ctx's own layout (the Cem runtime has no 32-bit Arm switcher).
/// 112 bytes, 8-byte aligned, the same on every M-profile build so that C
/// and Rust agree without knowing the FPU. Follows AAPCS32 §6.1.1 ("Core
/// registers": r4–r11 and sp preserved) and "VFP register usage conventions"
/// (s16–s31 preserved; FPSCR is global).
///
/// | offset | size | field | contents |
/// |-------:|-----:|-------|----------|
/// | 0–28   | 4 each | `r4`…`r11` | r4–r11 (r7: Thumb frame pointer; r9: platform register, callee-saved v6 on bare metal) |
/// | 32     | 4 | `sp` | stack pointer, 8-byte aligned |
/// | 36     | 4 | `lr` | resume address, Thumb bit (bit 0) set |
/// | 40     | 4 | `stack_limit` | PSPLIM/MSPLIM value loaded when this context resumes (ARMv8-M Mainline only; 0 = no limit) |
/// | 44     | 4 | `reserved` | 0; aligns `d8` |
/// | 48–104 | 8 each | `d8`…`d15` | s16–s31 as d8–d15 (builds with an FPU only; untouched elsewhere) |
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[allow(missing_docs)]
pub struct Context {
    pub r4: u32,
    pub r5: u32,
    pub r6: u32,
    /// Thumb frame pointer, offset 12.
    pub r7: u32,
    pub r8: u32,
    /// Platform register (AAPCS32 §6.1.1), offset 20; callee-saved v6 on
    /// bare-metal targets, and saved like the others.
    pub r9: u32,
    pub r10: u32,
    pub r11: u32,
    /// Stack pointer, offset 32.
    pub sp: u32,
    /// Resume address with the Thumb bit set, offset 36.
    pub lr: u32,
    /// Stack limit (lowest usable address, 8-byte aligned), offset 40:
    /// loaded into PSPLIM/MSPLIM when this context resumes on ARMv8-M
    /// Mainline; 0 disables the check. Unused on other cores.
    pub stack_limit: u32,
    /// Offset 44; keeps `d8` 8-byte aligned. Always 0.
    pub reserved: u32,
    pub d8: f64,
    pub d9: f64,
    pub d10: f64,
    pub d11: f64,
    pub d12: f64,
    pub d13: f64,
    pub d14: f64,
    pub d15: f64,
}

assert_eq_size!(Context, [u8; 112]);
assert_eq_align!(Context, u64);
const_assert_eq!(offset_of!(Context, r4), 0);
const_assert_eq!(offset_of!(Context, r5), 4);
const_assert_eq!(offset_of!(Context, r6), 8);
const_assert_eq!(offset_of!(Context, r7), 12);
const_assert_eq!(offset_of!(Context, r8), 16);
const_assert_eq!(offset_of!(Context, r9), 20);
const_assert_eq!(offset_of!(Context, r10), 24);
const_assert_eq!(offset_of!(Context, r11), 28);
const_assert_eq!(offset_of!(Context, sp), 32);
const_assert_eq!(offset_of!(Context, lr), 36);
const_assert_eq!(offset_of!(Context, stack_limit), 40);
const_assert_eq!(offset_of!(Context, reserved), 44);
const_assert_eq!(offset_of!(Context, d8), 48);
const_assert_eq!(offset_of!(Context, d9), 56);
const_assert_eq!(offset_of!(Context, d10), 64);
const_assert_eq!(offset_of!(Context, d11), 72);
const_assert_eq!(offset_of!(Context, d12), 80);
const_assert_eq!(offset_of!(Context, d13), 88);
const_assert_eq!(offset_of!(Context, d14), 96);
const_assert_eq!(offset_of!(Context, d15), 104);

/// Alignment of a fresh context's stack top, in bytes. AAPCS32 requires 8
/// at every public interface (§6.2.1.2, "SP mod 8 = 0"; also the granule of
/// PSPLIM/MSPLIM); 16 keeps the C API's documented rounding ("the top is
/// rounded down to 16") the same on every target, at a cost of at most 8
/// bytes of stack.
pub const STACK_ALIGN: usize = 16;

/// Smallest stack `cem_makecontext_checked` accepts on this ABI, in bytes.
///
/// The library stores nothing on a fresh stack (the entry address lives in
/// `lr`); the rest is room for the trampoline's calls and a trivial `func`.
/// Add what `func` needs, and the exception frames of interrupts that may
/// arrive while the context runs on the active stack (32 bytes each, 104
/// with FP state on cores with an FPU).
pub const MIN_STACK_SIZE: usize = 256;

extern "C" {
    fn cem_ctx_arm_aapcs32_m_start();
}

/// A code address as the switch needs it: Thumb bit set. Rust gives Thumb
/// function pointers with bit 0 set already (the linker sets it for symbols
/// of `%function` type defined in Thumb code); OR-ing 1 in keeps a hand-made
/// address safe too, and costs nothing.
fn thumb(addr: usize) -> u32 {
    (addr | 1) as u32
}

/// The stack limit for a stack whose lowest usable address is `base`:
/// rounded up to 8 bytes, the granule of PSPLIM/MSPLIM (bits [2:0] are RES0).
fn stack_limit(base: usize) -> u32 {
    if cfg!(cem_stack_limit) {
        ((base + 7) & !7) as u32
    } else {
        0
    }
}

/// Builds the initial register state for a stack `[base, top)` whose
/// 16-byte aligned top is `top`: the first switch "returns" into the entry
/// trampoline (`lr`), which calls `func(arg)`, then `ret_func`, then `trap`.
/// Nothing is written to the stack.
///
/// # Safety
/// Writes no memory; `unsafe` only to share the x86-64 signature, whose
/// initial frame is written to the stack.
pub(crate) unsafe fn init(
    base: usize,
    top: usize,
    func: usize,
    arg: usize,
    ret_func: unsafe extern "C" fn(),
    trap: unsafe extern "C" fn() -> !,
) -> Context {
    Context {
        r4: thumb(func),
        r5: arg as u32,
        r6: thumb(ret_func as usize),
        r7: 0,
        r8: thumb(trap as usize),
        r11: 0,
        sp: top as u32,
        lr: thumb(cem_ctx_arm_aapcs32_m_start as *const () as usize),
        stack_limit: stack_limit(base),
        ..Context::default()
    }
}

/// The saved stack pointer of a suspended context (`CEM_CONTEXT_GET_SP`).
#[inline(always)]
pub(crate) fn saved_sp(ctx: &Context) -> usize {
    ctx.sp as usize
}

// ------------------------------------------------ Rust coroutine fast path

extern "C" {
    fn cem_ctx_arm_aapcs32_m_coroutine_start();
}

/// The frame a suspended Rust coroutine leaves at its saved sp
/// (`LINK_COROUTINE_SP`; names `FRAME_*`): 16 bytes, 8-byte aligned. The
/// suspend site (`asm/arm_aapcs32_m_suspend.s`) builds it with one `push {r2,
/// r3, r6, r7}` (register-number order, lowest address first) and the landing
/// takes it down with the matching `pop`, so its layout is that instruction's,
/// asserted here; `init_coroutine` writes it for a fresh coroutine.
///
/// | offset | size | field | contents |
/// |-------:|-----:|-------|----------|
/// | 0 | 4 | `stack_limit` | the coroutine's PSPLIM/MSPLIM value (ARMv8-M Mainline; 0 elsewhere) |
/// | 4 | 4 | `resume` | where it continues, Thumb bit set: the suspend site's landing (fresh: the start trampoline) |
/// | 8 | 4 | `r6` | r6 (fresh coroutine: its data block) |
/// | 12 | 4 | `r7` | r7, the Thumb frame pointer (fresh coroutine: 0) |
#[repr(C, align(8))]
pub(crate) struct CoroutineFrame {
    stack_limit: u32,
    resume: u32,
    r6: u32,
    r7: u32,
}

assert_eq_size!(CoroutineFrame, [u8; 16]);
const_assert_eq!(offset_of!(CoroutineFrame, stack_limit), 0);
const_assert_eq!(offset_of!(CoroutineFrame, resume), 4);
const_assert_eq!(offset_of!(CoroutineFrame, r6), 8);
const_assert_eq!(offset_of!(CoroutineFrame, r7), 12);

/// The frame the resumer of a running coroutine leaves at its saved sp
/// (`LINK_PARENT_SP`), written by the landing with one `push {r3, r6, r7,
/// lr}` and taken down by the suspend site's `pop {r2, r6, r7, pc}` (or `lr`
/// with a stack limit). 16 bytes, 8-byte aligned.
///
/// | offset | size | field | contents |
/// |-------:|-----:|-------|----------|
/// | 0 | 4 | `stack_limit` | the resumer's PSPLIM/MSPLIM value (ARMv8-M Mainline; padding elsewhere) |
/// | 4 | 4 | `r6` | the resumer's r6 |
/// | 8 | 4 | `r7` | the resumer's r7 |
/// | 12 | 4 | `lr` | return address of the resume site's `blx`, Thumb bit set |
#[repr(C, align(8))]
pub(crate) struct ParentFrame {
    stack_limit: u32,
    r6: u32,
    r7: u32,
    lr: u32,
}

assert_eq_size!(ParentFrame, [u8; 16]);
const_assert_eq!(offset_of!(ParentFrame, stack_limit), 0);
const_assert_eq!(offset_of!(ParentFrame, r6), 4);
const_assert_eq!(offset_of!(ParentFrame, r7), 8);
const_assert_eq!(offset_of!(ParentFrame, lr), 12);

/// Writes the initial frame of a Rust coroutine below `frame_top` (16-byte
/// aligned; the data block starts there) and returns the coroutine's saved
/// sp. The first resume enters the start trampoline, which pops this
/// `CoroutineFrame` (stack limit, r6 = data, r7 = 0) and continues with sp =
/// `frame_top`.
///
/// # Safety
/// `frame_top - size_of::<CoroutineFrame>() .. frame_top` (16 bytes) must be
/// writable memory of the coroutine stack.
pub(crate) unsafe fn init_coroutine(
    base: usize,
    _top: usize,
    frame_top: usize,
    data: usize,
) -> usize {
    let frame = (frame_top - size_of::<CoroutineFrame>()) as *mut CoroutineFrame;
    // SAFETY: the caller guarantees the 16 bytes below frame_top are ours.
    unsafe {
        frame.write(CoroutineFrame {
            stack_limit: stack_limit(base),
            resume: thumb(cem_ctx_arm_aapcs32_m_coroutine_start as *const () as usize),
            r6: data as u32,
            r7: 0,
        })
    };
    frame as usize
}

/// One fast-path site: the template `$file` from `asm/` with the offset names
/// it uses as const operands, value in r0, link block in r1, and declared
/// clobbered: the caller-saved r2, r3, r12, lr and d0–d7 (s0–s15), and the
/// callee-saved r4, r5, r8–r11 and d8–d15 (s16–s31), the FP ones only with an
/// FPU. Not `clobber_abi("C")`: it names d16–d31, which single-precision and
/// D16 FPUs lack (LLVM warns about clobbering reserved registers). r6 and r7
/// cannot be named in inline asm (LLVM's base and frame pointers): the
/// templates save them. Flags are clobbered (no `preserves_flags`).
macro_rules! coroutine_site_asm {
    ($file:literal, $value:ident, $link:ident; $($name:ident = $v:expr),* $(,)?) => {{
        let out: usize;
        #[cfg(cem_fp_state)]
        core::arch::asm!(
            include_str!($file),
            LINK_COROUTINE_SP = const offset_of!(CoroutineLink, coroutine_sp),
            $($name = const $v,)*
            inout("r0") $value => out,
            in("r1") $link,
            out("r2") _, out("r3") _, out("r12") _, out("lr") _,
            out("r4") _, out("r5") _, out("r8") _, out("r9") _, out("r10") _, out("r11") _,
            out("d0") _, out("d1") _, out("d2") _, out("d3") _,
            out("d4") _, out("d5") _, out("d6") _, out("d7") _,
            out("d8") _, out("d9") _, out("d10") _, out("d11") _,
            out("d12") _, out("d13") _, out("d14") _, out("d15") _,
        );
        #[cfg(not(cem_fp_state))]
        core::arch::asm!(
            include_str!($file),
            LINK_COROUTINE_SP = const offset_of!(CoroutineLink, coroutine_sp),
            $($name = const $v,)*
            inout("r0") $value => out,
            in("r1") $link,
            out("r2") _, out("r3") _, out("r12") _, out("lr") _,
            out("r4") _, out("r5") _, out("r8") _, out("r9") _, out("r10") _, out("r11") _,
        );
        out
    }};
}

/// Resumes the coroutine whose link block is at `link`, handing it `value`;
/// returns the value it suspends with. Inline: a `blx` to the coroutine's
/// saved resume address.
///
/// # Safety
/// `link` belongs to a suspended (or fresh) coroutine whose stack is alive.
#[inline(always)]
pub(crate) unsafe fn coroutine_resume(link: *mut CoroutineLink, value: usize) -> usize {
    // SAFETY: the landing saves r6, r7, lr and the stack limit, and the
    // suspend site restores them; the rest is declared clobbered.
    unsafe {
        coroutine_site_asm!(
            "../../asm/arm_aapcs32_m_resume.s", value, link;
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
            "../../asm/arm_aapcs32_m_suspend.s", value, link;
            LINK_PARENT_SP = offset_of!(CoroutineLink, parent_sp),
            STACK_LIMIT = STACK_LIMIT,
            THUMB1 = THUMB1,
        )
    }
}

/// Cache prefetch hint: a no-op. Cortex-M0–M4/M33 have no data cache, and
/// ARMv6-M has no `pld`; the one-cycle SRAM of these parts needs no hint.
#[inline(always)]
pub(crate) fn prefetch(addr: usize) {
    let _ = addr;
}

/// The "return address" of the coroutine root's frame record (the link
/// block's `root_pc`). Unused here: the start trampoline ends backtraces
/// (no std backtrace on M-profile firmware) and frame-chain walks (r7 = 0).
pub(crate) fn coroutine_root_pc() -> usize {
    0
}

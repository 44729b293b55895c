//! RISC-V psABI (RV64 and RV32; Linux and bare metal): saved-state layout and
//! initial frame. The switch itself is `asm/riscv_psabi.s`, one source for
//! both register widths.

use core::mem::{offset_of, size_of};
use static_assertions::{assert_eq_align, const_assert_eq};

use super::CoroutineLink;

/// Width of the FP registers the switch saves, in bytes (`CEM_FLEN_BYTES`
/// in the assembly): 8 with the D extension, 4 with F only, 0 without FP
/// registers; decided in `build.rs` from the target's ISA string.
const FLEN: usize = if cfg!(all(cem_fp_state, cem_riscv_d)) {
    8
} else if cfg!(cem_fp_state) {
    4
} else {
    0
};

// Every offset the assembly uses comes from here, so the asm and the structs
// cannot disagree.
abi_global_asm!(
    sources: [include_str!("../../asm/riscv_psabi.s")],
    names: [
        CEM_XLEN_BYTES = XLEN,
        CEM_FLEN_BYTES = FLEN,
        CTX_S0 = offset_of!(Context, s0),
        CTX_S1 = offset_of!(Context, s1),
        CTX_S2 = offset_of!(Context, s2),
        CTX_S3 = offset_of!(Context, s3),
        CTX_S4 = offset_of!(Context, s4),
        CTX_S5 = offset_of!(Context, s5),
        CTX_S6 = offset_of!(Context, s6),
        CTX_S7 = offset_of!(Context, s7),
        CTX_S8 = offset_of!(Context, s8),
        CTX_S9 = offset_of!(Context, s9),
        CTX_S10 = offset_of!(Context, s10),
        CTX_S11 = offset_of!(Context, s11),
        CTX_SP = offset_of!(Context, sp),
        CTX_RA = offset_of!(Context, ra),
        CTX_FS0 = offset_of!(Context, fs0),
        CTX_FS1 = offset_of!(Context, fs1),
        CTX_FS2 = offset_of!(Context, fs2),
        CTX_FS3 = offset_of!(Context, fs3),
        CTX_FS4 = offset_of!(Context, fs4),
        CTX_FS5 = offset_of!(Context, fs5),
        CTX_FS6 = offset_of!(Context, fs6),
        CTX_FS7 = offset_of!(Context, fs7),
        CTX_FS8 = offset_of!(Context, fs8),
        CTX_FS9 = offset_of!(Context, fs9),
        CTX_FS10 = offset_of!(Context, fs10),
        CTX_FS11 = offset_of!(Context, fs11),
        FRAME_S1 = offset_of!(CoroutineFrame, s1),
        FRAME_SIZE = size_of::<CoroutineFrame>(),
        PARENT_S0 = offset_of!(ParentFrame, s0),
        PARENT_RA = offset_of!(ParentFrame, ra),
        PARENT_S1 = offset_of!(ParentFrame, s1),
        PARENT_SIZE = size_of::<ParentFrame>(),
    ],
);

/// Saved callee-saved state of a suspended context: cem-ctx's own RISC-V
/// `cem_context_t` (the Cem runtime has no RISC-V port). RV64: 208 bytes,
/// RV32: 152 bytes; 8-byte aligned on both. Follows the RISC-V psABI
/// "Integer Register Convention" (s0–s11 and sp preserved across calls, s0
/// the frame pointer) and "Floating-Point Register Convention" (fs0–fs11).
///
/// | RV64 offset | RV32 offset | size | field | contents |
/// |------------:|------------:|-----:|-------|----------|
/// | 0–88        | 0–44        | XLEN/8 each | `s0`…`s11` | s0 (frame pointer), s1–s11 |
/// | 96          | 48          | XLEN/8 | `sp`  | stack pointer (16-byte aligned) |
/// | 104         | 52          | XLEN/8 | `ra`  | resume address |
/// | 112–200     | 56–144      | 8 each | `fs0`…`fs11` | fs0–fs11 bit patterns (FLEN bits used) |
///
/// The integer fields are `uintptr_t`-sized (`size_t` in C). `fs0`–`fs11`
/// hold the registers' bit patterns: all 64 bits with the D extension, the
/// low 32 with F only; on targets without F (`riscv32imac`) the switch
/// leaves them untouched.
///
/// Not saved: gp and tp (unallocatable per the psABI; tp is the thread
/// pointer of whichever thread runs the context) and fcsr, which the psABI
/// gives thread storage duration (C11 §7.6): a rounding mode set with
/// `fesetround` in one context is seen by the others on the same thread,
/// exactly as across an ordinary call.
///
/// Bare metal: with F/D the switch executes FP loads and stores, so the
/// firmware must have enabled the FPU (`mstatus.FS` ≠ Off) before the first
/// switch, as it must anyway before any compiled hard-float code runs.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[allow(missing_docs)]
pub struct Context {
    /// Frame pointer (s0), offset 0.
    pub s0: usize,
    pub s1: usize,
    pub s2: usize,
    pub s3: usize,
    pub s4: usize,
    pub s5: usize,
    pub s6: usize,
    pub s7: usize,
    pub s8: usize,
    pub s9: usize,
    pub s10: usize,
    pub s11: usize,
    /// Stack pointer, offset 12 × XLEN/8 (96 on RV64, 48 on RV32).
    pub sp: usize,
    /// Resume address, offset 13 × XLEN/8 (104 on RV64, 52 on RV32).
    pub ra: usize,
    pub fs0: u64,
    pub fs1: u64,
    pub fs2: u64,
    pub fs3: u64,
    pub fs4: u64,
    pub fs5: u64,
    pub fs6: u64,
    pub fs7: u64,
    pub fs8: u64,
    pub fs9: u64,
    pub fs10: u64,
    pub fs11: u64,
}

/// Register width in bytes (XLEN/8).
const XLEN: usize = size_of::<usize>();

assert_eq_align!(Context, u64);
const_assert_eq!(size_of::<Context>(), 14 * XLEN + 12 * 8);
const_assert_eq!(offset_of!(Context, s0), 0);
const_assert_eq!(offset_of!(Context, s1), XLEN);
const_assert_eq!(offset_of!(Context, s11), 11 * XLEN);
const_assert_eq!(offset_of!(Context, sp), 12 * XLEN);
const_assert_eq!(offset_of!(Context, ra), 13 * XLEN);
const_assert_eq!(offset_of!(Context, fs0), 14 * XLEN);
const_assert_eq!(offset_of!(Context, fs11), 14 * XLEN + 88);
#[cfg(target_arch = "riscv64")]
mod layout_rv64 {
    use super::Context;
    use core::mem::{offset_of, size_of};
    static_assertions::const_assert_eq!(size_of::<Context>(), 208);
    static_assertions::const_assert_eq!(offset_of!(Context, sp), 96);
    static_assertions::const_assert_eq!(offset_of!(Context, ra), 104);
    static_assertions::const_assert_eq!(offset_of!(Context, fs0), 112);
    static_assertions::const_assert_eq!(offset_of!(Context, fs11), 200);
}
#[cfg(target_arch = "riscv32")]
mod layout_rv32 {
    use super::Context;
    use core::mem::{offset_of, size_of};
    static_assertions::const_assert_eq!(size_of::<Context>(), 152);
    static_assertions::const_assert_eq!(offset_of!(Context, sp), 48);
    static_assertions::const_assert_eq!(offset_of!(Context, ra), 52);
    static_assertions::const_assert_eq!(offset_of!(Context, fs0), 56);
    static_assertions::const_assert_eq!(offset_of!(Context, fs11), 144);
}

/// Alignment the psABI requires of sp on procedure entry ("Integer Calling
/// Convention": a 128-bit boundary), in bytes.
pub const STACK_ALIGN: usize = 16;

/// Smallest stack `cem_makecontext_checked` accepts on this ABI, in bytes.
///
/// The library itself stores nothing on a fresh stack (the entry address
/// lives in `ra`) and only needs the top aligned to 16; the rest is room for
/// the entry trampoline's calls and a trivial `func`. What `func` does on top
/// (locals, callees, signal frames) must be added by the caller.
pub const MIN_STACK_SIZE: usize = 256;

extern "C" {
    fn cem_ctx_riscv_psabi_start();
}

/// Builds the initial register state for a stack whose 16-byte aligned top is
/// `top`: the first switch "returns" into the entry trampoline (ra), which
/// calls `func`, then `ret_func`, then `trap`. Nothing is written to the stack.
///
/// # Safety
/// Writes no memory; `unsafe` only to share the x86-64 signature, whose
/// initial frame is written to the stack.
pub(crate) unsafe fn init(
    _base: usize,
    top: usize,
    func: usize,
    arg: usize,
    ret_func: unsafe extern "C" fn(),
    trap: unsafe extern "C" fn() -> !,
) -> Context {
    Context {
        s0: 0,
        s1: func,
        s2: ret_func as usize,
        s3: trap as usize,
        s4: arg,
        ra: cem_ctx_riscv_psabi_start as *const () as usize,
        sp: top,
        ..Context::default()
    }
}

/// The saved stack pointer of a suspended context.
#[inline(always)]
pub(crate) fn saved_sp(ctx: &Context) -> usize {
    ctx.sp
}

// ------------------------------------------------ Rust coroutine fast path

/// The frame a suspended Rust coroutine leaves at its saved sp
/// (`LINK_COROUTINE_SP`; names `FRAME_*`): four XLEN words, 32 bytes on RV64
/// and 16 on RV32, 16-byte aligned (sp stays aligned, psABI "Integer Calling
/// Convention"). Built by the suspend site (`asm/riscv_psabi_suspend.s`), or
/// by `init_coroutine` for a fresh coroutine.
///
/// | word | field | contents |
/// |-----:|-------|----------|
/// | 0 | `s0` | frame pointer (fresh coroutine: unused, the trampoline sets s0) |
/// | 1 | `resume` | where it continues: the suspend site's landing (fresh: the start trampoline) |
/// | 2 | `s1` | s1 (fresh coroutine: its data block) |
/// | 3 | `_unused` | keeps the frame a multiple of 16 bytes on RV32 |
#[repr(C, align(16))]
pub(crate) struct CoroutineFrame {
    s0: usize,
    resume: usize,
    s1: usize,
    _unused: usize,
}

const_assert_eq!(size_of::<CoroutineFrame>(), 4 * XLEN);
const_assert_eq!(offset_of!(CoroutineFrame, s0), 0);
const_assert_eq!(offset_of!(CoroutineFrame, resume), XLEN);
const_assert_eq!(offset_of!(CoroutineFrame, s1), 2 * XLEN);
const_assert_eq!(offset_of!(CoroutineFrame, _unused), 3 * XLEN);
const_assert_eq!(size_of::<CoroutineFrame>() % STACK_ALIGN, 0);

/// The frame the resumer of a running coroutine leaves just below its sp T,
/// written by the landing (names `PARENT_*`); the link block's `parent_sp`
/// holds T itself, not the frame's address. Four XLEN words, 32 bytes on
/// RV64 and 16 on RV32. `s0`/`ra` are where the psABI "Frame Pointer
/// Convention" puts a frame record for fp = T (fp − 2·XLEN, fp − XLEN), so
/// frame-pointer walks continue from the coroutine root's record into it.
///
/// | word | field | contents |
/// |-----:|-------|----------|
/// | 0 | `s1` | the resumer's s1 |
/// | 1 | `_unused` | keeps the frame a multiple of 16 bytes on RV32 |
/// | 2 | `s0` | the resumer's frame pointer |
/// | 3 | `ra` | return address of the resume site's call |
#[repr(C, align(16))]
pub(crate) struct ParentFrame {
    s1: usize,
    _unused: usize,
    s0: usize,
    ra: usize,
}

const_assert_eq!(size_of::<ParentFrame>(), 4 * XLEN);
const_assert_eq!(offset_of!(ParentFrame, s1), 0);
const_assert_eq!(offset_of!(ParentFrame, s0), 2 * XLEN);
const_assert_eq!(offset_of!(ParentFrame, ra), 3 * XLEN);
const_assert_eq!(size_of::<ParentFrame>() % STACK_ALIGN, 0);

/// Offset of a `ParentFrame` field from the resumer's sp T (negative).
const fn below_parent_sp(offset: usize) -> isize {
    offset as isize - size_of::<ParentFrame>() as isize
}

extern "C" {
    fn cem_ctx_riscv_psabi_coroutine_start();
}

/// The "return address" of the coroutine root's frame record (the link
/// block's `root_pc`): the start trampoline.
pub(crate) fn coroutine_root_pc() -> usize {
    cem_ctx_riscv_psabi_coroutine_start as *const () as usize
}

/// Writes the initial frame of a Rust coroutine below `frame_top` (16-byte
/// aligned; the data block starts there) and returns the coroutine's saved
/// sp. The first resume enters the start trampoline, which takes the data
/// block from the s1 slot and continues with sp = `frame_top`.
///
/// # Safety
/// `frame_top - size_of::<CoroutineFrame>() .. frame_top` must be writable
/// memory of the coroutine stack.
pub(crate) unsafe fn init_coroutine(
    _base: usize,
    _top: usize,
    frame_top: usize,
    data: usize,
) -> usize {
    let frame = (frame_top - size_of::<CoroutineFrame>()) as *mut CoroutineFrame;
    frame.write(CoroutineFrame {
        s0: 0,
        resume: cem_ctx_riscv_psabi_coroutine_start as *const () as usize,
        s1: data,
        _unused: 0,
    });
    frame as usize
}

/// One fast-path site: the template `$file` from `asm/` with the offset names
/// it uses as const operands, value in a0, link block in a1, s2–s11 (and,
/// with FP registers, fs0–fs11) besides `clobber_abi("C")` (which includes
/// ra) declared clobbered. s0 (frame pointer) and s1 (LLVM's base pointer)
/// cannot be named in inline asm: the templates save them. gp and tp are
/// never touched.
macro_rules! coroutine_site_asm {
    ($file:literal, $value:ident, $link:ident; $($name:ident = $v:expr),* $(,)?) => {{
        let out: usize;
        #[cfg(cem_fp_state)]
        core::arch::asm!(
            include_str!($file),
            XLEN = const XLEN,
            LINK_COROUTINE_SP = const offset_of!(CoroutineLink, coroutine_sp),
            $($name = const $v,)*
            inout("a0") $value => out,
            in("a1") $link,
            out("s2") _, out("s3") _, out("s4") _, out("s5") _, out("s6") _,
            out("s7") _, out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("fs0") _, out("fs1") _, out("fs2") _, out("fs3") _, out("fs4") _,
            out("fs5") _, out("fs6") _, out("fs7") _, out("fs8") _, out("fs9") _,
            out("fs10") _, out("fs11") _,
            clobber_abi("C"),
        );
        #[cfg(not(cem_fp_state))]
        core::arch::asm!(
            include_str!($file),
            XLEN = const XLEN,
            LINK_COROUTINE_SP = const offset_of!(CoroutineLink, coroutine_sp),
            $($name = const $v,)*
            inout("a0") $value => out,
            in("a1") $link,
            out("s2") _, out("s3") _, out("s4") _, out("s5") _, out("s6") _,
            out("s7") _, out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            clobber_abi("C"),
        );
        out
    }};
}

/// Resumes the coroutine whose link block is at `link`, handing it `value`;
/// returns the value it suspends with. Inline: a call (`jalr ra`) to the
/// coroutine's saved resume address, balanced by the `ret` of its suspend
/// site.
///
/// # Safety
/// `link` belongs to a suspended (or fresh) coroutine whose stack is alive.
#[inline(always)]
pub(crate) unsafe fn coroutine_resume(link: *mut CoroutineLink, value: usize) -> usize {
    // SAFETY: the landing saves s0, s1 and ra and the suspend site restores
    // them; the rest is declared clobbered.
    unsafe {
        coroutine_site_asm!(
            "../../asm/riscv_psabi_resume.s", value, link;
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
            "../../asm/riscv_psabi_suspend.s", value, link;
            LINK_PARENT_SP = offset_of!(CoroutineLink, parent_sp),
            FRAME_S0 = offset_of!(CoroutineFrame, s0),
            FRAME_RESUME = offset_of!(CoroutineFrame, resume),
            FRAME_S1 = offset_of!(CoroutineFrame, s1),
            FRAME_SIZE = size_of::<CoroutineFrame>(),
            PARENT_S0 = offset_of!(ParentFrame, s0),
            PARENT_RA = offset_of!(ParentFrame, ra),
            PARENT_S1 = offset_of!(ParentFrame, s1),
            PARENT_SIZE = size_of::<ParentFrame>(),
            PARENT_S0_T = below_parent_sp(offset_of!(ParentFrame, s0)),
            PARENT_RA_T = below_parent_sp(offset_of!(ParentFrame, ra)),
            PARENT_S1_T = below_parent_sp(offset_of!(ParentFrame, s1)),
        )
    }
}

/// Cache prefetch hint for `addr`: never faults, whatever the address.
///
/// `ori x0, rs1, 1` is Zicbop's `prefetch.r 0(rs1)`; on cores without
/// Zicbop it is one of the base ISA's HINT encodings (an ALU op writing x0),
/// which execute as no-ops.
#[inline(always)]
pub(crate) fn prefetch(addr: usize) {
    // SAFETY: a HINT (ORI to x0) reads no memory architecturally and cannot fault.
    unsafe {
        core::arch::asm!("ori x0, {0}, 1", in(reg) addr, options(nostack, nomem, preserves_flags))
    };
}

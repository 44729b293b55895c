//! RISC-V psABI (RV64 and RV32; Linux and bare metal): saved-state layout and
//! initial frame. The switch itself is `asm/riscv_psabi.s`, one source for
//! both register widths.

use core::arch::global_asm;
use core::mem::{offset_of, size_of};
use static_assertions::{assert_eq_align, const_assert_eq};

/// `.set CEM_FLEN_BYTES`: width of the FP registers the switch saves (8 with
/// the D extension, 4 with F only, 0 without FP registers), decided in
/// `build.rs` from the target's ISA string.
#[cfg(all(cem_fp_state, cem_riscv_d))]
macro_rules! flen_flag {
    () => {
        ".set CEM_FLEN_BYTES, 8\n"
    };
}
#[cfg(all(cem_fp_state, not(cem_riscv_d)))]
macro_rules! flen_flag {
    () => {
        ".set CEM_FLEN_BYTES, 4\n"
    };
}
#[cfg(not(cem_fp_state))]
macro_rules! flen_flag {
    () => {
        ".set CEM_FLEN_BYTES, 0\n"
    };
}

// Every offset the assembly uses comes from here (`offset_of!`), so the asm
// and the struct cannot disagree.
global_asm!(
    object_format_prelude!(),
    fp_state_flag!(),
    flen_flag!(),
    ".set CEM_XLEN_BYTES, {xlen}",
    ".set CTX_S0, {s0}", ".set CTX_S1, {s1}", ".set CTX_S2, {s2}", ".set CTX_S3, {s3}",
    ".set CTX_S4, {s4}", ".set CTX_S5, {s5}", ".set CTX_S6, {s6}", ".set CTX_S7, {s7}",
    ".set CTX_S8, {s8}", ".set CTX_S9, {s9}", ".set CTX_S10, {s10}", ".set CTX_S11, {s11}",
    ".set CTX_SP, {sp}", ".set CTX_RA, {ra}",
    ".set CTX_FS0, {fs0}", ".set CTX_FS1, {fs1}", ".set CTX_FS2, {fs2}", ".set CTX_FS3, {fs3}",
    ".set CTX_FS4, {fs4}", ".set CTX_FS5, {fs5}", ".set CTX_FS6, {fs6}", ".set CTX_FS7, {fs7}",
    ".set CTX_FS8, {fs8}", ".set CTX_FS9, {fs9}", ".set CTX_FS10, {fs10}", ".set CTX_FS11, {fs11}",
    ".set CO_FRAME, {co_frame}", ".set CO_S0, {co_s0}", ".set CO_PC, {co_pc}", ".set CO_S1, {co_s1}",
    ".set LINK_PARENT_SP, {link_parent}", ".set LINK_CO_SP, {link_co}",
    include_str!("../../asm/riscv_psabi.s"),
    object_format_epilogue!(),
    xlen = const size_of::<usize>(),
    s0 = const offset_of!(Context, s0),
    s1 = const offset_of!(Context, s1),
    s2 = const offset_of!(Context, s2),
    s3 = const offset_of!(Context, s3),
    s4 = const offset_of!(Context, s4),
    s5 = const offset_of!(Context, s5),
    s6 = const offset_of!(Context, s6),
    s7 = const offset_of!(Context, s7),
    s8 = const offset_of!(Context, s8),
    s9 = const offset_of!(Context, s9),
    s10 = const offset_of!(Context, s10),
    s11 = const offset_of!(Context, s11),
    sp = const offset_of!(Context, sp),
    ra = const offset_of!(Context, ra),
    fs0 = const offset_of!(Context, fs0),
    fs1 = const offset_of!(Context, fs1),
    fs2 = const offset_of!(Context, fs2),
    fs3 = const offset_of!(Context, fs3),
    fs4 = const offset_of!(Context, fs4),
    fs5 = const offset_of!(Context, fs5),
    fs6 = const offset_of!(Context, fs6),
    fs7 = const offset_of!(Context, fs7),
    fs8 = const offset_of!(Context, fs8),
    fs9 = const offset_of!(Context, fs9),
    fs10 = const offset_of!(Context, fs10),
    fs11 = const offset_of!(Context, fs11),
    co_frame = const CO_FRAME,
    co_s0 = const CO_S0 * XLEN,
    co_pc = const CO_PC * XLEN,
    co_s1 = const CO_S1 * XLEN,
    link_parent = const 0,
    link_co = const XLEN,
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

/// Size of the frame a suspended side leaves at its saved sp, in bytes
/// (four XLEN words: 32 on RV64, 16 on RV32; keeps sp 16-byte aligned).
const CO_FRAME: usize = 4 * XLEN;
/// Word indexes in that frame: s0, continuation address, s1.
const CO_S0: usize = 0;
const CO_PC: usize = 1;
const CO_S1: usize = 2;
const_assert_eq!(CO_FRAME % STACK_ALIGN, 0);

extern "C" {
    fn cem_ctx_riscv_psabi_resume();
    fn cem_ctx_riscv_psabi_suspend();
    fn cem_ctx_riscv_psabi_coroutine_start();
}

/// Writes the initial frame of a Rust coroutine below `frame_top` (16-byte
/// aligned; the data block starts there) and returns the coroutine's saved
/// sp. The first resume restores s0 = 0, s1 = `data` and continues at the
/// start trampoline with sp = `frame_top`.
///
/// # Safety
/// `frame_top - CO_FRAME .. frame_top` must be writable memory of the
/// coroutine stack.
pub(crate) unsafe fn init_coroutine(
    _base: usize,
    _top: usize,
    frame_top: usize,
    data: usize,
) -> usize {
    let sp = frame_top - CO_FRAME;
    let frame = sp as *mut usize;
    frame.add(CO_S0).write(0);
    frame
        .add(CO_PC)
        .write(cem_ctx_riscv_psabi_coroutine_start as *const () as usize);
    frame.add(CO_S1).write(data);
    frame.add(3).write(0);
    sp
}

/// The registers the asm declares clobbered besides `clobber_abi("C")`:
/// s2–s11 (s0 and s1 are saved by the callee, since inline asm cannot name
/// them) and, with FP registers, fs0–fs11.
macro_rules! coroutine_switch_asm {
    ($($template:literal),+; $target:path, $value:ident, $link:ident) => {{
        let out: usize;
        #[cfg(cem_fp_state)]
        core::arch::asm!(
            $($template),+,
            target = sym $target,
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
            $($template),+,
            target = sym $target,
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
/// returns the value it suspends with. A `call`, balanced by the `ret` in
/// suspend.
///
/// # Safety
/// `link` belongs to a suspended (or fresh) coroutine whose stack is alive.
#[inline(always)]
pub(crate) unsafe fn coroutine_resume(link: *mut super::CoroutineLink, value: usize) -> usize {
    // SAFETY: the callee saves s0, s1 and ra; the rest is declared clobbered.
    unsafe { coroutine_switch_asm!("call {target}"; cem_ctx_riscv_psabi_resume, value, link) }
}

/// Suspends the running coroutine (link block at `link`), handing `value` to
/// its resumer; returns the value of the next resume. The continuation
/// address travels in t3 (caller-saved, declared clobbered by `clobber_abi`).
///
/// # Safety
/// Must run on the coroutine whose link block is `link`.
#[inline(always)]
pub(crate) unsafe fn coroutine_suspend(link: *mut super::CoroutineLink, value: usize) -> usize {
    // SAFETY: as in coroutine_resume.
    unsafe {
        coroutine_switch_asm!(
            "lla t3, 2f", "tail {target}", "2:";
            cem_ctx_riscv_psabi_suspend, value, link
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

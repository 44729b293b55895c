//! AArch64 AAPCS64 (Linux, macOS, bare metal): saved-state layout and
//! initial frame. The switch itself is `asm/aarch64_aapcs64.s`.

use core::arch::global_asm;
use static_assertions::{assert_eq_align, assert_eq_size, const_assert_eq};

global_asm!(
    object_format_prelude!(),
    fp_state_flag!(),
    include_str!("../../asm/aarch64_aapcs64.s"),
    object_format_epilogue!(),
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
const_assert_eq!(core::mem::offset_of!(Context, x19), 0);
const_assert_eq!(core::mem::offset_of!(Context, x28), 72);
const_assert_eq!(core::mem::offset_of!(Context, x29), 80);
const_assert_eq!(core::mem::offset_of!(Context, x30), 88);
const_assert_eq!(core::mem::offset_of!(Context, sp), 96);
const_assert_eq!(core::mem::offset_of!(Context, d8), 104);
const_assert_eq!(core::mem::offset_of!(Context, d15), 160);

/// Alignment AAPCS64 requires of sp at every public interface (§6.4.5.1).
pub const STACK_ALIGN: usize = 16;

/// Smallest stack `cem_makecontext_checked` accepts on this ABI, in bytes.
///
/// The library itself stores nothing on a fresh stack (the entry address
/// lives in `x30`) and only needs the top aligned to 16; the rest is room for
/// the entry trampoline's calls and a trivial `func`. What `func` does on top
/// (locals, callees, signal frames) must be added by the caller.
pub const MIN_STACK_SIZE: usize = 256;

extern "C" {
    fn cem_ctx_aarch64_aapcs64_start();
}

/// Builds the initial register state for a stack whose 16-byte aligned top is
/// `top`: the first switch "returns" into the entry trampoline (x30), which
/// calls `func`, then `ret_func`, then `trap`. Nothing is written to the stack.
///
/// # Safety
/// Writes no memory; `unsafe` only to share the x86-64 signature, whose
/// initial frame is written to the stack.
pub(crate) unsafe fn init(
    _base: usize,
    top: usize,
    func: unsafe extern "C" fn(),
    ret_func: unsafe extern "C" fn(),
    trap: unsafe extern "C" fn() -> !,
) -> Context {
    Context {
        x19: func as usize as u64,
        x20: ret_func as usize as u64,
        x21: trap as usize as u64,
        x29: 0,
        x30: cem_ctx_aarch64_aapcs64_start as *const () as u64,
        sp: top as u64,
        ..Context::default()
    }
}

//! Helpers shared by both x86-64 ABIs (System V and Microsoft x64): the FP
//! control state a new context inherits, and the prefetch hint.

/// The control bits of MXCSR (6–15: DAZ, the six exception masks, rounding
/// control, FTZ), callee-saved in the System V psABI (§3.2.1) and the
/// Microsoft x64 convention: the switch keeps them per context. Bits 0–5 are
/// the sticky exception status flags, caller-saved: they follow the thread.
/// `MXCSR_CONTROL` in the assembly.
pub(crate) const MXCSR_CONTROL: u32 = 0xffc0;

/// Reads the current MXCSR and x87 control word, which a new context inherits
/// (as a new POSIX thread inherits the creating thread's FP environment).
#[cfg(cem_fp_state)]
pub(crate) fn current_fp_control() -> (u32, u32) {
    let mut mxcsr: u32 = 0;
    let mut fcw: u16 = 0;
    // SAFETY: stmxcsr and fnstcw only store 4 and 2 bytes to the given locals.
    unsafe {
        core::arch::asm!(
            "stmxcsr [{m}]",
            "fnstcw [{c}]",
            m = in(reg) &mut mxcsr,
            c = in(reg) &mut fcw,
            options(nostack, preserves_flags)
        );
    }
    (mxcsr, u32::from(fcw))
}

/// Without SSE the switch leaves these fields alone; store zero.
#[cfg(not(cem_fp_state))]
pub(crate) fn current_fp_control() -> (u32, u32) {
    (0, 0)
}

/// Cache prefetch hint for `addr`: never faults, whatever the address.
#[inline(always)]
pub(crate) fn prefetch(addr: usize) {
    // SAFETY: a prefetch hint reads nothing architecturally and cannot fault.
    unsafe {
        core::arch::asm!("prefetcht0 [{0}]", in(reg) addr, options(nostack, readonly, preserves_flags))
    };
}

/// Purges the macros of `asm/x86_64_common.s` after an ABI's source (the
/// last of `abi_global_asm!`'s `sources`), as `object_format_epilogue!` does
/// for the object-format macros.
macro_rules! x86_64_common_epilogue {
    () => {
        ".purgem FP_CONTROL_SAVE\n.purgem FP_CONTROL_LOAD\n"
    };
}

/// The template of one fast-path site (`asm/x86_64_<abi>_{resume,suspend}.s`)
/// with the FP control macros of `asm/x86_64_common.s` in front of it and
/// purged after it, so that the inline sites and `cem_swapcontext` load FP
/// control state with one definition of `FP_CONTROL_LOAD`. The site's asm!
/// must pass `MXCSR_CONTROL` as a const operand (the macro's mask).
macro_rules! x86_64_site_template {
    ($file:literal) => {
        concat!(
            include_str!("../../asm/x86_64_common.s"),
            "\n.set MXCSR_CONTROL, {MXCSR_CONTROL}\n",
            include_str!($file),
            "\n",
            x86_64_common_epilogue!()
        )
    };
}

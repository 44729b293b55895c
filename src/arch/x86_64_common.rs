//! Helpers shared by both x86-64 ABIs (System V and Microsoft x64): the FP
//! control state a new context inherits, and the prefetch hint.

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

/// The prelude both x86-64 `global_asm!` blocks start with: the object-format
/// layer, the FP-state flag, any ABI-specific flags (`$flags`, string
/// literals of `.set` lines), and the shared macros of `asm/x86_64_common.s`.
macro_rules! x86_64_global_asm {
    ($abi_source:literal $(, $flags:expr)*) => {
        core::arch::global_asm!(
            object_format_prelude!(),
            fp_state_flag!(),
            $($flags,)*
            include_str!("../../asm/x86_64_common.s"),
            include_str!($abi_source),
            ".purgem SWITCH_FP_CONTROL",
            object_format_epilogue!(),
            options(att_syntax)
        );
    };
}

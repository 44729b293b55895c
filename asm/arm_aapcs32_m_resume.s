// cem-ctx: the resume site of the Rust Coroutine fast path, Arm M-profile
// (AAPCS32, Thumb; ARMv6-M, ARMv7-M, ARMv8-M Mainline). An inline-asm template
// (src/arch/arm_aapcs32_m.rs, coroutine_resume), expanded into every
// Coroutine::resume; `NAME` in braces are const operands computed from the
// #[repr(C)] frames there. In: r1 = link block, r0 = value. Out: r0 = the
// value the coroutine suspends with. Thumb-1 encodings only (ARMv6-M).
//
// A call to the coroutine's saved resume address (Thumb bit set): the landing
// inside the coroutine's own suspend site (asm/arm_aapcs32_m_suspend.s) or,
// the first time, the start trampoline, both entered with r2 = the
// coroutine's CoroutineFrame. The landing saves this side's r6, r7, lr (the
// return address blx leaves) and stack limit in a ParentFrame, so nothing is
// stored here; the suspend site returns here with them restored. Every other
// register is declared clobbered, so the compiler saves only the callee-saved
// registers live at this site.
    ldr     r2, [r1, #{LINK_COROUTINE_SP}]
    ldr     r3, [r2, #{FRAME_RESUME}]
    blx     r3

// cem-ctx: the resume site of the Rust Coroutine fast path, AArch64 AAPCS64.
// An inline-asm template (src/arch/aarch64_aapcs64.rs, coroutine_resume),
// expanded into every Coroutine::resume; `NAME` in braces are const operands
// computed from the #[repr(C)] frames there. In: x1 = link block, x0 = value.
// Out: x0 = the value the coroutine suspends with.
//
// A call to the coroutine's saved resume address: the landing inside the
// coroutine's own suspend site (asm/aarch64_aapcs64_suspend.s) or, the first
// time, the start trampoline. The landing saves this side's x19, x29 and x30
// (the return address blr leaves) in a ParentFrame, so nothing is stored
// here; the suspend site's ret, predicted from this blr, comes back with them
// restored. Every other register is declared clobbered, so the compiler saves
// only the callee-saved registers live at this site.
    ldr     x9, [x1, #{LINK_COROUTINE_SP}]
    ldr     x16, [x9, #{FRAME_RESUME}]
    blr     x16

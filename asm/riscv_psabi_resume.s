// cem-ctx: the resume site of the Rust Coroutine fast path, RISC-V psABI
// (RV64 and RV32). An inline-asm template (src/arch/riscv_psabi.rs,
// coroutine_resume), expanded into every Coroutine::resume; `NAME` in braces
// are const operands computed from the #[repr(C)] frames there (XLEN: 4 or 8).
// In: a1 = link block, a0 = value. Out: a0 = the value the coroutine suspends
// with.
//
// A call to the coroutine's saved resume address: the landing inside the
// coroutine's own suspend site (asm/riscv_psabi_suspend.s) or, the first time,
// the start trampoline, both entered with t2 = the coroutine's CoroutineFrame.
// `jalr t1` is jalr ra, 0(t1): a call, which pushes the return-address stack
// (rd = ra; rs1 = t1 is not a link register, so nothing is popped). The
// landing saves this side's s0, s1 and ra in a ParentFrame, so nothing is
// stored here; the suspend site's `ret` (predicted from this call) comes back
// with them restored. Every other register is declared clobbered, so the
// compiler saves only the callee-saved registers live at this site.
.if {XLEN} == 8
    ld      t2, {LINK_COROUTINE_SP}(a1)
    ld      t1, {FRAME_RESUME}(t2)
.else
    lw      t2, {LINK_COROUTINE_SP}(a1)
    lw      t1, {FRAME_RESUME}(t2)
.endif
    jalr    t1

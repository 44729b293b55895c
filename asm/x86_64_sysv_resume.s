// cem-ctx: the resume site of the Rust Coroutine fast path, x86-64 System V.
// An inline-asm template (src/arch/x86_64_sysv.rs, coroutine_resume), expanded
// into every Coroutine::resume, not a global_asm source: `NAME` in braces are const
// operands computed from the #[repr(C)] frames there, so no offset is a
// number here. In: rdx = link block, rdi = value. Out: rdi = the value the
// coroutine suspends with.
//
// The parent side only builds the upper half of its ParentFrame and calls the
// coroutine's saved resume address: the landing code inside the coroutine's
// suspend site (asm/x86_64_sysv_suspend.s), or the start trampoline the first
// time, finishes the switch. So both halves of the switch are inline at their
// call sites, and the compiler saves only the callee-saved registers live
// here: everything but rbx and rbp, which inline asm cannot name (LLVM
// reserves them), is declared clobbered.
//
// ParentFrame at the parent's saved sp P (PARENT_*, 32 bytes) while the
// coroutine runs; P + PARENT_SIZE is rsp before this block:
//
//   PARENT_RBP       0   rbp           pushed by the landing: with the next
//   PARENT_RESUME    8   return addr   word a frame record for frame-pointer
//                                      walks (perf), see the trampoline's CFI
//   PARENT_MXCSR    16   MXCSR         stored here, only with FP control
//   PARENT_FCW      20   x87 CW
//   PARENT_RBX      24   rbx
    pushq   %rbx
    // The FP control slot; written only when the coroutine keeps its own FP
    // control state (Options::fp_control), so the layout is fixed either way.
    subq    $8, %rsp
.if {FP_STATE}
    cmpb    $0, {LINK_FP_CONTROL}(%rdx)
    je      3f
    // rsp is P + PARENT_MXCSR now (the call pushes PARENT_RESUME, the landing
    // PARENT_RBP). Stored early: the landing reads it back.
    stmxcsr (%rsp)
    fnstcw  {PARENT_FCW}-{PARENT_MXCSR}(%rsp)
3:
.endif
    movq    {LINK_COROUTINE_SP}(%rdx), %rcx
    // The coroutine's resume address is the first word of its frame. A call,
    // so that the suspend site's ret is predicted by the return-stack buffer;
    // the indirect call itself is predicted by the BTB. notrack: resume
    // addresses are not IBT landing pads.
    notrack callq *{FRAME_RESUME}(%rcx)
    // Back from the coroutine's suspend (its ret popped PARENT_RESUME and
    // its pop restored rbp). Not the last instruction: unwinders treat the
    // trampoline frame as a signal frame and look up this address itself.
    addq    $8, %rsp
    popq    %rbx

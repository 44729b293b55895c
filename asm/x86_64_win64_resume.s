// cem-ctx: the resume site of the Rust Coroutine fast path, Microsoft x64
// (Windows, UEFI). An inline-asm template (src/arch/x86_64_win64.rs,
// coroutine_resume), expanded into every Coroutine::resume, not a global_asm
// source: `NAME` in braces are const operands computed from the #[repr(C)]
// frames there, so no offset is a number here. In: rdx = link block, rdi =
// value. Out: rdi = the value the coroutine suspends with.
//
// As on System V (asm/x86_64_sysv_resume.s), the parent side only builds the
// upper part of its ParentFrame and calls the coroutine's saved resume
// address: the landing inside the coroutine's suspend site
// (asm/x86_64_win64_suspend.s), or the start trampoline the first time,
// finishes the switch, including the TEB stack fields. rbx and rbp, which
// inline asm cannot name (LLVM reserves them), are saved on the stack;
// everything else nonvolatile (rdi, rsi, r12-r15, xmm6-xmm15) is declared
// clobbered, so the compiler saves only what is live here.
//
// ParentFrame at the parent's saved sp P (PARENT_*, 72 bytes) while the
// coroutine runs; P + PARENT_SIZE is rsp before this block:
//
//   PARENT_RBP       0   rbp           pushed by the landing
//   PARENT_RESUME    8   return addr   of the call below
//   PARENT_MXCSR    16   MXCSR         stored here, only with FP control
//   PARENT_FCW      20   x87 CW
//   PARENT_TEB      24   the parent's TEB stack fields (`TebStack`, 40
//                        bytes), stored by the landing where there is a TEB
//   PARENT_RBX      64   rbx
    pushq   %rbx
    // The FP control and TEB slots; the layout is the same with or without
    // FP control and TEB (UEFI), only the stores are skipped.
    subq    ${PARENT_RBX}-{PARENT_MXCSR}, %rsp
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
    // so that the suspend site's ret is predicted by the return-stack buffer.
    callq   *{FRAME_RESUME}(%rcx)
    // Back from the coroutine's suspend (its ret popped PARENT_RESUME and its
    // pop restored rbp; it loaded this side's TEB fields and FP control).
    addq    ${PARENT_RBX}-{PARENT_MXCSR}, %rsp
    popq    %rbx

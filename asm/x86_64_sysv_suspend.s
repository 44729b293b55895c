// cem-ctx: the suspend site of the Rust Coroutine fast path, x86-64 System V,
// with the landing that the next resume enters. An inline-asm template
// (src/arch/x86_64_sysv.rs, coroutine_suspend), expanded into every
// Yielder::suspend; `NAME` in braces are const operands. In: rdx = link block, rdi =
// value for the parent. Out: rdi = the value of the next resume.
//
// CoroutineFrame at the coroutine's saved sp C (FRAME_*, 32 bytes) while it is
// suspended; C + FRAME_SIZE is rsp before this block:
//
//   FRAME_RESUME     0   the landing below (fresh coroutine: the trampoline)
//   FRAME_MXCSR      8   MXCSR         stored only with FP control
//   FRAME_FCW       12   x87 CW
//   FRAME_RBX       16   rbx
//   FRAME_RBP       24   rbp
//
// The parent's ParentFrame layout is in asm/x86_64_sysv_resume.s. FP control:
// the control bits of MXCSR and the x87 CW follow each side, the status flags
// follow the thread (psABI §3.2.1; the reasoning is in asm/x86_64_common.s).
// The registers are loaded only when the control state differs; the merged
// MXCSR value goes through the incoming side's slot, which is dead by then.
    pushq   %rbp
    pushq   %rbx
    subq    $8, %rsp
.if {FP_STATE}
    cmpb    $0, {LINK_FP_CONTROL}(%rdx)
    je      3f
    stmxcsr (%rsp)
    fnstcw  {FRAME_FCW}-{FRAME_MXCSR}(%rsp)
3:
.endif
    leaq    2f(%rip), %rax
    pushq   %rax
    movq    %rsp, %rcx
    movq    %rsp, {LINK_COROUTINE_SP}(%rdx)
    // Onto the parent's stack, at its ParentFrame.
    movq    {LINK_PARENT_SP}(%rdx), %rsp
.if {FP_STATE}
    cmpb    $0, {LINK_FP_CONTROL}(%rdx)
    je      4f
    FP_CONTROL_LOAD {FRAME_MXCSR}(%rcx), {FRAME_FCW}(%rcx), {PARENT_MXCSR}(%rsp), {PARENT_FCW}(%rsp), {PARENT_MXCSR}(%rsp), %r8d, %r9d, %r10d
4:
.endif
    popq    %rbp
    // To the parent's resume site, right after its call: predicted.
    retq
2:
    // Landing. Entered by the parent's call with rdx = link block, rcx = C,
    // rdi = value, rsp = the parent's stack below PARENT_RESUME.
    pushq   %rbp
    // rsp is the parent's P now: what the next suspend switches back to, and
    // the frame record the coroutine root's frame-pointer chain continues in.
    movq    %rsp, {LINK_PARENT_SP}(%rdx)
.if {FP_STATE}
    cmpb    $0, {LINK_FP_CONTROL}(%rdx)
    je      5f
    FP_CONTROL_LOAD {PARENT_MXCSR}(%rsp), {PARENT_FCW}(%rsp), {FRAME_MXCSR}(%rcx), {FRAME_FCW}(%rcx), {FRAME_MXCSR}(%rcx), %r8d, %r9d, %r10d
5:
.endif
    movq    {FRAME_RBX}(%rcx), %rbx
    movq    {FRAME_RBP}(%rcx), %rbp
    leaq    {FRAME_SIZE}(%rcx), %rsp

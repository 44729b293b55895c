// cem-ctx: the suspend site of the Rust Coroutine fast path, Microsoft x64
// (Windows, UEFI), with the landing that the next resume enters. An inline-asm
// template (src/arch/x86_64_win64.rs, coroutine_suspend), expanded into every
// Yielder::suspend; `NAME` in braces are const operands. In: rdx = link
// block, rdi = value for the parent. Out: rdi = the value of the next resume.
//
// CoroutineFrame at the coroutine's saved sp C (FRAME_*, 72 bytes) while it is
// suspended; C + FRAME_SIZE is rsp before this block:
//
//   FRAME_RESUME     0   the landing below (fresh coroutine: the trampoline)
//   FRAME_MXCSR      8   MXCSR         stored only with FP control
//   FRAME_FCW       12   x87 CW
//   FRAME_TEB       16   the coroutine's TEB stack fields (`TebStack`, 40
//                        bytes), stored only where there is a TEB
//   FRAME_RBX       56   rbx
//   FRAME_RBP       64   rbp
//
// The parent's ParentFrame layout is in asm/x86_64_win64_resume.s. FP control:
// the control bits of MXCSR and the x87 CW follow each side, the status flags
// follow the thread (the reasoning is in asm/x86_64_common.s). The registers
// are loaded only when the control state differs; the merged MXCSR value goes
// through the incoming side's slot, which is dead by then.
//
// TEB stack fields (CEM_TEB = 1 on Windows, 0 on UEFI, which has no TEB): the
// TEB describes the current stack to __chkstk (StackLimit), the exception
// dispatcher and RtlVirtualUnwind ([StackLimit, StackBase)),
// SetThreadStackGuarantee (GuaranteedStackBytes, DeallocationStack) and
// Wine's dispatcher (ExceptionList), so each side's values go with its stack:
// saved into the outgoing side's frame, loaded from the incoming side's, on
// every switch. r10 holds the TEB's address (NT_TIB.Self, gs:TEB_SELF).
    pushq   %rbp
    pushq   %rbx
    subq    ${FRAME_RBX}-{FRAME_MXCSR}, %rsp
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
.if {CEM_TEB}
    movq    %gs:{TEB_SELF}, %r10
    movq    {TEB_STACK_BASE}(%r10), %rax
    movq    %rax, {FRAME_TEB}+{TEB_SLOT_STACK_BASE}(%rcx)
    movq    {TEB_STACK_LIMIT}(%r10), %rax
    movq    %rax, {FRAME_TEB}+{TEB_SLOT_STACK_LIMIT}(%rcx)
    movq    {TEB_DEALLOCATION_STACK}(%r10), %rax
    movq    %rax, {FRAME_TEB}+{TEB_SLOT_DEALLOCATION}(%rcx)
    movq    {TEB_EXCEPTION_LIST}(%r10), %rax
    movq    %rax, {FRAME_TEB}+{TEB_SLOT_EXCEPTION_LIST}(%rcx)
    movl    {TEB_GUARANTEED_STACK_BYTES}(%r10), %eax
    movl    %eax, {FRAME_TEB}+{TEB_SLOT_GUARANTEED}(%rcx)
.endif
    // Onto the parent's stack, at its ParentFrame.
    movq    {LINK_PARENT_SP}(%rdx), %rsp
.if {CEM_TEB}
    movq    {PARENT_TEB}+{TEB_SLOT_STACK_BASE}(%rsp), %rax
    movq    %rax, {TEB_STACK_BASE}(%r10)
    movq    {PARENT_TEB}+{TEB_SLOT_STACK_LIMIT}(%rsp), %rax
    movq    %rax, {TEB_STACK_LIMIT}(%r10)
    movq    {PARENT_TEB}+{TEB_SLOT_DEALLOCATION}(%rsp), %rax
    movq    %rax, {TEB_DEALLOCATION_STACK}(%r10)
    movq    {PARENT_TEB}+{TEB_SLOT_EXCEPTION_LIST}(%rsp), %rax
    movq    %rax, {TEB_EXCEPTION_LIST}(%r10)
    movl    {PARENT_TEB}+{TEB_SLOT_GUARANTEED}(%rsp), %eax
    movl    %eax, {TEB_GUARANTEED_STACK_BYTES}(%r10)
.endif
.if {FP_STATE}
    cmpb    $0, {LINK_FP_CONTROL}(%rdx)
    je      4f
    FP_CONTROL_LOAD {FRAME_MXCSR}(%rcx), {FRAME_FCW}(%rcx), {PARENT_MXCSR}(%rsp), {PARENT_FCW}(%rsp), {PARENT_MXCSR}(%rsp), %r8d, %r9d, %r11d
4:
.endif
    popq    %rbp
    // To the parent's resume site, right after its call: predicted.
    retq
2:
    // Landing. Entered by the parent's call with rdx = link block, rcx = C,
    // rdi = value, rsp = the parent's stack below PARENT_RESUME.
    pushq   %rbp
    // rsp is the parent's P now: what the next suspend switches back to.
    movq    %rsp, {LINK_PARENT_SP}(%rdx)
.if {CEM_TEB}
    movq    %gs:{TEB_SELF}, %r10
    movq    {TEB_STACK_BASE}(%r10), %rax
    movq    %rax, {PARENT_TEB}+{TEB_SLOT_STACK_BASE}(%rsp)
    movq    {TEB_STACK_LIMIT}(%r10), %rax
    movq    %rax, {PARENT_TEB}+{TEB_SLOT_STACK_LIMIT}(%rsp)
    movq    {TEB_DEALLOCATION_STACK}(%r10), %rax
    movq    %rax, {PARENT_TEB}+{TEB_SLOT_DEALLOCATION}(%rsp)
    movq    {TEB_EXCEPTION_LIST}(%r10), %rax
    movq    %rax, {PARENT_TEB}+{TEB_SLOT_EXCEPTION_LIST}(%rsp)
    movl    {TEB_GUARANTEED_STACK_BYTES}(%r10), %eax
    movl    %eax, {PARENT_TEB}+{TEB_SLOT_GUARANTEED}(%rsp)
    movq    {FRAME_TEB}+{TEB_SLOT_STACK_BASE}(%rcx), %rax
    movq    %rax, {TEB_STACK_BASE}(%r10)
    movq    {FRAME_TEB}+{TEB_SLOT_STACK_LIMIT}(%rcx), %rax
    movq    %rax, {TEB_STACK_LIMIT}(%r10)
    movq    {FRAME_TEB}+{TEB_SLOT_DEALLOCATION}(%rcx), %rax
    movq    %rax, {TEB_DEALLOCATION_STACK}(%r10)
    movq    {FRAME_TEB}+{TEB_SLOT_EXCEPTION_LIST}(%rcx), %rax
    movq    %rax, {TEB_EXCEPTION_LIST}(%r10)
    movl    {FRAME_TEB}+{TEB_SLOT_GUARANTEED}(%rcx), %eax
    movl    %eax, {TEB_GUARANTEED_STACK_BYTES}(%r10)
.endif
.if {FP_STATE}
    cmpb    $0, {LINK_FP_CONTROL}(%rdx)
    je      5f
    FP_CONTROL_LOAD {PARENT_MXCSR}(%rsp), {PARENT_FCW}(%rsp), {FRAME_MXCSR}(%rcx), {FRAME_FCW}(%rcx), {FRAME_MXCSR}(%rcx), %r8d, %r9d, %r11d
5:
.endif
    movq    {FRAME_RBX}(%rcx), %rbx
    movq    {FRAME_RBP}(%rcx), %rbp
    leaq    {FRAME_SIZE}(%rcx), %rsp

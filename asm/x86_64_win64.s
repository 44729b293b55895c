// cem-ctx: context switch for the Microsoft x64 calling convention (Windows).
// AT&T syntax. Object-format macros (FUNC_BEGIN, FUNC_END) and the CEM_FP_STATE
// flag come from src/arch/mod.rs (COFF variant), prepended by src/arch/x86_64_win64.rs.
//
// Saved state: cem_context_t, 288 bytes, 8-byte aligned. Every offset is asserted
// in src/arch/x86_64_win64.rs (static_assertions) and c-tests/test_layout.c (offsetof).
// The xmm slots are accessed with movups, so the struct needs no 16-byte alignment.
//
//   offset  size  field                   contents
//   ------  ----  ----------------------  ------------------------------------------
//        0     8  rbx                     \
//        8     8  rbp                      |
//       16     8  rdi                      | nonvolatile general registers
//       24     8  rsi                      | ("x64 calling convention", register
//       32     8  r12                      |  volatility and preservation)
//       40     8  r13                      |
//       48     8  r14                      |
//       56     8  r15                     /
//       64     8  rsp                     rsp at the switch; [rsp] = resume address
//       72     4  mxcsr                   MXCSR (bits 6-15 nonvolatile)
//       76     4  fpu_cw                  x87 control word, low 16 bits (nonvolatile)
//       80     8  stack_base              TEB NT_TIB.StackBase           gs:[0x08]
//       88     8  stack_limit             TEB NT_TIB.StackLimit          gs:[0x10]
//       96     8  deallocation_stack      TEB DeallocationStack          gs:[0x1478]
//      104     8  exception_list          TEB NT_TIB.ExceptionList       gs:[0x00]
//      112     4  guaranteed_stack_bytes  TEB GuaranteedStackBytes       gs:[0x1748]
//      116    12  _reserved               zero
//      128   160  xmm6 .. xmm15           nonvolatile, all 128 bits each
//
// Why the TEB fields: Windows describes the current stack in the Thread
// Environment Block. __chkstk compares against StackLimit, the exception
// dispatcher and RtlVirtualUnwind reject frames outside [StackLimit, StackBase),
// SetThreadStackGuarantee reads GuaranteedStackBytes, and Wine's dispatcher still
// walks ExceptionList. A switch that leaves them describing the old stack breaks
// stack probes, SEH and C++ exceptions on the new one.

// CEM_TEB (from src/arch/x86_64_win64.rs) is 1 on Windows and 0 on UEFI, which
// uses this calling convention without a TEB (gs: points at none there). With
// 0, TEB_SELF, SAVE_TEB_STACK and LOAD_TEB_STACK assemble to nothing and the
// TEB slots stay in the layouts, unused.

// Loads the TEB address through its self pointer (NT_TIB.Self, gs:[0x30]), so
// the field accesses are plain loads and stores.
.macro TEB_SELF reg
.if CEM_TEB
    movq    %gs:0x30, \reg
.endif
.endm

// Copies the five TEB stack fields (teb = TEB address register) to the five
// 8-byte slots at off(base), in layout order: StackBase, StackLimit,
// DeallocationStack, ExceptionList, GuaranteedStackBytes (4 bytes).
.macro SAVE_TEB_STACK teb, base, off, tmp, tmp32
.if CEM_TEB
    movq    0x08(\teb), \tmp
    movq    \tmp, \off(\base)
    movq    0x10(\teb), \tmp
    movq    \tmp, \off+8(\base)
    movq    0x1478(\teb), \tmp
    movq    \tmp, \off+16(\base)
    movq    0x00(\teb), \tmp
    movq    \tmp, \off+24(\base)
    movl    0x1748(\teb), \tmp32
    movl    \tmp32, \off+32(\base)
.endif
.endm

// The reverse: loads the TEB stack fields from the slots at off(base).
.macro LOAD_TEB_STACK teb, base, off, tmp, tmp32
.if CEM_TEB
    movq    \off(\base), \tmp
    movq    \tmp, 0x08(\teb)
    movq    \off+8(\base), \tmp
    movq    \tmp, 0x10(\teb)
    movq    \off+16(\base), \tmp
    movq    \tmp, 0x1478(\teb)
    movq    \off+24(\base), \tmp
    movq    \tmp, 0x00(\teb)
    movl    \off+32(\base), \tmp32
    movl    \tmp32, 0x1748(\teb)
.endif
.endm


// void cem_swapcontext(cem_context_t *save_ctx /* rcx */,
//                      const cem_context_t *restore_ctx /* rdx */);
// void *cem_swapcontext_value(cem_context_t *save_ctx, const cem_context_t *restore_ctx,
//                             void *value /* r8 */);
// Same code: the value travels in rax and becomes the return value of the
// cem_swapcontext_value call the resumed side is suspended in.
FUNC_BEGIN cem_swapcontext
FUNC_ENTRY cem_swapcontext_value
    .seh_proc cem_swapcontext
    // No prologue: nothing is pushed, so [rsp] is the return address at every
    // instruction, which is what empty unwind info tells RtlVirtualUnwind.
    // That stays true after rsp moves to the other stack.
    .seh_endprologue
    movq    %r8, %rax
    movq    %rbx, 0(%rcx)
    movq    %rbp, 8(%rcx)
    movq    %rdi, 16(%rcx)
    movq    %rsi, 24(%rcx)
    movq    %r12, 32(%rcx)
    movq    %r13, 40(%rcx)
    movq    %r14, 48(%rcx)
    movq    %r15, 56(%rcx)
    movq    %rsp, 64(%rcx)
    movups  %xmm6, 128(%rcx)
    movups  %xmm7, 144(%rcx)
    movups  %xmm8, 160(%rcx)
    movups  %xmm9, 176(%rcx)
    movups  %xmm10, 192(%rcx)
    movups  %xmm11, 208(%rcx)
    movups  %xmm12, 224(%rcx)
    movups  %xmm13, 240(%rcx)
    movups  %xmm14, 256(%rcx)
    movups  %xmm15, 272(%rcx)
    // r8-r11 are volatile scratch.
    TEB_SELF %r10
    SAVE_TEB_STACK %r10, %rcx, 80, %r8, %r8d
.if CEM_FP_STATE
    SWITCH_FP_CONTROL 72(%rcx), 76(%rcx), 72(%rdx), 76(%rdx)
.endif
    LOAD_TEB_STACK %r10, %rdx, 80, %r8, %r8d
    movups  128(%rdx), %xmm6
    movups  144(%rdx), %xmm7
    movups  160(%rdx), %xmm8
    movups  176(%rdx), %xmm9
    movups  192(%rdx), %xmm10
    movups  208(%rdx), %xmm11
    movups  224(%rdx), %xmm12
    movups  240(%rdx), %xmm13
    movups  256(%rdx), %xmm14
    movups  272(%rdx), %xmm15
    movq    0(%rdx), %rbx
    movq    8(%rdx), %rbp
    movq    16(%rdx), %rdi
    movq    24(%rdx), %rsi
    movq    32(%rdx), %r12
    movq    40(%rdx), %r13
    movq    48(%rdx), %r14
    movq    56(%rdx), %r15
    movq    64(%rdx), %rsp
    // pop + indirect jmp instead of ret: the return-stack buffer would predict
    // this thread's last call, on the other stack, and miss on every switch.
    popq    %r8
    jmpq    *%r8
    .seh_endproc
FUNC_END cem_swapcontext_value
FUNC_END cem_swapcontext

// Entry trampoline of a fresh context. cem_makecontext builds this frame at the
// 16-byte aligned stack top T:
//   T-16  0                       fake return address: ends every stack walk
//   T-48  32 bytes                shadow (home) space of this frame's callees
//   T-56  &cem_ctx_x86_64_win64_start   popped by the first switch
// and sets rbx = func, rsi = return_func (or cem_context_trap), rdi =
// cem_context_trap, r12 = func's argument, rbp = 0. After the pop rsp = T-48:
// 16-byte aligned before each call, with the callee's 32-byte home space above
// its return address.
//
// The unwind info describes a 32-byte stack allocation that the (never executed)
// prologue instruction below would have made, so RtlVirtualUnwind computes this
// frame's return address at T-16 and finds 0: the walk ends here cleanly.
FUNC_BEGIN cem_ctx_x86_64_win64_frame
    .seh_proc cem_ctx_x86_64_win64_frame
    subq    $32, %rsp
    .seh_stackalloc 32
    .seh_endprologue
FUNC_ENTRY cem_ctx_x86_64_win64_start
    movq    %r12, %rcx
    callq   *%rbx
    // func returned: return_func on the same stack, same alignment.
    callq   *%rsi
    // return_func returned too: stop at the named trap.
    callq   *%rdi
    // Unreachable; keeps the return address of the last call inside this
    // function's unwind range.
    int3
    .seh_endproc
FUNC_END cem_ctx_x86_64_win64_frame

// The documented stop for a context with nowhere to return to, and for invalid
// arguments to cem_makecontext: ud2 raises EXCEPTION_ILLEGAL_INSTRUCTION with
// this symbol at the faulting address.
FUNC_BEGIN cem_context_trap
    .seh_proc cem_context_trap
    .seh_endprologue
    ud2
    .seh_endproc
FUNC_END cem_context_trap

// ---------------------------------------------------------------------------
// Asymmetric fast path for the Rust Coroutine type (src/coroutine.rs).
//
// Resume is a `call` and suspend ends in the matching `ret`, so the return-
// stack buffer stays balanced; the coroutine is entered with an indirect jmp.
// rbx, rbp, the FP control state and the TEB stack fields are saved here; the
// inline asm at both call sites declares every other register (rdi, rsi,
// r12-r15, xmm6-xmm15 included) clobbered, so the compiler saves just the
// live nonvolatile ones. Internal convention (not the Microsoft one): rdi
// carries the value, rdx the link block.
//
// Frame a suspended side leaves on its own stack, at its saved sp (72 bytes):
//   +0   MXCSR (4), x87 control word (2), unused (2)
//   +8   rbx
//   +16  rbp
//   +24  TEB StackBase, StackLimit, DeallocationStack, ExceptionList,
//        GuaranteedStackBytes (5 slots of 8 bytes)
//   +64  where it continues (for the parent: the return address of its call)
// The link block (32 bytes, on the coroutine stack) holds the parent's sp at
// +0 while the coroutine runs, the coroutine's sp at +8 while suspended, and
// at +16 a byte that is nonzero when the coroutine keeps its own MXCSR/x87
// control word (the default; see x86_64_sysv.s). The TEB fields are always
// switched where there is a TEB (CEM_TEB): they are what makes exceptions and
// stack probes work.

// In: rdi = value for the coroutine, rdx = link block. Entered by `call`.
FUNC_BEGIN cem_ctx_x86_64_win64_resume
    .seh_proc cem_ctx_x86_64_win64_resume
    subq    $64, %rsp
    .seh_stackalloc 64
    .seh_endprologue
    movq    %rbx, 8(%rsp)
    movq    %rbp, 16(%rsp)
    TEB_SELF %r10
    SAVE_TEB_STACK %r10, %rsp, 24, %rax, %eax
    movq    8(%rdx), %rsi
    movq    %rsp, 0(%rdx)
.if CEM_FP_STATE
    cmpb    $0, 16(%rdx)
    je      3f
    SWITCH_FP_CONTROL 0(%rsp), 4(%rsp), 0(%rsi), 4(%rsi)
3:
.endif
    LOAD_TEB_STACK %r10, %rsi, 24, %rax, %eax
    movq    8(%rsi), %rbx
    movq    16(%rsi), %rbp
    movq    64(%rsi), %rcx
    leaq    72(%rsi), %rsp
    // Not ret: the RSB top is our caller's return address, which suspend's
    // ret will consume.
    jmpq    *%rcx
    .seh_endproc
FUNC_END cem_ctx_x86_64_win64_resume

// In: rax = where the coroutine continues, rdi = value for the parent,
// rdx = link block. Entered by `jmp` from the suspend site.
FUNC_BEGIN cem_ctx_x86_64_win64_suspend
    .seh_proc cem_ctx_x86_64_win64_suspend
    .seh_endprologue
    pushq   %rax
    subq    $64, %rsp
    movq    %rbx, 8(%rsp)
    movq    %rbp, 16(%rsp)
    TEB_SELF %r10
    SAVE_TEB_STACK %r10, %rsp, 24, %rax, %eax
    movq    %rsp, 8(%rdx)
    movq    0(%rdx), %rsi
.if CEM_FP_STATE
    cmpb    $0, 16(%rdx)
    je      3f
    SWITCH_FP_CONTROL 0(%rsp), 4(%rsp), 0(%rsi), 4(%rsi)
3:
.endif
    LOAD_TEB_STACK %r10, %rsi, 24, %rax, %eax
    movq    8(%rsi), %rbx
    movq    16(%rsi), %rbp
    leaq    64(%rsi), %rsp
    retq
    .seh_endproc
FUNC_END cem_ctx_x86_64_win64_suspend

// First code of a Rust coroutine. The initial frame "continues" here with
// rsp 16-byte aligned and a zero qword at [rsp] (the end-of-walk slot),
// rbx = the coroutine's data block (first word: its entry function), rbp = 0,
// rdi = the first resume value. Its prologue really runs: it allocates the
// callee's 32-byte home space, and the unwind info that describes it lets
// RtlVirtualUnwind find the zero return address and stop.
FUNC_BEGIN cem_ctx_x86_64_win64_coroutine_start
    .seh_proc cem_ctx_x86_64_win64_coroutine_start
    subq    $32, %rsp
    .seh_stackalloc 32
    .seh_endprologue
    movq    %rdi, %rcx
    movq    %rbx, %rdx
    // entry(value, data) never returns: it ends with a final suspend.
    callq   *(%rbx)
    int3
    .seh_endproc
FUNC_END cem_ctx_x86_64_win64_coroutine_start

.purgem TEB_SELF
.purgem SAVE_TEB_STACK
.purgem LOAD_TEB_STACK

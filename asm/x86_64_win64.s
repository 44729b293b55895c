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

// void cem_swapcontext(cem_context_t *save_ctx /* rcx */,
//                      const cem_context_t *restore_ctx /* rdx */);
FUNC_BEGIN cem_swapcontext
    .seh_proc cem_swapcontext
    // No prologue: nothing is pushed, so [rsp] is the return address at every
    // instruction, which is what empty unwind info tells RtlVirtualUnwind.
    // That stays true after rsp moves to the other stack.
    .seh_endprologue
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
    // TEB through its self pointer (NT_TIB.Self, gs:[0x30]), so the field
    // accesses below are plain loads and stores. r8-r11 are volatile scratch.
    movq    %gs:0x30, %r10
    movq    0x08(%r10), %r8
    movq    %r8, 80(%rcx)
    movq    0x10(%r10), %r8
    movq    %r8, 88(%rcx)
    movq    0x1478(%r10), %r8
    movq    %r8, 96(%rcx)
    movq    0x00(%r10), %r8
    movq    %r8, 104(%rcx)
    movl    0x1748(%r10), %r8d
    movl    %r8d, 112(%rcx)
.if CEM_FP_STATE
    stmxcsr 72(%rcx)
    fnstcw  76(%rcx)
    // Reload only when the control bits differ (MXCSR 6-15, whole x87 CW):
    // ldmxcsr/fldcw serialise FP execution. Each load matches the size of the
    // store that wrote it so it can be store-forwarded (see x86_64_sysv.s).
    movl    72(%rdx), %eax
    xorl    72(%rcx), %eax
    movzwl  76(%rdx), %r9d
    xorw    76(%rcx), %r9w
    andl    $0xffc0, %eax
    orl     %r9d, %eax
    jz      2f
    ldmxcsr 72(%rdx)
    fldcw   76(%rdx)
2:
.endif
    movq    80(%rdx), %r8
    movq    %r8, 0x08(%r10)
    movq    88(%rdx), %r8
    movq    %r8, 0x10(%r10)
    movq    96(%rdx), %r8
    movq    %r8, 0x1478(%r10)
    movq    104(%rdx), %r8
    movq    %r8, 0x00(%r10)
    movl    112(%rdx), %r8d
    movl    %r8d, 0x1748(%r10)
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
FUNC_END cem_swapcontext

// Entry trampoline of a fresh context. cem_makecontext builds this frame at the
// 16-byte aligned stack top T:
//   T-16  0                       fake return address: ends every stack walk
//   T-48  32 bytes                shadow (home) space of this frame's callees
//   T-56  &cem_ctx_x86_64_win64_start   popped by the first switch
// and sets rbx = func, rsi = return_func (or cem_context_trap), rdi =
// cem_context_trap, rbp = 0. After the pop rsp = T-48: 16-byte aligned before
// each call, with the callee's 32-byte home space above its return address.
//
// The unwind info describes a 32-byte stack allocation that the (never executed)
// prologue instruction below would have made, so RtlVirtualUnwind computes this
// frame's return address at T-16 and finds 0: the walk ends here cleanly.
FUNC_BEGIN cem_ctx_x86_64_win64_frame
    .seh_proc cem_ctx_x86_64_win64_frame
    subq    $32, %rsp
    .seh_stackalloc 32
    .seh_endprologue
    .globl  cem_ctx_x86_64_win64_start
    .def    cem_ctx_x86_64_win64_start; .scl 2; .type 32; .endef
cem_ctx_x86_64_win64_start:
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

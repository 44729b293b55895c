// cem-ctx: context switch for the x86-64 System V psABI (Linux, macOS, bare metal).
// AT&T syntax. Object-format macros (FUNC_BEGIN, FUNC_END, GNU_PROPERTY) and the
// CEM_FP_STATE flag come from src/arch/mod.rs, prepended by src/arch/x86_64_sysv.rs.
//
// Saved state: cem_context_t, 64 bytes, 8-byte aligned. Every offset is asserted
// in src/arch/x86_64_sysv.rs (static_assertions) and c-tests/test_layout.c (offsetof).
//
//   offset  size  field     contents
//   ------  ----  --------  ------------------------------------------------------
//        0     8  rbx       rbx     \
//        8     8  rbp       rbp      |
//       16     8  r12       r12      | callee-saved general registers,
//       24     8  r13       r13      | psABI §3.2.1, Figure 3.4
//       32     8  r14       r14      |
//       40     8  r15       r15     /
//       48     8  rsp       rsp at the switch; [rsp] holds the address to resume at
//       56     4  mxcsr     MXCSR (control bits 6-15 are callee-saved, §3.2.1)
//       60     2  _padding  x87 control word (callee-saved, §3.2.1); Cem's name kept
//       62     2  _padding  upper half: zero from cem_makecontext, never used
//
// The resume address is not a field: it is the return address that the call into
// cem_swapcontext pushed, so the layout stays exactly Cem's.

    GNU_PROPERTY 0xc0000002, 0x1     // GNU_PROPERTY_X86_FEATURE_1_AND: IBT

// void cem_swapcontext(cem_context_t *save_ctx /* rdi */,
//                      const cem_context_t *restore_ctx /* rsi */);
FUNC_BEGIN cem_swapcontext
    .cfi_startproc
    // IBT landing pad: C code may call us through a function pointer.
    endbr64
    movq    %rbx, 0(%rdi)
    movq    %rbp, 8(%rdi)
    movq    %r12, 16(%rdi)
    movq    %r13, 24(%rdi)
    movq    %r14, 32(%rdi)
    movq    %r15, 40(%rdi)
    // Saved after nothing was pushed, so [rsp] is our return address and the
    // red zone below rsp is untouched: the caller may keep data there.
    movq    %rsp, 48(%rdi)
.if CEM_FP_STATE
    stmxcsr 56(%rdi)
    fnstcw  60(%rdi)
    // Reloading MXCSR and the x87 control word costs more than the rest of the
    // switch (ldmxcsr and fldcw serialise FP execution), and the two contexts
    // almost always agree. Compare only the control bits (MXCSR bits 6-15 and
    // the whole control word: the MXCSR status flags are caller-saved) and
    // reload when they differ. Each load has the size of the store that wrote
    // its bytes (4 for stmxcsr, 2 for fnstcw): one wider load spanning both
    // stores cannot be store-forwarded and stalls the switch (measured here:
    // 18 ns per switch instead of 5). rax and rcx are caller-saved scratch.
    movl    56(%rsi), %eax
    xorl    56(%rdi), %eax
    movzwl  60(%rsi), %ecx
    xorw    60(%rdi), %cx
    andl    $0xffc0, %eax
    orl     %ecx, %eax
    jz      2f
    ldmxcsr 56(%rsi)
    fldcw   60(%rsi)
2:
.endif
    // When save_ctx == restore_ctx every load below reads what was just stored,
    // so the call simply returns.
    movq    0(%rsi), %rbx
    movq    8(%rsi), %rbp
    movq    16(%rsi), %r12
    movq    24(%rsi), %r13
    movq    32(%rsi), %r14
    movq    40(%rsi), %r15
    // From here on we run on the other stack. Its top also holds a return
    // address, so the CFA rule (rsp + 8) stays true across the switch.
    movq    48(%rsi), %rsp
    // Resume with pop + indirect jmp rather than ret: the return-stack buffer
    // predicts ret from the *calls* this thread made, and the address we go to
    // was pushed by a call on another stack, so a ret mispredicts on every
    // switch (~10 ns measured here). The indirect branch is predicted by the BTB
    // from its own history instead. `notrack`, because resume addresses are
    // return sites without endbr64; under IBT this is what the NOTRACK
    // prefix exists for. (Shadow stacks are not supported: we do not set SHSTK.)
    popq    %rcx
    .cfi_adjust_cfa_offset -8
    notrack jmpq *%rcx
    .cfi_endproc
FUNC_END cem_swapcontext

// First code a fresh context runs; cem_makecontext leaves its return address at
// the top of the new stack, so the first switch's pop + jmp lands here with
//   rbx = func, r12 = return_func (or cem_context_trap when NULL),
//   r13 = cem_context_trap, rbp = 0, rsp = stack top (16-byte aligned).
// The calls keep the psABI entry alignment: (rsp + 8) % 16 == 0 in func.
FUNC_BEGIN cem_ctx_x86_64_sysv_start
    .cfi_startproc
    // No caller exists above this frame: tell unwinders and debuggers so that
    // a backtrace ends here instead of walking whatever lies past the stack top.
    .cfi_undefined %rip
    endbr64
    callq   *%rbx
    // func returned: run return_func on the same stack (rsp is the top again,
    // so its entry alignment matches func's).
    callq   *%r12
    // return_func returned too. There is nowhere to go: stop at the named trap.
    callq   *%r13
    .cfi_endproc
FUNC_END cem_ctx_x86_64_sysv_start

// The documented stop for a context that has nowhere to return to, and for
// invalid arguments to cem_makecontext. ud2 raises #UD (SIGILL on Linux and
// macOS) with this symbol at the top of the backtrace.
FUNC_BEGIN cem_context_trap
    .cfi_startproc
    endbr64
    ud2
    .cfi_endproc
FUNC_END cem_context_trap

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
// void *cem_swapcontext_value(cem_context_t *save_ctx, const cem_context_t *restore_ctx,
//                             void *value /* rdx */);
// Same code: the value travels in rax and becomes the return value of the
// cem_swapcontext_value call that the resumed side is suspended in (callers of
// the void variant ignore rax).
FUNC_BEGIN cem_swapcontext
FUNC_ENTRY cem_swapcontext_value
    .cfi_startproc
    // IBT landing pad: C code may call us through a function pointer.
    endbr64
    movq    %rdx, %rax
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
    SWITCH_FP_CONTROL 56(%rdi), 60(%rdi), 56(%rsi), 60(%rsi)
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
FUNC_END cem_swapcontext_value
FUNC_END cem_swapcontext

// First code a fresh context runs; cem_makecontext leaves its return address at
// the top of the new stack, so the first switch's pop + jmp lands here with
//   rbx = func, r12 = return_func (or cem_context_trap when NULL),
//   r13 = cem_context_trap, r14 = func's argument, rbp = 0,
//   rsp = stack top (16-byte aligned).
// The calls keep the psABI entry alignment: (rsp + 8) % 16 == 0 in func.
FUNC_BEGIN cem_ctx_x86_64_sysv_start
    .cfi_startproc
    // No caller exists above this frame: tell unwinders and debuggers so that
    // a backtrace ends here instead of walking whatever lies past the stack top.
    .cfi_undefined %rip
    endbr64
    movq    %r14, %rdi
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

// ---------------------------------------------------------------------------
// Asymmetric fast path for the Rust Coroutine type (src/coroutine.rs).
//
// Resume is a `call` and suspend ends in the matching `ret`, so the CPU's
// return-stack buffer stays balanced: per round trip there is one call, one
// predicted ret and one indirect jmp (predicted by the BTB). Only rbx, rbp and
// the FP control state are saved here; the inline asm at both call sites
// declares every other register clobbered, so the compiler saves just the
// callee-saved registers that are live there.
//
// Frame a suspended side leaves on its own stack, at its saved sp:
//   +0   MXCSR (4 bytes), x87 control word (2), unused (2)
//   +8   rbx
//   +16  rbp
//   +24  return address: where it continues
// The link block (32 bytes, on the coroutine stack) holds the parent's sp at
// +0 while the coroutine runs, the coroutine's sp at +8 while it is
// suspended, and at +16 a byte that is nonzero when this coroutine keeps its
// own MXCSR/x87 control word (the default). When it is zero (opt-in) both
// sides skip the FP control switch, which costs about half of a round trip on
// this project's AMD machine, and share one FP control state as ordinary
// calls do.

// In: rdi = value for the coroutine, rdx = link block. Entered by `call`.
// Returns (through cem_ctx_x86_64_sysv_suspend) with rdi = the value passed
// to suspend.
FUNC_BEGIN cem_ctx_x86_64_sysv_resume
FUNC_HIDDEN cem_ctx_x86_64_sysv_resume
    .cfi_startproc
    // No endbr64: reached only by a direct call from the resume site.
    pushq   %rbp
    .cfi_adjust_cfa_offset 8
    pushq   %rbx
    .cfi_adjust_cfa_offset 8
    subq    $8, %rsp
    .cfi_adjust_cfa_offset 8
    movq    8(%rdx), %rsi
    movq    %rsp, 0(%rdx)
.if CEM_FP_STATE
    cmpb    $0, 16(%rdx)
    je      3f
    SWITCH_FP_CONTROL 0(%rsp), 4(%rsp), 0(%rsi), 4(%rsi)
3:
.endif
    movq    8(%rsi), %rbx
    movq    16(%rsi), %rbp
    movq    24(%rsi), %rcx
    leaq    32(%rsi), %rsp
    // Not ret: the RSB top is our caller's return address, which suspend's
    // ret will consume.
    notrack jmpq *%rcx
    .cfi_endproc
FUNC_END cem_ctx_x86_64_sysv_resume

// In: rax = where the coroutine continues, rdi = value for the parent,
// rdx = link block. Entered by `jmp` from the suspend site, so that the only
// return address on the RSB is the parent's resume call, which the ret below
// consumes.
FUNC_BEGIN cem_ctx_x86_64_sysv_suspend
FUNC_HIDDEN cem_ctx_x86_64_sysv_suspend
    .cfi_startproc
    // Entered by jmp: this frame has no caller an unwinder could find.
    .cfi_undefined %rip
    // No endbr64: reached only by a direct jmp from the suspend site.
    pushq   %rax
    pushq   %rbp
    pushq   %rbx
    subq    $8, %rsp
    movq    %rsp, 8(%rdx)
    movq    0(%rdx), %rsi
.if CEM_FP_STATE
    cmpb    $0, 16(%rdx)
    je      3f
    SWITCH_FP_CONTROL 0(%rsp), 4(%rsp), 0(%rsi), 4(%rsi)
3:
.endif
    movq    8(%rsi), %rbx
    movq    16(%rsi), %rbp
    leaq    24(%rsi), %rsp
    retq
    .cfi_endproc
FUNC_END cem_ctx_x86_64_sysv_suspend

// First code of a Rust coroutine: the initial frame "continues" here with
// rbx = the coroutine's data block (whose first word is its entry function),
// rbp = 0, rdi = the first resume value, rsp 16-byte aligned.
FUNC_BEGIN cem_ctx_x86_64_sysv_coroutine_start
FUNC_HIDDEN cem_ctx_x86_64_sysv_coroutine_start
    .cfi_startproc
    .cfi_undefined %rip
    endbr64
    movq    %rbx, %rsi
    // entry(value, data) never returns: it ends with a final suspend.
    callq   *(%rbx)
    ud2
    .cfi_endproc
FUNC_END cem_ctx_x86_64_sysv_coroutine_start


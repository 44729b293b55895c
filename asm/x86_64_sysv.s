// cem-ctx: context switch for the x86-64 System V psABI (Linux, macOS, bare metal).
// AT&T syntax. The object-format macros (FUNC_BEGIN, FUNC_END, GNU_PROPERTY),
// the CEM_FP_STATE flag and every offset name (CTX_*, FRAME_*, LINK_*) come from
// abi_global_asm! in src/arch/x86_64_sysv.rs, which computes the offsets from the
// #[repr(C)] structs there: no offset is written as a number in this file.
//
// Saved state: cem_context_t (Rust `Context`), 64 bytes, 8-byte aligned.
//
//   name        offset  size  contents
//   ----------  ------  ----  -----------------------------------------------------
//   CTX_RBX          0     8  rbx     \
//   CTX_RBP          8     8  rbp      |
//   CTX_R12         16     8  r12      | callee-saved general registers,
//   CTX_R13         24     8  r13      | psABI §3.2.1, Figure 3.4
//   CTX_R14         32     8  r14      |
//   CTX_R15         40     8  r15     /
//   CTX_RSP         48     8  rsp at the switch; [rsp] holds the address to resume at
//   CTX_MXCSR       56     4  MXCSR; its control bits 6-15 are callee-saved (§3.2.1)
//                             and follow the context, its status flags 0-5 are
//                             caller-saved and follow the thread (see x86_64_common.s)
//   CTX_FCW         60     2  x87 control word (callee-saved, §3.2.1), in Cem's `_padding`
//                   62     2  upper half of `_padding`: zero from cem_makecontext
//
// The resume address is not a field: it is the return address that the call into
// cem_swapcontext pushed, so the layout stays exactly Cem's.
//
// The Rust Coroutine fast path is inline asm (asm/x86_64_sysv_resume.s and
// asm/x86_64_sysv_suspend.s, with the CoroutineFrame and ParentFrame layout
// tables); only its start trampoline is here, at the end of this file.

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
.if CEM_ASAN
    // Under AddressSanitizer (detected at run time through a weak reference,
    // see src/sanitizer.rs) the switch must be announced to ASan: take the
    // slow path in x86_64_sysv_asan.s. Without ASan this costs one
    // RIP-relative load of a RELRO word and a not-taken branch.
    cmpq    $0, cem_ctx_sanitizer_fns + SAN_START(%rip)
    jne     cem_ctx_x86_64_sysv_swap_asan
.endif
.if CEM_FP_STATE
    FP_CONTROL_SAVE CTX_MXCSR(%rdi), CTX_FCW(%rdi)
.endif
    movq    %rdx, %rax
    movq    %rbx, CTX_RBX(%rdi)
    movq    %rbp, CTX_RBP(%rdi)
    movq    %r12, CTX_R12(%rdi)
    movq    %r13, CTX_R13(%rdi)
    movq    %r14, CTX_R14(%rdi)
    movq    %r15, CTX_R15(%rdi)
    // Saved after nothing was pushed, so [rsp] is our return address.
    movq    %rsp, CTX_RSP(%rdi)
    // When save_ctx == restore_ctx every load below reads what was just stored,
    // so the call simply returns.
    movq    CTX_RBX(%rsi), %rbx
    movq    CTX_RBP(%rsi), %rbp
    movq    CTX_R12(%rsi), %r12
    movq    CTX_R13(%rsi), %r13
    movq    CTX_R14(%rsi), %r14
    movq    CTX_R15(%rsi), %r15
.if CEM_FP_STATE
    // Scheduled after the register moves, so the stores of FP_CONTROL_SAVE are
    // done when it reads them back. Its scratch is our red zone: this is a
    // leaf, and the caller's red zone ended where its call pushed our return
    // address.
    FP_CONTROL_LOAD CTX_MXCSR(%rdi), CTX_FCW(%rdi), CTX_MXCSR(%rsi), CTX_FCW(%rsi), -8(%rsp), %r8d, %r9d, %r10d
.endif
    // From here on we run on the other stack. Its top also holds a return
    // address, so the CFA rule (rsp + 8) stays true across the switch.
    movq    CTX_RSP(%rsi), %rsp
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

// First code a fresh context runs; cem_makecontext leaves its address at the
// top of the new stack (Rust `InitialFrame`), so the first switch's pop + jmp
// lands here with
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
// Start trampoline of a Rust Coroutine (src/coroutine.rs). The fast path
// itself is inline asm at its call sites: asm/x86_64_sysv_resume.s and
// asm/x86_64_sysv_suspend.s (frame layouts there). A fresh coroutine's
// CoroutineFrame resumes here instead of at a suspend site's landing, with
// the landing's registers: rdx = link block, rcx = the initial frame (rbx
// slot: the data block, whose first word is the entry function), rdi = the
// first resume value, rsp = the parent's stack below its PARENT_RESUME.
//
// This frame stays at the root of the coroutine stack for the coroutine's
// whole life, and its CFI continues every unwind and backtrace from inside
// the coroutine into whoever resumed it last: rbp holds the address of the
// link block's LINK_PARENT_SP, which the landing updates on every resume to
// the parent's ParentFrame P, so
//   CFA = *rbp + PARENT_SIZE (the parent's rsp before its resume block),
//   return address, rbx and rbp at their ParentFrame slots.
// The same two words make a frame record for frame-pointer walks (perf
// --call-graph=fp): [rbp] = P, where P holds the parent's rbp and its resume
// address. (The C API's cem_makecontext root stays a clean stop.)
FUNC_BEGIN cem_ctx_x86_64_sysv_coroutine_start
FUNC_HIDDEN cem_ctx_x86_64_sysv_coroutine_start
    .cfi_startproc
    // A signal frame to debuggers: gdb refuses a caller frame whose CFA is
    // below its callee's (a parent stack at a lower address than the
    // coroutine stack) except across a signal frame, which may switch stacks
    // (sigaltstack). The cost: unwinders look up the parent's return address
    // itself rather than the byte before it, which is why resume sites never
    // end with their call.
    .cfi_signal_frame
    endbr64
    pushq   %rbp
    movq    %rsp, LINK_PARENT_SP(%rdx)
.if CEM_FP_STATE
    cmpb    $0, LINK_FP_CONTROL(%rdx)
    je      3f
    FP_CONTROL_LOAD PARENT_MXCSR(%rsp), PARENT_FCW(%rsp), FRAME_MXCSR(%rcx), FRAME_FCW(%rcx), FRAME_MXCSR(%rcx), %r8d, %r9d, %r10d
3:
.endif
    movq    FRAME_RBX(%rcx), %rbx
    leaq    FRAME_SIZE(%rcx), %rsp
    leaq    LINK_PARENT_SP(%rdx), %rbp
    // DW_CFA_def_cfa_expression, 5 bytes: DW_OP_breg6 (rbp) 0, DW_OP_deref,
    // DW_OP_plus_uconst PARENT_SIZE (one ULEB128 byte: asserted < 128 in Rust).
    .cfi_escape 0x0f, 5, 0x76, 0x00, 0x06, 0x23, PARENT_SIZE
    .cfi_offset %rbx, PARENT_RBX - PARENT_SIZE
    .cfi_offset %rip, PARENT_RESUME - PARENT_SIZE
    .cfi_offset %rbp, PARENT_RBP - PARENT_SIZE
    // entry(value, data) never returns: it ends with a final suspend. It is
    // entered by jmp with a pushed return address rather than by call, so
    // that the return-stack buffer holds only the parent's resume call, which
    // the coroutine's first suspend (a ret) consumes. The pushed address is
    // for unwinders and keeps the psABI entry alignment.
    movq    %rbx, %rsi
    leaq    2f(%rip), %rax
    pushq   %rax
    jmpq    *(%rbx)
2:
    // Never reached; keeps the return address above inside this function.
    ud2
    .cfi_endproc
FUNC_END cem_ctx_x86_64_sysv_coroutine_start

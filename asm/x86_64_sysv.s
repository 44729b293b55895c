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
// Fast-path frame (Rust `CoroutineFrame`, 32 bytes) that a suspended side of a
// Rust Coroutine leaves at its saved sp:
//
//   FRAME_MXCSR      0     4  MXCSR
//   FRAME_FCW        4     2  x87 control word (2 bytes unused after it)
//   FRAME_RBX        8     8  rbx
//   FRAME_RBP       16     8  rbp
//   FRAME_RESUME    24     8  where it continues: last, where a call pushes it
//   FRAME_SIZE      32

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
// Asymmetric fast path for the Rust Coroutine type (src/coroutine.rs).
//
// Resume is a `call` and suspend ends in the matching `ret`, so the CPU's
// return-stack buffer stays balanced: per round trip there is one call, one
// predicted ret and one indirect jmp (predicted by the BTB). Only rbx, rbp and
// the FP control state are saved here; the inline asm at both call sites
// declares every other register clobbered, so the compiler saves just the
// callee-saved registers that are live there.
//
// A suspended side leaves a CoroutineFrame (table above) at its saved sp. The
// link block (Rust `CoroutineLink`, on the coroutine stack) holds the parent's
// sp (LINK_PARENT_SP) while the coroutine runs, the coroutine's sp
// (LINK_COROUTINE_SP) while it is suspended, and a byte (LINK_FP_CONTROL) that
// is nonzero when this coroutine keeps its own MXCSR/x87 control word (the
// default). When it is zero (opt-in) both sides skip the FP control switch,
// which costs about half of a round trip on this project's AMD machine, and
// share one FP control state as ordinary calls do.

// In: rdi = value for the coroutine, rdx = link block. Entered by `call`, which
// pushed the parent frame's FRAME_RESUME. Returns (through
// cem_ctx_x86_64_sysv_suspend) with rdi = the value passed to suspend.
FUNC_BEGIN cem_ctx_x86_64_sysv_resume
FUNC_HIDDEN cem_ctx_x86_64_sysv_resume
    .cfi_startproc
    // No endbr64: reached only by a direct call from the resume site.
    subq    $FRAME_RESUME, %rsp
    .cfi_adjust_cfa_offset FRAME_RESUME
    COROUTINE_FP_SAVE %rdx, %rsp
    movq    %rbx, FRAME_RBX(%rsp)
    movq    %rbp, FRAME_RBP(%rsp)
    movq    LINK_COROUTINE_SP(%rdx), %rsi
    movq    %rsp, LINK_PARENT_SP(%rdx)
    movq    FRAME_RBX(%rsi), %rbx
    movq    FRAME_RBP(%rsi), %rbp
    movq    FRAME_RESUME(%rsi), %rcx
    COROUTINE_FP_LOAD %rdx, %rsp, %rsi, %r8d, %r9d, %r10d
    leaq    FRAME_SIZE(%rsi), %rsp
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
    subq    $FRAME_SIZE, %rsp
    COROUTINE_FP_SAVE %rdx, %rsp
    movq    %rax, FRAME_RESUME(%rsp)
    movq    %rbx, FRAME_RBX(%rsp)
    movq    %rbp, FRAME_RBP(%rsp)
    movq    %rsp, LINK_COROUTINE_SP(%rdx)
    movq    LINK_PARENT_SP(%rdx), %rsi
    movq    FRAME_RBX(%rsi), %rbx
    movq    FRAME_RBP(%rsi), %rbp
    COROUTINE_FP_LOAD %rdx, %rsp, %rsi, %r8d, %r9d, %r10d
    // The parent's FRAME_RESUME is the return address of its resume call.
    leaq    FRAME_RESUME(%rsi), %rsp
    retq
    .cfi_endproc
FUNC_END cem_ctx_x86_64_sysv_suspend

// First code of a Rust coroutine: its initial CoroutineFrame "continues" here
// with rbx = the coroutine's data block (whose first word is its entry
// function), rbp = 0, rdi = the first resume value, rsp 16-byte aligned.
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

// cem-ctx: AddressSanitizer slow path of cem_swapcontext for the x86-64 System V
// psABI (ELF Linux only: CEM_ASAN is 0 elsewhere and this file assembles to
// nothing). The design is described in src/sanitizer.rs; in short:
//
// cem_swapcontext tests cem_ctx_sanitizer_fns (a RELRO word holding the weak
// address of __sanitizer_start_switch_fiber, 0 without ASan) and jumps here when
// the program runs under ASan. cem_context_t keeps Cem's layout, so what ASan
// needs about a suspended context lives on that context's own stack, in an
// AsanFrame (Rust `AsanFrame` in src/arch/x86_64_sysv.rs) at its saved rsp:
//
//   ASAN_RESUME      0  8  where it continues ([rsp] is the resume address, as
//                          for every suspended context: CEM_CONTEXT_GET_SP users
//                          and the fast path's pop + jmp rely on it)
//   ASAN_BOTTOM      8  8  low end of this stack \ written by whoever resumes us
//   ASAN_SIZE       16  8  its size              / (finish_switch_fiber), or by
//                                                  cem_makecontext for a fresh one
//   ASAN_FAKE       24  8  fake_stack_save of this side (start_switch_fiber)
//   ASAN_FRAME_SIZE 32     above it: the return address of the cem_swapcontext call
//
// Protocol of one switch A -> B (both slow paths, ASan's documented sequence):
//   A: __sanitizer_start_switch_fiber(&A.fake, B.bottom, B.size)   (B's frame)
//   A: save registers, rsp = A's frame, load B's registers and rsp, r11 = A's frame
//   B: __sanitizer_finish_switch_fiber(B.fake, &A.bottom, &A.size)
// so A's frame learns A's own bounds from ASan (for the main thread: the
// thread's stack, which no cem_makecontext ever saw) before anyone can resume A.
// A fresh context starts in cem_ctx_x86_64_sysv_asan_start with B.fake = NULL.
//
// Every register the fast path preserves is preserved here too; the only other
// difference a caller can see is the extra stack used below its frame: 56 bytes
// plus what the two ASan calls use.

.if CEM_ASAN

// Entered by jmp from cem_swapcontext: rdi = save_ctx, rsi = restore_ctx,
// rdx = value, [rsp] = return address into the caller (rsp = R, R % 16 == 8).
FUNC_BEGIN cem_ctx_x86_64_sysv_swap_asan
FUNC_HIDDEN cem_ctx_x86_64_sysv_swap_asan
    .cfi_startproc
    // Switching to ourselves is a no-op (the fast path's loads would read back
    // what it stored); our frame's bounds are unknown, so do not annotate.
    cmpq    %rsi, %rdi
    je      9f
    // R - 56: three argument slots for the ASan call, then the AsanFrame at
    // R - 32 up to the caller's return address at R. rsp = R - 56 is 16-byte
    // aligned for the call (psABI §3.2.2).
    subq    $(ASAN_FRAME_SIZE + 24), %rsp
    .cfi_adjust_cfa_offset ASAN_FRAME_SIZE + 24
    movq    %rdi, 0(%rsp)
    movq    %rsi, 8(%rsp)
    movq    %rdx, 16(%rsp)
    movq    CTX_RSP(%rsi), %rax           // B's frame
    leaq    24 + ASAN_FAKE(%rsp), %rdi    // &A.fake
    movq    ASAN_BOTTOM(%rax), %rsi
    movq    ASAN_SIZE(%rax), %rdx
    callq   *cem_ctx_sanitizer_fns + SAN_START(%rip)
    movq    0(%rsp), %rdi
    movq    8(%rsp), %rsi
    movq    16(%rsp), %rdx
    leaq    2f(%rip), %rax
    movq    %rax, 24 + ASAN_RESUME(%rsp)
    leaq    24(%rsp), %r11                // A's frame: our saved rsp
.if CEM_FP_STATE
    FP_CONTROL_SAVE CTX_MXCSR(%rdi), CTX_FCW(%rdi)
.endif
    movq    %rbx, CTX_RBX(%rdi)
    movq    %rbp, CTX_RBP(%rdi)
    movq    %r12, CTX_R12(%rdi)
    movq    %r13, CTX_R13(%rdi)
    movq    %r14, CTX_R14(%rdi)
    movq    %r15, CTX_R15(%rdi)
    movq    %r11, CTX_RSP(%rdi)
    movq    CTX_RBX(%rsi), %rbx
    movq    CTX_RBP(%rsi), %rbp
    movq    CTX_R12(%rsi), %r12
    movq    CTX_R13(%rsi), %r13
    movq    CTX_R14(%rsi), %r14
    movq    CTX_R15(%rsi), %r15
.if CEM_FP_STATE
    // Scratch -8(%rsp) lies below rsp, in our red zone; no call follows.
    FP_CONTROL_LOAD CTX_MXCSR(%rdi), CTX_FCW(%rdi), CTX_MXCSR(%rsi), CTX_FCW(%rsi), -8(%rsp), %r8d, %r9d, %r10d
.endif
    movq    %rdx, %rax
    movq    CTX_RSP(%rsi), %rsp
    popq    %rcx
    // notrack: resume sites carry no endbr64 (see cem_swapcontext).
    notrack jmpq *%rcx

    // B's side, resumed by some other slow path: rsp = own frame + 8 (16-byte
    // aligned), r11 = the switcher's frame, rax = the value.
2:
    .cfi_def_cfa_offset ASAN_FRAME_SIZE
    // The value waits in our bottom slot: the switcher has read it already.
    movq    %rax, ASAN_BOTTOM - 8(%rsp)
    movq    ASAN_FAKE - 8(%rsp), %rdi
    leaq    ASAN_BOTTOM(%r11), %rsi
    leaq    ASAN_SIZE(%r11), %rdx
    callq   *cem_ctx_sanitizer_fns + SAN_FINISH(%rip)
    movq    ASAN_BOTTOM - 8(%rsp), %rax
    addq    $(ASAN_FRAME_SIZE - 8), %rsp
    .cfi_adjust_cfa_offset -(ASAN_FRAME_SIZE - 8)
    retq
9:
    movq    %rdx, %rax
    retq
    .cfi_endproc
FUNC_END cem_ctx_x86_64_sysv_swap_asan

// First code of a context made while ASan is present: its AsanFrame (at
// top - 32, see init in src/arch/x86_64_sysv.rs) holds the stack's bounds for
// the switcher and a NULL fake_stack_save. The switcher's pop left
// rsp = top - 24, r11 = its frame. Tell ASan we arrived, then continue as a
// fresh context always does, at cem_ctx_x86_64_sysv_start with rsp = top.
FUNC_BEGIN cem_ctx_x86_64_sysv_asan_start
FUNC_HIDDEN cem_ctx_x86_64_sysv_asan_start
    .cfi_startproc
    // Root of the context: nothing above to unwind into.
    .cfi_undefined %rip
    endbr64
    subq    $8, %rsp                      // top - 32: 16-byte aligned for the call
    xorl    %edi, %edi                    // first entry: no fake stack yet
    leaq    ASAN_BOTTOM(%r11), %rsi
    leaq    ASAN_SIZE(%r11), %rdx
    callq   *cem_ctx_sanitizer_fns + SAN_FINISH(%rip)
    addq    $ASAN_FRAME_SIZE, %rsp
    jmp     cem_ctx_x86_64_sysv_start
    .cfi_endproc
FUNC_END cem_ctx_x86_64_sysv_asan_start

.endif

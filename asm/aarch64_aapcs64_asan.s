// cem-ctx: AddressSanitizer slow path of cem_swapcontext for AArch64 AAPCS64
// (ELF Linux only: CEM_ASAN is 0 elsewhere and this file assembles to nothing).
// Same design as asm/x86_64_sysv_asan.s (described in src/sanitizer.rs):
// cem_swapcontext tests the weak address of __sanitizer_start_switch_fiber in
// cem_ctx_sanitizer_fns and branches here under ASan; the stack bounds ASan
// needs stay on each context's own stack, in an AsanFrame (Rust `AsanFrame` in
// src/arch/aarch64_aapcs64.rs) at its saved sp:
//
//   ASAN_FP/ASAN_LR   0  16  frame record (x29, x30 of the cem_swapcontext
//                            caller), so debuggers and unwinders walk through
//   ASAN_BOTTOM      16   8  low end of this stack \ written by whoever resumes
//   ASAN_SIZE        24   8  its size              / us, or by cem_makecontext
//   ASAN_FAKE        32   8  this side's fake_stack_save
//   ASAN_SAVE        40  24  save_ctx, restore_ctx, value across the ASan call
//   ASAN_FRAME_SIZE  64
//
// A switch A -> B: A calls __sanitizer_start_switch_fiber(&A.fake, B.bottom,
// B.size), saves its registers with x30 = label 2 below and sp = its frame,
// loads B's and returns into B with x10 = A's frame; B calls
// __sanitizer_finish_switch_fiber(B.fake, &A.bottom, &A.size). x18 (platform
// register, AAPCS64 §6.1.1) is never touched; x16 is the IP0 scratch register.

.if CEM_ASAN

// Entered by b.ne from cem_swapcontext: x0 = save_ctx, x1 = restore_ctx,
// x2 = value, x30 = the caller's return address.
FUNC_BEGIN cem_ctx_aarch64_aapcs64_swap_asan
FUNC_HIDDEN cem_ctx_aarch64_aapcs64_swap_asan
    .cfi_startproc
    // Switching to ourselves is a no-op (see cem_swapcontext); our frame's
    // bounds are unknown, so do not annotate.
    cmp     x0, x1
    b.eq    9f
    stp     x29, x30, [sp, #-ASAN_FRAME_SIZE]!
    .cfi_def_cfa_offset ASAN_FRAME_SIZE
    .cfi_offset x29, -ASAN_FRAME_SIZE
    .cfi_offset x30, -ASAN_FRAME_SIZE + 8
    mov     x29, sp
    stp     x0, x1, [sp, #ASAN_SAVE]
    str     x2, [sp, #ASAN_SAVE + 16]
    ldr     x9, [x1, #CTX_SP]                  // B's frame
    add     x0, sp, #ASAN_FAKE
    ldp     x1, x2, [x9, #ASAN_BOTTOM]
    adrp    x16, cem_ctx_sanitizer_fns + SAN_START
    ldr     x16, [x16, #:lo12:cem_ctx_sanitizer_fns + SAN_START]
    blr     x16
    ldp     x0, x1, [sp, #ASAN_SAVE]
    ldr     x2, [sp, #ASAN_SAVE + 16]
    adr     x9, 2f
    stp     x19, x20, [x0, #CTX_X19]
    stp     x21, x22, [x0, #CTX_X21]
    stp     x23, x24, [x0, #CTX_X23]
    stp     x25, x26, [x0, #CTX_X25]
    stp     x27, x28, [x0, #CTX_X27]
    // x29 = our frame, resume at label 2, sp = our frame.
    stp     x29, x9, [x0, #CTX_X29]
    mov     x10, sp
    str     x10, [x0, #CTX_SP]
.if CEM_FP_STATE
    stp     d8, d9, [x0, #CTX_D8]
    stp     d10, d11, [x0, #CTX_D10]
    stp     d12, d13, [x0, #CTX_D12]
    stp     d14, d15, [x0, #CTX_D14]
    ldp     d8, d9, [x1, #CTX_D8]
    ldp     d10, d11, [x1, #CTX_D10]
    ldp     d12, d13, [x1, #CTX_D12]
    ldp     d14, d15, [x1, #CTX_D14]
.endif
    ldp     x19, x20, [x1, #CTX_X19]
    ldp     x21, x22, [x1, #CTX_X21]
    ldp     x23, x24, [x1, #CTX_X23]
    ldp     x25, x26, [x1, #CTX_X25]
    ldp     x27, x28, [x1, #CTX_X27]
    ldp     x29, x30, [x1, #CTX_X29]
    ldr     x9, [x1, #CTX_SP]
    mov     sp, x9
    mov     x0, x2
    // ret, as in cem_swapcontext: resume sites have no BTI landing pads.
    ret

    // B's side, resumed by another slow path: sp = x29 = own frame,
    // x10 = the switcher's frame, x0 = the value. Same CFI as above.
2:
    str     x0, [sp, #ASAN_SAVE + 16]
    ldr     x0, [sp, #ASAN_FAKE]
    add     x1, x10, #ASAN_BOTTOM
    add     x2, x10, #ASAN_SIZE
    adrp    x16, cem_ctx_sanitizer_fns + SAN_FINISH
    ldr     x16, [x16, #:lo12:cem_ctx_sanitizer_fns + SAN_FINISH]
    blr     x16
    ldr     x0, [sp, #ASAN_SAVE + 16]
    ldp     x29, x30, [sp], #ASAN_FRAME_SIZE
    .cfi_def_cfa_offset 0
    .cfi_restore x29
    .cfi_restore x30
    ret
9:
    mov     x0, x2
    ret
    .cfi_endproc
FUNC_END cem_ctx_aarch64_aapcs64_swap_asan

// First code of a context made while ASan is present (x30 of its Context):
// its AsanFrame at top - 64 holds the stack's bounds for the switcher. Entered
// by the switcher's ret with sp = that frame, x10 = the switcher's frame.
// Tell ASan we arrived, then continue at the ordinary start with sp = top.
FUNC_BEGIN cem_ctx_aarch64_aapcs64_asan_start
FUNC_HIDDEN cem_ctx_aarch64_aapcs64_asan_start
    .cfi_startproc
    .cfi_undefined x30
    hint    #34                                // bti c: harmless, reached by ret
    mov     x0, xzr                            // first entry: no fake stack yet
    add     x1, x10, #ASAN_BOTTOM
    add     x2, x10, #ASAN_SIZE
    adrp    x16, cem_ctx_sanitizer_fns + SAN_FINISH
    ldr     x16, [x16, #:lo12:cem_ctx_sanitizer_fns + SAN_FINISH]
    blr     x16
    add     sp, sp, #ASAN_FRAME_SIZE
    b       cem_ctx_aarch64_aapcs64_start
    .cfi_endproc
FUNC_END cem_ctx_aarch64_aapcs64_asan_start

.endif

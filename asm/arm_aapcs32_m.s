// cem-ctx: context switch for Arm M-profile (Cortex-M), AAPCS32, Thumb only.
// One source for ARMv6-M (thumbv6m-none-eabi, Cortex-M0/M0+), ARMv7-M
// (thumbv7m-none-eabi, Cortex-M3), ARMv7E-M (thumbv7em-none-eabi[hf],
// Cortex-M4/M4F/M7) and ARMv8-M Mainline (thumbv8m.main-none-eabi[hf], Cortex-M33).
//
// Prepended by src/arch/arm_aapcs32_m.rs: the object-format macros (FUNC_BEGIN,
// FUNC_END, ...), the flags CEM_FP_STATE (s16-s31 exist and are used),
// CEM_THUMB1 (ARMv6-M: Thumb-1 encodings only) and CEM_STACK_LIMIT (ARMv8-M
// Mainline: PSPLIM/MSPLIM follow the stack), and every offset used below
// (CTX_*, LINK_*), computed with offset_of! so the asm cannot drift from Rust.
// The file is a Rust asm template: every brace is doubled (register lists
// read `{{r4-r7}}`), and the template hands GAS single ones.
//
// Saved state: cem_context_t, 112 bytes, 8-byte aligned (cem-ctx's own layout;
// the Cem runtime has no 32-bit Arm switcher). Asserted in src/arch/arm_aapcs32_m.rs
// and, for C, in c-tests/arm_m_layout.c (arm-none-eabi-gcc).
//
//   offset  size  field        contents
//   ------  ----  -----------  ---------------------------------------------------
//     0-28  4x8   r4..r11      callee-saved core registers v1-v8 (AAPCS32 §6.1.1,
//                              "Core registers"); r7 is the Thumb frame pointer,
//                              r9 the platform register (saved: on bare-metal
//                              Rust and GCC targets it is the callee-saved v6)
//       32     4  sp           stack pointer, 8-byte aligned (public interface)
//       36     4  lr           resume address, Thumb bit (bit 0) set
//       40     4  stack_limit  ARMv8-M Mainline: the PSPLIM/MSPLIM value of this
//                              context; 0 (no limit) elsewhere, never read there
//       44     4  reserved     zero; keeps d8 8-byte aligned
//   48-104   8x8  d8..d15      s16-s31, callee-saved (AAPCS32 "VFP register usage
//                              conventions"); untouched without an FPU
//
// Not saved, on purpose:
// - FPSCR: AAPCS32 ("VFP register usage conventions") makes it a *global*
//   register. Its condition and cumulative exception bits are not preserved
//   across a public interface, and its mode bits (rounding, flush-to-zero,
//   exception enables) change only through support functions "that affect the
//   global state of the application". So a switch must not undo a mode change
//   made in another context: the same decision as AArch64's FPCR
//   (asm/aarch64_aapcs64.s). VPR (MVE predication) is global and not preserved
//   across calls either.
// - r12 (IP), r0-r3, s0-s15, APSR flags: caller-saved (AAPCS32 §6.1.1).
// - CONTROL, PRIMASK, BASEPRI: processor state of the whole thread, not of a
//   call. A switch never changes privilege, the active stack pointer or
//   interrupt masking. On ARMv8-M only the limit of the active stack changes.
// - The FP lazy-stacking state (FPCCR, CONTROL.FPCA): exception entry handles
//   it; a switch is an ordinary call as far as the hardware knows.
//
// Interrupts: on a core running Thread mode code on MSP, exception entry pushes
// its frame (32 bytes, 104 with FP state) onto whatever stack is active, i.e.
// the running coroutine's. Stacks must include that room.

    .syntax unified
    .thumb
    // ARM unwinders and debuggers read .debug_frame; .eh_frame would only
    // cost flash on panic=abort firmware.
    .cfi_sections .debug_frame
.if CEM_FP_STATE
    // Module-level asm is assembled with the target's base features, not the
    // FPU the hard-float target spec enables for functions: name the smallest
    // FPU that has the instructions used here (vldm/vstm of d8-d15).
    .fpu    fpv4-sp-d16
.endif

// The layout assumptions that block transfers (ldm/stm) make.
.if CTX_R4 != 0 || CTX_R8 != CTX_R4 + 16 || CTX_R11 != CTX_R4 + 28
    .error "cem_context_t: r4..r11 must be consecutive words at offset 0"
.endif

// LIMIT_READ reg / LIMIT_WRITE reg: the limit register of the active stack
// pointer. Thread mode code runs on PSP when CONTROL.SPSEL is 1, else on MSP
// (ARMv8-M ARM, B3.5 "Stack pointer"); the caller has done
// `mrs r12, CONTROL; tst r12, #2` so that Z tells which (Z=1: MSP).
// Handler mode always runs on MSP; switching contexts from an exception
// handler with SPSEL=1 is not supported (it would set PSPLIM).
.macro LIMIT_READ reg
    ite     eq
    mrseq   \reg, MSPLIM
    mrsne   \reg, PSPLIM
.endm
.macro LIMIT_WRITE reg
    ite     eq
    msreq   MSPLIM, \reg
    msrne   PSPLIM, \reg
.endm

// void cem_swapcontext(cem_context_t *save_ctx /* r0 */,
//                      const cem_context_t *restore_ctx /* r1 */);
// void *cem_swapcontext_value(cem_context_t *save_ctx, const cem_context_t *restore_ctx,
//                             void *value /* r2 */);
// Same code: r2 arrives in r0, the return value of the cem_swapcontext_value
// call the resumed side is suspended in. Temporaries: r3, r12 (caller-saved).
    .thumb_func
FUNC_BEGIN cem_swapcontext
    .thumb_func
FUNC_ENTRY cem_swapcontext_value
    .cfi_startproc
.if CEM_THUMB1
    // ARMv6-M: stm/ldm and most data processing reach r0-r7 only, and stm
    // needs writeback, so r8-r11 go through r4-r7 once those are saved.
    stmia   r0!, {{r4-r7}}
    mov     r4, r8
    mov     r5, r9
    mov     r6, r10
    mov     r7, r11
    stmia   r0!, {{r4-r7}}
    // r0 = save_ctx + CTX_R4 + 32 from here on.
    mov     r3, sp
    str     r3, [r0, #(CTX_SP - CTX_R4 - 32)]
    // lr is our return address (bit 0 set by the caller's bl/blx): resuming
    // this context means returning from this call.
    mov     r3, lr
    str     r3, [r0, #(CTX_LR - CTX_R4 - 32)]
    // When save_ctx == restore_ctx every load reads what was just stored.
    mov     r3, r1
    adds    r3, #CTX_R8
    ldmia   r3!, {{r4-r7}}
    mov     r8, r4
    mov     r9, r5
    mov     r10, r6
    mov     r11, r7
    ldmia   r1!, {{r4-r7}}
    // r1 = restore_ctx + CTX_R4 + 16 from here on.
    ldr     r3, [r1, #(CTX_SP - CTX_R4 - 16)]
    mov     sp, r3
    ldr     r3, [r1, #(CTX_LR - CTX_R4 - 16)]
.else
    stmia   r0, {{r4-r11}}
    mov     r3, sp
    str     r3, [r0, #CTX_SP]
    str     lr, [r0, #CTX_LR]
.if CEM_FP_STATE
    // d8-d15 are s16-s31; the D-register forms exist on single-precision
    // FPUs too (FPv4-SP, FPv5-SP), as compilers' own vpush of d8-d15 shows.
    add     r3, r0, #CTX_D8
    vstmia  r3, {{d8-d15}}
    add     r3, r1, #CTX_D8
    vldmia  r3, {{d8-d15}}
.endif
.if CEM_STACK_LIMIT
    // Save our limit, then disable checking (limit 0) while sp moves: with
    // the old limit on the new stack, or the new limit on the old one, an
    // exception taken in between could see sp below the limit and fault
    // (STKOF) on a perfectly good stack.
    mrs     r12, CONTROL
    tst     r12, #2
    LIMIT_READ r3
    str     r3, [r0, #CTX_LIMIT]
    mov     r3, #0
    LIMIT_WRITE r3
.endif
    ldmia   r1, {{r4-r11}}
    ldr     r3, [r1, #CTX_SP]
    mov     sp, r3
.if CEM_STACK_LIMIT
    // From here a push below the restored context's stack_limit takes a
    // UsageFault (STKOF) instead of corrupting the memory below its stack.
    ldr     r3, [r1, #CTX_LIMIT]
    LIMIT_WRITE r3
.endif
    ldr     r3, [r1, #CTX_LR]
.endif
    mov     r0, r2
    // bx interworks on bit 0; every stored address has it set (a bl return
    // address, or a Thumb function symbol from cem_makecontext).
    bx      r3
    .cfi_endproc
FUNC_END cem_swapcontext_value
FUNC_END cem_swapcontext

// First code a fresh context runs. cem_makecontext stores this address (Thumb
// bit set) as the context's lr, so the first switch "returns" here with
//   r4 = func, r5 = func's argument, r6 = return_func (or cem_context_trap),
//   r8 = cem_context_trap, r7 = r11 = 0, sp = stack top (16-byte aligned,
//   more than the 8 of AAPCS32 §6.2.1.2: func starts at a conforming public
//   interface),
//   stack_limit = stack_base rounded up to 8 (ARMv8-M Mainline).
    .thumb_func
FUNC_BEGIN cem_ctx_arm_aapcs32_m_start
    .cfi_startproc
    // No caller exists above this frame: an undefined return address column
    // makes debuggers end the backtrace here; r7 = 0 ends frame-chain walks.
    .cfi_undefined lr
    mov     r0, r5
    blx     r4
    // func returned: run return_func on the same stack (sp is the top again).
    blx     r6
    // return_func returned too: stop at the named trap.
    blx     r8
    .cfi_endproc
FUNC_END cem_ctx_arm_aapcs32_m_start

// The documented stop for a context with nowhere to return to, and for
// invalid arguments to cem_makecontext: a permanently undefined instruction,
// so the core takes a UsageFault (UNDEFINSTR; HardFault when UsageFault is
// not enabled) with this symbol at the faulting pc.
    .thumb_func
FUNC_BEGIN cem_context_trap
    .cfi_startproc
    udf     #0xc0
    .cfi_endproc
FUNC_END cem_context_trap

// ---------------------------------------------------------------------------
// Start trampoline of a Rust Coroutine (src/coroutine.rs). The rest of the
// fast path is inline asm (asm/arm_aapcs32_m_resume.s and
// asm/arm_aapcs32_m_suspend.s, with the CoroutineFrame and ParentFrame
// layouts). A fresh coroutine's CoroutineFrame resumes here instead of at a
// suspend site's landing, and this code does what a landing does: entered by
// the resume site's blx with r2 = the initial frame (its r6 slot: the data
// block, whose first word is the entry function; r7 slot: 0, ending
// frame-chain walks), r1 = link block, r0 = the first resume value, lr = the
// resumer's return address, sp = its sp.
    .thumb_func
FUNC_BEGIN cem_ctx_arm_aapcs32_m_coroutine_start
FUNC_HIDDEN cem_ctx_arm_aapcs32_m_coroutine_start
    .cfi_startproc
    // The root of the coroutine's stack: debuggers end the backtrace here.
    .cfi_undefined lr
.if CEM_STACK_LIMIT
    mrs     r12, CONTROL
    tst     r12, #2
    LIMIT_READ r3
    push    {{r3, r6, r7, lr}}
    mov     r3, #0
    LIMIT_WRITE r3
.else
    push    {{r3, r6, r7, lr}}
.endif
    mov     r3, sp
    str     r3, [r1, #LINK_PARENT_SP]
    mov     sp, r2
    pop     {{r2, r3, r6, r7}}
.if CEM_STACK_LIMIT
    LIMIT_WRITE r2
.endif
    mov     r1, r6
    ldr     r3, [r6]
    // entry(value, data) never returns: it ends with a final suspend.
    blx     r3
    udf     #0xc0
    .cfi_endproc
FUNC_END cem_ctx_arm_aapcs32_m_coroutine_start

.purgem LIMIT_READ
.purgem LIMIT_WRITE

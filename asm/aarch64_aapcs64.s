// cem-ctx: context switch for AArch64, AAPCS64 (Linux, macOS, bare metal).
// Object-format macros (FUNC_BEGIN, FUNC_END, GNU_PROPERTY) and the CEM_FP_STATE
// flag come from src/arch/mod.rs, prepended by src/arch/aarch64_aapcs64.rs.
//
// Saved state: cem_context_t, 168 bytes, 8-byte aligned (Cem's ARM64 layout).
// Every offset is asserted in src/arch/aarch64_aapcs64.rs and c-tests/test_layout.c.
//
//   offset  size  field      contents
//   ------  ----  ---------  -----------------------------------------------------
//     0-72  8x10  x19..x28   callee-saved general registers (AAPCS64 §6.1.1)
//       80     8  x29        frame pointer (callee-saved, §6.1.1, §6.4.6)
//       88     8  x30        link register: the address this context resumes at
//       96     8  sp         stack pointer (16-byte aligned, §6.4.5.1)
//  104-160   8x8  d8..d15    low 64 bits of v8-v15, callee-saved (§6.1.2);
//                            untouched when CEM_FP_STATE is 0 (softfloat targets)
//
// Not saved, on purpose:
// - x18, the platform register (§6.1.1): Apple and Windows reserve it, some
//   Linux builds keep the shadow call stack in it. Never read or written here.
// - FPCR: §6.1.2 makes it a *global* register whose mode bits only change
//   through support functions that affect the global state of the
//   application (fesetround and friends). It is not callee-saved, so a switch
//   must not undo a mode change made in another context. FPSR (cumulative
//   exception flags) is not preserved across calls either.

    GNU_PROPERTY 0xc0000000, 0x1     // GNU_PROPERTY_AARCH64_FEATURE_1_AND: BTI

// void cem_swapcontext(cem_context_t *save_ctx /* x0 */,
//                      const cem_context_t *restore_ctx /* x1 */);
FUNC_BEGIN cem_swapcontext
    .cfi_startproc
    // BTI landing pad (`bti c`, written as its hint encoding so that
    // assemblers without BTI support accept it): C may call us through a
    // function pointer (blr), which a BTI-enforcing CPU only allows onto one.
    hint    #34
    stp     x19, x20, [x0, #0]
    stp     x21, x22, [x0, #16]
    stp     x23, x24, [x0, #32]
    stp     x25, x26, [x0, #48]
    stp     x27, x28, [x0, #64]
    // x30 is our return address: resuming this context means returning from
    // this call, so it is stored as the resume address.
    stp     x29, x30, [x0, #80]
    // sp cannot be the source of str; x9 is a caller-saved temporary.
    mov     x9, sp
    str     x9, [x0, #96]
.if CEM_FP_STATE
    stp     d8, d9, [x0, #104]
    stp     d10, d11, [x0, #120]
    stp     d12, d13, [x0, #136]
    stp     d14, d15, [x0, #152]
    ldp     d8, d9, [x1, #104]
    ldp     d10, d11, [x1, #120]
    ldp     d12, d13, [x1, #136]
    ldp     d14, d15, [x1, #152]
.endif
    // When save_ctx == restore_ctx every load reads what was just stored.
    ldp     x19, x20, [x1, #0]
    ldp     x21, x22, [x1, #16]
    ldp     x23, x24, [x1, #32]
    ldp     x25, x26, [x1, #48]
    ldp     x27, x28, [x1, #64]
    ldp     x29, x30, [x1, #80]
    ldr     x9, [x1, #96]
    mov     sp, x9
    // `ret`, not `br x30`: resume addresses are return sites without BTI
    // landing pads, and only RET (like a normal return) may go there when BTI
    // is enforced. The cost is a return-stack misprediction per switch.
    ret
    .cfi_endproc
FUNC_END cem_swapcontext

// First code a fresh context runs. cem_makecontext stores this address as the
// context's x30, so the first switch "returns" here with
//   x19 = func, x20 = return_func (or cem_context_trap when NULL),
//   x21 = cem_context_trap, x29 = 0, sp = stack top (16-byte aligned).
FUNC_BEGIN cem_ctx_aarch64_aapcs64_start
    .cfi_startproc
    // No caller exists above this frame: an undefined return address column
    // makes unwinders and debuggers end the backtrace here, and x29 = 0 ends
    // frame-pointer walks at the same place.
    .cfi_undefined x30
    hint    #34                      // bti c: harmless here, reached by ret
    blr     x19
    // func returned: run return_func on the same stack (sp is the top again).
    blr     x20
    // return_func returned too: stop at the named trap.
    blr     x21
    .cfi_endproc
FUNC_END cem_ctx_aarch64_aapcs64_start

// The documented stop for a context with nowhere to return to, and for
// invalid arguments to cem_makecontext. brk raises a debug exception
// (SIGTRAP on Linux and macOS) with this symbol on top of the backtrace.
FUNC_BEGIN cem_context_trap
    .cfi_startproc
    hint    #34                      // bti c
    brk     #0xc0de
    .cfi_endproc
FUNC_END cem_context_trap

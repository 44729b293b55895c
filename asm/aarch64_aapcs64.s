// cem-ctx: context switch for AArch64, AAPCS64 (Linux, macOS, bare metal).
// The object-format macros (FUNC_BEGIN, FUNC_END, GNU_PROPERTY), the CEM_FP_STATE
// flag and every offset name (CTX_*, FRAME_*, LINK_*) come from abi_global_asm!
// in src/arch/aarch64_aapcs64.rs, computed from the #[repr(C)] structs there:
// no offset is written as a number in this file.
//
// Saved state: cem_context_t (Rust `Context`), 168 bytes, 8-byte aligned (Cem's
// ARM64 layout). Registers are stored in pairs (stp/ldp), so each pair's second
// register lives 8 bytes after the first; src/arch/aarch64_aapcs64.rs asserts it.
//
//   name          offset  size  contents
//   ------------  ------  ----  ------------------------------------------------
//   CTX_X19..X28    0-72  8x10  callee-saved general registers (AAPCS64 §6.1.1)
//   CTX_X29           80     8  frame pointer (callee-saved, §6.1.1, §6.4.6)
//   CTX_X30           88     8  link register: the address this context resumes at
//   CTX_SP            96     8  stack pointer (16-byte aligned, §6.4.5.1)
//   CTX_D8..D15  104-160   8x8  low 64 bits of v8-v15, callee-saved (§6.1.2);
//                               untouched when CEM_FP_STATE is 0 (softfloat targets)
//
// Fast-path frame (Rust `CoroutineFrame`, 32 bytes) that a suspended side of a
// Rust Coroutine leaves at its saved sp:
//
//   FRAME_X29          0     8  frame pointer
//   FRAME_RESUME       8     8  where it continues (x30 for the parent); after
//                               FRAME_X29, so one stp/ldp moves both
//   FRAME_X19         16     8  x19, which Rust inline asm cannot name
//                     24     8  unused: sp stays 16-byte aligned
//   FRAME_SIZE        32
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
// void *cem_swapcontext_value(cem_context_t *save_ctx, const cem_context_t *restore_ctx,
//                             void *value /* x2 */);
// Same code: x2 arrives in x0, the return value of the cem_swapcontext_value
// call the resumed side is suspended in (callers of the void variant ignore it).
FUNC_BEGIN cem_swapcontext
FUNC_ENTRY cem_swapcontext_value
    .cfi_startproc
    // BTI landing pad (`bti c`, written as its hint encoding so that
    // assemblers without BTI support accept it): C may call us through a
    // function pointer (blr), which a BTI-enforcing CPU only allows onto one.
    hint    #34
.if CEM_ASAN
    // Under AddressSanitizer (detected at run time through a weak reference,
    // see src/sanitizer.rs) the switch must be announced to ASan: take the
    // slow path in aarch64_aapcs64_asan.s. Without ASan this costs a
    // PC-relative load of a RELRO word and a not-taken cbnz. x9 is a
    // caller-saved temporary.
    adrp    x9, cem_ctx_sanitizer_fns + SAN_START
    ldr     x9, [x9, #:lo12:cem_ctx_sanitizer_fns + SAN_START]
    cbnz    x9, cem_ctx_aarch64_aapcs64_swap_asan
.endif
    stp     x19, x20, [x0, #CTX_X19]
    stp     x21, x22, [x0, #CTX_X21]
    stp     x23, x24, [x0, #CTX_X23]
    stp     x25, x26, [x0, #CTX_X25]
    stp     x27, x28, [x0, #CTX_X27]
    // x30 is our return address: resuming this context means returning from
    // this call, so it is stored as the resume address.
    stp     x29, x30, [x0, #CTX_X29]
    // sp cannot be the source of str; x9 is a caller-saved temporary.
    mov     x9, sp
    str     x9, [x0, #CTX_SP]
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
    // When save_ctx == restore_ctx every load reads what was just stored.
    ldp     x19, x20, [x1, #CTX_X19]
    ldp     x21, x22, [x1, #CTX_X21]
    ldp     x23, x24, [x1, #CTX_X23]
    ldp     x25, x26, [x1, #CTX_X25]
    ldp     x27, x28, [x1, #CTX_X27]
    ldp     x29, x30, [x1, #CTX_X29]
    ldr     x9, [x1, #CTX_SP]
    mov     sp, x9
    mov     x0, x2
    // `ret`, not `br x30`: resume addresses are return sites without BTI
    // landing pads, and only RET (like a normal return) may go there when BTI
    // is enforced. The cost is a return-stack misprediction per switch.
    ret
    .cfi_endproc
FUNC_END cem_swapcontext_value
FUNC_END cem_swapcontext

// First code a fresh context runs. cem_makecontext stores this address as the
// context's x30, so the first switch "returns" here with
//   x19 = func, x20 = return_func (or cem_context_trap when NULL),
//   x21 = cem_context_trap, x22 = func's argument, x29 = 0,
//   sp = stack top (16-byte aligned).
FUNC_BEGIN cem_ctx_aarch64_aapcs64_start
    .cfi_startproc
    // No caller exists above this frame: an undefined return address column
    // makes unwinders and debuggers end the backtrace here, and x29 = 0 ends
    // frame-pointer walks at the same place.
    .cfi_undefined x30
    hint    #34                      // bti c: harmless here, reached by ret
    mov     x0, x22
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

// ---------------------------------------------------------------------------
// Asymmetric fast path for the Rust Coroutine type (src/coroutine.rs).
//
// Resume is a `bl` and suspend ends in the matching `ret`, so the return
// address predictor stays balanced; the coroutine is entered with `br x16`,
// which BTI allows onto a `bti jc` landing pad (hint #38) placed at every
// continuation. Only x19 (which Rust inline asm cannot name) and x29/x30 are
// saved here: the inline asm at both call sites declares all other registers
// clobbered, so the compiler saves just the live callee-saved ones. FPCR is
// global state (AAPCS64 6.1.2) and is left alone, as in cem_swapcontext.
//
// A suspended side leaves a CoroutineFrame (table above) at its saved sp. The
// link block (Rust `CoroutineLink`, on the coroutine stack) holds the parent's
// sp (LINK_PARENT_SP) while the coroutine runs and the coroutine's sp
// (LINK_COROUTINE_SP) while suspended; its FP-control byte is unused here (no
// callee-saved FP control state on AArch64).

// In: x0 = value for the coroutine, x1 = link block. Entered by `bl`.
FUNC_BEGIN cem_ctx_aarch64_aapcs64_resume
FUNC_HIDDEN cem_ctx_aarch64_aapcs64_resume
    .cfi_startproc
    hint    #34                      // bti c
    sub     sp, sp, #FRAME_SIZE
    .cfi_adjust_cfa_offset FRAME_SIZE
    stp     x29, x30, [sp, #FRAME_X29]
    str     x19, [sp, #FRAME_X19]
    ldr     x9, [x1, #LINK_COROUTINE_SP]
    mov     x10, sp
    str     x10, [x1, #LINK_PARENT_SP]
    ldp     x29, x16, [x9, #FRAME_X29]
    ldr     x19, [x9, #FRAME_X19]
    add     sp, x9, #FRAME_SIZE
    // Not ret: the predictor's top entry is our caller's return address,
    // which suspend's ret will consume.
    br      x16
    .cfi_endproc
FUNC_END cem_ctx_aarch64_aapcs64_resume

// In: x16 = where the coroutine continues, x0 = value for the parent,
// x1 = link block. Entered by `b` from the suspend site.
FUNC_BEGIN cem_ctx_aarch64_aapcs64_suspend
FUNC_HIDDEN cem_ctx_aarch64_aapcs64_suspend
    .cfi_startproc
    .cfi_undefined x30
    sub     sp, sp, #FRAME_SIZE
    stp     x29, x16, [sp, #FRAME_X29]
    str     x19, [sp, #FRAME_X19]
    mov     x9, sp
    str     x9, [x1, #LINK_COROUTINE_SP]
    ldr     x10, [x1, #LINK_PARENT_SP]
    ldp     x29, x30, [x10, #FRAME_X29]
    ldr     x19, [x10, #FRAME_X19]
    add     sp, x10, #FRAME_SIZE
    ret
    .cfi_endproc
FUNC_END cem_ctx_aarch64_aapcs64_suspend

// First code of a Rust coroutine, reached by resume's `br x16` with
// x19 = the coroutine's data block (first word: its entry function),
// x29 = 0, x0 = the first resume value, sp 16-byte aligned.
FUNC_BEGIN cem_ctx_aarch64_aapcs64_coroutine_start
FUNC_HIDDEN cem_ctx_aarch64_aapcs64_coroutine_start
    .cfi_startproc
    .cfi_undefined x30
    hint    #38                      // bti jc
    mov     x1, x19
    ldr     x9, [x19]
    // entry(value, data) never returns: it ends with a final suspend.
    blr     x9
    brk     #0xc0de
    .cfi_endproc
FUNC_END cem_ctx_aarch64_aapcs64_coroutine_start

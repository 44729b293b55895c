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
// The Rust Coroutine fast path is inline asm (asm/aarch64_aapcs64_resume.s and
// asm/aarch64_aapcs64_suspend.s, with the CoroutineFrame and ParentFrame
// layouts); only its start trampoline is here, at the end of this file.
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
// Start trampoline of a Rust Coroutine (src/coroutine.rs). A fresh
// coroutine's CoroutineFrame resumes here instead of at a suspend site's
// landing, with the landing's registers: x9 = the initial frame (x19 slot: the
// data block, whose first word is the entry function), x1 = link block, x0 =
// the first resume value, x30 = the resumer's return address, sp = its sp.
//
// This frame stays at the root of the coroutine stack, and its CFI continues
// unwinds and backtraces from inside the coroutine into whoever resumed it
// last: x29 holds the address of the link block's LINK_PARENT_SP, which every
// landing updates to the resumer's ParentFrame P, so
//   CFA = *x29 + PARENT_SIZE (the resumer's sp before its resume site),
//   x29, x30 and x19 at their ParentFrame slots.
// LINK_PARENT_SP and the next word (LINK_ROOT_PC) also form the frame record
// at the root of the frame-pointer chain, which continues in P's record.
// (The C API's cem_makecontext root stays a clean stop.)
FUNC_BEGIN cem_ctx_aarch64_aapcs64_coroutine_start
FUNC_HIDDEN cem_ctx_aarch64_aapcs64_coroutine_start
    .cfi_startproc
    // A signal frame to debuggers: gdb accepts a caller frame at a lower
    // address than its callee (a resumer stack below the coroutine stack)
    // only across a signal frame. Unwinders then look up the resumer's
    // return address itself, not the byte before it: resume sites never end
    // a function.
    .cfi_signal_frame
    hint    #38                      // bti jc: entered by blr x16
    sub     sp, sp, #PARENT_SIZE
    stp     x29, x30, [sp, #PARENT_X29]
    str     x19, [sp, #PARENT_X19]
    mov     x10, sp
    str     x10, [x1, #LINK_PARENT_SP]
    ldr     x19, [x9, #FRAME_X19]
    add     sp, x9, #FRAME_SIZE
    add     x29, x1, #LINK_PARENT_SP
    // DW_CFA_def_cfa_expression, 5 bytes: DW_OP_breg29 (x29) 0, DW_OP_deref,
    // DW_OP_plus_uconst PARENT_SIZE (one ULEB128 byte: asserted < 128 in Rust).
    .cfi_escape 0x0f, 5, 0x8d, 0x00, 0x06, 0x23, PARENT_SIZE
    .cfi_offset x29, PARENT_X29 - PARENT_SIZE
    .cfi_offset x30, PARENT_RESUME - PARENT_SIZE
    .cfi_offset x19, PARENT_X19 - PARENT_SIZE
    // entry(value, data) never returns: it ends with a final suspend. Entered
    // by br with x30 set rather than by blr, so that the return stack holds
    // only the resumer's blr, which the coroutine's first suspend (a ret)
    // consumes. x17: br may land on entry's `bti c` only through x16/x17.
    mov     x1, x19
    ldr     x17, [x19]
    adr     x30, 2f
    br      x17
2:
    // Never reached; keeps the return address above inside this function.
    brk     #0xc0de
    .cfi_endproc
FUNC_END cem_ctx_aarch64_aapcs64_coroutine_start

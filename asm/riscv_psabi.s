// cem-ctx: context switch for the RISC-V psABI (RV64 and RV32; Linux, bare metal).
// One source for both register widths. Object-format macros (FUNC_BEGIN,
// FUNC_END, FUNC_HIDDEN) and the CEM_FP_STATE flag come from abi_global_asm!;
// src/arch/riscv_psabi.rs prepends them together with `.set` lines for every
// offset used below (CTX_*, FRAME_*, LINK_*), computed with offset_of! from the
// Rust structs, and for the register widths CEM_XLEN_BYTES (4 or 8) and
// CEM_FLEN_BYTES (4 with F only, 8 with D). No offset is written here literally.
//
// Saved state: cem_context_t, cem-ctx's own layout (the Cem runtime has no
// RISC-V port). RV64: 208 bytes, RV32: 152 bytes; 8-byte aligned on both.
// Every offset is asserted in src/arch/riscv_psabi.rs and c-tests/test_layout.c.
//
//   RV64 off  RV32 off  size    field       contents
//   --------  --------  ------  ----------  ---------------------------------------------
//      0-88      0-44   XLEN    s0..s11     callee-saved integer registers (psABI
//                                           "Integer Register Convention"); s0 is the
//                                           frame pointer ("Frame Pointer Convention")
//        96        48   XLEN    sp          stack pointer, 16-byte aligned ("Integer
//                                           Calling Convention": 128-bit boundary)
//       104        52   XLEN    ra          the address this context resumes at
//   112-200    56-144   8 each  fs0..fs11   callee-saved FP registers ("Floating-Point
//                                           Register Convention"); FLEN bits used
//                                           (8 bytes with D, the low 4 with F only);
//                                           untouched when CEM_FP_STATE is 0 (riscv32imac)
//
// Not saved, on purpose:
// - gp and tp: the psABI makes them unallocatable ("procedures should not
//   modify the integer registers tp and gp"). tp is the thread pointer: a
//   context that migrates between threads must see its new thread's tp.
// - fcsr (frm rounding mode and fflags): the psABI ("Floating-Point Register
//   Convention") says fcsr "must have thread storage duration in accordance
//   with C11 section 7.6". It belongs to the thread, not to a call frame, so a
//   switch leaves it alone: fesetround() in one context is seen by every other
//   context on the same thread, as it would be across an ordinary call. (Same
//   decision as for FPCR on AArch64, asm/aarch64_aapcs64.s.)
// - ra of the caller is not a callee-saved register ("Preserved across calls?
//   No"); it is stored only because it is where the suspended side resumes.

.if CEM_XLEN_BYTES == 8
    .macro SAVE_X reg, off, base
        sd      \reg, \off(\base)
    .endm
    .macro LOAD_X reg, off, base
        ld      \reg, \off(\base)
    .endm
.else
    .macro SAVE_X reg, off, base
        sw      \reg, \off(\base)
    .endm
    .macro LOAD_X reg, off, base
        lw      \reg, \off(\base)
    .endm
.endif
.if CEM_FLEN_BYTES == 8
    .macro SAVE_F reg, off, base
        fsd     \reg, \off(\base)
    .endm
    .macro LOAD_F reg, off, base
        fld     \reg, \off(\base)
    .endm
.else
    .macro SAVE_F reg, off, base
        fsw     \reg, \off(\base)
    .endm
    .macro LOAD_F reg, off, base
        flw     \reg, \off(\base)
    .endm
.endif

// void cem_swapcontext(cem_context_t *save_ctx /* a0 */,
//                      const cem_context_t *restore_ctx /* a1 */);
// void *cem_swapcontext_value(cem_context_t *save_ctx, const cem_context_t *restore_ctx,
//                             void *value /* a2 */);
// Same code: a2 arrives in a0, the return value of the cem_swapcontext_value
// call the resumed side is suspended in (callers of the void variant ignore it).
// Leaf function: no stack is touched, so no CFI beyond the procedure bounds.
FUNC_BEGIN cem_swapcontext
FUNC_ENTRY cem_swapcontext_value
    .cfi_startproc
    SAVE_X  s0, CTX_S0, a0
    SAVE_X  s1, CTX_S1, a0
    SAVE_X  s2, CTX_S2, a0
    SAVE_X  s3, CTX_S3, a0
    SAVE_X  s4, CTX_S4, a0
    SAVE_X  s5, CTX_S5, a0
    SAVE_X  s6, CTX_S6, a0
    SAVE_X  s7, CTX_S7, a0
    SAVE_X  s8, CTX_S8, a0
    SAVE_X  s9, CTX_S9, a0
    SAVE_X  s10, CTX_S10, a0
    SAVE_X  s11, CTX_S11, a0
    SAVE_X  sp, CTX_SP, a0
    // ra is our return address: resuming this context means returning from
    // this call, so it is stored as the resume address.
    SAVE_X  ra, CTX_RA, a0
.if CEM_FP_STATE
    // LLVM assembles module-level asm without the function-level target
    // features on some targets (riscv64gc-unknown-linux-gnu in release
    // builds reported "instruction requires D"), so name the extension here.
    // Reached only when build.rs found F/D in the target's ISA string.
    .option push
.if CEM_FLEN_BYTES == 8
    .option arch, +d
.else
    .option arch, +f
.endif
    SAVE_F  fs0, CTX_FS0, a0
    SAVE_F  fs1, CTX_FS1, a0
    SAVE_F  fs2, CTX_FS2, a0
    SAVE_F  fs3, CTX_FS3, a0
    SAVE_F  fs4, CTX_FS4, a0
    SAVE_F  fs5, CTX_FS5, a0
    SAVE_F  fs6, CTX_FS6, a0
    SAVE_F  fs7, CTX_FS7, a0
    SAVE_F  fs8, CTX_FS8, a0
    SAVE_F  fs9, CTX_FS9, a0
    SAVE_F  fs10, CTX_FS10, a0
    SAVE_F  fs11, CTX_FS11, a0
    LOAD_F  fs0, CTX_FS0, a1
    LOAD_F  fs1, CTX_FS1, a1
    LOAD_F  fs2, CTX_FS2, a1
    LOAD_F  fs3, CTX_FS3, a1
    LOAD_F  fs4, CTX_FS4, a1
    LOAD_F  fs5, CTX_FS5, a1
    LOAD_F  fs6, CTX_FS6, a1
    LOAD_F  fs7, CTX_FS7, a1
    LOAD_F  fs8, CTX_FS8, a1
    LOAD_F  fs9, CTX_FS9, a1
    LOAD_F  fs10, CTX_FS10, a1
    LOAD_F  fs11, CTX_FS11, a1
    .option pop
.endif
    // When save_ctx == restore_ctx every load reads what was just stored.
    LOAD_X  s0, CTX_S0, a1
    LOAD_X  s1, CTX_S1, a1
    LOAD_X  s2, CTX_S2, a1
    LOAD_X  s3, CTX_S3, a1
    LOAD_X  s4, CTX_S4, a1
    LOAD_X  s5, CTX_S5, a1
    LOAD_X  s6, CTX_S6, a1
    LOAD_X  s7, CTX_S7, a1
    LOAD_X  s8, CTX_S8, a1
    LOAD_X  s9, CTX_S9, a1
    LOAD_X  s10, CTX_S10, a1
    LOAD_X  s11, CTX_S11, a1
    LOAD_X  ra, CTX_RA, a1
    LOAD_X  sp, CTX_SP, a1
    mv      a0, a2
    // `ret` (jalr x0, 0(ra)): the return-address stack pops an entry for the
    // call that suspended the other side, so it mispredicts once per switch,
    // like every symmetric switch.
    ret
    .cfi_endproc
FUNC_END cem_swapcontext_value
FUNC_END cem_swapcontext

// First code a fresh context runs. cem_makecontext stores this address as the
// context's ra, so the first switch "returns" here with
//   s1 = func, s2 = return_func (or cem_context_trap when NULL),
//   s3 = cem_context_trap, s4 = func's argument, s0 = 0,
//   sp = stack top (16-byte aligned).
FUNC_BEGIN cem_ctx_riscv_psabi_start
    .cfi_startproc
    // No caller exists above this frame: an undefined return address column
    // makes unwinders and debuggers (gdb's DWARF unwinder) end the backtrace
    // here, and s0 = 0 ends frame-pointer walks at the same place (the psABI's
    // "Frame Pointer Convention": the chain ends at a zero link).
    .cfi_undefined ra
    mv      a0, s4
    jalr    s1
    // func returned: run return_func on the same stack (sp is the top again).
    jalr    s2
    // return_func returned too: stop at the named trap.
    jalr    s3
    .cfi_endproc
FUNC_END cem_ctx_riscv_psabi_start

// The documented stop for a context with nowhere to return to, and for
// invalid arguments to cem_makecontext. `unimp` (not `ebreak`): it is the
// canonical illegal instruction (all-zero c.unimp with C, csrrw x0, cycle, x0
// without), what LLVM emits for a trap, and raises an illegal-instruction
// exception (SIGILL on Linux, with si_addr at this symbol) instead of the
// breakpoint exception a debugger uses for its own breakpoints.
FUNC_BEGIN cem_context_trap
    .cfi_startproc
    unimp
    .cfi_endproc
FUNC_END cem_context_trap

// ---------------------------------------------------------------------------
// Start trampoline of a Rust Coroutine (src/coroutine.rs). The rest of the
// fast path is inline asm (asm/riscv_psabi_resume.s, asm/riscv_psabi_suspend.s,
// with the CoroutineFrame and ParentFrame layouts). A fresh coroutine's
// CoroutineFrame resumes here instead of at a suspend site's landing, with the
// landing's registers: t2 = the initial frame (FRAME_S1 slot: the data block,
// whose first word is the entry function), a1 = link block, a0 = the first
// resume value, ra = the resumer's return address, sp = its sp T.
//
// This frame stays at the root of the coroutine stack, and its CFI continues
// unwinds and backtraces from inside the coroutine into whoever resumed it
// last: s0 holds the address just above the link block's LINK_PARENT_SP and
// LINK_ROOT_PC words, and every landing updates LINK_PARENT_SP to the
// resumer's T, so
//   CFA = *(s0 - 2 XLEN) (T: the resumer's sp at its resume site),
//   s0, ra and s1 at their ParentFrame slots below T.
// The same two words are the frame record (psABI "Frame Pointer Convention":
// previous fp at fp - 2 XLEN, return address at fp - XLEN) at the root of the
// frame-pointer chain, which continues in the ParentFrame's record.
// (The C API's cem_makecontext root stays a clean stop.)
FUNC_BEGIN cem_ctx_riscv_psabi_coroutine_start
FUNC_HIDDEN cem_ctx_riscv_psabi_coroutine_start
    .cfi_startproc
    // A signal frame to debuggers: gdb accepts a caller frame at a lower
    // address than its callee (a resumer stack below the coroutine stack)
    // only across a signal frame. Unwinders then look up the resumer's
    // return address itself, not the byte before it: resume sites never end
    // a function.
    .cfi_signal_frame
    SAVE_X  sp, LINK_PARENT_SP, a1
    addi    sp, sp, -PARENT_SIZE
    SAVE_X  s0, PARENT_S0, sp
    SAVE_X  ra, PARENT_RA, sp
    SAVE_X  s1, PARENT_S1, sp
    LOAD_X  s1, FRAME_S1, t2
    addi    sp, t2, FRAME_SIZE
    addi    s0, a1, LINK_PARENT_SP + 2 * CEM_XLEN_BYTES
    // DW_CFA_def_cfa_expression, 3 bytes: DW_OP_breg8 (s0) -2 XLEN (one
    // SLEB128 byte), DW_OP_deref.
    .cfi_escape 0x0f, 3, 0x78, (-2 * CEM_XLEN_BYTES) & 0x7f, 0x06
    .cfi_offset s0, PARENT_S0 - PARENT_SIZE
    .cfi_offset ra, PARENT_RA - PARENT_SIZE
    .cfi_offset s1, PARENT_S1 - PARENT_SIZE
    // entry(value, data) never returns: it ends with a final suspend. Entered
    // by a plain jump with ra set rather than by a call, so that the
    // return-address stack holds only the resumer's call, which the
    // coroutine's first suspend (a ret) consumes.
    mv      a1, s1
    LOAD_X  t1, 0, s1
    lla     ra, 2f
    jr      t1
2:
    // Never reached; keeps the return address above inside this function.
    unimp
    .cfi_endproc
FUNC_END cem_ctx_riscv_psabi_coroutine_start

.purgem SAVE_X
.purgem LOAD_X
.purgem SAVE_F
.purgem LOAD_F

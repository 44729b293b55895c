// cem-ctx: assembler macros shared by both x86-64 ABIs (x86_64_sysv.s and
// x86_64_win64.s). Prepended to each of them by abi_global_asm! (see
// src/arch/x86_64_common.rs) and purged after each, so every global_asm! block
// defines them once. MXCSR_CONTROL is set from Rust. The Rust Coroutine fast
// path's inline-asm templates (asm/x86_64_*_suspend.s) get the same macros the
// same way, through x86_64_site_template! in src/arch/x86_64_common.rs: one
// definition of the FP control sequence serves both switch families.
//
// FP control state, per context. psABI §3.2.1 (and the Microsoft convention)
// make the *control* bits of MXCSR (bits 6-15: DAZ, exception masks, rounding,
// FTZ = MXCSR_CONTROL) and the x87 control word callee-saved, and the MXCSR
// *status* flags (bits 0-5, sticky exception flags) caller-saved. So a switch
// keeps the control bits with each context and lets the status flags follow the
// running thread, as they do across a call: after a switch the resumed side
// sees the flags that were set when the other side switched away.
//
// That is also what makes the switch cheap. Loading MXCSR with a *different*
// value costs ~50 ns on current Intel and AMD cores, and PE (inexact) is set by
// almost any division, so restoring the whole register, status included, makes
// every switch between a context that did floating point and one that did not
// pay that. Here the registers are only loaded when the control state really
// differs, which real programs almost never have.

// Stores the current MXCSR and x87 control word (whole registers; the status
// flags in the stored MXCSR are never loaded back). Issued early, so that the
// read-back in FP_CONTROL_LOAD finds the stores completed.
.macro FP_CONTROL_SAVE mxcsr, fcw
    stmxcsr \mxcsr
    fnstcw  \fcw
.endm

// Makes the control state stored at new_* current, keeping the current status
// flags; skips both loads when the control state at cur_* (what
// FP_CONTROL_SAVE stored) is already the same. tmp: 4 bytes of scratch memory;
// ra, rb, rc: 32-bit scratch registers.
.macro FP_CONTROL_LOAD cur_mxcsr, cur_fcw, new_mxcsr, new_fcw, tmp, ra, rb, rc
    movl    \new_mxcsr, \ra
    xorl    \cur_mxcsr, \ra
    andl    $MXCSR_CONTROL, \ra
    // 2-byte loads: the size fnstcw stored, so the read-back is forwarded.
    movzwl  \new_fcw, \rb
    movzwl  \cur_fcw, \rc
    xorl    \rc, \rb
    shll    $16, \rb
    orl     \rb, \ra
    jz      4f
    // ra: the MXCSR control bits that differ (the CW's differences are in the
    // upper half, dropped here). Flipping them in the current value gives the
    // incoming control bits with the current status flags.
    andl    $MXCSR_CONTROL, \ra
    xorl    \cur_mxcsr, \ra
    movl    \ra, \tmp
    ldmxcsr \tmp
    fldcw   \new_fcw
4:
.endm

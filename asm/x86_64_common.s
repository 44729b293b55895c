// cem-ctx: assembler macros shared by both x86-64 ABIs (x86_64_sysv.s and
// x86_64_win64.s). Prepended to each of them by abi_global_asm! (see
// src/arch/x86_64_common.rs) and purged after each, so every global_asm! block
// defines them once. The names they use (LINK_FP_CONTROL, FRAME_MXCSR,
// FRAME_FCW) are set by each ABI from its Rust layout.

// Saves MXCSR and the x87 control word to save_* and loads them from load_*
// (their control bits are callee-saved). Unconditionally: a compare-and-skip
// must read back what stmxcsr just stored, and on this project's AMD machine
// that read-back stalls the switch (measured with examples/ns_per_switch, same
// binary: 10.9-13.9 ns per switch with the compare, 8.3-8.8 ns without),
// while an unconditional ldmxcsr/fldcw of a value written long ago does not.
.macro SWITCH_FP_CONTROL save_mxcsr, save_cw, load_mxcsr, load_cw
    stmxcsr \save_mxcsr
    fnstcw  \save_cw
    ldmxcsr \load_mxcsr
    fldcw   \load_cw
.endm

// The fast path's FP control switch between the CoroutineFrame being left at
// (save) and the one being resumed (load), skipped when the coroutine whose
// link block is at (link) opted out (Options::fp_control false): then both
// sides share one FP control state, as a function and its caller do. Targets
// without SSE (CEM_FP_STATE = 0) assemble nothing.
.macro COROUTINE_FP_CONTROL link, save, load
.if CEM_FP_STATE
    cmpb    $0, LINK_FP_CONTROL(\link)
    je      3f
    SWITCH_FP_CONTROL FRAME_MXCSR(\save), FRAME_FCW(\save), FRAME_MXCSR(\load), FRAME_FCW(\load)
3:
.endif
.endm

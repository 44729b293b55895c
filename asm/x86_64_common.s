// cem-ctx: assembler macros shared by both x86-64 ABIs (x86_64_sysv.s and
// x86_64_win64.s). Prepended to each of them by src/arch/x86_64_*.rs, and
// purged after each, so every global_asm! block defines them once.

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

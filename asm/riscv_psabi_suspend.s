// cem-ctx: the suspend site of the Rust Coroutine fast path, RISC-V psABI
// (RV64 and RV32), with the landing that the next resume enters. An
// inline-asm template (src/arch/riscv_psabi.rs, coroutine_suspend), expanded
// into every Yielder::suspend; `NAME` in braces are const operands (XLEN: 4
// or 8). In: a1 = link block, a0 = value for the parent. Out: a0 = the value
// of the next resume.
//
// CoroutineFrame at the coroutine's saved sp C (LINK_COROUTINE_SP) while it is
// suspended; ParentFrame just below the resumer's sp T while the coroutine
// runs, with LINK_PARENT_SP = T itself (four XLEN words each, 32 bytes on RV64
// and 16 on RV32, so sp stays 16-byte aligned). s0 (the frame pointer) and s1
// (LLVM's base pointer) cannot be named in inline asm, so they are saved
// here; fcsr has thread storage duration (psABI "Floating-Point Register
// Convention") and is not switched.
//
//   word  CoroutineFrame at C       ParentFrame at T - 4 words
//   0     FRAME_S0      s0          PARENT_S1  s1
//   1     FRAME_RESUME  landing 2   (unused)
//   2     FRAME_S1      s1          PARENT_S0  s0   \ the psABI frame record
//   3     (unused)                  PARENT_RA  ra   / below the frame pointer T
//
// The ParentFrame's s0/ra pair sits where the psABI's "Frame Pointer
// Convention" puts a frame record (fp - 2 XLEN, fp - XLEN) for fp = T, so the
// link block (whose parent_sp/root_pc pair is the coroutine root's record)
// chains into it. The `PARENT_*_T` operands are those slots' offsets from T
// (negative).
.macro CEM_RV_SX reg, off, base
.if {XLEN} == 8
    sd      \reg, \off(\base)
.else
    sw      \reg, \off(\base)
.endif
.endm
.macro CEM_RV_LX reg, off, base
.if {XLEN} == 8
    ld      \reg, \off(\base)
.else
    lw      \reg, \off(\base)
.endif
.endm
    addi    sp, sp, -{FRAME_SIZE}
    lla     t3, 2f
    CEM_RV_SX s0, {FRAME_S0}, sp
    CEM_RV_SX t3, {FRAME_RESUME}, sp
    CEM_RV_SX s1, {FRAME_S1}, sp
    CEM_RV_SX sp, {LINK_COROUTINE_SP}, a1
    CEM_RV_LX t2, {LINK_PARENT_SP}, a1
    CEM_RV_LX s0, {PARENT_S0_T}, t2
    CEM_RV_LX ra, {PARENT_RA_T}, t2
    CEM_RV_LX s1, {PARENT_S1_T}, t2
    mv      sp, t2
    // To the resumer, right after its call: predicted by the return-address
    // stack (jalr x0, 0(ra) pops).
    ret
2:
    // Landing, entered by the resume site's `jalr t1` with t2 = C, a1 = link
    // block, a0 = value, ra = the resumer's return address, sp = T. The next
    // suspend returns to T; the coroutine root's frame record (link block)
    // continues in the ParentFrame's record. sp moves down before the
    // ParentFrame stores: Linux delivers signals at sp with no red zone.
    CEM_RV_SX sp, {LINK_PARENT_SP}, a1
    addi    sp, sp, -{PARENT_SIZE}
    CEM_RV_SX s0, {PARENT_S0}, sp
    CEM_RV_SX ra, {PARENT_RA}, sp
    CEM_RV_SX s1, {PARENT_S1}, sp
    CEM_RV_LX s0, {FRAME_S0}, t2
    CEM_RV_LX s1, {FRAME_S1}, t2
    addi    sp, t2, {FRAME_SIZE}
.purgem CEM_RV_SX
.purgem CEM_RV_LX

// cem-ctx: the suspend site of the Rust Coroutine fast path, AArch64 AAPCS64,
// with the landing that the next resume enters. An inline-asm template
// (src/arch/aarch64_aapcs64.rs, coroutine_suspend), expanded into every
// Yielder::suspend; `NAME` in braces are const operands. In: x1 = link block,
// x0 = value for the parent. Out: x0 = the value of the next resume.
//
// CoroutineFrame at the coroutine's saved sp C while it is suspended, and
// ParentFrame at the resumer's saved sp P while the coroutine runs (32 bytes
// each; sp + 32 is sp before the switch). x19 and x29 cannot be named in
// inline asm (LLVM reserves them), so they are saved here; FPCR/FPSR are
// global state (AAPCS64 §6.1.2) and are not switched.
//
//   FRAME_X29     0  x29                PARENT_X29     0  x29   \ a frame
//   FRAME_RESUME  8  the landing below  PARENT_RESUME  8  x30   / record
//   FRAME_X19    16  x19                PARENT_X19    16  x19
//                24  unused                           24  unused
    sub     sp, sp, #{FRAME_SIZE}
    adr     x16, 2f
    stp     x29, x16, [sp, #{FRAME_X29}]
    str     x19, [sp, #{FRAME_X19}]
    mov     x9, sp
    str     x9, [x1, #{LINK_COROUTINE_SP}]
    ldr     x10, [x1, #{LINK_PARENT_SP}]
    ldp     x29, x30, [x10, #{PARENT_X29}]
    ldr     x19, [x10, #{PARENT_X19}]
    add     sp, x10, #{PARENT_SIZE}
    // To the resumer, right after its blr: predicted by the return stack.
    ret
2:
    // Landing, entered by the resume site's blr x16 (so a BTI landing pad,
    // `bti jc`) with x9 = C, x1 = link block, x0 = value, x30 = the resumer's
    // return address, sp = the resumer's sp.
    hint    #38
    sub     sp, sp, #{PARENT_SIZE}
    stp     x29, x30, [sp, #{PARENT_X29}]
    str     x19, [sp, #{PARENT_X19}]
    mov     x10, sp
    // The next suspend returns to P; the coroutine root's frame record
    // (link block) continues in it.
    str     x10, [x1, #{LINK_PARENT_SP}]
    ldr     x29, [x9, #{FRAME_X29}]
    ldr     x19, [x9, #{FRAME_X19}]
    add     sp, x9, #{FRAME_SIZE}

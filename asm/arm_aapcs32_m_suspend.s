// cem-ctx: the suspend site of the Rust Coroutine fast path, Arm M-profile
// (AAPCS32, Thumb), with the landing that the next resume enters. An
// inline-asm template (src/arch/arm_aapcs32_m.rs, coroutine_suspend),
// expanded into every Yielder::suspend; `NAME` in braces are const operands
// (STACK_LIMIT is 1 on ARMv8-M Mainline, THUMB1 is 1 on ARMv6-M). In: r1 = link
// block, r0 = value for the parent. Out: r0 = the value of the next resume.
// With THUMB1 only Thumb-1 encodings (push/pop/ldr/str of low registers, `mov`
// to and from sp); shorter Thumb-2 forms elsewhere.
//
// CoroutineFrame at the coroutine's saved sp C while it is suspended, and
// ParentFrame at the resumer's saved sp P while the coroutine runs (16 bytes
// each, one push: lowest register at the lowest address; sp + 16 is sp before
// the switch and stays 8-byte aligned, AAPCS32 §6.2.1.2). r6 (LLVM's base
// pointer) and r7 (the Thumb frame pointer) cannot be named in inline asm, so
// they are saved here; FPSCR is global state and is not switched.
//
//   off  CoroutineFrame at C        ParentFrame at P
//   0    FRAME_LIMIT   its limit    PARENT_LIMIT  its limit
//   4    FRAME_RESUME  landing 2    r6
//   8    r6                         r7
//   12   r7                         lr (return address of the resume site)
//
// The limit slots hold the side's PSPLIM/MSPLIM value on ARMv8-M Mainline
// (padding elsewhere): as in cem_swapcontext, checking is off (limit 0) while
// sp moves and the incoming side's limit is loaded once sp is on its stack,
// so an exception in between never sees sp below a limit of the other stack.
.if {STACK_LIMIT}
// Thread mode runs on PSP when CONTROL.SPSEL is 1, else on MSP (ARMv8-M ARM,
// B3.5); the caller has done `mrs r12, CONTROL; tst r12, #2` (Z=1: MSP).
.macro CEM_M_LIMIT_READ reg
    ite     eq
    mrseq   \reg, MSPLIM
    mrsne   \reg, PSPLIM
.endm
.macro CEM_M_LIMIT_WRITE reg
    ite     eq
    msreq   MSPLIM, \reg
    msrne   PSPLIM, \reg
.endm
.endif
    // The landing's address with the Thumb bit. Thumb-1 adr reaches only
    // word-aligned labels forward (hence the .p2align below) and needs the
    // adds; Thumb-2 adr.w takes any offset, so the +1 folds into it.
.if {THUMB1}
    adr     r3, 2f
    adds    r3, #1
.else
    adr.w   r3, 2f + 1
.endif
.if {STACK_LIMIT}
    mrs     r12, CONTROL
    tst     r12, #2
    CEM_M_LIMIT_READ r2
    push    {{r2, r3, r6, r7}}
    mov     r3, #0
    CEM_M_LIMIT_WRITE r3
.else
    push    {{r2, r3, r6, r7}}
.endif
    // Thumb-1 moves sp only with mov and add/sub; Thumb-2 also stores and
    // loads it directly (STR/LDR immediate, encoding T3, allow Rt = sp; ARMv7-M ARM
    // A7.7.158/A7.7.43).
.if {THUMB1}
    mov     r2, sp
    str     r2, [r1, #{LINK_COROUTINE_SP}]
    ldr     r2, [r1, #{LINK_PARENT_SP}]
    mov     sp, r2
.else
    str     sp, [r1, #{LINK_COROUTINE_SP}]
    ldr     sp, [r1, #{LINK_PARENT_SP}]
.endif
    // To the resumer, right after its blx.
.if {STACK_LIMIT}
    pop     {{r2, r6, r7, lr}}
    CEM_M_LIMIT_WRITE r2
    bx      lr
.else
    pop     {{r2, r6, r7, pc}}
.endif
    // Also for adr.w: its offset is from Align(pc, 4), which the assembler
    // can only resolve if the section is 4-aligned; this raises a Thumb
    // function section's alignment from 2 to 4 (seen otherwise: a landing
    // address 2 bytes short in a release build).
    .p2align 2
2:
    // Landing, entered by the resume site's blx r3 with r2 = C, r1 = link
    // block, r0 = value, lr = the resumer's return address (Thumb bit set),
    // sp = the resumer's sp.
.if {STACK_LIMIT}
    mrs     r12, CONTROL
    tst     r12, #2
    CEM_M_LIMIT_READ r3
    push    {{r3, r6, r7, lr}}
    mov     r3, #0
    CEM_M_LIMIT_WRITE r3
.else
    push    {{r3, r6, r7, lr}}
.endif
.if {THUMB1}
    mov     r3, sp
    str     r3, [r1, #{LINK_PARENT_SP}]
.else
    str     sp, [r1, #{LINK_PARENT_SP}]
.endif
    mov     sp, r2
    // r3 takes the resume slot (this landing) and is dropped.
    pop     {{r2, r3, r6, r7}}
.if {STACK_LIMIT}
    CEM_M_LIMIT_WRITE r2
.purgem CEM_M_LIMIT_READ
.purgem CEM_M_LIMIT_WRITE
.endif

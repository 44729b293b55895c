// cem-ctx: context switch for the Microsoft x64 calling convention (Windows).
// AT&T syntax. The object-format macros (FUNC_BEGIN, FUNC_END), the CEM_FP_STATE
// flag and every offset name (CTX_*, TEB_*, FRAME_*, LINK_*) come from
// abi_global_asm! in src/arch/x86_64_win64.rs, computed from the #[repr(C)]
// structs and TEB constants there: no offset is written as a number here.
//
// Saved state: cem_context_t (Rust `Context`), 288 bytes, 8-byte aligned. The
// xmm slots are accessed with movups, so the struct needs no 16-byte alignment.
//
//   name             offset  size  contents
//   ---------------  ------  ----  ---------------------------------------------
//   CTX_RBX               0     8  \
//   CTX_RBP               8     8   |
//   CTX_RDI              16     8   | nonvolatile general registers
//   CTX_RSI              24     8   | ("x64 calling convention", register
//   CTX_R12              32     8   |  volatility and preservation)
//   CTX_R13              40     8   |
//   CTX_R14              48     8   |
//   CTX_R15              56     8  /
//   CTX_RSP              64     8  rsp at the switch; [rsp] = resume address
//   CTX_MXCSR            72     4  MXCSR: control bits 6-15 nonvolatile, follow the
//                                  context; status flags follow the thread
//                                  (see x86_64_common.s)
//   CTX_FCW              76     4  x87 control word, low 16 bits (nonvolatile)
//   CTX_TEB              80    36  the TEB stack fields, laid out as `TebStack`:
//     + TEB_SLOT_STACK_BASE     0  8  NT_TIB.StackBase      at TEB + TEB_STACK_BASE (0x08)
//     + TEB_SLOT_STACK_LIMIT    8  8  NT_TIB.StackLimit     at TEB + TEB_STACK_LIMIT (0x10)
//     + TEB_SLOT_DEALLOCATION  16  8  DeallocationStack     at TEB + TEB_DEALLOCATION_STACK (0x1478)
//     + TEB_SLOT_EXCEPTION_LIST 24 8  NT_TIB.ExceptionList  at TEB + TEB_EXCEPTION_LIST (0x00)
//     + TEB_SLOT_GUARANTEED    32  4  GuaranteedStackBytes  at TEB + TEB_GUARANTEED_STACK_BYTES (0x1748)
//                           116    12  `_reserved`, zero
//   CTX_XMM6 .. CTX_XMM15   128-272  16 each: xmm6-xmm15, nonvolatile, all 128 bits
//
// The Rust Coroutine fast path is inline asm (asm/x86_64_win64_resume.s and
// asm/x86_64_win64_suspend.s, with the CoroutineFrame and ParentFrame layout
// tables); only its start trampoline is here, at the end of this file.
//
// Why the TEB fields: Windows describes the current stack in the Thread
// Environment Block. __chkstk compares against StackLimit, the exception
// dispatcher and RtlVirtualUnwind reject frames outside [StackLimit, StackBase),
// SetThreadStackGuarantee reads GuaranteedStackBytes, and Wine's dispatcher still
// walks ExceptionList. A switch that leaves them describing the old stack breaks
// stack probes, SEH and C++ exceptions on the new one.

// CEM_TEB (from src/arch/x86_64_win64.rs) is 1 on Windows and 0 on UEFI, which
// uses this calling convention without a TEB (gs: points at none there). With
// 0, TEB_ADDRESS, SAVE_TEB_STACK and LOAD_TEB_STACK assemble to nothing and the
// TEB slots stay in the layouts, unused.

// Loads the TEB address through its self pointer (NT_TIB.Self, gs:TEB_SELF),
// so the field accesses are plain loads and stores.
.macro TEB_ADDRESS reg
.if CEM_TEB
    movq    %gs:TEB_SELF, \reg
.endif
.endm

// Copies the five TEB stack fields (teb = TEB address register) to the
// TebStack at off(base).
.macro SAVE_TEB_STACK teb, base, off, tmp, tmp32
.if CEM_TEB
    movq    TEB_STACK_BASE(\teb), \tmp
    movq    \tmp, \off+TEB_SLOT_STACK_BASE(\base)
    movq    TEB_STACK_LIMIT(\teb), \tmp
    movq    \tmp, \off+TEB_SLOT_STACK_LIMIT(\base)
    movq    TEB_DEALLOCATION_STACK(\teb), \tmp
    movq    \tmp, \off+TEB_SLOT_DEALLOCATION(\base)
    movq    TEB_EXCEPTION_LIST(\teb), \tmp
    movq    \tmp, \off+TEB_SLOT_EXCEPTION_LIST(\base)
    movl    TEB_GUARANTEED_STACK_BYTES(\teb), \tmp32
    movl    \tmp32, \off+TEB_SLOT_GUARANTEED(\base)
.endif
.endm

// The reverse: loads the TEB stack fields from the TebStack at off(base).
.macro LOAD_TEB_STACK teb, base, off, tmp, tmp32
.if CEM_TEB
    movq    \off+TEB_SLOT_STACK_BASE(\base), \tmp
    movq    \tmp, TEB_STACK_BASE(\teb)
    movq    \off+TEB_SLOT_STACK_LIMIT(\base), \tmp
    movq    \tmp, TEB_STACK_LIMIT(\teb)
    movq    \off+TEB_SLOT_DEALLOCATION(\base), \tmp
    movq    \tmp, TEB_DEALLOCATION_STACK(\teb)
    movq    \off+TEB_SLOT_EXCEPTION_LIST(\base), \tmp
    movq    \tmp, TEB_EXCEPTION_LIST(\teb)
    movl    \off+TEB_SLOT_GUARANTEED(\base), \tmp32
    movl    \tmp32, TEB_GUARANTEED_STACK_BYTES(\teb)
.endif
.endm


// void cem_swapcontext(cem_context_t *save_ctx /* rcx */,
//                      const cem_context_t *restore_ctx /* rdx */);
// void *cem_swapcontext_value(cem_context_t *save_ctx, const cem_context_t *restore_ctx,
//                             void *value /* r8 */);
// Same code: the value travels in rax and becomes the return value of the
// cem_swapcontext_value call the resumed side is suspended in.
FUNC_BEGIN cem_swapcontext
FUNC_ENTRY cem_swapcontext_value
    .seh_proc cem_swapcontext
    // No prologue: nothing is pushed, so [rsp] is the return address at every
    // instruction, which is what empty unwind info tells RtlVirtualUnwind.
    // That stays true after rsp moves to the other stack.
    .seh_endprologue
    movq    %r8, %rax
    movq    %rbx, CTX_RBX(%rcx)
    movq    %rbp, CTX_RBP(%rcx)
    movq    %rdi, CTX_RDI(%rcx)
    movq    %rsi, CTX_RSI(%rcx)
    movq    %r12, CTX_R12(%rcx)
    movq    %r13, CTX_R13(%rcx)
    movq    %r14, CTX_R14(%rcx)
    movq    %r15, CTX_R15(%rcx)
    movq    %rsp, CTX_RSP(%rcx)
    movups  %xmm6, CTX_XMM6(%rcx)
    movups  %xmm7, CTX_XMM7(%rcx)
    movups  %xmm8, CTX_XMM8(%rcx)
    movups  %xmm9, CTX_XMM9(%rcx)
    movups  %xmm10, CTX_XMM10(%rcx)
    movups  %xmm11, CTX_XMM11(%rcx)
    movups  %xmm12, CTX_XMM12(%rcx)
    movups  %xmm13, CTX_XMM13(%rcx)
    movups  %xmm14, CTX_XMM14(%rcx)
    movups  %xmm15, CTX_XMM15(%rcx)
    // r8-r11 are volatile scratch.
    TEB_ADDRESS %r10
    SAVE_TEB_STACK %r10, %rcx, CTX_TEB, %r8, %r8d
.if CEM_FP_STATE
    FP_CONTROL_SAVE CTX_MXCSR(%rcx), CTX_FCW(%rcx)
    // Scratch for ldmxcsr: the home space our caller reserved above our
    // return address, ours by the convention.
    FP_CONTROL_LOAD CTX_MXCSR(%rcx), CTX_FCW(%rcx), CTX_MXCSR(%rdx), CTX_FCW(%rdx), 8(%rsp), %r8d, %r9d, %r11d
.endif
    LOAD_TEB_STACK %r10, %rdx, CTX_TEB, %r8, %r8d
    movups  CTX_XMM6(%rdx), %xmm6
    movups  CTX_XMM7(%rdx), %xmm7
    movups  CTX_XMM8(%rdx), %xmm8
    movups  CTX_XMM9(%rdx), %xmm9
    movups  CTX_XMM10(%rdx), %xmm10
    movups  CTX_XMM11(%rdx), %xmm11
    movups  CTX_XMM12(%rdx), %xmm12
    movups  CTX_XMM13(%rdx), %xmm13
    movups  CTX_XMM14(%rdx), %xmm14
    movups  CTX_XMM15(%rdx), %xmm15
    movq    CTX_RBX(%rdx), %rbx
    movq    CTX_RBP(%rdx), %rbp
    movq    CTX_RDI(%rdx), %rdi
    movq    CTX_RSI(%rdx), %rsi
    movq    CTX_R12(%rdx), %r12
    movq    CTX_R13(%rdx), %r13
    movq    CTX_R14(%rdx), %r14
    movq    CTX_R15(%rdx), %r15
    movq    CTX_RSP(%rdx), %rsp
    // pop + indirect jmp instead of ret: the return-stack buffer would predict
    // this thread's last call, on the other stack, and miss on every switch.
    popq    %r8
    jmpq    *%r8
    .seh_endproc
FUNC_END cem_swapcontext_value
FUNC_END cem_swapcontext

// Entry trampoline of a fresh context. cem_makecontext builds this frame (Rust
// `InitialFrame`) at the 16-byte aligned stack top T:
//   T-16  0                       fake return address: ends every stack walk
//   T-48  32 bytes                shadow (home) space of this frame's callees
//   T-56  &cem_ctx_x86_64_win64_start   popped by the first switch
// and sets rbx = func, rsi = return_func (or cem_context_trap), rdi =
// cem_context_trap, r12 = func's argument, rbp = 0. After the pop rsp = T-48:
// 16-byte aligned before each call, with the callee's 32-byte home space above
// its return address.
//
// The unwind info describes a 32-byte stack allocation that the (never executed)
// prologue instruction below would have made, so RtlVirtualUnwind computes this
// frame's return address at T-16 and finds 0: the walk ends here cleanly.
FUNC_BEGIN cem_ctx_x86_64_win64_frame
    .seh_proc cem_ctx_x86_64_win64_frame
    subq    $32, %rsp
    .seh_stackalloc 32
    .seh_endprologue
FUNC_ENTRY cem_ctx_x86_64_win64_start
    movq    %r12, %rcx
    callq   *%rbx
    // func returned: return_func on the same stack, same alignment.
    callq   *%rsi
    // return_func returned too: stop at the named trap.
    callq   *%rdi
    // Unreachable; keeps the return address of the last call inside this
    // function's unwind range.
    int3
    .seh_endproc
FUNC_END cem_ctx_x86_64_win64_frame

// The documented stop for a context with nowhere to return to, and for invalid
// arguments to cem_makecontext: ud2 raises EXCEPTION_ILLEGAL_INSTRUCTION with
// this symbol at the faulting address.
FUNC_BEGIN cem_context_trap
    .seh_proc cem_context_trap
    .seh_endprologue
    ud2
    .seh_endproc
FUNC_END cem_context_trap

// ---------------------------------------------------------------------------
// Start trampoline of a Rust Coroutine (src/coroutine.rs). The fast path
// itself is inline asm at its call sites: asm/x86_64_win64_resume.s and
// asm/x86_64_win64_suspend.s (frame layouts there). A fresh coroutine's
// CoroutineFrame (Rust `InitialCoroutineFrame`) resumes here instead of at a
// suspend site's landing, with the landing's registers: rdx = link block,
// rcx = the initial frame C (rbx slot: the data block, whose first word is
// the entry function; TEB slots: the fresh stack's values; rbp slot unread),
// rdi = the first resume value, rsp = the parent's stack below its
// PARENT_RESUME. It does what the landing does (asm/x86_64_win64_suspend.s),
// then enters the entry function.
//
// Unwinding: the coroutine root is a clean end of every SEH walk, as for
// cem_makecontext's contexts. SEH unwind codes cannot follow the link block
// to the current resumer (no indirection, unlike DWARF CFI on System V), so
// the walk stops here. The unwind info describes a 32-byte allocation that
// the (never executed) prologue below would have made: from the body,
// RtlVirtualUnwind finds the return address at rsp + 32, which is
// InitialCoroutineFrame's zero end-of-walk slot (C + FRAME_SIZE).
FUNC_BEGIN cem_ctx_x86_64_win64_coroutine_frame
    .seh_proc cem_ctx_x86_64_win64_coroutine_frame
    subq    $32, %rsp
    .seh_stackalloc 32
    .seh_endprologue
FUNC_ENTRY cem_ctx_x86_64_win64_coroutine_start
    pushq   %rbp
    movq    %rsp, LINK_PARENT_SP(%rdx)
    TEB_ADDRESS %r10
    SAVE_TEB_STACK %r10, %rsp, PARENT_TEB, %rax, %eax
    LOAD_TEB_STACK %r10, %rcx, FRAME_TEB, %rax, %eax
.if CEM_FP_STATE
    cmpb    $0, LINK_FP_CONTROL(%rdx)
    je      3f
    FP_CONTROL_LOAD PARENT_MXCSR(%rsp), PARENT_FCW(%rsp), FRAME_MXCSR(%rcx), FRAME_FCW(%rcx), FRAME_MXCSR(%rcx), %r8d, %r9d, %r11d
3:
.endif
    movq    FRAME_RBX(%rcx), %rbx
    // rbp = 0: the conventional end of a frame-pointer chain, for tools that
    // walk rbp. Nothing else reads it here (SEH unwinding uses the unwind info,
    // which declares no frame register), so it is set, not loaded from the
    // frame's rbp slot: a load that no test could observe.
    xorl    %ebp, %ebp
    // rsp = C + FRAME_SIZE - 32, 16-byte aligned (init_coroutine places C so),
    // with the zero end-of-walk slot at rsp + 32 as the unwind info says and
    // the entry function's 32-byte home space below it. The frame below is
    // dead: the fields were loaded above.
    leaq    FRAME_SIZE-32(%rcx), %rsp
    // entry(value, data) never returns: it ends with a final suspend. It is
    // entered by jmp with a pushed return address rather than by call, so
    // that the return-stack buffer holds only the parent's resume call, which
    // the coroutine's first suspend (a ret) consumes. The pushed address is
    // for the unwinder and keeps the entry alignment (rsp + 8 16-byte aligned).
    movq    %rdi, %rcx
    movq    %rbx, %rdx
    leaq    2f(%rip), %rax
    pushq   %rax
    jmpq    *(%rbx)
2:
    // Never reached; keeps the return address above inside this function.
    int3
    .seh_endproc
FUNC_END cem_ctx_x86_64_win64_coroutine_frame

.purgem TEB_ADDRESS
.purgem SAVE_TEB_STACK
.purgem LOAD_TEB_STACK

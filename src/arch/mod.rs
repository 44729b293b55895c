//! Per-ABI glue: the contract every ABI module fulfils, and the one
//! object-format layer shared by every `asm/` source.
//!
//! # The per-ABI contract
//!
//! One module per ABI (`x86_64_sysv`, `x86_64_win64`, `aarch64_aapcs64`,
//! `riscv_psabi`, `arm_aapcs32_m`), chosen
//! for the target and re-exported as `native`, provides:
//!
//! | item | what it is |
//! |------|------------|
//! | `Context` | `#[repr(C)]` saved state of a suspended context: `cem_context_t` in C; every field offset asserted |
//! | `STACK_ALIGN`, `MIN_STACK_SIZE` | stack-pointer alignment at calls, smallest stack `make_context` accepts (bytes) |
//! | `init(base, top, func, arg, ret_func, trap) -> Context` | the initial frame of a fresh C-shaped context |
//! | `saved_sp(&Context) -> usize` | the saved stack pointer (`CEM_CONTEXT_GET_SP`) |
//! | `CoroutineFrame` | `#[repr(C)]` frame a suspended coroutine leaves at its saved sp (`CoroutineLink::coroutine_sp`) |
//! | `ParentFrame` | `#[repr(C)]` frame the resumer of a running coroutine leaves at its saved sp (`CoroutineLink::parent_sp`); begins with a frame record |
//! | `init_coroutine(base, top, frame_top, data) -> usize` | writes a fresh coroutine's `CoroutineFrame`, returns its sp |
//! | `coroutine_root_pc() -> usize` | the start trampoline's address, the link block's `root_pc` |
//! | `coroutine_resume(link, value)`, `coroutine_suspend(link, value)` | the fast path's two halves, inline asm at the call sites |
//! | `prefetch(addr)` | a cache hint that never faults |
//!
//! and its `asm/` source defines `cem_swapcontext`, `cem_swapcontext_value`,
//! `cem_context_trap` (declared here, once) and the internal
//! `cem_ctx_<abi>_{start,coroutine_start}`.
//!
//! # The `Coroutine` fast path: inline at both call sites
//!
//! As in corosensei, both halves of the asymmetric switch are inline asm at
//! their call sites, expanded from templates in `asm/` (`<abi>_resume.s`,
//! `<abi>_suspend.s`, read with `include_str!`, every offset a `const`
//! operand), and each site declares every register it does not save
//! clobbered, so the compiler saves only the callee-saved registers live
//! there. The resume site *calls* the coroutine's saved resume address: the
//! landing inside the coroutine's own suspend site, or, the first time, the
//! ABI's start trampoline. The landing stores the resumer's registers that
//! inline asm cannot name (the frame pointer and the base register LLVM
//! reserves), its return address and, on x86-64, its FP control state as a
//! `ParentFrame`, and the suspend site ends in the return that the resume
//! call predicts. Per round trip there is one call and one return, both
//! predicted, and no call into out-of-line code.
//!
//! The start trampoline stays at the root of the coroutine stack. Its DWARF
//! CFI computes the resumer's frame from the link block (CFA =
//! `*link.parent_sp + size_of::<ParentFrame>()`, through the frame pointer,
//! which it points at `link.parent_sp`), so unwinders, debuggers and profilers
//! continue from inside a coroutine into whoever resumed it last; and
//! `link.parent_sp`/`link.root_pc` form the root frame record of the
//! frame-pointer chain, which continues in the `ParentFrame`'s record.
//!
//! # Offsets have one definition
//!
//! The Rust structs are the source of every offset. `abi_global_asm!` turns a
//! list of `NAME = offset_of!(...)` pairs into `.set NAME, <value>` lines ahead
//! of the ABI's assembly, which uses only those names (`CTX_RBX(%rdi)`,
//! `[x0, #CTX_X19]`). The link block's names (`LINK_*`, from
//! `CoroutineLink`) are added for every ABI. Because `global_asm!` reads
//! `{` and `}` as operand placeholders, the `asm/` sources contain neither
//! (write `{{` and `}}` where an instruction needs a brace).
//!
//! # Object formats
//!
//! Each ABI has exactly one assembly source in `asm/`. What differs between
//! object formats is confined to the GAS macros defined here and prepended to
//! that source:
//!
//! | macro                    | ELF (Linux, bare metal)     | Mach-O (Apple)            | COFF (Windows)              |
//! |--------------------------|-----------------------------|---------------------------|-----------------------------|
//! | `FUNC_BEGIN name`        | `.globl`, `.type %function` | `.globl _name` (C prefix) | `.globl`, `.def/.scl/.type` |
//! | `FUNC_ENTRY name`        | second global entry label   | `_name` label             | `.def` + label              |
//! | `FUNC_HIDDEN name`       | `.hidden` (internal symbol) | `.private_extern _name`   | nothing (no dllexport)      |
//! | `FUNC_END name`          | `.size name, . - name`      | nothing                   | nothing                     |
//! | `GNU_PROPERTY type bits` | `.note.gnu.property` note   | nothing (no such note)    | nothing (no such note)      |
//! | non-executable stack     | `.note.GNU-stack` section   | not applicable            | not applicable              |
//!
//! Unwind info is not in this layer: the System V and AAPCS64 sources use DWARF
//! CFI (`.cfi_*`, valid for ELF and Mach-O alike), and the Windows source, which
//! is only ever COFF, uses SEH (`.seh_*`).
//!
//! `CEM_FP_STATE` (1 or 0) mirrors `cfg(cem_fp_state)` from `build.rs`, so the
//! assembly saves floating-point state exactly when the Rust glue expects it.

/// Expands to the object-format prelude (a string literal) for this target.
#[cfg(target_vendor = "apple")]
macro_rules! object_format_prelude {
    () => {
        r#"
        .macro FUNC_BEGIN name
            .text
            .globl _\name
            .p2align 4
        _\name:
        .endm
        .macro FUNC_ENTRY name
            .globl _\name
        _\name:
        .endm
        .macro FUNC_HIDDEN name
            .private_extern _\name
        .endm
        .macro FUNC_END name
        .endm
        .macro GNU_PROPERTY type, bits
        .endm
        "#
    };
}

/// Expands to the object-format prelude (a string literal) for this target.
/// UEFI images are PE/COFF too.
#[cfg(any(target_os = "windows", target_os = "uefi"))]
macro_rules! object_format_prelude {
    () => {
        r#"
        .macro FUNC_BEGIN name
            .text
            .globl \name
            .def \name; .scl 2; .type 32; .endef
            .p2align 4
        \name:
        .endm
        .macro FUNC_ENTRY name
            .globl \name
            .def \name; .scl 2; .type 32; .endef
        \name:
        .endm
        .macro FUNC_HIDDEN name
        .endm
        .macro FUNC_END name
        .endm
        .macro GNU_PROPERTY type, bits
        .endm
        "#
    };
}

/// Expands to the object-format prelude (a string literal) for this target.
#[cfg(not(any(target_vendor = "apple", target_os = "windows", target_os = "uefi")))]
macro_rules! object_format_prelude {
    () => {
        r#"
        .macro FUNC_BEGIN name
            .text
            .globl \name
            .type \name, %function
            .p2align 4
        \name:
        .endm
        .macro FUNC_ENTRY name
            .globl \name
            .type \name, %function
        \name:
        .endm
        .macro FUNC_HIDDEN name
            .hidden \name
        .endm
        .macro FUNC_END name
            .size \name, . - \name
        .endm
        // NT_GNU_PROPERTY_TYPE_0 note with one AND-combined feature word, as the
        // linker expects it (8-byte aligned on ELF64). A feature bit survives a
        // link only if every input object sets it, so an object that omitted
        // it would switch IBT/BTI off for the whole program.
        .macro GNU_PROPERTY type, bits
            .pushsection .note.gnu.property, "a", %note
            .p2align 3
            .long 4
            .long 16
            .long 5
            .asciz "GNU"
            .long \type
            .long 4
            .long \bits
            .long 0
            .popsection
        .endm
        .pushsection .note.GNU-stack, "", %progbits
        .popsection
        "#
    };
}

/// Removes the prelude's macros again so that another `global_asm!` block in
/// the same codegen unit could define its own.
macro_rules! object_format_epilogue {
    () => {
        r#"
        .purgem FUNC_BEGIN
        .purgem FUNC_ENTRY
        .purgem FUNC_HIDDEN
        .purgem FUNC_END
        .purgem GNU_PROPERTY
        "#
    };
}

/// `.set CEM_FP_STATE, 0|1` for the assembly, from `cfg(cem_fp_state)`.
#[cfg(cem_fp_state)]
macro_rules! fp_state_flag {
    () => {
        ".set CEM_FP_STATE, 1\n"
    };
}
#[cfg(not(cem_fp_state))]
macro_rules! fp_state_flag {
    () => {
        ".set CEM_FP_STATE, 0\n"
    };
}

/// One ABI's `global_asm!` block: the object-format prelude, the FP-state
/// flag, a `.set NAME, value` line for every named offset (the link block's
/// `LINK_*` names included), the assembly sources, and the epilogue.
///
/// ```text
/// abi_global_asm!(
///     sources: [include_str!("../../asm/abi.s")],
///     names: [CTX_RBX = offset_of!(Context, rbx), ...],
///     options(att_syntax)
/// );
/// ```
macro_rules! abi_global_asm {
    (
        sources: [$($source:expr),+ $(,)?],
        names: [$($name:ident = $value:expr),* $(,)?]
        $(, options($($option:ident),*))? $(,)?
    ) => {
        core::arch::global_asm!(
            object_format_prelude!(),
            fp_state_flag!(),
            ".set LINK_PARENT_SP, {link_parent_sp}",
            ".set LINK_COROUTINE_SP, {link_coroutine_sp}",
            ".set LINK_FP_CONTROL, {link_fp_control}",
            $(concat!(".set ", stringify!($name), ", {", stringify!($name), "}"),)*
            $($source,)+
            object_format_epilogue!(),
            link_parent_sp = const core::mem::offset_of!($crate::arch::CoroutineLink, parent_sp),
            link_coroutine_sp = const core::mem::offset_of!($crate::arch::CoroutineLink, coroutine_sp),
            link_fp_control = const core::mem::offset_of!($crate::arch::CoroutineLink, fp_control),
            $($name = const $value,)*
            $(options($($option),*))?
        );
    };
}

/// The link block at the top of a Rust coroutine's stack, shared by the two
/// halves of the asymmetric switch (names `LINK_*` in the assembly).
///
/// 32 bytes on 64-bit targets, 16-byte aligned, so that the data block below
/// it keeps the stack top's alignment.
///
/// | offset | size | field | contents |
/// |-------:|-----:|-------|----------|
/// | 0 | 8 | `parent_sp` | the resumer's sp while the coroutine runs |
/// | 8 | 8 | `root_pc` | the start trampoline's address: with `parent_sp`, the frame record at the root of the coroutine's frame-pointer chain |
/// | 16 | 8 | `coroutine_sp` | the coroutine's sp while it is suspended |
/// | 24 | 1 | `fp_control` | nonzero: the coroutine keeps its own FP control state (MXCSR/x87 CW) |
///
/// (Offsets for 64-bit targets; on 32-bit ones each word is 4 bytes.)
#[repr(C, align(16))]
pub(crate) struct CoroutineLink {
    /// Saved sp of the side that resumed the coroutine.
    pub parent_sp: usize,
    /// What a frame-pointer walk reports for the coroutine root's frame record.
    pub root_pc: usize,
    /// Saved sp of the suspended coroutine (its `CoroutineFrame`).
    pub coroutine_sp: usize,
    /// Whether the switch swaps the FP control state (`Options::fp_control`).
    pub fp_control: bool,
}

static_assertions::const_assert_eq!(core::mem::offset_of!(CoroutineLink, parent_sp), 0);
static_assertions::const_assert_eq!(
    core::mem::offset_of!(CoroutineLink, root_pc),
    core::mem::size_of::<usize>()
);
static_assertions::const_assert_eq!(
    core::mem::offset_of!(CoroutineLink, coroutine_sp),
    2 * core::mem::size_of::<usize>()
);
static_assertions::const_assert_eq!(
    core::mem::offset_of!(CoroutineLink, fp_control),
    3 * core::mem::size_of::<usize>()
);
static_assertions::const_assert_eq!(core::mem::size_of::<CoroutineLink>() % 16, 0);

extern "C" {
    /// Saves the calling context's callee-saved state into `save_ctx` and
    /// resumes `restore_ctx`; returns when another switch resumes `save_ctx`.
    ///
    /// Saved state is the platform ABI's callee-saved set (see
    /// `cem_context_t`), including the FP control state the ABI makes
    /// callee-saved: on x86-64 the MXCSR control bits (6–15) and the x87
    /// control word, loaded only when the resumed context's differ from the
    /// current ones. The MXCSR status flags (0–5) are caller-saved (psABI
    /// §3.2.1) and follow the thread: the resumed side sees the flags the
    /// switching side had. AArch64's FPCR/FPSR are global (AAPCS64 §6.1.2) and
    /// not switched. `save_ctx == restore_ctx` is allowed and returns at once.
    ///
    /// Unchecked (this is the hot path): both pointers must be valid and
    /// 8-byte aligned, and `restore_ctx` must come from `cem_makecontext` or
    /// a switch away from a context still suspended, whose stack is alive. A
    /// context runs on at most one thread at a time. Implemented in assembly
    /// (`asm/`).
    pub fn cem_swapcontext(save_ctx: *mut native::Context, restore_ctx: *const native::Context);

    /// `cem_swapcontext` that also hands `value` to the resumed side and
    /// returns the value handed back by whoever resumes `save_ctx` later
    /// (Boost.Context's transfer). The resumed side sees `value` as the return
    /// value of its own suspended `cem_swapcontext_value` call; a side
    /// suspended in plain `cem_swapcontext` does not see it. Same contract and
    /// cost as `cem_swapcontext` (one extra register move).
    pub fn cem_swapcontext_value(
        save_ctx: *mut native::Context,
        restore_ctx: *const native::Context,
        value: *mut core::ffi::c_void,
    ) -> *mut core::ffi::c_void;

    /// The named trap where a context stops when both its entry function and
    /// its `return_func` have returned (or `return_func` was NULL), and where
    /// `cem_makecontext` stops on invalid arguments. Executes `ud2` (x86-64:
    /// SIGILL, or EXCEPTION_ILLEGAL_INSTRUCTION on Windows), `brk #0xc0de`
    /// (AArch64, SIGTRAP), `unimp` (RISC-V, SIGILL) or `udf #0xc0` (Cortex-M:
    /// UsageFault UNDEFINSTR, or HardFault when UsageFault is disabled); never
    /// returns.
    pub fn cem_context_trap() -> !;
}

#[cfg(target_arch = "x86_64")]
#[macro_use]
mod x86_64_common;

#[cfg(all(
    target_arch = "x86_64",
    not(any(target_os = "windows", target_os = "uefi"))
))]
pub mod x86_64_sysv;
#[cfg(all(
    target_arch = "x86_64",
    not(any(target_os = "windows", target_os = "uefi"))
))]
pub use x86_64_sysv as native;

// UEFI on x86-64 uses the Microsoft x64 calling convention (UEFI spec §2.3.4.2)
// but has no TEB: the Windows module assembles its TEB code out there (CEM_TEB).
#[cfg(all(target_arch = "x86_64", any(target_os = "windows", target_os = "uefi")))]
pub mod x86_64_win64;
#[cfg(all(target_arch = "x86_64", any(target_os = "windows", target_os = "uefi")))]
pub use x86_64_win64 as native;

#[cfg(all(target_arch = "aarch64", target_os = "windows"))]
compile_error!("cem-ctx has no AArch64 Windows ABI support yet");

#[cfg(target_arch = "aarch64")]
pub mod aarch64_aapcs64;
#[cfg(target_arch = "aarch64")]
pub use aarch64_aapcs64 as native;

#[cfg(any(target_arch = "riscv64", target_arch = "riscv32"))]
pub mod riscv_psabi;
#[cfg(any(target_arch = "riscv64", target_arch = "riscv32"))]
pub use riscv_psabi as native;

#[cfg(target_arch = "arm")]
pub mod arm_aapcs32_m;
#[cfg(target_arch = "arm")]
pub use arm_aapcs32_m as native;

#[cfg(all(target_arch = "arm", not(cem_arm_m)))]
compile_error!(
    "cem-ctx supports 32-bit Arm only on M-profile (thumbv6m, thumbv7m, thumbv7em, thumbv8m.main)"
);

#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64",
    target_arch = "riscv32",
    target_arch = "arm"
)))]
compile_error!(
    "cem-ctx supports x86-64 (System V, Microsoft x64), AArch64 (AAPCS64), RISC-V (psABI) and Arm M-profile (AAPCS32) only"
);

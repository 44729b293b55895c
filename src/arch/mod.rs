//! Per-ABI glue and the one object-format layer shared by every `asm/` source.
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
#[cfg(target_os = "windows")]
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
#[cfg(not(any(target_vendor = "apple", target_os = "windows")))]
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

/// The link block at the top of a Rust coroutine's stack, read by the
/// asymmetric switch in `asm/`: resumer sp, coroutine sp, FP-control flag
/// (nonzero: the coroutine keeps its own MXCSR/x87 CW), unused.
pub(crate) type CoroutineLink = [usize; 4];

#[cfg(target_arch = "x86_64")]
#[macro_use]
mod x86_64_common;

#[cfg(all(target_arch = "x86_64", not(target_os = "windows")))]
pub mod x86_64_sysv;
#[cfg(all(target_arch = "x86_64", not(target_os = "windows")))]
pub use x86_64_sysv as native;

#[cfg(all(target_arch = "x86_64", target_os = "windows"))]
pub mod x86_64_win64;
#[cfg(all(target_arch = "x86_64", target_os = "windows"))]
pub use x86_64_win64 as native;

#[cfg(all(target_arch = "aarch64", target_os = "windows"))]
compile_error!("cem-ctx has no AArch64 Windows ABI support yet");

#[cfg(target_arch = "aarch64")]
pub mod aarch64_aapcs64;
#[cfg(target_arch = "aarch64")]
pub use aarch64_aapcs64 as native;

#[cfg(target_arch = "arm")]
pub mod arm_aapcs32_m;
#[cfg(target_arch = "arm")]
pub use arm_aapcs32_m as native;

#[cfg(all(target_arch = "arm", not(cem_arm_m)))]
compile_error!(
    "cem-ctx supports 32-bit Arm only on M-profile (thumbv6m, thumbv7m, thumbv7em, thumbv8m.main)"
);

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "arm")))]
compile_error!("cem-ctx supports x86-64 (System V, Microsoft x64), AArch64 (AAPCS64) and Arm M-profile (AAPCS32) only");

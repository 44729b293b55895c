//! `libcem_ctx.a`: the C static library of cem-ctx.
//!
//! This package exists only to give the C archive a `#[panic_handler]`. The
//! core crate (`cem-ctx`, an `rlib`) cannot carry one, because a `no_std`
//! firmware crate that depends on it must be free to define its own (E0152),
//! and Cargo builds every declared crate type of a dependency.
//!
//! All symbols come from the core crate: `cem_swapcontext`,
//! `cem_swapcontext_value` and `cem_context_trap` from its `global_asm!`
//! sources, the others from its `src/ffi.rs`. Referencing the crate keeps its
//! object files in the archive.
//!
//! The documented exports (`capi/exports.txt`, which the test command checks
//! against every archive it builds; the installed library made by the
//! top-level `CMakeLists.txt` keeps only these global):
//!
//! ```text
#![doc = include_str!("../exports.txt")]
//! ```
#![no_std]

pub use cem_ctx_core::ffi::*;

/// The exported C functions are written not to panic (no indexing, no
/// arithmetic that can overflow on input). Should a panic happen anyway, the
/// process stops at the same documented trap the switch uses for a coroutine
/// that returns into nothing: no unwinding through C frames.
#[cfg(not(test))] // a test build links std, which has its own
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    cem_ctx_core::trap()
}

/// The precompiled `core` carries DWARF unwind tables that name Rust's
/// personality routine, so the linker wants the symbol even though this
/// archive never unwinds (`panic = "abort"`, and the panic handler above
/// traps). Only std defines it; a C program linking this archive has no std,
/// so provide one that stops at the trap should anything ever call it.
/// (A program that also links a std-based Rust staticlib gets a duplicate
/// symbol; link that library's std instead of this archive's copy.)
#[cfg(not(test))]
#[no_mangle]
pub extern "C" fn rust_eh_personality() -> ! {
    cem_ctx_core::trap()
}

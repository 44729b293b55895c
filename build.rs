//! Decides, once, which optional register state this target's switch handles.
//!
//! `cem_fp_state` is set when the target lets us touch floating-point state:
//! - x86-64 with SSE: MXCSR and the x87 control word are saved and restored
//!   (psABI §3.2.1). Kernel targets such as `x86_64-unknown-none` have no SSE;
//!   there `stmxcsr`/`fnstcw` would fault before the OS enables them, so they
//!   are assembled out.
//! - AArch64 with FP/SIMD: d8–d15 (AAPCS64 §6.1.2). `aarch64-unknown-none-softfloat`
//!   must never touch FP registers.
//! - RISC-V with F/D: fs0–fs11 (psABI "Floating-Point Register Convention").
//!   `riscv32imac` has no FP registers.
//!
//! The asm sources read the same decision through the assembler symbol
//! `CEM_FP_STATE` (see `src/arch/mod.rs`), so Rust and assembly cannot disagree.
use std::env;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(cem_fp_state)");
    println!("cargo::rustc-check-cfg=cfg(cem_riscv_d)");
    println!("cargo::rerun-if-changed=build.rs");

    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let features = env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let has = |f: &str| features.split(',').any(|x| x == f);
    let fp_state = match arch.as_str() {
        "x86_64" => has("sse"),
        "aarch64" => has("neon") || has("fp-armv8"),
        // RISC-V with F (and D): fs0-fs11 (psABI "Floating-Point Register
        // Convention"); riscv32imac has no FP registers at all.
        "riscv64" | "riscv32" => riscv_isa().0,
        _ => false,
    };
    if fp_state {
        println!("cargo::rustc-cfg=cem_fp_state");
    }
    if arch.starts_with("riscv") && riscv_isa().1 {
        println!("cargo::rustc-cfg=cem_riscv_d");
    }
}

/// (has F, has D) for a RISC-V target, from the ISA string in its name
/// (`riscv64gc`: G = IMAFD; `riscv32imafc`: F only; `riscv32imac`: none).
/// rustc does not expose the `f`/`d` target features to `cfg` (they are
/// unstable there), so `CARGO_CFG_TARGET_FEATURE` cannot tell.
fn riscv_isa() -> (bool, bool) {
    let target = env::var("TARGET").unwrap_or_default();
    let isa = target
        .split('-')
        .next()
        .unwrap_or("")
        .trim_start_matches("riscv64")
        .trim_start_matches("riscv32");
    // Single-letter extensions come first; multi-letter ones start with 'z'.
    let base = isa.split(['z', '_']).next().unwrap_or("");
    let d = base.contains('g') || base.contains('d');
    (d || base.contains('f'), d)
}

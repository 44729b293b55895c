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
//! - Arm M-profile with an FPU: s16–s31 (AAPCS32, VFP register usage
//!   conventions). Stable rustc reports no Arm target features to build
//!   scripts (`CARGO_CFG_TARGET_FEATURE` is absent for `thumbv7em-none-eabihf`,
//!   since `vfp*`/`fpregs` are unstable features), so the decision is the
//!   hard-float ABI (`target_abi = "eabihf"`: the FPU exists and is in use), or
//!   an FPU switched on by hand in `RUSTFLAGS` (`-C target-feature=+vfp4d16sp`,
//!   `-C target-cpu=cortex-m4` on a soft-float `eabi` target, where the
//!   compiler may keep values in s16–s31 too).
//!
//! Arm M-profile targets also get `cem_arm_m` (the switch in
//! `asm/arm_aapcs32_m.s`), `cem_thumb1` for ARMv6-M (Thumb-1 encodings only)
//! and `cem_stack_limit` for ARMv8-M Mainline (PSPLIM/MSPLIM follow the stack).
//!
//! The asm sources read the same decision through the assembler symbol
//! `CEM_FP_STATE` (see `src/arch/mod.rs`), so Rust and assembly cannot disagree.
use std::env;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(cem_fp_state)");
    // Set by scripts/test.sh for the frame-pointer backtrace test.
    println!("cargo::rustc-check-cfg=cfg(cem_frame_pointers)");
    println!("cargo::rustc-check-cfg=cfg(cem_riscv_d)");
    println!("cargo::rustc-check-cfg=cfg(cem_arm_m)");
    println!("cargo::rustc-check-cfg=cfg(cem_thumb1)");
    println!("cargo::rustc-check-cfg=cfg(cem_stack_limit)");
    println!("cargo::rustc-check-cfg=cfg(cem_valgrind)");
    // Set by hand (RUSTFLAGS) only: compiles the Valgrind requests out (src/valgrind.rs).
    println!("cargo::rustc-check-cfg=cfg(cem_valgrind_off)");
    println!("cargo::rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
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
        "arm" => arm_m_fpu(&has),
        _ => false,
    };
    if arch == "arm" {
        let target = env::var("TARGET").unwrap_or_default();
        let profile_m = ["thumbv6m", "thumbv7m", "thumbv7em", "thumbv8m.main"];
        if profile_m.iter().any(|p| target.starts_with(p)) {
            println!("cargo::rustc-cfg=cem_arm_m");
        }
        if target.starts_with("thumbv6m") {
            println!("cargo::rustc-cfg=cem_thumb1");
        }
        if target.starts_with("thumbv8m.main") {
            println!("cargo::rustc-cfg=cem_stack_limit");
        }
    }
    if fp_state {
        println!("cargo::rustc-cfg=cem_fp_state");
    }
    if valgrind_target(&arch) && env::var_os("CARGO_CFG_CEM_VALGRIND_OFF").is_none() {
        println!("cargo::rustc-cfg=cem_valgrind");
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

/// Whether an Arm M-profile build has FP registers the compiler may use.
fn arm_m_fpu(has: &dyn Fn(&str) -> bool) -> bool {
    if env::var("CARGO_CFG_TARGET_ABI").as_deref() == Ok("eabihf") || has("fpregs") || has("vfp2") {
        return true;
    }
    // Soft-float ABI with an FPU enabled by flags: scan the flags cargo passes.
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let fpu_cpus = [
        "cortex-m4",
        "cortex-m7",
        "cortex-m33",
        "cortex-m35p",
        "cortex-m55",
        "cortex-m85",
    ];
    let mut fpu = false;
    for flag in flags.split('\x1f') {
        let flag = flag.trim_start_matches("-C");
        for f in flag.split(',') {
            let f = f.trim_start_matches("target-feature=");
            if f.starts_with("+vfp") || f.starts_with("+fp-armv8") || f == "+fpregs" {
                fpu = true;
            }
            if f.starts_with("-vfp") || f == "-fpregs" || f == "+soft-float" {
                fpu = false;
            }
        }
        if let Some(cpu) = flag.strip_prefix("target-cpu=") {
            fpu |= fpu_cpus.contains(&cpu);
        }
    }
    fpu
}

/// Targets whose Valgrind client-request sequence `src/valgrind.rs` emits
/// (`cem_valgrind`): x86-64 Linux/Android/FreeBSD and AArch64 Linux/Android,
/// the platforms valgrind.h defines these sequences for. `--cfg
/// cem_valgrind_off` in RUSTFLAGS turns it off (the test command's negative
/// control).
fn valgrind_target(arch: &str) -> bool {
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    match arch {
        "x86_64" => matches!(os.as_str(), "linux" | "android" | "freebsd"),
        "aarch64" => matches!(os.as_str(), "linux" | "android"),
        _ => false,
    }
}

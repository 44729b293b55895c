//! Picks the qemu board's memory map from the target and tells the source
//! which checks apply (FPU canaries, ARMv8-M stack limits, Thumb-1 code).
//!
//! | target | qemu `-M` | core | code (flash) | RAM |
//! |--------|-----------|------|--------------|-----|
//! | thumbv6m-none-eabi | microbit | Cortex-M0 (nRF51822) | 0x0000_0000, 256 KiB | 0x2000_0000, 16 KiB |
//! | thumbv7m-none-eabi | mps2-an385 | Cortex-M3 | 0x0000_0000 (SSRAM1), 4 MiB | 0x2000_0000 (SSRAM2/3), 4 MiB |
//! | thumbv7em-none-eabihf | mps2-an386 | Cortex-M4F | as an385 | as an385 |
//! | thumbv8m.main-none-eabihf | mps2-an505 | Cortex-M33, Secure state | 0x1000_0000 (SSRAM1, Secure alias; initial SVTOR), 4 MiB | 0x3800_0000 (SSRAM2, Secure alias), 2 MiB |
//!
//! The MPS2 boards' code RAM is writable, but the program only reads it.
use std::{env, fs, path::PathBuf};

fn main() {
    let target = env::var("TARGET").unwrap();
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let (board, flash, flash_len, ram, ram_len) = if target.starts_with("thumbv6m") {
        (
            "microbit (Cortex-M0)",
            0x0000_0000u32,
            "256K",
            0x2000_0000u32,
            "16K",
        )
    } else if target.starts_with("thumbv8m.main") {
        (
            "mps2-an505 (Cortex-M33)",
            0x1000_0000,
            "4M",
            0x3800_0000,
            "2M",
        )
    } else if target.starts_with("thumbv7em") {
        (
            "mps2-an386 (Cortex-M4F)",
            0x0000_0000,
            "4M",
            0x2000_0000,
            "4M",
        )
    } else {
        (
            "mps2-an385 (Cortex-M3)",
            0x0000_0000,
            "4M",
            0x2000_0000,
            "4M",
        )
    };
    println!("cargo::rustc-env=CEM_EXAMPLE_BOARD={board}");
    fs::write(
        out.join("memory.x"),
        format!(
            "MEMORY\n{{\n  FLASH : ORIGIN = {flash:#010x}, LENGTH = {flash_len}\n  RAM : ORIGIN = {ram:#010x}, LENGTH = {ram_len}\n}}\n"
        ),
    )
    .unwrap();
    println!("cargo::rustc-link-search={}", out.display());
    println!("cargo::rustc-link-arg-bins=-Tlink.x");
    println!("cargo::rerun-if-changed=build.rs");
    for cfg in ["example_fpu", "example_v8m", "example_thumb1"] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    if target.ends_with("eabihf") {
        println!("cargo::rustc-cfg=example_fpu");
    }
    if target.starts_with("thumbv8m.main") {
        println!("cargo::rustc-cfg=example_v8m");
    }
    if target.starts_with("thumbv6m") {
        println!("cargo::rustc-cfg=example_thumb1");
    }
}

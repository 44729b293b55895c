//! Links Boost.Context's fcontext from Debian's `libboost-context-dev`
//! (`libboost_context.a`), statically. context-rs bundles its own copy of
//! Boost's assembly under the same symbol names, so this links a copy of the
//! archive whose fcontext symbols are renamed with objcopy:
//! `cem_bench_boost_{jump,make,ontop}_fcontext`.
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=BOOST_CONTEXT_LIB");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target != "x86_64-unknown-linux-gnu" {
        panic!("cem-ctx-bench measures on x86_64-unknown-linux-gnu only (building for {target})");
    }
    let lib = std::env::var("BOOST_CONTEXT_LIB")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/usr/lib/x86_64-linux-gnu/libboost_context.a"));
    if !lib.exists() {
        panic!(
            "{} not found: install Debian's libboost-context-dev (scripts/bench.sh does) \
             or set BOOST_CONTEXT_LIB",
            lib.display()
        );
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let renamed = out.join("libcem_bench_boost_context.a");
    let mut cmd = Command::new("objcopy");
    for sym in ["jump_fcontext", "make_fcontext", "ontop_fcontext"] {
        cmd.arg("--redefine-sym")
            .arg(format!("{sym}=cem_bench_boost_{sym}"));
    }
    let status = cmd
        .arg(&lib)
        .arg(&renamed)
        .status()
        .expect("running objcopy (binutils)");
    assert!(status.success(), "objcopy failed on {}", lib.display());
    println!("cargo::rustc-link-search=native={}", out.display());
    println!("cargo::rustc-link-lib=static=cem_bench_boost_context");
}

//! Links with this example's own script (RAM at 0x8000_0000 on `virt`).
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo::rustc-link-arg=-T{dir}/link.x");
    println!("cargo::rerun-if-changed=link.x");
    println!("cargo::rerun-if-changed=build.rs");
    // FP width for the canary check, from the ISA string in the target name
    // (rustc does not expose the `f`/`d` target features to cfg): G or D: 8,
    // F only: 4, none: 0.
    println!("cargo::rustc-check-cfg=cfg(canary_flen, values(\"0\", \"4\", \"8\"))");
    let target = std::env::var("TARGET").unwrap_or_default();
    let isa = target.split('-').next().unwrap_or("");
    let base = isa
        .trim_start_matches("riscv64")
        .trim_start_matches("riscv32")
        .split(['z', '_'])
        .next()
        .unwrap_or("");
    let flen = if base.contains('g') || base.contains('d') {
        8
    } else if base.contains('f') {
        4
    } else {
        0
    };
    println!("cargo::rustc-cfg=canary_flen=\"{flen}\"");
}

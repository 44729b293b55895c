//! Links each build for the QEMU machine it boots on: `link-aarch64-virt.ld`
//! for AArch64 (`virt`), `link-x86_64-pvh.ld` for x86-64 (PC, PVH entry).
//! The x86-64 image is linked as a fixed-address executable (`--no-pie`): the
//! PVH loader does not relocate, and its 32-bit entry code uses absolute
//! addresses.
fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=link-aarch64-virt.ld");
    println!("cargo::rerun-if-changed=link-x86_64-pvh.ld");
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    match std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
        Ok("aarch64") => println!("cargo::rustc-link-arg-bins=-T{dir}/link-aarch64-virt.ld"),
        Ok("x86_64") => {
            println!("cargo::rustc-link-arg-bins=-T{dir}/link-x86_64-pvh.ld");
            println!("cargo::rustc-link-arg-bins=--no-pie");
        }
        _ => {}
    }
}

//! Links the AArch64 builds for QEMU's `virt` machine (`link-aarch64-virt.ld`);
//! the x86-64 build keeps rust-lld's default layout (it is only linked).
fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=link-aarch64-virt.ld");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("aarch64") {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
        println!("cargo::rustc-link-arg-bins=-T{dir}/link-aarch64-virt.ld");
    }
}

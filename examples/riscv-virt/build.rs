//! Links with this example's own script (RAM at 0x8000_0000 on `virt`).
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo::rustc-link-arg=-T{dir}/link.x");
    println!("cargo::rerun-if-changed=link.x");
    println!("cargo::rerun-if-changed=build.rs");
}

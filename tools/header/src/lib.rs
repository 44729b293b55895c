//! Header generation shared by the `gen-header` binary and the drift test.
use std::path::PathBuf;

/// Root of the cem-ctx repository (the core crate's directory).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Path of the checked-in header.
pub fn header_path() -> PathBuf {
    repo_root().join("include/cem_ctx.h")
}

/// Runs cbindgen on the core crate with `cbindgen.toml` and returns the
/// header text.
pub fn generate() -> Result<String, String> {
    let root = repo_root();
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml"))
        .map_err(|e| format!("reading cbindgen.toml: {e}"))?;
    let bindings = cbindgen::Builder::new()
        .with_crate(&root)
        .with_config(config)
        .generate()
        .map_err(|e| format!("cbindgen: {e}"))?;
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).map_err(|e| format!("cbindgen wrote non-UTF-8: {e}"))
}

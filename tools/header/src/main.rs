//! `cargo run -p cem-ctx-header`: regenerates `include/cem_ctx.h`.
fn main() {
    let text = cem_ctx_header::generate().unwrap_or_else(|e| {
        eprintln!("gen-header: {e}");
        std::process::exit(1)
    });
    let path = cem_ctx_header::header_path();
    std::fs::write(&path, text).unwrap_or_else(|e| {
        eprintln!("gen-header: writing {}: {e}", path.display());
        std::process::exit(1)
    });
    println!("wrote {}", path.display());
}

//! Fails when `include/cem_ctx.h` differs from what cbindgen generates now.
use libtest_mimic::{Arguments, Failed, Trial};

fn header_matches_sources() -> Result<(), Failed> {
    let fresh = cem_ctx_header::generate()?;
    let path = cem_ctx_header::header_path();
    let checked_in =
        std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    if fresh == checked_in {
        return Ok(());
    }
    let first = fresh
        .lines()
        .zip(checked_in.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| fresh.lines().count().min(checked_in.lines().count()));
    Err(format!(
        "{} is stale (first difference at line {}); run `cargo run -p cem-ctx-header` and commit it",
        path.display(),
        first + 1
    )
    .into())
}

fn main() {
    let args = Arguments::from_args();
    libtest_mimic::run(
        &args,
        vec![Trial::test(
            "header_matches_sources",
            header_matches_sources,
        )],
    )
    .exit();
}

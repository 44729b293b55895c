//! `capi/exports.txt` is the one list of the C library's exports: the
//! packaging build keeps exactly these symbols global (objcopy, version
//! script). These tests fail when the list and the header drift apart, and
//! when the header's version macros differ from the Cargo version.
use std::collections::BTreeSet;

use libtest_mimic::{Arguments, Failed, Trial};

fn exports() -> Result<BTreeSet<String>, Failed> {
    let path = cem_ctx_header::repo_root().join("capi/exports.txt");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

fn header() -> Result<String, Failed> {
    let path = cem_ctx_header::header_path();
    Ok(std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?)
}

/// Names of the functions the header declares: `... name(` at the start of a
/// declaration line (cbindgen writes one declaration per line start).
fn declared_functions(header: &str) -> BTreeSet<String> {
    header
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with('#') && !l.starts_with('*'))
        .filter_map(|l| {
            let open = l.find('(')?;
            let name = l[..open].rsplit([' ', '*']).next()?;
            name.starts_with("cem_").then(|| name.to_owned())
        })
        .collect()
}

fn header_declares_exactly_the_exports() -> Result<(), Failed> {
    let listed = exports()?;
    let declared = declared_functions(&header()?);
    if declared.is_empty() {
        return Err("no function declarations found in the header".into());
    }
    if listed == declared {
        return Ok(());
    }
    Err(format!(
        "capi/exports.txt and include/cem_ctx.h differ: only listed {:?}, only declared {:?}",
        listed.difference(&declared).collect::<Vec<_>>(),
        declared.difference(&listed).collect::<Vec<_>>()
    )
    .into())
}

fn header_version_is_cargo_version() -> Result<(), Failed> {
    let h = header()?;
    let macro_value = |name: &str| -> Result<String, Failed> {
        let prefix = format!("#define {name} ");
        h.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map(|v| v.trim().to_owned())
            .ok_or_else(|| format!("{name} not defined in the header").into())
    };
    let header_version = format!(
        "{}.{}.{}",
        macro_value("CEM_CTX_VERSION_MAJOR")?,
        macro_value("CEM_CTX_VERSION_MINOR")?,
        macro_value("CEM_CTX_VERSION_PATCH")?
    );
    // This package takes its version from the workspace, as cem-ctx does.
    let cargo_version = env!("CARGO_PKG_VERSION");
    if header_version == cargo_version {
        Ok(())
    } else {
        Err(format!("header says {header_version}, Cargo.toml says {cargo_version}").into())
    }
}

fn main() {
    let args = Arguments::from_args();
    libtest_mimic::run(
        &args,
        vec![
            Trial::test(
                "header_declares_exactly_the_exports",
                header_declares_exactly_the_exports,
            ),
            Trial::test(
                "header_version_is_cargo_version",
                header_version_is_cargo_version,
            ),
        ],
    )
    .exit();
}

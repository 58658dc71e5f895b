//! Architecture rules that the compiler cannot enforce (STYLE.md §1): pure modules do no I/O, and
//! nothing outside `cli` depends on it.

use std::path::{Path, PathBuf};

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Modules whose job is computation on values and bytes: no filesystem, network or async.
const PURE: &[&str] = &[
    "apk/version.rs",
    "apk/constraint.rs",
    "apk/index.rs",
    "apk/signed.rs",
    "apk/pkginfo.rs",
    "apk/solver",
    "apk/solver.rs",
    "codec",
    "compress",
    "oci/digest.rs",
    "oci/descriptor.rs",
    "oci/manifest.rs",
    "oci/reference.rs",
    "oci/image_set.rs",
    "parallel.rs",
    "attest/store/legacy.rs",
    "attest/store/referrer.rs",
    "attest/statement/predicate_type.rs",
    "attest/verify/der.rs",
    "attest/verify/signature.rs",
    "attest/verify/certificate.rs",
    "attest/verify/identity.rs",
    "attest/verify/rekor.rs",
    "attest/verify/sct.rs",
];

const IMPURE_NAMES: &[&str] = &["std::fs", "tokio", "reqwest", "std::net", "std::env"];

#[test]
fn pure_modules_do_no_io() {
    let root = src();
    let mut checked = 0;
    for file in sources(&root) {
        let relative = file
            .strip_prefix(&root)
            .expect("under src")
            .to_string_lossy()
            .into_owned();
        if !PURE
            .iter()
            .any(|p| relative == *p || relative.starts_with(&format!("{p}/")))
        {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read source");
        for name in IMPURE_NAMES {
            assert!(
                !text.contains(name),
                "{relative} is a pure module but names {name}"
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 3,
        "expected to check the pure modules, found {checked}"
    );
}

#[test]
fn only_cli_and_binaries_use_cli() {
    let root = src();
    for file in sources(&root) {
        let relative = file
            .strip_prefix(&root)
            .expect("under src")
            .to_string_lossy()
            .into_owned();
        if relative.starts_with("cli") || relative.starts_with("bin") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read source");
        assert!(
            !text.contains("crate::cli"),
            "{relative} depends on crate::cli"
        );
    }
}

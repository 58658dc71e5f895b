//! Test harness: where the shared test data lives, and how to reach it.

use std::path::PathBuf;

pub mod attest;
pub mod installed;
pub mod rootfs;

/// The shared test data directory: `$RECEIPTS_TESTDATA`, or `../shared/testdata` beside the
/// repository. A test that needs it fails when it is missing, loudly, in CI and everywhere else:
/// nothing passes silently without its data.
pub fn testdata() -> PathBuf {
    let dir = match std::env::var_os("RECEIPTS_TESTDATA") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata"),
    };
    if !dir.is_dir() {
        let ci = std::env::var("CI").map(|v| v == "true").unwrap_or(false);
        panic!(
            "\n\n*** TEST DATA MISSING: {} is not a directory{} ***\n\
             *** set RECEIPTS_TESTDATA to the shared testdata folder ***\n",
            dir.display(),
            if ci { " (CI=true)" } else { "" }
        );
    }
    dir
}

/// A file under the shared test data directory; fails loudly when it is absent.
pub fn data(relative: &str) -> PathBuf {
    let path = testdata().join(relative);
    assert!(path.exists(), "test data file missing: {}", path.display());
    path
}

pub mod archive;
pub mod http;
pub mod lock;
pub mod registry;
pub mod signed;
pub mod sigstore;

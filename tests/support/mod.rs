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
pub mod fault;
pub mod http;
pub mod lock;
pub mod registry;
pub mod signed;
pub mod sigstore;
pub mod token;

/// Whether `path` is a directory itself, not a symlink to one. The shared data may store
/// upstream's symlinks as real links or as small stand-in files; walkers descend only into real
/// directories, so neither form is walked twice or in a loop.
pub fn is_real_dir(path: &std::path::Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|metadata| metadata.is_dir())
}

/// Makes `command` unable to reach any TUF repository: the verifying commands ask Sigstore's
/// TUF repository when given no trusted root, and tests reach loopback only. `TUF_MIRROR` names
/// a dead loopback port with no root for it, so the command fails before any connection.
pub fn without_tuf(command: &mut std::process::Command) -> &mut std::process::Command {
    command
        .env(
            "TUF_ROOT",
            std::env::temp_dir().join("receipts-tests-no-tuf-cache"),
        )
        .env("TUF_MIRROR", "http://127.0.0.1:9")
        .env_remove("TUF_ROOT_JSON")
}

//! The independent tools the catalogue tests check our output with: `kubernetes-validate` and
//! `check-jsonschema` (PyPI, in the peers venv, installed by `scripts/install-peers`), the
//! venv's Python (JUnit XML parsed by `xml.etree`), and Debian's `chromium` (installed by
//! `scripts/test`). A missing tool fails the test under `CI=true` and says so loudly elsewhere.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn missing(what: &str) {
    let message = format!(
        "\n\n*** {what} MISSING: install it with ./scripts/test (or scripts/install-peers) ***\n\
         *** the check that needs it did not run ***\n"
    );
    if ci() {
        panic!("{message}(CI=true: failing)");
    }
    let _ = std::io::Write::write_all(&mut std::io::stderr(), message.as_bytes());
}

fn venv() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/peers/venv/bin")
}

/// A program of the peers venv (`kubernetes-validate`, `check-jsonschema`, `python`), as
/// `scripts/install-peers` (run by `scripts/test`) left it: tests never install anything.
pub fn venv_program(name: &str) -> Option<PathBuf> {
    let path = venv().join(name);
    if path.is_file() {
        Some(path)
    } else {
        missing(name);
        None
    }
}

/// Debian's `chromium`.
pub fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("chromium"))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        missing("chromium");
    }
    found
}

/// Runs headless Chromium on `page` with a fresh profile and no network beyond loopback
/// features it would use on its own turned off; `extra` adds `--dump-dom` or `--screenshot`.
pub fn headless(chromium: &Path, page: &Path, extra: &[String]) -> Output {
    let profile = tempfile::tempdir().expect("profile dir");
    Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs")
}

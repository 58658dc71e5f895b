//! TUF, as cosign reads Sigstore's repository: the client (`attest::tuf`) against repositories
//! written by an independent implementation (python-tuf's Metadata API,
//! `tests/peers/tuf_repo.py`) and served over loopback HTTP or from a `file://` directory, and
//! the commands that use it (`initialize`, `verify-bundle`, `verify`, the audit).

mod cli;
mod client;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support;

/// The trusted root the first publication carries (conformance bundles verify against it).
pub const TRUSTED_ROOT_A: &str = "sigstore/trust-roots/public-good-trusted_root.json";
/// The trusted root the rotated repository carries instead.
pub const TRUSTED_ROOT_B: &str = "sigstore/trust-roots/staging-trusted_root.json";
/// The signing configuration both publish.
pub const SIGNING_CONFIG: &str = "sigstore/trust-roots/public-good-signing_config.v0.2.json";

/// Repositories written by python-tuf, and a directory to serve them from.
pub struct Repositories {
    _dir: tempfile::TempDir,
    generated: PathBuf,
    /// The directory a mirror serves; [`Repositories::publish`] fills it.
    pub mirror: PathBuf,
}

impl Repositories {
    /// Generates the states of `tests/peers/tuf_repo.py`; `None` (loudly) without python-tuf,
    /// a failure under `CI=true`.
    pub fn generate() -> Option<Self> {
        Self::generate_with(
            &support::data(TRUSTED_ROOT_A),
            &support::data(TRUSTED_ROOT_B),
            &support::data(SIGNING_CONFIG),
        )
    }

    /// As [`Repositories::generate`], publishing the given trusted roots and signing config.
    pub fn generate_with(
        trusted_root_a: &Path,
        trusted_root_b: &Path,
        signing_config: &Path,
    ) -> Option<Self> {
        let python = python_tuf()?;
        let dir = tempfile::tempdir().unwrap();
        let generated = dir.path().join("generated");
        let output = Command::new(python)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/tuf_repo.py"))
            .arg(&generated)
            .arg(trusted_root_a)
            .arg(trusted_root_b)
            .arg(signing_config)
            .output()
            .expect("run tuf_repo.py");
        assert!(
            output.status.success(),
            "tuf_repo.py: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let mirror = dir.path().join("mirror");
        std::fs::create_dir(&mirror).unwrap();
        Some(Repositories {
            _dir: dir,
            generated,
            mirror,
        })
    }

    /// Version 1 of the root: the client's bootstrap.
    pub fn root_v1(&self) -> Vec<u8> {
        std::fs::read(self.root_v1_path()).unwrap()
    }

    /// Where version 1 of the root is (outside the mirror).
    pub fn root_v1_path(&self) -> PathBuf {
        self.generated.join("root.json")
    }

    /// Makes the mirror directory hold exactly `state`.
    pub fn publish(&self, state: &str) {
        std::fs::remove_dir_all(&self.mirror).unwrap();
        copy_tree(&self.generated.join("states").join(state), &self.mirror);
    }

    /// The mirror directory as a `file://` URL.
    pub fn file_url(&self) -> String {
        format!("file://{}", self.mirror.display())
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The peers' Python when it has python-tuf.
fn python_tuf() -> Option<&'static Path> {
    let peers = support::attest::peers()?;
    let has_tuf = Command::new(&peers.python)
        .args(["-c", "import tuf.api.metadata"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_tuf {
        let message = "\n\n*** PEER MISSING: python-tuf is not in target/peers/venv \
                       (scripts/install-peers installs it) ***\n*** the TUF tests did not run ***\n";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}(CI=true: failing)");
        }
        let _ = std::io::Write::write_all(&mut std::io::stderr(), message.as_bytes());
        return None;
    }
    Some(&peers.python)
}

/// python-tuf's own verdict on a root: verified by its own keys to threshold, or the error.
pub fn python_verifies_root(root: &Path) -> Option<Result<u64, String>> {
    let python = python_tuf()?;
    let output = Command::new(python)
        .args([
            "-c",
            "import sys\nfrom tuf.api.metadata import Metadata\n\
             md = Metadata.from_bytes(open(sys.argv[1], 'rb').read())\n\
             md.verify_delegate('root', md)\nprint(md.signed.version)",
        ])
        .arg(root)
        .output()
        .expect("run python");
    Some(if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .unwrap())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    })
}

/// An error and its causes, as the CLI prints them.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!("\n  caused by: {cause}"));
        source = cause.source();
    }
    text
}

/// A loopback URL nothing listens on.
pub fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}

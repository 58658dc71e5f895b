//! Independent reference implementations the attestation tests check our output against:
//! Python securesystemslib (DSSE) and sigstore-js (bundles), installed by `scripts/install-peers`
//! (which `scripts/test` runs) under `target/peers`, and the `openssl` command line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The installed peers.
pub struct Peers {
    /// The virtual environment's Python, with securesystemslib.
    pub python: PathBuf,
    /// The `node_modules` holding @sigstore/verify and @sigstore/bundle.
    pub node_modules: PathBuf,
    /// sigstore-python's command line, in the same virtual environment (its presence marks
    /// the install; tests/peers/verify_sigstore.py drives its library).
    pub sigstore_python: PathBuf,
}

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn ci() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false)
}

fn installed() -> Option<Peers> {
    let root = repository().join("target/peers");
    let peers = Peers {
        python: root.join("venv/bin/python"),
        node_modules: root.join("node_modules"),
        sigstore_python: root.join("venv/bin/sigstore"),
    };
    let ready = peers.python.is_file()
        && peers.sigstore_python.is_file()
        && peers
            .node_modules
            .join("@sigstore/verify/package.json")
            .is_file()
        && peers
            .node_modules
            .join("@sigstore/bundle/package.json")
            .is_file();
    ready.then_some(peers)
}

/// The peers, as `scripts/install-peers` (run by the README's test command, `scripts/test`)
/// left them; tests never install anything themselves. When they are missing, a test fails
/// under `CI=true`; elsewhere it says so loudly and the caller returns early.
pub fn peers() -> Option<&'static Peers> {
    static PEERS: OnceLock<Option<Peers>> = OnceLock::new();
    PEERS
        .get_or_init(|| {
            let peers = installed();
            if peers.is_none() {
                let message = "\n\n*** PEER IMPLEMENTATIONS MISSING under target/peers: run scripts/install-peers \
                               (scripts/test does) ***\n\
                               *** the securesystemslib / sigstore-python / sigstore-js interop checks did not run ***\n";
                if ci() {
                    panic!("{message}(CI=true: failing)");
                }
                // Written past libtest's output capture so that it shows on a passing run.
                let _ = std::io::Write::write_all(&mut std::io::stderr(), message.as_bytes());
            }
            peers
        })
        .as_ref()
}

impl Peers {
    /// Runs `tests/peers/verify_dsse.py ENVELOPE KEY [SCHEME]`.
    pub fn verify_dsse(&self, envelope: &Path, key: &Path, scheme: Option<&str>) -> Output {
        let mut command = Command::new(&self.python);
        command
            .arg(repository().join("tests/peers/verify_dsse.py"))
            .arg(envelope)
            .arg(key);
        command.args(scheme);
        command
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", self.python.display()))
    }

    /// Runs `node tests/peers/verify_bundle.mjs BUNDLE KEY`.
    pub fn verify_bundle(&self, bundle: &Path, key: &Path) -> Output {
        Command::new("node")
            .env("NODE_PATH", &self.node_modules)
            .arg(repository().join("tests/peers/verify_bundle.mjs"))
            .arg(bundle)
            .arg(key)
            .output()
            .unwrap_or_else(|e| panic!("running node: {e}"))
    }
}

impl Peers {
    /// Runs `node tests/peers/verify_sigstore.mjs BUNDLE ROOT ARGS…` (`key PEM` or
    /// `identity SAN ISSUER`).
    pub fn verify_sigstore_js(&self, bundle: &Path, root: &Path, args: &[&str]) -> Output {
        Command::new("node")
            .env("NODE_PATH", &self.node_modules)
            .arg(repository().join("tests/peers/verify_sigstore.mjs"))
            .arg(bundle)
            .arg(root)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("running node: {e}"))
    }

    /// Runs `tests/peers/verify_sigstore.py TRUST_CONFIG BUNDLE IDENTITY ISSUER sha256:HEX`:
    /// sigstore-python's `Verifier.verify_dsse` offline, then the subject digest.
    pub fn verify_sigstore_python(
        &self,
        trust_config: &Path,
        bundle: &Path,
        identity: (&str, &str),
        digest_hex: &str,
    ) -> Output {
        Command::new(&self.python)
            .arg(repository().join("tests/peers/verify_sigstore.py"))
            .arg(trust_config)
            .arg(bundle)
            .args([identity.0, identity.1])
            .arg(format!("sha256:{digest_hex}"))
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", self.python.display()))
    }
}

/// Runs `openssl` with `args`; panics when it cannot be started (scripts/test installs it).
pub fn openssl(args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running openssl {args:?}: {e}"))
}

/// Output as text, for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

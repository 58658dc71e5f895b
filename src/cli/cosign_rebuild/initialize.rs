//! `cosign-rebuild initialize`, as `cosign initialize`: choose the TUF mirror and initial root,
//! empty the cache, record the mirror and fetch the trusted root and signing configuration.
//!
//! Not for: the TUF client and the cache layout ([`crate::attest::tuf`]).

use super::Outcome;
use crate::attest::tuf;

const AFTER_HELP: &str = "\
The cache is $TUF_ROOT, or ~/.sigstore/root, laid out as cosign lays it out (remote.json names \
the mirror; the mirror's metadata and targets sit under a directory named after it). Every \
verifying command then reads trust from it: the mirror is refreshed on each use, and when it \
cannot be reached the cached metadata is used until it expires. --trusted-root or any \
SIGSTORE_* variable bypasses TUF.

Examples:
  # the public-good instance: embedded root, default mirror
  cosign-rebuild initialize
  # an air-gapped copy of a TUF repository and its out-of-band root
  cosign-rebuild initialize --mirror file:///srv/tuf --root /srv/tuf/1.root.json
  # a root over HTTPS, checked against its digest
  cosign-rebuild initialize --mirror https://tuf.example --root https://tuf.example/1.root.json \\
    --root-checksum sha256:HEX";

/// Options of this command (cosign's flags).
#[derive(Debug, Clone, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct InitializeArgs {
    /// The TUF repository: an http(s):// base URL, or file:///DIR for a local copy (air-gap).
    #[arg(long, value_name = "URL", default_value = tuf::DEFAULT_MIRROR)]
    pub mirror: String,
    /// The trusted initial root.json (a file or an http(s) URL); defaults to the embedded
    /// public-good root.
    #[arg(long, value_name = "FILE|URL")]
    pub root: Option<String>,
    /// Digest of the initial root: sha256 hex by default, or sha512:HEX.
    #[arg(long = "root-checksum", value_name = "DIGEST", requires = "root")]
    pub root_checksum: Option<String>,
    /// Use the staging instance's TUF repository and embedded root.
    #[arg(long, conflicts_with_all = ["root", "root_checksum"])]
    pub staging: bool,
}

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Fetching or caching failed.
    #[error(transparent)]
    Tuf(#[from] tuf::Error),
}

/// Runs the command.
pub fn run(args: &InitializeArgs) -> Result<Outcome, Error> {
    if args.root.as_deref().is_some_and(|r| r.starts_with("http")) && args.root_checksum.is_none() {
        eprintln!(
            "WARNING: fetching the initial root over the network without --root-checksum; \
             pass its digest to make sure it is the root you expect"
        );
    }
    let done = tuf::initialize(&tuf::Initialize {
        mirror: Some(args.mirror.clone()),
        root: args.root.clone(),
        root_checksum: args.root_checksum.clone(),
        staging: args.staging,
    })?;
    if let Some(error) = done.signing_config {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        eprintln!("WARNING: could not fetch the signing configuration: {text}");
    }
    Ok(Outcome::Done)
}

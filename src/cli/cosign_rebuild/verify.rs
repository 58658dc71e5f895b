//! `cosign-rebuild verify` and the hidden `verify-bundle`: verify attestations. Not implemented
//! yet.

use super::Outcome;

/// Options of `verify`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {}

/// Options of `verify-bundle` (the sigstore-conformance CLI protocol).
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyBundleArgs {}

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command does not exist yet.
    #[error("verify: not implemented yet")]
    NotImplemented,
}

/// Runs `verify`.
pub fn run(_args: &VerifyArgs) -> Result<Outcome, Error> {
    Err(Error::NotImplemented)
}

/// Runs `verify-bundle`.
pub fn run_bundle(_args: &VerifyBundleArgs) -> Result<Outcome, Error> {
    Err(Error::NotImplemented)
}

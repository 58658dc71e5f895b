//! `cosign-rebuild attest`: attest an image. Not implemented yet.

use super::Outcome;

/// Options of this command.
#[derive(Debug, Clone, clap::Args)]
pub struct AttestArgs {}

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command does not exist yet.
    #[error("attest an image: not implemented yet")]
    NotImplemented,
}

/// Runs the command.
pub fn run(_args: &AttestArgs) -> Result<Outcome, Error> {
    Err(Error::NotImplemented)
}

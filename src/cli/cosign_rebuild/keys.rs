//! `cosign-rebuild keys`: generate a key pair. Not implemented yet.

use super::Outcome;

/// Options of this command.
#[derive(Debug, Clone, clap::Args)]
pub struct GenerateKeyPairArgs {}

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command does not exist yet.
    #[error("generate a key pair: not implemented yet")]
    NotImplemented,
}

/// Runs the command.
pub fn run(_args: &GenerateKeyPairArgs) -> Result<Outcome, Error> {
    Err(Error::NotImplemented)
}

//! `cosign-rebuild download`: download attestations. Not implemented yet.

use super::Outcome;

/// Options of this command.
#[derive(Debug, Clone, clap::Args)]
pub struct DownloadArgs {}

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command does not exist yet.
    #[error("download attestations: not implemented yet")]
    NotImplemented,
}

/// Runs the command.
pub fn run(_args: &DownloadArgs) -> Result<Outcome, Error> {
    Err(Error::NotImplemented)
}

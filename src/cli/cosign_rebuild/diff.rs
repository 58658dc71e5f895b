//! `cosign-rebuild diff`: compare two images. Not implemented yet.

use super::Outcome;

/// Options of this command.
#[derive(Debug, Clone, clap::Args)]
pub struct DiffArgs {}

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command does not exist yet.
    #[error("compare two images: not implemented yet")]
    NotImplemented,
}

/// Runs the command.
pub fn run(_args: &DiffArgs) -> Result<Outcome, Error> {
    Err(Error::NotImplemented)
}

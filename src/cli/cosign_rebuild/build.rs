//! `cosign-rebuild build`: build an image. Not implemented yet.

use super::Outcome;

/// Options of this command.
#[derive(Debug, Clone, clap::Args)]
pub struct BuildArgs {}

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command does not exist yet.
    #[error("build an image: not implemented yet")]
    NotImplemented,
}

/// Runs the command.
pub fn run(_args: &BuildArgs) -> Result<Outcome, Error> {
    Err(Error::NotImplemented)
}

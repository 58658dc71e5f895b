//! `cosign-rebuild audit`: audit an image. Not implemented yet.

use super::Outcome;

/// Options of this command.
#[derive(Debug, Clone, clap::Args)]
pub struct AuditArgs {}

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command does not exist yet.
    #[error("audit an image: not implemented yet")]
    NotImplemented,
}

/// Runs the command.
pub fn run(_args: &AuditArgs) -> Result<Outcome, Error> {
    Err(Error::NotImplemented)
}

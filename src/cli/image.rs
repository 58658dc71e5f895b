//! IMAGE arguments: a reference typed on the command line, parsed with one message for every
//! command (`invalid image reference "…"`, the parser's reason as its cause).
//!
//! Not for: the reference grammar ([`crate::oci::reference`]).

use crate::oci::{Reference, reference};

/// An IMAGE argument that is not a reference.
#[derive(Debug, thiserror::Error)]
#[error("invalid image reference {text:?}")]
pub struct InvalidImage {
    /// The argument as given.
    pub text: String,
    /// The parser's reason.
    #[source]
    pub source: reference::Error,
}

/// Parses an IMAGE argument: `HOST/REPO[:TAG][@DIGEST]` or `oci:DIR[:TAG|@DIGEST]`.
pub fn parse(text: &str) -> Result<Reference, InvalidImage> {
    Reference::parse(text).map_err(|source| InvalidImage {
        text: text.to_owned(),
        source,
    })
}

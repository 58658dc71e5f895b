//! Why an audit reached no verdict: each variant names the image (or directory) it failed on and
//! keeps the failing module's error as its cause. A difference is not an error: it is a
//! [`Report`](crate::rebuild::Report) whose verdict is `different`.
//!
//! Messages never name a command-line flag: what a person should do next is the command line's
//! business (`cli::hint`), beside the flags it would name.
//!
//! Not for: comparison failures on their own ([`crate::rebuild::Error`], wrapped here as
//! [`Error::Compare`]).

use std::path::PathBuf;

use super::PREDICATE_TYPE;
use crate::attest::fetch;
use crate::attest::verify::image;
use crate::build::pipeline;
use crate::oci::{self, Digest};

/// Why the audit of one image failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A registry or layout operation failed.
    #[error("{what} {image}")]
    Store {
        /// What was being done.
        what: &'static str,
        /// The image (or the rebuilt layout's directory, or the publishing target).
        image: String,
        /// Why.
        #[source]
        source: Box<oci::store::Error>,
    },
    /// The attestations could not be read (network, HTTP status): nothing is built, and
    /// nothing is known about them.
    #[error("could not fetch the attestations of {image}; nothing was rebuilt")]
    AttestationFetch {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: Box<image::Error>,
    },
    /// The image, or any attestation of it, is not there: nothing is built.
    #[error("{image}: not found, or not attested; nothing was rebuilt")]
    AttestationNotFound {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: Box<image::Error>,
    },
    /// The attestation is of another type, or does not verify: nothing is built.
    #[error("the {PREDICATE_TYPE} attestation of {image} does not verify; nothing was rebuilt")]
    Verification {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: Box<image::Error>,
    },
    /// Read without verification, no attestation of the type was readable.
    #[error("{image} has no readable {PREDICATE_TYPE} attestation for {digest} (found: {found})")]
    NoAttestation {
        /// The image.
        image: String,
        /// Its digest.
        digest: Digest,
        /// The predicate types found, comma-joined.
        found: String,
    },
    /// Discovery of the attestations failed (read without verification).
    #[error("could not fetch the attestations of {image}")]
    Fetch {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: Box<fetch::Error>,
    },
    /// The predicate is not an apko image configuration.
    #[error("the {PREDICATE_TYPE} predicate of {image} is not an apko configuration")]
    Predicate {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: Box<crate::config::Error>,
    },
    /// A key-signed attestation checked against a transparency log failed for want of a log
    /// entry: cosign attaches none to a key signature unless it was uploaded.
    #[error("{image}: a key was given, and the transparency log was not skipped")]
    KeyNeedsTlog {
        /// The image.
        image: String,
        /// The failure.
        #[source]
        source: Box<Error>,
    },
    /// A platform asked for is not in the published image.
    #[error("platform {platform} is not in {image} (it has: {found})")]
    PlatformMissing {
        /// The platform asked for.
        platform: String,
        /// The image.
        image: String,
        /// Its platforms.
        found: String,
    },
    /// A platform asked for is not `os/arch[/variant]`.
    #[error("platform {platform:?}: expected OS/ARCH[/VARIANT]")]
    Platform {
        /// The value.
        platform: String,
    },
    /// The rebuild failed (a package withdrawn, a repository unreachable, …).
    #[error("cannot rebuild {image} from its attested configuration")]
    Build {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: Box<pipeline::Error>,
    },
    /// The directory to keep the rebuilt image in exists and is not empty.
    #[error("{dir}: the directory for the rebuilt image exists and is not empty", dir = dir.display())]
    KeepNotEmpty {
        /// The directory.
        dir: PathBuf,
    },
    /// The rebuilt layout cannot be written.
    #[error("cannot write the rebuilt image to {dir}", dir = dir.display())]
    Layout {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: Box<pipeline::Error>,
    },
    /// A temporary directory cannot be made.
    #[error("cannot create a temporary directory")]
    TempDir(#[source] std::io::Error),
    /// The comparison failed.
    #[error("comparing {image} with its rebuild")]
    Compare {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: Box<crate::rebuild::Error>,
    },
}

//! Catalogue audits: many images, one report each, split across machines with no coordinator.
//!
//! A catalogue ([`file`]) lists images with the verification policy each must meet. The
//! [`run`] module selects this process's share ([`shard`], rendezvous hashing, so N pods of a
//! Kubernetes Indexed Job or N jobs of a GitHub Actions matrix split it alone), resolves each
//! image to a digest, skips those whose digest already has a report, audits the rest with
//! bounded concurrency through an [`Auditor`], writes one [`record`] per image atomically and,
//! when asked, attaches a signed SLSA verification summary ([`vsa`]). [`summary`] merges a
//! directory of records into JSON, JUnit XML and one static HTML page.
//!
//! The audit of one image is behind the one-method [`Auditor`] trait: this module decides what
//! to audit and records what came out, never how an image is verified or rebuilt.
//!
//! Not for: the audit of one image (the caller's [`Auditor`]; comparison in
//! [`crate::rebuild::compare`]), signing and storing attestations ([`crate::attest::store`]).

pub mod file;
pub mod record;
pub mod run;
pub mod shard;
pub mod summary;
pub mod vsa;

pub use file::{Catalogue, Entry, Policy, Signer};
pub use record::{Record, Status};
pub use run::{Attester, Options, Totals, run};
pub use shard::Shard;

use crate::oci::Digest;
use crate::rebuild::Verdict;

/// One image to audit, resolved: what an [`Auditor`] is handed.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// The catalogue entry (image as written, policy, platforms).
    pub entry: &'a Entry,
    /// The digest the image resolved to; the audit must audit exactly this.
    pub digest: Digest,
    /// The reference pinned to that digest (`HOST/REPO[:TAG]@DIGEST` or `oci:DIR@DIGEST`).
    pub pinned: String,
}

/// What one audit found.
#[derive(Debug, Clone)]
pub struct Audited {
    /// The overall verdict.
    pub verdict: Verdict,
    /// The audit report, as the audit's `--output json` prints it (schema in [`crate::rebuild`]).
    pub report: serde_json::Value,
}

/// Audits one resolved image. Implementations must be callable from several threads at once;
/// an `Err` is recorded as the image's `error` and never stops the others.
pub trait Auditor: Sync {
    /// Why one audit could not reach a verdict.
    type Error: std::error::Error + 'static;

    /// Verifies, rebuilds and compares `target`.
    fn audit(&self, target: &Target<'_>) -> Result<Audited, Self::Error>;
}

/// `reference` pinned to `digest`: `HOST/REPO@DIGEST` or `oci:DIR@DIGEST`.
pub fn pinned(reference: &crate::oci::Reference, digest: Digest) -> crate::oci::Reference {
    use crate::oci::{Local, Reference, Selector};
    match reference {
        Reference::Remote(remote) => Reference::Remote(remote.with_digest(digest)),
        Reference::Local(local) => {
            Reference::Local(Local::new(local.dir(), Selector::Digest(digest)))
        }
    }
}

//! Verifying an image's attestations as `cosign verify-attestation` v3: bundle referrers if any
//! exist, otherwise the legacy `.att` layers; every candidate verified, then the exact
//! predicate-type filter.
//!
//! Not for: single-candidate checks ([`super::verify_bundle`], [`super::verify_legacy`]) or
//! discovery ([`crate::attest::fetch`]). Reproduces reference/cosign-attestations.md §6.2, §6.4.

use super::{Policy, TrustedRoot, VerifiedAttestation};
use crate::attest::fetch;
use crate::oci::reference::Reference;
use crate::oci::store::Store;
use crate::oci::{Descriptor, Digest};

/// Why an image's attestations did not verify.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Discovery failed.
    #[error(transparent)]
    Fetch(#[from] fetch::Error),
    /// Nothing to verify at all.
    #[error("no matching attestations: no attestations found for {image}")]
    NoneFound {
        /// The image digest.
        image: Digest,
    },
    /// Candidates exist but none verified.
    #[error("no matching attestations: {errors}")]
    NoneVerified {
        /// Each candidate's failure, joined.
        errors: String,
    },
    /// Verified attestations exist, but none of the wanted type.
    #[error("none of the attestations matched the predicate type: {wanted}, found: {found}")]
    PredicateType {
        /// The type asked for.
        wanted: String,
        /// The types of the verified attestations, comma-joined.
        found: String,
    },
}

impl Error {
    /// Which story this failure tells: the store could not be read, there is nothing to
    /// verify, or what was found failed a check.
    pub fn class(&self) -> fetch::Class {
        match self {
            Self::Fetch(error) => error.class(),
            Self::NoneFound { .. } => fetch::Class::NotFound,
            Self::NoneVerified { .. } | Self::PredicateType { .. } => fetch::Class::DoesNotVerify,
        }
    }
}

/// Which storage scheme the verified attestations came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Sigstore bundle referrers.
    Bundle,
    /// The legacy `.att` manifest.
    Legacy,
}

/// The outcome of verifying an image.
#[derive(Debug, Clone)]
pub struct VerifiedImage {
    /// What the reference resolved to.
    pub image: Descriptor,
    /// The scheme used.
    pub scheme: Scheme,
    /// The verified attestations of the wanted type, in discovery order.
    pub attestations: Vec<VerifiedAttestation>,
}

/// Finds, verifies and filters `reference`'s attestations. `predicate_type` is the exact URI
/// (after short-name mapping); `None` keeps every verified attestation.
pub fn verify_image(
    store: &Store,
    reference: &Reference,
    policy: &Policy,
    root: Option<&TrustedRoot>,
    predicate_type: Option<&str>,
    now: i64,
) -> Result<VerifiedImage, Error> {
    let image = fetch::resolve(store, reference)?;
    let digest = *image.digest.as_bytes();
    let bundles = fetch::bundles(store, &image.digest)?;
    let mut errors = Vec::new();
    let mut verified = Vec::new();
    let scheme = if bundles.is_empty() {
        let layers = fetch::legacy(store, &image.digest)?;
        if layers.is_empty() {
            return Err(Error::NoneFound {
                image: image.digest,
            });
        }
        for layer in &layers {
            match super::verify_legacy(
                &layer.bytes,
                &layer.descriptor.annotations,
                &digest,
                policy,
                root,
                now,
            ) {
                Ok(attestation) => verified.push(attestation),
                Err(e) => errors.push(format!("layer {}: {e}", layer.descriptor.digest)),
            }
        }
        Scheme::Legacy
    } else {
        for found in &bundles {
            match super::verify_attestation_bundle(&found.bundle, &digest, policy, root, now) {
                Ok(attestation) => verified.push(attestation),
                Err(e) => errors.push(format!("bundle {}: {e}", found.manifest)),
            }
        }
        Scheme::Bundle
    };
    if verified.is_empty() {
        return Err(Error::NoneVerified {
            errors: errors.join("; "),
        });
    }
    let attestations = match predicate_type {
        None => verified,
        Some(wanted) => {
            let found: Vec<String> = verified
                .iter()
                .map(|a| a.statement.predicate_type.clone())
                .collect();
            let matching: Vec<VerifiedAttestation> = verified
                .into_iter()
                .filter(|a| a.statement.predicate_type == wanted)
                .collect();
            if matching.is_empty() {
                return Err(Error::PredicateType {
                    wanted: wanted.to_owned(),
                    found: found.join(","),
                });
            }
            matching
        }
    };
    Ok(VerifiedImage {
        image,
        scheme,
        attestations,
    })
}

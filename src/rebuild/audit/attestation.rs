//! The predicate an audit rebuilds from: the image-configuration attestation of the published
//! root, verified against a policy and trusted material (or, when the caller insists, read
//! without any check), turned into an apko configuration, with the signer named for the report.
//!
//! Not for: the verification itself ([`crate::attest::verify`]), loading keys or trusted roots
//! (the caller's: they come from files, the environment or TUF).

use super::{Error, PREDICATE_TYPE};
use crate::attest::dsse::Envelope;
use crate::attest::fetch;
use crate::attest::statement::Statement;
use crate::attest::verify::{self as attest_verify, Expected, Policy, SignerIdentity, image};
use crate::config::ImageConfiguration;
use crate::oci::{Digest, Reference, Store};

/// How the attestation is checked before anything is built from it.
#[derive(Debug, Clone, Copy)]
pub enum Verification<'a> {
    /// Verify against `policy` with `trusted_root` (none: a key without a transparency log).
    Policy {
        /// Who must have signed, and what may be skipped.
        policy: &'a Policy,
        /// Sigstore's trusted material.
        trusted_root: Option<&'a attest_verify::TrustedRoot>,
        /// How the report names a key signer (`key NAME`; its file, say); `None`: `key`.
        key_name: Option<&'a str>,
    },
    /// Read the attestation WITHOUT checking any signature, key or identity: the report's
    /// signer is `UNVERIFIED`, and the verdict proves nothing about who built the image.
    Unverified,
}

/// A predicate, and who signed it.
pub(super) struct Verified {
    pub configuration: ImageConfiguration,
    pub signer: String,
}

/// The image-configuration predicate of `root` (which `reference` names), checked as
/// `verification` says.
pub(super) fn predicate(
    verification: &Verification<'_>,
    image: &str,
    store: &Store,
    reference: &Reference,
    root: &Digest,
) -> Result<Verified, Error> {
    let Verification::Policy {
        policy,
        trusted_root,
        key_name,
    } = *verification
    else {
        let statement = unverified_statement(image, store, root)?;
        return Ok(Verified {
            configuration: configuration(image, &statement)?,
            signer: "UNVERIFIED".to_owned(),
        });
    };
    let key_without_tlog = matches!(policy.expected, Expected::Key(_)) && !policy.ignore_tlog;
    let verified = image::verify_image(
        store,
        reference,
        policy,
        trusted_root,
        Some(PREDICATE_TYPE),
        attest_verify::now(),
    )
    .map_err(|source| {
        let tlog = matches!(&source, image::Error::NoneVerified { errors } if errors.contains("transparency log"));
        let error = failure(image, source);
        if key_without_tlog && tlog {
            Error::KeyNeedsTlog {
                image: image.to_owned(),
                source: Box::new(error),
            }
        } else {
            error
        }
    })?;
    // verify_image keeps only attestations of the type, and fails when there are none.
    let Some(attestation) = verified.attestations.first() else {
        return Err(Error::NoAttestation {
            image: image.to_owned(),
            digest: *root,
            found: String::new(),
        });
    };
    let signer = match (&attestation.signer, &policy.expected) {
        (SignerIdentity::Certificate { subject, issuer }, _) => format!("{subject} ({issuer})"),
        (SignerIdentity::Key, Expected::Key(_)) => match key_name {
            Some(name) => format!("key {name}"),
            None => "key".to_owned(),
        },
        (SignerIdentity::Key, _) => "key".to_owned(),
    };
    Ok(Verified {
        configuration: configuration(image, &attestation.statement)?,
        signer,
    })
}

/// The audit's error for a failed verification, by the story it tells.
fn failure(image: &str, source: image::Error) -> Error {
    let (image, source) = (image.to_owned(), Box::new(source));
    match source.class() {
        fetch::Class::CouldNotFetch => Error::AttestationFetch { image, source },
        fetch::Class::NotFound => Error::AttestationNotFound { image, source },
        fetch::Class::DoesNotVerify => Error::Verification { image, source },
    }
}

/// The first statement of the predicate type attached to `root`, read without checking any
/// signature (bundle referrers first, then the legacy `.att` layers, as cosign looks).
fn unverified_statement(image: &str, store: &Store, root: &Digest) -> Result<Statement, Error> {
    let fetch_error = |source| Error::Fetch {
        image: image.to_owned(),
        source: Box::new(source),
    };
    let mut statements: Vec<Statement> = fetch::bundles(store, root)
        .map_err(fetch_error)?
        .iter()
        .filter_map(|found| found.bundle.dsse_envelope()?.statement().ok())
        .collect();
    if statements.is_empty() {
        statements = fetch::legacy(store, root)
            .map_err(fetch_error)?
            .iter()
            .filter_map(|layer| Envelope::from_json(&layer.bytes).ok()?.statement().ok())
            .collect();
    }
    let found: Vec<String> = statements
        .iter()
        .map(|s| s.predicate_type.clone())
        .collect();
    statements
        .into_iter()
        .find(|s| s.predicate_type == PREDICATE_TYPE)
        .ok_or_else(|| Error::NoAttestation {
            image: image.to_owned(),
            digest: *root,
            found: if found.is_empty() {
                "nothing".to_owned()
            } else {
                found.join(", ")
            },
        })
}

/// The predicate as a configuration.
fn configuration(image: &str, statement: &Statement) -> Result<ImageConfiguration, Error> {
    ImageConfiguration::from_json(statement.predicate.to_json().as_bytes()).map_err(|source| {
        Error::Predicate {
            image: image.to_owned(),
            source: Box::new(source),
        }
    })
}

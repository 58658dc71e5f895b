//! Verifying cosign attestations offline, as `cosign verify-attestation` v3 does: Sigstore
//! bundles (sigstore-go's checks) and legacy `.att` layers (cosign's `verifyOCIAttestation`),
//! against a key or a certificate identity, a trusted root, Rekor evidence and SCTs.
//!
//! [`verify_bundle`] checks one bundle against an artifact digest (also the sigstore-conformance
//! driver's entry point); [`verify_legacy`] checks one legacy layer; [`image::verify_image`]
//! finds and checks an image's attestations and filters them by predicate type.
//!
//! Not for: finding attestations ([`super::fetch`]) or printing. Reproduces
//! reference/cosign-attestations.md §6, §7 and §8.

pub mod artifact;
pub mod bundle;
pub mod certificate;
pub mod checkpoint;
pub mod der;
pub mod identity;
pub mod image;
pub mod key_details;
pub mod rekor;
pub mod sct;
pub mod signature;
pub mod timestamp;
pub mod trust;

use std::collections::BTreeMap;

use serde::Deserialize;
use sha2::{Digest as _, Sha256};

pub use artifact::{Artifact, ArtifactDigest, DigestAlgorithm};
pub use bundle::{verify_bundle, verify_bundle_artifact};
pub use identity::{Expected, GithubClaims, Identity, Matcher};
pub use trust::TrustedRoot;

use super::bundle::Bundle;
use super::dsse::{self, Envelope, EnvelopeForm, decode_lenient};
use super::key::{PublicKey, pem};
use super::names;
use super::statement::{Sha256Digest, Statement};
use certificate::Cert;

/// What a verification requires.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The key or identity that must have signed.
    pub expected: Expected,
    /// `--insecure-ignore-tlog`: no Rekor evidence is checked (certificates at the current time).
    pub ignore_tlog: bool,
    /// `--insecure-ignore-sct`: no embedded SCT is required.
    pub ignore_sct: bool,
}

/// Why a candidate failed verification. Each check has its own variant and message.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bundle path without a trusted root.
    #[error("trusted root is required when using new bundle format")]
    NoTrustedRoot,
    /// Legacy path: Rekor or certificate checks without trusted material.
    #[error(transparent)]
    Trust(#[from] trust::Error),
    /// The bundle media type is not a known version.
    #[error("unsupported bundle media type {media_type}")]
    BundleVersion {
        /// The media type.
        media_type: String,
    },
    /// The bundle's signer material does not fit the policy.
    #[error("{reason}")]
    SignerMaterial {
        /// Why.
        reason: &'static str,
    },
    /// Legacy keyless layer without a certificate.
    #[error("no certificate found on signature")]
    NoCertificate,
    /// A certificate annotation or field is not a certificate.
    #[error("certificate is unreadable: {reason}")]
    CertificateText {
        /// Why.
        reason: String,
    },
    /// Certificate parsing or chain validation failed.
    #[error(transparent)]
    Certificate(#[from] certificate::Error),
    /// The identity is not the expected one.
    #[error(transparent)]
    Identity(#[from] identity::Error),
    /// The SCT check failed.
    #[error(transparent)]
    Sct(#[from] sct::Error),
    /// Rekor evidence failed.
    #[error(transparent)]
    Rekor(#[from] rekor::Error),
    /// Legacy path: no Rekor bundle annotation and no way to look the entry up.
    #[error("offline verification failed")]
    NoRekorBundle,
    /// The Rekor bundle annotation is malformed.
    #[error("rekor bundle annotation is malformed: {reason}")]
    RekorBundle {
        /// Why.
        reason: String,
    },
    /// An entry names a log the trusted root does not know (legacy path).
    #[error("transparency log {log_id} is not in the trusted root")]
    UnknownLog {
        /// The hex log id.
        log_id: String,
    },
    /// A bundle tlog entry lacks what its version requires.
    #[error("transparency log entry {log_index}: {reason}")]
    TlogEntry {
        /// The entry.
        log_index: i64,
        /// What is missing.
        reason: &'static str,
    },
    /// The Rekor key was not valid when the entry was integrated.
    #[error("transparency log key was not valid at integrated time {time}")]
    LogKeyValidity {
        /// The integrated time.
        time: i64,
    },
    /// The integrated time lies in the future.
    #[error("integrated time {time} is in the future")]
    FutureIntegratedTime {
        /// The integrated time.
        time: i64,
    },
    /// No transparency log entry could be verified.
    #[error("no valid transparency log entry: {reason}")]
    NoTlogEntry {
        /// Why the last candidate failed.
        reason: String,
    },
    /// The certificate was not valid at the logged time.
    #[error("certificate was not valid at integrated time {time}")]
    CertificateTime {
        /// The integrated time.
        time: i64,
    },
    /// An expired certificate and no timestamp to prove it signed in time.
    #[error("expected a signed timestamp to verify an expired certificate")]
    ExpiredWithoutTimestamp,
    /// The DSSE envelope or its signature failed.
    #[error(transparent)]
    Dsse(#[from] dsse::Error),
    /// A message signature failed.
    #[error("message signature does not verify")]
    MessageSignature,
    /// A message signature's recorded digest is not the artifact's.
    #[error("message digest in the bundle does not match the artifact")]
    MessageDigest,
    /// Bundle path: the statement does not name the artifact.
    #[error("provided artifact digest does not match any digest in statement")]
    BundleSubject,
    /// Legacy path: the statement does not name the image.
    #[error("no matching subject digest found")]
    LegacySubject,
    /// An attestation bundle without a DSSE envelope.
    #[error("bundle does not carry a DSSE envelope")]
    NotDsse,
    /// More log entries than clients accept.
    #[error("bundle has {count} transparency log entries; at most 32 are accepted")]
    TooManyTlogEntries {
        /// How many.
        count: usize,
    },
    /// A checkpoint failed.
    #[error(transparent)]
    Checkpoint(#[from] checkpoint::Error),
    /// A required signed timestamp failed.
    #[error(transparent)]
    Timestamp(#[from] timestamp::Error),
    /// No signed timestamp where one is required: Rekor v2 entries carry no time.
    #[error("signed timestamps are required when only Rekor v2 entries are present: {reason}")]
    NoSignedTimestamp {
        /// Why none verified.
        reason: String,
    },
}

/// Who signed a verified attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerIdentity {
    /// The policy's key.
    Key,
    /// A certificate: its SAN (sigstore-go's choice) and OIDC issuer.
    Certificate {
        /// The SAN.
        subject: String,
        /// The issuer.
        issuer: String,
    },
}

/// What one verified bundle proves.
#[derive(Debug, Clone)]
pub struct VerifiedBundle {
    /// The signer.
    pub signer: SignerIdentity,
    /// The envelope, for DSSE bundles.
    pub envelope: Option<Envelope>,
    /// The statement, for DSSE bundles.
    pub statement: Option<Statement>,
    /// Verified integration times (Unix seconds).
    pub times: Vec<i64>,
}

/// One verified attestation of an image.
#[derive(Debug, Clone)]
pub struct VerifiedAttestation {
    /// What cosign prints for it: the legacy layer bytes as stored, or the bundle's envelope
    /// in sigstore-go's Go JSON form.
    pub envelope_json: Vec<u8>,
    /// The envelope.
    pub envelope: Envelope,
    /// The statement it carries.
    pub statement: Statement,
    /// The signer.
    pub signer: SignerIdentity,
}

impl VerifiedAttestation {
    /// The predicate JSON, as the statement holds it.
    pub fn predicate_json(&self) -> String {
        self.statement.predicate.to_json()
    }
}

/// The current time in Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Tolerated clock skew for integrated times, as sigstore-go's.
pub(crate) const MAX_FUTURE_SKEW: i64 = 5 * 60;

/// The legacy `dev.sigstore.cosign/bundle` annotation.
#[derive(Deserialize)]
struct RekorBundle {
    #[serde(rename = "SignedEntryTimestamp")]
    signed_entry_timestamp: String,
    #[serde(rename = "Payload")]
    payload: RekorPayload,
}

#[derive(Deserialize)]
struct RekorPayload {
    body: String,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logIndex")]
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: String,
}

/// Verifies one legacy `.att` layer (its bytes and annotations) for `image`, in cosign's order:
/// Rekor bundle, certificate (chain at NotBefore, identity, SCT), DSSE signature, subject
/// digest, certificate time.
pub fn verify_legacy(
    layer: &[u8],
    annotations: &BTreeMap<String, String>,
    image: &[u8; 32],
    policy: &Policy,
    root: Option<&TrustedRoot>,
    now: i64,
) -> Result<VerifiedAttestation, Error> {
    let envelope = Envelope::from_json(layer)?;
    let (leaf, key) = match &policy.expected {
        Expected::Key(key) => (None, key.clone()),
        Expected::Identity(_) => {
            let text = annotations
                .get(names::CERTIFICATE_ANNOTATION)
                .filter(|t| !t.is_empty())
                .ok_or(Error::NoCertificate)?;
            let block = pem::decode(text.as_bytes()).map_err(|e| Error::CertificateText {
                reason: e.to_string(),
            })?;
            let leaf = Cert::parse(&block.body)?;
            let key = leaf.public_key.clone();
            (Some(leaf), key)
        }
    };
    let signer_der = match &leaf {
        Some(leaf) => leaf.der.clone(),
        None => key.to_der().map_err(|_| Error::SignerMaterial {
            reason: "the key cannot be encoded",
        })?,
    };

    let integrated = if policy.ignore_tlog {
        None
    } else {
        Some(verify_legacy_tlog(annotations, root, &signer_der, layer)?)
    };

    let signer = match (&leaf, &policy.expected) {
        (Some(leaf), Expected::Identity(identity)) => {
            let root = root.ok_or(trust::Error::Missing)?;
            let intermediates = annotations
                .get(names::CHAIN_ANNOTATION)
                .map(|text| trust::pem_certificates(text.as_bytes()))
                .unwrap_or_default();
            let chain = certificate::verify_chain(leaf, &intermediates, root, leaf.not_before)?;
            identity.check_legacy(leaf)?;
            if !policy.ignore_sct {
                sct::verify_embedded(leaf, &chain.issuer, root)?;
            }
            SignerIdentity::Certificate {
                subject: leaf.primary_san().unwrap_or_default().to_owned(),
                issuer: leaf.issuer_v1().unwrap_or_default(),
            }
        }
        _ => SignerIdentity::Key,
    };

    envelope.verify(&key)?;
    let statement = envelope.statement()?;
    if !statement.has_subject_digest(&Sha256Digest::from_bytes(*image)) {
        return Err(Error::LegacySubject);
    }
    if let Some(leaf) = &leaf {
        match integrated {
            Some(time) if !leaf.valid_at(time) => return Err(Error::CertificateTime { time }),
            None if !leaf.valid_at(now) => return Err(Error::ExpiredWithoutTimestamp),
            _ => {}
        }
    }
    Ok(VerifiedAttestation {
        envelope_json: layer.to_vec(),
        envelope,
        statement,
        signer,
    })
}

/// Checks the legacy `dev.sigstore.cosign/bundle` annotation: the log entry's body names this
/// signer and envelope, and its SET verifies under a log of the trusted root valid at the entry's
/// integrated time, which it returns.
fn verify_legacy_tlog(
    annotations: &BTreeMap<String, String>,
    root: Option<&TrustedRoot>,
    signer_der: &[u8],
    layer: &[u8],
) -> Result<i64, Error> {
    let text = annotations
        .get(names::REKOR_BUNDLE_ANNOTATION)
        .filter(|t| !t.is_empty())
        .ok_or(Error::NoRekorBundle)?;
    let rekor_bundle: RekorBundle = serde_json::from_str(text).map_err(|e| Error::RekorBundle {
        reason: e.to_string(),
    })?;
    let root = root.ok_or(trust::Error::Missing)?;
    let log_id = hex::decode(&rekor_bundle.payload.log_id).map_err(|_| Error::RekorBundle {
        reason: "logID is not hex".to_owned(),
    })?;
    let log = root.tlog(&log_id).ok_or_else(|| Error::UnknownLog {
        log_id: rekor_bundle.payload.log_id.clone(),
    })?;
    let body = decode_lenient(&rekor_bundle.payload.body).ok_or(Error::RekorBundle {
        reason: "body is not base64".to_owned(),
    })?;
    let set = decode_lenient(&rekor_bundle.signed_entry_timestamp).ok_or(Error::RekorBundle {
        reason: "SignedEntryTimestamp is not base64".to_owned(),
    })?;
    let parsed = rekor::parse_body(&body)?;
    rekor::check_legacy_body(&parsed, signer_der, layer)?;
    rekor::verify_set(
        &rekor::SetPayload {
            body: &body,
            integrated_time: rekor_bundle.payload.integrated_time,
            log_id: &log_id,
            log_index: rekor_bundle.payload.log_index,
        },
        &set,
        log,
    )?;
    if !log.valid_at(rekor_bundle.payload.integrated_time) {
        return Err(Error::LogKeyValidity {
            time: rekor_bundle.payload.integrated_time,
        });
    }
    Ok(rekor_bundle.payload.integrated_time)
}

/// Verifies a bundle found for an image and turns it into an attestation.
pub fn verify_attestation_bundle(
    bundle: &Bundle,
    image: &[u8; 32],
    policy: &Policy,
    root: Option<&TrustedRoot>,
    now: i64,
) -> Result<VerifiedAttestation, Error> {
    if bundle.dsse_envelope().is_none() {
        return Err(Error::NotDsse);
    }
    let verified = verify_bundle(bundle, image, policy, root, now)?;
    match (verified.envelope, verified.statement) {
        (Some(envelope), Some(statement)) => Ok(VerifiedAttestation {
            envelope_json: envelope.to_json(EnvelopeForm::CosignV3),
            envelope,
            statement,
            signer: verified.signer,
        }),
        _ => Err(Error::NotDsse),
    }
}

/// The SHA-256 of a public key's DER, for messages and key hints.
pub fn key_fingerprint(key: &PublicKey) -> Option<String> {
    key.to_der()
        .ok()
        .map(|der| hex::encode(Sha256::digest(der)))
}

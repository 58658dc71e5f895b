//! Attaching a signed attestation to an image, in either of cosign's storage schemes, in a
//! registry repository or an OCI layout ([`Store`]).
//!
//! [`Signed::sign`] is the only way to get something to attach: it signs the statement, then
//! checks the exact envelope and bundle bytes that will be stored against the public key, so
//! nothing unverified is ever pushed. [`attach`] then writes:
//!
//! * [`Format::Legacy`]: the layer, the config and the `sha256-<hex>.att` manifest with every
//!   earlier layer kept ([`legacy`]); `--replace` drops layers of the same predicate type.
//! * [`Format::Bundle`]: the empty config, the bundle and a referrer manifest by digest
//!   ([`referrer`]); where the store keeps no referrers list itself, the `sha256-<hex>` fallback
//!   index is extended (others' entries kept).
//!
//! Both schemes are read-modify-write of one tag, which registries cannot do atomically. A
//! store that can be locked (a layout) is locked for the whole cycle ([`Store::lock`]). In a registry
//! each write is confirmed by reading the tag back, twice, the second time after a pause as
//! long as twice our own read-to-write time, so that a concurrent writer that read before our
//! write has had time to overwrite it; if our entry is gone the cycle is redone on the new
//! content. This narrows the race cosign leaves open to writers slower than that pause.
//!
//! Not for: discovery and reading (`attest::fetch`), verification (`attest::verify`), signing
//! keys ([`super::key`]). Reproduces reference/cosign-attestations.md §2, §3.2–§3.3 and §12 A.

pub mod legacy;
pub mod referrer;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::bundle::{self, Bundle};
use super::dsse::{self, Envelope, EnvelopeForm};
use super::key::{PrivateKey, PublicKey};
use super::names;
use super::statement::{Sha256Digest, Statement};
use crate::oci::image_set::{Blob, Content, RawManifest};
use crate::oci::manifest::{Index, media_type};
use crate::oci::reference::referrers_tag;
use crate::oci::store::WriteLock;
use crate::oci::{Descriptor, Digest, Store, store};

pub use legacy::{AttManifest, Replacement};

/// How often a contended read-modify-write is tried before giving up.
const MAX_ATTEMPTS: u32 = 12;
/// Bounds of the pause before the second confirming read.
const MIN_SETTLE: Duration = Duration::from_millis(50);
const MAX_SETTLE: Duration = Duration::from_secs(2);

/// Why an attestation was not attached.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing the store failed.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// The existing `.att` manifest is unusable.
    #[error("{store}: tag {tag}")]
    Legacy {
        /// The store.
        store: String,
        /// The `.att` tag.
        tag: String,
        /// What is wrong.
        #[source]
        source: legacy::Error,
    },
    /// The referrer manifest or fallback index cannot be built.
    #[error("{store}: referrers of {subject}")]
    Referrer {
        /// The store.
        store: String,
        /// The image.
        subject: Digest,
        /// What is wrong.
        #[source]
        source: referrer::Error,
    },
    /// `--replace` met an existing layer whose predicate type cannot be read (cosign aborts).
    #[error("{store}: cannot read the predicate type of attestation layer {digest}: {reason}")]
    ReplaceLayer {
        /// The store.
        store: String,
        /// The layer.
        digest: Digest,
        /// Why.
        reason: String,
    },
    /// The statement does not name the image it is being attached to.
    #[error("the statement's subjects do not include {subject}")]
    Subject {
        /// The image digest.
        subject: Digest,
    },
    /// The attestation is for another image than the one it is being attached to.
    #[error("the attestation was signed for {signed}, not {subject}")]
    WrongImage {
        /// The digest it was signed for.
        signed: Digest,
        /// The digest it was to be attached to.
        subject: Digest,
    },
    /// Signing failed, or the envelope did not verify with the key's public half.
    #[error("the DSSE envelope could not be made or did not verify; nothing was pushed")]
    Envelope {
        /// The failure.
        #[source]
        source: dsse::Error,
    },
    /// The bundle could not be made or did not verify; nothing was pushed.
    #[error("the Sigstore bundle could not be made or did not verify; nothing was pushed")]
    Bundle {
        /// The failure.
        #[source]
        source: BundleProblem,
    },
    /// Other writers kept overwriting the tag.
    #[error(
        "{store}: tag {tag} kept changing under concurrent writers; gave up after {attempts} attempts"
    )]
    Contended {
        /// The store.
        store: String,
        /// The tag.
        tag: String,
        /// How many read-modify-write cycles were made.
        attempts: u32,
    },
}

/// Why a bundle failed its pre-push check.
#[derive(Debug, thiserror::Error)]
pub enum BundleProblem {
    /// Building or re-reading it failed.
    #[error(transparent)]
    Bundle(#[from] bundle::Error),
    /// Its envelope did not verify.
    #[error(transparent)]
    Envelope(#[from] dsse::Error),
    /// It carries no DSSE envelope.
    #[error("bundle carries no DSSE envelope")]
    NoEnvelope,
}

/// Which storage scheme to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The `sha256-<hex>.att` manifest (`--new-bundle-format=false`).
    Legacy {
        /// `--replace`: drop existing layers of the same predicate type.
        replace: bool,
    },
    /// A Sigstore bundle v0.3 as an OCI 1.1 referrer (cosign v3's default).
    Bundle,
}

/// A statement signed with a key, checked, and rendered into the bytes to store.
#[derive(Debug, Clone)]
pub struct Signed {
    subject: Digest,
    predicate_type: String,
    envelope: Envelope,
    envelope_json: Vec<u8>,
    bundle_json: Vec<u8>,
    annotations: BTreeMap<String, String>,
}

/// What signing services added to a signature before it is attached
/// ([`crate::attest::sign`]): the certificate (keyless), Rekor entries, RFC 3161 timestamps,
/// and the same evidence as legacy layer annotations.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// The leaf certificate, DER; `None` keeps the key hint.
    pub certificate: Option<Vec<u8>>,
    /// Transparency log entries.
    pub tlog_entries: Vec<bundle::TransparencyLogEntry>,
    /// RFC 3161 `TimeStampResp`s, DER.
    pub timestamps: Vec<Vec<u8>>,
    /// Legacy layer annotations (certificate, chain, Rekor bundle, timestamp).
    pub annotations: BTreeMap<String, String>,
}

impl Signed {
    /// Signs `statement` about image `subject` with `key` as `cosign attest --key` does, then
    /// verifies the exact legacy-layer and bundle bytes with the key's public half.
    pub fn sign(statement: &Statement, subject: &Digest, key: &PrivateKey) -> Result<Self, Error> {
        if !statement.has_subject_digest(&Sha256Digest::from_bytes(*subject.as_bytes())) {
            return Err(Error::Subject { subject: *subject });
        }
        let envelope = Envelope::sign_statement(statement, key)
            .map_err(|source| Error::Envelope { source })?;
        let public = key.public_key();
        let envelope_json = envelope.to_json(EnvelopeForm::CosignV3);
        check_envelope(&envelope_json, &public).map_err(|source| Error::Envelope { source })?;
        let bundle_json = Bundle::for_key_signed_envelope(envelope.clone(), &public)
            .map(|b| b.to_json())
            .map_err(|source| Error::Bundle {
                source: source.into(),
            })?;
        check_bundle(&bundle_json, &public).map_err(|source| Error::Bundle { source })?;
        Ok(Self {
            subject: *subject,
            predicate_type: statement.predicate_type.clone(),
            envelope,
            envelope_json,
            bundle_json,
            annotations: BTreeMap::new(),
        })
    }

    /// The same signature with `evidence` in its bundle and legacy annotations; the new bundle
    /// is checked against `key` (the signer's public key) as [`Signed::sign`] checks it.
    pub fn with_evidence(mut self, evidence: Evidence, key: &PublicKey) -> Result<Self, Error> {
        let bundle_error = |source: BundleProblem| Error::Bundle { source };
        let mut bundle =
            Bundle::from_json(&self.bundle_json).map_err(|e| bundle_error(e.into()))?;
        let material = &mut bundle.verification_material;
        if let Some(der) = evidence.certificate {
            material.signer = bundle::Signer::Certificate(der);
        }
        material.tlog_entries = evidence.tlog_entries;
        if !evidence.timestamps.is_empty() {
            material.timestamp_verification_data = Some(evidence.timestamps);
        }
        let bundle_json = bundle.to_json();
        check_bundle(&bundle_json, key).map_err(bundle_error)?;
        self.bundle_json = bundle_json;
        self.annotations = evidence.annotations;
        Ok(self)
    }

    /// The legacy layer's annotations beyond signature and predicate type.
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        &self.annotations
    }

    /// The image digest the statement is about.
    pub fn subject(&self) -> &Digest {
        &self.subject
    }

    /// The statement's predicate type.
    pub fn predicate_type(&self) -> &str {
        &self.predicate_type
    }

    /// The envelope.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The legacy layer: the envelope in cosign v3's serialisation.
    pub fn envelope_json(&self) -> &[u8] {
        &self.envelope_json
    }

    /// The bundle v0.3 (public key hint, no log entry).
    pub fn bundle_json(&self) -> &[u8] {
        &self.bundle_json
    }
}

fn check_envelope(json: &[u8], key: &PublicKey) -> Result<(), dsse::Error> {
    let envelope = Envelope::from_json(json)?;
    envelope.verify(key)?;
    envelope.statement().map(drop)
}

fn check_bundle(json: &[u8], key: &PublicKey) -> Result<(), BundleProblem> {
    let bundle = Bundle::from_json(json)?;
    let envelope = bundle.dsse_envelope().ok_or(BundleProblem::NoEnvelope)?;
    envelope.verify(key)?;
    Ok(())
}

/// Where an attestation went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    /// The `.att` manifest or the referrer manifest written.
    pub manifest: Descriptor,
    /// The tag written: `sha256-<hex>.att`, the fallback `sha256-<hex>`, or none when the
    /// registry's referrers API lists the referrer.
    pub tag: Option<String>,
    /// What `--replace` did with each existing layer (legacy only).
    pub replacements: Vec<Replacement>,
    /// Read-modify-write cycles needed (1 without contention).
    pub attempts: u32,
}

/// Attaches `signed` to the image `subject` (as resolved in `store`: media type, size,
/// digest). `created` is the RFC 3339 time for the referrer manifest's annotation.
pub fn attach(
    store: &Store,
    subject: &Descriptor,
    signed: &Signed,
    format: Format,
    created: &str,
) -> Result<Attached, Error> {
    if signed.subject != subject.digest {
        return Err(Error::WrongImage {
            signed: signed.subject,
            subject: subject.digest,
        });
    }
    let lock = store.lock()?;
    let writer = Writer {
        store,
        lock: lock.as_ref(),
    };
    match format {
        Format::Legacy { replace } => attach_legacy(&writer, subject, signed, replace),
        Format::Bundle => attach_bundle(&writer, subject, signed, created),
    }
}

fn put_bytes(store: &Store, media_type: &str, bytes: &[u8]) -> Result<Descriptor, Error> {
    let descriptor = Descriptor::of(media_type, bytes);
    store.put_blob(&Blob {
        descriptor: descriptor.clone(),
        content: Content::Bytes(bytes.to_vec()),
    })?;
    Ok(descriptor)
}

/// The store being written, and its write lock when it has one.
struct Writer<'a> {
    store: &'a Store,
    lock: Option<&'a WriteLock>,
}

fn attach_legacy(
    writer: &Writer<'_>,
    subject: &Descriptor,
    signed: &Signed,
    replace: bool,
) -> Result<Attached, Error> {
    let store = writer.store;
    let tag = names::attestation_tag(&subject.digest);
    let legacy_error = |source| Error::Legacy {
        store: store.name(),
        tag: tag.clone(),
        source,
    };
    let layer = legacy::layer(
        signed.envelope_json(),
        signed.predicate_type(),
        signed.annotations(),
    );
    put_bytes(store, names::DSSE_LAYER_MEDIA_TYPE, signed.envelope_json())?;
    let ours = layer.digest;
    let present = |bytes: &[u8]| AttManifest::parse(bytes).is_ok_and(|m| m.contains(&ours));
    for attempt in 1..=MAX_ATTEMPTS {
        let started = Instant::now();
        let existing = read_tag(store, &tag)?;
        let mut att = match &existing {
            Some(raw) => AttManifest::parse(&raw.bytes).map_err(legacy_error)?,
            None => AttManifest::default(),
        };
        // On a retry our layer may be there after all (our write showed late, or another
        // writer stored the identical attestation): then there is nothing left to add.
        let already = match &existing {
            Some(raw) if attempt > 1 && att.contains(&ours) => Some(raw.descriptor.clone()),
            _ => None,
        };
        let mut replacements = Vec::new();
        let manifest = if let Some(descriptor) = already {
            descriptor
        } else {
            if replace {
                let types = att
                    .layers
                    .iter()
                    .map(|l| layer_predicate_type(store, l))
                    .collect::<Result<Vec<_>, _>>()?;
                replacements = att
                    .replace(layer.clone(), signed.predicate_type(), &types)
                    .map_err(legacy_error)?;
            } else {
                att.append(layer.clone()).map_err(legacy_error)?;
            }
            let bytes = att.to_bytes().map_err(legacy_error)?;
            put_bytes(store, media_type::OCI_CONFIG, &bytes.config)?;
            match store.put_manifest(&bytes.manifest, media_type::OCI_MANIFEST, Some(&tag)) {
                Err(error) if transient(&error) && attempt < MAX_ATTEMPTS => {
                    back_off(attempt);
                    continue;
                }
                other => other?,
            }
        };
        if confirmed(writer, &tag, started.elapsed(), &present)? {
            return Ok(Attached {
                manifest,
                tag: Some(tag),
                replacements,
                attempts: attempt,
            });
        }
        back_off(attempt);
    }
    Err(Error::Contended {
        store: store.name(),
        tag,
        attempts: MAX_ATTEMPTS,
    })
}

/// The predicate type inside an existing layer's envelope, as cosign's `--replace` reads it
/// (envelope → base64 payload → statement `predicateType`), without strict statement parsing.
fn layer_predicate_type(store: &Store, layer: &Descriptor) -> Result<String, Error> {
    let problem = |reason: String| Error::ReplaceLayer {
        store: store.name(),
        digest: layer.digest,
        reason,
    };
    let bytes = store.read_blob(&layer.digest)?;
    let envelope = Envelope::from_json(&bytes).map_err(|e| problem(e.to_string()))?;
    let statement: serde_json::Value = serde_json::from_slice(&envelope.payload)
        .map_err(|e| problem(format!("payload is not JSON: {e}")))?;
    statement
        .get("predicateType")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| problem("statement has no predicateType".to_owned()))
}

fn attach_bundle(
    writer: &Writer<'_>,
    subject: &Descriptor,
    signed: &Signed,
    created: &str,
) -> Result<Attached, Error> {
    let store = writer.store;
    let referrer_error = |source| Error::Referrer {
        store: store.name(),
        subject: subject.digest,
        source,
    };
    put_bytes(store, names::EMPTY_MEDIA_TYPE, names::EMPTY_BLOB)?;
    let layer = put_bytes(store, bundle::BUNDLE_V03_MEDIA_TYPE, signed.bundle_json())?;
    let manifest_bytes = referrer::manifest(&layer, subject, signed.predicate_type(), created)
        .map_err(referrer_error)?;
    let manifest = store.put_manifest(&manifest_bytes, media_type::OCI_MANIFEST, None)?;
    if store.has_referrers_api(&subject.digest)? {
        return Ok(Attached {
            manifest,
            tag: None,
            replacements: Vec::new(),
            attempts: 1,
        });
    }
    let tag = referrers_tag(&subject.digest);
    let entry = referrer::fallback_entry(&manifest_bytes);
    let ours = entry.digest;
    let present = |bytes: &[u8]| {
        Index::parse(bytes).is_ok_and(|index| index.manifests.iter().any(|m| m.digest == ours))
    };
    for attempt in 1..=MAX_ATTEMPTS {
        let started = Instant::now();
        let existing = read_tag(store, &tag)?;
        let updated = referrer::add_to_fallback_index(
            existing.as_ref().map(|r| r.bytes.as_slice()),
            entry.clone(),
        )
        .map_err(referrer_error)?;
        if let Some(bytes) = updated {
            match store.put_manifest(&bytes, media_type::OCI_INDEX, Some(&tag)) {
                Err(error) if transient(&error) && attempt < MAX_ATTEMPTS => {
                    back_off(attempt);
                    continue;
                }
                other => other?,
            };
        }
        if confirmed(writer, &tag, started.elapsed(), &present)? {
            return Ok(Attached {
                manifest,
                tag: Some(tag),
                replacements: Vec::new(),
                attempts: attempt,
            });
        }
        back_off(attempt);
    }
    Err(Error::Contended {
        store: store.name(),
        tag,
        attempts: MAX_ATTEMPTS,
    })
}

/// Whether the tag still holds our entry: once at once, and in a registry once more after a
/// pause of twice our read-to-write time (see the module documentation).
fn confirmed(
    writer: &Writer<'_>,
    tag: &str,
    window: Duration,
    present: &dyn Fn(&[u8]) -> bool,
) -> Result<bool, Error> {
    let holds = |store: &Store| -> Result<bool, Error> {
        Ok(read_tag(store, tag)?.is_some_and(|raw| present(&raw.bytes)))
    };
    if !holds(writer.store)? {
        return Ok(false);
    }
    if writer.lock.is_some() {
        // The lock is held: nobody else can have written.
        return Ok(true);
    }
    std::thread::sleep((window * 2).clamp(MIN_SETTLE, MAX_SETTLE));
    holds(writer.store)
}

/// The manifest a tag names, riding out transient server errors: distribution's filesystem
/// storage answers 500 to a read that meets a concurrent write of the same tag.
fn read_tag(store: &Store, tag: &str) -> Result<Option<RawManifest>, Error> {
    let mut attempt = 1;
    loop {
        match store.tagged(tag) {
            Err(error) if transient(&error) && attempt < MAX_ATTEMPTS => {
                back_off(attempt);
                attempt += 1;
            }
            other => return Ok(other?),
        }
    }
}

/// A server error a registry may answer while another client rewrites the same tag.
fn transient(error: &store::Error) -> bool {
    match error {
        store::Error::Registry(error) => error.last_attempt().is_transient(),
        _ => false,
    }
}

/// A short pause that grows with the attempt and differs between processes, so that two
/// writers that collided do not collide again in lockstep.
fn back_off(attempt: u32) {
    let noise = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
        ^ std::process::id().wrapping_mul(2_654_435_761);
    let millis = 20 * u64::from(attempt) + u64::from(noise % 50);
    std::thread::sleep(Duration::from_millis(millis));
}

//! Sigstore bundles: the v0.3 bundle cosign v3 writes for a key-signed attestation, and typed
//! reading of any bundle cosign, sigstore-go or the conformance suite produce.
//!
//! Not for: checking what a bundle proves (transparency log, certificates: the verification
//! module, later) or storing it in a registry (later). Reproduces reference/cosign-attestations.md
//! §3.5, §12 A and §15 (cosign `pkg/cosign/bundle/protobundle.go`, `MakeNewBundle`; sigstore-go
//! `pkg/sign`): for `cosign attest --key … --tlog-upload=false` the bundle is
//! `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":
//! {"publicKey":{"hint":"<base64 SHA-256 of the PKIX key>"}},"dsseEnvelope":{…}}`; protojson
//! omits the empty `tlogEntries`. The wire shape lives in [`wire`].

mod wire;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::dsse::{Envelope, Signature, decode_lenient};
use super::key::{self, PublicKey};

/// The media type of v0.3 bundles (what cosign v3 writes).
pub const BUNDLE_V03_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Why a bundle could not be read or built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The JSON does not match the bundle schema (unknown field, wrong type, bad int64).
    #[error("bundle JSON does not match the Sigstore bundle schema")]
    Json {
        /// The parse error, naming the field.
        #[source]
        source: serde_json::Error,
    },
    /// A bytes field is not base64.
    #[error("bundle field {field} is not base64")]
    Base64 {
        /// The field's path.
        field: String,
    },
    /// A oneof has zero or several members set.
    #[error("bundle field {field} must hold exactly one of {members}, found {count}")]
    Oneof {
        /// The message holding the oneof.
        field: &'static str,
        /// The members, for the message.
        members: &'static str,
        /// How many are set.
        count: usize,
    },
    /// An index or size that must not be negative is.
    #[error("bundle field {field} is negative")]
    Negative {
        /// The field's path.
        field: String,
    },
    /// `verificationMaterial` is absent.
    #[error("bundle has no verificationMaterial")]
    NoVerificationMaterial,
    /// The public key hint could not be computed.
    #[error("cannot compute the public key hint")]
    Hint {
        /// The key failure.
        #[source]
        source: key::Error,
    },
}

/// A parsed bundle. Bytes fields are decoded; int64 fields are numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The bundle media type, which encodes its version.
    pub media_type: String,
    /// How to verify the signature.
    pub verification_material: VerificationMaterial,
    /// What was signed.
    pub content: Content,
}

/// The signed content of a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A signature over an artifact digest (`cosign sign-blob`, hashedrekord).
    MessageSignature(MessageSignature),
    /// A DSSE envelope (attestations).
    DsseEnvelope(Envelope),
}

/// A plain signature over a message digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSignature {
    /// The digest of the signed message, when recorded.
    pub message_digest: Option<HashOutput>,
    /// The signature bytes.
    pub signature: Vec<u8>,
}

/// A digest with its algorithm name (`SHA2_256`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashOutput {
    /// The `HashAlgorithm` enum name.
    pub algorithm: String,
    /// The digest bytes.
    pub digest: Vec<u8>,
}

/// Verification material: who signed, and the log and timestamp evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationMaterial {
    /// The signer's key or certificate(s).
    pub signer: Signer,
    /// Transparency log entries (none for `--tlog-upload=false`).
    pub tlog_entries: Vec<TransparencyLogEntry>,
    /// RFC 3161 timestamps (DER), when present.
    pub timestamp_verification_data: Option<Vec<Vec<u8>>>,
}

/// The signer material oneof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// A key known to the verifier, named by a hint (cosign: base64 SHA-256 of the PKIX key).
    PublicKey {
        /// The hint.
        hint: String,
    },
    /// A certificate chain, leaf first (v0.1 and v0.2 bundles).
    X509CertificateChain(Vec<Vec<u8>>),
    /// A single leaf certificate, DER (v0.3).
    Certificate(Vec<u8>),
}

/// One Rekor entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransparencyLogEntry {
    /// The entry's global log index.
    pub log_index: i64,
    /// The log's key id (SHA-256 of its public key).
    pub log_id: Vec<u8>,
    /// The entry kind and version (`dsse` / `0.0.1`, …).
    pub kind_version: KindVersion,
    /// When the log integrated the entry, in Unix seconds.
    pub integrated_time: i64,
    /// The signed entry timestamp (SET), when present.
    pub inclusion_promise: Option<Vec<u8>>,
    /// The Merkle inclusion proof, when present (required from v0.2).
    pub inclusion_proof: Option<InclusionProof>,
    /// The canonicalised entry body as the log stores it.
    pub canonicalized_body: Vec<u8>,
}

/// A Rekor entry kind and version.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KindVersion {
    /// `dsse`, `intoto`, `hashedrekord`, …
    pub kind: String,
    /// `0.0.1`, …
    pub version: String,
}

/// A Merkle inclusion proof with its checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    /// The entry's index in its tree shard.
    pub log_index: i64,
    /// The tree root the proof leads to.
    pub root_hash: Vec<u8>,
    /// The tree size at that root.
    pub tree_size: i64,
    /// Sibling hashes, leaf to root.
    pub hashes: Vec<Vec<u8>>,
    /// The signed checkpoint note, when present.
    pub checkpoint: Option<String>,
}

impl Bundle {
    /// The bundle `cosign attest --key … --tlog-upload=false` writes (v3 default format): v0.3,
    /// the key's hint, no log entries, the envelope.
    pub fn for_key_signed_envelope(envelope: Envelope, key: &PublicKey) -> Result<Self, Error> {
        let hint = key::public_key_hint(key).map_err(|source| Error::Hint { source })?;
        Ok(Bundle {
            media_type: BUNDLE_V03_MEDIA_TYPE.to_owned(),
            verification_material: VerificationMaterial {
                signer: Signer::PublicKey { hint },
                tlog_entries: Vec::new(),
                timestamp_verification_data: None,
            },
            content: Content::DsseEnvelope(envelope),
        })
    }

    /// The bundle's `(major, minor)` version from its media type, or `None` for an unknown media
    /// type. cosign reads only bundles of version 0.3 and later from registries.
    pub fn version(&self) -> Option<(u32, u32)> {
        let version = self
            .media_type
            .strip_prefix("application/vnd.dev.sigstore.bundle.v")
            .and_then(|rest| rest.strip_suffix("+json"))
            .or_else(|| {
                self.media_type
                    .strip_prefix("application/vnd.dev.sigstore.bundle+json;version=")
            })?;
        let (major, minor) = version.split_once('.')?;
        Some((major.parse().ok()?, minor.parse().ok()?))
    }

    /// The DSSE envelope, if the bundle carries one.
    pub fn dsse_envelope(&self) -> Option<&Envelope> {
        match &self.content {
            Content::DsseEnvelope(envelope) => Some(envelope),
            Content::MessageSignature(_) => None,
        }
    }

    /// Parses bundle JSON as protojson does (unknown fields rejected; proto names accepted).
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        let wire: wire::Bundle =
            serde_json::from_slice(json).map_err(|source| Error::Json { source })?;
        from_wire(wire)
    }

    /// Serialises as cosign's protojson does (declaration order, defaults omitted, compact).
    pub fn to_json(&self) -> Vec<u8> {
        // Every field is a string, number or list of them: serialisation cannot fail.
        serde_json::to_vec(&to_wire(self)).unwrap_or_default()
    }
}

impl TransparencyLogEntry {
    /// Parses one protojson `TransparencyLogEntry` (what a Rekor v2 log answers an upload
    /// with), as a bundle's `tlogEntries` item is read.
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        let wire: wire::TransparencyLogEntry =
            serde_json::from_slice(json).map_err(|source| Error::Json { source })?;
        tlog_entry_from_wire(0, wire)
    }
}

fn bytes(field: &str, text: &str) -> Result<Vec<u8>, Error> {
    // Go's base64 decoder, under protojson, skips line breaks (real bundles made with
    // `base64` wrapping at 76 columns exist: conformance `rekor2-timestamp-with-incorrect-time`).
    let text: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    decode_lenient(&text).ok_or_else(|| Error::Base64 {
        field: field.to_owned(),
    })
}

fn from_wire(wire: wire::Bundle) -> Result<Bundle, Error> {
    let material = wire
        .verification_material
        .ok_or(Error::NoVerificationMaterial)?;
    let members = usize::from(material.public_key.is_some())
        + usize::from(material.x509_certificate_chain.is_some())
        + usize::from(material.certificate.is_some());
    let signer = match (
        material.public_key,
        material.x509_certificate_chain,
        material.certificate,
    ) {
        (Some(key), None, None) => Signer::PublicKey { hint: key.hint },
        (None, Some(chain), None) => Signer::X509CertificateChain(
            chain
                .certificates
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    bytes(
                        &format!("x509CertificateChain.certificates[{i}]"),
                        &c.raw_bytes,
                    )
                })
                .collect::<Result<_, _>>()?,
        ),
        (None, None, Some(certificate)) => {
            Signer::Certificate(bytes("certificate.rawBytes", &certificate.raw_bytes)?)
        }
        _ => {
            return Err(Error::Oneof {
                field: "verificationMaterial",
                members: "publicKey, x509CertificateChain, certificate",
                count: members,
            });
        }
    };
    let tlog_entries = material
        .tlog_entries
        .into_iter()
        .enumerate()
        .map(|(i, entry)| tlog_entry_from_wire(i, entry))
        .collect::<Result<_, _>>()?;
    let timestamp_verification_data = material
        .timestamp_verification_data
        .map(|data| {
            data.rfc3161_timestamps
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    bytes(
                        &format!("rfc3161Timestamps[{i}].signedTimestamp"),
                        &t.signed_timestamp,
                    )
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let content = match (wire.message_signature, wire.dsse_envelope) {
        (Some(message), None) => Content::MessageSignature(MessageSignature {
            message_digest: message
                .message_digest
                .map(|d| {
                    Ok::<_, Error>(HashOutput {
                        algorithm: d.algorithm,
                        digest: bytes("messageDigest.digest", &d.digest)?,
                    })
                })
                .transpose()?,
            signature: bytes("messageSignature.signature", &message.signature)?,
        }),
        (None, Some(envelope)) => Content::DsseEnvelope(envelope_from_wire(envelope)?),
        (message, envelope) => {
            return Err(Error::Oneof {
                field: "content",
                members: "messageSignature, dsseEnvelope",
                count: usize::from(message.is_some()) + usize::from(envelope.is_some()),
            });
        }
    };
    Ok(Bundle {
        media_type: wire.media_type,
        verification_material: VerificationMaterial {
            signer,
            tlog_entries,
            timestamp_verification_data,
        },
        content,
    })
}

fn tlog_entry_from_wire(
    i: usize,
    entry: wire::TransparencyLogEntry,
) -> Result<TransparencyLogEntry, Error> {
    let field = |name: &str| format!("tlogEntries[{i}].{name}");
    let negative = entry.log_index < 0
        || entry
            .inclusion_proof
            .as_ref()
            .is_some_and(|p| p.log_index < 0 || p.tree_size < 0);
    if negative {
        return Err(Error::Negative {
            field: field("logIndex"),
        });
    }
    let inclusion_proof = entry
        .inclusion_proof
        .map(|proof| {
            Ok::<_, Error>(InclusionProof {
                log_index: proof.log_index,
                root_hash: bytes(&field("inclusionProof.rootHash"), &proof.root_hash)?,
                tree_size: proof.tree_size,
                hashes: proof
                    .hashes
                    .iter()
                    .map(|h| bytes(&field("inclusionProof.hashes"), h))
                    .collect::<Result<_, _>>()?,
                checkpoint: proof.checkpoint.map(|c| c.envelope),
            })
        })
        .transpose()?;
    Ok(TransparencyLogEntry {
        log_index: entry.log_index,
        log_id: bytes(
            &field("logId.keyId"),
            &entry.log_id.map(|l| l.key_id).unwrap_or_default(),
        )?,
        kind_version: entry
            .kind_version
            .map(|k| KindVersion {
                kind: k.kind,
                version: k.version,
            })
            .unwrap_or_default(),
        integrated_time: entry.integrated_time,
        inclusion_promise: entry
            .inclusion_promise
            .map(|p| {
                bytes(
                    &field("inclusionPromise.signedEntryTimestamp"),
                    &p.signed_entry_timestamp,
                )
            })
            .transpose()?,
        inclusion_proof,
        canonicalized_body: bytes(&field("canonicalizedBody"), &entry.canonicalized_body)?,
    })
}

fn envelope_from_wire(envelope: wire::Envelope) -> Result<Envelope, Error> {
    let payload = bytes("dsseEnvelope.payload", &envelope.payload)?;
    let signatures = envelope
        .signatures
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            Ok(Signature {
                keyid: s.keyid.unwrap_or_default(),
                sig: bytes(&format!("dsseEnvelope.signatures[{i}].sig"), &s.sig)?,
            })
        })
        .collect::<Result<_, Error>>()?;
    Ok(Envelope {
        payload_type: envelope.payload_type,
        payload,
        signatures,
    })
}

fn to_wire(bundle: &Bundle) -> wire::Bundle {
    let material = &bundle.verification_material;
    let mut verification_material = wire::VerificationMaterial {
        public_key: None,
        x509_certificate_chain: None,
        certificate: None,
        tlog_entries: material
            .tlog_entries
            .iter()
            .map(tlog_entry_to_wire)
            .collect(),
        timestamp_verification_data: material.timestamp_verification_data.as_ref().map(|stamps| {
            wire::TimestampVerificationData {
                rfc3161_timestamps: stamps
                    .iter()
                    .map(|t| wire::Rfc3161Timestamp {
                        signed_timestamp: STANDARD.encode(t),
                    })
                    .collect(),
            }
        }),
    };
    match &material.signer {
        Signer::PublicKey { hint } => {
            verification_material.public_key =
                Some(wire::PublicKeyIdentifier { hint: hint.clone() });
        }
        Signer::X509CertificateChain(chain) => {
            verification_material.x509_certificate_chain = Some(wire::X509CertificateChain {
                certificates: chain
                    .iter()
                    .map(|c| wire::X509Certificate {
                        raw_bytes: STANDARD.encode(c),
                    })
                    .collect(),
            });
        }
        Signer::Certificate(der) => {
            verification_material.certificate = Some(wire::X509Certificate {
                raw_bytes: STANDARD.encode(der),
            });
        }
    }
    let (message_signature, dsse_envelope) = match &bundle.content {
        Content::MessageSignature(message) => (
            Some(wire::MessageSignature {
                message_digest: message.message_digest.as_ref().map(|d| wire::HashOutput {
                    algorithm: d.algorithm.clone(),
                    digest: STANDARD.encode(&d.digest),
                }),
                signature: STANDARD.encode(&message.signature),
            }),
            None,
        ),
        Content::DsseEnvelope(envelope) => (None, Some(envelope_to_wire(envelope))),
    };
    wire::Bundle {
        media_type: bundle.media_type.clone(),
        verification_material: Some(verification_material),
        message_signature,
        dsse_envelope,
    }
}

fn tlog_entry_to_wire(entry: &TransparencyLogEntry) -> wire::TransparencyLogEntry {
    wire::TransparencyLogEntry {
        log_index: entry.log_index,
        log_id: Some(wire::LogId {
            key_id: STANDARD.encode(&entry.log_id),
        }),
        kind_version: Some(wire::KindVersion {
            kind: entry.kind_version.kind.clone(),
            version: entry.kind_version.version.clone(),
        }),
        integrated_time: entry.integrated_time,
        inclusion_promise: entry
            .inclusion_promise
            .as_ref()
            .map(|set| wire::InclusionPromise {
                signed_entry_timestamp: STANDARD.encode(set),
            }),
        inclusion_proof: entry
            .inclusion_proof
            .as_ref()
            .map(|proof| wire::InclusionProof {
                log_index: proof.log_index,
                root_hash: STANDARD.encode(&proof.root_hash),
                tree_size: proof.tree_size,
                hashes: proof.hashes.iter().map(|h| STANDARD.encode(h)).collect(),
                checkpoint: proof.checkpoint.as_ref().map(|envelope| wire::Checkpoint {
                    envelope: envelope.clone(),
                }),
            }),
        canonicalized_body: STANDARD.encode(&entry.canonicalized_body),
    }
}

fn envelope_to_wire(envelope: &Envelope) -> wire::Envelope {
    wire::Envelope {
        payload: STANDARD.encode(&envelope.payload),
        payload_type: envelope.payload_type.clone(),
        signatures: envelope
            .signatures
            .iter()
            .map(|s| wire::Signature {
                sig: STANDARD.encode(&s.sig),
                keyid: Some(s.keyid.clone()),
            })
            .collect(),
    }
}

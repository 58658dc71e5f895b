//! The protobuf-JSON shape of a Sigstore bundle, field for field, as Go protojson reads and
//! writes it.
//!
//! Not for: the typed bundle callers use ([`super`]). Reproduces `sigstore/protobuf-specs`
//! `sigstore_bundle.proto`, `sigstore_common.proto`, `sigstore_rekor.proto` and `envelope.proto`
//! (reference/cosign-attestations.md §3.5): members in declaration order (the order protojson
//! writes), proto names accepted as aliases on read, unknown fields rejected, int64 as strings,
//! bytes as standard base64, default values (empty, zero, absent) omitted on write.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Bundle {
    #[serde(
        default,
        alias = "media_type",
        skip_serializing_if = "String::is_empty"
    )]
    pub media_type: String,
    #[serde(
        alias = "verification_material",
        skip_serializing_if = "Option::is_none"
    )]
    pub verification_material: Option<VerificationMaterial>,
    #[serde(alias = "message_signature", skip_serializing_if = "Option::is_none")]
    pub message_signature: Option<MessageSignature>,
    #[serde(alias = "dsse_envelope", skip_serializing_if = "Option::is_none")]
    pub dsse_envelope: Option<Envelope>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VerificationMaterial {
    #[serde(alias = "public_key", skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyIdentifier>,
    #[serde(
        alias = "x509_certificate_chain",
        skip_serializing_if = "Option::is_none"
    )]
    pub x509_certificate_chain: Option<X509CertificateChain>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<X509Certificate>,
    #[serde(default, alias = "tlog_entries", skip_serializing_if = "Vec::is_empty")]
    pub tlog_entries: Vec<TransparencyLogEntry>,
    #[serde(
        alias = "timestamp_verification_data",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp_verification_data: Option<TimestampVerificationData>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicKeyIdentifier {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hint: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct X509CertificateChain {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<X509Certificate>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct X509Certificate {
    #[serde(default, alias = "raw_bytes", skip_serializing_if = "String::is_empty")]
    pub raw_bytes: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TransparencyLogEntry {
    #[serde(
        default,
        alias = "log_index",
        with = "int64",
        skip_serializing_if = "is_zero"
    )]
    pub log_index: i64,
    #[serde(alias = "log_id", skip_serializing_if = "Option::is_none")]
    pub log_id: Option<LogId>,
    #[serde(alias = "kind_version", skip_serializing_if = "Option::is_none")]
    pub kind_version: Option<KindVersion>,
    #[serde(
        default,
        alias = "integrated_time",
        with = "int64",
        skip_serializing_if = "is_zero"
    )]
    pub integrated_time: i64,
    #[serde(alias = "inclusion_promise", skip_serializing_if = "Option::is_none")]
    pub inclusion_promise: Option<InclusionPromise>,
    #[serde(alias = "inclusion_proof", skip_serializing_if = "Option::is_none")]
    pub inclusion_proof: Option<InclusionProof>,
    #[serde(
        default,
        alias = "canonicalized_body",
        skip_serializing_if = "String::is_empty"
    )]
    pub canonicalized_body: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogId {
    #[serde(default, alias = "key_id", skip_serializing_if = "String::is_empty")]
    pub key_id: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindVersion {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InclusionPromise {
    #[serde(
        default,
        alias = "signed_entry_timestamp",
        skip_serializing_if = "String::is_empty"
    )]
    pub signed_entry_timestamp: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InclusionProof {
    #[serde(
        default,
        alias = "log_index",
        with = "int64",
        skip_serializing_if = "is_zero"
    )]
    pub log_index: i64,
    #[serde(default, alias = "root_hash", skip_serializing_if = "String::is_empty")]
    pub root_hash: String,
    #[serde(
        default,
        alias = "tree_size",
        with = "int64",
        skip_serializing_if = "is_zero"
    )]
    pub tree_size: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hashes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub envelope: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TimestampVerificationData {
    #[serde(
        default,
        alias = "rfc3161_timestamps",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub rfc3161_timestamps: Vec<Rfc3161Timestamp>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rfc3161Timestamp {
    #[serde(
        default,
        alias = "signed_timestamp",
        skip_serializing_if = "String::is_empty"
    )]
    pub signed_timestamp: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MessageSignature {
    #[serde(alias = "message_digest", skip_serializing_if = "Option::is_none")]
    pub message_digest: Option<HashOutput>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub signature: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashOutput {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub algorithm: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
}

/// `io.intoto.Envelope`: protojson order payload, payloadType, signatures.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Envelope {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub payload: String,
    #[serde(
        default,
        alias = "payload_type",
        skip_serializing_if = "String::is_empty"
    )]
    pub payload_type: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<Signature>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sig: String,
    #[serde(default, skip_serializing_if = "keyid_is_empty")]
    pub keyid: Option<String>,
}

fn keyid_is_empty(keyid: &Option<String>) -> bool {
    keyid.as_deref().is_none_or(str::is_empty)
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

/// protojson int64: written as a decimal string, read from a string or a number.
mod int64 {
    use super::*;

    pub fn serialize<S: serde::Serializer>(value: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Int64 {
            Text(String),
            Number(i64),
        }
        match Int64::deserialize(deserializer)? {
            Int64::Number(number) => Ok(number),
            Int64::Text(text) => text.parse().map_err(|_| {
                de::Error::invalid_value(de::Unexpected::Str(&text), &"a decimal int64")
            }),
        }
    }
}

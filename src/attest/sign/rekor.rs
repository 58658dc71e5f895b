//! Logging a signed envelope in a Rekor v1 transparency log, as cosign does before it attaches
//! an attestation: a `dsse` v0.0.1 proposed entry (`POST /api/v1/log/entries`), and the log's
//! answer turned into the bundle's `tlogEntries` item and the legacy
//! `dev.sigstore.cosign/bundle` annotation.
//!
//! The answer is checked before it is used: the logged body must record our signature, signer
//! and payload hash, and the inclusion proof must lead from the body to the root hash it
//! names. The SET and checkpoint signatures are the verifier's business (it holds the log key
//! from the trusted root); sigstore-go's signer does not check them either.
//!
//! Not for: verifying log evidence (`attest::verify::rekor`), the bundle format
//! ([`crate::attest::bundle`]). Reproduces reference/cosign-attestations.md §7.1 (entry body,
//! annotation) and rekor's `dsse` v0.0.1 type (`pkg/types/dsse/v0.0.1`) and `LogEntry` API
//! model (`openapi.yaml`).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::http::{self, Request};
use crate::attest::bundle::{InclusionProof, KindVersion, TransparencyLogEntry};
use crate::attest::dsse::Envelope;
use crate::attest::verify::rekor as evidence;

/// The service name in errors.
const SERVICE: &str = "Rekor";

/// Why an entry could not be logged.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No answer.
    #[error(transparent)]
    Http(#[from] http::Error),
    /// The entry exists already (409): Rekor refuses to log the same envelope twice.
    #[error("Rekor at {url} refused the entry: it is already in the log ({existing})")]
    Conflict {
        /// The URL posted to.
        url: String,
        /// The existing entry's location, as the log names it.
        existing: String,
    },
    /// Any other refusal.
    #[error("Rekor at {url} refused the entry: HTTP {status}: {message}")]
    Refused {
        /// The URL posted to.
        url: String,
        /// The status.
        status: u16,
        /// The log's message.
        message: String,
    },
    /// The signature cannot be logged in this log at all.
    #[error("Rekor at {url} cannot log this signature: {reason}")]
    Unsupported {
        /// The log's entries URL.
        url: String,
        /// Why.
        reason: &'static str,
    },
    /// The answer is not a log entry, or not the entry that was sent.
    #[error("Rekor at {url} answered with an unusable entry: {reason}")]
    Answer {
        /// The URL posted to.
        url: String,
        /// What is wrong.
        reason: String,
    },
}

/// An entry the log integrated, in the two shapes cosign stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// The bundle's `tlogEntries` item.
    pub entry: TransparencyLogEntry,
    /// The legacy `dev.sigstore.cosign/bundle` annotation (SET and payload).
    pub annotation: String,
}

/// The `dsse` v0.0.1 proposed entry: the envelope exactly as stored (its hash is logged) and
/// the signer's PEM key or certificate.
#[derive(Serialize)]
struct Proposed<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    spec: ProposedSpec<'a>,
}

#[derive(Serialize)]
struct ProposedSpec<'a> {
    #[serde(rename = "proposedContent")]
    proposed_content: ProposedContent<'a>,
}

#[derive(Serialize)]
struct ProposedContent<'a> {
    envelope: &'a str,
    verifiers: Vec<String>,
}

/// Rekor's `LogEntryAnon`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogEntry {
    body: String,
    integrated_time: i64,
    #[serde(rename = "logID")]
    log_id: String,
    log_index: i64,
    verification: Option<Verification>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Verification {
    inclusion_proof: Option<WireProof>,
    signed_entry_timestamp: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireProof {
    checkpoint: Option<String>,
    hashes: Vec<String>,
    log_index: i64,
    root_hash: String,
    tree_size: i64,
}

/// cosign's Rekor bundle annotation, in its Go field order.
#[derive(Serialize)]
struct Annotation<'a> {
    #[serde(rename = "SignedEntryTimestamp")]
    set: &'a str,
    #[serde(rename = "Payload")]
    payload: AnnotationPayload<'a>,
}

#[derive(Serialize)]
struct AnnotationPayload<'a> {
    body: &'a str,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logIndex")]
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: &'a str,
}

/// The entries endpoint under a log's base URL.
pub fn entries_url(base: &str) -> String {
    format!("{}/api/v1/log/entries", base.trim_end_matches('/'))
}

/// POSTs a proposed entry (JSON) to a log's entries endpoint `url`, v1 or v2 alike (`service`
/// names which in transport errors), and returns the answer when the log accepted it: a 409
/// names the entry already there, any other status but 200 and 201 is a refusal with the log's
/// own words.
pub(super) fn post_entry(
    service: &'static str,
    url: &str,
    body: Vec<u8>,
) -> Result<http::Answer, Error> {
    let answer = http::exchange(
        service,
        Request {
            method: reqwest::Method::POST,
            url,
            content_type: "application/json",
            body,
            bearer: None,
        },
    )?;
    match answer.status {
        200 | 201 => Ok(answer),
        409 => Err(Error::Conflict {
            url: url.to_owned(),
            existing: answer.location.clone().unwrap_or_else(|| answer.excerpt()),
        }),
        status => Err(Error::Refused {
            url: url.to_owned(),
            status,
            message: answer.excerpt(),
        }),
    }
}

/// Logs `envelope` (stored as `envelope_json`) signed by `signer_pem` (a PEM public key or
/// certificate) in the Rekor v1 log at `base`.
pub fn log_envelope(
    base: &str,
    envelope: &Envelope,
    envelope_json: &[u8],
    signer_pem: &str,
) -> Result<Logged, Error> {
    let url = entries_url(base);
    let answer_error = |reason: &str| Error::Answer {
        url: url.clone(),
        reason: reason.to_owned(),
    };
    let envelope_text =
        std::str::from_utf8(envelope_json).map_err(|_| answer_error("envelope is not UTF-8"))?;
    let proposed = Proposed {
        api_version: "0.0.1",
        kind: "dsse",
        spec: ProposedSpec {
            proposed_content: ProposedContent {
                envelope: envelope_text,
                verifiers: vec![STANDARD.encode(signer_pem)],
            },
        },
    };
    let body = serde_json::to_vec(&proposed).map_err(|_| answer_error("cannot encode"))?;
    let answer = post_entry(SERVICE, &url, body)?;
    let entries: BTreeMap<String, LogEntry> = serde_json::from_slice(&answer.body)
        .map_err(|e| answer_error(&format!("not a log entry: {e}")))?;
    let mut entries = entries.into_values();
    let (Some(entry), None) = (entries.next(), entries.next()) else {
        return Err(answer_error("expected exactly one entry"));
    };
    to_logged(entry, envelope, signer_pem).map_err(|reason| Error::Answer { url, reason })
}

fn to_logged(entry: LogEntry, envelope: &Envelope, signer_pem: &str) -> Result<Logged, String> {
    let canonicalized_body = STANDARD
        .decode(&entry.body)
        .map_err(|_| "body is not base64".to_owned())?;
    let log_id = hex::decode(&entry.log_id).map_err(|_| "logID is not hex".to_owned())?;
    let verification = entry
        .verification
        .ok_or_else(|| "no verification (SET and inclusion proof)".to_owned())?;
    let set_text = verification
        .signed_entry_timestamp
        .ok_or_else(|| "no signed entry timestamp".to_owned())?;
    let set = STANDARD
        .decode(&set_text)
        .map_err(|_| "signed entry timestamp is not base64".to_owned())?;
    let proof = verification
        .inclusion_proof
        .ok_or_else(|| "no inclusion proof".to_owned())?;
    let hex_field = |name: &str, text: &str| {
        hex::decode(text).map_err(|_| format!("inclusion proof {name} is not hex"))
    };
    let inclusion_proof = InclusionProof {
        log_index: proof.log_index,
        root_hash: hex_field("rootHash", &proof.root_hash)?,
        tree_size: proof.tree_size,
        hashes: proof
            .hashes
            .iter()
            .map(|h| hex_field("hashes", h))
            .collect::<Result<_, _>>()?,
        checkpoint: proof.checkpoint,
    };
    check_body(&canonicalized_body, envelope, signer_pem)?;
    evidence::verify_inclusion(
        &evidence::Proof {
            global_index: entry.log_index,
            index: inclusion_proof.log_index,
            tree_size: inclusion_proof.tree_size,
            root_hash: &inclusion_proof.root_hash,
            hashes: &inclusion_proof.hashes,
        },
        &canonicalized_body,
    )
    .map_err(|e| e.to_string())?;
    let annotation = serde_json::to_string(&Annotation {
        set: &set_text,
        payload: AnnotationPayload {
            body: &entry.body,
            integrated_time: entry.integrated_time,
            log_index: entry.log_index,
            log_id: &entry.log_id,
        },
    })
    .map_err(|e| e.to_string())?;
    Ok(Logged {
        entry: TransparencyLogEntry {
            log_index: entry.log_index,
            log_id,
            kind_version: KindVersion {
                kind: "dsse".to_owned(),
                version: "0.0.1".to_owned(),
            },
            integrated_time: entry.integrated_time,
            inclusion_promise: Some(set),
            inclusion_proof: Some(inclusion_proof),
            canonicalized_body,
        },
        annotation,
    })
}

/// The logged body must be a `dsse` entry of our signature by our signer over our payload.
fn check_body(body: &[u8], envelope: &Envelope, signer_pem: &str) -> Result<(), String> {
    let parsed = evidence::parse_body(body).map_err(|e| e.to_string())?;
    if (parsed.kind.as_str(), parsed.version.as_str()) != ("dsse", "0.0.1") {
        return Err(format!(
            "logged as {} {}, not dsse 0.0.1",
            parsed.kind, parsed.version
        ));
    }
    let [signature] = envelope.signatures.as_slice() else {
        return Err("the envelope must hold one signature".to_owned());
    };
    let signer_der = crate::attest::key::pem::decode(signer_pem.as_bytes())
        .map_err(|e| e.to_string())?
        .body;
    evidence::check_bundle_body(
        &parsed,
        &signature.sig,
        &signer_der,
        &Sha256::digest(&envelope.payload),
    )
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attest::key::PrivateKey;

    /// What an honest log answers for `envelope` signed by `pem`, at index 0 of a one-leaf tree.
    fn answer(envelope: &Envelope, signed_sig: &[u8], pem: &str) -> LogEntry {
        let body = serde_json::json!({
            "apiVersion": "0.0.1", "kind": "dsse",
            "spec": {
                "envelopeHash": {"algorithm": "sha256", "value": "00"},
                "payloadHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(&envelope.payload))},
                "signatures": [{"signature": STANDARD.encode(signed_sig), "verifier": STANDARD.encode(pem)}]
            }
        })
        .to_string();
        LogEntry {
            body: STANDARD.encode(&body),
            integrated_time: 1_800_000_000,
            log_id: "ab".repeat(32),
            log_index: 0,
            verification: Some(Verification {
                inclusion_proof: Some(WireProof {
                    checkpoint: Some("note".into()),
                    hashes: Vec::new(),
                    log_index: 0,
                    root_hash: hex::encode(evidence::leaf_hash(body.as_bytes())),
                    tree_size: 1,
                }),
                signed_entry_timestamp: Some(STANDARD.encode(b"set")),
            }),
        }
    }

    #[test]
    fn the_logged_entry_must_record_our_signature_signer_and_proof() {
        let key = PrivateKey::generate_ecdsa_p256().unwrap();
        let pem = key.public_key().to_pem().unwrap();
        let envelope = Envelope::sign("text/plain", b"hello".to_vec(), &key).unwrap();
        let sig = envelope.signatures[0].sig.clone();
        let logged = to_logged(answer(&envelope, &sig, &pem), &envelope, &pem).unwrap();
        assert_eq!(logged.entry.kind_version.kind, "dsse");
        assert_eq!(logged.entry.inclusion_promise.as_deref(), Some(&b"set"[..]));
        assert!(
            logged
                .annotation
                .starts_with(r#"{"SignedEntryTimestamp":"c2V0","Payload":{"body":"#)
        );
        // Another signature, another signer, a proof to another root: refused.
        let other = PrivateKey::generate_ecdsa_p256().unwrap();
        let other_pem = other.public_key().to_pem().unwrap();
        let wrong_sig = to_logged(answer(&envelope, b"other", &pem), &envelope, &pem);
        assert!(wrong_sig.unwrap_err().contains("signature differs"));
        let wrong_signer = to_logged(answer(&envelope, &sig, &other_pem), &envelope, &pem);
        assert!(
            wrong_signer
                .unwrap_err()
                .contains("key or certificate differs")
        );
        let mut bad_proof = answer(&envelope, &sig, &pem);
        if let Some(proof) = bad_proof
            .verification
            .as_mut()
            .and_then(|v| v.inclusion_proof.as_mut())
        {
            proof.root_hash = "00".repeat(32);
        }
        assert!(
            to_logged(bad_proof, &envelope, &pem)
                .unwrap_err()
                .contains("inclusion proof")
        );
    }
}

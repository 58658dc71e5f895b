//! Rekor evidence: the signed entry timestamp (SET), RFC 6962 inclusion proofs, signed-note
//! checkpoints, and the entry body's agreement with what was signed (`dsse` v0.0.1, `intoto`
//! v0.0.1/v0.0.2, `hashedrekord` v0.0.1).
//!
//! Not for: choosing which checks a path needs ([`super`]). Reproduces
//! reference/cosign-attestations.md §7.1–§7.4 (rekor `pkg/types`, sigstore-go `pkg/tlog`,
//! `pkg/verify/tlog.go`). Pure.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::signature::{self, Hash};
use super::trust::LogKey;
use crate::attest::dsse::decode_lenient;
use crate::attest::key::pem;

/// Why log evidence failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The SET signature is wrong.
    #[error("transparency log entry {log_index}: signed entry timestamp does not verify")]
    Set {
        /// The entry.
        log_index: i64,
    },
    /// The inclusion proof does not lead to the root hash.
    #[error("transparency log entry {log_index}: inclusion proof does not verify: {reason}")]
    Proof {
        /// The entry.
        log_index: i64,
        /// Why.
        reason: String,
    },
    /// The checkpoint is malformed, unsigned, or disagrees with the proof.
    #[error("transparency log entry {log_index}: checkpoint invalid: {reason}")]
    Checkpoint {
        /// The entry.
        log_index: i64,
        /// Why.
        reason: String,
    },
    /// The body is not a Rekor entry this verifier reads.
    #[error("transparency log entry body: {reason}")]
    Body {
        /// Why.
        reason: String,
    },
    /// The body records something other than what was signed.
    #[error("transparency log entry does not match the signed content: {reason}")]
    Mismatch {
        /// What differs.
        reason: String,
    },
    /// Legacy path: the layer's hash is not the one logged.
    #[error("matching bundle to payload: bundle={bundle}, payload={payload}")]
    PayloadHash {
        /// The logged hash.
        bundle: String,
        /// The layer's hash.
        payload: String,
    },
}

/// The fields an entry's SET signs.
#[derive(Debug, Clone)]
pub struct SetPayload<'a> {
    /// The canonicalised body bytes.
    pub body: &'a [u8],
    /// Integration time, Unix seconds.
    pub integrated_time: i64,
    /// The log id.
    pub log_id: &'a [u8],
    /// The global log index.
    pub log_index: i64,
}

/// Verifies a SET: ECDSA over SHA-256 of the canonical JSON of body, time, log id and index.
pub fn verify_set(payload: &SetPayload<'_>, set: &[u8], key: &LogKey) -> Result<(), Error> {
    // Keys sorted as RFC 8785 orders them; every value is a string or an integer.
    let canonical = format!(
        "{{\"body\":\"{}\",\"integratedTime\":{},\"logID\":\"{}\",\"logIndex\":{}}}",
        STANDARD.encode(payload.body),
        payload.integrated_time,
        hex::encode(payload.log_id),
        payload.log_index
    );
    signature::verify(&key.key, Hash::Sha256, canonical.as_bytes(), set).map_err(|_| Error::Set {
        log_index: payload.log_index,
    })
}

/// The RFC 6962 leaf hash of an entry body.
pub fn leaf_hash(body: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(body);
    hasher.finalize().into()
}

fn node_hash(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// An inclusion proof with the entry it proves.
#[derive(Debug, Clone)]
pub struct Proof<'a> {
    /// The entry's global index (for messages).
    pub global_index: i64,
    /// The index within the tree.
    pub index: i64,
    /// The tree size.
    pub tree_size: i64,
    /// The root hash.
    pub root_hash: &'a [u8],
    /// Sibling hashes.
    pub hashes: &'a [Vec<u8>],
}

/// Verifies an RFC 9162 §2.1.3.2 inclusion proof of `body`.
pub fn verify_inclusion(proof: &Proof<'_>, body: &[u8]) -> Result<(), Error> {
    let fail = |reason: &str| Error::Proof {
        log_index: proof.global_index,
        reason: reason.to_owned(),
    };
    if proof.index < 0 || proof.tree_size <= 0 || proof.index >= proof.tree_size {
        return Err(fail("index outside the tree"));
    }
    let mut fn_ = proof.index as u64;
    let mut sn = (proof.tree_size - 1) as u64;
    let mut r = leaf_hash(body);
    for p in proof.hashes {
        if sn == 0 {
            return Err(fail("proof longer than the path"));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(fail("proof shorter than the path"));
    }
    if r.as_slice() != proof.root_hash {
        return Err(fail("computed root differs from the root hash"));
    }
    Ok(())
}

/// What a parsed entry body records.
#[derive(Debug, Clone, Default)]
pub struct Body {
    /// `kind` (`dsse`, `intoto`, `hashedrekord`).
    pub kind: String,
    /// `apiVersion`.
    pub version: String,
    /// SHA-256 (hex) of the whole envelope as uploaded (`dsse` envelopeHash, `intoto`
    /// content.hash), when recorded.
    pub envelope_hash: Option<String>,
    /// SHA-256 (hex) of the payload (`dsse` payloadHash, `intoto` v0.0.2 payloadHash), or of the
    /// artifact (`hashedrekord`).
    pub payload_hash: Option<String>,
    /// Signatures recorded, each with the signer's key or certificate DER.
    pub signatures: Vec<(Vec<u8>, Vec<u8>)>,
    /// `hashedrekord` 0.0.2: the digest's `HashAlgorithm` name (`SHA2_256`, …).
    pub digest_algorithm: Option<String>,
    /// `hashedrekord` 0.0.2: the verifier's `keyDetails`.
    pub key_details: Option<String>,
}

impl Body {
    /// Whether this is a Rekor v2 entry (`hashedrekord` 0.0.2, no integrated time or SET).
    pub fn is_rekor_v2(&self) -> bool {
        self.kind == "hashedrekord" && self.version == "0.0.2"
    }
}

/// Parses a canonicalised body of a supported kind.
pub fn parse_body(body: &[u8]) -> Result<Body, Error> {
    let fail = |reason: &str| Error::Body {
        reason: reason.to_owned(),
    };
    let value: Value = serde_json::from_slice(body).map_err(|_| fail("not JSON"))?;
    let text = |v: &Value, path: &str| v.pointer(path).and_then(Value::as_str).map(str::to_owned);
    let kind = text(&value, "/kind").ok_or_else(|| fail("no kind"))?;
    let version = text(&value, "/apiVersion").ok_or_else(|| fail("no apiVersion"))?;
    let sha256 = |hash: Option<&Value>| -> Option<String> {
        let hash = hash?;
        (hash.get("algorithm")?.as_str()? == "sha256")
            .then(|| hash.get("value")?.as_str().map(str::to_owned))?
    };
    let verifier = |encoded: &str| -> Result<Vec<u8>, Error> {
        let text = decode_lenient(encoded).ok_or_else(|| fail("verifier is not base64"))?;
        pem::decode(&text)
            .map(|block| block.body)
            .map_err(|_| fail("verifier is not PEM"))
    };
    let mut out = Body {
        kind: kind.clone(),
        version: version.clone(),
        ..Body::default()
    };
    match (kind.as_str(), version.as_str()) {
        ("dsse", "0.0.1") => {
            out.envelope_hash = sha256(value.pointer("/spec/envelopeHash"));
            out.payload_hash = sha256(value.pointer("/spec/payloadHash"));
            for s in value
                .pointer("/spec/signatures")
                .and_then(Value::as_array)
                .ok_or_else(|| fail("dsse entry without signatures"))?
            {
                let sig = text(s, "/signature")
                    .and_then(|t| decode_lenient(&t))
                    .ok_or_else(|| fail("dsse signature is not base64"))?;
                let key = verifier(&text(s, "/verifier").unwrap_or_default())?;
                out.signatures.push((sig, key));
            }
        }
        ("intoto", "0.0.1") => {
            out.envelope_hash = sha256(value.pointer("/spec/content/hash"));
            let key = verifier(&text(&value, "/spec/publicKey").unwrap_or_default())?;
            out.signatures.push((Vec::new(), key));
        }
        ("intoto", "0.0.2") => {
            out.envelope_hash = sha256(value.pointer("/spec/content/hash"));
            out.payload_hash = sha256(value.pointer("/spec/content/payloadHash"));
            for s in value
                .pointer("/spec/content/envelope/signatures")
                .and_then(Value::as_array)
                .ok_or_else(|| fail("intoto entry without signatures"))?
            {
                // v0.0.2 stores the signature base64-encoded once more; accept either.
                let once = text(s, "/sig")
                    .and_then(|t| decode_lenient(&t))
                    .ok_or_else(|| fail("intoto signature is not base64"))?;
                let sig = std::str::from_utf8(&once)
                    .ok()
                    .and_then(decode_lenient)
                    .unwrap_or(once);
                let key = verifier(&text(s, "/publicKey").unwrap_or_default())?;
                out.signatures.push((sig, key));
            }
        }
        ("hashedrekord", "0.0.1") => {
            out.payload_hash = sha256(value.pointer("/spec/data/hash"));
            let sig = text(&value, "/spec/signature/content")
                .and_then(|t| decode_lenient(&t))
                .ok_or_else(|| fail("hashedrekord signature is not base64"))?;
            let key =
                verifier(&text(&value, "/spec/signature/publicKey/content").unwrap_or_default())?;
            out.signatures.push((sig, key));
        }
        ("hashedrekord", "0.0.2") => parse_hashedrekord_v2(&value, &mut out)?,
        _ => return Err(fail(&format!("unsupported entry kind {kind} {version}"))),
    }
    Ok(out)
}

/// Reads Rekor v2's `hashedRekordV002` spec (rekor-tiles `HashedRekordLogEntryV002`): the
/// digest and its algorithm, the signature, and the verifier's key or certificate.
fn parse_hashedrekord_v2(value: &Value, out: &mut Body) -> Result<(), Error> {
    let fail = |reason: &str| Error::Body {
        reason: reason.to_owned(),
    };
    let spec = value
        .pointer("/spec/hashedRekordV002")
        .ok_or_else(|| fail("hashedrekord 0.0.2 entry without hashedRekordV002"))?;
    let bytes = |path: &str, what: &str| {
        spec.pointer(path)
            .and_then(Value::as_str)
            .and_then(decode_lenient)
            .ok_or_else(|| {
                fail(&format!(
                    "hashedrekord 0.0.2 {what} is missing or not base64"
                ))
            })
    };
    let digest = bytes("/data/digest", "data.digest")?;
    out.digest_algorithm = spec
        .pointer("/data/algorithm")
        .and_then(Value::as_str)
        .map(str::to_owned);
    out.payload_hash = Some(hex::encode(digest));
    let signature = bytes("/signature/content", "signature.content")?;
    let verifier = bytes("/signature/verifier/x509Certificate/rawBytes", "verifier")
        .or_else(|_| bytes("/signature/verifier/publicKey/rawBytes", "verifier"))?;
    out.key_details = spec
        .pointer("/signature/verifier/keyDetails")
        .and_then(Value::as_str)
        .map(str::to_owned);
    out.signatures.push((signature, verifier));
    Ok(())
}

/// Bundle path (sigstore-go): the body must record this signature by this key or certificate
/// and, for DSSE entries, the payload's hash (not the envelope's); for `hashedrekord`, the
/// artifact digest.
pub fn check_bundle_body(
    body: &Body,
    signature: &[u8],
    signer_der: &[u8],
    payload_sha256: &[u8],
) -> Result<(), Error> {
    let mismatch = |reason: &str| Error::Mismatch {
        reason: reason.to_owned(),
    };
    if body.kind == "intoto" && body.version == "0.0.1" {
        return Err(mismatch(
            "intoto v0.0.1 entries cannot be checked against a bundle",
        ));
    }
    let [(logged_sig, logged_signer)] = body.signatures.as_slice() else {
        return Err(mismatch("the entry must hold exactly one signature"));
    };
    // What was logged first (the artifact or payload), then by whom.
    if body.payload_hash.as_deref() != Some(hex::encode(payload_sha256).as_str()) {
        return Err(mismatch("payload hash differs"));
    }
    if logged_sig != signature {
        return Err(mismatch("signature differs"));
    }
    if logged_signer != signer_der {
        return Err(mismatch("key or certificate differs"));
    }
    Ok(())
}

/// Legacy path (cosign `VerifyBundle`): the logged key or certificate must be the signer's, and
/// the logged envelope hash must be the SHA-256 of the layer bytes.
pub fn check_legacy_body(body: &Body, signer_der: &[u8], layer: &[u8]) -> Result<(), Error> {
    let [(_, logged_signer)] = body.signatures.as_slice() else {
        return Err(Error::Mismatch {
            reason: "the entry must hold exactly one signature".to_owned(),
        });
    };
    if logged_signer != signer_der {
        return Err(Error::Mismatch {
            reason: "key or certificate differs".to_owned(),
        });
    }
    let payload = hex::encode(Sha256::digest(layer));
    let bundle = body.envelope_hash.clone().unwrap_or_default();
    if bundle != payload {
        return Err(Error::PayloadHash { bundle, payload });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proof_of_four_leaves() {
        let leaves: Vec<[u8; 32]> = (0u8..4).map(|i| leaf_hash(&[i])).collect();
        let left = node_hash(&leaves[0], &leaves[1]);
        let right = node_hash(&leaves[2], &leaves[3]);
        let root = node_hash(&left, &right);
        let hashes = vec![leaves[3].to_vec(), left.to_vec()];
        let proof = Proof {
            global_index: 2,
            index: 2,
            tree_size: 4,
            root_hash: &root,
            hashes: &hashes,
        };
        verify_inclusion(&proof, &[2]).unwrap();
        assert!(verify_inclusion(&proof, &[3]).is_err());
    }

    #[test]
    fn proof_of_three_leaves_last() {
        let leaves: Vec<[u8; 32]> = (0u8..3).map(|i| leaf_hash(&[i])).collect();
        let left = node_hash(&leaves[0], &leaves[1]);
        let root = node_hash(&left, &leaves[2]);
        let hashes = vec![left.to_vec()];
        let proof = Proof {
            global_index: 2,
            index: 2,
            tree_size: 3,
            root_hash: &root,
            hashes: &hashes,
        };
        verify_inclusion(&proof, &[2]).unwrap();
    }
}

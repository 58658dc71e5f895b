//! Logging a signed envelope in a Rekor v2 transparency log (rekor-tiles), as sigstore-python
//! and sigstore-go do when the signing config names a v2 log: the v2 specification takes a DSSE
//! envelope only as a `hashedrekord` 0.0.2 entry whose digest is the
//! hash of the DSSE pre-authentication encoding and whose signature is the envelope's
//! (rekor-v2-spec §6.1.4; sigstore-python `RekorV2Client._build_dsse_request`; sigstore-go
//! `pkg/sign/transparency.go` since its #627, which had sent `dsse` 0.0.2 before), posted to
//! `/api/v2/log/entries`. The log answers with the bundle's `TransparencyLogEntry` itself: an
//! inclusion proof and a signed checkpoint, and no integrated time or SET, so a verifier needs
//! a signed timestamp from a TSA beside it.
//!
//! The answer is checked before it is used, as for v1 ([`super::rekor`]): the logged body must
//! record our digest, signature, signer and key scheme, and the inclusion proof must lead from
//! the body to the root it names. The checkpoint signature is the verifier's business.
//! Ed25519 keys are refused: their signatures are not over a digest (sigstore-go requires
//! Ed25519ph for Rekor v2).
//!
//! Not for: Rekor v1 ([`super::rekor`]), verifying log evidence (`attest::verify`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::rekor::{self, Error};
use crate::attest::bundle::TransparencyLogEntry;
use crate::attest::dsse::{self, Envelope};
use crate::attest::key::PublicKey;
use crate::attest::verify::artifact::DigestAlgorithm;
use crate::attest::verify::{key_details, rekor as evidence, signature};

const SERVICE: &str = "Rekor v2";

/// Who signed: the Fulcio leaf (keyless) or the key (`--key`), as DER.
#[derive(Debug, Clone, Copy)]
pub enum Verifier<'a> {
    /// The leaf certificate's DER.
    Certificate(&'a [u8]),
    /// The public key's PKIX DER.
    PublicKey(&'a [u8]),
}

/// The entries endpoint under a v2 log's base URL.
pub fn entries_url(base: &str) -> String {
    format!("{}/api/v2/log/entries", base.trim_end_matches('/'))
}

/// The digest a Rekor v2 entry records for `envelope` signed by `key`: the PAE hashed with the
/// hash of the key's default scheme (SHA-256 for Ed25519), as the verifiers recompute it.
fn pae_digest(envelope: &Envelope, key: &PublicKey) -> (DigestAlgorithm, Vec<u8>) {
    let algorithm = match key_details::default_scheme(key).hash {
        signature::Hash::Sha384 => DigestAlgorithm::Sha384,
        signature::Hash::Sha512 => DigestAlgorithm::Sha512,
        _ => DigestAlgorithm::Sha256,
    };
    let pae = dsse::pae(&envelope.payload_type, &envelope.payload);
    (algorithm, signature::digest(algorithm.hash(), &pae))
}

/// Logs `envelope`, signed by `key` (`verifier` names it in the entry), in the Rekor v2 log at
/// `base`; returns the entry for the bundle.
pub fn log_envelope(
    base: &str,
    envelope: &Envelope,
    key: &PublicKey,
    verifier: Verifier<'_>,
) -> Result<TransparencyLogEntry, Error> {
    let url = entries_url(base);
    let answer_error = |reason: String| Error::Answer {
        url: url.clone(),
        reason,
    };
    let [signed] = envelope.signatures.as_slice() else {
        return Err(answer_error("the envelope must hold one signature".into()));
    };
    if matches!(key, PublicKey::Ed25519(_)) {
        // A hashedrekord entry is verified over a digest; a pure Ed25519 signature over the
        // PAE cannot be (sigstore-go requires Ed25519ph for Rekor v2).
        return Err(Error::Unsupported {
            url,
            reason: "an Ed25519 signature is not over a digest, which hashedrekord entries \
                     need; name a Rekor v1 log with --rekor-url",
        });
    }
    let (_, digest) = pae_digest(envelope, key);
    let details = key_details::default_scheme(key).name;
    let verifier_json = match verifier {
        Verifier::Certificate(der) => {
            json!({"x509Certificate": {"rawBytes": STANDARD.encode(der)}, "keyDetails": details})
        }
        Verifier::PublicKey(der) => {
            json!({"publicKey": {"rawBytes": STANDARD.encode(der)}, "keyDetails": details})
        }
    };
    let request = json!({"hashedRekordRequestV002": {
        "digest": STANDARD.encode(&digest),
        "signature": {"content": STANDARD.encode(&signed.sig), "verifier": verifier_json}
    }});
    let answer = rekor::post_entry(SERVICE, &url, request.to_string().into_bytes())?;
    let entry = TransparencyLogEntry::from_json(&answer.body)
        .map_err(|e| answer_error(format!("not a transparency log entry: {e}")))?;
    let der = match verifier {
        Verifier::Certificate(der) | Verifier::PublicKey(der) => der,
    };
    check(&entry, envelope, key, der).map_err(answer_error)?;
    Ok(entry)
}

/// The entry is a `hashedrekord` 0.0.2 entry of our digest, signature, signer and scheme, and
/// its inclusion proof (with a checkpoint) leads to the root it names.
fn check(
    entry: &TransparencyLogEntry,
    envelope: &Envelope,
    key: &PublicKey,
    signer_der: &[u8],
) -> Result<(), String> {
    let kind = (
        entry.kind_version.kind.as_str(),
        entry.kind_version.version.as_str(),
    );
    if kind != ("hashedrekord", "0.0.2") {
        return Err(format!(
            "logged as {} {}, not hashedrekord 0.0.2",
            kind.0, kind.1
        ));
    }
    let body = evidence::parse_body(&entry.canonicalized_body).map_err(|e| e.to_string())?;
    if !body.is_rekor_v2() {
        return Err("the body is not a hashedrekord 0.0.2 entry".into());
    }
    let (algorithm, digest) = pae_digest(envelope, key);
    let logged_algorithm = body
        .digest_algorithm
        .as_deref()
        .and_then(DigestAlgorithm::from_name);
    if logged_algorithm != Some(algorithm) || body.payload_hash != Some(hex::encode(&digest)) {
        return Err("the logged digest is not our envelope's".into());
    }
    let signature = envelope.signatures.first().map(|s| s.sig.as_slice());
    match body.signatures.as_slice() {
        [(sig, der)] if Some(sig.as_slice()) == signature && der == signer_der => {}
        _ => return Err("the logged signature or signer differs".into()),
    }
    if body.key_details.as_deref() != Some(key_details::default_scheme(key).name) {
        return Err("the logged keyDetails is not the key's scheme".into());
    }
    let proof = entry.inclusion_proof.as_ref().ok_or("no inclusion proof")?;
    if proof.checkpoint.is_none() {
        return Err("no checkpoint".into());
    }
    evidence::verify_inclusion(
        &evidence::Proof {
            global_index: entry.log_index,
            index: proof.log_index,
            tree_size: proof.tree_size,
            root_hash: &proof.root_hash,
            hashes: &proof.hashes,
        },
        &entry.canonicalized_body,
    )
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attest::bundle::{InclusionProof, KindVersion};
    use crate::attest::key::PrivateKey;

    /// What an honest log answers for `envelope` by `key`, at index 0 of a one-leaf tree.
    fn answer(
        envelope: &Envelope,
        key: &PublicKey,
        der: &[u8],
        sig: &[u8],
    ) -> TransparencyLogEntry {
        let (_, digest) = pae_digest(envelope, key);
        let body = json!({"apiVersion": "0.0.2", "kind": "hashedrekord", "spec": {"hashedRekordV002": {
            "data": {"algorithm": "SHA2_256", "digest": STANDARD.encode(digest)},
            "signature": {"content": STANDARD.encode(sig), "verifier": {
                "keyDetails": "PKIX_ECDSA_P256_SHA_256", "publicKey": {"rawBytes": STANDARD.encode(der)}}}
        }}})
        .to_string()
        .into_bytes();
        TransparencyLogEntry {
            log_index: 0,
            log_id: vec![1; 32],
            kind_version: KindVersion {
                kind: "hashedrekord".into(),
                version: "0.0.2".into(),
            },
            integrated_time: 0,
            inclusion_promise: None,
            inclusion_proof: Some(InclusionProof {
                log_index: 0,
                root_hash: evidence::leaf_hash(&body).to_vec(),
                tree_size: 1,
                hashes: Vec::new(),
                checkpoint: Some("note".into()),
            }),
            canonicalized_body: body,
        }
    }

    #[test]
    fn the_logged_entry_must_record_our_pae_digest_signature_and_signer() {
        let private = PrivateKey::generate_ecdsa_p256().unwrap();
        let key = private.public_key();
        let der = key.to_der().unwrap();
        let envelope = Envelope::sign("text/plain", b"hello".to_vec(), &private).unwrap();
        let sig = envelope.signatures[0].sig.clone();
        check(&answer(&envelope, &key, &der, &sig), &envelope, &key, &der).unwrap();
        let other = Envelope::sign("text/plain", b"other".to_vec(), &private).unwrap();
        let wrong_digest = check(&answer(&other, &key, &der, &sig), &envelope, &key, &der);
        assert!(wrong_digest.unwrap_err().contains("digest"));
        let wrong_sig = check(&answer(&envelope, &key, &der, b"x"), &envelope, &key, &der);
        assert!(wrong_sig.unwrap_err().contains("signature"));
        let mut bad_proof = answer(&envelope, &key, &der, &sig);
        if let Some(proof) = bad_proof.inclusion_proof.as_mut() {
            proof.root_hash = vec![0; 32];
        }
        let refused = check(&bad_proof, &envelope, &key, &der).unwrap_err();
        assert!(refused.contains("inclusion"), "{refused}");
    }

    #[test]
    fn ed25519_signatures_are_refused_before_anything_is_sent() {
        let private = PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[7; 32]));
        let key = private.public_key();
        let der = key.to_der().unwrap();
        let envelope = Envelope::sign("text/plain", b"hello".to_vec(), &private).unwrap();
        // Nothing listens on port 9: a refusal that needed the network would say so instead.
        let refused = log_envelope(
            "http://127.0.0.1:9",
            &envelope,
            &key,
            Verifier::PublicKey(&der),
        )
        .unwrap_err();
        assert!(matches!(refused, Error::Unsupported { .. }), "{refused}");
    }
}

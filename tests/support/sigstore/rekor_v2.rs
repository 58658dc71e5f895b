//! A test transparency log speaking Rekor v2's entry API (rekor-tiles) for `hashedrekord`
//! 0.0.2 entries: `POST /api/v2/log/entries` takes a `hashedRekordRequestV002` (digest,
//! signature, verifier certificate or public key with its `keyDetails`), checks the signature
//! over the digest with the verifier's key, canonicalises the entry as rekor-tiles does (JSON,
//! keys sorted), appends its leaf to a real RFC 6962 Merkle tree seeded with other leaves, and
//! answers with the bundle's `TransparencyLogEntry`: the inclusion proof and a C2SP checkpoint
//! signed with an Ed25519 key (origin and signer name = the log's host, key ID =
//! SHA-256(name || "\n" || 0x01 || key), as the public v2 logs sign), and no integrated time or
//! SET. The same entry twice is a 409; [`RekorV2::fail_next`] makes the next POST answer a
//! chosen status. Test infrastructure only.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use receipts::attest::key::{PrivateKey, PublicKey};
use receipts::attest::verify::certificate::Cert;
use receipts::attest::verify::{key_details, signature};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::front::{Front, Handler, Request, Response};
use super::rekor::{leaf_hash, path, root};

/// The log's name in checkpoints: the host of its URL, without the port (verifiers derive it
/// from the trusted root's `baseUrl` that way).
pub const ORIGIN: &str = "127.0.0.1";

/// The log's Ed25519 key and its C2SP identity.
pub struct LogKey {
    private: PrivateKey,
    /// The PKIX DER of the public key (the trusted root's `publicKey.rawBytes`).
    pub der: Vec<u8>,
    /// SHA-256(origin || "\n" || 0x01 || raw key): the trusted root's `logId.keyId` and, in its
    /// first 4 bytes, the checkpoint signature's key hint.
    pub key_id: [u8; 32],
}

impl LogKey {
    fn generate() -> LogKey {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).unwrap();
        let private = PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed));
        let PublicKey::Ed25519(raw) = private.public_key() else {
            unreachable!("an Ed25519 key");
        };
        let mut hasher = Sha256::new();
        hasher.update(format!("{ORIGIN}\n").as_bytes());
        hasher.update([0x01]);
        hasher.update(raw.as_bytes());
        LogKey {
            der: private.public_key().to_der().unwrap(),
            key_id: hasher.finalize().into(),
            private,
        }
    }
}

#[derive(Default)]
struct Log {
    leaves: Vec<[u8; 32]>,
    fail_next: Option<u16>,
}

/// A running Rekor v2 log.
pub struct RekorV2 {
    front: Front,
    log: Arc<Mutex<Log>>,
    pub key: Arc<LogKey>,
}

impl RekorV2 {
    pub fn start() -> RekorV2 {
        let mut seeded = Log::default();
        for i in 0u8..5 {
            seeded
                .leaves
                .push(leaf_hash(format!("{{\"v2seed\":{i}}}").as_bytes()));
        }
        let log = Arc::new(Mutex::new(seeded));
        let key = Arc::new(LogKey::generate());
        let handler: Handler = {
            let (log, key) = (log.clone(), key.clone());
            Arc::new(move |request: &Request| handle(request, &log, &key))
        };
        RekorV2 {
            front: Front::start(handler),
            log,
            key,
        }
    }

    pub fn url(&self) -> String {
        self.front.url()
    }

    /// How many entries the log holds (seeds included).
    pub fn size(&self) -> usize {
        self.log.lock().unwrap().leaves.len()
    }

    /// The next POST is answered with `status` and nothing is logged.
    pub fn fail_next(&self, status: u16) {
        self.log.lock().unwrap().fail_next = Some(status);
    }
}

/// The verifier's key: from its certificate or its PKIX public key.
fn verifier_key(verifier: &Value) -> Option<(PublicKey, Value)> {
    let raw = |pointer: &str| {
        verifier
            .pointer(pointer)
            .and_then(Value::as_str)
            .and_then(|b| STANDARD.decode(b).ok())
    };
    if let Some(der) = raw("/x509Certificate/rawBytes") {
        let key = Cert::parse(&der).ok()?.public_key;
        Some((
            key,
            json!({"x509Certificate": {"rawBytes": STANDARD.encode(der)}}),
        ))
    } else {
        let der = raw("/publicKey/rawBytes")?;
        let key = PublicKey::from_der(&der).ok()?;
        Some((
            key,
            json!({"publicKey": {"rawBytes": STANDARD.encode(der)}}),
        ))
    }
}

fn handle(request: &Request, log: &Mutex<Log>, key: &LogKey) -> Response {
    if request.method != "POST" || request.target != "/api/v2/log/entries" {
        return Response::error(404, "not found");
    }
    if let Some(status) = log.lock().unwrap().fail_next.take() {
        return Response::error(status, "injected failure");
    }
    let Ok(proposed) = serde_json::from_slice::<Value>(&request.body) else {
        return Response::error(400, "not JSON");
    };
    let Some(spec) = proposed.get("hashedRekordRequestV002") else {
        return Response::error(400, "only hashedRekordRequestV002 entries are accepted");
    };
    let bytes = |pointer: &str| {
        spec.pointer(pointer)
            .and_then(Value::as_str)
            .and_then(|b| STANDARD.decode(b).ok())
    };
    let (Some(digest), Some(sig)) = (bytes("/digest"), bytes("/signature/content")) else {
        return Response::error(400, "digest and signature.content are required");
    };
    let verifier = &spec["signature"]["verifier"];
    let Some((signer, verifier_body)) = verifier_key(verifier) else {
        return Response::error(400, "the verifier is neither a certificate nor a key");
    };
    let scheme = key_details::default_scheme(&signer);
    if verifier["keyDetails"] != scheme.name || digest.len() != 32 {
        return Response::error(400, "keyDetails or digest does not fit the key");
    }
    if signature::verify_prehash(&signer, signature::Hash::Sha256, &digest, &sig).is_err() {
        return Response::error(400, "the signature does not verify over the digest");
    }
    let mut verifier_body = verifier_body;
    verifier_body["keyDetails"] = json!(scheme.name);
    // serde_json's map keeps keys sorted: the canonical JSON rekor-tiles stores.
    let body = json!({"apiVersion": "0.0.2", "kind": "hashedrekord", "spec": {"hashedRekordV002": {
        "data": {"algorithm": "SHA2_256", "digest": STANDARD.encode(&digest)},
        "signature": {"content": STANDARD.encode(&sig), "verifier": verifier_body}
    }}})
    .to_string()
    .into_bytes();
    let leaf = leaf_hash(&body);
    let mut log = log.lock().unwrap();
    if log.leaves.contains(&leaf) {
        return Response::error(409, "an equivalent entry already exists in the log");
    }
    let index = log.leaves.len();
    log.leaves.push(leaf);
    let size = log.leaves.len();
    let root_hash = root(&log.leaves);
    let note = format!("{ORIGIN}\n{size}\n{}\n", STANDARD.encode(root_hash));
    let mut note_signature = key.key_id[..4].to_vec();
    note_signature.extend(key.private.sign(note.as_bytes()).unwrap());
    let checkpoint = format!(
        "{note}\n\u{2014} {ORIGIN} {}\n",
        STANDARD.encode(note_signature)
    );
    let hashes: Vec<String> = path(index, &log.leaves)
        .iter()
        .map(|h| STANDARD.encode(h))
        .collect();
    Response::json(
        201,
        &json!({
            "logIndex": index.to_string(),
            "logId": {"keyId": STANDARD.encode(key.key_id)},
            "kindVersion": {"kind": "hashedrekord", "version": "0.0.2"},
            "inclusionProof": {
                "logIndex": index.to_string(),
                "rootHash": STANDARD.encode(root_hash),
                "treeSize": size.to_string(),
                "hashes": hashes,
                "checkpoint": {"envelope": checkpoint}
            },
            "canonicalizedBody": STANDARD.encode(&body)
        }),
    )
}

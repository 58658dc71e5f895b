//! A test transparency log speaking Rekor's v1 entry API for `dsse` v0.0.1 entries:
//! `POST /api/v1/log/entries` checks the envelope's signature against the proposed verifier,
//! canonicalises the entry as rekor does, appends its leaf to a real RFC 6962 Merkle tree
//! (seeded with a few other leaves so proofs are never trivial), and answers with the SET,
//! the inclusion proof (RFC 6962 §2.1.1 audit path) and a signed checkpoint for the new size.
//! The same envelope twice is a 409 with the existing entry's `Location`; [`Rekor::fail_next`]
//! makes the next POST answer a chosen status. Test infrastructure only.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use receipts::attest::dsse::Envelope;
use receipts::attest::key::{self, PublicKey, pem};
use receipts::attest::verify::certificate::Cert;
use receipts::attest::verify::now;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::front::{Front, Handler, Request, Response};
use crate::attest_verify::pki::Key;

/// The tree id in the checkpoint origin (`<host> - <tree id>`, as Rekor v1 names it; the host
/// is the log's own `127.0.0.1:<port>`, which verifiers match against the trusted root's
/// `baseUrl`).
pub const TREE_ID: u64 = 7_171_717;

pub fn leaf_hash(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0]);
    h.update(data);
    h.finalize().into()
}

fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two smaller than `n` (n > 1).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]) over leaf hashes (RFC 6962 §2.1).
pub fn root(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// PATH(m, D[n]) (RFC 6962 §2.1.1), leaf to root.
pub fn path(m: usize, leaves: &[[u8; 32]]) -> Vec<[u8; 32]> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut p = path(m, &leaves[..k]);
        p.push(root(&leaves[k..]));
        p
    } else {
        let mut p = path(m - k, &leaves[k..]);
        p.push(root(&leaves[..k]));
        p
    }
}

#[derive(Default)]
struct Log {
    bodies: Vec<Vec<u8>>,
    leaves: Vec<[u8; 32]>,
    fail_next: Option<u16>,
}

/// A running log.
pub struct Rekor {
    front: Front,
    log: Arc<Mutex<Log>>,
}

impl Rekor {
    /// Starts a log signing with `key`.
    pub fn start(key: Arc<Key>) -> Rekor {
        let mut seeded = Log::default();
        for i in 0u8..6 {
            let body = format!("{{\"seed\":{i}}}").into_bytes();
            seeded.leaves.push(leaf_hash(&body));
            seeded.bodies.push(body);
        }
        let log = Arc::new(Mutex::new(seeded));
        let host: Arc<Mutex<String>> = Arc::default();
        let handler: Handler = {
            let (log, host) = (log.clone(), host.clone());
            Arc::new(move |request: &Request| {
                let host = host.lock().unwrap().clone();
                handle(request, &log, &key, &host)
            })
        };
        let front = Front::start(handler);
        *host.lock().unwrap() = front.url().trim_start_matches("http://").to_owned();
        Rekor { front, log }
    }

    pub fn url(&self) -> String {
        self.front.url()
    }

    /// The next POST is answered with `status` and nothing is logged.
    pub fn fail_next(&self, status: u16) {
        self.log.lock().unwrap().fail_next = Some(status);
    }

    /// How many entries the log holds (seeds included).
    pub fn size(&self) -> usize {
        self.log.lock().unwrap().leaves.len()
    }
}

fn signer_key(pem_text: &[u8]) -> Option<PublicKey> {
    let block = pem::decode(pem_text).ok()?;
    if block.label == "CERTIFICATE" {
        Cert::parse(&block.body).ok().map(|c| c.public_key)
    } else {
        key::load_public_key(pem_text).ok()
    }
}

fn handle(request: &Request, log: &Mutex<Log>, key: &Key, host: &str) -> Response {
    if request.method != "POST" || request.target != "/api/v1/log/entries" {
        return Response::error(404, "not found");
    }
    if let Some(status) = log.lock().unwrap().fail_next.take() {
        return Response::error(status, "injected failure");
    }
    let Ok(proposed) = serde_json::from_slice::<Value>(&request.body) else {
        return Response::error(400, "not JSON");
    };
    let content = &proposed["spec"]["proposedContent"];
    if proposed["kind"] != "dsse" || proposed["apiVersion"] != "0.0.1" {
        return Response::error(400, "only dsse 0.0.1 entries are accepted");
    }
    let envelope_text = content["envelope"].as_str().unwrap_or_default();
    let Ok(envelope) = Envelope::from_json(envelope_text.as_bytes()) else {
        return Response::error(400, "envelope does not parse");
    };
    let verifiers: Vec<String> = content["verifiers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let [verifier] = verifiers.as_slice() else {
        return Response::error(400, "exactly one verifier expected");
    };
    let Some(pem_text) = STANDARD.decode(verifier).ok() else {
        return Response::error(400, "verifier is not base64");
    };
    let verified = signer_key(&pem_text).is_some_and(|k| envelope.verify(&k).is_ok());
    if !verified || envelope.signatures.len() != 1 {
        return Response::error(
            400,
            "the envelope signature does not verify with the verifier",
        );
    }
    // Keys in sorted order: the JSON canonical form rekor stores (RFC 8785).
    let body = json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(envelope_text.as_bytes()))},
            "payloadHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(&envelope.payload))},
            "signatures": [{"signature": STANDARD.encode(&envelope.signatures[0].sig), "verifier": verifier}]
        }
    })
    .to_string()
    .into_bytes();
    let leaf = leaf_hash(&body);
    let mut log = log.lock().unwrap();
    if log.leaves.contains(&leaf) {
        let mut response = Response::error(409, "an equivalent entry already exists in the log");
        response.headers.push((
            "Location".into(),
            format!("/api/v1/log/entries/{}", hex::encode(leaf)),
        ));
        return response;
    }
    integrate(&mut log, body, key, host)
}

/// Appends `body` and answers with the entry, its SET, inclusion proof and checkpoint.
fn integrate(log: &mut Log, body: Vec<u8>, key: &Key, host: &str) -> Response {
    let leaf = leaf_hash(&body);
    let index = log.leaves.len();
    log.leaves.push(leaf);
    log.bodies.push(body.clone());
    let size = log.leaves.len();
    let root_hash = root(&log.leaves);
    let hashes: Vec<String> = path(index, &log.leaves).iter().map(hex::encode).collect();
    let log_id = Sha256::digest(&key.der);
    let integrated_time = now();
    let body_b64 = STANDARD.encode(&body);
    let set_payload = format!(
        "{{\"body\":\"{body_b64}\",\"integratedTime\":{integrated_time},\"logID\":\"{}\",\"logIndex\":{index}}}",
        hex::encode(log_id)
    );
    let set = key.sign(set_payload.as_bytes());
    let note = format!(
        "{host} - {TREE_ID}\n{size}\n{}\n",
        STANDARD.encode(root_hash)
    );
    let mut note_signature = log_id[..4].to_vec();
    note_signature.extend(key.sign(note.as_bytes()));
    let checkpoint = format!(
        "{note}\n\u{2014} {host} {}\n",
        STANDARD.encode(note_signature)
    );
    Response::json(
        201,
        &json!({ hex::encode(leaf): {
            "body": body_b64,
            "integratedTime": integrated_time,
            "logID": hex::encode(log_id),
            "logIndex": index,
            "verification": {
                "inclusionProof": {
                    "checkpoint": checkpoint,
                    "hashes": hashes,
                    "logIndex": index,
                    "rootHash": hex::encode(root_hash),
                    "treeSize": size
                },
                "signedEntryTimestamp": STANDARD.encode(set)
            }
        }}),
    )
}

#[test]
fn audit_paths_verify_for_every_leaf_of_every_size() {
    use receipts::attest::verify::rekor::{Proof, verify_inclusion};
    for size in 1..=17usize {
        let bodies: Vec<Vec<u8>> = (0..size).map(|i| vec![i as u8]).collect();
        let leaves: Vec<[u8; 32]> = bodies.iter().map(|b| leaf_hash(b)).collect();
        let root_hash = root(&leaves);
        for (m, body) in bodies.iter().enumerate() {
            let hashes: Vec<Vec<u8>> = path(m, &leaves).iter().map(|h| h.to_vec()).collect();
            let proof = Proof {
                global_index: m as i64,
                index: m as i64,
                tree_size: size as i64,
                root_hash: &root_hash,
                hashes: &hashes,
            };
            verify_inclusion(&proof, body).unwrap_or_else(|e| panic!("{m} of {size}: {e}"));
        }
    }
}

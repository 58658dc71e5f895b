//! A private Sigstore for tests, built from the recipes of reference/cosign-attestations.md §12:
//! a CA (root and intermediate) issuing Fulcio-like leaves (URI SAN, issuer extensions 1.1 and
//! 1.8, GitHub claims, EKU code signing, an embedded SCT from a test CT log), a test Rekor key
//! minting SETs, tree-size-1 inclusion proofs and checkpoints, and the trusted root naming them.
//! Certificates are assembled as DER by hand (RFC 5280 shapes), signed with P-256 keys.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use receipts::attest::dsse::{Envelope, EnvelopeForm};
use receipts::attest::key::{PrivateKey, PublicKey, pem};
use receipts::attest::statement::{Predicate, Sha256Digest, Statement, SubjectName};
use receipts::attest::verify::der::encode;
use receipts::attest::verify::{TrustedRoot, now, rekor};
use receipts::build::image::time::GoTime;
use sha2::{Digest as _, Sha256};
use x509_cert::der::Encode as _;
use x509_cert::der::asn1::ObjectIdentifier;

pub const IDENTITY: &str =
    "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";
pub const ISSUER: &str = "https://token.actions.githubusercontent.com";
pub const APKO_TYPE: &str = "https://apko.dev/image-configuration";
pub const REKOR_ORIGIN: &str = "rekor.test - 4242";

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    encode(0x30, &parts.concat())
}

fn oid(text: &str) -> Vec<u8> {
    ObjectIdentifier::new_unwrap(text).to_der().unwrap()
}

fn integer(n: u64) -> Vec<u8> {
    let mut bytes: Vec<u8> = n
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    if bytes.first().is_none_or(|b| b & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    encode(0x02, &bytes)
}

fn utc_time(unix: i64) -> Vec<u8> {
    // "2026-11-26T00:11:23Z" → "261126001123Z"
    let text = GoTime::from_unix(unix).rfc3339();
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    encode(0x17, format!("{}Z", &digits[2..14]).as_bytes())
}

fn name(common_name: &str) -> Vec<u8> {
    if common_name.is_empty() {
        // An empty RDNSequence, as Fulcio's leaves have (their identity is in the SAN).
        return seq(&[]);
    }
    let attribute = seq(&[&oid("2.5.4.3"), &encode(0x0c, common_name.as_bytes())]);
    seq(&[&encode(0x31, &attribute)])
}

fn extension(id: &str, critical: bool, value: &[u8]) -> Vec<u8> {
    let critical_flag = if critical {
        vec![0x01, 0x01, 0xff]
    } else {
        Vec::new()
    };
    seq(&[&oid(id), &critical_flag, &encode(0x04, value)])
}

const ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";

/// A signing key with its public half.
pub struct Key {
    pub private: PrivateKey,
    pub public: PublicKey,
    pub der: Vec<u8>,
}

impl Key {
    pub fn generate() -> Key {
        let private = PrivateKey::generate_ecdsa_p256().unwrap();
        let public = private.public_key();
        let der = public.to_der().unwrap();
        Key {
            private,
            public,
            der,
        }
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.private.sign(message).unwrap()
    }

    pub fn pem(&self) -> String {
        self.public.to_pem().unwrap()
    }
}

fn tbs(
    serial: u64,
    issuer: &str,
    subject: &str,
    validity: (i64, i64),
    spki: &[u8],
    extensions: &[Vec<u8>],
) -> Vec<u8> {
    let version = encode(0xa0, &integer(2));
    let algorithm = seq(&[&oid(ECDSA_SHA256)]);
    let validity = seq(&[&utc_time(validity.0), &utc_time(validity.1)]);
    let extensions = encode(
        0xa3,
        &seq(&extensions.iter().map(Vec::as_slice).collect::<Vec<_>>()),
    );
    seq(&[
        &version,
        &integer(serial),
        &algorithm,
        &name(issuer),
        &validity,
        &name(subject),
        spki,
        &extensions,
    ])
}

fn certificate(tbs: &[u8], signer: &Key) -> Vec<u8> {
    let algorithm = seq(&[&oid(ECDSA_SHA256)]);
    let mut bits = vec![0u8];
    bits.extend(signer.sign(tbs));
    seq(&[tbs, &algorithm, &encode(0x03, &bits)])
}

/// A key identifier for the key whose DER SPKI is `spki` (RFC 5280 §4.2.1.2 lets any
/// unique value serve; strict verifiers such as Python's cryptography require the extensions).
fn key_id(spki: &[u8]) -> Vec<u8> {
    Sha256::digest(spki)[..20].to_vec()
}

fn subject_key_id(spki: &[u8]) -> Vec<u8> {
    extension("2.5.29.14", false, &encode(0x04, &key_id(spki)))
}

fn authority_key_id(issuer_spki: &[u8]) -> Vec<u8> {
    extension(
        "2.5.29.35",
        false,
        &seq(&[&encode(0x80, &key_id(issuer_spki))]),
    )
}

fn ca_extensions(spki: &[u8], issuer_spki: &[u8]) -> Vec<Vec<u8>> {
    vec![
        extension("2.5.29.15", true, &[0x03, 0x02, 0x01, 0x06]),
        extension("2.5.29.19", true, &[0x30, 0x03, 0x01, 0x01, 0xff]),
        subject_key_id(spki),
        authority_key_id(issuer_spki),
    ]
}

/// What a leaf should look like.
#[derive(Clone)]
pub struct LeafSpec {
    pub identity: String,
    pub issuer: String,
    pub validity: (i64, i64),
    pub sct: bool,
    pub code_signing: bool,
}

impl Default for LeafSpec {
    fn default() -> Self {
        let now = now();
        LeafSpec {
            identity: IDENTITY.to_owned(),
            issuer: ISSUER.to_owned(),
            validity: (now - 60, now + 600),
            sct: true,
            code_signing: true,
        }
    }
}

/// The private Sigstore: CA, CT log and Rekor keys.
pub struct Pki {
    pub root: Vec<u8>,
    pub intermediate_key: Key,
    pub intermediate: Vec<u8>,
    pub ct: Key,
    pub rekor: Key,
}

/// A leaf certificate with its key.
pub struct Leaf {
    pub key: Key,
    pub der: Vec<u8>,
}

impl Leaf {
    pub fn pem(&self) -> String {
        pem::encode("CERTIFICATE", &self.der)
    }
}

impl Pki {
    pub fn new() -> Pki {
        let now = now();
        let years = 10 * 365 * 86_400;
        let root_key = Key::generate();
        let root = certificate(
            &tbs(
                1,
                "test root",
                "test root",
                (now - 86_400, now + years),
                &root_key.der,
                &ca_extensions(&root_key.der, &root_key.der),
            ),
            &root_key,
        );
        let intermediate_key = Key::generate();
        let intermediate = certificate(
            &tbs(
                2,
                "test root",
                "test intermediate",
                (now - 86_400, now + years),
                &intermediate_key.der,
                &ca_extensions(&intermediate_key.der, &root_key.der),
            ),
            &root_key,
        );
        Pki {
            root,
            intermediate_key,
            intermediate,
            ct: Key::generate(),
            rekor: Key::generate(),
        }
    }

    /// Issues a leaf; its SCT is computed over the precertificate TBS (RFC 6962 §3.2).
    pub fn leaf(&self, spec: &LeafSpec) -> Leaf {
        let key = Key::generate();
        let der = self.certify(spec, &key.der);
        Leaf { key, der }
    }

    /// A leaf certificate (DER) for the public key `spki` (DER), as Fulcio issues one.
    pub fn certify(&self, spec: &LeafSpec, spki: &[u8]) -> Vec<u8> {
        let mut extensions = vec![
            authority_key_id(&self.intermediate_key.der),
            extension("2.5.29.15", true, &[0x03, 0x02, 0x07, 0x80]),
            extension(
                "2.5.29.17",
                true,
                &seq(&[&encode(0x86, spec.identity.as_bytes())]),
            ),
            extension("1.3.6.1.4.1.57264.1.1", false, spec.issuer.as_bytes()),
            extension("1.3.6.1.4.1.57264.1.2", false, b"push"),
            extension("1.3.6.1.4.1.57264.1.5", false, b"acme/app"),
            extension(
                "1.3.6.1.4.1.57264.1.8",
                false,
                &encode(0x0c, spec.issuer.as_bytes()),
            ),
        ];
        if spec.code_signing {
            extensions.push(extension(
                "2.5.29.37",
                false,
                &seq(&[&oid("1.3.6.1.5.5.7.3.3")]),
            ));
        }
        let serial = u64::from_be_bytes(Sha256::digest(spki)[..8].try_into().unwrap()) >> 1;
        let subject = "";
        if spec.sct {
            let precert = tbs(
                serial,
                "test intermediate",
                subject,
                spec.validity,
                spki,
                &extensions,
            );
            let timestamp = (spec.validity.0 as u64 + 1) * 1000;
            let mut signed = vec![0u8, 0u8];
            signed.extend_from_slice(&timestamp.to_be_bytes());
            signed.extend_from_slice(&[0, 1]);
            signed.extend_from_slice(&Sha256::digest(&self.intermediate_key.der));
            signed.extend_from_slice(&(precert.len() as u32).to_be_bytes()[1..]);
            signed.extend_from_slice(&precert);
            signed.extend_from_slice(&[0, 0]);
            let signature = self.ct.sign(&signed);
            let mut sct = vec![0u8];
            sct.extend_from_slice(&Sha256::digest(&self.ct.der));
            sct.extend_from_slice(&timestamp.to_be_bytes());
            sct.extend_from_slice(&[0, 0, 4, 3]);
            sct.extend_from_slice(&(signature.len() as u16).to_be_bytes());
            sct.extend_from_slice(&signature);
            let mut list = (sct.len() as u16).to_be_bytes().to_vec();
            list.extend_from_slice(&sct);
            let mut tls = (list.len() as u16).to_be_bytes().to_vec();
            tls.extend_from_slice(&list);
            extensions.push(extension(
                "1.3.6.1.4.1.11129.2.4.2",
                false,
                &encode(0x04, &tls),
            ));
        }
        certificate(
            &tbs(
                serial,
                "test intermediate",
                subject,
                spec.validity,
                spki,
                &extensions,
            ),
            &self.intermediate_key,
        )
    }

    /// A timestamping certificate for `key` (EKU timeStamping, critical), issued by the
    /// intermediate, as `openssl ts -reply` requires of its signer.
    pub fn tsa_certificate(&self, key: &Key) -> Vec<u8> {
        let now = now();
        let extensions = vec![
            authority_key_id(&self.intermediate_key.der),
            extension("2.5.29.15", true, &[0x03, 0x02, 0x07, 0x80]),
            extension("2.5.29.37", true, &seq(&[&oid("1.3.6.1.5.5.7.3.8")])),
        ];
        certificate(
            &tbs(
                3,
                "test intermediate",
                "test tsa",
                (now - 86_400, now + 10 * 365 * 86_400),
                &key.der,
                &extensions,
            ),
            &self.intermediate_key,
        )
    }

    /// PEM of the intermediate and the root (cosign's chain annotation, `SIGSTORE_ROOT_FILE`).
    pub fn chain_pem(&self) -> String {
        pem::encode("CERTIFICATE", &self.intermediate) + &pem::encode("CERTIFICATE", &self.root)
    }

    pub fn rekor_log_id(&self) -> Vec<u8> {
        Sha256::digest(&self.rekor.der).to_vec()
    }

    /// The trusted root naming this CA, Rekor and CT log (reference §10.2).
    pub fn trusted_root_json(&self) -> String {
        let log = |key: &Key| {
            serde_json::json!({
                "baseUrl": "https://log.test",
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": STANDARD.encode(&key.der),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": "2020-01-01T00:00:00Z"}
                },
                "logId": {"keyId": STANDARD.encode(Sha256::digest(&key.der))}
            })
        };
        serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log(&self.rekor)],
            "certificateAuthorities": [{
                "subject": {"organization": "test", "commonName": "test"},
                "uri": "https://fulcio.test",
                "certChain": {"certificates": [
                    {"rawBytes": STANDARD.encode(&self.intermediate)},
                    {"rawBytes": STANDARD.encode(&self.root)}
                ]},
                "validFor": {"start": "2020-01-01T00:00:00Z"}
            }],
            "ctlogs": [log(&self.ct)],
            "timestampAuthorities": []
        })
        .to_string()
    }

    pub fn trusted_root(&self) -> TrustedRoot {
        TrustedRoot::from_json(self.trusted_root_json().as_bytes(), "test root").unwrap()
    }

    /// The canonical Rekor `dsse` v0.0.1 body for an envelope uploaded as `envelope_bytes`.
    pub fn dsse_body(envelope: &Envelope, envelope_bytes: &[u8], verifier_pem: &str) -> Vec<u8> {
        serde_json::json!({
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(envelope_bytes))},
                "payloadHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(&envelope.payload))},
                "signatures": [{
                    "signature": STANDARD.encode(&envelope.signatures[0].sig),
                    "verifier": STANDARD.encode(verifier_pem)
                }]
            }
        })
        .to_string()
        .into_bytes()
    }

    /// A SET over the entry (reference §7.2).
    pub fn set(&self, body: &[u8], integrated_time: i64, log_index: i64) -> Vec<u8> {
        let canonical = format!(
            "{{\"body\":\"{}\",\"integratedTime\":{integrated_time},\"logID\":\"{}\",\"logIndex\":{log_index}}}",
            STANDARD.encode(body),
            hex::encode(self.rekor_log_id())
        );
        self.rekor.sign(canonical.as_bytes())
    }

    /// The legacy `dev.sigstore.cosign/bundle` annotation.
    pub fn rekor_bundle_annotation(&self, body: &[u8], integrated_time: i64) -> String {
        serde_json::json!({
            "SignedEntryTimestamp": STANDARD.encode(self.set(body, integrated_time, 0)),
            "Payload": {
                "body": STANDARD.encode(body),
                "integratedTime": integrated_time,
                "logIndex": 0,
                "logID": hex::encode(self.rekor_log_id())
            }
        })
        .to_string()
    }

    /// A tree-size-1 checkpoint for `body`.
    pub fn checkpoint(&self, body: &[u8]) -> String {
        let root = rekor::leaf_hash(body);
        let note = format!("{REKOR_ORIGIN}\n1\n{}\n", STANDARD.encode(root));
        let mut signature = Sha256::digest(&self.rekor.der)[..4].to_vec();
        signature.extend(self.rekor.sign(note.as_bytes()));
        format!(
            "{note}\n\u{2014} rekor.test {}\n",
            STANDARD.encode(signature)
        )
    }

    /// A v0.3 bundle for a keyless envelope, logged in this Rekor with SET, inclusion proof
    /// (tree size 1) and checkpoint.
    pub fn bundle_json(&self, envelope: &Envelope, leaf: &Leaf, integrated_time: i64) -> String {
        let uploaded = envelope.to_json(EnvelopeForm::CosignV3);
        let body = Self::dsse_body(envelope, &uploaded, &leaf.pem());
        let envelope_value: serde_json::Value = serde_json::from_slice(&uploaded).unwrap();
        serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": {"rawBytes": STANDARD.encode(&leaf.der)},
                "tlogEntries": [{
                    "logIndex": "0",
                    "logId": {"keyId": STANDARD.encode(self.rekor_log_id())},
                    "kindVersion": {"kind": "dsse", "version": "0.0.1"},
                    "integratedTime": integrated_time.to_string(),
                    "inclusionPromise": {"signedEntryTimestamp": STANDARD.encode(self.set(&body, integrated_time, 0))},
                    "inclusionProof": {
                        "logIndex": "0",
                        "rootHash": STANDARD.encode(rekor::leaf_hash(&body)),
                        "treeSize": "1",
                        "hashes": [],
                        "checkpoint": {"envelope": self.checkpoint(&body)}
                    },
                    "canonicalizedBody": STANDARD.encode(&body)
                }]
            },
            "dsseEnvelope": envelope_value
        })
        .to_string()
    }
}

/// An apko-configuration statement for `digest`, signed by `key`.
pub fn signed_statement(repository: &str, digest: &[u8; 32], key: &PrivateKey) -> Envelope {
    let predicate = Predicate::from_json(
        br#"{"contents":{"packages":["busybox=1.37.0-r0"]},"archs":["x86_64"]}"#,
    )
    .unwrap();
    let statement = Statement::for_image(
        &SubjectName::from_reference(repository).unwrap(),
        &Sha256Digest::from_bytes(*digest),
        APKO_TYPE,
        predicate,
    );
    Envelope::sign_statement(&statement, key).unwrap()
}

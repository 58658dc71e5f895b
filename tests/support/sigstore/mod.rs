//! A private Sigstore on loopback, for signing tests — test infrastructure, not product code.
//!
//! [`Sigstore::start`] runs, each on its own 127.0.0.1 port: an OIDC issuer minting ES256
//! JWTs and answering GitHub Actions' token requests, a Fulcio v2 `signingCert` CA, a Rekor
//! v1 entry API over a real RFC 6962 Merkle tree, a Rekor v2 log (`hashedrekord` 0.0.2, C2SP
//! checkpoints signed with Ed25519), and an RFC 3161 TSA (`openssl ts -reply`).
//! The CA, CT log and Rekor keys are those of the private PKI in tests/attest_verify/pki.rs.
//! It describes them in one `trusted_root.json` (both logs), one `signing_config.json` (v0.2,
//! Rekor v1), one `signing_config_v2.json` (both logs: sigstore-go's choice is the v2 one) and
//! the sigstore-python client trust config that holds the root and the first config. Each service can be told to fail its
//! next request, for the error paths.

pub mod front;
pub mod fulcio;
pub mod rekor;
pub mod rekor_v2;
pub mod tsa;

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::attest_verify::pki::{Key, Pki};
pub use fulcio::{Fulcio, Issuer};
pub use rekor::Rekor;
pub use rekor_v2::RekorV2;
pub use tsa::Tsa;

const VALID_FROM: &str = "2020-01-01T00:00:00Z";

/// The running services and their description.
pub struct Sigstore {
    pub pki: Arc<Pki>,
    pub issuer: Arc<Issuer>,
    pub fulcio: Fulcio,
    pub rekor: Rekor,
    pub rekor_v2: RekorV2,
    pub tsa: Tsa,
    pub dir: tempfile::TempDir,
}

fn log(url: &str, key: &Key) -> Value {
    json!({
        "baseUrl": url,
        "hashAlgorithm": "SHA2_256",
        "publicKey": {
            "rawBytes": STANDARD.encode(&key.der),
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "validFor": {"start": VALID_FROM}
        },
        "logId": {"keyId": STANDARD.encode(Sha256::digest(&key.der))}
    })
}

fn service(url: &str) -> Value {
    json!({"url": url, "majorApiVersion": 1, "validFor": {"start": VALID_FROM}, "operator": "receipts-test"})
}

impl Sigstore {
    pub fn start() -> Sigstore {
        let pki = Arc::new(Pki::new());
        let dir = tempfile::tempdir().unwrap();
        let issuer = Issuer::start();
        let fulcio = Fulcio::start(pki.clone(), issuer.clone());
        let rekor_key = Arc::new(Key {
            private: pki.rekor.private.clone(),
            public: pki.rekor.public.clone(),
            der: pki.rekor.der.clone(),
        });
        let rekor = Rekor::start(rekor_key);
        let rekor_v2 = RekorV2::start();
        let tsa = Tsa::start(&pki, &dir.path().join("tsa"));
        let sigstore = Sigstore {
            pki,
            issuer,
            fulcio,
            rekor,
            rekor_v2,
            tsa,
            dir,
        };
        std::fs::write(
            sigstore.trusted_root_path(),
            sigstore.trusted_root().to_string(),
        )
        .unwrap();
        std::fs::write(
            sigstore.signing_config_path(),
            sigstore.signing_config().to_string(),
        )
        .unwrap();
        std::fs::write(
            sigstore.signing_config_v2_path(),
            sigstore.signing_config_v2().to_string(),
        )
        .unwrap();
        let client = json!({
            "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
            "trustedRoot": sigstore.trusted_root(),
            "signingConfig": sigstore.signing_config()
        });
        std::fs::write(sigstore.trust_config_path(), client.to_string()).unwrap();
        sigstore
    }

    /// The trusted root naming every service's key or chain.
    pub fn trusted_root(&self) -> Value {
        let pki = &self.pki;
        json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log(&self.rekor.url(), &pki.rekor), self.rekor_v2_log()],
            "certificateAuthorities": [{
                "subject": {"organization": "receipts-test", "commonName": "test intermediate"},
                "uri": self.fulcio.url(),
                "certChain": {"certificates": [
                    {"rawBytes": STANDARD.encode(&pki.intermediate)},
                    {"rawBytes": STANDARD.encode(&pki.root)}
                ]},
                "validFor": {"start": VALID_FROM}
            }],
            "ctlogs": [log("https://ct.test", &pki.ct)],
            "timestampAuthorities": [{
                "subject": {"organization": "receipts-test", "commonName": "test tsa"},
                "uri": self.tsa.url(),
                "certChain": {"certificates": [
                    {"rawBytes": STANDARD.encode(&self.tsa.certificate)},
                    {"rawBytes": STANDARD.encode(&pki.intermediate)},
                    {"rawBytes": STANDARD.encode(&pki.root)}
                ]},
                "validFor": {"start": VALID_FROM}
            }]
        })
    }

    /// The signing config naming every service.
    pub fn signing_config(&self) -> Value {
        json!({
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [service(&self.fulcio.url())],
            "oidcUrls": [service(&self.issuer.url)],
            "rekorTlogUrls": [service(&self.rekor.url())],
            "tsaUrls": [service(&self.tsa.url())],
            "rekorTlogConfig": {"selector": "ANY"},
            "tsaConfig": {"selector": "ANY"}
        })
    }

    /// The Rekor v2 log as the trusted root names it: Ed25519, its C2SP key ID as log ID.
    fn rekor_v2_log(&self) -> Value {
        let key = &self.rekor_v2.key;
        json!({
            "baseUrl": self.rekor_v2.url(),
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": STANDARD.encode(&key.der),
                "keyDetails": "PKIX_ED25519",
                "validFor": {"start": VALID_FROM}
            },
            "logId": {"keyId": STANDARD.encode(key.key_id)}
        })
    }

    /// A signing config listing the Rekor v2 log before the v1 one, as Sigstore's own do.
    pub fn signing_config_v2(&self) -> Value {
        let mut config = self.signing_config();
        let mut v2 = service(&self.rekor_v2.url());
        v2["majorApiVersion"] = json!(2);
        config["rekorTlogUrls"] = json!([v2, service(&self.rekor.url())]);
        config
    }

    pub fn signing_config_v2_path(&self) -> PathBuf {
        self.dir.path().join("signing_config_v2.json")
    }

    pub fn trusted_root_path(&self) -> PathBuf {
        self.dir.path().join("trusted_root.json")
    }

    pub fn signing_config_path(&self) -> PathBuf {
        self.dir.path().join("signing_config.json")
    }

    /// sigstore-python's `--trust-config` (a ClientTrustConfig).
    pub fn trust_config_path(&self) -> PathBuf {
        self.dir.path().join("trust_config.json")
    }

    /// A valid token for Fulcio.
    pub fn token(&self) -> String {
        self.issuer
            .mint("sigstore", receipts::attest::verify::now() + 300)
    }
}

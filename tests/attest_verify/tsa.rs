//! RFC 3161 timestamps made by a real TSA: OpenSSL's `openssl ts -reply` signing with a test
//! CA and TSA certificate made here, checked through the verifier (signature, chain to the
//! trusted root's authority, validity windows, message imprint), then used as the only time
//! evidence of a key-signed bundle. The real Sigstore timestamps are exercised by the
//! conformance cases (`rekor2-*`, `managed-key-*`, `intoto-with-custom-trust-root`).

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use receipts::attest::bundle::Bundle;
use receipts::attest::key::{self, PrivateKey};
use receipts::attest::verify::{self, Artifact, Expected, Policy, TrustedRoot, timestamp};
use sha2::{Digest as _, Sha256};

use crate::support::attest::{describe, openssl};

/// A CA and a TSA leaf (EKU critical timeStamping) made by openssl in `dir`.
struct Tsa {
    dir: tempfile::TempDir,
}

fn run(dir: &Path, args: &[&str]) {
    let output = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("running openssl {args:?}: {e}"));
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        describe(&output)
    );
}

impl Tsa {
    fn new(name: &str) -> Tsa {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("leaf.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
             extendedKeyUsage=critical,timeStamping\n",
        )
        .unwrap();
        std::fs::write(
            d.join("tsa.cnf"),
            "[ tsa_config ]\nserial = serial\nsigner_digest = sha256\n\
             default_policy = 1.2.3.4.1\ndigests = sha256, sha384, sha512\n\
             accuracy = secs:1\ness_cert_id_alg = sha256\n",
        )
        .unwrap();
        std::fs::write(d.join("serial"), "01\n").unwrap();
        run(
            d,
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                "ca.key",
            ],
        );
        let subject = format!("/CN={name} root");
        run(
            d,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "ca.key",
                "-subj",
                &subject,
                "-days",
                "3650",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-out",
                "ca.pem",
            ],
        );
        run(
            d,
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                "tsa.key",
            ],
        );
        let subject = format!("/CN={name}");
        run(
            d,
            &[
                "req", "-new", "-key", "tsa.key", "-subj", &subject, "-out", "tsa.csr",
            ],
        );
        run(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "tsa.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "365",
                "-extfile",
                "leaf.ext",
                "-out",
                "tsa.pem",
            ],
        );
        Tsa { dir }
    }

    fn der(&self, pem_name: &str) -> Vec<u8> {
        let output = openssl(&[
            "x509",
            "-in",
            &self.dir.path().join(pem_name).display().to_string(),
            "-outform",
            "DER",
        ]);
        assert!(output.status.success(), "{}", describe(&output));
        output.stdout
    }

    /// A `TimeStampResp` over `data`, with the TSA's certificates embedded or not.
    fn stamp(&self, data: &[u8], embed_certificates: bool) -> Vec<u8> {
        let d = self.dir.path();
        std::fs::write(d.join("data.bin"), data).unwrap();
        let mut query = vec![
            "ts", "-query", "-data", "data.bin", "-sha256", "-out", "q.tsq",
        ];
        if embed_certificates {
            query.push("-cert");
        }
        run(d, &query);
        run(
            d,
            &[
                "ts",
                "-reply",
                "-config",
                "tsa.cnf",
                "-section",
                "tsa_config",
                "-queryfile",
                "q.tsq",
                "-signer",
                "tsa.pem",
                "-inkey",
                "tsa.key",
                "-chain",
                "ca.pem",
                "-out",
                "r.tsr",
            ],
        );
        std::fs::read(d.join("r.tsr")).unwrap()
    }

    /// A trusted root whose only authority is this TSA (leaf and root, or root only).
    fn root(&self, with_leaf: bool, valid_for: serde_json::Value) -> TrustedRoot {
        let mut chain = Vec::new();
        if with_leaf {
            chain.push(serde_json::json!({"rawBytes": STANDARD.encode(self.der("tsa.pem"))}));
        }
        chain.push(serde_json::json!({"rawBytes": STANDARD.encode(self.der("ca.pem"))}));
        let json = serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "timestampAuthorities": [{
                "subject": {"commonName": "test tsa"},
                "uri": "https://tsa.test",
                "certChain": {"certificates": chain},
                "validFor": valid_for
            }]
        });
        TrustedRoot::from_json(json.to_string().as_bytes(), "tsa root").unwrap()
    }
}

fn open_window() -> serde_json::Value {
    serde_json::json!({"start": "2020-01-01T00:00:00Z"})
}

#[test]
fn openssl_timestamps_verify_against_the_authority() {
    let tsa = Tsa::new("Test TSA");
    let signature = b"the bundle's signature bytes";
    let now = verify::now();
    for embed in [true, false] {
        let response = tsa.stamp(signature, embed);
        let verified = timestamp::verify(0, &response, signature, &tsa.root(true, open_window()))
            .unwrap_or_else(|e| panic!("embedded certificates {embed}: {e}"));
        assert!(
            (verified.time - now).abs() < 120,
            "time {} vs now {now}",
            verified.time
        );
        assert_eq!(verified.uri, "https://tsa.test");
    }
    // With only the authority's root in the trusted root, the token must bring its leaf.
    let embedded = tsa.stamp(signature, true);
    timestamp::verify(0, &embedded, signature, &tsa.root(false, open_window())).unwrap();
    let bare = tsa.stamp(signature, false);
    let e = timestamp::verify(0, &bare, signature, &tsa.root(false, open_window())).unwrap_err();
    assert!(
        matches!(e, timestamp::Error::Untrusted { index: 0, .. }),
        "{e}"
    );
}

#[test]
fn bad_timestamps_are_refused_with_the_reason() {
    let tsa = Tsa::new("Test TSA");
    let signature = b"signature A";
    let response = tsa.stamp(signature, true);
    let root = tsa.root(true, open_window());

    let e = timestamp::verify(3, &response, b"signature B", &root).unwrap_err();
    assert!(matches!(e, timestamp::Error::Imprint { index: 3 }), "{e}");
    assert!(e.to_string().contains("timestamp 3"), "{e}");

    let other = Tsa::new("Other TSA");
    let e =
        timestamp::verify(0, &response, signature, &other.root(true, open_window())).unwrap_err();
    assert!(matches!(e, timestamp::Error::Untrusted { .. }), "{e}");

    let expired = tsa.root(
        true,
        serde_json::json!({"start": "2020-01-01T00:00:00Z", "end": "2021-01-01T00:00:00Z"}),
    );
    let e = timestamp::verify(0, &response, signature, &expired).unwrap_err();
    assert!(
        e.to_string().contains("outside the authority's validity"),
        "{e}"
    );

    // Every truncation of a real response is an error naming the timestamp, never a panic.
    for cut in 0..response.len() {
        let e = timestamp::verify(1, &response[..cut], signature, &root).unwrap_err();
        assert!(e.to_string().contains("timestamp 1"), "cut at {cut}: {e}");
    }

    let many = vec![response.clone(); timestamp::MAX_TIMESTAMPS + 1];
    let e = timestamp::verify_all(&many, signature, &root).unwrap_err();
    assert!(matches!(e, timestamp::Error::TooMany { count: 33 }), "{e}");
    let (verified, errors) = timestamp::verify_all(&many[..2], signature, &root).unwrap();
    assert_eq!(verified.len(), 1, "one authority counts once");
    assert!(matches!(
        errors[..],
        [timestamp::Error::Duplicate { index: 1, .. }]
    ));
}

/// A key-signed message signature whose only time evidence is a TSA timestamp, under a root
/// that lists no transparency log: verified as sigstore-go's conformance client does.
#[test]
fn a_timestamped_key_signed_bundle_verifies_without_a_log() {
    let tsa = Tsa::new("Test TSA");
    let key = PrivateKey::generate_ecdsa_p256().unwrap();
    let artifact = b"artifact bytes";
    let signature = key.sign(artifact).unwrap();
    let bundle = |stamped: &[u8]| {
        let json = serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "publicKey": {"hint": key::public_key_hint(&key.public_key()).unwrap()},
                "timestampVerificationData": {"rfc3161Timestamps": [
                    {"signedTimestamp": STANDARD.encode(tsa.stamp(stamped, true))}
                ]}
            },
            "messageSignature": {
                "messageDigest": {"algorithm": "SHA2_256", "digest": STANDARD.encode(Sha256::digest(artifact))},
                "signature": STANDARD.encode(&signature)
            }
        });
        Bundle::from_json(json.to_string().as_bytes()).unwrap()
    };
    let policy = Policy {
        expected: Expected::Key(key.public_key()),
        ignore_tlog: false,
        ignore_sct: false,
    };
    let root = tsa.root(true, open_window());
    let verified = verify::verify_bundle_artifact(
        &bundle(&signature),
        Artifact::Bytes(artifact),
        &policy,
        Some(&root),
        verify::now(),
    )
    .unwrap();
    assert_eq!(verified.times.len(), 1);

    let e = verify::verify_bundle_artifact(
        &bundle(b"another signature"),
        Artifact::Bytes(artifact),
        &policy,
        Some(&root),
        verify::now(),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            verify::Error::Timestamp(timestamp::Error::Imprint { .. })
        ),
        "{e}"
    );
}

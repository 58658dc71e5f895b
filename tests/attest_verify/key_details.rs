//! Every protobuf-specs `PublicKeyDetails` a trusted root can state for a log key: keys and
//! signatures made by OpenSSL, each key parsed as its `keyDetails` says and checked with the
//! scheme it names; unusable keys (unparseable, unsupported, the wrong type) are skipped one by
//! one, never the whole root; and the real staging root, whose expired CT key is PKCS#1 RSA.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use receipts::attest::verify::{TrustedRoot, key_details, signature};

use crate::support::attest::describe;

fn openssl_in(dir: &Path, args: &[&str]) -> Vec<u8> {
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
    output.stdout
}

/// One key made by openssl: its `keyDetails`, the public key bytes in that encoding, and a
/// signature over `MESSAGE` in that scheme.
struct Case {
    details: &'static str,
    raw: Vec<u8>,
    signature: Vec<u8>,
}

const MESSAGE: &[u8] = b"a checkpoint body\n";

fn make(dir: &Path, details: &'static str) -> Case {
    let (genpkey, encoding, sign): (&[&str], &str, &[&str]) = match details {
        "PKCS1_RSA_PKCS1V5" => (
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            "pkcs1",
            &["-sha256"],
        ),
        "PKIX_RSA_PKCS1V5" | "PKIX_RSA_PKCS1V15_2048_SHA256" => (
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            "pkix",
            &["-sha256"],
        ),
        "PKIX_RSA_PKCS1V15_3072_SHA256" => (
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
            "pkix",
            &["-sha256"],
        ),
        "PKIX_RSA_PKCS1V15_4096_SHA256" => (
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096"],
            "pkix",
            &["-sha256"],
        ),
        "PKIX_RSA_PSS_2048_SHA256" | "PKIX_RSA_PSS" => (
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            "pkix",
            &[
                "-sha256",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:digest",
            ],
        ),
        "PKCS1_RSA_PSS" => (
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            "pkcs1",
            &[
                "-sha256",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:digest",
            ],
        ),
        "PKIX_ECDSA_P256_SHA_256" | "PKIX_ECDSA_P256_HMAC_SHA_256" => (
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            "pkix",
            &["-sha256"],
        ),
        "PKIX_ECDSA_P384_SHA_384" => (
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
            "pkix",
            &["-sha384"],
        ),
        "PKIX_ECDSA_P384_SHA_256" => (
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
            "pkix",
            &["-sha256"],
        ),
        "PKIX_ECDSA_P521_SHA_512" => (
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
            "pkix",
            &["-sha512"],
        ),
        "PKIX_ECDSA_P521_SHA_256" => (
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
            "pkix",
            &["-sha256"],
        ),
        "PKIX_ED25519" => (&["-algorithm", "ED25519"], "pkix", &[]),
        other => panic!("no recipe for {other}"),
    };
    let key = format!("{details}.pem");
    let mut args = vec!["genpkey"];
    args.extend_from_slice(genpkey);
    args.extend_from_slice(&["-out", &key]);
    openssl_in(dir, &args);
    let raw = if encoding == "pkcs1" {
        openssl_in(
            dir,
            &["rsa", "-in", &key, "-RSAPublicKey_out", "-outform", "DER"],
        )
    } else {
        openssl_in(dir, &["pkey", "-in", &key, "-pubout", "-outform", "DER"])
    };
    std::fs::write(dir.join("message"), MESSAGE).unwrap();
    let signature = if details == "PKIX_ED25519" {
        openssl_in(
            dir,
            &[
                "pkeyutl", "-sign", "-inkey", &key, "-rawin", "-in", "message",
            ],
        )
    } else {
        let mut args = vec!["dgst"];
        args.extend_from_slice(sign);
        args.extend_from_slice(&["-sign", &key, "message"]);
        openssl_in(dir, &args)
    };
    Case {
        details,
        raw,
        signature,
    }
}

fn log(details: &str, raw: &[u8], id: u8, valid_for: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "baseUrl": format!("https://log{id}.test"),
        "hashAlgorithm": "SHA2_256",
        "publicKey": {"rawBytes": STANDARD.encode(raw), "keyDetails": details, "validFor": valid_for},
        "logId": {"keyId": STANDARD.encode([id; 32])}
    })
}

fn root_of(tlogs: Vec<serde_json::Value>) -> TrustedRoot {
    let json = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": tlogs,
    });
    TrustedRoot::from_json(json.to_string().as_bytes(), "test root").unwrap()
}

#[test]
fn every_key_details_parses_and_verifies_openssl_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "PKCS1_RSA_PKCS1V5",
        "PKCS1_RSA_PSS",
        "PKIX_RSA_PKCS1V5",
        "PKIX_RSA_PSS",
        "PKIX_RSA_PKCS1V15_2048_SHA256",
        "PKIX_RSA_PKCS1V15_3072_SHA256",
        "PKIX_RSA_PKCS1V15_4096_SHA256",
        "PKIX_RSA_PSS_2048_SHA256",
        "PKIX_ECDSA_P256_HMAC_SHA_256",
        "PKIX_ECDSA_P256_SHA_256",
        "PKIX_ECDSA_P384_SHA_384",
        "PKIX_ECDSA_P521_SHA_512",
        "PKIX_ED25519",
        "PKIX_ECDSA_P384_SHA_256",
        "PKIX_ECDSA_P521_SHA_256",
    ];
    let cases: Vec<Case> = names.iter().map(|n| make(dir.path(), n)).collect();
    let window = serde_json::json!({"start": "2020-01-01T00:00:00Z"});
    let tlogs = cases
        .iter()
        .enumerate()
        .map(|(i, c)| log(c.details, &c.raw, i as u8, window.clone()))
        .collect();
    let root = root_of(tlogs);
    assert!(root.unusable_keys.is_empty(), "{:?}", root.unusable_keys);
    assert_eq!(root.tlogs.len(), cases.len());
    for (case, key) in cases.iter().zip(&root.tlogs) {
        assert_eq!(key.scheme.name, case.details);
        signature::verify_scheme(&key.key, &key.scheme, MESSAGE, &case.signature)
            .unwrap_or_else(|e| panic!("{}: {e}", case.details));
        let wrong = signature::verify_scheme(&key.key, &key.scheme, b"other", &case.signature);
        assert!(
            wrong.is_err(),
            "{}: a signature over other bytes verified",
            case.details
        );
    }
}

#[test]
fn unusable_keys_are_skipped_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let p256 = make(dir.path(), "PKIX_ECDSA_P256_SHA_256");
    let rsa2048 = make(dir.path(), "PKIX_RSA_PKCS1V15_2048_SHA256");
    let window =
        serde_json::json!({"start": "2020-01-01T00:00:00Z", "end": "2021-01-01T00:00:00Z"});
    let root = root_of(vec![
        log("PKIX_ECDSA_P256_SHA_256", b"not a key", 1, window.clone()),
        log("ML_DSA_65", &p256.raw, 2, window.clone()),
        log("PKIX_ED25519", &p256.raw, 3, window.clone()),
        log(
            "PKIX_RSA_PKCS1V15_4096_SHA256",
            &rsa2048.raw,
            4,
            window.clone(),
        ),
        log("NOT_A_KEY_TYPE", &p256.raw, 5, window.clone()),
        // Expired (validFor.end in the past) but well-formed: usable for entries in its window.
        log("PKIX_ECDSA_P256_SHA_256", &p256.raw, 6, window),
    ]);
    assert_eq!(root.tlogs.len(), 1, "only the well-formed key remains");
    assert_eq!(root.tlogs[0].log_id, vec![6; 32]);
    let reasons: Vec<(String, &key_details::Unusable)> = root
        .unusable_keys
        .iter()
        .map(|k| (k.field.clone(), &k.reason))
        .collect();
    assert!(
        matches!(reasons[0].1, key_details::Unusable::Parse { .. }),
        "{reasons:?}"
    );
    assert!(matches!(
        reasons[1].1,
        key_details::Unusable::Unsupported { .. }
    ));
    assert!(matches!(
        reasons[2].1,
        key_details::Unusable::Mismatch { .. }
    ));
    assert!(matches!(
        reasons[3].1,
        key_details::Unusable::RsaSize { bits: 2048, .. }
    ));
    assert!(matches!(
        reasons[4].1,
        key_details::Unusable::Unknown { .. }
    ));
    assert_eq!(reasons[0].0, "tlogs[0].publicKey");
    // The window's end is inclusive.
    let end = 1_609_459_200;
    assert!(root.tlogs[0].valid_at(end) && !root.tlogs[0].valid_at(end + 1));
}

#[test]
fn the_staging_root_loads_with_its_pkcs1_ct_key() {
    let root = TrustedRoot::from_file(&crate::support::data(
        "sigstore/trust-roots/staging-trusted_root.json",
    ))
    .unwrap();
    assert!(root.unusable_keys.is_empty(), "{:?}", root.unusable_keys);
    let pkcs1 = root
        .ctlogs
        .iter()
        .find(|k| k.scheme.name == "PKCS1_RSA_PKCS1V5")
        .expect("the staging CT log key of type PKCS1_RSA_PKCS1V5");
    assert!(pkcs1.valid_until.is_some(), "it expired in 2022");
    assert!(!root.timestamp_authorities.is_empty());
    for name in ["public-good-trusted_root.json", "staging-trusted_root.json"] {
        let path = crate::support::data(&format!("sigstore/trust-roots/{name}"));
        let root = TrustedRoot::from_file(&path).unwrap();
        assert!(
            root.unusable_keys.is_empty(),
            "{name}: {:?}",
            root.unusable_keys
        );
    }
}

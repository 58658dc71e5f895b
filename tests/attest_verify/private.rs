//! End to end against a private Sigstore (tests/attest_verify/pki.rs) and a real registry:
//! keyless legacy `.att` layers and keyless bundle referrers verify with identity, issuer,
//! GitHub claims, SET, inclusion proof, checkpoint and SCT; changing any one byte of the
//! envelope, certificate, SET, body or proof is rejected; key-based recipes A and B.

use std::collections::BTreeMap;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use receipts::attest::bundle::{Bundle, Content, Signer};
use receipts::attest::dsse::{Envelope, EnvelopeForm};
use receipts::attest::names;
use receipts::attest::verify::image::{self, Scheme};
use receipts::attest::verify::{
    self, Error, Expected, GithubClaims, Identity, Matcher, Policy, SignerIdentity, certificate,
    sct,
};
use receipts::oci::{Digest, Store, media_type};
use serde_json::json;

use super::oci::{push_subject, put_blob};
use super::pki::{APKO_TYPE, IDENTITY, ISSUER, Leaf, LeafSpec, Pki, signed_statement};
use super::*;
use crate::support::registry::Registry;

fn image_digest() -> [u8; 32] {
    digest_bytes(FIXTURE_DIGEST_HEX)
}

fn keyless() -> Policy {
    identity(IDENTITY, ISSUER)
}

/// A keyless legacy layer: its bytes and annotations (certificate, chain, Rekor bundle).
fn legacy_layer(
    pki: &Pki,
    leaf: &Leaf,
    integrated_time: i64,
) -> (Vec<u8>, BTreeMap<String, String>) {
    let envelope = signed_statement("127.0.0.1:5000/repo", &image_digest(), &leaf.key.private);
    let layer = envelope.to_json(EnvelopeForm::CosignV3);
    let body = Pki::dsse_body(&envelope, &layer, &leaf.pem());
    let annotations = BTreeMap::from([
        (names::SIGNATURE_ANNOTATION.to_owned(), String::new()),
        (
            names::PREDICATE_TYPE_ANNOTATION.to_owned(),
            APKO_TYPE.to_owned(),
        ),
        (names::CERTIFICATE_ANNOTATION.to_owned(), leaf.pem()),
        (names::CHAIN_ANNOTATION.to_owned(), pki.chain_pem()),
        (
            names::REKOR_BUNDLE_ANNOTATION.to_owned(),
            pki.rekor_bundle_annotation(&body, integrated_time),
        ),
    ]);
    (layer, annotations)
}

fn keyless_bundle(pki: &Pki, leaf: &Leaf) -> Bundle {
    let envelope = signed_statement("127.0.0.1:5000/repo", &image_digest(), &leaf.key.private);
    Bundle::from_json(pki.bundle_json(&envelope, leaf, verify::now()).as_bytes()).unwrap()
}

fn push_legacy(store: &Store, layer: &[u8], annotations: &BTreeMap<String, String>) {
    let layer_digest = Digest::of(layer);
    let config = format!(
        "{{\"architecture\":\"\",\"created\":\"0001-01-01T00:00:00Z\",\"history\":[{{\"created\":\"0001-01-01T00:00:00Z\"}}],\"os\":\"\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"{layer_digest}\"]}},\"config\":{{}}}}"
    );
    put_blob(store, media_type::OCI_CONFIG, config.clone().into_bytes());
    put_blob(store, names::DSSE_LAYER_MEDIA_TYPE, layer.to_vec());
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_MANIFEST,
        "config": {"mediaType": media_type::OCI_CONFIG, "size": config.len(), "digest": Digest::of(config.as_bytes()).to_string()},
        "layers": [{"mediaType": names::DSSE_LAYER_MEDIA_TYPE, "size": layer.len(), "digest": layer_digest.to_string(), "annotations": annotations}]
    })
    .to_string();
    store
        .put_manifest(
            manifest.as_bytes(),
            media_type::OCI_MANIFEST,
            Some(&format!("sha256-{FIXTURE_DIGEST_HEX}.att")),
        )
        .unwrap();
}

fn push_bundle(store: &Store, bundle_json: &[u8]) {
    put_blob(store, names::EMPTY_MEDIA_TYPE, names::EMPTY_BLOB.to_vec());
    put_blob(
        store,
        receipts::attest::bundle::BUNDLE_V03_MEDIA_TYPE,
        bundle_json.to_vec(),
    );
    let subject = read("derived/cosign/subject-empty-image.manifest.json");
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_MANIFEST,
        "config": {"mediaType": names::EMPTY_MEDIA_TYPE, "size": 2, "digest": Digest::of(names::EMPTY_BLOB).to_string()},
        "layers": [{"mediaType": receipts::attest::bundle::BUNDLE_V03_MEDIA_TYPE, "size": bundle_json.len(), "digest": Digest::of(bundle_json).to_string()}],
        "subject": {"mediaType": media_type::DOCKER_MANIFEST, "size": subject.len(), "digest": format!("sha256:{FIXTURE_DIGEST_HEX}")},
        "artifactType": receipts::attest::bundle::BUNDLE_V03_MEDIA_TYPE
    })
    .to_string();
    let referrer = store
        .put_manifest(manifest.as_bytes(), media_type::OCI_MANIFEST, None)
        .unwrap();
    let index = json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_INDEX,
        "manifests": [{"mediaType": media_type::OCI_MANIFEST, "size": referrer.size, "digest": referrer.digest.to_string(), "artifactType": receipts::attest::bundle::BUNDLE_V03_MEDIA_TYPE}]
    })
    .to_string();
    store
        .put_manifest(
            index.as_bytes(),
            media_type::OCI_INDEX,
            Some(&format!("sha256-{FIXTURE_DIGEST_HEX}")),
        )
        .unwrap();
}

fn open(text: &str) -> (receipts::oci::Reference, Store) {
    let reference = receipts::oci::Reference::parse(text).unwrap();
    let store = Store::create(&reference, &Default::default()).unwrap();
    (reference, store)
}

fn cosign_rebuild(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"));
    command
        .env_remove("SIGSTORE_ROOT_FILE")
        .env_remove("SIGSTORE_REKOR_PUBLIC_KEY")
        .env_remove("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE");
    for (name, value) in env {
        command.env(name, value);
    }
    command.args(args).output().expect("run cosign-rebuild")
}

#[test]
fn keyless_legacy_in_a_registry_verifies_end_to_end() {
    let pki = Pki::new();
    let leaf = pki.leaf(&LeafSpec::default());
    let registry = Registry::start();
    let image_ref = format!("{}:latest", registry.repository("private-legacy"));
    let (reference, store) = open(&image_ref);
    push_subject(&store);
    let (layer, annotations) = legacy_layer(&pki, &leaf, verify::now());
    push_legacy(&store, &layer, &annotations);

    let mut policy = keyless();
    if let Expected::Identity(identity) = &mut policy.expected {
        identity.github.repository = Some("acme/app".to_owned());
        identity.github.trigger = Some("push".to_owned());
    }
    let verified = image::verify_image(
        &store,
        &reference,
        &policy,
        Some(&pki.trusted_root()),
        Some(APKO_TYPE),
        verify::now(),
    )
    .unwrap();
    assert_eq!(verified.scheme, Scheme::Legacy);
    assert_eq!(verified.attestations[0].envelope_json, layer);
    assert_eq!(
        verified.attestations[0].signer,
        SignerIdentity::Certificate {
            subject: IDENTITY.to_owned(),
            issuer: ISSUER.to_owned()
        }
    );

    // The legacy per-service overrides instead of a trusted root, through the command.
    let scratch = registry.scratch("keys");
    let chain = scratch.join("chain.pem");
    let rekor = scratch.join("rekor.pub");
    let ct = scratch.join("ct.pub");
    std::fs::write(&chain, pki.chain_pem()).unwrap();
    std::fs::write(&rekor, pki.rekor.pem()).unwrap();
    std::fs::write(&ct, pki.ct.pem()).unwrap();
    let env = [
        ("SIGSTORE_ROOT_FILE", chain.to_str().unwrap()),
        ("SIGSTORE_REKOR_PUBLIC_KEY", rekor.to_str().unwrap()),
        ("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", ct.to_str().unwrap()),
    ];
    let output = cosign_rebuild(
        &[
            "verify",
            &image_ref,
            "--type",
            APKO_TYPE,
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
            "--certificate-github-workflow-repository",
            "acme/app",
        ],
        &env,
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(output.stdout, [layer.as_slice(), b"\n"].concat());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("Certificate subject: {IDENTITY}")),
        "{stderr}"
    );

    let output = cosign_rebuild(
        &[
            "verify",
            &image_ref,
            "--type",
            APKO_TYPE,
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
            "--certificate-github-workflow-repository",
            "acme/other",
        ],
        &env,
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("expected GitHub Workflow Repository not found in certificate"),
        "{output:?}"
    );

    // The same overrides do not serve bundles: cosign requires a trusted root for them.
    let envelope = signed_statement("127.0.0.1:5000/repo", &image_digest(), &leaf.key.private);
    push_bundle(
        &store,
        pki.bundle_json(&envelope, &leaf, verify::now()).as_bytes(),
    );
    let output = cosign_rebuild(
        &[
            "verify",
            &image_ref,
            "--type",
            APKO_TYPE,
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ],
        &env,
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("trusted root is required when using new bundle format"),
        "{output:?}"
    );
}

#[test]
fn keyless_bundle_in_a_registry_verifies_end_to_end() {
    let pki = Pki::new();
    let leaf = pki.leaf(&LeafSpec::default());
    let registry = Registry::start();
    let image_ref = format!("{}:latest", registry.repository("private-bundle"));
    let (reference, store) = open(&image_ref);
    push_subject(&store);
    let envelope = signed_statement("127.0.0.1:5000/repo", &image_digest(), &leaf.key.private);
    let bundle_json = pki.bundle_json(&envelope, &leaf, verify::now());
    push_bundle(&store, bundle_json.as_bytes());

    let verified = image::verify_image(
        &store,
        &reference,
        &keyless(),
        Some(&pki.trusted_root()),
        Some(APKO_TYPE),
        verify::now(),
    )
    .unwrap();
    assert_eq!(verified.scheme, Scheme::Bundle);
    assert_eq!(
        verified.attestations[0].envelope_json,
        envelope.to_json(EnvelopeForm::CosignV3)
    );

    let scratch = registry.scratch("root");
    let root = scratch.join("trusted_root.json");
    std::fs::write(&root, pki.trusted_root_json()).unwrap();
    let predicate = scratch.join("config.json");
    let output = cosign_rebuild(
        &[
            "verify",
            &image_ref,
            "--type",
            APKO_TYPE,
            "--certificate-identity-regexp",
            "^https://github\\.com/acme/",
            "--certificate-oidc-issuer-regexp",
            "actions",
            "--trusted-root",
            root.to_str().unwrap(),
            "--predicate-out",
            predicate.to_str().unwrap(),
        ],
        &[],
    );
    assert!(output.status.success(), "{output:?}");
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&predicate).unwrap()).unwrap();
    assert_eq!(written["contents"]["packages"][0], "busybox=1.37.0-r0");

    let output = cosign_rebuild(
        &[
            "verify",
            &image_ref,
            "--type",
            APKO_TYPE,
            "--certificate-identity-regexp",
            "^https://github\\.com/other/",
            "--certificate-oidc-issuer",
            ISSUER,
            "--trusted-root",
            root.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
}

fn flip(bytes: &mut [u8], index: usize) {
    bytes[index] ^= 0x01;
}

/// Positions spread over a byte string: first, last and a stride through the middle.
fn positions(len: usize) -> Vec<usize> {
    let stride = (len / 23).max(1);
    let mut out: Vec<usize> = (0..len).step_by(stride).collect();
    out.push(len - 1);
    out
}

#[test]
fn legacy_tampering_with_any_byte_is_rejected() {
    let pki = Pki::new();
    let leaf = pki.leaf(&LeafSpec::default());
    let root = pki.trusted_root();
    let now = verify::now();
    let (layer, annotations) = legacy_layer(&pki, &leaf, now);
    let check = |layer: &[u8], annotations: &BTreeMap<String, String>| {
        verify::verify_legacy(
            layer,
            annotations,
            &image_digest(),
            &keyless(),
            Some(&root),
            now,
        )
    };
    check(&layer, &annotations).expect("untampered layer verifies");

    // The envelope: every byte of the layer is covered by the logged envelope hash.
    for i in positions(layer.len()) {
        let mut tampered = layer.clone();
        flip(&mut tampered, i);
        assert!(check(&tampered, &annotations).is_err(), "layer byte {i}");
    }
    // The envelope re-signed consistently but over another payload is caught by the signature.
    let mut envelope = Envelope::from_json(&layer).unwrap();
    flip(&mut envelope.payload, 20);
    let error = check(&envelope.to_json(EnvelopeForm::CosignV3), &annotations).unwrap_err();
    assert!(
        error.to_string().starts_with("matching bundle to payload"),
        "{error}"
    );

    // The certificate.
    for i in positions(leaf.der.len()) {
        let mut der = leaf.der.clone();
        flip(&mut der, i);
        let mut tampered = annotations.clone();
        tampered.insert(
            names::CERTIFICATE_ANNOTATION.to_owned(),
            receipts::attest::key::pem::encode("CERTIFICATE", &der),
        );
        assert!(check(&layer, &tampered).is_err(), "certificate byte {i}");
    }
    // The SET and the logged body.
    let rekor: serde_json::Value =
        serde_json::from_str(&annotations[names::REKOR_BUNDLE_ANNOTATION]).unwrap();
    for field in ["SignedEntryTimestamp", "body"] {
        let original = if field == "body" {
            rekor["Payload"]["body"].as_str().unwrap()
        } else {
            rekor[field].as_str().unwrap()
        };
        let decoded = STANDARD.decode(original).unwrap();
        for i in positions(decoded.len()) {
            let mut bytes = decoded.clone();
            flip(&mut bytes, i);
            let mut value = rekor.clone();
            if field == "body" {
                value["Payload"]["body"] = STANDARD.encode(&bytes).into();
            } else {
                value[field] = STANDARD.encode(&bytes).into();
            }
            let mut tampered = annotations.clone();
            tampered.insert(names::REKOR_BUNDLE_ANNOTATION.to_owned(), value.to_string());
            assert!(check(&layer, &tampered).is_err(), "{field} byte {i}");
        }
    }
    let mut value = rekor.clone();
    value["Payload"]["integratedTime"] = (now + 1).into();
    let mut tampered = annotations.clone();
    tampered.insert(names::REKOR_BUNDLE_ANNOTATION.to_owned(), value.to_string());
    assert!(matches!(
        check(&layer, &tampered),
        Err(Error::Rekor(verify::rekor::Error::Set { .. }))
    ));
}

#[test]
fn bundle_tampering_with_any_byte_is_rejected() {
    let pki = Pki::new();
    let leaf = pki.leaf(&LeafSpec::default());
    let root = pki.trusted_root();
    let bundle = keyless_bundle(&pki, &leaf);
    let check = |bundle: &Bundle| {
        verify::verify_attestation_bundle(
            bundle,
            &image_digest(),
            &keyless(),
            Some(&root),
            verify::now(),
        )
    };
    check(&bundle).expect("untampered bundle verifies");

    let Content::DsseEnvelope(envelope) = &bundle.content else {
        panic!("DSSE bundle")
    };
    for i in positions(envelope.payload.len()) {
        let mut tampered = bundle.clone();
        if let Content::DsseEnvelope(e) = &mut tampered.content {
            flip(&mut e.payload, i);
        }
        assert!(check(&tampered).is_err(), "payload byte {i}");
    }
    for i in positions(envelope.signatures[0].sig.len()) {
        let mut tampered = bundle.clone();
        if let Content::DsseEnvelope(e) = &mut tampered.content {
            flip(&mut e.signatures[0].sig, i);
        }
        assert!(check(&tampered).is_err(), "signature byte {i}");
    }
    for i in positions(leaf.der.len()) {
        let mut tampered = bundle.clone();
        if let Signer::Certificate(der) = &mut tampered.verification_material.signer {
            flip(der, i);
        }
        assert!(check(&tampered).is_err(), "certificate byte {i}");
    }
    let entry = &bundle.verification_material.tlog_entries[0];
    for i in positions(entry.inclusion_promise.as_ref().unwrap().len()) {
        let mut tampered = bundle.clone();
        let e = &mut tampered.verification_material.tlog_entries[0];
        flip(e.inclusion_promise.as_mut().unwrap(), i);
        assert!(check(&tampered).is_err(), "SET byte {i}");
    }
    for i in positions(entry.canonicalized_body.len()) {
        let mut tampered = bundle.clone();
        flip(
            &mut tampered.verification_material.tlog_entries[0].canonicalized_body,
            i,
        );
        assert!(check(&tampered).is_err(), "body byte {i}");
    }
    for i in 0..32 {
        let mut tampered = bundle.clone();
        let proof = tampered.verification_material.tlog_entries[0]
            .inclusion_proof
            .as_mut()
            .unwrap();
        flip(&mut proof.root_hash, i);
        assert!(check(&tampered).is_err(), "root hash byte {i}");
    }
    let checkpoint = entry
        .inclusion_proof
        .as_ref()
        .unwrap()
        .checkpoint
        .clone()
        .unwrap();
    for i in positions(checkpoint.len()) {
        let mut bytes = checkpoint.clone().into_bytes();
        flip(&mut bytes, i);
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let mut tampered = bundle.clone();
        tampered.verification_material.tlog_entries[0]
            .inclusion_proof
            .as_mut()
            .unwrap()
            .checkpoint = Some(text);
        assert!(check(&tampered).is_err(), "checkpoint byte {i}");
    }
    let mut tampered = bundle.clone();
    tampered.verification_material.tlog_entries[0].integrated_time += 1;
    assert!(check(&tampered).is_err(), "integrated time");
    let mut tampered = bundle.clone();
    tampered.verification_material.tlog_entries[0].inclusion_proof = None;
    assert!(check(&tampered).is_err(), "missing proof");
}

#[test]
fn certificate_rules_sct_eku_ca_and_time() {
    let pki = Pki::new();
    let root = pki.trusted_root();
    let now = verify::now();

    // No embedded SCT: cosign's message, unless --insecure-ignore-sct.
    let leaf = pki.leaf(&LeafSpec {
        sct: false,
        ..LeafSpec::default()
    });
    let bundle = keyless_bundle(&pki, &leaf);
    let error =
        verify::verify_attestation_bundle(&bundle, &image_digest(), &keyless(), Some(&root), now)
            .unwrap_err();
    assert!(matches!(error, Error::Sct(sct::Error::Missing)), "{error}");
    assert_eq!(
        error.to_string(),
        "certificate does not include required embedded SCT and no detached SCT was set"
    );
    let mut policy = keyless();
    policy.ignore_sct = true;
    verify::verify_attestation_bundle(&bundle, &image_digest(), &policy, Some(&root), now)
        .expect("SCT skipped");

    // An SCT from a log the root does not know.
    let other = Pki::new();
    let mut foreign_ct = pki.trusted_root();
    foreign_ct.ctlogs = other.trusted_root().ctlogs;
    let leaf = pki.leaf(&LeafSpec::default());
    let bundle = keyless_bundle(&pki, &leaf);
    let error = verify::verify_attestation_bundle(
        &bundle,
        &image_digest(),
        &keyless(),
        Some(&foreign_ct),
        now,
    )
    .unwrap_err();
    assert!(
        matches!(error, Error::Sct(sct::Error::Unverified { .. })),
        "{error}"
    );

    // No code-signing EKU.
    let leaf = pki.leaf(&LeafSpec {
        code_signing: false,
        ..LeafSpec::default()
    });
    let error = verify::verify_attestation_bundle(
        &keyless_bundle(&pki, &leaf),
        &image_digest(),
        &keyless(),
        Some(&root),
        now,
    )
    .unwrap_err();
    assert!(
        matches!(error, Error::Certificate(certificate::Error::CodeSigning)),
        "{error}"
    );

    // A leaf from another CA (its own Rekor and CT are trusted, its CA is not).
    let leaf = other.leaf(&LeafSpec::default());
    let mut mixed = other.trusted_root();
    mixed.certificate_authorities = root.certificate_authorities.clone();
    let error = verify::verify_attestation_bundle(
        &keyless_bundle(&other, &leaf),
        &image_digest(),
        &keyless(),
        Some(&mixed),
        now,
    )
    .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Certificate(certificate::Error::Untrusted { .. })
        ),
        "{error}"
    );

    // An expired certificate: fine when the log proves it signed in time (legacy), refused
    // without a timestamp.
    let leaf = pki.leaf(&LeafSpec {
        validity: (now - 3600, now - 3000),
        ..LeafSpec::default()
    });
    let (layer, annotations) = legacy_layer(&pki, &leaf, now - 3500);
    verify::verify_legacy(
        &layer,
        &annotations,
        &image_digest(),
        &keyless(),
        Some(&root),
        now,
    )
    .expect("logged while valid");
    let (late_layer, late_annotations) = legacy_layer(&pki, &leaf, now - 10);
    let error = verify::verify_legacy(
        &late_layer,
        &late_annotations,
        &image_digest(),
        &keyless(),
        Some(&root),
        now,
    )
    .unwrap_err();
    assert!(matches!(error, Error::CertificateTime { .. }), "{error}");
    let mut policy = keyless();
    policy.ignore_tlog = true;
    let error = verify::verify_legacy(
        &layer,
        &annotations,
        &image_digest(),
        &policy,
        Some(&root),
        now,
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "expected a signed timestamp to verify an expired certificate"
    );
    // The bundle path checks the chain at the logged time too.
    let envelope = signed_statement("127.0.0.1:5000/repo", &image_digest(), &leaf.key.private);
    let bundle = Bundle::from_json(pki.bundle_json(&envelope, &leaf, now - 10).as_bytes()).unwrap();
    assert!(
        verify::verify_attestation_bundle(&bundle, &image_digest(), &keyless(), Some(&root), now)
            .is_err()
    );

    // Legacy keyless layer without its certificate.
    let leaf = pki.leaf(&LeafSpec::default());
    let (layer, mut annotations) = legacy_layer(&pki, &leaf, now);
    annotations.remove(names::CERTIFICATE_ANNOTATION);
    let error = verify::verify_legacy(
        &layer,
        &annotations,
        &image_digest(),
        &keyless(),
        Some(&root),
        now,
    )
    .unwrap_err();
    assert_eq!(error.to_string(), "no certificate found on signature");
}

#[test]
fn key_based_recipes_a_and_b() {
    let pki = Pki::new();
    let key = super::pki::Key::generate();
    let now = verify::now();
    let envelope = signed_statement("127.0.0.1:5000/repo", &image_digest(), &key.private);
    let layer = envelope.to_json(EnvelopeForm::CosignV3);
    let by_key = |ignore_tlog: bool| Policy {
        expected: Expected::Key(key.public.clone()),
        ignore_tlog,
        ignore_sct: false,
    };

    // A: no transparency log, no trusted root.
    let plain = BTreeMap::from([(names::SIGNATURE_ANNOTATION.to_owned(), String::new())]);
    let verified =
        verify::verify_legacy(&layer, &plain, &image_digest(), &by_key(true), None, now).unwrap();
    assert_eq!(verified.signer, SignerIdentity::Key);
    let error = verify::verify_legacy(&layer, &plain, &image_digest(), &by_key(false), None, now)
        .unwrap_err();
    assert_eq!(error.to_string(), "offline verification failed");
    let bundle = Bundle::for_key_signed_envelope(envelope.clone(), &key.public).unwrap();
    verify::verify_attestation_bundle(&bundle, &image_digest(), &by_key(true), None, now)
        .expect("key bundle without log");
    let other_key = super::pki::Key::generate();
    let wrong = Policy {
        expected: Expected::Key(other_key.public.clone()),
        ignore_tlog: true,
        ignore_sct: false,
    };
    assert!(matches!(
        verify::verify_attestation_bundle(&bundle, &image_digest(), &wrong, None, now),
        Err(Error::Dsse(_))
    ));

    // B: a SET from the private Rekor key over a body naming the key.
    let body = Pki::dsse_body(&envelope, &layer, &key.pem());
    let annotations = BTreeMap::from([
        (names::SIGNATURE_ANNOTATION.to_owned(), String::new()),
        (
            names::REKOR_BUNDLE_ANNOTATION.to_owned(),
            pki.rekor_bundle_annotation(&body, now),
        ),
    ]);
    let root = pki.trusted_root();
    verify::verify_legacy(
        &layer,
        &annotations,
        &image_digest(),
        &by_key(false),
        Some(&root),
        now,
    )
    .expect("recipe B");
    // The same entry does not vouch for another key.
    let wrong = Policy {
        expected: Expected::Key(other_key.public.clone()),
        ignore_tlog: false,
        ignore_sct: false,
    };
    assert!(
        verify::verify_legacy(
            &layer,
            &annotations,
            &image_digest(),
            &wrong,
            Some(&root),
            now
        )
        .is_err()
    );
    // Another image digest.
    let mut other_digest = image_digest();
    other_digest[31] ^= 0xff;
    let error = verify::verify_legacy(
        &layer,
        &annotations,
        &other_digest,
        &by_key(false),
        Some(&root),
        now,
    )
    .unwrap_err();
    assert_eq!(error.to_string(), "no matching subject digest found");
}

#[test]
fn identity_matching_rules_per_path() {
    let pki = Pki::new();
    let leaf = pki.leaf(&LeafSpec::default());
    let cert = certificate::Cert::parse(&leaf.der).unwrap();
    assert_eq!(cert.issuer().as_deref(), Some(ISSUER));
    assert_eq!(cert.issuer_v1().as_deref(), Some(ISSUER));
    assert_eq!(cert.primary_san(), Some(IDENTITY));
    let regex = |subject: &str, issuer: &str| Identity {
        subject: Matcher::regex(subject).unwrap(),
        issuer: Matcher::regex(issuer).unwrap(),
        github: GithubClaims::default(),
    };
    // Unanchored, as Go's MatchString.
    regex("acme/app", "githubusercontent")
        .check_bundle(&cert)
        .unwrap();
    regex("acme/app", "githubusercontent")
        .check_legacy(&cert)
        .unwrap();
    assert!(regex("^acme", ".").check_bundle(&cert).is_err());
    assert!(regex(".", "^token").check_legacy(&cert).is_err());
}

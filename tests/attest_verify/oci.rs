//! cosign's real attestation stored as cosign stores it (the derived objects of
//! reference/cosign-attestations.md §15), in a real registry (Debian's docker-registry, which
//! has no referrers API, so the fallback tag is used) and in an OCI layout; found, verified
//! offline with `trusted_root_pgi.json`, printed by `download` and `verify`.

use std::path::Path;
use std::process::Command;

use receipts::attest::verify::image::{self, Scheme};
use receipts::attest::verify::{self, SignerIdentity};
use receipts::oci::image_set::{Blob, Content};
use receipts::oci::registry::Settings;
use receipts::oci::{Descriptor, Reference, Store, media_type};

use super::*;
use crate::support::registry::Registry;

const DERIVED: &str = "derived/cosign";
const CUSTOM: &str = "https://cosign.sigstore.dev/attestation/v1";

pub fn derived(name: &str) -> Vec<u8> {
    read(&format!("{DERIVED}/{name}"))
}

pub fn put_blob(store: &Store, media: &str, bytes: Vec<u8>) {
    store
        .put_blob(&Blob {
            descriptor: Descriptor::of(media, &bytes),
            content: Content::Bytes(bytes),
        })
        .expect("put blob");
}

/// The subject image (ggcr's empty image, docker media types) at tag `latest`.
pub fn push_subject(store: &Store) {
    put_blob(
        store,
        "application/vnd.docker.container.image.v1+json",
        derived("subject-empty-image.config.json"),
    );
    store
        .put_manifest(
            &derived("subject-empty-image.manifest.json"),
            media_type::DOCKER_MANIFEST,
            Some("latest"),
        )
        .expect("put subject");
}

/// The bundle referrer and its fallback index at `sha256-<subject hex>`.
fn push_bundle(store: &Store, fallback_tag_for: &str) {
    put_blob(store, "application/vnd.oci.empty.v1+json", b"{}".to_vec());
    put_blob(
        store,
        "application/vnd.dev.sigstore.bundle.v0.3+json",
        read(FIXTURE),
    );
    store
        .put_manifest(
            &derived("referrer.manifest.json"),
            media_type::OCI_MANIFEST,
            None,
        )
        .expect("put referrer");
    store
        .put_manifest(
            &derived("referrers-fallback-tag.index.json"),
            media_type::OCI_INDEX,
            Some(&format!("sha256-{fallback_tag_for}")),
        )
        .expect("put fallback index");
}

/// The legacy `.att` manifest with its config and layer.
fn push_legacy(store: &Store) {
    put_blob(
        store,
        media_type::OCI_CONFIG,
        derived("legacy-att.config.json"),
    );
    put_blob(
        store,
        "application/vnd.dsse.envelope.v1+json",
        derived("legacy-att.layer.dsse.json"),
    );
    store
        .put_manifest(
            &derived("legacy-att.manifest.json"),
            media_type::OCI_MANIFEST,
            Some(&format!("sha256-{FIXTURE_DIGEST_HEX}.att")),
        )
        .expect("put legacy manifest");
}

fn open(reference: &str) -> (Reference, Store) {
    let reference = Reference::parse(reference).expect("reference");
    let store = Store::create(&reference, &Settings::default()).expect("store");
    (reference, store)
}

fn verify_fixture(
    store: &Store,
    reference: &Reference,
    san: &str,
    issuer: &str,
) -> Result<image::VerifiedImage, image::Error> {
    image::verify_image(
        store,
        reference,
        &identity(san, issuer),
        Some(&pgi_root()),
        Some(CUSTOM),
        verify::now(),
    )
}

fn assert_fixture_identity(verified: &image::VerifiedImage, scheme: Scheme) {
    assert_eq!(verified.scheme, scheme);
    assert_eq!(verified.image.digest.hex(), FIXTURE_DIGEST_HEX);
    assert_eq!(verified.attestations.len(), 1);
    assert_eq!(
        verified.attestations[0].signer,
        SignerIdentity::Certificate {
            subject: FIXTURE_SAN.to_owned(),
            issuer: FIXTURE_ISSUER.to_owned()
        }
    );
}

#[test]
fn registry_bundle_referrer_verifies_and_wrong_identities_fail() {
    let registry = Registry::start();
    let (reference, store) = open(&format!("{}:latest", registry.repository("repo")));
    push_subject(&store);
    push_bundle(&store, FIXTURE_DIGEST_HEX);
    let verified = verify_fixture(&store, &reference, FIXTURE_SAN, FIXTURE_ISSUER).unwrap();
    assert_fixture_identity(&verified, Scheme::Bundle);

    let wrong_san = verify_fixture(&store, &reference, "eve@example.com", FIXTURE_ISSUER);
    let message = wrong_san.unwrap_err().to_string();
    assert!(
        message.starts_with("no matching attestations: ")
            && message.contains("no matching CertificateIdentity found"),
        "{message}"
    );
    let wrong_issuer = verify_fixture(&store, &reference, FIXTURE_SAN, "https://example.com");
    assert!(matches!(
        wrong_issuer,
        Err(image::Error::NoneVerified { .. })
    ));

    let wrong_type = image::verify_image(
        &store,
        &reference,
        &identity(FIXTURE_SAN, FIXTURE_ISSUER),
        Some(&pgi_root()),
        Some("https://apko.dev/image-configuration"),
        verify::now(),
    )
    .unwrap_err();
    assert_eq!(
        wrong_type.to_string(),
        format!(
            "none of the attestations matched the predicate type: https://apko.dev/image-configuration, found: {CUSTOM}"
        )
    );
}

#[test]
fn registry_bundle_listed_for_another_image_fails() {
    let registry = Registry::start();
    let (_, store) = open(&format!("{}:latest", registry.repository("repo")));
    push_subject(&store);
    // Another image: the legacy config as its config makes a different manifest.
    let config = derived("legacy-att.config.json");
    put_blob(&store, media_type::OCI_CONFIG, config.clone());
    let manifest = format!(
        "{{\"schemaVersion\":2,\"mediaType\":\"{}\",\"config\":{{\"mediaType\":\"{}\",\"size\":{},\"digest\":\"{}\"}},\"layers\":[]}}",
        media_type::OCI_MANIFEST,
        media_type::OCI_CONFIG,
        config.len(),
        receipts::oci::Digest::of(&config)
    );
    let other = store
        .put_manifest(manifest.as_bytes(), media_type::OCI_MANIFEST, Some("other"))
        .unwrap();
    // The fixture's referrer, listed in the other image's fallback index.
    push_bundle(&store, &other.digest.hex());
    let (reference, _) = open(&format!("{}:other", registry.repository("repo")));
    let error = verify_fixture(&store, &reference, FIXTURE_SAN, FIXTURE_ISSUER).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("provided artifact digest does not match any digest in statement"),
        "{error}"
    );
}

#[test]
fn registry_legacy_att_verifies_and_wrong_identities_fail() {
    let registry = Registry::start();
    let (reference, store) = open(&format!("{}:latest", registry.repository("legacy")));
    push_subject(&store);
    push_legacy(&store);
    let verified = verify_fixture(&store, &reference, FIXTURE_SAN, FIXTURE_ISSUER).unwrap();
    assert_fixture_identity(&verified, Scheme::Legacy);
    // Legacy output is the layer exactly as stored.
    assert_eq!(
        verified.attestations[0].envelope_json,
        derived("legacy-att.layer.dsse.json")
    );
    let error = verify_fixture(&store, &reference, "eve@example.com", FIXTURE_ISSUER).unwrap_err();
    assert!(
        error.to_string().contains(
            "none of the expected identities matched what was in the certificate, got subjects [cody@soyland.com] with issuer https://github.com/login/oauth"
        ),
        "{error}"
    );
    let error = verify_fixture(&store, &reference, FIXTURE_SAN, "https://example.com").unwrap_err();
    assert!(
        error
            .to_string()
            .contains("none of the expected identities"),
        "{error}"
    );
}

#[test]
fn layout_holds_both_schemes_and_bundles_take_precedence() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let (reference, store) = open(&format!("oci:{}:latest", layout.display()));
    push_subject(&store);
    push_legacy(&store);
    // Only legacy: the legacy path.
    let verified = verify_fixture(&store, &reference, FIXTURE_SAN, FIXTURE_ISSUER).unwrap();
    assert_fixture_identity(&verified, Scheme::Legacy);
    // With a bundle referrer too: only bundles are verified (cosign v3).
    push_bundle(&store, FIXTURE_DIGEST_HEX);
    let verified = verify_fixture(&store, &reference, FIXTURE_SAN, FIXTURE_ISSUER).unwrap();
    assert_fixture_identity(&verified, Scheme::Bundle);
    let error = verify_fixture(&store, &reference, "eve@example.com", FIXTURE_ISSUER).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("no matching CertificateIdentity"),
        "{error}"
    );
}

fn cosign_rebuild(args: &[&str]) -> std::process::Output {
    crate::support::without_tuf(&mut Command::new(env!("CARGO_BIN_EXE_cosign-rebuild")))
        .env_remove("SIGSTORE_ROOT_FILE")
        .env_remove("SIGSTORE_REKOR_PUBLIC_KEY")
        .env_remove("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE")
        .args(args)
        .output()
        .expect("run cosign-rebuild")
}

#[test]
fn download_and_verify_commands_against_a_registry() {
    let registry = Registry::start();
    let image_ref = format!("{}:latest", registry.repository("both"));
    let (_, store) = open(&image_ref);
    push_subject(&store);
    push_bundle(&store, FIXTURE_DIGEST_HEX);
    push_legacy(&store);

    // download: bundles first, then legacy envelopes (go-securesystemslib form), one per line.
    let output = cosign_rebuild(&["download", &image_ref]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    let bundle: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    let fixture: serde_json::Value = serde_json::from_slice(&read(FIXTURE)).unwrap();
    assert_eq!(bundle, fixture);
    assert_eq!(
        lines[1].as_bytes(),
        derived("legacy-att.layer.dsse.json").as_slice()
    );
    let output = cosign_rebuild(&["download", &image_ref, "--predicate-type", "custom"]);
    assert_eq!(String::from_utf8(output.stdout).unwrap().lines().count(), 2);
    let output = cosign_rebuild(&[
        "download",
        &image_ref,
        "--predicate-type",
        "https://apko.dev/image-configuration",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(
            "no attestations with predicate type 'https://apko.dev/image-configuration' found"
        ),
        "{output:?}"
    );

    // verify: the bundle path only; its envelope printed; the predicate written.
    let scratch = registry.scratch("verify");
    let predicate = scratch.join("predicate.json");
    let root = support::data(PGI_ROOT);
    let verify_args = |san: &str| {
        vec![
            "verify".to_owned(),
            image_ref.clone(),
            "--certificate-identity".to_owned(),
            san.to_owned(),
            "--certificate-oidc-issuer".to_owned(),
            FIXTURE_ISSUER.to_owned(),
            "--trusted-root".to_owned(),
            root.display().to_string(),
            "--predicate-out".to_owned(),
            predicate.display().to_string(),
        ]
    };
    let args = verify_args(FIXTURE_SAN);
    let output = cosign_rebuild(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    let printed: serde_json::Value = serde_json::from_str(stdout.trim_end()).unwrap();
    assert_eq!(printed["payload"], fixture["dsseEnvelope"]["payload"]);
    assert_eq!(printed["payloadType"], "application/vnd.in-toto+json");
    assert_eq!(
        printed["signatures"][0]["sig"],
        fixture["dsseEnvelope"]["signatures"][0]["sig"]
    );
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&predicate).unwrap()).unwrap();
    assert_eq!(
        written,
        serde_json::json!({"Data": "{\"foo\": \"bar\"}\n", "Timestamp": "2025-02-28T19:18:11Z"})
    );

    std::fs::remove_file(&predicate).unwrap();
    let args = verify_args("eve@example.com");
    let output = cosign_rebuild(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert!(!Path::new(&predicate).exists(), "no predicate on failure");

    // No trusted root: a clear error, no network.
    let output = cosign_rebuild(&[
        "verify",
        &image_ref,
        "--certificate-identity",
        FIXTURE_SAN,
        "--certificate-oidc-issuer",
        FIXTURE_ISSUER,
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--trusted-root"),
        "{output:?}"
    );
    // Keyless without an issuer: cosign's message.
    let output = cosign_rebuild(&["verify", &image_ref, "--certificate-identity", FIXTURE_SAN]);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(
            "--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode"
        ),
        "{output:?}"
    );
}

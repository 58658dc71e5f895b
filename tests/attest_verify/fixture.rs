//! cosign's real OCI attestation bundle (2025-02-28, public-good Fulcio and Rekor) verified
//! offline with `trusted_root_pgi.json`, as cosign's `pkg/cosign/verify_oci_test.go` does.

use receipts::attest::bundle::Bundle;
use receipts::attest::verify::{self, Error, Matcher, SignerIdentity, identity};

use super::*;

fn fixture() -> Bundle {
    Bundle::from_json(&read(FIXTURE)).expect("fixture bundle")
}

#[test]
fn real_bundle_verifies_with_its_identity() {
    let verified = verify::verify_attestation_bundle(
        &fixture(),
        &digest_bytes(FIXTURE_DIGEST_HEX),
        &identity(FIXTURE_SAN, FIXTURE_ISSUER),
        Some(&pgi_root()),
        verify::now(),
    )
    .expect("cosign's fixture verifies");
    assert_eq!(
        verified.signer,
        SignerIdentity::Certificate {
            subject: FIXTURE_SAN.to_owned(),
            issuer: FIXTURE_ISSUER.to_owned()
        }
    );
    assert_eq!(
        verified.statement.predicate_type,
        "https://cosign.sigstore.dev/attestation/v1"
    );
}

#[test]
fn real_bundle_identity_regexp_is_unanchored() {
    let mut policy = identity(FIXTURE_SAN, FIXTURE_ISSUER);
    if let verify::Expected::Identity(id) = &mut policy.expected {
        id.subject = Matcher::regex("soyland").unwrap();
        id.issuer = Matcher::regex("github\\.com").unwrap();
    }
    verify::verify_attestation_bundle(
        &fixture(),
        &digest_bytes(FIXTURE_DIGEST_HEX),
        &policy,
        Some(&pgi_root()),
        verify::now(),
    )
    .expect("unanchored regexps match");
}

#[test]
fn real_bundle_wrong_san_fails() {
    let error = verify::verify_attestation_bundle(
        &fixture(),
        &digest_bytes(FIXTURE_DIGEST_HEX),
        &identity("someone@example.com", FIXTURE_ISSUER),
        Some(&pgi_root()),
        verify::now(),
    )
    .unwrap_err();
    assert!(
        matches!(error, Error::Identity(identity::Error::Bundle { .. })),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "no matching CertificateIdentity found, last error: expected SAN value \"someone@example.com\", got \"cody@soyland.com\""
    );
}

#[test]
fn real_bundle_wrong_issuer_fails() {
    let error = verify::verify_attestation_bundle(
        &fixture(),
        &digest_bytes(FIXTURE_DIGEST_HEX),
        &identity(FIXTURE_SAN, "https://accounts.google.com"),
        Some(&pgi_root()),
        verify::now(),
    )
    .unwrap_err();
    assert!(
        matches!(error, Error::Identity(identity::Error::Bundle { .. })),
        "{error}"
    );
}

#[test]
fn real_bundle_for_another_digest_fails() {
    let mut other = digest_bytes(FIXTURE_DIGEST_HEX);
    other[0] ^= 1;
    let error = verify::verify_attestation_bundle(
        &fixture(),
        &other,
        &identity(FIXTURE_SAN, FIXTURE_ISSUER),
        Some(&pgi_root()),
        verify::now(),
    )
    .unwrap_err();
    assert!(matches!(error, Error::BundleSubject), "{error}");
}

#[test]
fn real_bundle_without_trusted_root_says_so() {
    let error = verify::verify_attestation_bundle(
        &fixture(),
        &digest_bytes(FIXTURE_DIGEST_HEX),
        &identity(FIXTURE_SAN, FIXTURE_ISSUER),
        None,
        verify::now(),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "trusted root is required when using new bundle format"
    );
}

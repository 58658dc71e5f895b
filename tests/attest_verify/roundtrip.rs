//! The writer (`attest::store`, what `cosign-rebuild attest --key` stores) read back by the
//! reader: both formats, in a registry and in an OCI layout, found and verified with the key
//! (cosign's recipe A: `--key … --insecure-ignore-tlog`, no trusted root), through the library
//! and through `cosign-rebuild verify` / `download`.

use std::process::Command;

use receipts::attest::statement::{Predicate, Sha256Digest, Statement, SubjectName};
use receipts::attest::store::{self, Format, Signed};
use receipts::attest::verify::image::{self, Scheme};
use receipts::attest::verify::{self, Expected, Policy, SignerIdentity};
use receipts::oci::{Reference, Store};

use super::oci::push_subject;
use super::pki::{APKO_TYPE, Key};
use crate::support::registry::Registry;

fn attest(store: &Store, reference: &Reference, key: &Key, format: Format) {
    let subject = store.resolve(reference).unwrap();
    let predicate = Predicate::from_json(br#"{"contents":{"packages":["busybox"]}}"#).unwrap();
    let statement = Statement::for_image(
        &SubjectName::from_reference("127.0.0.1:5000/roundtrip").unwrap(),
        &Sha256Digest::from_bytes(*subject.digest.as_bytes()),
        APKO_TYPE,
        predicate,
    );
    let signed = Signed::sign(&statement, &subject.digest, &key.private).unwrap();
    store::attach(store, &subject, &signed, format, "2026-01-01T00:00:00Z").unwrap();
}

fn check(store: &Store, reference: &Reference, key: &Key, scheme: Scheme) {
    let policy = Policy {
        expected: Expected::Key(key.public.clone()),
        ignore_tlog: true,
        ignore_sct: false,
    };
    let verified = image::verify_image(
        store,
        reference,
        &policy,
        None,
        Some(APKO_TYPE),
        verify::now(),
    )
    .unwrap();
    assert_eq!(verified.scheme, scheme);
    assert_eq!(verified.attestations.len(), 1);
    assert_eq!(verified.attestations[0].signer, SignerIdentity::Key);
    assert_eq!(
        verified.attestations[0].predicate_json(),
        r#"{"contents":{"packages":["busybox"]}}"#
    );
    let other = Key::generate();
    let wrong = Policy {
        expected: Expected::Key(other.public.clone()),
        ..policy
    };
    assert!(matches!(
        image::verify_image(
            store,
            reference,
            &wrong,
            None,
            Some(APKO_TYPE),
            verify::now()
        ),
        Err(image::Error::NoneVerified { .. })
    ));
}

#[test]
fn written_attestations_verify_in_a_registry_and_a_layout() {
    let key = Key::generate();
    let registry = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    for (name, format, scheme) in [
        ("legacy", Format::Legacy { replace: false }, Scheme::Legacy),
        ("bundle", Format::Bundle, Scheme::Bundle),
    ] {
        for text in [
            format!("{}:latest", registry.repository(name)),
            format!("oci:{}:latest", dir.path().join(name).display()),
        ] {
            let reference = Reference::parse(&text).unwrap();
            let store = Store::create(&reference, &Default::default()).unwrap();
            push_subject(&store);
            attest(&store, &reference, &key, format);
            check(&store, &reference, &key, scheme);
        }
    }
}

#[test]
fn verify_and_download_commands_read_what_attest_wrote() {
    let key = Key::generate();
    let registry = Registry::start();
    let image_ref = format!("{}:latest", registry.repository("cli"));
    let reference = Reference::parse(&image_ref).unwrap();
    let store = Store::create(&reference, &Default::default()).unwrap();
    push_subject(&store);
    attest(&store, &reference, &key, Format::Bundle);
    let public = registry.scratch("keys").join("cosign.pub");
    std::fs::write(&public, key.pem()).unwrap();
    let run = |args: &[&str]| {
        crate::support::without_tuf(&mut Command::new(env!("CARGO_BIN_EXE_cosign-rebuild")))
            .env_remove("SIGSTORE_ROOT_FILE")
            .env_remove("SIGSTORE_REKOR_PUBLIC_KEY")
            .env_remove("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE")
            .args(args)
            .output()
            .unwrap()
    };
    let output = run(&[
        "verify",
        &image_ref,
        "--key",
        public.to_str().unwrap(),
        "--insecure-ignore-tlog",
        "--type",
        APKO_TYPE,
    ]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8(output.stdout).unwrap().lines().count(), 1);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("WARNING: Skipping tlog verification")
    );
    // Without --insecure-ignore-tlog a key needs a trusted root (no network here).
    let output = run(&["verify", &image_ref, "--key", public.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    // The default type is cosign's `custom`: verified, then filtered out.
    let output = run(&[
        "verify",
        &image_ref,
        "--key",
        public.to_str().unwrap(),
        "--insecure-ignore-tlog",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(&format!(
            "none of the attestations matched the predicate type: https://cosign.sigstore.dev/attestation/v1, found: {APKO_TYPE}"
        )),
        "{output:?}"
    );
    let output = run(&["download", &image_ref, "--predicate-type", APKO_TYPE]);
    assert!(output.status.success(), "{output:?}");
    let line = String::from_utf8(output.stdout).unwrap();
    let bundle: serde_json::Value = serde_json::from_str(line.trim_end()).unwrap();
    assert_eq!(
        bundle["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
}

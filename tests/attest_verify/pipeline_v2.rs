//! `cosign-rebuild attest` with a signing config that lists a Rekor v2 log (the loopback
//! rekor-tiles stand-in of tests/support/sigstore): the envelope is logged as a `hashedrekord`
//! 0.0.2 entry over the DSSE PAE, the bundle holds its inclusion proof and checkpoint with no
//! SET and a TSA timestamp, and our verifier (no `--insecure-*` flag), sigstore-js and
//! sigstore-python accept it and refuse a one-byte change. Also: what Rekor v2 needs (a TSA,
//! the bundle format), and our verifier's refusal of changed timestamps and of a timestamp
//! outside the certificate's validity.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::pipeline::{
    CERTIFICATE, LOG_ENTRY, SIGNATURE, Setup, TIMESTAMP, check_bundle, image, ours, setup,
};
use crate::support::attest::describe;

/// Attests keylessly (or with the setup's key) with the v2 signing config.
fn attest_v2(setup: &Setup, image: &str, keyless: bool, extra: &[&str]) -> std::process::Output {
    let config = setup
        .sigstore
        .signing_config_v2_path()
        .display()
        .to_string();
    let token = setup.sigstore.token();
    let key = setup.key_path.display().to_string();
    let mut args = vec!["--signing-config", &config];
    if keyless {
        args.extend(["--identity-token", &token]);
    } else {
        args.extend(["--key", &key]);
    }
    args.extend(extra);
    setup.attest(image, &args, &[])
}

/// The entry is Rekor v2's: hashedrekord 0.0.2, proof and checkpoint, no time and no SET.
fn assert_rekor_v2_entry(bundle: &Value) {
    let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(entry["kindVersion"]["kind"], "hashedrekord", "{entry}");
    assert_eq!(entry["kindVersion"]["version"], "0.0.2", "{entry}");
    assert!(entry.get("integratedTime").is_none(), "{entry}");
    assert!(entry.get("inclusionPromise").is_none(), "{entry}");
    let checkpoint = entry["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .unwrap();
    assert!(checkpoint.starts_with("127.0.0.1\n"), "{checkpoint}");
    assert!(bundle.pointer(TIMESTAMP).is_some(), "Rekor v2 needs a TSA");
}

#[test]
fn keyless_attestations_logged_in_rekor_v2_verify_everywhere() {
    let setup = setup();
    let image = image(setup.dir.path(), "v2-keyless");
    let (v1_before, v2_before) = (setup.sigstore.rekor.size(), setup.sigstore.rekor_v2.size());
    let output = attest_v2(&setup, &image, true, &[]);
    assert!(output.status.success(), "{}", describe(&output));
    assert_eq!(
        setup.sigstore.rekor_v2.size(),
        v2_before + 1,
        "logged in v2"
    );
    assert_eq!(setup.sigstore.rekor.size(), v1_before, "not in v1");
    let output = setup.verify_identity(&image);
    assert!(output.status.success(), "{}", describe(&output));
    let bundle = setup.stored_bundle(&image);
    assert_rekor_v2_entry(&bundle);
    check_bundle(
        &setup,
        &bundle,
        true,
        &[SIGNATURE, CERTIFICATE, LOG_ENTRY, TIMESTAMP],
    );
}

#[test]
fn key_signed_attestations_logged_in_rekor_v2_verify() {
    let setup = setup();
    let image = image(setup.dir.path(), "v2-key");
    let output = attest_v2(&setup, &image, false, &[]);
    assert!(output.status.success(), "{}", describe(&output));
    let output = setup.verify_key(&image);
    assert!(output.status.success(), "{}", describe(&output));
    let bundle = setup.stored_bundle(&image);
    assert_rekor_v2_entry(&bundle);
    assert!(
        bundle["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"]
            .as_str()
            .is_some_and(|b| String::from_utf8(STANDARD.decode(b).unwrap())
                .unwrap()
                .contains("\"publicKey\"")),
        "the key, not a certificate, is the entry's verifier"
    );
    check_bundle(&setup, &bundle, false, &[SIGNATURE, LOG_ENTRY, TIMESTAMP]);
}

#[test]
fn rekor_v2_needs_a_timestamp_authority_and_the_bundle_format_and_refusals_are_named() {
    let setup = setup();
    // A v2 signing config without a TSA: refused before any service is asked.
    let mut config = setup.sigstore.signing_config_v2();
    config["tsaUrls"] = serde_json::json!([]);
    let path = setup.write("no-tsa.json", &config);
    let image = image(setup.dir.path(), "v2-refused");
    let token = setup.sigstore.token();
    let args = [
        "--signing-config",
        path.to_str().unwrap(),
        "--identity-token",
        &token,
    ];
    let output = setup.attest(&image, &args, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("timestamp authority") && stderr.contains("--timestamp-server-url"),
        "{stderr}"
    );
    // The legacy format keeps the SET in an annotation, which Rekor v2 does not give.
    let output = attest_v2(&setup, &image, true, &["--new-bundle-format=false"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let v2_url = setup.sigstore.rekor_v2.url();
    assert!(
        stderr.contains("Rekor v2") && stderr.contains(&v2_url) && stderr.contains("bundle"),
        "{stderr}"
    );
    // A refusing v2 log is named with its entries URL, and nothing is attached.
    let entries = format!("Rekor at {}/api/v2/log/entries", v2_url);
    for (status, message) in [
        (409, "refused the entry: it is already in the log"),
        (503, "refused the entry: HTTP 503"),
    ] {
        setup.sigstore.rekor_v2.fail_next(status);
        let output = attest_v2(&setup, &image, true, &[]);
        assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("{entries} {message}")),
            "{status}: {stderr}"
        );
    }
    assert_eq!(setup.sigstore.rekor_v2.size(), 5, "nothing was logged");
    assert!(
        !super::pipeline_failures::attached(&image),
        "nothing was attached"
    );
}

/// `bundle` with the byte at `at` of its RFC 3161 response flipped.
fn with_timestamp_byte_flipped(bundle: &Value, at: usize) -> Value {
    let mut bundle = bundle.clone();
    let field = bundle.pointer_mut(TIMESTAMP).unwrap();
    let mut bytes = STANDARD.decode(field.as_str().unwrap()).unwrap();
    bytes[at] ^= 0x01;
    *field = Value::String(STANDARD.encode(bytes));
    bundle
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn our_verifier_refuses_a_changed_timestamp_in_every_signed_part() {
    use sha2::{Digest as _, Sha256};
    let setup = setup();
    // Rekor v2 bundles have the timestamp as their only time; Rekor v1 bundles have the
    // integrated time too, and a changed timestamp must still be refused, not ignored.
    for (name, config) in [
        ("v2", setup.sigstore.signing_config_v2_path()),
        ("v1", setup.sigstore.signing_config_path()),
    ] {
        let image = image(setup.dir.path(), &format!("stamped-{name}"));
        let token = setup.sigstore.token();
        let args = [
            "--signing-config",
            config.to_str().unwrap(),
            "--identity-token",
            &token,
        ];
        let output = setup.attest(&image, &args, &[]);
        assert!(output.status.success(), "{}", describe(&output));
        let bundle = setup.stored_bundle(&image);
        ours(&setup, &bundle, true).expect("the bundle verifies");
        let response = STANDARD
            .decode(bundle.pointer(TIMESTAMP).unwrap().as_str().unwrap())
            .unwrap();
        let signature = STANDARD
            .decode(bundle.pointer(SIGNATURE).unwrap().as_str().unwrap())
            .unwrap();
        // The stamped imprint (SHA-256 of the signature), the time (a GeneralizedTime,
        // tag 0x18, in the TSTInfo), and the CMS signature (the response's last bytes).
        let imprint = find(&response, &Sha256::digest(&signature)).expect("the imprint");
        let time = (0..response.len() - 17)
            .find(|&i| response[i..i + 2] == [0x18, 0x0f] && response[i + 16] == b'Z')
            .expect("genTime")
            + 2
            + 10;
        for (part, at) in [
            ("imprint", imprint + 7),
            ("time", time),
            ("signature", response.len() - 3),
        ] {
            let changed = with_timestamp_byte_flipped(&bundle, at);
            let verdict = ours(&setup, &changed, true);
            assert!(
                verdict.is_err(),
                "{name}: a changed timestamp {part} was accepted"
            );
        }
    }
}

#[test]
fn a_timestamp_outside_the_certificate_validity_is_refused() {
    let setup = setup();
    let image = image(setup.dir.path(), "expired");
    // The certificate expired an hour ago: the TSA's time (now) is after its validity.
    setup.sigstore.fulcio.validity_next(-7200, -3600);
    let output = attest_v2(&setup, &image, true, &[]);
    assert!(output.status.success(), "{}", describe(&output));
    let output = setup.verify_identity(&image);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let bundle = setup.stored_bundle(&image);
    let refused = ours(&setup, &bundle, true).unwrap_err();
    assert!(refused.contains("valid at"), "{refused}");
    let Some(peers) = crate::support::attest::peers() else {
        return;
    };
    for (peer, output) in super::pipeline::verdicts(&setup, peers, &bundle, true) {
        assert!(
            !output.status.success(),
            "{peer} accepted a timestamp outside the certificate's validity"
        );
    }
}

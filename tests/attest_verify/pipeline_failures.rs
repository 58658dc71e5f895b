//! `cosign-rebuild attest` when a signing service refuses (an expired or wrong-audience token,
//! Fulcio, Rekor 409 and 5xx, the TSA) or is not configured: the error names the service and
//! its URL or the flags to give, and nothing reaches the image. Also the GitHub Actions example
//! (examples/github/release.yml) against GitHub's workflow schema.

use std::path::Path;
use std::process::Command;

use receipts::attest::verify;
use receipts::oci::{Reference, Store};
use serde_json::Value;

use super::FIXTURE_DIGEST_HEX;
use super::pipeline::{image, setup};
use crate::support::attest::{describe, peers};

/// Whether any attestation (referrer fallback index or `.att` manifest) reached the image.
pub(super) fn attached(image: &str) -> bool {
    let store = Store::open(&Reference::parse(image).unwrap(), &Default::default()).unwrap();
    [
        format!("sha256-{FIXTURE_DIGEST_HEX}"),
        format!("sha256-{FIXTURE_DIGEST_HEX}.att"),
    ]
    .iter()
    .any(|tag| store.tagged(tag).unwrap().is_some())
}

#[test]
fn refusing_services_are_named_and_nothing_is_attached() {
    let setup = setup();
    let sigstore = &setup.sigstore;
    let config = sigstore.signing_config_path().display().to_string();
    let now = verify::now();
    let expired = sigstore.issuer.mint("sigstore", now - 10);
    let wrong_audience = sigstore.issuer.mint("other", now + 300);
    let token = sigstore.token();
    let rekor_entries = format!("Rekor at {}/api/v1/log/entries", sigstore.rekor.url());
    let fulcio = format!("Fulcio at {}/api/v2/signingCert", sigstore.fulcio.url());
    let tsa = format!("timestamp authority at {}", sigstore.tsa.url());
    type Arrange<'a> = Box<dyn Fn() + 'a>;
    let nothing: Arrange = Box::new(|| {});
    let cases: Vec<(&str, Vec<&str>, Arrange, Vec<String>)> = vec![
        (
            "expired",
            vec!["--identity-token", &expired],
            Box::new(|| {}),
            vec!["expired at".into()],
        ),
        (
            "audience",
            vec!["--identity-token", &wrong_audience],
            Box::new(|| {}),
            vec!["for audience [\"other\"], not \"sigstore\"".into()],
        ),
        (
            "fulcio",
            vec!["--identity-token", &token],
            Box::new(|| sigstore.fulcio.refuse_next(403)),
            vec![format!("{fulcio} refused to issue a certificate: HTTP 403")],
        ),
        (
            "conflict",
            vec!["--identity-token", &token],
            Box::new(|| sigstore.rekor.fail_next(409)),
            vec![format!(
                "{rekor_entries} refused the entry: it is already in the log"
            )],
        ),
        (
            "rekor5xx",
            vec!["--identity-token", &token],
            Box::new(|| sigstore.rekor.fail_next(503)),
            vec![format!("{rekor_entries} refused the entry: HTTP 503")],
        ),
        (
            "tsa",
            vec!["--identity-token", &token],
            Box::new(|| sigstore.tsa.fail_next(500)),
            vec![format!("{tsa} refused: HTTP 500")],
        ),
        (
            "notoken",
            vec![],
            nothing,
            vec![
                "--identity-token".into(),
                "SIGSTORE_ID_TOKEN".into(),
                "--key".into(),
            ],
        ),
    ];
    for (name, extra, arrange, messages) in cases {
        for format in ["--new-bundle-format=true", "--new-bundle-format=false"] {
            let image = image(setup.dir.path(), &format!("{name}{}", format.len()));
            arrange();
            let mut args = vec!["--signing-config", config.as_str(), format];
            args.extend(&extra);
            let output = setup.attest(&image, &args, &[]);
            assert_eq!(
                output.status.code(),
                Some(1),
                "{name}: {}",
                describe(&output)
            );
            let stderr = String::from_utf8_lossy(&output.stderr);
            for message in &messages {
                assert!(
                    stderr.contains(message.as_str()),
                    "{name}: wanted {message:?} in {stderr}"
                );
            }
            assert!(!attached(&image), "{name}: something was attached");
        }
    }
    // Keyless with a service flag but no Fulcio URL: say which flags provide one.
    let image = image(setup.dir.path(), "nofulcio");
    let rekor = setup.sigstore.rekor.url();
    let output = setup.attest(
        &image,
        &["--identity-token", &token, "--rekor-url", &rekor],
        &[],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .contains("Fulcio is needed but not configured: pass --fulcio-url or --signing-config"),
        "{stderr}"
    );
    assert!(!attached(&image));
}

#[test]
fn github_release_example_is_a_valid_workflow_that_attests_keylessly_and_audits() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/github/release.yml");
    if let Some(peers) = peers() {
        let output = Command::new(peers.python.with_file_name("check-jsonschema"))
            .args(["--builtin-schema", "vendor.github-workflows"])
            .arg(&example)
            .output()
            .expect("run check-jsonschema");
        assert!(output.status.success(), "{}", describe(&output));
    }
    let workflow: Value = serde_yaml_ng::from_slice(&std::fs::read(&example).unwrap()).unwrap();
    assert_eq!(workflow["on"]["release"]["types"][0], "published");
    let release = &workflow["jobs"]["release"];
    assert_eq!(release["permissions"]["id-token"], "write");
    let runs: Vec<&str> = release["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    for command in [
        "oras-lock apko.yaml",
        "cosign-rebuild build",
        "cosign-rebuild attest",
    ] {
        assert!(
            runs.iter().any(|r| r.contains(command)),
            "no step runs {command}"
        );
    }
    let attest = runs
        .iter()
        .find(|r| r.contains("cosign-rebuild attest"))
        .unwrap();
    assert!(!attest.contains("--key"), "the example attests keylessly");
    let audit = &workflow["jobs"]["audit"];
    assert_eq!(audit["needs"], "release");
    assert!(audit["permissions"].get("id-token").is_none());
    let audit_run = audit["steps"].as_array().unwrap().last().unwrap()["run"]
        .as_str()
        .unwrap();
    assert!(
        audit_run.contains("--certificate-identity")
            && audit_run.contains("--certificate-oidc-issuer")
    );
}

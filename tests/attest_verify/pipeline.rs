//! `cosign-rebuild attest` as a release pipeline runs it, against the private Sigstore on
//! loopback (tests/support/sigstore): key-signed and keyless attestations, in both storage
//! formats, logged in Rekor v1 (and timestamped by the TSA), then verified by our own `verify`
//! with only the trusted root (no `--insecure-*` flag), by sigstore-js and by sigstore-python;
//! and refused by all of them after one byte of the signature, the certificate, the log entry
//! or the timestamp changes. Failing services leave the image without an attestation.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use receipts::attest::bundle::Bundle;
use receipts::attest::key::pem;
use receipts::attest::verify::{self, Expected, Identity, Matcher, Policy, TrustedRoot};
use receipts::oci::{Reference, Store};
use serde_json::Value;

use super::oci::push_subject;
use super::pki::{APKO_TYPE, Key};
use super::{FIXTURE_DIGEST_HEX, digest_bytes};
use crate::support::attest::{Peers, describe, peers};
use crate::support::sigstore::Sigstore;
use crate::support::sigstore::fulcio::{ACTIONS_REQUEST_TOKEN, IDENTITY};

pub(super) fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"));
    for name in [
        "SIGSTORE_ROOT_FILE",
        "SIGSTORE_REKOR_PUBLIC_KEY",
        "SIGSTORE_CT_LOG_PUBLIC_KEY_FILE",
        "SIGSTORE_ID_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "COSIGN_PASSWORD",
    ] {
        command.env_remove(name);
    }
    // Whatever the caller's environment: a TUF repository only where a test names one, and
    // then on loopback.
    command
        .env("TUF_MIRROR", "http://127.0.0.1:9")
        .env_remove("TUF_ROOT_JSON");
    command.envs(env.iter().copied());
    command.args(args).output().expect("run cosign-rebuild")
}

/// A fresh layout holding the subject image; returns its `oci:DIR:latest` name.
pub(super) fn image(dir: &Path, name: &str) -> String {
    let text = format!("oci:{}:latest", dir.join(name).display());
    let store = Store::create(&Reference::parse(&text).unwrap(), &Default::default()).unwrap();
    push_subject(&store);
    text
}

pub(super) struct Setup {
    pub(super) sigstore: Sigstore,
    pub(super) dir: tempfile::TempDir,
    key: Key,
    pub(super) key_path: PathBuf,
    pub(super) pub_path: PathBuf,
    predicate: PathBuf,
}

pub(super) fn setup() -> Setup {
    let sigstore = Sigstore::start();
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate();
    let key_path = dir.path().join("cosign.key");
    let der = key.private.to_pkcs8_der().unwrap();
    std::fs::write(&key_path, pem::encode("PRIVATE KEY", &der)).unwrap();
    let pub_path = dir.path().join("cosign.pub");
    std::fs::write(&pub_path, key.pem()).unwrap();
    let predicate = dir.path().join("predicate.json");
    std::fs::write(
        &predicate,
        r#"{"contents":{"packages":["busybox=1.37.0-r0"]}}"#,
    )
    .unwrap();
    Setup {
        sigstore,
        dir,
        key,
        key_path,
        pub_path,
        predicate,
    }
}

impl Setup {
    pub(super) fn attest(&self, image: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
        let mut args = vec![
            "attest",
            image,
            "--predicate",
            self.predicate.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        run(&args, env)
    }

    pub(super) fn root(&self) -> String {
        self.sigstore.trusted_root_path().display().to_string()
    }

    /// Our `verify` with the trusted root and nothing insecure.
    pub(super) fn verify_key(&self, image: &str) -> Output {
        let key = self.pub_path.to_str().unwrap();
        let root = self.root();
        run(
            &[
                "verify",
                image,
                "--key",
                key,
                "--trusted-root",
                &root,
                "--type",
                APKO_TYPE,
            ],
            &[],
        )
    }

    pub(super) fn verify_identity(&self, image: &str) -> Output {
        let root = self.root();
        let issuer = self.sigstore.issuer.url.clone();
        let args = [
            "verify",
            image,
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            &issuer,
            "--trusted-root",
            &root,
            "--type",
            APKO_TYPE,
        ];
        run(&args, &[])
    }

    /// The bundle `attest` stored, as `download` prints it.
    pub(super) fn stored_bundle(&self, image: &str) -> Value {
        let output = run(&["download", image, "--predicate-type", APKO_TYPE], &[]);
        assert!(output.status.success(), "{}", describe(&output));
        let text = String::from_utf8(output.stdout).unwrap();
        serde_json::from_str(text.lines().next().unwrap()).unwrap()
    }

    pub(super) fn write(&self, name: &str, value: &Value) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, value.to_string()).unwrap();
        path
    }

    pub(super) fn trusted(&self) -> TrustedRoot {
        TrustedRoot::from_file(&self.sigstore.trusted_root_path()).unwrap()
    }

    pub(super) fn keyless_policy(&self) -> Policy {
        Policy {
            expected: Expected::Identity(Identity {
                subject: Matcher::Exact(IDENTITY.to_owned()),
                issuer: Matcher::Exact(self.sigstore.issuer.url.clone()),
                github: Default::default(),
            }),
            ignore_tlog: false,
            ignore_sct: false,
        }
    }

    pub(super) fn key_policy(&self) -> Policy {
        Policy {
            expected: Expected::Key(self.key.public.clone()),
            ignore_tlog: false,
            ignore_sct: false,
        }
    }
}

/// Our verifier, sigstore-js and (keyless) sigstore-python on one bundle: how many accepted.
pub(super) fn verdicts(
    setup: &Setup,
    peers: &Peers,
    bundle: &Value,
    keyless: bool,
) -> Vec<(&'static str, Output)> {
    let path = setup.write("candidate.json", bundle);
    let root = setup.sigstore.trusted_root_path();
    let mut out = Vec::new();
    if keyless {
        let issuer = setup.sigstore.issuer.url.clone();
        out.push((
            "sigstore-js",
            peers.verify_sigstore_js(&path, &root, &["identity", IDENTITY, &issuer]),
        ));
        // sigstore-python 4.5 loads only bundles whose log entries carry an inclusion proof,
        // which a legacy layer's annotations never hold (v0.1 bundles, SET only): it checks
        // the bundle format only.
        let legacy = bundle["mediaType"] == "application/vnd.dev.sigstore.bundle+json;version=0.1";
        if legacy {
            return out;
        }
        out.push((
            "sigstore-python",
            peers.verify_sigstore_python(
                &setup.sigstore.trust_config_path(),
                &path,
                (IDENTITY, &issuer),
                FIXTURE_DIGEST_HEX,
            ),
        ));
    } else {
        let key = setup.pub_path.to_str().unwrap();
        out.push((
            "sigstore-js",
            peers.verify_sigstore_js(&path, &root, &["key", key]),
        ));
    }
    out
}

pub(super) fn ours(setup: &Setup, bundle: &Value, keyless: bool) -> Result<(), String> {
    let parsed = Bundle::from_json(bundle.to_string().as_bytes()).map_err(|e| e.to_string())?;
    let policy = if keyless {
        setup.keyless_policy()
    } else {
        setup.key_policy()
    };
    verify::verify_bundle(
        &parsed,
        &digest_bytes(FIXTURE_DIGEST_HEX),
        &policy,
        Some(&setup.trusted()),
        verify::now(),
    )
    .map(drop)
    .map_err(|e| e.to_string())
}

/// The legacy `.att` layer `attest` stored, as the v0.1 bundle its annotations amount to:
/// the envelope, the certificate (or the key's hint) and the Rekor entry with its SET (legacy
/// annotations carry no inclusion proof, which only v0.1 bundles may lack). This is how the
/// peers, which read bundles only, check the legacy layer's evidence.
fn legacy_as_bundle(image: &str, keyless: bool, setup: &Setup) -> Value {
    let reference = Reference::parse(image).unwrap();
    let store = Store::open(&reference, &Default::default()).unwrap();
    let tag = format!("sha256-{FIXTURE_DIGEST_HEX}.att");
    let raw = store.tagged(&tag).unwrap().expect("the .att manifest");
    let manifest: Value = serde_json::from_slice(&raw.bytes).unwrap();
    let layer = &manifest["layers"][0];
    let digest = layer["digest"].as_str().unwrap().parse().unwrap();
    let envelope: Value = serde_json::from_slice(&store.read_blob(&digest).unwrap()).unwrap();
    let annotations = &layer["annotations"];
    let rekor: Value =
        serde_json::from_str(annotations["dev.sigstore.cosign/bundle"].as_str().unwrap()).unwrap();
    let payload = &rekor["Payload"];
    let signer = if keyless {
        let pem_text = annotations["dev.sigstore.cosign/certificate"]
            .as_str()
            .unwrap();
        let der = pem::decode(pem_text.as_bytes()).unwrap().body;
        serde_json::json!({"x509CertificateChain": {"certificates": [{"rawBytes": STANDARD.encode(der)}]}})
    } else {
        let hint = receipts::attest::key::public_key_hint(&setup.key.public).unwrap();
        serde_json::json!({"publicKey": {"hint": hint}})
    };
    let mut material = signer;
    material["tlogEntries"] = serde_json::json!([{
        "logIndex": payload["logIndex"].to_string(),
        "logId": {"keyId": STANDARD.encode(hex::decode(payload["logID"].as_str().unwrap()).unwrap())},
        "kindVersion": {"kind": "dsse", "version": "0.0.1"},
        "integratedTime": payload["integratedTime"].to_string(),
        "inclusionPromise": {"signedEntryTimestamp": rekor["SignedEntryTimestamp"]},
        "canonicalizedBody": payload["body"]
    }]);
    serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "verificationMaterial": material,
        "dsseEnvelope": envelope
    })
}

/// Flips one byte of the base64 field at `pointer`: in the middle, or for a timestamp in its
/// signature (the response's last bytes; its middle holds the TSA certificate, which verifiers
/// take from the trusted root instead).
pub(super) fn tampered(bundle: &Value, pointer: &str) -> Value {
    let mut bundle = bundle.clone();
    let field = bundle
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer}"));
    let mut bytes = STANDARD.decode(field.as_str().unwrap()).unwrap();
    let at = if pointer == TIMESTAMP {
        bytes.len() - 3
    } else {
        bytes.len() / 2
    };
    bytes[at] ^= 0x01;
    *field = Value::String(STANDARD.encode(bytes));
    bundle
}

pub(super) const SIGNATURE: &str = "/dsseEnvelope/signatures/0/sig";
pub(super) const CERTIFICATE: &str = "/verificationMaterial/certificate/rawBytes";
pub(super) const LOG_ENTRY: &str = "/verificationMaterial/tlogEntries/0/canonicalizedBody";
pub(super) const TIMESTAMP: &str =
    "/verificationMaterial/timestampVerificationData/rfc3161Timestamps/0/signedTimestamp";

/// The bundle verifies with every verifier; each one-byte change in `pointers` is refused by
/// every verifier.
pub(super) fn check_bundle(setup: &Setup, bundle: &Value, keyless: bool, pointers: &[&str]) {
    let Some(peers) = peers() else { return };
    ours(setup, bundle, keyless).expect("our verifier accepts the bundle");
    let stamped = bundle.pointer(TIMESTAMP).is_some();
    // A Rekor v1 entry's integrated time (SET-backed) is a verified time; Rekor v2's have none.
    let logged_time = bundle
        .pointer("/verificationMaterial/tlogEntries/0/integratedTime")
        .is_some();
    for (peer, output) in verdicts(setup, peers, bundle, keyless) {
        assert!(
            output.status.success(),
            "{peer} refused: {}\nbundle: {bundle}",
            describe(&output)
        );
        if peer == "sigstore-python" {
            let times = format!("times={}", usize::from(stamped) + usize::from(logged_time));
            assert!(
                String::from_utf8_lossy(&output.stdout).contains(&times),
                "{}",
                describe(&output)
            );
        }
    }
    for pointer in pointers {
        let changed = tampered(bundle, pointer);
        assert!(
            ours(setup, &changed, keyless).is_err(),
            "ours accepted a changed {pointer}"
        );
        for (peer, output) in verdicts(setup, peers, &changed, keyless) {
            if peer == "sigstore-python" && *pointer == TIMESTAMP && logged_time {
                // sigstore-python drops a timestamp it cannot verify while the Rekor entry
                // still gives it a verified time: the changed one must no longer count.
                let stdout = String::from_utf8_lossy(&output.stdout);
                assert!(stdout.contains("times=1"), "{}", describe(&output));
                continue;
            }
            assert!(
                !output.status.success(),
                "{peer} accepted a changed {pointer}: {}",
                describe(&output)
            );
        }
    }
}

#[test]
fn key_signed_attestations_are_logged_and_verify_without_insecure_flags() {
    let setup = setup();
    let rekor = setup.sigstore.rekor.url();
    let key = setup.key_path.to_str().unwrap().to_owned();
    for (name, format) in [("bundle", "true"), ("legacy", "false")] {
        let image = image(setup.dir.path(), name);
        let before = setup.sigstore.rekor.size();
        let flag = format!("--new-bundle-format={format}");
        let output = setup.attest(&image, &["--key", &key, "--rekor-url", &rekor, &flag], &[]);
        assert!(output.status.success(), "{}", describe(&output));
        assert_eq!(setup.sigstore.rekor.size(), before + 1, "one entry logged");
        assert!(
            String::from_utf8_lossy(&output.stderr)
                .contains(&format!("tlog entry created with index: {before}")),
            "{}",
            describe(&output)
        );
        let output = setup.verify_key(&image);
        assert!(output.status.success(), "{name}: {}", describe(&output));
        if name == "bundle" {
            let bundle = setup.stored_bundle(&image);
            assert_eq!(
                bundle["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"],
                "dsse"
            );
            check_bundle(&setup, &bundle, false, &[SIGNATURE, LOG_ENTRY]);
        } else {
            let bundle = legacy_as_bundle(&image, false, &setup);
            check_bundle(&setup, &bundle, false, &[SIGNATURE, LOG_ENTRY]);
        }
    }
}

#[test]
fn air_gapped_key_signing_needs_insecure_ignore_tlog_and_the_hint_says_so() {
    let setup = setup();
    let key = setup.key_path.to_str().unwrap().to_owned();
    for (name, format) in [("bundle", "true"), ("legacy", "false")] {
        let image = image(setup.dir.path(), name);
        let flag = format!("--new-bundle-format={format}");
        let output = setup.attest(&image, &["--key", &key, "--tlog-upload=false", &flag], &[]);
        assert!(output.status.success(), "{}", describe(&output));
        assert_eq!(setup.sigstore.rekor.size(), 6, "nothing logged");
        let output = setup.verify_key(&image);
        assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("hint:") && stderr.contains("--insecure-ignore-tlog"),
            "{stderr}"
        );
        let public = setup.pub_path.to_str().unwrap();
        let args = [
            "verify",
            &image,
            "--key",
            public,
            "--insecure-ignore-tlog",
            "--type",
            APKO_TYPE,
        ];
        let output = run(&args, &[]);
        assert!(output.status.success(), "{}", describe(&output));
    }
    // Without a log URL and without --tlog-upload=false: say which flag to give.
    let image = image(setup.dir.path(), "nolog");
    let output = setup.attest(&image, &["--key", &key], &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--rekor-url") && stderr.contains("--tlog-upload=false"),
        "{stderr}"
    );
}

#[test]
fn keyless_attestations_from_a_signing_config_verify_everywhere() {
    let setup = setup();
    let config = setup.sigstore.signing_config_path().display().to_string();
    let token = setup.sigstore.token();
    for (name, format) in [("bundle", "true"), ("legacy", "false")] {
        let image = image(setup.dir.path(), name);
        let flag = format!("--new-bundle-format={format}");
        let output = setup.attest(
            &image,
            &[
                "--signing-config",
                &config,
                "--identity-token",
                &token,
                &flag,
            ],
            &[],
        );
        assert!(output.status.success(), "{}", describe(&output));
        let output = setup.verify_identity(&image);
        assert!(output.status.success(), "{name}: {}", describe(&output));
        if name == "bundle" {
            let bundle = setup.stored_bundle(&image);
            assert!(
                bundle.pointer(TIMESTAMP).is_some(),
                "the signing config's TSA was used"
            );
            check_bundle(
                &setup,
                &bundle,
                true,
                &[SIGNATURE, CERTIFICATE, LOG_ENTRY, TIMESTAMP],
            );
        } else {
            let bundle = legacy_as_bundle(&image, true, &setup);
            let certificate = "/verificationMaterial/x509CertificateChain/certificates/0/rawBytes";
            check_bundle(&setup, &bundle, true, &[SIGNATURE, certificate, LOG_ENTRY]);
        }
    }
}

#[test]
fn keyless_signing_takes_github_actions_ambient_credentials() {
    let setup = setup();
    let image = image(setup.dir.path(), "actions");
    let actions = setup.sigstore.issuer.actions_url();
    let (fulcio, rekor) = (setup.sigstore.fulcio.url(), setup.sigstore.rekor.url());
    let output = setup.attest(
        &image,
        &["--fulcio-url", &fulcio, "--rekor-url", &rekor],
        &[
            ("ACTIONS_ID_TOKEN_REQUEST_URL", &actions),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", ACTIONS_REQUEST_TOKEN),
        ],
    );
    assert!(output.status.success(), "{}", describe(&output));
    let bundle = setup.stored_bundle(&image);
    assert!(bundle.pointer(TIMESTAMP).is_none(), "no TSA was named");
    check_bundle(&setup, &bundle, true, &[]);
}

/// apko's `internal/cli` (its configuration names `./testdata/packages`): the golden the
/// audit rebuilds.
fn apko_cli_dir() -> PathBuf {
    crate::support::data("chainguard-dev/apko/internal/cli")
}

#[test]
fn the_audit_verifies_logged_key_and_keyless_attestations_without_insecure_flags() {
    let setup = setup();
    let cache = setup.dir.path().join("cache").display().to_string();
    let in_golden = |args: &[&str], env: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"));
        command
            .current_dir(apko_cli_dir())
            .env_remove("SOURCE_DATE_EPOCH")
            .env("DOCKER_CONFIG", "/nonexistent")
            .envs(env.iter().copied());
        command.args(args).output().expect("run cosign-rebuild")
    };
    let config = setup.sigstore.signing_config_path().display().to_string();
    let root = setup.root();
    let issuer = setup.sigstore.issuer.url.clone();
    let token = setup.sigstore.token();
    let key = setup.key_path.display().to_string();
    let public = setup.pub_path.display().to_string();
    for (name, signer, identity) in [
        (
            "keyless",
            vec!["--identity-token", token.as_str()],
            vec![
                "--certificate-identity",
                IDENTITY,
                "--certificate-oidc-issuer",
                issuer.as_str(),
            ],
        ),
        (
            "key",
            vec!["--key", key.as_str()],
            vec!["--key", public.as_str()],
        ),
    ] {
        let image = format!("oci:{}", setup.dir.path().join(name).display());
        let predicate = setup
            .dir
            .path()
            .join(format!("{name}.locked.json"))
            .display()
            .to_string();
        let args = [
            "build",
            "testdata/apko.yaml",
            "-o",
            &image,
            "--offline",
            "--cache-dir",
            &cache,
            "--locked-out",
            &predicate,
        ];
        let output = in_golden(&args, &[]);
        assert!(output.status.success(), "{}", describe(&output));
        let mut args = vec![
            "attest",
            image.as_str(),
            "--predicate",
            &predicate,
            "--signing-config",
            &config,
        ];
        args.extend(&signer);
        let output = in_golden(&args, &[]);
        assert!(output.status.success(), "{name}: {}", describe(&output));
        let mut args = vec![
            image.as_str(),
            "--trusted-root",
            &root,
            "--offline",
            "--cache-dir",
            &cache,
        ];
        args.extend(&identity);
        let output = in_golden(&args, &[]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{name}: {}",
            describe(&output)
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("insecure"), "{name}: {stderr}");
    }
}

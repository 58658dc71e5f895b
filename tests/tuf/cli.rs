//! `cosign-rebuild initialize` as `cosign initialize`, and the verifying commands taking their
//! trusted root over TUF when neither `--trusted-root` nor a `SIGSTORE_*` variable is given.

use std::path::Path;
use std::process::{Command, Output};

use sha2::{Digest as _, Sha256};

use super::*;
use crate::support::http::Server;

const CASES: &str = "sigstore/sigstore-conformance/test/assets/bundle-verify";
const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The binary with a cache of its own and no trust from the environment.
fn cosign_rebuild(tuf_root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
        .env("TUF_ROOT", tuf_root)
        .env_remove("TUF_MIRROR")
        .env_remove("TUF_ROOT_JSON")
        .env_remove("SIGSTORE_ROOT_FILE")
        .env_remove("SIGSTORE_REKOR_PUBLIC_KEY")
        .env_remove("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE")
        .args(args)
        .output()
        .expect("run cosign-rebuild")
}

/// `verify-bundle` of a conformance case with its default identity, no `--trusted-root`.
fn verify_case(tuf_root: &Path, case: &str) -> Output {
    let dir = support::data(CASES).join(case);
    cosign_rebuild(
        tuf_root,
        &[
            "verify-bundle",
            "--bundle",
            dir.join("bundle.sigstore.json").to_str().unwrap(),
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
            support::data(CASES).join("a.txt").to_str().unwrap(),
        ],
    )
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn initialize_a_mirror_then_verify_bundles_over_tuf() {
    let Some(repos) = Repositories::generate() else {
        return;
    };
    repos.publish("v1");
    let server = Server::serve(&repos.mirror);
    let mirror = server.url("");
    let tuf_root = tempfile::tempdir().unwrap();
    let root = repos.root_v1_path();
    let checksum = hex::encode(Sha256::digest(repos.root_v1()));
    let output = cosign_rebuild(
        tuf_root.path(),
        &[
            "initialize",
            "--mirror",
            &mirror,
            "--root",
            root.to_str().unwrap(),
            "--root-checksum",
            &checksum,
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    // cosign's remote.json, then sigstore-go's per-mirror directory.
    let remote: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tuf_root.path().join("remote.json")).unwrap())
            .unwrap();
    assert_eq!(remote, serde_json::json!({ "mirror": mirror }));
    let layout = tuf_root
        .path()
        .join(receipts::attest::tuf::cache::url_to_path(&mirror));
    assert!(layout.join("targets/trusted_root.json").is_file());
    assert!(layout.join("targets/signing_config.v0.2.json").is_file());

    // The conformance verdicts hold with the trusted root from TUF: pass and fail.
    let output = verify_case(tuf_root.path(), "happy-path-v0.3");
    assert!(output.status.success(), "{}", stderr(&output));
    let output = verify_case(tuf_root.path(), "signature-mismatch_fail");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    // The mirror is asked again on each use: a bad publication is refused, naming the role.
    repos.publish("expired-targets");
    let output = verify_case(tuf_root.path(), "happy-path-v0.3");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("targets metadata expired"),
        "{}",
        stderr(&output)
    );
    // --trusted-root still bypasses TUF entirely.
    drop(server);
    let dir = support::data(CASES).join("happy-path-v0.3");
    let output = cosign_rebuild(
        tuf_root.path(),
        &[
            "verify-bundle",
            "--bundle",
            dir.join("bundle.sigstore.json").to_str().unwrap(),
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
            "--trusted-root",
            support::data(TRUSTED_ROOT_A).to_str().unwrap(),
            support::data(CASES).join("a.txt").to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));

    // A wrong checksum refuses the root before anything is fetched or the cache is touched.
    let output = cosign_rebuild(
        tuf_root.path(),
        &[
            "initialize",
            "--mirror",
            &mirror,
            "--root",
            root.to_str().unwrap(),
            "--root-checksum",
            &"0".repeat(64),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("sha256 is"), "{}", stderr(&output));
    assert!(tuf_root.path().join("remote.json").is_file());
}

#[test]
fn initialize_an_air_gapped_file_mirror() {
    let Some(repos) = Repositories::generate() else {
        return;
    };
    repos.publish("v1");
    let tuf_root = tempfile::tempdir().unwrap();
    let mirror = repos.file_url();
    let root = repos.root_v1_path();
    let output = cosign_rebuild(
        tuf_root.path(),
        &[
            "initialize",
            "--mirror",
            &mirror,
            "--root",
            root.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let output = verify_case(tuf_root.path(), "happy-path-v0.3");
    assert!(output.status.success(), "{}", stderr(&output));

    // The copy is replaced by a later one (two root rotations, the staging trusted root): it
    // is picked up, and the public-good bundle is no longer accepted.
    repos.publish("v3");
    let output = verify_case(tuf_root.path(), "happy-path-v0.3");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let layout = tuf_root
        .path()
        .join(receipts::attest::tuf::cache::url_to_path(&mirror));
    let cached: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("root.json")).unwrap()).unwrap();
    assert_eq!(cached["signed"]["version"], 3);
    assert_eq!(
        std::fs::read(layout.join("targets/trusted_root.json")).unwrap(),
        std::fs::read(support::data(TRUSTED_ROOT_B)).unwrap()
    );
}

#[test]
fn verify_and_the_audit_ask_tuf_when_no_trust_is_given() {
    let Some(repos) = Repositories::generate() else {
        return;
    };
    let tuf_root = tempfile::tempdir().unwrap();
    let mirror = dead_url();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
            .env("TUF_ROOT", tuf_root.path())
            .env("TUF_MIRROR", &mirror)
            .env("TUF_ROOT_JSON", repos.root_v1_path())
            .env_remove("SIGSTORE_ROOT_FILE")
            .env_remove("SIGSTORE_REKOR_PUBLIC_KEY")
            .env_remove("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE")
            .args(args)
            .output()
            .expect("run cosign-rebuild")
    };
    let image = format!(
        "oci:{}",
        support::data("derived/apko/goldens/cacerts/expected").display()
    );
    let keyless = [
        "--certificate-identity",
        IDENTITY,
        "--certificate-oidc-issuer",
        ISSUER,
    ];
    let verify = [&["verify", image.as_str()][..], &keyless].concat();
    let audit = [&[image.as_str()][..], &keyless].concat();
    for args in [verify, audit] {
        let output = run(&args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let text = stderr(&output);
        assert!(
            text.contains(&format!("TUF repository {mirror} is unreachable")),
            "{text}"
        );
        assert!(
            text.contains("--trusted-root"),
            "says how to bypass TUF: {text}"
        );
    }
}

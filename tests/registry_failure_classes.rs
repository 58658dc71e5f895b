//! Honest failure classes (issue 17.3): could not fetch, not found, and does not verify are
//! three different stories with three different top lines and hints, in the audit, `verify` and
//! `download`. A registry that fails while the attestation is being fetched (503 on every
//! manifest fetched by digest, through the front of `support::fault`) must never be reported
//! as "no attestations" or as a verification failure.

use std::path::Path;
use std::process::Command;

use receipts::oci::registry::Settings;
use receipts::oci::{Reference, Store};

use crate::support::fault::{Flood, Proxy};
use crate::support::registry::Registry as Server;

/// Runs the binary in `dir`; its exit code, its `error:` line and its `hint:` line.
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
        .current_dir(dir)
        .args(args)
        .env("COSIGN_PASSWORD", "classes")
        .env("DOCKER_CONFIG", dir.join("no-docker-config"))
        .output()
        .expect("cosign-rebuild runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let line = |prefix: &str| {
        stderr
            .lines()
            .find(|line| line.starts_with(prefix))
            .unwrap_or_default()
            .to_owned()
    };
    (
        output.status.code(),
        line("error: "),
        line("hint: "),
        stderr.clone(),
    )
}

fn publish(server: &Server, tag: &str) {
    let reference = Reference::parse(&server.repository(&format!("app:{tag}"))).unwrap();
    let store = Store::create(&reference, &Settings::default()).unwrap();
    let mut set = crate::oci::image::tiny();
    // A distinct image per tag, so that attesting one does not attest the other.
    if tag == "bare" {
        set = crate::oci::image::referrer(
            &set.root().unwrap().descriptor,
            "application/x-unrelated",
            b"bare",
        );
    }
    store.publish(&set, Some(tag)).unwrap();
}

#[test]
fn could_not_fetch_not_found_and_does_not_verify_tell_different_stories() {
    let server = Server::start();
    let dir = server.scratch("classes");
    publish(&server, "v1");
    publish(&server, "bare");
    let (code, ..) = run(&dir, &["generate-key-pair"]);
    assert_eq!(code, Some(0));
    std::fs::create_dir_all(dir.join("other")).unwrap();
    let (code, ..) = run(&dir.join("other"), &["generate-key-pair"]);
    assert_eq!(code, Some(0));
    std::fs::write(
        dir.join("predicate.json"),
        br#"{"contents":{"packages":["busybox"]}}"#,
    )
    .unwrap();
    let attested = server.repository("app:v1");
    let (code, _, _, stderr) = run(
        &dir,
        &[
            "attest",
            &attested,
            "--predicate",
            "predicate.json",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");

    // Could not fetch: every manifest fetched by digest (the attestation's own) answers 503.
    let front = Proxy::hostile(server.host(), |method, path| {
        (method == "GET" && path.contains("/manifests/sha256:")).then(|| Flood {
            status: 503,
            content_type: "application/json".into(),
            size: 2,
            announced: true,
            headers: Vec::new(),
        })
    });
    let flaky = format!("{}/app:v1", front.host());
    let key = ["--key", "cosign.pub", "--insecure-ignore-tlog"];
    let audit: Vec<&str> = [flaky.as_str(), "-q"].into_iter().chain(key).collect();
    let verify: Vec<&str> = ["verify", flaky.as_str()].into_iter().chain(key).collect();
    for (command, args, top) in [
        (
            "audit",
            audit,
            format!("error: could not fetch the attestations of {flaky}; nothing was rebuilt"),
        ),
        (
            "verify",
            verify,
            "could not fetch referrer sha256:".to_owned(),
        ),
        (
            "download",
            vec!["download", flaky.as_str()],
            "could not fetch referrer sha256:".to_owned(),
        ),
    ] {
        let (code, error, hint, stderr) = run(&dir, &args);
        assert_eq!(code, Some(1), "{command}: {stderr}");
        assert!(
            error.contains(&top),
            "{command}: top line {error:?}\n{stderr}"
        );
        assert!(stderr.contains("HTTP 503"), "{command}: {stderr}");
        assert!(
            hint.contains("try again later"),
            "{command}: hint {hint:?}\n{stderr}"
        );
        for wrong_story in [
            "no attestations",
            "does not verify",
            "attest the image first",
        ] {
            assert!(!stderr.contains(wrong_story), "{command}: {stderr}");
        }
    }

    // Not found: an image without attestations, and an image that does not exist.
    let bare = server.repository("app:bare");
    let (code, error, hint, stderr) = run(&dir, &[&bare, "-q", key[0], key[1], key[2]]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(
        error,
        format!("error: {bare}: not found, or not attested; nothing was rebuilt"),
        "{stderr}"
    );
    assert!(hint.starts_with("hint: attest the image first"), "{stderr}");
    let (code, error, hint, stderr) = run(&dir, &["verify", &bare, key[0], key[1], key[2]]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(error.contains("no attestations found"), "{stderr}");
    assert!(hint.starts_with("hint: attest the image first"), "{stderr}");
    let missing = server.repository("app:missing");
    let (code, error, hint, stderr) = run(&dir, &["download", &missing]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(error.ends_with("image not found"), "{stderr}");
    assert!(hint.contains("check the repository name"), "{stderr}");

    // Does not verify: the attestation is there and read, but signed by another key.
    let other = ["--key", "other/cosign.pub", "--insecure-ignore-tlog"];
    let (code, error, hint, stderr) = run(&dir, &[&attested, "-q", other[0], other[1], other[2]]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        error.contains("does not verify; nothing was rebuilt"),
        "{stderr}"
    );
    assert!(
        stderr.contains("no matching attestations: bundle sha256:"),
        "{stderr}"
    );
    assert!(hint.contains("--key is the public key"), "{stderr}");
    let (code, error, hint, stderr) =
        run(&dir, &["verify", &attested, other[0], other[1], other[2]]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        error.contains("no matching attestations: bundle sha256:"),
        "{stderr}"
    );
    assert!(hint.contains("--key is the public key"), "{stderr}");
}

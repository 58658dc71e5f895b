//! The audit end to end, through the binary: `build` apko's golden configuration into a real
//! registry, `attest` its locked configuration with a cosign key, then `cosign-rebuild IMAGE`
//! rebuilds it from the verified predicate. Also: a published layer re-compressed (equivalent),
//! a file added (different, named), a pinned package the repository no longer has (an error
//! naming it), and an attestation signed by another key (exit 1 before anything is built).
//!
//! Builds are offline with an empty download cache: the golden repository is local.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use receipts::oci::{Digest, Reference, Store};

use super::fixture::{self, Fixture};
use crate::support;
use crate::support::registry::Registry as Server;

const PASSWORD: &str = "audit-test";
pub(super) const TITLE_VENDOR: [&str; 4] = [
    "--annotations",
    "org.opencontainers.image.vendor=Vendor",
    "--annotations",
    "org.opencontainers.image.title=Title",
];

/// apko's `internal/cli`: its configuration names `./testdata/packages`.
pub(super) fn upstream_dir() -> PathBuf {
    support::data("chainguard-dev/apko/internal/cli")
}

pub(super) fn binary(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
        .current_dir(dir)
        .args(args)
        .env("COSIGN_PASSWORD", PASSWORD)
        .env_remove("SOURCE_DATE_EPOCH")
        .env("DOCKER_CONFIG", "/nonexistent")
        .output()
        .expect("cosign-rebuild runs")
}

pub(super) fn describe(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A key pair `<dir>/<name>.key`, `<dir>/<name>.pub`.
pub(super) fn key_pair(dir: &Path, name: &str) -> (String, String) {
    let output = binary(dir, &["generate-key-pair", "--output-key-prefix", name]);
    assert!(output.status.success(), "{}", describe(&output));
    let path = |ext: &str| dir.join(format!("{name}.{ext}")).display().to_string();
    (path("key"), path("pub"))
}

/// A release as a pipeline makes one: apko's golden configuration built and pushed to `image`
/// by the binary (packages cached in `cache`), its `--locked-out` predicate written to
/// `predicate` and attested to the image with `key`.
pub(super) fn release(image: &str, cache: &Path, predicate: &Path, key: &str) {
    let (cache_arg, predicate_arg) = (cache.display().to_string(), predicate.display().to_string());
    let mut args = vec!["build", "testdata/apko.yaml", "-o", image, "--offline"];
    args.extend(["--cache-dir", &cache_arg, "--locked-out", &predicate_arg]);
    args.extend(TITLE_VENDOR);
    let built = binary(&upstream_dir(), &args);
    assert!(built.status.success(), "{}", describe(&built));
    attest(image, predicate, key);
}

pub(super) fn attest(image: &str, predicate: &Path, key: &str) {
    let predicate = predicate.display().to_string();
    let output = binary(
        Path::new("/"),
        &[
            "attest",
            image,
            "--predicate",
            &predicate,
            "--key",
            key,
            "--tlog-upload=false",
        ],
    );
    assert!(output.status.success(), "{}", describe(&output));
}

/// `cosign-rebuild IMAGE --key PUB …` in the golden's directory, offline.
fn audit(image: &str, public: &str, cache: &Path, extra: &[&str]) -> Output {
    let cache = cache.display().to_string();
    let mut args = vec![
        image,
        "--key",
        public,
        "--insecure-ignore-tlog",
        "--offline",
        "--cache-dir",
        &cache,
    ];
    args.extend_from_slice(extra);
    binary(&upstream_dir(), &args)
}

pub(super) fn publish(server: &Server, fixture: &Fixture, name: &str) -> String {
    let image = format!("{}:v1", server.repository(name));
    let store = Store::create(&Reference::parse(&image).unwrap(), &Default::default()).unwrap();
    store.publish(&fixture.image_set(), Some("v1")).unwrap();
    image
}

#[test]
fn build_attest_audit_identical_equivalent_different_and_failures() {
    let server = Server::start();
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let cache = dir.join("cache");
    let (key, public) = key_pair(dir, "signer");
    let (_, other_public) = key_pair(dir, "other");
    let predicate = dir.join("predicate.json");

    // build → publish → attest → audit: identical.
    let image = format!("{}:v1", server.repository("golden"));
    release(&image, &cache, &predicate, &key);
    let output = audit(&image, &public, &cache, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("identical: rebuilt "), "{text}");
    assert!(text.contains("signed by key "), "{text}");
    assert!(text.contains("linux/amd64      identical"), "{text}");

    // JSON, --keep and --publish.
    let kept = dir.join("kept");
    let republished = format!("{}:again", server.repository("rebuilt"));
    let kept_arg = kept.display().to_string();
    let output = audit(
        &image,
        &public,
        &cache,
        &[
            "--output",
            "json",
            "--keep",
            &kept_arg,
            "--publish",
            &republished,
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["verdict"], "identical");
    assert_eq!(json["b"]["digest"], fixture::GOLDEN_INDEX);
    assert_eq!(
        Digest::of(&std::fs::read(kept.join("index.json")).unwrap()).to_string(),
        fixture::GOLDEN_INDEX
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "published the rebuild to {republished}: {}",
            fixture::GOLDEN_INDEX
        )),
        "{stderr}"
    );

    // --keep refuses a directory that is not empty, before building.
    let output = audit(&image, &public, &cache, &["--keep", &kept_arg]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("exists and is not empty") && !stderr.contains("installing"),
        "{stderr}"
    );

    // Signed by another key: refused before anything is built.
    let output = audit(&image, &other_public, &cache, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("does not verify; nothing was rebuilt"),
        "{stderr}"
    );
    assert!(!stderr.contains("installing"), "{stderr}");

    // --insecure-skip-attestation-verification rebuilds anyway, and says so.
    let output = audit(
        &image,
        &other_public,
        &cache,
        &["--insecure-skip-attestation-verification"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is NOT VERIFIED"));
    assert!(String::from_utf8_lossy(&output.stdout).contains("UNVERIFIED"));

    // One platform; a platform the image does not have.
    let output = audit(&image, &public, &cache, &["--platform", "linux/arm64"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("linux/arm64") && !text.contains("linux/amd64"),
        "{text}"
    );
    let output = audit(&image, &public, &cache, &["--platform", "linux/s390x"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("platform linux/s390x is not in"),
        "{stderr}"
    );
    assert!(
        stderr.contains("it has: linux/amd64, linux/arm64"),
        "{stderr}"
    );

    // No attestation; then only one of another predicate type.
    let golden = Fixture::golden();
    let unattested = publish(&server, &golden, "unattested");
    let output = audit(&unattested, &public, &cache, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no attestations found"), "{stderr}");
    let custom = dir.join("custom.json");
    std::fs::write(&custom, r#"{"note":"not a configuration"}"#).unwrap();
    let custom_arg = custom.display().to_string();
    let output = binary(
        Path::new("/"),
        &[
            "attest",
            &unattested,
            "--predicate",
            &custom_arg,
            "--key",
            &key,
            "--tlog-upload=false",
            "--type",
            "custom",
        ],
    );
    assert!(output.status.success(), "{}", describe(&output));
    let output = audit(&unattested, &public, &cache, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("none of the attestations matched the predicate type")
            && stderr.contains("https://cosign.sigstore.dev/attestation/v1"),
        "{stderr}"
    );

    // A layer re-compressed by gzip: equivalent.
    let regzipped = Fixture::golden();
    regzipped.regzip("amd64");
    let equivalent = publish(&server, &regzipped, "regzipped");
    attest(&equivalent, &predicate, &key);
    let output = audit(&equivalent, &public, &cache, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("equivalent: "));

    // A file added to a published layer: different, and the diff names it.
    let added = Fixture::golden();
    added.add_file("arm64", "etc/backdoor", b"!");
    let different = publish(&server, &added, "added");
    attest(&different, &predicate, &key);
    let output = audit(&different, &public, &cache, &[]);
    assert_eq!(output.status.code(), Some(3), "{}", describe(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("different: "), "{text}");
    assert!(
        text.contains("+ etc/backdoor (file, only in published)"),
        "{text}"
    );

    // A pinned package the repository does not have (withdrawn): an error naming it.
    let mut locked: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&predicate).unwrap()).unwrap();
    let packages = locked["contents"]["packages"].as_array_mut().unwrap();
    let withdrawn = packages
        .iter_mut()
        .find(|p| p.as_str().unwrap().starts_with("replayout="))
        .unwrap();
    *withdrawn = serde_json::Value::from("replayout=9.9.9-r0");
    let withdrawn_predicate = dir.join("withdrawn.json");
    std::fs::write(&withdrawn_predicate, serde_json::to_vec(&locked).unwrap()).unwrap();
    let golden = Fixture::golden();
    let gone = publish(&server, &golden, "withdrawn");
    attest(&gone, &withdrawn_predicate, &key);
    let output = audit(&gone, &public, &cache, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("replayout") && stderr.contains("9.9.9-r0"),
        "{stderr}"
    );
}

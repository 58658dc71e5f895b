//! The audit as a library call (`rebuild::audit`), end to end: apko's golden configuration is
//! built into a real registry and its locked configuration attested with a cosign key (through
//! the binary, as a release would), then audited from Rust: identical (kept, republished, the
//! signer named), different (a file added to a published layer, named by the diff), refused
//! (signed by another key: an error naming the image, and nothing rebuilt), and read without
//! verification when asked. The events show the order: nothing is rebuilt before the
//! attestation verifies.
//!
//! Builds are offline with an empty download cache: the golden repository is local, read from
//! the directory the settings name (not the process's working directory).

use std::path::Path;
use std::sync::Mutex;

use receipts::apk::repository::{self, Network};
use receipts::attest::key;
use receipts::attest::verify::{Expected, Policy};
use receipts::oci::{Digest, Reference};
use receipts::rebuild::audit::{self, Audited, Event, Settings, Target, Verification};
use receipts::rebuild::{self, Verdict};

use super::audit::{attest, key_pair, publish, release, upstream_dir};
use super::fixture::{self, Fixture};
use crate::support::registry::Registry as Server;

/// Offline settings over the golden repository, with `cache` as the download cache.
fn settings(cache: &Path) -> Settings {
    Settings {
        working_dir: upstream_dir(),
        fetch: repository::Settings {
            cache_dir: Some(cache.to_owned()),
            network: Network::Offline,
        },
        scratch_dir: Some(cache.join("tmp")),
        ..Settings::default()
    }
}

/// A key policy for the public key in `path` (no transparency log, as `attest
/// --tlog-upload=false` made none).
fn key_policy(path: &str) -> Policy {
    let pem = std::fs::read(path).unwrap();
    Policy {
        expected: Expected::Key(key::load_public_key(&pem).unwrap()),
        ignore_tlog: true,
        ignore_sct: false,
    }
}

/// `rebuild::audit` of `image`, with the events it reported, each as a word.
fn audit_image(
    image: &str,
    verification: &Verification<'_>,
    settings: &Settings,
) -> (Result<Audited, audit::Error>, Vec<String>) {
    let events = Mutex::new(Vec::new());
    let reference = Reference::parse(image).unwrap();
    let result = rebuild::audit(image, &reference, verification, settings, &|event| {
        let word = match event {
            Event::Verifying { .. } => "verifying".to_owned(),
            Event::Unverified { .. } => "unverified".to_owned(),
            Event::Rebuilding { .. } => "rebuilding".to_owned(),
            Event::Build(receipts::build::pipeline::Progress::Image { arch, .. }) => {
                format!("built {arch}")
            }
            Event::Build(_) => return,
            Event::Comparing { .. } => "comparing".to_owned(),
            Event::Publishing { .. } => "publishing".to_owned(),
        };
        events.lock().unwrap().push(word);
    });
    (result, events.into_inner().unwrap())
}

#[test]
fn the_audit_as_a_library_call_identical_different_and_refused() {
    let server = Server::start();
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let cache = dir.join("cache");
    let (signing_key, public) = key_pair(dir, "signer");
    let (_, other_public) = key_pair(dir, "other");
    let predicate = dir.join("predicate.json");

    // Released: built, pushed and attested through the binary.
    let image = format!("{}:v1", server.repository("golden"));
    release(&image, &cache, &predicate, &signing_key);

    // Identical, kept in a directory and republished.
    let policy = key_policy(&public);
    let verified = Verification::Policy {
        policy: &policy,
        trusted_root: None,
        key_name: Some("signer.pub"),
    };
    let kept = dir.join("kept");
    let republished = format!("{}:again", server.repository("rebuilt"));
    let mut keep_and_publish = settings(&cache);
    keep_and_publish.keep = Some(kept.clone());
    keep_and_publish.publish = Some(Target {
        reference: Reference::parse(&republished).unwrap(),
        name: republished.clone(),
    });
    let (result, events) = audit_image(&image, &verified, &keep_and_publish);
    let audited = result.unwrap();
    assert_eq!(audited.report.verdict, Verdict::Identical);
    assert_eq!(audited.report.b.digest.to_string(), fixture::GOLDEN_INDEX);
    assert_eq!(audited.report.signer.as_deref(), Some("key signer.pub"));
    assert_eq!(
        audited.published.map(|d| d.to_string()).as_deref(),
        Some(fixture::GOLDEN_INDEX)
    );
    let kept_index = std::fs::read(kept.join("index.json")).unwrap();
    assert_eq!(Digest::of(&kept_index).to_string(), fixture::GOLDEN_INDEX);
    // One rebuild (two architectures, built in either order), after verification.
    let steps: Vec<&str> = events
        .iter()
        .map(|e| if e.starts_with("built ") { "built" } else { e })
        .collect();
    assert_eq!(
        steps,
        [
            "verifying",
            "rebuilding",
            "built",
            "built",
            "comparing",
            "publishing"
        ],
        "{events:?}"
    );

    // Different: a file added to a published layer, named by the diff.
    let added = Fixture::golden();
    added.add_file("arm64", "etc/backdoor", b"!");
    let different = publish(&server, &added, "added");
    attest(&different, &predicate, &signing_key);
    let (result, _) = audit_image(&different, &verified, &settings(&cache));
    let report = result.unwrap().report;
    assert_eq!(report.verdict, Verdict::Different, "{}", report.to_text());
    let arm64 = report
        .platforms
        .iter()
        .find(|p| p.platform == "linux/arm64")
        .unwrap();
    let files = arm64.layers[0].files.as_ref().unwrap();
    assert_eq!(files.added[0].path, "etc/backdoor");
    let amd64 = report
        .platforms
        .iter()
        .find(|p| p.platform == "linux/amd64")
        .unwrap();
    assert_eq!(amd64.verdict, Verdict::Identical);

    // Refused: signed by another key. An error naming the image; nothing rebuilt.
    let other_policy = key_policy(&other_public);
    let other = Verification::Policy {
        policy: &other_policy,
        trusted_root: None,
        key_name: None,
    };
    let (result, events) = audit_image(&image, &other, &settings(&cache));
    let error = result.unwrap_err();
    assert!(
        matches!(&error, audit::Error::Verification { image: named, .. } if *named == image),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .ends_with("does not verify; nothing was rebuilt"),
        "{error}"
    );
    assert_eq!(events, ["verifying"], "nothing rebuilt");

    // Read without verification when asked: rebuilt all the same, the signer says so.
    let (result, events) = audit_image(&image, &Verification::Unverified, &settings(&cache));
    let report = result.unwrap().report;
    assert_eq!(report.verdict, Verdict::Identical);
    assert_eq!(report.signer.as_deref(), Some("UNVERIFIED"));
    assert_eq!(events[..2], ["verifying", "unverified"]);
}

/// Checking the published layers beside the rebuild changes no error: a layer whose bytes do
/// not hash to its digest (served so by a hostile loopback proxy in front of the registry) fails
/// the audit naming that blob, after the rebuild, exactly as the comparison reports it.
#[test]
fn a_published_layer_that_does_not_match_its_digest_fails_the_audit_naming_it() {
    use crate::support::fault::{Flood, Proxy};
    let server = Server::start();
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let cache = dir.join("cache");
    let (signing_key, public) = key_pair(dir, "signer");
    let predicate = dir.join("predicate.json");
    let image = format!("{}:v1", server.repository("golden"));
    release(&image, &cache, &predicate, &signing_key);

    let front = Proxy::hostile(server.host(), |method, path| {
        (method == "GET" && path.ends_with(&format!("/blobs/{}", fixture::AMD64_LAYER))).then(
            || Flood {
                status: 200,
                content_type: "application/octet-stream".into(),
                size: 4096,
                announced: true,
                headers: Vec::new(),
            },
        )
    });
    let tampered = format!("{}/golden:v1", front.host());
    let policy = key_policy(&public);
    let verification = Verification::Policy {
        policy: &policy,
        trusted_root: None,
        key_name: None,
    };
    let (result, events) = audit_image(&tampered, &verification, &settings(&cache));
    let error = result.unwrap_err();
    let audit::Error::Compare { image, source } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(*image, tampered);
    assert!(
        matches!(source.as_ref(), rebuild::Error::Blob { digest, .. } if digest.to_string() == fixture::AMD64_LAYER),
        "{source:?}"
    );
    assert!(events.contains(&"comparing".to_owned()), "{events:?}");
}

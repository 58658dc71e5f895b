//! `attest::tuf::Client` against python-tuf's repositories on a loopback mirror: first use,
//! rotation, a new target, each refusal naming its role, the cache standing in for an
//! unreachable mirror until it expires, and hostile metadata.

use std::path::Path;

use receipts::attest::tuf::{self, Cache, Client};

use super::*;
use crate::support::http::Server;

const BOTH: [&str; 2] = [tuf::TRUSTED_ROOT_TARGET, tuf::SIGNING_CONFIG_TARGET];

fn client(repos: &Repositories, mirror: &str, cache: &Path) -> Client {
    Client::new(mirror, repos.root_v1(), Cache::new(cache)).expect("client")
}

fn root_version(bytes: &[u8]) -> u64 {
    let value: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    value["signed"]["version"].as_u64().unwrap()
}

#[test]
fn embedded_roots_are_sigstores_and_verify_by_their_own_signatures() {
    // The embedded bytes are the files of the shared test data (from sigstore-python's store,
    // which ships sigstore/root-signing's root.json), byte for byte.
    let public_good = "sigstore/trust-roots/public-good-tuf-root.json";
    let staging = "sigstore/trust-roots/staging-tuf-root.json";
    assert_eq!(
        tuf::PUBLIC_GOOD_ROOT,
        &std::fs::read(support::data(public_good)).unwrap()[..]
    );
    assert_eq!(
        tuf::STAGING_ROOT,
        &std::fs::read(support::data(staging)).unwrap()[..]
    );
    for (root, version) in [(tuf::PUBLIC_GOOD_ROOT, 15), (tuf::STAGING_ROOT, 14)] {
        let trusted = sigstore_tuf::TrustedMetadataSet::from_root(root).expect("self-signed");
        assert_eq!(trusted.root().version, version);
        // One changed byte of the signed part breaks every signature.
        let text = String::from_utf8(root.to_vec()).unwrap();
        let forged = text.replacen(&format!("\"version\": {version}"), "\"version\": 99", 1);
        assert_ne!(forged, text);
        let error = sigstore_tuf::TrustedMetadataSet::from_root(forged.as_bytes()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("threshold not met for role root"),
            "{error}"
        );
    }
    // python-tuf agrees, independently: threshold met by the root's own keys.
    for (path, version) in [(public_good, 15), (staging, 14)] {
        let Some(verdict) = python_verifies_root(&support::data(path)) else {
            return;
        };
        assert_eq!(verdict, Ok(version), "{path}");
    }
}

#[test]
fn first_use_then_two_root_rotations_and_a_new_trusted_root() {
    let Some(repos) = Repositories::generate() else {
        return;
    };
    let server = Server::serve(&repos.mirror);
    let mirror = server.url("");
    let cache = tempfile::tempdir().unwrap();
    let trusted_a = std::fs::read(support::data(TRUSTED_ROOT_A)).unwrap();
    let trusted_b = std::fs::read(support::data(TRUSTED_ROOT_B)).unwrap();
    let signing_config = std::fs::read(support::data(SIGNING_CONFIG)).unwrap();

    // First use: from root v1, both targets, cached as sigstore-go lays them out.
    repos.publish("v1");
    let got = client(&repos, &mirror, cache.path())
        .targets(&BOTH)
        .unwrap();
    assert_eq!(got, [trusted_a.clone(), signing_config.clone()]);
    let layout = cache.path().join(tuf::cache::url_to_path(&mirror));
    for file in [
        "root.json",
        "timestamp.json",
        "snapshot.json",
        "targets.json",
    ] {
        assert!(layout.join(file).is_file(), "{file} cached");
    }
    assert_eq!(
        std::fs::read(layout.join("targets/trusted_root.json")).unwrap(),
        trusted_a
    );
    let record = cache
        .path()
        .join(format!("{}.json", tuf::cache::url_to_path(&mirror)));
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(record).unwrap()).unwrap();
    assert!(record["lastTimestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        server.count("GET", "/2.root.json"),
        1,
        "the root chain was probed"
    );

    // Parsed, it is the public-good root: two transparency logs.
    let trusted = client(&repos, &mirror, cache.path())
        .trusted_root()
        .unwrap();
    assert_eq!(trusted.tlogs.len(), 2, "the public-good root's two logs");

    // The repository rotates its root twice and publishes another trusted root.
    repos.publish("v3");
    let got = client(&repos, &mirror, cache.path())
        .targets(&BOTH)
        .unwrap();
    assert_eq!(got, [trusted_b.clone(), signing_config]);
    assert_eq!(
        root_version(&std::fs::read(layout.join("root.json")).unwrap()),
        3
    );
    assert_eq!(
        std::fs::read(layout.join("targets/trusted_root.json")).unwrap(),
        trusted_b
    );

    // A client starting from v1 with an empty cache walks v1 -> v2 -> v3 at once.
    let fresh = tempfile::tempdir().unwrap();
    let got = client(&repos, &mirror, fresh.path()).targets(&[tuf::TRUSTED_ROOT_TARGET]);
    assert_eq!(got.unwrap(), [trusted_b]);
    // Every request went to the mirror, for files under it.
    assert!(server.total() > 0);
}

#[test]
fn each_refusal_names_the_role() {
    let Some(repos) = Repositories::generate() else {
        return;
    };
    let server = Server::serve(&repos.mirror);
    let mirror = server.url("");
    // (state, state synced first, what the error must say)
    let cases = [
        ("expired-timestamp", None, "timestamp metadata expired"),
        ("expired-snapshot", None, "snapshot metadata expired"),
        ("expired-targets", None, "targets metadata expired"),
        ("bad-hash", None, "trusted_root.json: sha256 mismatch"),
        (
            "huge-length",
            None,
            "trusted_root.json: pinned length 4611686018427387904",
        ),
        ("rollback", Some("v3"), "rollback detected for timestamp"),
        (
            "revoked-timestamp",
            Some("v3"),
            "threshold not met for role timestamp",
        ),
        (
            "revoked-root",
            Some("v3"),
            "threshold not met for role root",
        ),
    ];
    for (state, before, says) in cases {
        let cache = tempfile::tempdir().unwrap();
        if let Some(before) = before {
            repos.publish(before);
            client(&repos, &mirror, cache.path())
                .targets(&BOTH)
                .expect(before);
        }
        repos.publish(state);
        let error = client(&repos, &mirror, cache.path())
            .targets(&[tuf::TRUSTED_ROOT_TARGET])
            .expect_err(state);
        let text = chain(&error);
        assert!(text.contains(says), "{state}: {text}");
        assert!(text.contains(&mirror), "{state} names the mirror: {text}");
        // A refused update leaves the cache's trusted root as it was.
        if before.is_some() {
            let layout = cache.path().join(tuf::cache::url_to_path(&mirror));
            assert_eq!(
                root_version(&std::fs::read(layout.join("root.json")).unwrap()),
                3
            );
        }
    }
}

#[test]
fn an_unreachable_mirror_is_replaced_by_the_cache_until_it_expires() {
    let Some(repos) = Repositories::generate() else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let server = Server::serve(&repos.mirror);
    let mirror = server.url("");
    repos.publish("v1");
    let trusted_a = std::fs::read(support::data(TRUSTED_ROOT_A)).unwrap();
    assert_eq!(
        client(&repos, &mirror, cache.path())
            .targets(&BOTH)
            .unwrap()[0],
        trusted_a
    );
    drop(server);

    // Offline and unexpired: the verified cache answers.
    let offline = client(&repos, &mirror, cache.path());
    assert_eq!(offline.targets(&BOTH).unwrap()[0], trusted_a);
    // Eight days on, the cached timestamp (seven days) has expired: refused, naming both.
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(8 * 24);
    let error = offline.targets_at(&BOTH, later).unwrap_err();
    let text = chain(&error);
    assert!(text.contains(&format!("{mirror} is unreachable")), "{text}");
    assert!(text.contains("timestamp metadata expired"), "{text}");
    // Unreachable with no cache at all.
    let empty = tempfile::tempdir().unwrap();
    let error = client(&repos, &mirror, empty.path())
        .targets(&BOTH)
        .unwrap_err();
    assert!(
        chain(&error).contains("is unreachable"),
        "{}",
        chain(&error)
    );
}

#[test]
fn hostile_metadata_is_refused_with_a_clear_error() {
    let Some(repos) = Repositories::generate() else {
        return;
    };
    let server = Server::serve(&repos.mirror);
    let mirror = server.url("");
    repos.publish("v1");
    let timestamp = std::fs::read_to_string(repos.mirror.join("timestamp.json")).unwrap();

    // A key repeated in an object: serde would keep the last one silently.
    let duplicated = timestamp.replacen("\"_type\":", "\"_type\": \"x\", \"_type\":", 1);
    server.replace("/timestamp.json", duplicated.into_bytes());
    let cache = tempfile::tempdir().unwrap();
    let error = client(&repos, &mirror, cache.path())
        .targets(&BOTH)
        .unwrap_err();
    let text = chain(&error);
    assert!(
        text.contains("timestamp.json: duplicate key \"_type\""),
        "{text}"
    );

    // A body longer than the timestamp role allows (16 KiB) is cut off while read.
    server.replace("/timestamp.json", vec![b' '; 10 << 20]);
    let error = client(&repos, &mirror, cache.path())
        .targets(&BOTH)
        .unwrap_err();
    let text = chain(&error);
    assert!(
        text.contains("timestamp.json: body exceeds 16384 bytes"),
        "{text}"
    );

    // A root with a duplicate key, and a root that is not JSON, as the bootstrap.
    let root = String::from_utf8(repos.root_v1()).unwrap();
    for (bootstrap, says) in [
        (
            root.replacen("\"keys\":", "\"keys\": {}, \"keys\":", 1),
            "duplicate key \"keys\"",
        ),
        ("{\"signed\":".repeat(10_000), "recursion limit"),
    ] {
        let error = Client::new(&mirror, bootstrap.into_bytes(), Cache::new(cache.path()))
            .unwrap()
            .targets(&BOTH)
            .unwrap_err();
        let text = chain(&error);
        assert!(
            text.contains("initial root.json") && text.contains(says),
            "{text}"
        );
    }
}

#[test]
fn a_file_mirror_serves_an_air_gapped_copy() {
    let Some(repos) = Repositories::generate() else {
        return;
    };
    repos.publish("v3");
    let cache = tempfile::tempdir().unwrap();
    let mirror = repos.file_url();
    let got = client(&repos, &mirror, cache.path()).targets(&[tuf::TRUSTED_ROOT_TARGET]);
    assert_eq!(
        got.unwrap(),
        [std::fs::read(support::data(TRUSTED_ROOT_B)).unwrap()]
    );
    // The same refusals hold without HTTP.
    repos.publish("bad-hash");
    let fresh = tempfile::tempdir().unwrap();
    let error = client(&repos, &mirror, fresh.path()).targets(&[tuf::TRUSTED_ROOT_TARGET]);
    assert!(chain(&error.unwrap_err()).contains("sha256 mismatch"));
}

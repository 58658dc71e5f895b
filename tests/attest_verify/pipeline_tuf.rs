//! `cosign-rebuild attest` with no `--signing-config` and no service flag takes its signing
//! config from the TUF repository (`signing_config.v0.2.json`), as cosign v3 does: here a
//! repository written by python-tuf (tests/peers/tuf_repo.py) that publishes the loopback
//! Sigstore's trusted root and signing config, served on loopback. An unreachable repository
//! is a clear error naming the mirror and the flags that avoid TUF; signing with a key and
//! `--tlog-upload=false` never reaches TUF.

use std::path::Path;

use super::pipeline::{Setup, image, setup};
use crate::support::attest::describe;
use crate::support::http::Server;
use crate::tuf::{Repositories, dead_url};

/// The TUF environment of a repository at `mirror` whose first root is `root`.
fn tuf_env<'a>(mirror: &'a str, cache: &'a Path, root: &'a Path) -> [(&'a str, &'a str); 3] {
    [
        ("TUF_MIRROR", mirror),
        ("TUF_ROOT", cache.to_str().unwrap()),
        ("TUF_ROOT_JSON", root.to_str().unwrap()),
    ]
}

/// A repository publishing the setup's trusted root and `signing_config`.
fn repositories(setup: &Setup, signing_config: &Path) -> Option<Repositories> {
    let root = setup.sigstore.trusted_root_path();
    let repos = Repositories::generate_with(&root, &root, signing_config)?;
    repos.publish("v1");
    Some(repos)
}

#[test]
fn without_service_flags_attest_takes_the_signing_config_from_tuf() {
    let setup = setup();
    // The published config lists the Rekor v2 log first: TUF's config, not a default, chose it.
    let Some(repos) = repositories(&setup, &setup.sigstore.signing_config_v2_path()) else {
        return;
    };
    let server = Server::serve(&repos.mirror);
    let mirror = server.url("");
    let cache = tempfile::tempdir().unwrap();
    let root = repos.root_v1_path();
    let env = tuf_env(&mirror, cache.path(), &root);
    let token = setup.sigstore.token();
    let key = setup.key_path.display().to_string();
    // Keyless as in CI: no flag at all, the token from the environment.
    let keyless_env: Vec<(&str, &str)> = env
        .iter()
        .copied()
        .chain([("SIGSTORE_ID_TOKEN", token.as_str())])
        .collect();
    type Env<'a> = &'a [(&'a str, &'a str)];
    let cases: [(&str, Vec<&str>, Env); 2] = [
        ("keyless", vec![], &keyless_env),
        ("key", vec!["--key", &key], &env),
    ];
    for (name, signer, env) in cases {
        let image = image(setup.dir.path(), name);
        let before = setup.sigstore.rekor_v2.size();
        let output = setup.attest(&image, &signer, env);
        assert!(output.status.success(), "{name}: {}", describe(&output));
        assert_eq!(setup.sigstore.rekor_v2.size(), before + 1, "{name}");
        let verified = if name == "keyless" {
            setup.verify_identity(&image)
        } else {
            setup.verify_key(&image)
        };
        assert!(verified.status.success(), "{name}: {}", describe(&verified));
    }
    // The metadata and the target were cached where cosign caches them.
    assert!(
        std::fs::read_dir(cache.path()).unwrap().next().is_some(),
        "nothing cached in TUF_ROOT"
    );
}

#[test]
fn an_unreachable_tuf_repository_names_the_mirror_and_the_flags_that_avoid_it() {
    let setup = setup();
    let Some(repos) = repositories(&setup, &setup.sigstore.signing_config_path()) else {
        return;
    };
    let mirror = dead_url();
    let cache = tempfile::tempdir().unwrap();
    let root = repos.root_v1_path();
    let env = tuf_env(&mirror, cache.path(), &root);
    let key = setup.key_path.display().to_string();
    let image = image(setup.dir.path(), "unreachable");
    let output = setup.attest(&image, &["--key", &key], &env);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for wanted in [
        mirror.as_str(),
        "--signing-config",
        "--rekor-url",
        "--tlog-upload=false",
    ] {
        assert!(stderr.contains(wanted), "{wanted} missing: {stderr}");
    }
    assert_eq!(setup.sigstore.rekor.size(), 6, "nothing logged");
    // A key and no log: no service is needed, so TUF is never asked.
    let output = setup.attest(&image, &["--key", &key, "--tlog-upload=false"], &env);
    assert!(output.status.success(), "{}", describe(&output));
    // A service flag: the flags, not TUF, name the services.
    let rekor = setup.sigstore.rekor.url();
    let output = setup.attest(&image, &["--key", &key, "--rekor-url", &rekor], &env);
    assert!(output.status.success(), "{}", describe(&output));
}

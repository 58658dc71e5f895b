//! Registries as the public ones are (issue 13.10): Debian's `docker-registry` with
//! `auth: token`, tokens from the loopback token server of `support::token` (real ES256 JWTs
//! the registry checks against the server's certificate). Pulls are anonymous; pushes need a
//! password or an identity token from a Docker config, exchanged as docker and crane do
//! (OAuth2 `grant_type=refresh_token`); a scope the token server does not grant is an error
//! naming the repository and the scope. Through the library and through the real binary
//! (build `--output`, attest, audit).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use receipts::oci::registry::auth::{Credential, Sources};
use receipts::oci::registry::{self, Settings};
use receipts::oci::{Reference, Store};

use crate::support::registry::{PASSWORD, Registry as Server, USER};
use crate::support::token::{REFRESH_TOKEN, TokenServer};

fn settings(sources: Sources) -> Settings {
    Settings {
        credentials: sources,
        ..Settings::default()
    }
}

fn password() -> Sources {
    Sources {
        explicit: Some(Credential::Basic {
            username: USER.into(),
            password: PASSWORD.into(),
        }),
        ..Sources::default()
    }
}

/// A Docker config directory whose `auths` entry for `host` holds only an identity token.
fn identity_token_config(dir: &Path, host: &str) -> PathBuf {
    let config = dir.join("docker-identity");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.json"),
        format!(r#"{{"auths":{{"{host}":{{"identitytoken":"{REFRESH_TOKEN}"}}}}}}"#),
    )
    .unwrap();
    config
}

fn push(settings: &Settings, image: &str) -> Result<receipts::oci::Digest, registry::Error> {
    let reference = Reference::parse(image).unwrap();
    let store = Store::create(&reference, settings).unwrap();
    match store.publish(&crate::oci::image::tiny(), Some("v1")) {
        Ok(root) => Ok(root.digest),
        Err(receipts::oci::store::Error::Registry(error)) => Err(error),
        Err(other) => panic!("{other}"),
    }
}

fn pull(settings: &Settings, image: &str) -> Result<receipts::oci::Digest, String> {
    let reference = Reference::parse(image).unwrap();
    let store = Store::open(&reference, settings).unwrap();
    let root = store
        .resolve(&reference)
        .map_err(|e| receipts::cli::render_chain(&e))?;
    store
        .manifest(&root.digest)
        .map_err(|e| receipts::cli::render_chain(&e))?;
    Ok(root.digest)
}

#[test]
fn anonymous_pulls_password_and_identity_token_pushes_denied_scopes() {
    let tokens = TokenServer::start();
    let server = Server::start_with_token_auth(&tokens.auth());
    let scratch = server.scratch("token");

    // A password is exchanged for a push token (GET with basic auth).
    let image = format!("{}:v1", server.repository("team/app"));
    let pushed = push(&settings(password()), &image).unwrap();
    // Anyone may pull.
    assert_eq!(pull(&settings(Sources::default()), &image).unwrap(), pushed);
    let issued = tokens.issued();
    assert!(
        issued.iter().any(|i| i.grant == "password"
            && i.scope == "repository:team/app:pull,push"
            && i.granted == "pull,push"),
        "{issued:#?}"
    );
    assert!(
        issued
            .iter()
            .any(|i| i.grant == "anonymous" && i.scope == "repository:team/app:pull"),
        "{issued:#?}"
    );

    // An identity token from a Docker config: the OAuth2 refresh-token grant, a POST.
    let docker_config = identity_token_config(&scratch, server.host());
    let with_identity = settings(Sources {
        docker_config: Some(docker_config),
        ..Sources::default()
    });
    let other = format!("{}:v1", server.repository("team/other"));
    push(&with_identity, &other).unwrap();
    assert!(
        tokens.issued().iter().any(|i| i.method == "POST"
            && i.grant == "refresh_token"
            && i.scope == "repository:team/other:pull,push"),
        "{:#?}",
        tokens.issued()
    );

    // Anonymous push: the token server grants pull only, the registry refuses the push.
    let error = push(&settings(Sources::default()), &image).unwrap_err();
    let text = receipts::cli::render_chain(&error);
    match error.last_attempt() {
        registry::Error::Denied {
            repository, scope, ..
        } => {
            assert_eq!(repository, "team/app");
            assert_eq!(scope, "repository:team/app:pull,push");
        }
        other => panic!("expected Denied, got {other:?}"),
    }
    assert!(
        text.contains("repository team/app") && text.contains("repository:team/app:pull,push"),
        "{text}"
    );

    // A repository the user may only read.
    let readonly = format!("{}:v1", server.repository("readonly/app"));
    let error = push(&settings(password()), &readonly).unwrap_err();
    let text = receipts::cli::render_chain(&error);
    assert!(
        matches!(error.last_attempt(), registry::Error::Denied { repository, .. } if repository == "readonly/app"),
        "{text}"
    );
    assert!(
        text.contains("repository:readonly/app:pull,push") && text.contains("hint: log in"),
        "{text}"
    );

    // A wrong password: the token server itself refuses, naming realm and scope.
    let wrong = settings(Sources {
        explicit: Some(Credential::Basic {
            username: USER.into(),
            password: "wrong".into(),
        }),
        ..Sources::default()
    });
    let error = pull(&wrong, &image).unwrap_err();
    assert!(
        error.contains(&tokens.realm())
            && error.contains("refused repository:team/app:pull")
            && error.contains("HTTP 401"),
        "{error}"
    );
}

fn cosign_rebuild(docker_config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples"))
        .args(args)
        .env("COSIGN_PASSWORD", "token")
        .env("DOCKER_CONFIG", docker_config)
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("cosign-rebuild runs")
}

#[test]
fn build_attest_and_audit_through_a_token_registry() {
    let tokens = TokenServer::start();
    let server = Server::start_with_token_auth(&tokens.auth());
    let dir = server.scratch("cli");
    let keygen = Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
        .current_dir(&dir)
        .arg("generate-key-pair")
        .env("COSIGN_PASSWORD", "token")
        .output()
        .unwrap();
    assert!(keygen.status.success(), "{keygen:?}");
    let signed_in = identity_token_config(&dir, server.host());
    let anonymous = dir.join("no-docker-config");
    let image = format!("{}:1.0", server.repository("team/app"));
    let predicate = dir.join("predicate.json");
    let cache = dir.join("cache");
    let (key, public) = (dir.join("cosign.key"), dir.join("cosign.pub"));
    let ok = |output: Output, what: &str| {
        assert!(
            output.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let build = [
        "build",
        "apko.yaml",
        "--output",
        &image,
        "--locked-out",
        predicate.to_str().unwrap(),
        "--offline",
        "--cache-dir",
        cache.to_str().unwrap(),
    ];
    // Anonymous push is refused with the repository and scope named.
    let refused = cosign_rebuild(&anonymous, &build);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("repository:team/app:pull,push") && stderr.contains("repository team/app"),
        "{stderr}"
    );
    ok(cosign_rebuild(&signed_in, &build), "build --output");
    let attest = [
        "attest",
        &image,
        "--predicate",
        predicate.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--tlog-upload=false",
    ];
    ok(cosign_rebuild(&signed_in, &attest), "attest");
    let audit = [
        image.as_str(),
        "--key",
        public.to_str().unwrap(),
        "--insecure-ignore-tlog",
        "--offline",
        "--cache-dir",
        cache.to_str().unwrap(),
    ];
    for config in [&anonymous, &signed_in] {
        let output = cosign_rebuild(config, &audit);
        ok(output.clone(), "audit");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("identical"),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
}

#[test]
fn token_fetches_ride_out_a_flaky_token_server() {
    let tokens = TokenServer::start();
    let realm = tokens.realm();
    let upstream = realm
        .trim_start_matches("http://")
        .trim_end_matches("/token")
        .to_owned();
    // Half of the token requests fail (500, 503, reset, stall); the registry itself is sound.
    let proxy = crate::support::fault::Proxy::faulty(
        &upstream,
        crate::support::fault::Faults {
            rate: 0.5,
            seed: 1310,
            stall: std::time::Duration::from_millis(200),
        },
    );
    let mut auth = tokens.auth();
    auth.realm = format!("http://{}/token", proxy.host());
    let server = Server::start_with_token_auth(&auth);
    for n in 0..4 {
        let image = format!("{}:v1", server.repository(&format!("team/flaky{n}")));
        let pushed = push(&settings(password()), &image).unwrap();
        assert_eq!(pull(&settings(Sources::default()), &image).unwrap(), pushed);
    }
    let log = proxy.log();
    assert!(
        log.iter().any(|(_, path, fault)| path.starts_with("/token")
            && *fault != crate::support::fault::Fault::Pass),
        "no token request was failed: {log:?}"
    );
}

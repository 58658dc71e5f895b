//! The registry options of both binaries, from the command line to a real registry behind
//! htpasswd basic auth: cosign's and oras's spellings, `--registry-config`, `DOCKER_CONFIG` and
//! `~/.docker/config.json` with `auths` and a `docker-credential-<name>` helper script,
//! `--password-stdin`, and plain HTTP for loopback hosts without a flag.

use std::io::Cursor;
use std::path::Path;

use base64::Engine as _;
use clap::Parser;
use receipts::cli::oras_lock;
use receipts::cli::registry::{Environment, OrasRegistryArgs, RegistryArgs};
use receipts::oci::registry::{PlainHttp, Settings, Tls};
use receipts::oci::{Reference, Store};

use crate::oci::image;
use crate::support::registry::{PASSWORD, Registry as Server, USER};

/// A command that flattens the cosign-dialect options, as every `cosign-rebuild` command does.
#[derive(Debug, Parser)]
#[command(name = "cosign-rebuild")]
struct CosignCommand {
    #[command(flatten)]
    registry: RegistryArgs,
}

/// The oras-dialect options as `oras-lock` parses them (`oras-lock [OPTIONS] CONFIG`).
fn oras_options(args: &[&str]) -> OrasRegistryArgs {
    let mut argv = vec!["oras-lock"];
    argv.extend_from_slice(args);
    argv.push("apko.yaml");
    let parsed = oras_lock::Args::try_parse_from(argv).unwrap_or_else(|e| panic!("{e}"));
    parsed.lock.resolve.registry
}

fn cosign_options(args: &[&str]) -> RegistryArgs {
    let mut argv = vec!["cosign-rebuild"];
    argv.extend_from_slice(args);
    CosignCommand::try_parse_from(argv)
        .unwrap_or_else(|e| panic!("{e}"))
        .registry
}

/// An environment with nothing in it: no Docker config, an empty home.
fn empty_env(server: &Server) -> Environment {
    Environment {
        docker_config: None,
        home: Some(server.scratch("empty-home")),
        helper_path: Some(server.scratch("empty-bin").into_os_string()),
    }
}

/// Pushes the tiny image to `repo:v1` through the store the settings open, and reads it back.
fn push_and_pull(settings: &Settings, server: &Server, repo: &str) -> Result<(), String> {
    let reference = Reference::parse(&server.repository(&format!("{repo}:v1"))).unwrap();
    let set = image::tiny();
    let store = Store::create(&reference, settings).map_err(|e| e.to_string())?;
    let pushed = store
        .publish(&set, Some("v1"))
        .map_err(|e| receipts::cli::render_chain(&e))?;
    let reader = Store::open(&reference, settings).map_err(|e| e.to_string())?;
    let resolved = reader
        .resolve(&reference)
        .map_err(|e| receipts::cli::render_chain(&e))?;
    assert_eq!(resolved.digest, pushed.digest);
    let manifest = reader
        .manifest(&resolved.digest)
        .map_err(|e| e.to_string())?;
    assert_eq!(Some(&manifest.bytes), set.root().map(|root| &root.bytes));
    Ok(())
}

fn write_docker_config(dir: &Path, json: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("config.json"), json).unwrap();
}

fn auths(server: &Server) -> String {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, server.host())
}

#[test]
fn both_spellings_mean_the_same_settings() {
    for (cosign, oras) in [
        (
            cosign_options(&["--allow-http-registry", "--allow-insecure-registry"]),
            oras_options(&["--plain-http", "--insecure"]),
        ),
        (
            cosign_options(&["--plain-http", "--insecure"]),
            oras_options(&["--allow-http-registry", "--allow-insecure-registry"]),
        ),
    ] {
        let cosign = cosign.settings_in(&Environment::default());
        let oras = oras
            .settings_in(&Environment::default(), &mut Cursor::new(""))
            .unwrap();
        for settings in [cosign, oras] {
            assert_eq!(settings.plain_http, PlainHttp::Everywhere);
            assert_eq!(settings.tls, Tls::SkipVerification);
        }
    }
    let default = cosign_options(&[]).settings_in(&Environment::default());
    assert_eq!(default.plain_http, PlainHttp::Loopback);
    assert_eq!(default.tls, Tls::Verify);
}

#[test]
fn without_credentials_the_registry_says_who_to_ask() {
    let server = Server::start_with_basic_auth();
    let settings = cosign_options(&[]).settings_in(&empty_env(&server));
    let error = push_and_pull(&settings, &server, "denied").unwrap_err();
    assert!(error.contains("401"), "{error}");
    assert!(
        error.contains(&format!("hint: log in (docker login {}", server.host())),
        "{error}"
    );
}

#[test]
fn cosign_spelling_basic_auth_over_loopback_http() {
    let server = Server::start_with_basic_auth();
    // No --allow-http-registry: 127.0.0.1 is reached over plain HTTP by itself.
    let settings = cosign_options(&["--registry-username", USER, "--registry-password", PASSWORD])
        .settings_in(&empty_env(&server));
    push_and_pull(&settings, &server, "cosign").unwrap();
}

#[test]
fn oras_spelling_short_flags_and_password_stdin() {
    let server = Server::start_with_basic_auth();
    let env = empty_env(&server);
    let settings = oras_options(&["-u", USER, "-p", PASSWORD])
        .settings_in(&env, &mut Cursor::new(""))
        .unwrap();
    push_and_pull(&settings, &server, "short").unwrap();

    let settings = oras_options(&["--registry-username", USER, "--registry-password", PASSWORD])
        .settings_in(&env, &mut Cursor::new(""))
        .unwrap();
    push_and_pull(&settings, &server, "long").unwrap();

    // Only the first line is the password, as `docker login --password-stdin` reads it.
    let settings = oras_options(&["--username", USER, "--password-stdin"])
        .settings_in(
            &env,
            &mut Cursor::new(format!("{PASSWORD}\nnot the password\n")),
        )
        .unwrap();
    push_and_pull(&settings, &server, "stdin").unwrap();

    let wrong = oras_options(&["--username", USER, "--password-stdin"])
        .settings_in(&env, &mut Cursor::new("wrong\n"))
        .unwrap();
    let error = push_and_pull(&wrong, &server, "wrong").unwrap_err();
    assert!(error.contains("401"), "{error}");
}

#[test]
fn registry_config_flag_then_docker_config_then_home() {
    let server = Server::start_with_basic_auth();
    // --registry-config FILE
    let file = server.scratch("flag").join("credentials.json");
    std::fs::write(&file, auths(&server)).unwrap();
    let file = file.display().to_string();
    let settings = oras_options(&["--registry-config", &file])
        .settings_in(&empty_env(&server), &mut Cursor::new(""))
        .unwrap();
    push_and_pull(&settings, &server, "flag").unwrap();

    // DOCKER_CONFIG/config.json
    let docker = server.scratch("docker-config");
    write_docker_config(&docker, &auths(&server));
    let env = Environment {
        docker_config: Some(docker),
        ..empty_env(&server)
    };
    push_and_pull(&cosign_options(&[]).settings_in(&env), &server, "env").unwrap();

    // ~/.docker/config.json when DOCKER_CONFIG is unset
    let home = server.scratch("home");
    write_docker_config(&home.join(".docker"), &auths(&server));
    let env = Environment {
        home: Some(home),
        ..empty_env(&server)
    };
    push_and_pull(&cosign_options(&[]).settings_in(&env), &server, "home").unwrap();
}

#[test]
fn credential_helper_script_on_the_path() {
    use std::os::unix::fs::PermissionsExt as _;
    let server = Server::start_with_basic_auth();
    let bin = server.scratch("bin");
    let helper = bin.join("docker-credential-receipts-test");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nread server\n\
             printf '%s\\n' \"$server\" >> \"$(dirname \"$0\")/asked\"\n\
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}' \"$server\"\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let docker = server.scratch("docker");
    write_docker_config(
        &docker,
        &format!(
            r#"{{"credHelpers":{{"{}":"receipts-test"}}}}"#,
            server.host()
        ),
    );
    let env = Environment {
        docker_config: Some(docker.clone()),
        home: None,
        helper_path: Some(bin.clone().into_os_string()),
    };
    for (settings, repo) in [
        (cosign_options(&[]).settings_in(&env), "cosign"),
        (
            oras_options(&[])
                .settings_in(&env, &mut Cursor::new(""))
                .unwrap(),
            "oras",
        ),
    ] {
        push_and_pull(&settings, &server, repo).unwrap();
    }
    let asked = std::fs::read_to_string(bin.join("asked")).unwrap();
    assert!(
        asked.lines().all(|line| line == server.host()) && !asked.is_empty(),
        "the helper is asked for this registry only: {asked}"
    );

    // credsStore naming a helper that is not installed: the error says what to do.
    write_docker_config(&docker, r#"{"credsStore":"not-installed"}"#);
    let error = push_and_pull(&cosign_options(&[]).settings_in(&env), &server, "gone").unwrap_err();
    assert!(
        error.contains("docker-credential-not-installed not found")
            && error.contains("hint: install docker-credential-not-installed on PATH"),
        "{error}"
    );
}

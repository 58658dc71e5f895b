//! Mistakes people make, and what they are told: each case triggers one with today's commands
//! (or the library call a command will make), and checks that the message says what happened,
//! to what, and what to do about it.

use std::io::Cursor;
use std::path::Path;

use receipts::apk::writer;
use receipts::attest::key;
use receipts::cli::{oras_lock, render_chain};
use receipts::oci::registry::{Settings, auth};
use receipts::oci::{Reference, Store};

use crate::support::lock::{Run, oras_lock, package, write_config, write_repository};
use crate::support::registry::Registry as Server;

/// Asserts a failed run with `status` whose stderr holds every one of `says`.
fn fails(run: &Run, status: i32, says: &[&str]) {
    assert_eq!(run.status, status, "stderr:\n{}", run.stderr);
    assert!(run.stdout.is_empty(), "nothing on stdout on error");
    for text in says {
        assert!(
            run.stderr.contains(text),
            "stderr lacks {text:?}:\n{}",
            run.stderr
        );
    }
}

/// A directory with a signed one-package repository and its apko.yaml.
fn case(packages: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_repository(
        &dir.path().join("repo"),
        "x86_64",
        &[package("hello", "1.0-r0", "x86_64", &[])],
    );
    write_config(dir.path(), packages, &["x86_64"]);
    dir
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn unknown_flag_names_it_and_points_to_help() {
    let dir = case(&["hello"]);
    let run = oras_lock(dir.path(), &["apko.yaml", "--plian-http"]);
    fails(
        &run,
        2,
        &[
            "unexpected argument '--plian-http'",
            "a similar argument exists: '--plain-http'",
            "try '--help'",
        ],
    );
}

#[test]
fn missing_configuration_file_says_where_it_was_looked_for() {
    let dir = case(&["hello"]);
    let run = oras_lock(dir.path(), &["apko.yml"]);
    fails(
        &run,
        2,
        &[
            "configuration file apko.yml not found in the working directory or include paths",
            "hint: check the file name",
            "--include-paths DIR",
        ],
    );
}

#[test]
fn unknown_architecture_lists_the_known_ones() {
    let dir = case(&["hello"]);
    let run = oras_lock(dir.path(), &["apko.yaml", "--arch", "x86-64"]);
    fails(
        &run,
        2,
        &[
            "unknown architecture \"x86-64\"",
            "use one of: all, host, 386 (x86), amd64 (x86_64), arm64 (aarch64)",
        ],
    );
}

#[test]
fn package_not_found_names_package_and_architecture() {
    let dir = case(&["hello", "helo"]);
    let run = oras_lock(dir.path(), &["apko.yaml"]);
    fails(
        &run,
        2,
        &[
            "cannot resolve the packages for x86_64",
            "nothing provides \"helo\"",
            "hint: check the spelling of \"helo\" and that a repository in contents.repositories carries it for x86_64",
        ],
    );
}

#[test]
fn version_that_no_repository_has_says_what_to_relax() {
    let dir = case(&["hello>2"]);
    let run = oras_lock(dir.path(), &["apko.yaml"]);
    fails(
        &run,
        2,
        &[
            "no package satisfies \"hello>2\"",
            "hint: relax the version constraint",
        ],
    );
}

#[test]
fn missing_keyring_file_names_the_entry() {
    let dir = case(&["hello"]);
    std::fs::remove_file(dir.path().join("receipts-example.rsa.pub")).unwrap();
    let run = oras_lock(dir.path(), &["apko.yaml"]);
    fails(
        &run,
        2,
        &[
            "keyring entry ./receipts-example.rsa.pub",
            "cannot read",
            "hint: check contents.keyring: ./receipts-example.rsa.pub must exist",
        ],
    );
}

#[test]
fn index_signed_by_a_key_not_in_the_keyring_names_the_key_to_add() {
    let dir = case(&["hello"]);
    // The keyring holds another key than the one the index is signed with.
    let other = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys/receipts-test.rsa.pub");
    std::fs::copy(other, dir.path().join("receipts-test.rsa.pub")).unwrap();
    let yaml = std::fs::read_to_string(dir.path().join("apko.yaml"))
        .unwrap()
        .replace("receipts-example.rsa.pub", "receipts-test.rsa.pub");
    std::fs::write(dir.path().join("apko.yaml"), yaml).unwrap();
    let run = oras_lock(dir.path(), &["apko.yaml"]);
    fails(
        &run,
        2,
        &[
            "APKINDEX.tar.gz: no usable signature by a trusted key",
            "hint: add the signer's public key (receipts-example.rsa.pub) to contents.keyring",
        ],
    );
}

#[test]
fn unsigned_index_is_refused_with_how_to_sign_it() {
    let dir = case(&["hello"]);
    // An index without its signature member: the tar of APKINDEX, gzipped.
    let built = writer::build_package(&package("hello", "1.0-r0", "x86_64", &[]), None).unwrap();
    let text = writer::index_text(&[built.package]);
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_size(text.len() as u64);
    header.set_mode(0o644);
    tar.append_data(&mut header, "APKINDEX", text.as_bytes())
        .unwrap();
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gzip, &tar.into_inner().unwrap()).unwrap();
    std::fs::write(
        dir.path().join("repo/x86_64/APKINDEX.tar.gz"),
        gzip.finish().unwrap(),
    )
    .unwrap();
    let run = oras_lock(dir.path(), &["apko.yaml"]);
    fails(
        &run,
        2,
        &[
            "APKINDEX.tar.gz: single gzip stream",
            "not a signed index",
            "hint: sign the index (abuild-sign, melange sign-index)",
        ],
    );
}

#[test]
fn unknown_configuration_key_says_remove_or_correct_it() {
    let dir = case(&["hello"]);
    let yaml = std::fs::read_to_string(dir.path().join("apko.yaml")).unwrap();
    std::fs::write(
        dir.path().join("apko.yaml"),
        format!("{yaml}entrypiont: {{}}\n"),
    )
    .unwrap();
    let run = oras_lock(dir.path(), &["apko.yaml"]);
    fails(
        &run,
        2,
        &[
            "unknown key `entrypiont` at line 6 column 1 of apko.yaml",
            "hint: remove or correct `entrypiont`",
        ],
    );
}

#[test]
fn offline_without_a_cached_index_says_how_to_fill_the_cache() {
    let dir = case(&["hello"]);
    let url = format!("http://127.0.0.1:{}/alpine/v3.20/main", closed_port());
    std::fs::write(
        dir.path().join("apko.yaml"),
        format!(
            "contents:\n  keyring: [./receipts-example.rsa.pub]\n  repositories: [{url}]\n  packages: [hello]\narchs: [x86_64]\n"
        ),
    )
    .unwrap();
    let cache = dir.path().join("cache").display().to_string();
    let run = oras_lock(
        dir.path(),
        &["apko.yaml", "--offline", "--cache-dir", &cache],
    );
    fails(
        &run,
        2,
        &[
            &format!(
                "{url}/x86_64/APKINDEX.tar.gz: not in the download cache and the network is off"
            ),
            "hint: run once without --offline",
        ],
    );

    // Online, the same repository is unreachable: the URL, the cause and the way out.
    let run = oras_lock(dir.path(), &["apko.yaml", "--cache-dir", &cache]);
    fails(
        &run,
        2,
        &[
            &format!("{url}/x86_64/APKINDEX.tar.gz: request failed"),
            "Connection refused",
            "hint: check the URL and the network",
        ],
    );
}

#[test]
fn check_without_an_earlier_lock_names_both_flags() {
    let dir = case(&["hello"]);
    let run = oras_lock(dir.path(), &["check", "apko.yaml"]);
    fails(
        &run,
        2,
        &[
            "required arguments were not provided",
            "--locked <FILE>|--lockfile <FILE>",
        ],
    );
}

#[test]
fn username_without_password_says_how_to_give_one() {
    let dir = case(&["hello"]);
    let run = oras_lock(dir.path(), &["apko.yaml", "-u", "alice"]);
    fails(
        &run,
        2,
        &["--username alice needs a password: pass --password or --password-stdin"],
    );
    let args = <oras_lock::Args as clap::Parser>::try_parse_from([
        "oras-lock",
        "apko.yaml",
        "-u",
        "alice",
        "--password-stdin",
    ])
    .unwrap();
    let error = args
        .lock
        .resolve
        .registry
        .settings_in(&Default::default(), &mut Cursor::new(""))
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("standard input is empty; pipe the password in"),
        "{error}"
    );
}

#[test]
fn wrong_key_password_says_which_password_is_wanted() {
    let pair = key::generate_key_pair(b"right horse battery").unwrap();
    let error = key::load_private_key(pair.private_pem.as_bytes(), b"wrong").unwrap_err();
    let text = render_chain(&error);
    assert!(
        text.contains("cannot decrypt the private key: wrong password")
            && text.contains("hint: give the password the key was created with (COSIGN_PASSWORD"),
        "{text}"
    );
}

#[test]
fn bad_image_reference_shows_the_expected_form() {
    for text in [
        "https://registry.example/app:1",
        "registry.example/App:1",
        "registry.example/app@sha256:abc",
    ] {
        let error = Reference::parse(text).unwrap_err();
        let message = render_chain(&error);
        assert!(
            message.contains(&format!("reference {text:?}"))
                && message.contains(
                    "hint: write an image as [REGISTRY/]REPOSITORY[:TAG][@sha256:DIGEST]"
                ),
            "{message}"
        );
    }
}

#[test]
fn unreachable_registry_names_host_and_flags() {
    let reference = Reference::parse(&format!("127.0.0.1:{}/app:1", closed_port())).unwrap();
    let store = Store::open(&reference, &Settings::default()).unwrap();
    let error = store.resolve(&reference).unwrap_err();
    let message = render_chain(&error);
    assert!(
        message.contains("request failed")
            && message.contains("hint: check the registry's host and port and that it is running"),
        "{message}"
    );
}

#[test]
fn registry_auth_denied_and_missing_tag() {
    let server = Server::start_with_basic_auth();
    let reference = Reference::parse(&server.repository("app:1")).unwrap();
    let home = server.scratch("home");
    let anonymous = Settings {
        credentials: auth::Sources {
            home: Some(home),
            ..auth::Sources::default()
        },
        ..Settings::default()
    };
    let error = Store::open(&reference, &anonymous)
        .unwrap()
        .resolve(&reference)
        .unwrap_err();
    let message = render_chain(&error);
    assert!(
        message.contains("HTTP 401 unauthorized by registry")
            && message.contains(&format!("hint: log in (docker login {}", server.host()))
            && message.contains("--registry-username and --registry-password"),
        "{message}"
    );

    let signed_in = Settings {
        credentials: auth::Sources {
            explicit: Some(auth::Credential::Basic {
                username: crate::support::registry::USER.into(),
                password: crate::support::registry::PASSWORD.into(),
            }),
            ..auth::Sources::default()
        },
        ..Settings::default()
    };
    let error = Store::open(&reference, &signed_in)
        .unwrap()
        .resolve(&reference)
        .unwrap_err();
    let message = render_chain(&error);
    assert!(
        message.contains("not found (HTTP 404)")
            && message.contains("hint: check the repository name and the tag or digest"),
        "{message}"
    );
}

#[test]
fn existing_key_file_is_not_replaced_and_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("cosign");
    std::fs::write(dir.path().join("cosign.key"), "an older key").unwrap();
    let pair = key::generate_key_pair(b"pw").unwrap();
    let error = key::write_key_pair(&pair, &prefix, key::Overwrite::Refuse).unwrap_err();
    let message = render_chain(&error);
    assert!(
        message.contains(&format!(
            "key file {} already exists",
            dir.path().join("cosign.key").display()
        )) && message.contains("hint: keep using that key, or move it away"),
        "{message}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("cosign.key")).unwrap(),
        "an older key"
    );
    assert!(!dir.path().join("cosign.pub").exists(), "nothing written");
}

//! Mistakes people make, and what they are told: each case triggers one through `oras-lock` or
//! `cosign-rebuild` (a few through the library call a command makes), and checks the exit status
//! and that the message says what happened, to what, and what to do about it.

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

// The same mistakes through `cosign-rebuild`, as a person typing its commands meets them.

const PASSWORD: &str = "errors-test";

/// Runs `cosign-rebuild ARGS` in `dir` with `COSIGN_PASSWORD`, no Docker config and an empty
/// standard input (no terminal to answer a question on).
fn cosign(dir: &Path, args: &[&str], password: &str) -> Run {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
        .args(args)
        .current_dir(dir)
        .env("COSIGN_PASSWORD", password)
        .env("DOCKER_CONFIG", dir.join("no-docker-config"))
        .env("HOME", dir.join("home"))
        .env_remove("SOURCE_DATE_EPOCH")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run cosign-rebuild");
    Run::from(output)
}

/// A writable copy of apko's golden layout (no attestation), as `oci:DIR`, and a key pair
/// `signer` beside it.
struct Signed {
    dir: tempfile::TempDir,
    image: crate::rebuild::fixture::Fixture,
}

impl Signed {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let run = cosign(
            dir.path(),
            &["generate-key-pair", "--output-key-prefix", "signer"],
            PASSWORD,
        );
        assert_eq!(run.status, 0, "{}", run.stderr);
        Signed {
            dir,
            image: crate::rebuild::fixture::Fixture::golden(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn image(&self) -> String {
        self.image.reference()
    }

    /// Attests `predicate` (JSON text) to the image, with `extra` flags.
    fn attest(&self, predicate: &str, extra: &[&str]) {
        let file = self.path().join("predicate.json");
        std::fs::write(&file, predicate).unwrap();
        let file = file.display().to_string();
        let image = self.image();
        let mut args = vec![
            "attest",
            &image,
            "--predicate",
            &file,
            "--key",
            "signer.key",
            "--tlog-upload=false",
        ];
        args.extend_from_slice(extra);
        let run = cosign(self.path(), &args, PASSWORD);
        assert_eq!(run.status, 0, "{}", run.stderr);
    }

    fn run(&self, args: &[&str]) -> Run {
        cosign(self.path(), args, PASSWORD)
    }

    /// `verify IMAGE --key PUB --insecure-ignore-tlog EXTRA…`.
    fn verify(&self, public: &str, extra: &[&str]) -> Run {
        let image = self.image();
        let mut args = vec!["verify", &image, "--key", public, "--insecure-ignore-tlog"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// The audit, `IMAGE --key PUB --insecure-ignore-tlog --cache-dir cache EXTRA…`.
    fn audit(&self, public: &str, extra: &[&str]) -> Run {
        let image = self.image();
        let mut args = vec![
            image.as_str(),
            "--key",
            public,
            "--insecure-ignore-tlog",
            "--cache-dir",
            "cache",
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }
}

/// A minimal apko configuration over one repository.
fn predicate(repository: &str) -> String {
    format!(
        r#"{{"contents":{{"repositories":["{repository}"],"keyring":[],"packages":["hello=1.0-r0"]}},"archs":["x86_64"]}}"#
    )
}

#[test]
fn attest_with_the_wrong_password_names_the_key_and_the_variable() {
    let signed = Signed::new();
    let image = signed.image();
    std::fs::write(signed.path().join("p.json"), "{}").unwrap();
    let run = cosign(
        signed.path(),
        &[
            "attest",
            &image,
            "--predicate",
            "p.json",
            "--key",
            "signer.key",
            "--tlog-upload=false",
        ],
        "not the password",
    );
    fails(
        &run,
        1,
        &[
            "cannot load the signing key signer.key",
            "cannot decrypt the private key: wrong password",
            "hint: give the password the key was created with (COSIGN_PASSWORD",
        ],
    );
}

#[test]
fn registry_auth_denied_through_download_and_verify_says_how_to_log_in() {
    let server = Server::start_with_basic_auth();
    let signed = Signed::new();
    let image = server.repository("app:1");
    let login = format!("hint: log in (docker login {}", server.host());
    for args in [
        vec!["download", image.as_str()],
        vec![
            "verify",
            image.as_str(),
            "--key",
            "signer.pub",
            "--insecure-ignore-tlog",
        ],
    ] {
        let run = signed.run(&args);
        fails(
            &run,
            1,
            &[
                "HTTP 401 unauthorized by registry",
                &login,
                "--registry-username and --registry-password",
            ],
        );
    }
}

#[test]
fn unreachable_registry_through_verify_and_the_audit_names_the_address() {
    let signed = Signed::new();
    let image = format!("127.0.0.1:{}/app:1", closed_port());
    let url = format!("http://{}/v2/", image.trim_end_matches("/app:1"));
    for args in [
        vec![
            "verify",
            &image,
            "--key",
            "signer.pub",
            "--insecure-ignore-tlog",
        ],
        vec![&image, "--key", "signer.pub", "--insecure-ignore-tlog"],
    ] {
        let run = signed.run(&args);
        fails(
            &run,
            1,
            &[
                &format!("{url}: request failed"),
                "Connection refused",
                "hint: check the registry's host and port and that it is running",
                "--allow-http-registry",
            ],
        );
    }
}

#[test]
fn bad_image_reference_on_the_command_line_shows_the_expected_form() {
    let signed = Signed::new();
    for (args, says) in [
        (
            vec![
                "verify",
                "registry.example/App:1",
                "--key",
                "signer.pub",
                "--insecure-ignore-tlog",
            ],
            "repository \"App\" may only contain a-z, 0-9",
        ),
        (
            vec!["https://registry.example/app:1", "--key", "signer.pub"],
            "must not contain a URL scheme",
        ),
        (
            vec!["download", "registry.example/app@sha256:abc"],
            "reference \"registry.example/app@sha256:abc\"",
        ),
    ] {
        let run = signed.run(&args);
        fails(
            &run,
            1,
            &[
                "invalid image reference",
                says,
                "hint: write an image as [REGISTRY/]REPOSITORY[:TAG][@sha256:DIGEST]",
            ],
        );
    }
}

#[test]
fn image_without_attestation_says_nothing_was_found_and_how_to_attest() {
    let signed = Signed::new();
    let root = signed.image.root().to_string();
    let verify = signed.verify("signer.pub", &[]);
    let audit = signed.audit("signer.pub", &[]);
    for run in [&verify, &audit] {
        fails(
            run,
            1,
            &[
                &format!("no matching attestations: no attestations found for {root}"),
                "hint: attest the image first: cosign-rebuild attest IMAGE --predicate FILE --key",
            ],
        );
    }
    assert!(
        audit.stderr.contains("nothing was rebuilt"),
        "{}",
        audit.stderr
    );
}

#[test]
fn wrong_public_key_fails_before_anything_is_built() {
    let signed = Signed::new();
    signed.attest(&predicate("http://127.0.0.1:9/repo"), &[]);
    let other = signed.run(&["generate-key-pair", "--output-key-prefix", "other"]);
    assert_eq!(other.status, 0, "{}", other.stderr);
    let says = [
        "no matching attestations: bundle sha256:",
        "DSSE signature check failed",
        "hint: check that --key is the public key of the pair that signed the attestation",
    ];
    fails(&signed.verify("other.pub", &[]), 1, &says);

    let kept = signed.path().join("rebuilt");
    let kept_text = kept.display().to_string();
    let audit = signed.audit("other.pub", &["--keep", &kept_text]);
    fails(&audit, 1, &says);
    assert!(
        audit.stderr.contains("nothing was rebuilt"),
        "{}",
        audit.stderr
    );
    assert!(!audit.stderr.contains("rebuilding"), "{}", audit.stderr);
    assert!(!kept.exists(), "nothing built");
    assert!(!signed.path().join("cache").exists(), "nothing downloaded");
}

#[test]
fn attestation_of_another_type_lists_the_types_found() {
    let signed = Signed::new();
    signed.attest("{}", &["--type", "custom"]);
    fails(
        &signed.verify("signer.pub", &["--type", "slsaprovenance"]),
        1,
        &[
            "none of the attestations matched the predicate type: https://slsa.dev/provenance/v0.2, \
             found: https://cosign.sigstore.dev/attestation/v1",
            "hint: pass --type with one of the types found",
        ],
    );
    fails(
        &signed.audit("signer.pub", &[]),
        1,
        &[
            "none of the attestations matched the predicate type: https://apko.dev/image-configuration, \
             found: https://cosign.sigstore.dev/attestation/v1",
            "hint: attest the locked configuration as https://apko.dev/image-configuration",
            "nothing was rebuilt",
        ],
    );
}

#[test]
fn generate_key_pair_without_a_terminal_keeps_the_existing_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cosign.key"), "an older key").unwrap();
    let run = cosign(dir.path(), &["generate-key-pair"], PASSWORD);
    fails(
        &run,
        1,
        &[
            "File cosign.key already exists. Overwrite?",
            "error: user declined the prompt",
            "hint: keep using the existing key, or move it away",
        ],
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("cosign.key")).unwrap(),
        "an older key"
    );
    assert!(!dir.path().join("cosign.pub").exists(), "nothing written");
}

#[test]
fn unreachable_repository_during_the_audit_names_its_url() {
    let signed = Signed::new();
    let repository = format!("http://127.0.0.1:{}/repo", closed_port());
    signed.attest(&predicate(&repository), &[]);
    let run = signed.audit("signer.pub", &[]);
    fails(
        &run,
        1,
        &[
            &format!(
                "cannot rebuild {} from its attested configuration",
                signed.image()
            ),
            &format!("index of repository {repository} for x86_64"),
            &format!("{repository}/x86_64/APKINDEX.tar.gz: request failed"),
            "hint: check the URL and the network",
        ],
    );
}

#[test]
fn audit_platform_missing_from_the_index_lists_the_platforms() {
    let signed = Signed::new();
    signed.attest(&predicate("http://127.0.0.1:9/repo"), &[]);
    let run = signed.audit("signer.pub", &["--platform", "linux/s390x"]);
    fails(
        &run,
        1,
        &[
            &format!(
                "platform linux/s390x is not in {} (it has: linux/amd64, linux/arm64)",
                signed.image()
            ),
            "hint: pass one of the platforms it has to --platform",
        ],
    );
    let image = signed.image();
    let diff = signed.run(&["diff", &image, &image, "--platform", "linux/s390x"]);
    fails(
        &diff,
        1,
        &[
            &format!("platform linux/s390x is not in the b image {image}"),
            "(it has: linux/amd64, linux/arm64)",
            "hint: pass one of the platforms it has to --platform",
        ],
    );
}

// Usage mistakes a cosign user makes (issue 13): each is refused before any work with exit 2,
// or answered with a hint naming the flag that was missing.

#[test]
fn an_audit_with_neither_key_nor_identity_is_a_usage_error_naming_both() {
    let signed = Signed::new();
    let run = signed.run(&[&signed.image()]);
    fails(
        &run,
        2,
        &[
            "say who must have signed the attestation",
            "--key cosign.pub",
            "--certificate-identity",
            "--certificate-oidc-issuer",
        ],
    );
}

#[test]
fn the_former_insecure_skip_verify_points_to_its_new_name() {
    let signed = Signed::new();
    let run = signed.run(&[&signed.image(), "--insecure-skip-verify"]);
    fails(&run, 2, &["--insecure-skip-attestation-verification"]);
}

#[test]
fn a_key_signed_audit_without_insecure_ignore_tlog_is_told_to_pass_it() {
    let signed = Signed::new();
    signed.attest(&predicate("./repo"), &[]);
    let image = signed.image();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
        .args([
            image.as_str(),
            "--key",
            "signer.pub",
            "--cache-dir",
            "cache",
        ])
        .current_dir(signed.path())
        .env("DOCKER_CONFIG", signed.path().join("no-docker-config"))
        .env_remove("SIGSTORE_ROOT_FILE")
        .env_remove("SIGSTORE_TRUSTED_ROOT")
        .output()
        .unwrap();
    let run = Run::from(output);
    fails(
        &run,
        1,
        &["a key was given", "hint:", "pass --insecure-ignore-tlog"],
    );
}

#[test]
fn an_output_without_registry_or_oci_suggests_the_layout_form() {
    let dir = case(&["hello"]);
    let run = cosign(dir.path(), &["build", "apko.yaml", "--output", "out2"], "");
    fails(
        &run,
        2,
        &[
            "--output out2 names no registry",
            "oci:out2",
            "docker.io/library/out2",
        ],
    );
    assert!(!dir.path().join("out2").exists());
}

#[test]
fn bare_cosign_rebuild_lists_its_commands() {
    let dir = tempfile::tempdir().unwrap();
    let run = cosign(dir.path(), &[], "");
    fails(
        &run,
        2,
        &[
            "Usage:",
            "build",
            "attest",
            "verify",
            "generate-key-pair",
            "diff",
        ],
    );
}

#[test]
fn help_texts_name_what_a_user_needs_and_no_internals() {
    let dir = tempfile::tempdir().unwrap();
    let help = |run: Run| {
        assert_eq!(run.status, 0, "{}", run.stderr);
        String::from_utf8(run.stdout).unwrap()
    };
    let keys = help(cosign(dir.path(), &["generate-key-pair", "--help"], ""));
    assert!(keys.contains("COSIGN_PASSWORD"), "{keys}");
    let show = help(oras_lock(dir.path(), &["show-packages", "--help"]));
    assert!(
        show.contains("`text` (default)") && show.contains("`json`"),
        "{show}"
    );
    let mut texts = vec![
        help(cosign(dir.path(), &["--help"], "")),
        help(cosign(dir.path(), &["rebuild", "--help"], "")),
        help(oras_lock(dir.path(), &["check", "--help"])),
    ];
    texts.push(keys);
    texts.push(show);
    for text in texts {
        for internal in ["an `Option`", "receipts::", "only because"] {
            assert!(!text.contains(internal), "{internal} in:\n{text}");
        }
    }
}

#[test]
fn quiet_silences_every_line_that_is_not_the_result() {
    let signed = Signed::new();
    let run = signed.run(&["-q", "generate-key-pair", "--output-key-prefix", "quiet"]);
    assert_eq!((run.status, run.stderr.as_str()), (0, ""));
    signed.attest(&predicate("./repo"), &[]);
    let run = signed.run(&[
        "-q",
        "verify",
        &signed.image(),
        "--key",
        "signer.pub",
        "--insecure-ignore-tlog",
        "--type",
        "https://apko.dev/image-configuration",
    ]);
    assert_eq!((run.status, run.stderr.as_str()), (0, ""));
    assert!(
        !run.stdout.is_empty(),
        "the verified envelope is the result"
    );
}

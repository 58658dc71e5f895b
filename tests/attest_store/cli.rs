//! `cosign-rebuild generate-key-pair` and `cosign-rebuild attest`, run as the real binary:
//! cosign's key files and prompts, both storage formats on an `oci:DIR` and on a registry tag,
//! and concurrent attesters that must not lose each other's attestations.

use std::ffi::OsStr;
use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use receipts::attest::bundle::{BUNDLE_V03_MEDIA_TYPE, Bundle};
use receipts::attest::dsse::Envelope;
use receipts::attest::key::{self, PrivateKey};
use receipts::attest::names;
use receipts::attest::statement::Statement;
use receipts::attest::store::AttManifest;
use receipts::oci::reference::referrers_tag;
use receipts::oci::registry::Settings;
use receipts::oci::{Descriptor, Digest, Index, Manifest, Reference, Store};

use super::storage::{APKO, CUSTOM, golden_copy, image, pushed_golden};
use crate::support;
use crate::support::attest::describe;

fn command<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("COSIGN_PASSWORD")
        .env("DOCKER_CONFIG", dir.join("no-docker-config"));
    command
}

/// Runs the binary with `stdin` piped in.
fn run<S: AsRef<OsStr>>(dir: &Path, args: &[S], password: Option<&str>, stdin: &[u8]) -> Output {
    let mut command = command(dir, args);
    if let Some(password) = password {
        command.env("COSIGN_PASSWORD", password);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cosign-rebuild runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn generate_key_pair_writes_cosign_files_and_asks_before_overwriting() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let output = run(dir, &["generate-key-pair"], Some("pw"), b"");
    assert!(output.status.success(), "{}", describe(&output));
    let private = std::fs::read(dir.join("cosign.key")).unwrap();
    let public = std::fs::read(dir.join("cosign.pub")).unwrap();
    assert!(
        String::from_utf8_lossy(&private)
            .starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n")
    );
    let loaded = key::load_private_key(&private, b"pw").unwrap();
    assert_eq!(
        loaded.public_key().to_pem().unwrap().as_bytes(),
        public.as_slice()
    );
    assert!(key::load_private_key(&private, b"wrong").is_err());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join("cosign.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // "n" (or nothing) declines: both files stay as they were.
    for answer in [&b"n\n"[..], b"", b"maybe\n"] {
        let output = run(dir, &["generate-key-pair"], Some("pw"), answer);
        assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
        assert!(String::from_utf8_lossy(&output.stderr).contains("already exists. Overwrite?"));
        assert_eq!(std::fs::read(dir.join("cosign.key")).unwrap(), private);
    }
    let output = run(dir, &["generate-key-pair"], Some("pw2"), b"y\n");
    assert!(output.status.success(), "{}", describe(&output));
    let replaced = std::fs::read(dir.join("cosign.key")).unwrap();
    assert_ne!(replaced, private);
    key::load_private_key(&replaced, b"pw2").unwrap();

    // A piped password is taken whole, as cosign does; a prefix names other files.
    let output = run(
        dir,
        &["generate-key-pair", "--output-key-prefix", "sub"],
        None,
        b"piped\n",
    );
    assert!(output.status.success(), "{}", describe(&output));
    let sub = std::fs::read(dir.join("sub.key")).unwrap();
    key::load_private_key(&sub, b"piped\n").unwrap();
    assert!(dir.join("sub.pub").is_file());
}

/// sigstore-rs's encrypted ECDSA key (password `123`) and its public half.
fn real_key(dir: &Path) -> (std::path::PathBuf, PrivateKey) {
    let source = support::data("sigstore/sigstore-rs/tests/data/keys/ecdsa_encrypted_private.key");
    let text = std::fs::read(&source).unwrap();
    let key = key::load_private_key(&text, b"123").unwrap();
    let path = dir.join("real.key");
    std::fs::write(&path, text).unwrap();
    (path, key)
}

fn layers(store: &Store, subject: &Digest) -> Vec<Descriptor> {
    match store.tagged(&names::attestation_tag(subject)).unwrap() {
        Some(raw) => AttManifest::parse(&raw.bytes).unwrap().layers,
        None => Vec::new(),
    }
}

fn layer_statement(store: &Store, layer: &Descriptor, key: &PrivateKey) -> Statement {
    let envelope = Envelope::from_json(&store.read_blob(&layer.digest).unwrap()).unwrap();
    envelope.verify(&key.public_key()).unwrap();
    envelope.statement().unwrap()
}

/// The statements of every bundle referrer listed in the fallback index.
fn bundle_statements(store: &Store, subject: &Digest, key: &PrivateKey) -> Vec<Statement> {
    let Some(raw) = store.tagged(&referrers_tag(subject)).unwrap() else {
        return Vec::new();
    };
    Index::parse(&raw.bytes)
        .unwrap()
        .manifests
        .iter()
        .map(|entry| {
            let manifest = Manifest::parse(&store.manifest(&entry.digest).unwrap().bytes).unwrap();
            assert_eq!(manifest.layers[0].media_type, BUNDLE_V03_MEDIA_TYPE);
            let bundle =
                Bundle::from_json(&store.read_blob(&manifest.layers[0].digest).unwrap()).unwrap();
            let envelope = bundle.dsse_envelope().unwrap();
            envelope.verify(&key.public_key()).unwrap();
            envelope.statement().unwrap()
        })
        .collect()
}

fn open(reference: &str) -> (Store, Descriptor) {
    let reference = Reference::parse(reference).unwrap();
    let store = Store::open(&reference, &Settings::default()).unwrap();
    let subject = store.resolve(&reference).unwrap();
    (store, subject)
}

#[test]
fn attest_an_oci_layout_in_both_formats_with_a_real_cosign_key() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let layout = golden_copy(dir);
    let (key_path, key) = real_key(dir);
    std::fs::write(
        dir.join("p.yaml"),
        "contents:\n  packages: [busybox]\narchs: [x86_64]\n",
    )
    .unwrap();
    std::fs::write(dir.join("p.json"), r#"{"big":1e3,"s":"<&>"}"#).unwrap();
    let image = "oci:golden";
    let attest = |extra: &[&str], predicate: &str| {
        let mut args = vec![
            "attest",
            image,
            "--predicate",
            predicate,
            "--key",
            key_path.to_str().unwrap(),
            "--tlog-upload=false",
        ];
        args.extend_from_slice(extra);
        run(dir, &args, Some("123"), b"")
    };
    let output = attest(&[], "p.yaml");
    assert!(output.status.success(), "{}", describe(&output));
    let output = attest(&["--new-bundle-format=false", "--type", "custom"], "p.json");
    assert!(output.status.success(), "{}", describe(&output));
    let output = attest(&["--new-bundle-format=false"], "p.yaml");
    assert!(output.status.success(), "{}", describe(&output));

    let (store, subject) = open(&format!("oci:{}", layout.display()));
    assert_eq!(subject.digest, image::digest(image::GOLDEN_INDEX));
    let bundles = bundle_statements(&store, &subject.digest, &key);
    assert_eq!(bundles.len(), 1);
    assert_eq!(bundles[0].predicate_type, APKO);
    assert_eq!(bundles[0].subject[0].name, "oci:golden");
    assert_eq!(
        bundles[0].predicate.to_json(),
        r#"{"archs":["x86_64"],"contents":{"packages":["busybox"]}}"#
    );
    let legacy: Vec<Statement> = layers(&store, &subject.digest)
        .iter()
        .map(|l| layer_statement(&store, l, &key))
        .collect();
    let types: Vec<&str> = legacy.iter().map(|s| s.predicate_type.as_str()).collect();
    assert_eq!(types, [CUSTOM, APKO]);
    assert_eq!(legacy[0].predicate.to_json(), r#"{"big":1000,"s":"<&>"}"#);

    // --replace drops the earlier apko attestation and reports it as cosign does.
    let output = attest(&["--new-bundle-format=false", "--replace"], "p.json");
    assert!(output.status.success(), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("Replacing attestation predicate: {APKO}")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("Not replacing attestation predicate: {CUSTOM}")),
        "{stderr}"
    );
    let types: Vec<String> = layers(&store, &subject.digest)
        .iter()
        .map(|l| layer_statement(&store, l, &key).predicate_type)
        .collect();
    assert_eq!(types, [APKO, CUSTOM]);
}

#[test]
fn attest_with_a_key_cosign_generated_and_an_empty_password() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    golden_copy(dir);
    let source = support::data(
        "sigstore/sigstore-rs/tests/data/keys/cosign_generated_encrypted_empty_private.key",
    );
    let key = key::load_private_key(&std::fs::read(&source).unwrap(), b"").unwrap();
    std::fs::write(dir.join("p.json"), "{}").unwrap();
    let args = [
        "attest",
        "oci:golden",
        "--predicate",
        "p.json",
        "--key",
        source.to_str().unwrap(),
        "--tlog-upload=false",
        "--new-bundle-format=false",
    ];
    let output = run(dir, &args, Some(""), b"");
    assert!(output.status.success(), "{}", describe(&output));
    let (store, subject) = open(&format!("oci:{}", dir.join("golden").display()));
    let layers = layers(&store, &subject.digest);
    assert_eq!(
        layer_statement(&store, &layers[0], &key).predicate_type,
        APKO
    );
}

#[test]
fn attest_resolves_a_registry_tag_and_refuses_a_wrong_password() {
    let registry = support::registry::Registry::start();
    let (store, subject, name) = pushed_golden(&registry, "cli");
    let dir = registry.scratch("cli");
    let (key_path, key) = real_key(&dir);
    std::fs::write(dir.join("p.json"), r#"{"k":"v"}"#).unwrap();
    let image = format!("{name}:v1");
    let args = |extra: &'static str| {
        vec![
            "attest".to_owned(),
            image.clone(),
            "--predicate".to_owned(),
            "p.json".to_owned(),
            "--key".to_owned(),
            key_path.to_string_lossy().into_owned(),
            "--tlog-upload=false".to_owned(),
            extra.to_owned(),
        ]
    };

    // A wrong password fails before anything is written.
    let wrong = args("--new-bundle-format=false");
    let output = run(&dir, &wrong, Some("nope"), b"");
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        store
            .tagged(&names::attestation_tag(&subject.digest))
            .unwrap()
            .is_none()
    );

    for extra in ["--new-bundle-format=false", "--new-bundle-format"] {
        let all = args(extra);
        let output = run(&dir, &all, Some("123"), b"");
        assert!(output.status.success(), "{}", describe(&output));
    }
    let legacy = layers(&store, &subject.digest);
    assert_eq!(legacy.len(), 1);
    let statement = layer_statement(&store, &legacy[0], &key);
    assert_eq!(statement.subject[0].name, name);
    assert_eq!(statement.subject[0].digest["sha256"], subject.digest.hex());
    let bundles = bundle_statements(&store, &subject.digest, &key);
    assert_eq!(bundles.len(), 1);
    assert_eq!(bundles[0].subject[0].name, name);
}

/// Starts `count` attesters of `image` at once, each with its own predicate `{"who":"<tag>-<i>"}`.
fn race(dir: &Path, image: &str, key: &Path, extra: &[&str], round: usize, count: usize) {
    let children: Vec<(Child, usize)> = (0..count)
        .map(|i| {
            let predicate = dir.join(format!("race-{round}-{i}.json"));
            std::fs::write(&predicate, format!(r#"{{"who":"{round}-{i}"}}"#)).unwrap();
            let mut args = vec![
                "attest",
                image,
                "--predicate",
                predicate.to_str().unwrap(),
                "--key",
                key.to_str().unwrap(),
                "--tlog-upload=false",
            ];
            args.extend_from_slice(extra);
            let child = command(dir, &args)
                .env("COSIGN_PASSWORD", "123")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (child, i)
        })
        .collect();
    for (child, i) in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "attester {round}-{i}: {}",
            describe(&output)
        );
    }
}

fn whos(statements: &[Statement]) -> Vec<String> {
    let mut whos: Vec<String> = statements
        .iter()
        .map(|s| s.predicate.fields()["who"].as_str().unwrap().to_owned())
        .collect();
    whos.sort();
    whos
}

fn expected_whos(rounds: usize, count: usize) -> Vec<String> {
    let mut all: Vec<String> = (0..rounds)
        .flat_map(|r| (0..count).map(move |i| format!("{r}-{i}")))
        .collect();
    all.sort();
    all
}

const ROUNDS: usize = 2;
const RACERS: usize = 3;

fn race_both_formats(dir: &Path, image: &str, store_reference: &str) {
    let (key_path, key) = real_key(dir);
    for (extra, legacy) in [(&["--new-bundle-format=false"][..], true), (&[][..], false)] {
        for round in 0..ROUNDS {
            race(dir, image, &key_path, extra, round, RACERS);
        }
        let (store, subject) = open(store_reference);
        let statements: Vec<Statement> = if legacy {
            layers(&store, &subject.digest)
                .iter()
                .map(|l| layer_statement(&store, l, &key))
                .collect()
        } else {
            bundle_statements(&store, &subject.digest, &key)
        };
        assert_eq!(
            whos(&statements),
            expected_whos(ROUNDS, RACERS),
            "legacy format: {legacy}"
        );
    }
}

#[test]
fn concurrent_attesters_on_a_registry_lose_nothing() {
    let registry = support::registry::Registry::start();
    let (_, subject, name) = pushed_golden(&registry, "race");
    let dir = registry.scratch("race");
    let image = format!("{name}@{}", subject.digest);
    race_both_formats(&dir, &image, &image);
}

#[test]
fn concurrent_attesters_on_a_layout_lose_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let layout = golden_copy(temp.path());
    race_both_formats(
        temp.path(),
        "oci:golden",
        &format!("oci:{}", layout.display()),
    );
}

/// What `cosign-rebuild attest` writes, `cosign-rebuild verify --key` accepts (legacy first,
/// then the bundle that takes precedence), and refuses with another key.
#[test]
fn verify_accepts_what_attest_wrote_to_a_registry() {
    let registry = support::registry::Registry::start();
    let (_, _, name) = pushed_golden(&registry, "roundtrip");
    let dir = registry.scratch("roundtrip");
    let (key_path, key) = real_key(&dir);
    std::fs::write(dir.join("cosign.pub"), key.public_key().to_pem().unwrap()).unwrap();
    let other = PrivateKey::generate_ecdsa_p256().unwrap();
    std::fs::write(dir.join("other.pub"), other.public_key().to_pem().unwrap()).unwrap();
    std::fs::write(dir.join("p.json"), r#"{"k":"v"}"#).unwrap();
    let image = format!("{name}:v1");
    let verify = |public: &str| {
        let args = [
            "verify",
            &image,
            "--key",
            public,
            "--insecure-ignore-tlog",
            "--type",
            APKO,
        ];
        run(&dir, &args, None, b"")
    };
    for format in ["--new-bundle-format=false", "--new-bundle-format=true"] {
        let args = [
            "attest",
            &image,
            "--predicate",
            "p.json",
            "--key",
            key_path.to_str().unwrap(),
            "--tlog-upload=false",
            format,
        ];
        let output = run(&dir, &args, Some("123"), b"");
        assert!(output.status.success(), "{}", describe(&output));
        let output = verify("cosign.pub");
        assert!(output.status.success(), "{format}: {}", describe(&output));
        let envelope =
            Envelope::from_json(output.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
        assert_eq!(envelope.statement().unwrap().predicate_type, APKO);
        let output = verify("other.pub");
        assert_eq!(
            output.status.code(),
            Some(1),
            "{format}: {}",
            describe(&output)
        );
    }
}

#[test]
fn attest_format_json_reports_what_was_written() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let layout = golden_copy(dir);
    let (key_path, _) = real_key(dir);
    std::fs::write(dir.join("p.json"), "{}").unwrap();
    let (store, subject) = open(&format!("oci:{}", layout.display()));
    let attest = |extra: &[&str]| {
        let mut args = vec![
            "attest",
            "oci:golden",
            "--predicate",
            "p.json",
            "--key",
            key_path.to_str().unwrap(),
            "--tlog-upload=false",
        ];
        args.extend_from_slice(extra);
        let output = run(dir, &args, Some("123"), b"");
        assert!(output.status.success(), "{}", describe(&output));
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };

    let bundle = attest(&["--output", "json"]);
    let fallback = referrers_tag(&subject.digest);
    let index = Index::parse(&store.tagged(&fallback).unwrap().unwrap().bytes).unwrap();
    assert_eq!(index.manifests.len(), 1);
    assert_eq!(
        bundle,
        serde_json::json!({
            "image": "oci:golden",
            "subject": subject.digest.to_string(),
            "predicate_type": APKO,
            "attestation": index.manifests[0].digest.to_string(),
            "format": "bundle",
            "tag": fallback,
        })
    );

    let legacy = attest(&[
        "--new-bundle-format=false",
        "--type",
        "custom",
        "--format",
        "json",
    ]);
    let tag = names::attestation_tag(&subject.digest);
    let manifest = store.tagged(&tag).unwrap().unwrap();
    assert_eq!(
        legacy,
        serde_json::json!({
            "image": "oci:golden",
            "subject": subject.digest.to_string(),
            "predicate_type": CUSTOM,
            "attestation": Digest::of(&manifest.bytes).to_string(),
            "format": "legacy",
            "tag": tag,
        })
    );
}

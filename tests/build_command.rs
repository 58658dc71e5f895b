//! `cosign-rebuild build`, run as the built binary: apko's golden builds come out with apko's
//! index digest and, as OCI layouts, file for file identical to what apko wrote; pushed to a real
//! registry, the registry serves the same digests and skopeo and umoci read the image; bad input
//! fails naming what is wrong and leaves no output behind.
//!
//! Every build is offline with an empty download cache: the goldens' repositories are local.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support;
use crate::support::registry::Registry as Server;
use receipts::config::{Architecture, ImageConfiguration, Lock};
use receipts::oci::Digest;

const UPSTREAM_DIGEST: &str =
    "sha256:b5f05e6fc882c97d61c1daee566954ae6fc09924f8e152293e2b97a06092069f";
const TITLE_VENDOR: [&str; 4] = [
    "--annotations",
    "org.opencontainers.image.vendor=Vendor",
    "--annotations",
    "org.opencontainers.image.title=Title",
];

/// apko's `internal/cli`, where its golden build ran.
fn upstream_dir() -> PathBuf {
    support::data("chainguard-dev/apko/internal/cli")
}

fn derived_dir(case: &str) -> PathBuf {
    support::data(&format!("derived/apko/goldens/{case}"))
}

/// Runs `cosign-rebuild build ARGS… --offline --cache-dir <empty>` in `dir`, with
/// `SOURCE_DATE_EPOCH` as given (unset otherwise).
fn build(dir: &Path, args: &[&str], source_date_epoch: Option<&str>) -> Output {
    let cache = tempfile::tempdir().expect("cache dir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"));
    command
        .current_dir(dir)
        .arg("build")
        .args(args)
        .arg("--offline")
        .arg("--cache-dir")
        .arg(cache.path())
        .env_remove("SOURCE_DATE_EPOCH");
    if let Some(value) = source_date_epoch {
        command.env("SOURCE_DATE_EPOCH", value);
    }
    command.output().expect("cosign-rebuild runs")
}

/// The digest a successful build printed (its only stdout line).
fn printed_digest(output: &Output) -> String {
    assert!(
        output.status.success(),
        "build failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout.clone()).expect("UTF-8 stdout");
    assert_eq!(stdout.lines().count(), 1, "stdout: {stdout}");
    stdout.trim().to_owned()
}

/// Every file of a layout by relative path (apko's `sboms/` beside the golden is no part of it).
fn layout_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read layout dir") {
            let path = entry.expect("entry").path();
            let name = path
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .into_owned();
            if name == "sboms" {
                continue;
            }
            if crate::support::is_real_dir(&path) {
                walk(root, &path, out);
            } else {
                out.insert(name, std::fs::read(&path).expect("read layout file"));
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    files
}

fn assert_same_layout(ours: &Path, golden: &Path) {
    let (ours, golden) = (layout_files(ours), layout_files(golden));
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        golden.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &golden {
        assert!(ours.get(name) == Some(bytes), "{name} differs");
    }
}

fn oci(dir: &Path) -> String {
    format!("oci:{}", dir.display())
}

/// Builds `config` in `dir` into a fresh layout; checks the digest and the layout's files.
fn check_golden(
    dir: &Path,
    args: &[&str],
    source_date_epoch: Option<&str>,
    golden: &Path,
    digest: &str,
) -> ImageConfiguration {
    let out = tempfile::tempdir().expect("out dir");
    let layout = out.path().join("layout");
    let locked = out.path().join("locked.json");
    let mut all = args.to_vec();
    let (layout_arg, locked_arg) = (oci(&layout), locked.display().to_string());
    all.extend(["--output", &layout_arg, "--locked-out", &locked_arg]);
    let output = build(dir, &all, source_date_epoch);
    assert_eq!(printed_digest(&output), digest, "{}", golden.display());
    assert_eq!(
        Digest::of(&std::fs::read(layout.join("index.json")).expect("index.json")).to_string(),
        digest
    );
    assert_same_layout(&layout, golden);
    ImageConfiguration::from_json(&std::fs::read(&locked).expect("locked configuration"))
        .expect("locked configuration parses")
}

#[test]
fn apko_golden_is_rebuilt_from_its_lock_file_by_the_command() {
    let dir = upstream_dir();
    let mut args = vec![
        "testdata/apko.yaml",
        "--lockfile",
        "testdata/apko.lock.json",
    ];
    args.extend(TITLE_VENDOR);
    let locked = check_golden(
        &dir,
        &args,
        None,
        &dir.join("testdata/golden"),
        UPSTREAM_DIGEST,
    );
    // The predicate: every architecture's pins from the lock file, the command's annotations.
    let lock = Lock::read(dir.join("testdata/apko.lock.json")).expect("lock");
    let pins = lock.locked_packages(&[Architecture::parse("amd64"), Architecture::parse("arm64")]);
    for arch_pins in pins.values() {
        assert_eq!(&locked.contents.packages, arch_pins);
    }
    assert_eq!(
        locked.archs,
        [Architecture::parse("amd64"), Architecture::parse("arm64")]
    );
    assert_eq!(
        locked.annotations.get("org.opencontainers.image.title"),
        Some(&"Title".to_owned())
    );
    assert_eq!(
        locked.annotations.get("org.opencontainers.image.vendor"),
        Some(&"Vendor".to_owned())
    );
}

#[test]
fn apko_golden_is_rebuilt_by_resolving_and_gives_the_same_predicate() {
    let dir = upstream_dir();
    let mut args = vec!["testdata/apko.yaml"];
    args.extend(TITLE_VENDOR);
    let resolved = check_golden(
        &dir,
        &args,
        None,
        &dir.join("testdata/golden"),
        UPSTREAM_DIGEST,
    );
    let mut with_lock = args.clone();
    with_lock.extend(["--lockfile", "testdata/apko.lock.json"]);
    let locked = check_golden(
        &dir,
        &with_lock,
        None,
        &dir.join("testdata/golden"),
        UPSTREAM_DIGEST,
    );
    assert_eq!(resolved, locked);
}

#[test]
fn derived_goldens_are_rebuilt_by_the_command() {
    for (case, digest) in [
        (
            "features",
            "sha256:4c249d74f7e9355ad5ffb16619e1c4202961e092f11f6acef7382628a73c5b1a",
        ),
        (
            "layering",
            "sha256:dc2ca77df8126c0b275353addd589df1f87956cc95815c14cfbfe290b4218ffa",
        ),
        (
            "cacerts",
            "sha256:fc9d33807e8286beac00afad81237f19fa9bb6c50e55890f4ecbdb4f043fa84e",
        ),
    ] {
        let dir = derived_dir(case);
        let env: BTreeMap<String, String> =
            serde_json::from_slice(&std::fs::read(dir.join("env.json")).expect("env.json"))
                .expect("env.json parses");
        let epoch = env.get("SOURCE_DATE_EPOCH").map(String::as_str);
        // The README's recipe: no lock file, resolved from the case's repository.
        check_golden(&dir, &["apko.yaml"], epoch, &dir.join("expected"), digest);
        // With the lock file the pins are in lock order (apko-format.md §3.5); where that equals
        // the sorted order, `/etc/apko.json` and so the image are the same.
        if case != "layering" {
            let args = ["apko.yaml", "--lockfile", "apko.lock.json"];
            check_golden(&dir, &args, epoch, &dir.join("expected"), digest);
        }
    }
}

#[test]
fn source_date_epoch_option_pins_like_the_environment_variable() {
    let dir = derived_dir("cacerts");
    check_golden(
        &dir,
        &["apko.yaml", "--source-date-epoch", "1750000000"],
        None,
        &dir.join("expected"),
        "sha256:fc9d33807e8286beac00afad81237f19fa9bb6c50e55890f4ecbdb4f043fa84e",
    );
}

fn skopeo_raw(reference: &str) -> Vec<u8> {
    let output = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(reference)
        .output()
        .expect("skopeo runs (install it with ./scripts/test)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[test]
fn a_tagged_layout_output_holds_the_index_under_its_tag() {
    let dir = upstream_dir();
    let out = tempfile::tempdir().expect("out dir");
    let target = format!("{}:v1", oci(out.path()));
    let mut args = vec!["testdata/apko.yaml", "--output", &target];
    args.extend(TITLE_VENDOR);
    let output = build(&dir, &args, None);
    assert_eq!(printed_digest(&output), UPSTREAM_DIGEST);
    let golden_index = std::fs::read(dir.join("testdata/golden/index.json")).expect("golden");
    assert_eq!(skopeo_raw(&target), golden_index);
    // Every golden blob is in the layout, the index itself among them.
    let blobs = out.path().join("blobs/sha256");
    for (name, bytes) in layout_files(&dir.join("testdata/golden")) {
        if let Some(hex) = name.strip_prefix("blobs/sha256/") {
            assert_eq!(std::fs::read(blobs.join(hex)).ok(), Some(bytes), "{name}");
        }
    }
    assert!(blobs.join(&UPSTREAM_DIGEST["sha256:".len()..]).exists());
}

#[test]
fn a_registry_output_serves_the_golden_digests_to_skopeo_and_umoci() {
    let server = Server::start();
    let dir = upstream_dir();
    let target = server.repository("golden:v1");
    let mut args = vec!["testdata/apko.yaml", "--output", &target];
    args.extend(TITLE_VENDOR);
    let output = build(&dir, &args, None);
    assert_eq!(printed_digest(&output), UPSTREAM_DIGEST);

    let golden = dir.join("testdata/golden");
    let golden_index = std::fs::read(golden.join("index.json")).expect("golden index");
    assert_eq!(skopeo_raw(&format!("docker://{target}")), golden_index);
    let by_digest = server.repository(&format!("golden@{UPSTREAM_DIGEST}"));
    assert_eq!(skopeo_raw(&format!("docker://{by_digest}")), golden_index);
    let index: serde_json::Value = serde_json::from_slice(&golden_index).expect("index");
    let amd64 = index["manifests"][0]["digest"].as_str().expect("digest");
    let manifest = skopeo_raw(&format!(
        "docker://{}",
        server.repository(&format!("golden@{amd64}"))
    ));
    assert_eq!(Digest::of(&manifest).to_string(), amd64);

    // Copied out by skopeo and unpacked by umoci: the file tree is the golden layer's.
    let scratch = tempfile::tempdir().expect("scratch");
    let copied = scratch.path().join("copied");
    let copy = Command::new("skopeo")
        .args(["copy", "--src-tls-verify=false"])
        .arg(format!(
            "docker://{}",
            server.repository(&format!("golden@{amd64}"))
        ))
        .arg(format!("oci:{}:amd64", copied.display()))
        .output()
        .expect("skopeo runs");
    assert!(
        copy.status.success(),
        "{}",
        String::from_utf8_lossy(&copy.stderr)
    );
    let bundle = scratch.path().join("bundle");
    let unpack = Command::new("umoci")
        .args(["unpack", "--rootless", "--image"])
        .arg(format!("{}:amd64", copied.display()))
        .arg(&bundle)
        .output()
        .expect("umoci runs (install it with ./scripts/test)");
    assert!(
        unpack.status.success(),
        "{}",
        String::from_utf8_lossy(&unpack.stderr)
    );
    let layer = support::installed::golden_layers(&golden)
        .into_iter()
        .find(|l| l.label.contains("/amd64/"))
        .expect("golden amd64 layer");
    let mut archive = tar::Archive::new(&layer.tar[..]);
    let mut checked = 0;
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry.path().expect("path").into_owned();
        let mut expected = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut expected).expect("content");
        let unpacked = std::fs::read(bundle.join("rootfs").join(&path))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(unpacked, expected, "{}", path.display());
        checked += 1;
    }
    assert!(checked > 3, "only {checked} files checked");

    // Pushed again under another tag: every blob is there already, none is uploaded.
    let uploads = server.settled_requests("POST", "/blobs/uploads");
    assert!(uploads > 0);
    let again = server.repository("golden:v2");
    let mut args = vec!["testdata/apko.yaml", "--output", &again];
    args.extend(TITLE_VENDOR);
    assert_eq!(printed_digest(&build(&dir, &args, None)), UPSTREAM_DIGEST);
    assert_eq!(server.settled_requests("POST", "/blobs/uploads"), uploads);
    assert_eq!(skopeo_raw(&format!("docker://{again}")), golden_index);
}

/// A copy of apko's lock file with `edit` applied to its package entries.
fn edited_lock(dir: &Path, edit: impl Fn(&mut serde_json::Value)) -> tempfile::NamedTempFile {
    let bytes = std::fs::read(dir.join("testdata/apko.lock.json")).expect("lock");
    let mut lock: serde_json::Value = serde_json::from_slice(&bytes).expect("lock JSON");
    for package in lock["contents"]["packages"]
        .as_array_mut()
        .expect("packages")
    {
        edit(package);
    }
    let file = tempfile::NamedTempFile::new().expect("temp lock");
    std::fs::write(file.path(), serde_json::to_vec(&lock).expect("encode")).expect("write lock");
    file
}

/// Runs a build that must fail into a layout that must not appear; returns stderr.
fn failed_build(dir: &Path, args: &[&str]) -> String {
    let out = tempfile::tempdir().expect("out dir");
    let layout = out.path().join("layout");
    let target = oci(&layout);
    let mut all = args.to_vec();
    all.extend(["--output", &target]);
    let output = build(dir, &all, None);
    assert!(!output.status.success(), "build succeeded");
    assert!(output.stdout.is_empty());
    assert!(!layout.exists(), "a failed build left {}", layout.display());
    String::from_utf8(output.stderr).expect("UTF-8 stderr")
}

#[test]
fn a_package_that_fails_its_lock_checksum_is_named_and_nothing_is_written() {
    let dir = upstream_dir();
    let lock = edited_lock(&dir, |package| {
        if package["name"] == "replayout" {
            // The checksum of the other package: a valid value that this file does not have.
            package["checksum"] = "Q1aGZoaGZoaGZoaGZoaGZoaGZoaGY=".into();
        }
    });
    let path = lock.path().display().to_string();
    let stderr = failed_build(&dir, &["testdata/apko.yaml", "--lockfile", &path]);
    assert!(stderr.contains("replayout"), "{stderr}");
    assert!(stderr.contains("replayout-1.0.0-r0.apk"), "{stderr}");
}

#[test]
fn a_missing_package_file_is_named_and_nothing_is_written() {
    let dir = upstream_dir();
    let lock = edited_lock(&dir, |package| {
        if package["name"] == "replayout" {
            package["url"] = "./testdata/packages/x86_64/no-such-1.0.apk".into();
        }
    });
    let path = lock.path().display().to_string();
    let stderr = failed_build(&dir, &["testdata/apko.yaml", "--lockfile", &path]);
    assert!(stderr.contains("no-such-1.0.apk"), "{stderr}");
    assert!(stderr.contains("replayout"), "{stderr}");
}

#[test]
fn a_lock_file_of_another_configuration_is_refused() {
    let dir = upstream_dir();
    let other = derived_dir("features").join("apko.lock.json");
    let path = other.display().to_string();
    let stderr = failed_build(&dir, &["testdata/apko.yaml", "--lockfile", &path]);
    assert!(stderr.contains("does not match"), "{stderr}");
}

#[test]
fn a_package_no_repository_has_is_named() {
    let dir = derived_dir("features");
    let scratch = tempfile::tempdir().expect("scratch");
    let text = std::fs::read_to_string(dir.join("apko.yaml"))
        .expect("config")
        .replace("./", &format!("{}/", dir.display()))
        .replace("packages: [hello]", "packages: [hello, no-such-package]");
    assert!(text.contains("no-such-package"));
    std::fs::write(scratch.path().join("apko.yaml"), text).expect("write config");
    let stderr = failed_build(scratch.path(), &["apko.yaml"]);
    assert!(stderr.contains("no-such-package"), "{stderr}");
}

#[test]
fn one_architecture_gives_the_goldens_image_for_it() {
    let dir = upstream_dir();
    let out = tempfile::tempdir().expect("out dir");
    let target = oci(&out.path().join("layout"));
    let mut args = vec!["testdata/apko.yaml", "--arch", "arm64", "--output", &target];
    args.extend(TITLE_VENDOR);
    let digest = printed_digest(&build(&dir, &args, None));
    assert_ne!(digest, UPSTREAM_DIGEST);
    let read_index = |path: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(path).expect("index")).expect("index JSON")
    };
    let ours = read_index(&out.path().join("layout/index.json"));
    let golden = read_index(&dir.join("testdata/golden/index.json"));
    let manifests = ours["manifests"].as_array().expect("manifests");
    assert_eq!(manifests.len(), 1);
    assert_eq!(manifests[0], golden["manifests"][1]);
    assert_eq!(manifests[0]["platform"]["architecture"], "arm64");
}

#[test]
fn an_image_on_a_base_image_is_rebuilt_from_its_lock_file_by_the_command() {
    let dir = upstream_dir();
    check_golden(
        &dir,
        &[
            "testdata/image_on_top.apko.yaml",
            "--lockfile",
            "testdata/image_on_top.apko.lock.json",
        ],
        None,
        &dir.join("testdata/top_image"),
        "sha256:c05b35bf9653dd6b5cef6b5c0239a1400a8faa6fb4e63830aecbb68b27bea056",
    );
}

#[test]
fn a_base_image_without_a_lock_file_is_refused_as_apko_refuses_it() {
    let dir = upstream_dir();
    let stderr = failed_build(&dir, &["testdata/image_on_top.apko.yaml"]);
    assert!(stderr.contains("needs --lockfile"), "{stderr}");
}

#[test]
fn format_json_reports_the_index_each_platform_and_the_locked_file() {
    let dir = upstream_dir();
    let golden = dir.join("testdata/golden");
    let out = tempfile::tempdir().expect("out dir");
    let layout_arg = oci(&out.path().join("layout"));
    let locked = out.path().join("locked.json");
    let locked_arg = locked.display().to_string();
    let mut args = vec![
        "testdata/apko.yaml",
        "--lockfile",
        "testdata/apko.lock.json",
        "--output",
        &layout_arg,
        "--locked-out",
        &locked_arg,
        "--format",
        "json",
    ];
    args.extend(TITLE_VENDOR);
    let output = build(&dir, &args, None);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    // apko's index lists each platform's manifest: the report names the same.
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(golden.join("index.json")).expect("golden index"))
            .expect("golden index parses");
    let images: Vec<serde_json::Value> = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|manifest| {
            let platform = &manifest["platform"];
            let architecture = match platform["architecture"].as_str() {
                Some("amd64") => "x86_64",
                Some("arm64") => "aarch64",
                other => panic!("unexpected golden platform {other:?}"),
            };
            serde_json::json!({
                "platform": format!(
                    "{}/{}",
                    platform["os"].as_str().unwrap(),
                    platform["architecture"].as_str().unwrap()
                ),
                "architecture": architecture,
                "digest": manifest["digest"],
            })
        })
        .collect();
    assert_eq!(
        report,
        serde_json::json!({
            "index": UPSTREAM_DIGEST,
            "output": layout_arg,
            "images": images,
            "locked_out": locked_arg,
        })
    );
    assert!(locked.is_file(), "the locked configuration was written");
}

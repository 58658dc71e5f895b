//! The configuration model and lock file against apko's own fixtures and real-world data.
//!
//! Not for: package resolution or image bytes (the `apk` and build tests). Covers
//! reference/apko-format.md §2, §3 and §6.6, with the data of test-data.md §1.3 and §6.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use receipts::config::lock::{self, ConfigCheck, Lock};
use receipts::config::provider::{self, LockedConfigs};
use receipts::config::{
    Architecture, ConfigChecksum, Error, ImageConfiguration, Loader, parse_architectures,
};

use crate::support;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const APKO: &str = "chainguard-dev/apko";
const CLI_TESTDATA: &str = "chainguard-dev/apko/internal/cli/testdata";

fn read(path: &Path) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    Ok(std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?)
}

// --- loading, include, checksum -------------------------------------------------------------

#[test]
fn apko_yaml_checksum_is_the_one_in_apkos_lock() -> TestResult {
    let dir = support::data(CLI_TESTDATA);
    let loaded = Loader::new().working_dir(&dir).load("apko.yaml")?;
    assert_eq!(
        loaded.checksum.as_str(),
        "sha256-eal7+HCFuOLz/8m3vNO5cYyNK0Zw7AphCcsc76TbTXg="
    );
    let lock = Lock::read(dir.join("apko.lock.json"))?;
    assert_eq!(lock.check_config(&loaded.checksum)?, ConfigCheck::Matches);
    let ic = &loaded.configuration;
    assert_eq!(ic.contents.packages, ["replayout"]);
    assert_eq!(ic.contents.repositories, ["./testdata/packages"]);
    assert_eq!(ic.entrypoint.command, "/bin/sh -l");
    // x86_64/aarch64 in the file, canonical names once parsed.
    assert_eq!(
        ic.archs,
        [Architecture::parse("amd64"), Architecture::parse("arm64")]
    );
    assert_eq!(ic.archs[0].as_str(), "amd64");
    Ok(())
}

/// Copies rules_apko's multifile configuration into the layout its Bazel rule gives apko: the
/// include values name `multifile_config/intermediate_config` (the label, no extension) relative
/// to the workspace directory passed as include path.
fn bazel_layout(root: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let src = support::data("chainguard-dev/rules_apko/e2e/smoke/multifile_config");
    let dst = root.join("multifile_config");
    std::fs::create_dir_all(&dst)?;
    for (from, to) in [
        ("final_config.apko.yaml", "final_config"),
        ("intermediate_config.apko.yaml", "intermediate_config"),
        ("base_config.apko.yaml", "base_config.apko.yaml"),
    ] {
        std::fs::copy(src.join(from), dst.join(to))?;
    }
    Ok(())
}

#[test]
fn include_chain_merges_and_hashes_like_rules_apko_expects() -> TestResult {
    let workspace = tempfile::tempdir()?;
    bazel_layout(workspace.path())?;
    let loaded = Loader::new()
        .working_dir(workspace.path().join("elsewhere"))
        .include_paths([workspace.path()])
        .load("multifile_config/final_config")?;

    let src = support::data("chainguard-dev/rules_apko/e2e/smoke/multifile_config");
    let expected = ImageConfiguration::from_yaml(
        &read(&src.join("expected_expanded_config.yaml"))?,
        "expected_expanded_config.yaml",
    )?;
    assert_eq!(loaded.configuration, expected);
    assert_eq!(
        loaded
            .configuration
            .environment
            .get("PATH")
            .map(String::as_str),
        Some("/usr/sbin:/sbin:/usr/bin:/bin")
    );

    let lock = Lock::read(src.join("apko.generated.lock.json"))?;
    let recorded = lock.config.as_ref().map(|c| c.checksum.as_str());
    assert_eq!(Some(loaded.checksum.as_str()), recorded);
    assert_eq!(lock.check_config(&loaded.checksum)?, ConfigCheck::Matches);
    let names: Vec<_> = loaded
        .files
        .iter()
        .filter_map(|f| f.file_name()?.to_str())
        .collect();
    assert_eq!(
        names,
        [
            "final_config",
            "intermediate_config",
            "base_config.apko.yaml"
        ]
    );

    // The base file alone: its own lock records the checksum of its bytes only.
    let base = Loader::new().load(src.join("base_config.apko.yaml"))?;
    let base_lock = Lock::read(src.join("base_config.apko.lock.json"))?;
    assert_eq!(
        base_lock.check_config(&base.checksum)?,
        ConfigCheck::Matches
    );
    assert!(matches!(
        lock.check_config(&base.checksum),
        Err(lock::Error::ChecksumMismatch { .. })
    ));
    Ok(())
}

/// Every (configuration, lock) pair in the data: `(working directory, config, lock)`.
const LOCKED_CONFIGS: [(&str, &str, &str); 11] = [
    (CLI_TESTDATA, "apko.yaml", "apko.lock.json"),
    (
        CLI_TESTDATA,
        "apko-discover.yaml",
        "apko-discover.lock.json",
    ),
    (
        CLI_TESTDATA,
        "image_on_top.apko.yaml",
        "image_on_top.apko.lock.json",
    ),
    (
        "derived/apko/goldens/features",
        "apko.yaml",
        "apko.lock.json",
    ),
    (
        "derived/apko/goldens/layering",
        "apko.yaml",
        "apko.lock.json",
    ),
    (
        "derived/apko/goldens/cacerts",
        "apko.yaml",
        "apko.lock.json",
    ),
    (
        "chainguard-dev/rules_apko/examples/lock",
        "apko.yaml",
        "apko.lock.json",
    ),
    (
        "chainguard-dev/rules_apko/examples/oci",
        "apko.yaml",
        "apko.lock.json",
    ),
    (
        "chainguard-dev/rules_apko/examples/wolfi-base",
        "apko.yaml",
        "apko.lock.json",
    ),
    (
        "chainguard-dev/rules_apko/examples/multi_arch_and_repo",
        "apko.yaml",
        "apko.lock.json",
    ),
    (
        "chainguard-dev/rules_apko/e2e/smoke",
        "apko.yaml",
        "apko.lock.json",
    ),
];

#[test]
fn every_lock_records_its_configurations_checksum_and_repositories() -> TestResult {
    for (dir, config, lock) in LOCKED_CONFIGS {
        let dir = support::data(dir);
        let loaded = Loader::new().working_dir(&dir).load(config)?;
        let lock = Lock::read(dir.join(lock))?;
        assert_eq!(
            lock.check_config(&loaded.checksum)?,
            ConfigCheck::Matches,
            "{}",
            dir.display()
        );
        // repoLock order: architectures outer (config order, else all), repositories inner.
        let ic = &loaded.configuration;
        let archs = if ic.archs.is_empty() {
            Architecture::all()
        } else {
            ic.archs.clone()
        };
        let mut expected = Vec::new();
        for arch in &archs {
            for repository in &ic.contents.repositories {
                expected.push(lock::LockRepository::new(repository, arch)?);
            }
        }
        assert_eq!(lock.contents.repositories, expected, "{}", dir.display());
    }
    Ok(())
}

#[test]
fn include_is_also_found_beside_the_including_file() -> TestResult {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("base.yaml"), "contents:\n  packages: [a]\n")?;
    std::fs::write(
        dir.path().join("top.yaml"),
        "include: base.yaml\ncontents:\n  packages: [b]\n",
    )?;
    let loaded = Loader::new().load(dir.path().join("top.yaml"))?;
    assert_eq!(loaded.configuration.contents.packages, ["a", "b"]);
    let parts = [
        read(&dir.path().join("top.yaml"))?,
        read(&dir.path().join("base.yaml"))?,
    ];
    assert_eq!(
        loaded.checksum,
        ConfigChecksum::of_contents(parts.iter().map(Vec::as_slice))
    );
    Ok(())
}

#[test]
fn include_cycles_and_missing_includes_are_errors() -> TestResult {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("a.yaml"), "include: b.yaml\n")?;
    std::fs::write(dir.path().join("b.yaml"), "include: a.yaml\n")?;
    std::fs::write(dir.path().join("c.yaml"), "include: nowhere.yaml\n")?;
    let cycle = Loader::new().load(dir.path().join("a.yaml"));
    assert!(
        matches!(cycle, Err(Error::IncludeCycle { .. })),
        "{cycle:?}"
    );
    let missing = Loader::new().load(dir.path().join("c.yaml"));
    assert!(
        matches!(&missing, Err(Error::IncludeNotFound { include, .. }) if include == "nowhere.yaml"),
        "{missing:?}"
    );
    Ok(())
}

#[test]
fn every_apko_example_loads() -> TestResult {
    let root = support::data(APKO);
    let mut seen = 0;
    for entry in std::fs::read_dir(root.join("examples"))? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let relative = path.strip_prefix(&root)?;
        let loaded = Loader::new()
            .working_dir(&root)
            .load(relative)
            .map_err(|e| format!("{}: {e}", relative.display()))?;
        assert!(
            !loaded.configuration.contents.packages.is_empty(),
            "{} has no packages",
            relative.display()
        );
        seen += 1;
    }
    assert_eq!(seen, 19);

    let overlay = Loader::new()
        .working_dir(&root)
        .load("examples/overlay.yaml")?;
    let packages = &overlay.configuration.contents.packages;
    assert_eq!(packages.last().map(String::as_str), Some("nano"));
    assert!(packages.iter().any(|p| p == "alpine-base"));
    assert_eq!(overlay.files.len(), 2);

    let nginx = Loader::new()
        .working_dir(&root)
        .load("examples/nginx.yaml")?;
    // permissions: 0o755 / 0o644 in the file.
    let modes: Vec<u32> = nginx
        .configuration
        .paths
        .iter()
        .map(|p| p.permissions)
        .collect();
    assert!(
        modes.contains(&0o755) && modes.contains(&0o644),
        "{modes:?}"
    );

    let keyring = Loader::new()
        .working_dir(&root)
        .load("examples/runtime-keyring.yaml")?;
    let key = keyring.configuration.contents.runtime_keyring.first();
    assert_eq!(key.map(|k| k.name.as_str()), Some("example-mirror.rsa.pub"));
    let mut validated = keyring.configuration.clone();
    validated.validate()?;
    Ok(())
}

#[test]
fn apko_types_testdata_overlays_and_users() -> TestResult {
    let types = support::data("chainguard-dev/apko/pkg/build/types");
    // TestOverlayWithEmptyContents: found through the include path, includes relative to cwd.
    let empty = Loader::new()
        .working_dir(&types)
        .include_paths(["testdata"])
        .load("overlay/overlay.apko.yaml")?;
    let c = &empty.configuration.contents;
    assert_eq!(c.build_repositories, ["secret repository"]);
    assert_eq!(c.runtime_repositories, ["runtime repository"]);
    assert_eq!(c.repositories, ["repository"]);
    assert_eq!(c.keyring, ["key"]);
    assert_eq!(c.packages, ["package"]);

    // TestOverlayWithAdditionalPackages.
    let more = Loader::new()
        .working_dir(&types)
        .load("testdata/overlay/overlay_with_package.apko.yaml")?;
    let c = &more.configuration.contents;
    assert_eq!(
        c.build_repositories,
        ["secret repository", "other_secret repository"]
    );
    assert_eq!(
        c.runtime_repositories,
        ["runtime repository", "other runtime repository"]
    );
    assert_eq!(c.packages, ["package", "other_package"]);
    assert_eq!(more.files.len(), 3);

    // TestUserContents.
    let mut users = Loader::new()
        .working_dir(&types)
        .load("testdata/users.apko.yaml")?
        .configuration;
    users.validate()?;
    let homes: Vec<_> = users
        .accounts
        .users
        .iter()
        .map(|u| u.homedir.as_str())
        .collect();
    assert_eq!(homes, ["/not/home", "/home/user"]);
    assert_eq!(users.accounts.users[0].gid, Some(1));
    assert_eq!(users.accounts.users[1].gid, None);
    Ok(())
}

#[test]
fn unknown_key_error_names_the_key_and_its_line() {
    let yaml = "contents:\n  packages: [a]\n  packagez: [b]\narchs: [x86_64]\n";
    let err = ImageConfiguration::from_yaml(yaml.as_bytes(), "bad.yaml");
    match &err {
        Err(Error::UnknownKey {
            source_name,
            key,
            line,
            ..
        }) => {
            assert_eq!(source_name, "bad.yaml");
            assert_eq!(key, "contents.packagez");
            assert_eq!(*line, 3);
        }
        other => panic!("expected an unknown-key error, got {other:?}"),
    }
    let message = err
        .map(|_| ())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        message.contains("contents.packagez") && message.contains("line 3"),
        "{message}"
    );

    let nested = "paths:\n  - path: /x\n    mode: 1\n";
    let err = ImageConfiguration::from_yaml(nested.as_bytes(), "nested.yaml");
    assert!(
        matches!(&err, Err(Error::UnknownKey { key, line: 3, .. }) if key == "paths[0].mode"),
        "{err:?}"
    );
}

#[test]
fn yaml_values_decode_as_yaml_v3_does() -> TestResult {
    let yaml = "\
contents:
  packages:
accounts:
  run-as: 65532
  users:
    - username: u
      uid: 0x10
paths:
  - path: /a
    permissions: 0755
    recursive: yes
    uid: 0
  - path: /b
    permissions: 1_000
environment:
  ON: true
layering: {}
";
    let ic = ImageConfiguration::from_yaml(yaml.as_bytes(), "values.yaml")?;
    assert!(ic.contents.packages.is_empty());
    assert_eq!(ic.accounts.run_as, "65532");
    assert_eq!(ic.accounts.users[0].uid, 16);
    assert_eq!(ic.paths[0].permissions, 0o755);
    assert!(ic.paths[0].recursive);
    assert_eq!(ic.paths[0].uid, Some(0));
    assert_eq!(ic.paths[1].uid, None);
    assert_eq!(ic.paths[1].permissions, 1000);
    assert_eq!(ic.environment.get("ON").map(String::as_str), Some("true"));
    assert_eq!(ic.layering, Some(Default::default()));

    let duplicate = "environment:\n  A: 1\n  A: 2\n";
    assert!(matches!(
        ImageConfiguration::from_yaml(duplicate.as_bytes(), "dup.yaml"),
        Err(Error::Yaml { .. })
    ));
    // yaml.v3 decodes the first document only.
    let two = ImageConfiguration::from_yaml(b"cmd: a\n---\ncmd: [\n", "two.yaml")?;
    assert_eq!(two.cmd, "a");
    assert!(matches!(
        ImageConfiguration::from_yaml(b"# nothing here\n\n", "empty.yaml"),
        Err(Error::NoDocument { .. })
    ));
    assert!(matches!(
        ImageConfiguration::from_yaml(b"cmd: [\n", "broken.yaml"),
        Err(Error::Yaml { .. })
    ));
    Ok(())
}

#[test]
fn predicate_era_fields_are_accepted_and_written_back() -> TestResult {
    let yaml = "\
contents:
  packages: [a]
os-release:
  name: Example
  version-id: '1'
options:
  debug:
    contents:
      packages:
        add: [busybox]
    accounts:
      run-as: root
";
    let ic = ImageConfiguration::from_yaml(yaml.as_bytes(), "v013.yaml")?;
    let json = ic.to_json()?;
    let expected = concat!(
        r#"{"contents":{"packages":["a"]},"entrypoint":{},"accounts":{},"#,
        r#""os-release":{"name":"Example","version-id":"1"},"#,
        r#""options":{"debug":{"Contents":{"Packages":{"Add":["busybox"],"Remove":null}},"#,
        r#""Accounts":{"RunAs":"root"},"Environment":null,"Entrypoint":{}}}}"#
    );
    assert_eq!(String::from_utf8_lossy(&json), expected);
    assert_eq!(ImageConfiguration::from_json(&json)?, ic);
    Ok(())
}

// --- architectures ---------------------------------------------------------------------------

#[test]
fn architecture_names_normalise_and_map_like_apko() {
    for (input, canonical, apk, oci, variant) in [
        ("x86_64", "amd64", "x86_64", "amd64", None),
        ("amd64", "amd64", "x86_64", "amd64", None),
        ("aarch64", "arm64", "aarch64", "arm64", None),
        ("arm64", "arm64", "aarch64", "arm64", None),
        ("armhf", "arm/v6", "armhf", "arm", Some("v6")),
        ("arm/v6", "arm/v6", "armhf", "arm", Some("v6")),
        ("armv7", "arm/v7", "armv7", "arm", Some("v7")),
        ("arm/v7", "arm/v7", "armv7", "arm", Some("v7")),
        ("x86", "386", "x86", "386", None),
        ("386", "386", "x86", "386", None),
        ("loongarch64", "loong64", "loongarch64", "loong64", None),
        ("loong64", "loong64", "loongarch64", "loong64", None),
        ("ppc64le", "ppc64le", "ppc64le", "ppc64le", None),
        ("riscv64", "riscv64", "riscv64", "riscv64", None),
        ("s390x", "s390x", "s390x", "s390x", None),
        ("mips", "mips", "mips", "mips", None),
    ] {
        let arch = Architecture::parse(input);
        assert_eq!(arch.as_str(), canonical, "{input}");
        assert_eq!(arch.to_apk(), apk, "{input}");
        let platform = arch.oci_platform();
        assert_eq!(platform.os, "linux");
        assert_eq!(platform.architecture, oci, "{input}");
        assert_eq!(platform.variant.as_deref(), variant, "{input}");
    }
}

#[test]
fn parse_architectures_dedupes_sorts_and_expands() {
    let names = |archs: Vec<Architecture>| -> Vec<String> {
        archs.iter().map(|a| a.as_str().to_owned()).collect()
    };
    // apko's TestParseArchitectures cases.
    assert!(parse_architectures::<&str>(&[]).is_empty());
    assert_eq!(
        names(parse_architectures(&["riscv64", "amd64", "arm/v6"])),
        ["amd64", "arm/v6", "riscv64"]
    );
    assert_eq!(
        names(parse_architectures(&["amd64", "amd64", "arm64"])),
        ["amd64", "arm64"]
    );
    assert_eq!(
        names(parse_architectures(&[
            "x86_64", "aarch64", "amd64", "armv7", "arm64"
        ])),
        ["amd64", "arm/v7", "arm64"]
    );
    assert_eq!(
        names(parse_architectures(&["all"])),
        [
            "386", "amd64", "arm64", "arm/v6", "arm/v7", "loong64", "ppc64le", "riscv64", "s390x"
        ]
    );
    assert_eq!(parse_architectures(&["host"]), vec![Architecture::host()]);
}

// --- merge, validation, locked copies --------------------------------------------------------

#[test]
fn merge_into_follows_apkos_conflict_rules() -> TestResult {
    let base = ImageConfiguration::from_yaml(
        b"contents: {keyring: [foo], build_repositories: [foo], repositories: [foo], packages: [foo]}
cmd: foo
stop-signal: foo
work-dir: foo
accounts:
  run-as: foo
  users: [{username: foo, uid: 1000, gid: 1000, homedir: /home/foo}]
environment: {EXTRA: foo, VAR: foo}
annotations: {org.extra: foo, org.blah: foo}
volumes: [v1]
vcs-url: https://example/base
",
        "base",
    )?;
    let mut target = ImageConfiguration::from_yaml(
        b"cmd: bar
stop-signal: bar
work-dir: bar
accounts:
  run-as: bar
  users: [{username: bar, uid: 1001, gid: 1001, homedir: /home/bar}]
environment: {VAR: bar}
annotations: {org.blah: bar}
volumes: [v2]
",
        "target",
    )?;
    base.merge_into(&mut target);
    assert_eq!(target.contents.keyring, ["foo"]);
    assert_eq!(target.contents.packages, ["foo"]);
    assert_eq!(
        (
            target.cmd.as_str(),
            target.stop_signal.as_str(),
            target.work_dir.as_str()
        ),
        ("bar", "bar", "bar")
    );
    assert_eq!(target.accounts.run_as, "bar");
    let users: Vec<_> = target
        .accounts
        .users
        .iter()
        .map(|u| u.username.as_str())
        .collect();
    assert_eq!(users, ["foo", "bar"]);
    let env = BTreeMap::from([
        ("EXTRA".to_owned(), "foo".to_owned()),
        ("VAR".to_owned(), "bar".to_owned()),
    ]);
    assert_eq!(target.environment, env);
    assert_eq!(
        target.annotations.get("org.blah").map(String::as_str),
        Some("bar")
    );
    assert_eq!(target.volumes, ["v1", "v2"]);
    // apko never merges vcs-url.
    assert!(target.vcs_url.is_empty());
    Ok(())
}

#[test]
fn locked_copies_pin_packages_and_drop_vcs_url() -> TestResult {
    let ic = ImageConfiguration::from_yaml(
        b"contents: {packages: [b, a, b]}\narchs: [x86_64, aarch64]\nvcs-url: x@y\ninclude: z\n",
        "in",
    )?;
    assert_eq!(ic.world(&["c", "a"]), ["a", "b", "c"]);
    let arm = Architecture::parse("aarch64");
    let locked = ic.locked_for(Some(&arm), vec!["a=1".into(), "b=2".into()]);
    assert_eq!(locked.contents.packages, ["a=1", "b=2"]);
    assert_eq!(locked.archs, [arm]);
    assert!(locked.vcs_url.is_empty() && locked.include.is_empty());
    let index = ic.locked_for(None, vec!["a=1".into()]);
    assert_eq!(index.archs.len(), 2);
    Ok(())
}

#[test]
fn validation_applies_defaults_and_rejects_what_apko_rejects() -> TestResult {
    let mut bundle = ImageConfiguration::from_yaml(
        b"entrypoint: {type: service-bundle}\ncontents: {packages: [x]}\n",
        "bundle",
    )?;
    bundle.validate()?;
    assert_eq!(bundle.entrypoint.command, "/bin/s6-svscan /sv");
    assert_eq!(bundle.contents.packages, ["x", "s6"]);

    for (yaml, what) in [
        ("accounts: {users: [{username: r, uid: 0}]}", "root user"),
        ("accounts: {users: [{uid: 5}]}", "nameless user"),
        ("accounts: {groups: [{gid: 5}]}", "nameless group"),
        ("format: squashfs", "format"),
        (
            "format: erofs\nlayering: {strategy: origin}",
            "erofs layering",
        ),
        (
            "certificates: {additional: [{name: .hidden, content: x}]}",
            "certificate name",
        ),
        (
            "contents: {runtime_keyring: [{name: k.pub}]}",
            "runtime key content",
        ),
        (
            "contents: {runtime_keyring: [{name: k, content: a}, {name: k, content: b}]}",
            "duplicate runtime key",
        ),
    ] {
        let mut ic = ImageConfiguration::from_yaml(yaml.as_bytes(), what)?;
        assert!(ic.validate().is_err(), "{what} accepted");
    }
    Ok(())
}

// --- JSON forms against real bytes -----------------------------------------------------------

/// The bytes of `name` inside an uncompressed tar archive (USTAR headers).
fn tar_entry(archive: &[u8], name: &str) -> Option<Vec<u8>> {
    let mut offset = 0;
    while let Some(header) = archive.get(offset..offset + 512) {
        let entry_name = header.get(..100)?.split(|b| *b == 0).next()?;
        if entry_name.is_empty() {
            return None;
        }
        let size_field = std::str::from_utf8(header.get(124..136)?).ok()?;
        let size =
            usize::from_str_radix(size_field.trim_matches(|c| c == '\0' || c == ' '), 8).ok()?;
        let body = offset + 512;
        if entry_name == name.as_bytes() {
            return archive.get(body..body + size).map(<[u8]>::to_vec);
        }
        offset = body + size.div_ceil(512) * 512;
    }
    None
}

/// `/etc/apko.json` of each platform of the OCI layout at `layout`, keyed by OCI architecture.
fn apko_json_per_platform(
    layout: &Path,
) -> Result<BTreeMap<String, Vec<u8>>, Box<dyn std::error::Error>> {
    let blob = |digest: &str| -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        let hex = digest.strip_prefix("sha256:").ok_or("digest")?;
        read(&layout.join("blobs/sha256").join(hex))
    };
    let index: serde_json::Value = serde_json::from_slice(&read(&layout.join("index.json"))?)?;
    let mut found = BTreeMap::new();
    for descriptor in index["manifests"].as_array().ok_or("manifests")? {
        let arch = descriptor["platform"]["architecture"]
            .as_str()
            .ok_or("platform")?;
        let manifest: serde_json::Value =
            serde_json::from_slice(&blob(descriptor["digest"].as_str().ok_or("digest")?)?)?;
        for layer in manifest["layers"].as_array().ok_or("layers")? {
            let gz = blob(layer["digest"].as_str().ok_or("digest")?)?;
            let mut tar = Vec::new();
            flate2::read::MultiGzDecoder::new(gz.as_slice()).read_to_end(&mut tar)?;
            if let Some(bytes) = tar_entry(&tar, "etc/apko.json") {
                found.insert(arch.to_owned(), bytes);
            }
        }
    }
    Ok(found)
}

/// What apko writes to `/etc/apko.json` when building `config` without a lock file: the locked
/// configuration of the architecture (pins sorted, as `unify` sorts them; taken from the case's
/// lock file), validated, with `run-as` resolved to a uid as the accounts step does.
fn expected_apko_json(
    config: &ImageConfiguration,
    lock: &Lock,
    arch: &Architecture,
    annotations: &[(&str, &str)],
) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut pins = lock
        .locked_packages(std::slice::from_ref(arch))
        .remove(arch)
        .ok_or("no packages for arch")?;
    pins.sort();
    let mut locked = config.locked_for(Some(arch), pins);
    for (key, value) in annotations {
        locked
            .annotations
            .insert((*key).to_owned(), (*value).to_owned());
    }
    locked.validate()?;
    let run_as = locked.accounts.run_as.clone();
    if let Some(user) = locked.accounts.users.iter().find(|u| u.username == run_as) {
        locked.accounts.run_as = user.uid.to_string();
    }
    Ok(locked.to_apko_json_file()?)
}

#[test]
fn apko_json_equals_apkos_golden_layers() -> TestResult {
    // apko's TestBuild: annotations title/vendor given on the command line.
    let cli = support::data(CLI_TESTDATA);
    let config = Loader::new()
        .working_dir(&cli)
        .load("apko.yaml")?
        .configuration;
    let lock = Lock::read(cli.join("apko.lock.json"))?;
    let golden = apko_json_per_platform(&cli.join("golden"))?;
    assert_eq!(golden.len(), 2);
    let annotations = [
        ("org.opencontainers.image.vendor", "Vendor"),
        ("org.opencontainers.image.title", "Title"),
    ];
    for (arch, bytes) in &golden {
        let ours = expected_apko_json(&config, &lock, &Architecture::parse(arch), &annotations)?;
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(bytes)
        );
        assert_eq!(bytes.len(), 329);
        // And apko's JSON reads back to the same bytes.
        let parsed = ImageConfiguration::from_json(bytes.strip_suffix(b"\n").ok_or("newline")?)?;
        assert_eq!(&parsed.to_apko_json_file()?, bytes);
    }

    let mut cases = 0;
    for case in ["features", "layering", "cacerts"] {
        let dir = support::data(&format!("derived/apko/goldens/{case}"));
        let config = Loader::new()
            .working_dir(&dir)
            .load("apko.yaml")?
            .configuration;
        let lock = Lock::read(dir.join("apko.lock.json"))?;
        for (arch, bytes) in apko_json_per_platform(&dir.join("expected"))? {
            let ours = expected_apko_json(&config, &lock, &Architecture::parse(&arch), &[])?;
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&bytes),
                "{case} {arch}"
            );
            cases += 1;
        }
    }
    assert_eq!(cases, 4);
    Ok(())
}

#[test]
fn every_locked_config_entry_round_trips_byte_for_byte() -> TestResult {
    let images = support::data("chainguard-images/images/images");
    let mut files = 0;
    let mut entries = 0;
    for image in std::fs::read_dir(&images)? {
        let path = image?.path().join("locked_config.json");
        if !path.exists() {
            continue;
        }
        files += 1;
        let locked = LockedConfigs::from_json(&read(&path)?)?;
        for (name, image_lock) in &locked.image_locks {
            for (key, entry) in &image_lock.configs {
                let ic = provider::from_entry(entry).map_err(|e| {
                    format!("{name} {key}: {e} ({:?})", std::error::Error::source(&e))
                })?;
                assert!(!ic.contents.packages.is_empty(), "{name} {key}");
                let again = provider::to_entry(&ic)?;
                assert_eq!(&again, entry, "{} {name} {key}", path.display());
                entries += 1;
            }
        }
    }
    assert_eq!(files, 54);
    assert_eq!(entries, 182);

    let static_locks = LockedConfigs::from_json(&read(&images.join("static/locked_config.json"))?)?;
    let entry = static_locks
        .image_locks
        .get("static-public")
        .and_then(|l| l.configs.get("amd64"))
        .ok_or("static-public amd64")?;
    let ic = provider::from_entry(entry)?;
    assert_eq!(
        ic.contents.packages,
        [
            "ca-certificates-bundle=20260413-r1",
            "tzdata=2026c-r0",
            "wolfi-baselayout=20230201-r29"
        ]
    );
    assert_eq!(ic.archs, [Architecture::parse("amd64")]);
    Ok(())
}

// --- lock files -----------------------------------------------------------------------------

fn lock_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if crate::support::is_real_dir(&path) {
            lock_files(&path, out)?;
        } else if path.to_string_lossy().ends_with(".lock.json") {
            out.push(path);
        }
    }
    Ok(())
}

#[test]
fn every_apko_written_lock_round_trips_byte_for_byte() -> TestResult {
    let mut paths = Vec::new();
    lock_files(&support::testdata(), &mut paths)?;
    paths.sort();
    let mut checked = 0;
    for path in &paths {
        let name = path.to_string_lossy();
        // Not apko's writer output (test-data.md §1.3, §6): checked separately below.
        if name.ends_with("keyring_content/apko.lock.json")
            || name.ends_with("apko.pre-0.13.lock.json")
        {
            continue;
        }
        let bytes = read(path)?;
        let lock = Lock::from_json(&bytes)?;
        assert_eq!(lock.version, "v1", "{name}");
        assert_eq!(
            String::from_utf8_lossy(&lock.to_json()?),
            String::from_utf8_lossy(&bytes),
            "{name}"
        );
        checked += 1;
    }
    assert_eq!(checked, 13);

    let written = tempfile::tempdir()?;
    let golden = support::data(&format!("{CLI_TESTDATA}/apko.lock.json"));
    let target = written.path().join("apko.lock.json");
    Lock::read(&golden)?.write(&target)?;
    assert_eq!(read(&target)?, read(&golden)?);
    Ok(())
}

#[test]
fn apko_lock_gives_each_architecture_its_pins_in_lock_order() -> TestResult {
    let lock = Lock::read(support::data(&format!("{CLI_TESTDATA}/apko.lock.json")))?;
    let amd = Architecture::parse("amd64");
    let arm = Architecture::parse("arm64");
    let pins = lock.locked_packages(&[amd.clone(), arm.clone()]);
    let expected: Vec<String> = ["pretend-baselayout=1.0.0-r0", "replayout=1.0.0-r0"]
        .map(String::from)
        .to_vec();
    assert_eq!(pins.get(&amd), Some(&expected));
    assert_eq!(pins.get(&arm), Some(&expected));
    let installable = lock.installable(&arm)?;
    let urls: Vec<_> = installable.iter().map(|p| p.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "./testdata/packages/aarch64/pretend-baselayout-1.0.0-r0.apk",
            "./testdata/packages/aarch64/replayout-1.0.0-r0.apk"
        ]
    );
    let repo = lock::LockRepository::new("./testdata/packages", &amd)?;
    assert_eq!(lock.contents.repositories.first(), Some(&repo));
    Ok(())
}

#[test]
fn keyring_content_lock_is_read_leniently() -> TestResult {
    let path = support::data("chainguard-dev/rules_apko/e2e/smoke/keyring_content/apko.lock.json");
    let lock = Lock::read(path)?;
    let config = lock.config.as_ref().ok_or("config")?;
    assert_eq!(config.name, "./keyring_content/apko.yaml");
    assert_eq!(
        config.checksum,
        "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    );
    let key = lock.contents.keyring.first().ok_or("keyring")?;
    assert_eq!(key.name, "keyring-content-test.invalid/keys/test.rsa.pub");
    assert_eq!(
        key.url,
        "https://keyring-content-test.invalid/keys/test.rsa.pub"
    );
    assert!(
        key.content
            .starts_with("-----BEGIN PUBLIC KEY-----\nEmbedded keyring bytes")
    );
    assert_eq!(
        lock::LockKeyring::new(&key.url, key.content.clone()),
        key.clone()
    );
    assert!(lock.contents.packages.is_empty() && lock.contents.repositories.is_empty());
    Ok(())
}

#[test]
fn pre_013_lock_reads_but_cannot_be_built_from() -> TestResult {
    let lock = Lock::read(support::data(&format!(
        "{CLI_TESTDATA}/apko.pre-0.13.lock.json"
    )))?;
    assert!(lock.config.is_none());
    assert_eq!(lock.contents.packages.len(), 4);
    assert!(lock.contents.packages.iter().all(|p| p.checksum.is_empty()));
    let any = ConfigChecksum::of_contents([b"x".as_slice()]);
    assert_eq!(lock.check_config(&any)?, ConfigCheck::NotRecorded);
    let err = lock.installable(&Architecture::parse("amd64"));
    match err {
        Err(e @ lock::Error::MissingChecksum { .. }) => {
            assert!(e.to_string().contains("regenerate"), "{e}");
        }
        other => panic!("expected a missing-checksum error, got {other:?}"),
    }
    Ok(())
}

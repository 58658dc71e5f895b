//! `oras-lock` end to end: lock files byte-identical to apko's, show-packages as apko prints
//! it, locked configurations, unification across architectures, withdrawn pins, atomic output,
//! repositories over loopback HTTP and offline replays, and the drift check.

use std::collections::BTreeMap;
use std::path::Path;

use receipts::apk::writer::PackageSpec;
use receipts::config::{ImageConfiguration, Loader, Lock};

use crate::support::data;
use crate::support::http::Server;
use crate::support::lock::{
    Run, alpine_316_dev, apko_json_files, oras_lock, package, write_config, write_repository,
};

fn apko_cli() -> std::path::PathBuf {
    data("chainguard-dev/apko/internal/cli")
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn succeeded(run: &Run) {
    assert_eq!(run.status, 0, "oras-lock failed: {}", run.stderr);
}

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

#[test]
fn lock_file_of_apkos_cli_fixture_is_byte_identical() {
    let out = temp();
    let lockfile = out.path().join("apko.lock.json");
    let run = oras_lock(
        &apko_cli(),
        &[
            "apko.yaml",
            "--include-paths",
            "testdata",
            "--lockfile",
            lockfile.to_str().expect("utf-8 path"),
        ],
    );
    succeeded(&run);
    assert_eq!(
        read(&lockfile),
        read(&apko_cli().join("testdata/apko.lock.json"))
    );

    // Named by its path instead, the only difference is `config.name`, as with apko.
    let by_path = out.path().join("by-path.json");
    let run = oras_lock(
        &apko_cli(),
        &[
            "testdata/apko.yaml",
            "--lockfile",
            by_path.to_str().expect("utf-8 path"),
        ],
    );
    succeeded(&run);
    let mut ours = Lock::from_json(&read(&by_path)).expect("our lock");
    let theirs = Lock::from_json(&read(&apko_cli().join("testdata/apko.lock.json"))).expect("lock");
    let config = ours.config.as_mut().expect("config recorded");
    assert_eq!(config.name, "testdata/apko.yaml");
    config.name = "apko.yaml".to_owned();
    assert_eq!(ours, theirs);
}

#[test]
fn lock_file_on_top_of_a_base_image_is_byte_identical() {
    let out = temp();
    let lockfile = out.path().join("top.lock.json");
    let run = oras_lock(
        &apko_cli(),
        &[
            "testdata/image_on_top.apko.yaml",
            "--lockfile",
            lockfile.to_str().expect("utf-8 path"),
        ],
    );
    succeeded(&run);
    assert_eq!(
        read(&lockfile),
        read(&apko_cli().join("testdata/image_on_top.apko.lock.json"))
    );
}

fn golden_cases() -> Vec<std::path::PathBuf> {
    let root = data("derived/apko/goldens");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .expect("goldens")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.join("apko.yaml").is_file())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 3, "cases: {cases:?}");
    cases
}

#[test]
fn lock_files_of_every_golden_case_are_byte_identical() {
    for case in golden_cases() {
        let out = temp();
        let lockfile = out.path().join("apko.lock.json");
        let run = oras_lock(
            &case,
            &[
                "apko.yaml",
                "--lockfile",
                lockfile.to_str().expect("utf-8 path"),
            ],
        );
        succeeded(&run);
        assert_eq!(
            read(&lockfile),
            read(&case.join("apko.lock.json")),
            "{}",
            case.display()
        );
    }
}

#[test]
fn show_packages_of_every_golden_case_matches_apko() {
    for case in golden_cases() {
        let run = oras_lock(&case, &["show-packages", "apko.yaml"]);
        succeeded(&run);
        let mut lines: Vec<String> = run.text().lines().map(str::to_owned).collect();
        lines.sort();
        let expected = String::from_utf8(read(&case.join("show-packages.txt"))).expect("utf-8");
        let expected: Vec<&str> = expected.lines().collect();
        assert_eq!(lines, expected, "{}", case.display());
    }
}

#[test]
fn show_packages_of_alpine_316_dev_matches_apko_in_install_order() {
    let dir = temp();
    alpine_316_dev(dir.path());
    let run = oras_lock(dir.path(), &["show-packages", "apko.yaml"]);
    succeeded(&run);
    let expected = read(&data(
        "derived/apko/resolve/alpine-316-dev/show-packages.txt",
    ));
    assert_eq!(run.text(), String::from_utf8_lossy(&expected));
    assert_eq!(run.text().lines().count(), 133);
}

#[test]
fn show_packages_formats_and_sorted_architectures() {
    let case = data("derived/apko/goldens/features");
    let run = oras_lock(
        &case,
        &[
            "show-packages",
            "apko.yaml",
            "--format",
            "name=version-source",
        ],
    );
    succeeded(&run);
    // amd64 sorts before arm64: the x86_64 block comes first whatever the config's order.
    assert_eq!(
        run.text(),
        "big-data=1.0.0-r0 ./repo/x86_64/big-data-1.0.0-r0.apk\n\
         hello=2.0-r1 ./repo/x86_64/hello-2.0-r1.apk\n\
         big-data=1.0.0-r0 ./repo/aarch64/big-data-1.0.0-r0.apk\n\
         hello=2.0-r1 ./repo/aarch64/hello-2.0-r1.apk\n"
    );
    assert_eq!(run.stderr, "packages for amd64\npackages for arm64\n");

    let run = oras_lock(
        &case,
        &[
            "show-packages",
            "apko.yaml",
            "--arch",
            "aarch64",
            "--format",
            "{{.Name}}\t{{ .Version }}",
        ],
    );
    succeeded(&run);
    assert_eq!(run.text(), "big-data\t1.0.0-r0\nhello\t2.0-r1\n");
    assert_eq!(run.stderr, "");

    let run = oras_lock(
        &case,
        &[
            "show-packages",
            "apko.yaml",
            "--arch",
            "x86_64",
            "--format",
            "packagelock",
        ],
    );
    succeeded(&run);
    assert_eq!(run.text(), "- big-data=1.0.0-r0\n- hello=2.0-r1\n");
}

#[test]
fn show_packages_refuses_other_template_actions() {
    let case = data("derived/apko/goldens/features");
    let run = oras_lock(
        &case,
        &[
            "show-packages",
            "apko.yaml",
            "--format",
            "{{.Name | upper}}",
        ],
    );
    assert_eq!(run.status, 2);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr
            .contains("template action `{{.Name | upper}}` is not supported"),
        "{}",
        run.stderr
    );
}

/// The pins every architecture of an apko lock agrees on: what apko's `unify` keeps.
fn agreed_pins(lock: &Lock) -> Vec<String> {
    let per_arch = lock.locked_packages(&[
        receipts::config::Architecture::parse("amd64"),
        receipts::config::Architecture::parse("arm64"),
    ]);
    let mut lists = per_arch.values();
    let first: Vec<String> = lists.next().cloned().unwrap_or_default();
    let mut agreed: Vec<String> = first
        .into_iter()
        .filter(|pin| per_arch.values().all(|list| list.contains(pin)))
        .collect();
    agreed.sort();
    agreed
}

#[test]
fn locked_configuration_pins_what_every_architecture_agrees_on() {
    let run = oras_lock(&apko_cli(), &["apko.yaml", "--include-paths", "testdata"]);
    succeeded(&run);
    let locked = ImageConfiguration::from_json(&run.stdout).expect("locked configuration");
    let upstream =
        Lock::from_json(&read(&apko_cli().join("testdata/apko.lock.json"))).expect("lock");
    assert_eq!(locked.contents.packages, agreed_pins(&upstream));
    assert_eq!(
        locked.contents.packages,
        ["pretend-baselayout=1.0.0-r0", "replayout=1.0.0-r0"]
    );
    let archs: Vec<&str> = locked.archs.iter().map(|a| a.as_str()).collect();
    assert_eq!(archs, ["amd64", "arm64"]);
    assert_eq!(locked.entrypoint.command, "/bin/sh -l");
    assert_eq!(locked.contents.repositories, ["./testdata/packages"]);
    assert_eq!(locked.contents.keyring, ["./testdata/melange.rsa.pub"]);
    // Go's MarshalIndent with two spaces, then a newline.
    assert!(run.stdout.starts_with(b"{\n  \"contents\": {\n"));
    assert!(run.stdout.ends_with(b"}\n"));
}

#[test]
fn per_architecture_locked_configurations_are_what_apko_writes_to_etc_apko_json() {
    // apko builds each architecture from its own locked configuration and writes it, validated,
    // to /etc/apko.json: the golden layers hold apko's bytes.
    let case = data("derived/apko/goldens/features");
    let settings = receipts::lock::Settings {
        working_dir: case.clone(),
        ..Default::default()
    };
    let locker = receipts::lock::Locker::open("apko.yaml", &settings).expect("open");
    let locked = locker.locked_configuration().expect("lock");
    let mut expected = apko_json_files(&case.join("expected"));
    expected.sort();
    let mut ours: Vec<Vec<u8>> = locked
        .per_arch
        .values()
        .map(|configuration| {
            let mut configuration = configuration.clone();
            configuration.validate().expect("valid");
            // The builder then replaces a run-as user name by the user's uid
            // (reference/apko-format.md §6.5): not a locking step, applied here by hand.
            assert_eq!(configuration.accounts.run_as, "app");
            configuration.accounts.run_as = "1000".to_owned();
            configuration.to_apko_json_file().expect("encode")
        })
        .collect();
    ours.sort();
    assert_eq!(expected.len(), 2);
    assert_eq!(
        ours.iter()
            .map(|b| String::from_utf8_lossy(b))
            .collect::<Vec<_>>(),
        expected
            .iter()
            .map(|b| String::from_utf8_lossy(b))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        locked.index.contents.packages,
        ["big-data=1.0.0-r0", "hello=2.0-r1"]
    );
}

#[test]
fn yaml_output_loads_back_to_the_same_configuration() {
    let out = temp();
    let yaml = out.path().join("locked.yaml");
    let json = out.path().join("locked.json");
    let case = data("derived/apko/goldens/features");
    for path in [&yaml, &json] {
        succeeded(&oras_lock(
            &case,
            &["apko.yaml", "-o", path.to_str().expect("utf-8 path")],
        ));
    }
    let from_yaml = Loader::new().load(&yaml).expect("yaml loads").configuration;
    let from_json = ImageConfiguration::from_json(&read(&json)).expect("json loads");
    assert_eq!(from_yaml, from_json);
    assert_eq!(
        from_json.contents.packages,
        ["big-data=1.0.0-r0", "hello=2.0-r1"]
    );
    assert_eq!(from_json.accounts.users.len(), 1);
    // --format wins over the extension.
    let forced = out.path().join("forced.json");
    succeeded(&oras_lock(
        &case,
        &[
            "apko.yaml",
            "-o",
            forced.to_str().expect("utf-8 path"),
            "--format",
            "yaml",
        ],
    ));
    assert_eq!(read(&forced), read(&yaml));
}

#[test]
fn plugin_word_lock_is_dropped() {
    let plain = oras_lock(&apko_cli(), &["apko.yaml", "--include-paths", "testdata"]);
    let plugin = oras_lock(
        &apko_cli(),
        &["lock", "apko.yaml", "--include-paths", "testdata"],
    );
    succeeded(&plugin);
    assert_eq!(plugin.stdout, plain.stdout);
    // `lock` alone is the plugin word, so a configuration named `lock` needs a directory.
    let bare = oras_lock(&apko_cli(), &["lock"]);
    assert_eq!(bare.status, 2);
    assert!(bare.stderr.contains("CONFIG"), "{}", bare.stderr);
}

#[test]
fn long_help_documents_exit_statuses_and_the_plugin_word() {
    let dir = temp();
    for args in [&["--help"][..], &["check", "--help"][..]] {
        let run = oras_lock(dir.path(), args);
        succeeded(&run);
        let help = run.text();
        for needle in [
            "0  success",
            "1  `check` only: a fresh lock would change something",
            "2  error",
            "`./lock`",
        ] {
            assert!(help.contains(needle), "{args:?} lacks {needle:?}:\n{help}");
        }
    }
}

/// Two architectures whose indexes hold the same versions, where aarch64's `app` wants an
/// older `lib`: resolutions differ on `lib` although `ByArch` disqualifies nothing.
fn diverging_repository(root: &Path) {
    let specs = |arch: &str, lib: &str| -> Vec<PackageSpec> {
        vec![
            package("app", "1.0-r0", arch, &[lib]),
            package("lib", "1.0-r0", arch, &[]),
            package("lib", "2.0-r0", arch, &[]),
        ]
    };
    write_repository(&root.join("repo"), "x86_64", &specs("x86_64", "lib"));
    write_repository(&root.join("repo"), "aarch64", &specs("aarch64", "lib<2"));
}

#[test]
fn disagreeing_dependency_is_left_unpinned_with_a_warning() {
    let dir = temp();
    diverging_repository(dir.path());
    write_config(dir.path(), &["app"], &["x86_64", "aarch64"]);
    let run = oras_lock(dir.path(), &["apko.yaml"]);
    succeeded(&run);
    let locked = ImageConfiguration::from_json(&run.stdout).expect("locked");
    assert_eq!(locked.contents.packages, ["app=1.0-r0"]);
    assert!(
        run.stderr.contains("warning: amd64: not pinned")
            && run.stderr.contains("warning: arm64: not pinned"),
        "{}",
        run.stderr
    );
}

#[test]
fn disagreeing_request_fails_with_apkos_consistent_version_error() {
    let dir = temp();
    diverging_repository(dir.path());
    write_config(dir.path(), &["app", "lib"], &["x86_64", "aarch64"]);
    let run = oras_lock(dir.path(), &["apko.yaml"]);
    assert_eq!(run.status, 2);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains(
            "unable to lock packages to a consistent version: map[lib:[1.0-r0 (arm64) 2.0-r0 (amd64)]]"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn withdrawn_pin_names_package_version_arch_and_repositories() {
    let dir = temp();
    write_repository(
        &dir.path().join("repo"),
        "x86_64",
        &[package("app", "1.0-r0", "x86_64", &[])],
    );
    write_config(dir.path(), &["app=0.9-r0"], &["x86_64"]);
    let run = oras_lock(dir.path(), &["apko.yaml"]);
    assert_eq!(run.status, 2);
    assert!(
        run.stderr.contains(
            "error: app=0.9-r0 for x86_64 is in none of the repositories searched: ./repo/x86_64"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("caused by:"), "{}", run.stderr);
}

#[test]
fn outputs_are_replaced_atomically_and_untouched_on_error() {
    let dir = temp();
    write_repository(
        &dir.path().join("repo"),
        "x86_64",
        &[package("app", "1.0-r0", "x86_64", &[])],
    );
    write_config(dir.path(), &["app"], &["x86_64"]);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("out dir");
    let locked = out.join("locked.json");
    let lockfile = out.join("apko.lock.json");
    std::fs::write(&locked, "previous\n").expect("seed");
    let args = |config: &'static str| {
        vec![
            config.to_owned(),
            "-o".to_owned(),
            locked.display().to_string(),
            "--lockfile".to_owned(),
            lockfile.display().to_string(),
        ]
    };
    let run_with = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        oras_lock(dir.path(), &args)
    };

    std::fs::write(
        dir.path().join("broken.yaml"),
        "contents:\n  keyring: [./receipts-example.rsa.pub]\n  repositories: [./repo]\n  packages: [missing-package]\narchs: [x86_64]\n",
    )
    .expect("write");
    let failed = run_with(args("broken.yaml"));
    assert_eq!(failed.status, 2);
    assert_eq!(read(&locked), b"previous\n");
    assert!(!lockfile.exists());
    let names: Vec<_> = std::fs::read_dir(&out)
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["locked.json"], "no temporary file is left behind");

    succeeded(&run_with(args("apko.yaml")));
    let configuration = ImageConfiguration::from_json(&read(&locked)).expect("locked");
    assert_eq!(configuration.contents.packages, ["app=1.0-r0"]);
    let lock = Lock::from_json(&read(&lockfile)).expect("lock");
    assert_eq!(lock.contents.packages.len(), 1);
    let mut names: Vec<_> = std::fs::read_dir(&out)
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["apko.lock.json", "locked.json"]);

    // Modes as open(2) would give them under this umask: 0777 for the lock file (apko's
    // os.ModePerm), 0666 for the locked configuration.
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let mode_of = |path: &Path| std::fs::metadata(path).expect("stat").permissions().mode() & 0o777;
    let probe = |name: &str, mode: u32| {
        let path = dir.path().join(name);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&path)
            .expect("probe");
        mode_of(&path)
    };
    assert_eq!(mode_of(&lockfile), probe("probe-777", 0o777));
    assert_eq!(mode_of(&locked), probe("probe-666", 0o666));
}

/// Checks a lock package entry against the package file itself, with plain hashing.
fn assert_entry_describes(entry: &receipts::config::lock::LockPackage, apk: &[u8]) {
    use base64::Engine as _;
    use sha1::Digest as _;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let range = |text: &str| -> (usize, usize) {
        let (first, last) = text
            .strip_prefix("bytes=")
            .and_then(|r| r.split_once('-'))
            .expect("range");
        (first.parse().expect("first"), last.parse().expect("last"))
    };
    let (s0, s1) = range(&entry.signature.range);
    let (c0, c1) = range(&entry.control.range);
    let (d0, d1) = range(&entry.data.range);
    assert_eq!((s0, c0, d0, d1), (0, s1 + 1, c1 + 1, apk.len() - 1));
    assert_eq!(
        entry.signature.checksum,
        format!("sha1-{}", b64(&sha1::Sha1::digest(&apk[s0..=s1])))
    );
    let control = sha1::Sha1::digest(&apk[c0..=c1]);
    assert_eq!(entry.control.checksum, format!("sha1-{}", b64(&control)));
    assert_eq!(entry.checksum, format!("Q1{}", b64(&control)));
    assert_eq!(
        entry.data.checksum,
        format!("sha256-{}", b64(&sha2::Sha256::digest(&apk[d0..=d1])))
    );
}

#[test]
fn http_repository_locks_and_offline_replays_from_the_cache() {
    let served = temp();
    let example = |arch: &str| {
        receipts::apk::writer::example_repository(arch, &crate::support::lock::example_key())
            .expect("example repository")
    };
    for arch in ["x86_64", "aarch64"] {
        receipts::apk::writer::write_repository(
            &example(arch),
            &served.path().join("os").join(arch),
        )
        .expect("write");
    }
    std::fs::create_dir(served.path().join("keys")).expect("keys dir");
    std::fs::copy(
        crate::support::lock::example_public_key(),
        served.path().join("keys/receipts-example.rsa.pub"),
    )
    .expect("copy key");
    let server = Server::serve(served.path());
    let work = temp();
    let config = format!(
        "contents:\n  keyring: ['{}']\n  repositories: ['{}']\n  packages: [example-cli, docs]\narchs: [x86_64, aarch64]\n",
        server.url("/keys/receipts-example.rsa.pub"),
        server.url("/os")
    );
    std::fs::write(work.path().join("apko.yaml"), config).expect("write config");
    let cache = work.path().join("cache");
    let cache_arg = cache.display().to_string();
    let online = oras_lock(
        work.path(),
        &[
            "apko.yaml",
            "--lockfile",
            "online.json",
            "--cache-dir",
            &cache_arg,
        ],
    );
    succeeded(&online);
    let lock = Lock::from_json(&read(&work.path().join("online.json"))).expect("lock");
    let host = server.url("").trim_start_matches("http://").to_owned();
    assert_eq!(lock.contents.keyring.len(), 1);
    assert_eq!(
        lock.contents.keyring[0].name,
        format!("{host}/keys/receipts-example.rsa.pub")
    );
    assert_eq!(
        lock.contents.keyring[0].content.as_bytes(),
        read(&crate::support::lock::example_public_key())
    );
    let repositories: Vec<(&str, &str)> = lock
        .contents
        .repositories
        .iter()
        .map(|r| (r.name.as_str(), r.architecture.as_str()))
        .collect();
    let (x86, arm) = (format!("{host}/os/x86_64"), format!("{host}/os/aarch64"));
    assert_eq!(
        repositories,
        [(x86.as_str(), "x86_64"), (arm.as_str(), "aarch64")]
    );
    // example-cli needs libexample (through so:libexample.so.2), which needs example-base.
    // example-cli-doc is not installed: apko only triggers install_if from a world entry's
    // dependencies, never from the world packages themselves (tests/apk_solver.rs).
    let per_arch: BTreeMap<&str, Vec<&str>> =
        lock.contents
            .packages
            .iter()
            .fold(BTreeMap::new(), |mut map, p| {
                map.entry(p.architecture.as_str())
                    .or_insert_with(Vec::new)
                    .push(p.name.as_str());
                map
            });
    for names in per_arch.values() {
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            ["docs", "example-base", "example-cli", "libexample"]
        );
    }
    assert_eq!(per_arch.len(), 2);
    for entry in &lock.contents.packages {
        let file = served
            .path()
            .join("os")
            .join(&entry.architecture)
            .join(format!("{}-{}.apk", entry.name, entry.version));
        assert_eq!(
            entry.url,
            server.url(&format!(
                "/os/{}/{}-{}.apk",
                entry.architecture, entry.name, entry.version
            ))
        );
        assert_entry_describes(entry, &read(&file));
    }

    drop(server);
    let offline = oras_lock(
        work.path(),
        &[
            "apko.yaml",
            "--lockfile",
            "offline.json",
            "--cache-dir",
            &cache_arg,
            "--offline",
        ],
    );
    succeeded(&offline);
    assert_eq!(offline.stdout, online.stdout);
    assert_eq!(
        read(&work.path().join("offline.json")),
        read(&work.path().join("online.json"))
    );

    let empty = work.path().join("empty-cache").display().to_string();
    let uncached = oras_lock(
        work.path(),
        &["apko.yaml", "--cache-dir", &empty, "--offline"],
    );
    assert_eq!(uncached.status, 2);
    assert!(
        uncached
            .stderr
            .contains("not in the download cache and the network is off"),
        "{}",
        uncached.stderr
    );
    assert!(
        uncached.stderr.contains("receipts-example.rsa.pub"),
        "{}",
        uncached.stderr
    );
}

#[test]
fn deep_dependency_chains_resolve_off_the_callers_stack() {
    // The solver walks dependencies recursively, as apko does on Go's growing stacks; the
    // locker runs it on threads with deep stacks, so a long chain resolves even when the
    // caller's own stack is small. 3,000 levels overflow the 128 KiB given here.
    let dir = temp();
    let depth = 3_000;
    let records: Vec<receipts::apk::Package> = (0..depth)
        .map(|i| {
            let mut spec = package(&format!("c{i:05}"), "1-r0", "x86_64", &[]);
            if i + 1 < depth {
                spec.package.dependencies = vec![format!("c{:05}", i + 1).into()];
            }
            spec.package
        })
        .collect();
    let index =
        receipts::apk::writer::build_index(&records, "chain", &crate::support::lock::example_key())
            .expect("index");
    std::fs::create_dir_all(dir.path().join("repo/x86_64")).expect("repo dir");
    std::fs::write(dir.path().join("repo/x86_64/APKINDEX.tar.gz"), index).expect("write index");
    write_config(dir.path(), &["c00000"], &["x86_64"]);
    let settings = receipts::lock::Settings {
        working_dir: dir.path().to_owned(),
        ..Default::default()
    };
    let locker = receipts::lock::Locker::open("apko.yaml", &settings).expect("open");
    let installed = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(128 << 10)
            .spawn_scoped(scope, || {
                locker
                    .resolve(receipts::lock::Scope::Together)
                    .map(|archs| archs.iter().map(|a| a.packages.len()).sum::<usize>())
                    .map_err(|e| e.to_string())
            })
            .expect("spawn")
            .join()
            .expect("no overflow")
    });
    assert_eq!(installed, Ok(depth));
}

fn check_repository(root: &Path, lib: &str, tool: Option<&str>) {
    let mut specs = vec![
        package("app", "1.0-r0", "x86_64", &["lib"]),
        package("lib", lib, "x86_64", &[]),
        package("base", "1-r0", "x86_64", &[]),
    ];
    if let Some(version) = tool {
        specs.push(package("tool", version, "x86_64", &[]));
        specs[0].package.dependencies.push("tool".into());
    }
    write_repository(&root.join("repo"), "x86_64", &specs);
}

#[test]
fn check_reports_nothing_then_every_kind_of_change() {
    let dir = temp();
    check_repository(dir.path(), "2.0-r0", Some("1-r0"));
    write_config(dir.path(), &["app", "base"], &["x86_64"]);
    succeeded(&oras_lock(
        dir.path(),
        &[
            "apko.yaml",
            "-o",
            "locked.json",
            "--lockfile",
            "apko.lock.json",
        ],
    ));
    for earlier in [
        ["--lockfile", "apko.lock.json"],
        ["--locked", "locked.json"],
    ] {
        let run = oras_lock(dir.path(), &["check", "apko.yaml", earlier[0], earlier[1]]);
        assert_eq!(run.status, 0, "{}", run.stderr);
        assert_eq!(run.text(), "no changes\n");
    }

    // lib upgraded, tool dropped; app no longer depends on tool, so it was rebuilt at the
    // same version.
    check_repository(dir.path(), "2.1-r0", None);
    let run = oras_lock(
        dir.path(),
        &["check", "apko.yaml", "--lockfile", "apko.lock.json"],
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    let text = run.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("x86_64: rebuilt app Q1"), "{text}");
    assert_eq!(
        lines[1..],
        [
            "x86_64: upgraded lib 2.0-r0 → 2.1-r0",
            "x86_64: removed tool 1-r0"
        ]
    );
    let run = oras_lock(
        dir.path(),
        &["check", "apko.yaml", "--locked", "locked.json"],
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert_eq!(
        run.text(),
        "index: upgraded lib 2.0-r0 → 2.1-r0\nindex: removed tool 1-r0\n"
    );

    // lib downgraded, tool added back at a version the lock never saw.
    check_repository(dir.path(), "1.9-r0", Some("1-r0"));
    let run = oras_lock(
        dir.path(),
        &[
            "check",
            "apko.yaml",
            "--lockfile",
            "apko.lock.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).expect("json report");
    assert_eq!(
        report,
        serde_json::json!({
            "changed": true,
            "settings": [],
            "architectures": [{
                "arch": "x86_64",
                "changes": [
                    {"package": "lib", "change": "downgraded", "old": "2.0-r0", "new": "1.9-r0"},
                ]
            }]
        })
    );

    // Same versions as locked, but lib rebuilt: its control checksum changes.
    let mut rebuilt = package("lib", "2.0-r0", "x86_64", &[]);
    rebuilt.package.description = "rebuilt".into();
    let specs = vec![
        package("app", "1.0-r0", "x86_64", &["lib", "tool"]),
        rebuilt,
        package("base", "1-r0", "x86_64", &[]),
        package("tool", "1-r0", "x86_64", &[]),
    ];
    write_repository(&dir.path().join("repo"), "x86_64", &specs);
    let run = oras_lock(
        dir.path(),
        &[
            "check",
            "apko.yaml",
            "--lockfile",
            "apko.lock.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).expect("json report");
    let change = &report["architectures"][0]["changes"][0];
    assert_eq!(change["package"], "lib");
    assert_eq!(change["change"], "rebuilt");
    let lock = Lock::from_json(&read(&dir.path().join("apko.lock.json"))).expect("lock");
    let locked_lib = lock
        .contents
        .packages
        .iter()
        .find(|p| p.name == "lib")
        .expect("lib locked");
    assert_eq!(change["old"], locked_lib.checksum.as_str());
    assert_ne!(change["new"], locked_lib.checksum.as_str());

    // The configuration itself changed: its checksum is reported.
    write_config(dir.path(), &["app", "base", "tool"], &["x86_64"]);
    let run = oras_lock(
        dir.path(),
        &["check", "apko.yaml", "--lockfile", "apko.lock.json"],
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.text().starts_with("configuration checksum: sha256-"),
        "{}",
        run.text()
    );
}

#[test]
fn check_fails_with_status_2_on_errors() {
    let dir = temp();
    check_repository(dir.path(), "2.0-r0", None);
    write_config(dir.path(), &["app"], &["x86_64"]);
    let run = oras_lock(
        dir.path(),
        &["check", "apko.yaml", "--lockfile", "missing.json"],
    );
    assert_eq!(run.status, 2);
    assert!(
        run.stderr
            .contains("error: cannot read lock file missing.json"),
        "{}",
        run.stderr
    );
    let run = oras_lock(dir.path(), &["check", "apko.yaml"]);
    assert_eq!(run.status, 2, "one of --locked and --lockfile is required");
}

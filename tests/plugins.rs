//! The binaries as cosign and oras plugins: `plugin.yaml` against Cargo.toml and each binary's
//! `plugin-metadata`; the shell shims run in bash, zsh and fish with stand-in hosts; the
//! committed completions and man pages against a fresh rendering; progress lines on stderr.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::data;

const COSIGN_REBUILD: &str = env!("CARGO_BIN_EXE_cosign-rebuild");
const ORAS_LOCK: &str = env!("CARGO_BIN_EXE_oras-lock");

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(binary: &str, args: &[&str]) -> Output {
    Command::new(binary)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {binary}: {e}"))
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "status {:?}, stderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("utf-8 stdout")
}

/// `plugin.yaml`, parsed strictly: an unknown or misspelt key fails the test.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Descriptor {
    api_version: String,
    vendor: String,
    version: String,
    homepage: String,
    license: String,
    plugins: Vec<PluginEntry>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PluginEntry {
    name: String,
    host: String,
    binary: String,
    usage: String,
    short_description: String,
    description: String,
    ignore_flags: bool,
    metadata_command: Vec<String>,
    platform_command: Vec<PlatformCommand>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PlatformCommand {
    os: String,
    arch: String,
    command: String,
}

/// The `[[bin]]` names declared in Cargo.toml.
fn cargo_binaries() -> Vec<String> {
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let mut binaries = Vec::new();
    let mut in_bin = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin && let Some(name) = line.strip_prefix("name = ") {
            binaries.push(name.trim_matches('"').to_string());
        }
    }
    binaries
}

fn binary_path(name: &str) -> &'static str {
    match name {
        "cosign-rebuild" => COSIGN_REBUILD,
        "oras-lock" => ORAS_LOCK,
        other => panic!("plugin.yaml names binary {other}, which this test does not know"),
    }
}

#[test]
fn plugin_yaml_agrees_with_cargo_toml_and_plugin_metadata() {
    let text = std::fs::read_to_string(repo().join("plugin.yaml")).unwrap();
    let descriptor: Descriptor = serde_yaml_ng::from_str(&text).expect("plugin.yaml parses");
    assert_eq!(descriptor.api_version, "v1");
    assert_eq!(descriptor.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(descriptor.homepage, env!("CARGO_PKG_REPOSITORY"));
    assert_eq!(descriptor.license, env!("CARGO_PKG_LICENSE"));

    let binaries = cargo_binaries();
    let hosts: Vec<(&str, &str)> = descriptor
        .plugins
        .iter()
        .map(|p| (p.host.as_str(), p.name.as_str()))
        .collect();
    assert_eq!(hosts, [("cosign", "rebuild"), ("oras", "lock")]);
    for plugin in &descriptor.plugins {
        assert_eq!(plugin.binary, format!("{}-{}", plugin.host, plugin.name));
        assert!(
            binaries.contains(&plugin.binary),
            "{} is not a [[bin]] of Cargo.toml ({binaries:?})",
            plugin.binary
        );
        assert!(
            plugin
                .usage
                .starts_with(&format!("{} {} ", plugin.host, plugin.name)),
            "{}",
            plugin.usage
        );
        assert!(!plugin.description.trim().is_empty());
        assert!(!plugin.ignore_flags);
        assert_eq!(plugin.metadata_command, [&plugin.binary, "plugin-metadata"]);
        // Helm's selector: exact os and arch, Go's names; every pair once.
        let mut platforms: Vec<(&str, &str)> = plugin
            .platform_command
            .iter()
            .map(|p| (p.os.as_str(), p.arch.as_str()))
            .collect();
        platforms.sort();
        assert_eq!(
            platforms,
            [
                ("darwin", "amd64"),
                ("darwin", "arm64"),
                ("linux", "amd64"),
                ("linux", "arm64")
            ]
        );
        assert!(
            plugin
                .platform_command
                .iter()
                .all(|p| p.command == plugin.binary)
        );

        // Docker's plugin metadata: one line of JSON, Go field names, exit status 0.
        let output = stdout(&run(binary_path(&plugin.binary), &["plugin-metadata"]));
        assert_eq!(output.lines().count(), 1, "{output}");
        let metadata: BTreeMap<String, String> =
            serde_json::from_str(&output).expect("plugin-metadata prints a JSON object");
        let expected: BTreeMap<String, String> = [
            ("SchemaVersion", "0.1.0"),
            ("Vendor", descriptor.vendor.as_str()),
            ("Version", descriptor.version.as_str()),
            ("ShortDescription", plugin.short_description.as_str()),
            ("URL", descriptor.homepage.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(metadata, expected, "{}", plugin.binary);
    }
}

#[test]
fn plugin_metadata_is_hidden_and_shim_is_listed() {
    for binary in [COSIGN_REBUILD, ORAS_LOCK] {
        let help = stdout(&run(binary, &["--help"]));
        let commands: Vec<&str> = help
            .split("Commands:\n")
            .nth(1)
            .expect("a Commands section")
            .lines()
            .take_while(|line| !line.is_empty())
            .filter_map(|line| line.split_whitespace().next())
            .collect();
        assert!(commands.contains(&"shim"), "{commands:?}");
        assert!(!commands.contains(&"plugin-metadata"), "{commands:?}");
        assert!(!commands.contains(&"generate-assets"), "{commands:?}");
        assert!(help.contains("--quiet"), "{help}");
    }
}

#[test]
fn both_binaries_accept_their_own_word_first() {
    let help = stdout(&run(COSIGN_REBUILD, &["rebuild", "--help"]));
    assert!(help.contains("Audit IMAGE"), "{help}");
    // `oras-lock lock …` is `oras-lock …`: the same help, word dropped.
    let plain = stdout(&run(ORAS_LOCK, &["--help"]));
    let worded = stdout(&run(ORAS_LOCK, &["lock", "--help"]));
    assert_eq!(plain, worded);
    // and `--quiet` may come before a command word on both
    for binary in [COSIGN_REBUILD, ORAS_LOCK] {
        let quiet = stdout(&run(binary, &["-q", "shim", "bash"]));
        assert_eq!(quiet, stdout(&run(binary, &["shim", "bash"])));
    }
}

/// A stand-in executable that appends its name and each argument (in brackets) to `$SHIM_LOG`.
fn stand_in(bin: &Path, name: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    let path = bin.join(name);
    std::fs::write(
        &path,
        "#!/bin/sh\n{ echo \"called $(basename \"$0\")\"; for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done; } >> \"$SHIM_LOG\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

const EXPECTED_LOG: &str = "\
called cosign-rebuild
[registry.example/app:1]
[--key]
[two words]
[]
called cosign
[sign]
[rebuild]
called cosign
called cosign
[rebuilds]
called cosign-rebuild
called oras-lock
[apko.yaml]
[-o]
[out file.json]
called oras
[push]
[r:t]
[lock]
called oras
";

#[test]
fn shims_dispatch_in_bash_zsh_and_fish() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for name in ["cosign", "cosign-rebuild", "oras", "oras-lock"] {
        stand_in(&bin, name);
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for shell in ["bash", "zsh", "fish"] {
        let mut shims = String::new();
        for binary in [COSIGN_REBUILD, ORAS_LOCK] {
            shims.push_str(&stdout(&run(binary, &["shim", shell])));
        }
        let shim_file = dir.path().join(format!("shims.{shell}"));
        std::fs::write(&shim_file, &shims).unwrap();
        // The same calls in each shell's quoting (identical for these arguments).
        let calls = "cosign rebuild registry.example/app:1 --key 'two words' ''\n\
                     cosign sign rebuild\n\
                     cosign\n\
                     cosign rebuilds\n\
                     cosign rebuild\n\
                     oras lock apko.yaml -o 'out file.json'\n\
                     oras push r:t lock\n\
                     oras\n";
        let script = format!("source {}\n{calls}", shim_file.display());
        let log = dir.path().join(format!("{shell}.log"));
        let mut command = Command::new(shell);
        match shell {
            "bash" => command.args(["--norc", "--noprofile", "-c", &script]),
            "zsh" => command.args(["-f", "-c", &script]),
            _ => command.args(["--no-config", "-c", &script]),
        };
        let output = command
            .env("PATH", &path)
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("SHIM_LOG", &log)
            .output()
            .unwrap_or_else(|e| {
                panic!("\n\n*** {shell} not runnable ({e}); run ./scripts/test ***\n")
            });
        assert!(
            output.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            std::fs::read_to_string(&log).unwrap_or_default(),
            EXPECTED_LOG,
            "{shell}, shims:\n{shims}"
        );
    }
}

/// Every file under `dir`, by path relative to it.
fn files_under(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for sub in ["completions", "man"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries {
            let entry = entry.unwrap();
            let relative = Path::new(sub).join(entry.file_name());
            files.insert(relative, std::fs::read(entry.path()).unwrap());
        }
    }
    files
}

#[test]
fn committed_completions_and_man_pages_are_current() {
    let fresh = tempfile::tempdir().unwrap();
    let output = run(
        COSIGN_REBUILD,
        &["generate-assets", &fresh.path().display().to_string()],
    );
    stdout(&output);
    let fresh = files_under(fresh.path());
    let committed = files_under(repo());
    let stale: Vec<String> = fresh
        .keys()
        .chain(committed.keys())
        .filter(|path| fresh.get(*path) != committed.get(*path))
        .map(|path| path.display().to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(
        stale.is_empty(),
        "\n\n*** completions/ and man/ are stale ({}); run ./scripts/generate-assets and commit ***\n",
        stale.join(", ")
    );
    // What the packagers get: three shells per binary, a page per binary and visible command.
    for name in [
        "completions/cosign-rebuild.bash",
        "completions/_cosign-rebuild",
        "completions/cosign-rebuild.fish",
        "completions/oras-lock.bash",
        "completions/_oras-lock",
        "completions/oras-lock.fish",
        "man/cosign-rebuild.1",
        "man/cosign-rebuild-build.1",
        "man/cosign-rebuild-shim.1",
        "man/oras-lock.1",
        "man/oras-lock-check.1",
        "man/oras-lock-show-packages.1",
    ] {
        assert!(fresh.contains_key(Path::new(name)), "{name} missing");
    }
    assert!(
        !fresh
            .keys()
            .any(|path| path.to_string_lossy().contains("plugin-metadata")
                || path.to_string_lossy().contains("generate-assets")),
        "hidden commands get no page"
    );
    let page = String::from_utf8_lossy(&fresh[Path::new("man/oras-lock.1")]).into_owned();
    assert!(
        page.starts_with(".ie") && page.contains(".TH oras-lock 1"),
        "{page}"
    );
    assert!(page.contains("Exit status:"), "{page}");
}

#[test]
fn completion_scripts_are_valid_in_their_shells() {
    let dir = repo().join("completions");
    for (shell, check, files) in [
        ("bash", "-n", ["cosign-rebuild.bash", "oras-lock.bash"]),
        ("zsh", "-n", ["_cosign-rebuild", "_oras-lock"]),
        (
            "fish",
            "--no-execute",
            ["cosign-rebuild.fish", "oras-lock.fish"],
        ),
    ] {
        for file in files {
            let output = Command::new(shell)
                .arg(check)
                .arg(dir.join(file))
                .output()
                .unwrap_or_else(|e| panic!("{shell} not runnable ({e}); run ./scripts/test"));
            assert!(
                output.status.success(),
                "{shell} {file}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    let bash = std::fs::read_to_string(dir.join("oras-lock.bash")).unwrap();
    for flag in [
        "--plain-http",
        "--password-stdin",
        "--quiet",
        "show-packages",
    ] {
        assert!(bash.contains(flag), "oras-lock.bash lacks {flag}");
    }
}

fn lock_in(dir: &Path, cache: &Path, args: &[&str]) -> Output {
    Command::new(ORAS_LOCK)
        .args(args)
        .current_dir(dir)
        .env("XDG_CACHE_HOME", cache)
        .env_remove("NO_COLOR")
        .output()
        .expect("run oras-lock")
}

#[test]
fn progress_is_plain_lines_off_a_terminal_and_absent_with_quiet() {
    let case = data("derived/apko/goldens/features");
    let scratch = tempfile::tempdir().unwrap();
    let lockfile = scratch.path().join("apko.lock.json");
    let lockfile = lockfile.display().to_string();
    let args = ["apko.yaml", "--lockfile", &lockfile];
    let loud = lock_in(&case, &scratch.path().join("cache"), &args);
    assert!(
        loud.status.success(),
        "{}",
        String::from_utf8_lossy(&loud.stderr)
    );
    let stderr = String::from_utf8(loud.stderr.clone()).unwrap();
    assert_eq!(
        stderr,
        format!(
            "reading apko.yaml and its package indexes\n\
             resolving packages for amd64, arm64\n\
             downloading every resolved package to record it in {lockfile}\n"
        ),
        "one line per step, no bar or escape sequence when stderr is a pipe"
    );
    for quiet in ["--quiet", "-q"] {
        let mut quiet_args = args.to_vec();
        quiet_args.push(quiet);
        let silent = lock_in(&case, &scratch.path().join("cache"), &quiet_args);
        assert!(silent.status.success());
        assert_eq!(String::from_utf8_lossy(&silent.stderr), "");
        assert_eq!(silent.stdout, loud.stdout, "--quiet changes no data");
    }
}

#[test]
fn show_packages_output_json_is_apkos_resolution_as_data() {
    let dir = tempfile::tempdir().unwrap();
    crate::support::lock::alpine_316_dev(dir.path());
    let run = crate::support::lock::oras_lock(
        dir.path(),
        &["show-packages", "apko.yaml", "--output", "json"],
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr, "",
        "no headings: the architecture is in the data"
    );
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON");
    let archs = report["architectures"].as_array().expect("architectures");
    assert_eq!(archs.len(), 1);
    assert_eq!(archs[0]["arch"], "amd64");
    let lines: String = archs[0]["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            let source = p["source"].as_str().unwrap();
            let name = p["name"].as_str().unwrap();
            let version = p["version"].as_str().unwrap();
            assert!(
                source.ends_with(&format!("/x86_64/{name}-{version}.apk")),
                "{source}"
            );
            format!("{name} {version}\n")
        })
        .collect();
    let expected = std::fs::read_to_string(data(
        "derived/apko/resolve/alpine-316-dev/show-packages.txt",
    ))
    .unwrap();
    assert_eq!(lines, expected, "apko's install order and versions");
}

/// Runs `oras-lock args…` under `script`, which gives it a terminal for stdout and stderr, and
/// returns what the terminal showed.
fn lock_on_a_terminal(dir: &Path, cache: &Path, args: &str, no_color: bool) -> String {
    let mut command = Command::new("script");
    command
        .args(["-qec", &format!("{ORAS_LOCK} {args}"), "/dev/null"])
        .current_dir(dir)
        .env("XDG_CACHE_HOME", cache)
        .env("TERM", "xterm")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE");
    if no_color {
        command.env("NO_COLOR", "1");
    } else {
        command.env_remove("NO_COLOR");
    }
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("script (util-linux) not runnable: {e}"));
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn progress_on_a_terminal_is_a_spinner_coloured_unless_no_color() {
    let case = data("derived/apko/goldens/features");
    let scratch = tempfile::tempdir().unwrap();
    let cache = scratch.path().join("cache");
    let out = scratch.path().join("locked.json");
    let args = format!("apko.yaml --arch x86_64 -o {}", out.display());

    let coloured = lock_on_a_terminal(&case, &cache, &args, false);
    assert!(
        coloured.contains("resolving packages for amd64"),
        "{coloured:?}"
    );
    assert!(
        coloured.contains("\u{1b}[36m"),
        "a cyan spinner: {coloured:?}"
    );
    assert!(
        coloured.ends_with("\r\u{1b}[2K"),
        "the spinner line is cleared at the end: {coloured:?}"
    );

    let plain = lock_on_a_terminal(&case, &cache, &args, true);
    assert!(plain.contains("resolving packages for amd64"), "{plain:?}");
    assert!(
        !plain.contains("\u{1b}[3"),
        "NO_COLOR: no colour: {plain:?}"
    );

    let quiet = lock_on_a_terminal(&case, &cache, &format!("{args} --quiet"), false);
    assert_eq!(quiet, "", "--quiet: nothing");
}

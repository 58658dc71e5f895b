//! The README cannot drift from the binaries: its shell blocks are read from `README.md` and
//! run. The "Commands" block runs line by line, as written, in one bash, against a real loopback
//! registry (`docker-registry`, standing in for `registry.example`) and OCI layouts, in a
//! directory holding the bundled example (`examples/apko.yaml` and its signed repository) and
//! the public-good trusted root as `trusted_root.json`. Every line exits 0, except where its
//! own comment names another status. The "Two commands" blocks are the two scripts CI runs
//! (`.ci/run`), checked to be exactly those.

use std::path::Path;
use std::process::Command;

use crate::support;
use crate::support::registry::Registry;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md")
}

/// Every ```sh block of the README with the heading it sits under.
fn sh_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut heading = String::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match &mut current {
            Some(block) if line.trim_end() == "```" => {
                blocks.push((heading.clone(), std::mem::take(block)));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None if line.trim_end() == "```sh" => current = Some(String::new()),
            None if line.starts_with('#') => {
                heading = line.trim_start_matches('#').trim().to_owned()
            }
            None => {}
        }
    }
    blocks
}

/// The block's commands: continuation lines joined, blank and comment-only lines dropped.
fn commands(block: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut pending = String::new();
    for line in block.lines() {
        if pending.is_empty() && (line.trim().is_empty() || line.trim_start().starts_with('#')) {
            continue;
        }
        pending.push_str(line);
        if let Some(stripped) = pending.strip_suffix('\\') {
            pending = format!("{stripped}\\\n");
            continue;
        }
        commands.push(std::mem::take(&mut pending));
    }
    commands
}

/// The exit status a command's trailing comment promises (`exit N`), else 0.
fn expected_status(command: &str) -> i32 {
    let comment = command.rsplit_once("  # ").map_or("", |(_, c)| c);
    comment
        .split("exit ")
        .nth(1)
        .and_then(|rest| rest.chars().next())
        .and_then(|c| c.to_digit(10))
        .map_or(0, |d| d as i32)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn the_two_commands_are_what_ci_runs() {
    let text = readme();
    let blocks = sh_blocks(&text);
    let two: Vec<&str> = blocks
        .iter()
        .filter(|(heading, _)| heading == "Two commands")
        .map(|(_, block)| block.trim())
        .collect();
    assert_eq!(two, ["./scripts/example", "./scripts/test"]);
    let ci = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/run"))
        .expect(".ci/run");
    assert!(ci.lines().any(|l| l == "./scripts/test"), "{ci}");
    assert!(ci.lines().any(|l| l.ends_with("./scripts/example")), "{ci}");
    let others: Vec<&String> = blocks
        .iter()
        .filter(|(heading, _)| heading != "Two commands" && heading != "Commands")
        .map(|(heading, _)| heading)
        .collect();
    assert!(
        others.is_empty(),
        "sh blocks no test runs, under: {others:?}"
    );
}

#[test]
fn every_readme_command_runs_against_a_loopback_registry_and_layouts() {
    let text = readme();
    let block = sh_blocks(&text)
        .into_iter()
        .find(|(heading, _)| heading == "Commands")
        .map(|(_, block)| block)
        .expect("a Commands block");
    let registry = Registry::start();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("work");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    copy_dir(&examples.join("repo"), &dir.join("repo"));
    std::fs::copy(examples.join("apko.yaml"), dir.join("apko.yaml")).unwrap();
    std::fs::copy(
        support::data("sigstore/trust-roots/public-good-trusted_root.json"),
        dir.join("trusted_root.json"),
    )
    .unwrap();

    let commands = commands(&block);
    assert!(commands.len() >= 20, "{commands:?}");
    // One bash runs the block in order (the shims' `eval` lasts), reporting each status.
    let mut script = String::new();
    for (at, command) in commands.iter().enumerate() {
        let command = command.replace("registry.example", registry.host());
        script.push_str(&format!(
            "echo \"@@ {at} start\" >&2\n{command}\necho \"@@ {at} $?\" >&2\n"
        ));
    }
    let bin = Path::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
        .parent()
        .unwrap()
        .to_owned();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&dir)
        .env("PATH", path)
        .env("COSIGN_PASSWORD", "readme")
        .env("XDG_CACHE_HOME", work.path().join("cache"))
        .env("HOME", work.path())
        .env("DOCKER_CONFIG", work.path().join("docker"))
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("SIGSTORE_ROOT_FILE")
        .output()
        .expect("bash runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    for (at, command) in commands.iter().enumerate() {
        let marker = format!("@@ {at} ");
        let status = stderr
            .lines()
            .filter_map(|line| line.strip_prefix(&marker))
            .find(|rest| *rest != "start")
            .and_then(|rest| rest.parse::<i32>().ok());
        let section = stderr
            .split(&format!("@@ {at} start"))
            .nth(1)
            .and_then(|rest| rest.split(&marker).next())
            .unwrap_or("");
        assert_eq!(
            status,
            Some(expected_status(command)),
            "README command {at}:\n{command}\nstderr:\n{section}\nstdout:\n{stdout}"
        );
    }
    // The audits said so.
    assert!(stdout.contains("identical: rebuilt "), "{stdout}");
    assert!(dir.join("rebuilt/index.json").is_file());
    assert!(dir.join("attested.json").is_file());
}

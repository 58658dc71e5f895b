//! `cargo bench --bench memory [-- GB_MB]`: peak RSS of whole builds whose packages are large,
//! to show that memory does not grow with package or image size, nor much with readers
//! (issue 18, item 2; target ≤ 64 MB each).
//!
//! Three builds of signed local repositories made by `apk::writer`, each a child process whose
//! peak RSS `/usr/bin/time` reports (the child is a grandchild of a small process, so it does
//! not inherit this one's pages):
//! * one package holding a single 160 MB file of incompressible bytes (`cosign-rebuild build`);
//! * an image of GB_MB megabytes (default 1,000) in 16 packages of compressible text
//!   (`cosign-rebuild build`);
//! * the 160 MB package with seven small ones, read by 8 package readers at once: this bench
//!   itself, re-run as `memory --child-build DIR READERS`, calling `build::pipeline::build`
//!   with `Request::readers` set (the CLI uses one reader per core, at most 8, and this machine
//!   may have fewer), within the default byte budget of the readers (`Request::read_budget`);
//!   the most the readers were charged at once is printed below the table.
//!
//! Not for: speed (benches/build.rs). Prints a markdown table; under `cargo test` (no `--bench`
//! argument) it does nothing.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use receipts::apk::writer::{self, FileSpec, PackageSpec, SigningKey};
use receipts::build::pipeline::{self, Request};
use receipts::config::Loader;

const BIG_FILE: usize = 160_000_000;
const IMAGE_PACKAGES: usize = 16;

/// splitmix64 bytes: incompressible, deterministic.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Text that compresses about 4:1: numbered lines of words.
fn text(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: [&str; 8] = [
        "layer", "package", "index", "world", "digest", "manifest", "origin", "tar",
    ];
    let mut out = Vec::with_capacity(len + 64);
    let mut line = seed;
    while out.len() < len {
        line += 1;
        let _ = write!(out, "{line:012} ");
        for at in 0..6 {
            out.extend_from_slice(WORDS[((line >> (at * 3)) % 8) as usize].as_bytes());
            out.push(b' ');
        }
        out.push(b'\n');
    }
    out.truncate(len);
    out
}

fn key() -> (SigningKey, PathBuf) {
    let key_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/repo/keys");
    let pem = std::fs::read_to_string(key_dir.join("receipts-example.rsa")).expect("key");
    let key = SigningKey::from_pem("receipts-example.rsa.pub", &pem).expect("signing key");
    (key, key_dir.join("receipts-example.rsa.pub"))
}

/// Writes each package as it is made (so only one is in memory), then the index and apko.yaml.
fn repository(dir: &Path, packages: impl Iterator<Item = PackageSpec>) -> u64 {
    let (key, public) = key();
    let repo = dir.join("repo/x86_64");
    std::fs::create_dir_all(&repo).expect("repo dir");
    let mut records = Vec::new();
    for spec in packages {
        let built = writer::build_package(&spec, None).expect("package");
        std::fs::write(repo.join(built.package.filename()), &built.bytes).expect("write");
        records.push(built.package);
    }
    let index = writer::build_index(&records, "memory", &key).expect("index");
    std::fs::write(repo.join("APKINDEX.tar.gz"), index).expect("index");
    std::fs::copy(public, dir.join("receipts-example.rsa.pub")).expect("key");
    let names: Vec<&str> = records.iter().map(|p| p.name.as_str()).collect();
    std::fs::write(
        dir.join("apko.yaml"),
        format!(
            "contents:\n  keyring: [./receipts-example.rsa.pub]\n  repositories: [./repo]\n  packages: [{}]\narchs: [x86_64]\n",
            names.join(", ")
        ),
    )
    .expect("apko.yaml");
    records.iter().map(|p| p.size).sum()
}

fn one_file_package(name: &str, path: &str, content: &[u8]) -> PackageSpec {
    let mut spec = PackageSpec::new(name, "1.0-r0", "x86_64");
    spec.files = vec![
        FileSpec::directory("usr"),
        FileSpec::directory("usr/share"),
        FileSpec::file(path, content),
    ];
    spec
}

fn big_package() -> PackageSpec {
    one_file_package("big", "usr/share/big.bin", &noise(BIG_FILE, 1))
}

/// Peak RSS (MB), wall and CPU of `command` run under `/usr/bin/time` in `dir`.
fn measured(dir: &Path, program: &Path, args: &[&str]) -> (f64, Duration, Duration) {
    let usage = dir.join("usage");
    let start = Instant::now();
    let output = Command::new("/usr/bin/time")
        .arg("-o")
        .arg(&usage)
        .args(["-f", "%M %U %S"])
        .arg(program)
        .args(args)
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "0")
        .output()
        .expect("run under /usr/bin/time (apt-get install time)");
    let wall = start.elapsed();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let usage = std::fs::read_to_string(&usage).expect("usage");
    let fields: Vec<f64> = usage
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    match fields[..] {
        [peak, user, system] => (peak / 1024.0, wall, Duration::from_secs_f64(user + system)),
        _ => panic!("unexpected /usr/bin/time output {usage:?}"),
    }
}

fn cli_build(dir: &Path) -> (f64, Duration, Duration) {
    let cache = dir.join("cache");
    let out = dir.join("out");
    let _ = std::fs::remove_dir_all(&out);
    let (cache, out) = (
        cache.display().to_string(),
        format!("oci:{}", out.display()),
    );
    let args = [
        "build",
        "apko.yaml",
        "--offline",
        "--cache-dir",
        &cache,
        "--output",
        &out,
    ];
    measured(dir, Path::new(env!("CARGO_BIN_EXE_cosign-rebuild")), &args)
}

/// The child: one library build of `dir/apko.yaml` with `readers` package readers.
fn child_build(dir: &Path, readers: usize) {
    let loaded = Loader::new()
        .load(dir.join("apko.yaml"))
        .expect("load apko.yaml");
    let mut request = Request::new("apko.yaml", loaded.configuration);
    request.settings.working_dir = dir.to_owned();
    request.settings.fetch.cache_dir = Some(dir.join("cache"));
    request.readers = Some(readers);
    let built = pipeline::build(&request, &|_| {}).expect("build");
    built.write_layout(&dir.join("out")).expect("layout");
    // For the parent's note: what the readers were charged at once against their byte budget.
    std::fs::write(dir.join("read-peak"), built.read_peak.to_string()).expect("read peak");
}

fn row(what: &str, bytes: u64, (rss, wall, cpu): (f64, Duration, Duration)) {
    println!(
        "| {what} | {:.0} MB | {rss:.0} MB | {:.1} s | {:.1} s |",
        bytes as f64 / 1e6,
        wall.as_secs_f64(),
        cpu.as_secs_f64()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--child-build") {
        let dir = PathBuf::from(args.get(at + 1).expect("DIR"));
        let readers = args.get(at + 2).and_then(|r| r.parse().ok()).unwrap_or(8);
        child_build(&dir, readers);
        return;
    }
    if !args.iter().any(|arg| arg == "--bench") {
        return;
    }
    let image_mb: usize = args
        .iter()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(1_000);
    println!(
        "\nPeak RSS of whole builds (load average at start {})\n",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .next()
            .unwrap_or("?")
    );
    println!("| build | packages (.apk bytes) | peak RSS (target ≤ 64 MB) | wall | CPU |");
    println!("|---|---:|---:|---:|---:|");

    let big = tempfile::tempdir().expect("temp");
    let bytes = repository(big.path(), std::iter::once(big_package()));
    row(
        "one package holding one 160 MB file (`cosign-rebuild build`)",
        bytes,
        cli_build(big.path()),
    );

    let eight = tempfile::tempdir().expect("temp");
    let small = (0..7).map(|at| {
        let path = format!("usr/share/small-{at}.txt");
        one_file_package(&format!("small-{at}"), &path, &text(1_000_000, at))
    });
    let bytes = repository(eight.path(), std::iter::once(big_package()).chain(small));
    let this = std::env::current_exe().expect("this bench");
    let dir = eight.path().display().to_string();
    row(
        "the 160 MB package + 7 small ones, 8 package readers (library build)",
        bytes,
        measured(eight.path(), &this, &["--child-build", &dir, "8"]),
    );
    let read_peak: u64 = std::fs::read_to_string(eight.path().join("read-peak"))
        .ok()
        .and_then(|text| text.parse().ok())
        .expect("the child's read peak");

    let image = tempfile::tempdir().expect("temp");
    let per_package = image_mb * 1_000_000 / IMAGE_PACKAGES;
    let parts = (0..IMAGE_PACKAGES).map(|at| {
        let path = format!("usr/share/part-{at:02}.txt");
        one_file_package(
            &format!("part-{at:02}"),
            &path,
            &text(per_package, (at * per_package) as u64),
        )
    });
    let bytes = repository(image.path(), parts);
    row(
        &format!("an image of {image_mb} MB in {IMAGE_PACKAGES} packages (`cosign-rebuild build`)"),
        bytes,
        cli_build(image.path()),
    );
    println!(
        "\nThe 8 readers' most bytes charged at once: {:.1} MiB of their {} MiB budget (one \
         opening charge is {} MiB: a {} MiB window and four control limits).",
        read_peak as f64 / f64::from(1 << 20),
        pipeline::READ_BUDGET >> 20,
        (pipeline::READER_WINDOW + 4 * receipts::apk::archive::Limits::default().control) >> 20,
        pipeline::READER_WINDOW >> 20,
    );
}

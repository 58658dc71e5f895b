//! `cargo bench --bench lock`: locking a 50-package configuration over the real Alpine 3.16
//! x86_64 index and over a synthetic 50,000-package repository made with `apk::writer`, each
//! against the floor of merely reading, gunzipping and signature-checking the same index; and
//! `oras-lock show-packages` of apko's alpine-316-dev case as a whole process against the floor
//! `gzip -dc APKINDEX.tar.gz | sha1sum` (`-- show-packages` runs only that).
//!
//! Not for: correctness (tests/lock.rs). Issue 3 item 8: locking within twice the floor;
//! `show-packages` within half of apko's ~0.06 s. Locking here is `Locker::open` (key, index
//! fetch from a local repository, signature check, parse) + `locked_configuration` (resolution,
//! unification) + encoding the locked configuration, i.e. `oras-lock CONFIG` without process
//! start. The lock file row adds fetching and verifying every resolved package.
//!
//! Prints markdown tables of median and minimum wall times. Under `cargo test` (no `--bench`
//! argument) it does nothing.

#[path = "cpu.rs"]
mod cpu;
use std::hint::black_box;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use receipts::apk::keyring::Keyring;
use receipts::apk::signed;
use receipts::apk::writer::{self, PackageSigning, SigningKey};
use receipts::lock::{Locker, Settings, output};

#[path = "alpine_world.rs"]
mod alpine_world;
#[path = "timing.rs"]
mod timing;
use alpine_world::WORLD;
use timing::{Timing, load_average, ratio_row, row, summary, testdata};

const SYNTHETIC_PACKAGES: usize = 50_000;
const ALPINE_KEY: &str = "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub";

fn measure<T>(runs: usize, mut f: impl FnMut() -> T) -> Timing {
    black_box(f());
    let cpu_start = cpu::cpu_time(true);
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    let cpu = cpu::cpu_time(true).saturating_sub(cpu_start) / runs as u32;
    times.sort();
    Timing {
        median: times[runs / 2],
        min: times[0],
        cpu,
    }
}

fn header(first: &str) {
    println!("| {first} | median | min | CPU per run |");
    println!("|---|---|---|---|");
}

/// The floor: read the index file, gunzip every member, check its signature.
fn floor(index: &Path, keyring: &Keyring) -> (usize, signed::Verified) {
    let bytes = std::fs::read(index).expect("read index");
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes.as_slice())
        .read_to_end(&mut text)
        .expect("gunzip");
    let verified = signed::verify(&bytes, keyring, "bench").expect("signature");
    (text.len(), verified)
}

fn write_config(dir: &Path, key: &str, packages: &[String]) {
    let yaml = format!(
        "contents:\n  keyring: [./{key}]\n  repositories: [./repo]\n  packages: [{}]\narchs: [x86_64]\n",
        packages.join(", ")
    );
    std::fs::write(dir.join("apko.yaml"), yaml).expect("write apko.yaml");
}

fn settings(dir: &Path) -> Settings {
    Settings {
        working_dir: dir.to_owned(),
        ..Settings::default()
    }
}

fn lock_once(dir: &Path) -> Vec<u8> {
    let locker = Locker::open("apko.yaml", &settings(dir)).expect("open");
    let locked = locker.locked_configuration().expect("lock");
    output::encode(&locked.index, output::Format::Json).expect("encode")
}

/// Times floor, open and the whole lock over the repository in `dir`; returns the lock row.
fn lock_table(title: &str, dir: &Path, keyring: &Keyring, runs: usize) {
    let index = dir.join("repo/x86_64/APKINDEX.tar.gz");
    let size = std::fs::metadata(&index).expect("index").len();
    let locker = Locker::open("apko.yaml", &settings(dir)).expect("open");
    let resolved = locker
        .resolve(receipts::lock::Scope::Together)
        .expect("resolve");
    let installed = resolved.first().map_or(0, |r| r.packages.len());
    let pinned = locker
        .locked_configuration()
        .expect("lock")
        .index
        .contents
        .packages
        .len();
    drop(resolved);
    println!(
        "\n{title}: APKINDEX.tar.gz {size} bytes; 50 requested names -> {installed} packages, {pinned} pins; {runs} runs\n"
    );
    header("stage");
    let floor_time = measure(runs, || floor(&index, keyring));
    row(
        "(a) floor: read + gunzip + signature check of the index",
        floor_time,
    );
    let open = measure(runs, || {
        Locker::open("apko.yaml", &settings(dir)).expect("open")
    });
    row(
        "&nbsp;&nbsp;`Locker::open` (config, key, index: verify + parse)",
        open,
    );
    let resolve = measure(runs, || locker.locked_configuration().expect("lock"));
    row(
        "&nbsp;&nbsp;`locked_configuration` (resolve + unify)",
        resolve,
    );
    let lock = measure(runs, || lock_once(dir));
    row("(b) lock: open + resolve + unify + encode", lock);
    ratio_row("(b) / (a) (target <= 2)", lock, floor_time);
}

fn alpine_316(dir: &Path) -> Keyring {
    let key = testdata(&format!(
        "postmarketOS-gitlab-mirror/pmbootstrap/pmb/data/keys/{ALPINE_KEY}"
    ));
    std::fs::create_dir_all(dir.join("repo/x86_64")).expect("repo dir");
    std::os::unix::fs::symlink(
        testdata("chainguard-dev/apko/pkg/apk/apk/testdata/alpine-316/APKINDEX.tar.gz"),
        dir.join("repo/x86_64/APKINDEX.tar.gz"),
    )
    .expect("link index");
    std::fs::copy(&key, dir.join(ALPINE_KEY)).expect("copy key");
    Keyring::from_paths(&[key]).expect("keyring")
}

fn synthetic(dir: &Path) -> (Keyring, Duration) {
    let key_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/repo/keys");
    let pem = std::fs::read_to_string(key_dir.join("receipts-example.rsa")).expect("key");
    let key = SigningKey::from_pem("receipts-example.rsa.pub", &pem).expect("signing key");
    let start = Instant::now();
    let specs = writer::synthetic_packages(SYNTHETIC_PACKAGES, 7, "x86_64");
    let repository = writer::build_repository(&specs, "synthetic", &key, PackageSigning::Unsigned)
        .expect("build");
    writer::write_repository(&repository, &dir.join("repo/x86_64")).expect("write");
    let built = start.elapsed();
    std::fs::copy(
        key_dir.join("receipts-example.rsa.pub"),
        dir.join("receipts-example.rsa.pub"),
    )
    .expect("copy key");
    let keyring = Keyring::from_paths(&[key_dir.join("receipts-example.rsa.pub")]).expect("key");
    (keyring, built)
}

/// 50 names spread over the synthetic repository whose dependency closures are small.
///
/// The generator's random graph has a giant component: a root inside it pulls in most of the
/// 50,000 packages, and apko's walk (reproduced by the solver) re-lists a package's descendants
/// at every level, so it is quadratic in the depth of such a closure. A release configuration
/// locks tens to hundreds of packages, so the roots are chosen with closures of at most
/// `MOST_PER_ROOT` names (by name, over every version's dependencies).
fn synthetic_world(specs: &[writer::PackageSpec]) -> Vec<String> {
    const MOST_PER_ROOT: usize = 12;
    let mut edges: std::collections::HashMap<&str, Vec<String>> = Default::default();
    for spec in specs {
        let targets = spec.package.dependencies.iter().map(|dependency| {
            let name = dependency
                .split(['>', '=', '<', '~'])
                .next()
                .unwrap_or(dependency);
            match name.strip_prefix("so:lib") {
                Some(rest) => rest.trim_end_matches(".so.1").to_owned(),
                None => name.to_owned(),
            }
        });
        edges
            .entry(spec.package.name.as_str())
            .or_default()
            .extend(targets);
    }
    let closure = |root: &str| -> usize {
        let mut seen = std::collections::HashSet::from([root.to_owned()]);
        let mut queue = vec![root.to_owned()];
        while let Some(name) = queue.pop() {
            for next in edges.get(name.as_str()).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    if seen.len() > MOST_PER_ROOT {
                        return seen.len();
                    }
                    queue.push(next.clone());
                }
            }
        }
        seen.len()
    };
    let step = specs.len() / 1000;
    let mut world: Vec<String> = Vec::new();
    for spec in specs.iter().step_by(step.max(1)) {
        let name = &spec.package.name;
        if world.len() < 50 && !world.iter().any(|w| w == name) && closure(name) <= MOST_PER_ROOT {
            world.push(name.to_string());
        }
    }
    assert_eq!(world.len(), 50, "not enough small roots");
    world
}

/// CPU time (user + system) of every child process waited for so far, to the microsecond.
fn children_cpu() -> Duration {
    // SAFETY: an all-zero rusage is a valid value for the call to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid rusage for the call to fill in.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// `oras-lock show-packages` of apko's alpine-316-dev case (a 25-name world) as a whole process,
/// against the floor of `gzip -dc APKINDEX.tar.gz | sha1sum` as a whole process (issue 18, item
/// 3: at most 1.2×); runs alternate so both see the same load. Wall times and the CPU time of
/// each command's processes (all of them: the shell, gzip and sha1sum for the floor).
fn show_packages_process(runs: usize) {
    let dir = tempfile::tempdir().expect("temp");
    alpine_316(dir.path());
    std::fs::copy(
        testdata("derived/apko/resolve/alpine-316-dev/apko.yaml"),
        dir.path().join("apko.yaml"),
    )
    .expect("copy config");
    let binary = env!("CARGO_BIN_EXE_oras-lock");
    let timed = |command: &mut Command| {
        let cpu = children_cpu();
        let start = Instant::now();
        let output = command
            .current_dir(dir.path())
            .output()
            .expect("run a command");
        let elapsed = start.elapsed();
        assert!(output.status.success(), "{command:?} failed");
        (elapsed, children_cpu().saturating_sub(cpu))
    };
    let load_before = load_average();
    let (mut floor, mut ours) = (Vec::new(), Vec::new());
    for _ in 0..=runs {
        floor.push(timed(
            Command::new("sh").args(["-c", "gzip -dc repo/x86_64/APKINDEX.tar.gz | sha1sum"]),
        ));
        ours.push(timed(
            Command::new(binary).args(["show-packages", "apko.yaml"]),
        ));
    }
    // The first pair warms the page cache and the binaries.
    floor.remove(0);
    ours.remove(0);
    let (floor, ours) = (summary(floor), summary(ours));
    println!(
        "\n`oras-lock show-packages` of alpine-316-dev (25 names -> 133 packages), whole process, {runs} alternated runs; load average {load_before} before, {} after\n",
        load_average()
    );
    println!("| command | median | min | CPU (median) |");
    println!("|---|---|---|---|");
    row("floor: `gzip -dc APKINDEX.tar.gz \\| sha1sum`", floor);
    row("`oras-lock show-packages apko.yaml`", ours);
    ratio_row("ratio (target <= 1.2)", ours, floor);
}

fn main() {
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    // `cargo bench --bench lock -- show-packages`: only the whole-process comparison.
    if std::env::args().any(|arg| arg == "show-packages") {
        show_packages_process(40);
        return;
    }
    let alpine = tempfile::tempdir().expect("temp");
    let keyring = alpine_316(alpine.path());
    let world: Vec<String> = WORLD.iter().map(|name| (*name).to_owned()).collect();
    write_config(alpine.path(), ALPINE_KEY, &world);
    lock_table(
        "Alpine 3.16 x86_64 (4,929 packages)",
        alpine.path(),
        &keyring,
        30,
    );

    let synthetic_dir = tempfile::tempdir().expect("temp");
    let (keyring, built) = synthetic(synthetic_dir.path());
    let world = synthetic_world(&writer::synthetic_packages(SYNTHETIC_PACKAGES, 7, "x86_64"));
    write_config(synthetic_dir.path(), "receipts-example.rsa.pub", &world);
    println!(
        "\n(synthetic repository of {SYNTHETIC_PACKAGES} packages built and written in {:.1} s)",
        built.as_secs_f64()
    );
    lock_table(
        "Synthetic x86_64 (50,000 packages, apk::writer)",
        synthetic_dir.path(),
        &keyring,
        10,
    );
    let locker = Locker::open("apko.yaml", &settings(synthetic_dir.path())).expect("open");
    let lockfile = measure(3, || locker.lock_file().expect("lock file"));
    let entries = locker
        .lock_file()
        .expect("lock file")
        .contents
        .packages
        .len();
    println!();
    header(&format!(
        "lock file of the synthetic configuration ({entries} packages)"
    ));
    row(
        "`Locker::lock_file` (resolve, fetch + verify every package)",
        lockfile,
    );

    show_packages_process(40);
}

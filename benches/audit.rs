//! `cargo bench --bench audit [-- MB [RUNS]]`: the audit (`rebuild::audit`, the library call)
//! of an image of real binaries published to a loopback registry, against the build of the same
//! configuration (issue 18: audit wall ≤ 1.15× build wall, peak RSS ≤ 64 MB) and the floor of
//! pulling, decompressing and hashing its published layers, in the same run.
//!
//! Setup: the content of `binaries.rs` (MB megabytes, default 231) in a signed local repository;
//! `cosign-rebuild build` pushes the image to Debian's `docker-registry` on a free loopback port
//! and writes the locked configuration; `generate-key-pair` and `attest` sign it as the
//! image-configuration attestation. The audit is `rebuild::audit` (resolve, verify with the
//! public key, rebuild from the predicate while the published layers are checked beside it,
//! compare), called by this bench re-run as a child process (`RECEIPTS_AUDIT_BENCH_CHILD`) under
//! `/usr/bin/time`, as in `benches/build.rs`, so its wall time, CPU and peak RSS are its own; the
//! packages come from the local repository on disk, so the download cache plays no part. Its
//! verdict must be `identical` from a single rebuild. `cosign-rebuild build` of the same
//! configuration into an OCI layout is timed the same way, alternating with the audits. The
//! floor is measured in this process over loopback HTTP: GET the index and each manifest, then
//! stream every layer blob through gunzip and SHA-256 (one thread).
//!
//! Prints a markdown table and the load average. Under `cargo test` (no `--bench` argument) it
//! does nothing.

#[path = "cpu.rs"]
mod cpu;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

#[path = "binaries.rs"]
mod binaries;
use binaries::{PACKAGES, SOURCES, make_repository, secs};

// The test launcher, shared as is; the bench uses only the plain registry, not the
// authentication and log helpers the tests need.
#[allow(dead_code)]
#[path = "../tests/support/registry.rs"]
mod registry;

const PASSWORD: &str = "audit-bench";
/// Set in the child that runs one library audit: `IMAGE`, the public key and the cache, one a
/// line.
const CHILD: &str = "RECEIPTS_AUDIT_BENCH_CHILD";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// `cosign-rebuild ARGS` in `dir`; panics with its output unless it exits 0.
fn run(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
        .current_dir(dir)
        .args(args)
        .env("COSIGN_PASSWORD", PASSWORD)
        .env_remove("SOURCE_DATE_EPOCH")
        .env("DOCKER_CONFIG", "/nonexistent")
        .output()
        .expect("run cosign-rebuild");
    assert!(
        output.status.success(),
        "cosign-rebuild {args:?}: {:?}\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `PROGRAM ARGS` in `dir` under `/usr/bin/time` (see `benches/build.rs` for why not a direct
/// child), with `env` set. Returns the wall time, peak RSS (kB), CPU time and the output.
fn timed_program(
    program: &Path,
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Duration, u64, Duration, Output) {
    let usage = tempfile::NamedTempFile::new().expect("usage file");
    let start = Instant::now();
    let output = Command::new("/usr/bin/time")
        .arg("-o")
        .arg(usage.path())
        .args(["-f", "%M %U %S"])
        .arg(program)
        .current_dir(dir)
        .args(args)
        .envs(env.iter().copied())
        .env_remove("SOURCE_DATE_EPOCH")
        .env("DOCKER_CONFIG", "/nonexistent")
        .output()
        .expect("run under /usr/bin/time (apt-get install time)");
    let elapsed = start.elapsed();
    let usage = std::fs::read_to_string(usage.path()).expect("usage");
    let fields: Vec<f64> = usage
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    let (peak_kb, cpu) = match fields[..] {
        [peak, user, system] => (peak as u64, Duration::from_secs_f64(user + system)),
        _ => panic!("unexpected /usr/bin/time output {usage:?}"),
    };
    (elapsed, peak_kb, cpu, output)
}

/// `cosign-rebuild ARGS` in `dir` under `/usr/bin/time`.
fn timed(dir: &Path, args: &[&str]) -> (Duration, u64, Duration, Output) {
    let binary = Path::new(env!("CARGO_BIN_EXE_cosign-rebuild"));
    timed_program(binary, dir, args, &[])
}

/// One library audit, in a child (this bench again) under `/usr/bin/time`; asserts it verified,
/// rebuilt once (no second build pinned to the published creation time) and found the image
/// identical. Returns what [`timed`] does, with the report.
fn audit_once(dir: &Path, image: &str, public: &str) -> (Duration, u64, Duration, String) {
    let cache = dir.join("cache").display().to_string();
    let this = std::env::current_exe().expect("this bench");
    let spec = format!("{image}\n{public}\n{cache}");
    let (elapsed, peak_kb, cpu, output) =
        timed_program(&this, dir, &["--bench"], &[(CHILD, &spec)]);
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(0),
        "the audit must reproduce the image:\n{report}\n{stderr}"
    );
    assert!(report.starts_with("identical: "), "{report}");
    assert_eq!(stderr.matches(": rebuilt image ").count(), 1, "{stderr}");
    // Where the time went: verified, rebuilt (the layers were checked meanwhile), done.
    let phases: Vec<&str> = stderr
        .lines()
        .filter_map(|line| line.strip_prefix("phase "))
        .collect();
    eprintln!("audit phases (s): {}", phases.join(", "));
    (elapsed, peak_kb, cpu, report)
}

/// One `cosign-rebuild build` of the same configuration into a fresh OCI layout, for reference:
/// the rebuild inside the audit without verification and comparison.
fn build_once(dir: &Path) -> (Duration, u64, Duration) {
    let out = tempfile::tempdir().expect("layout dir");
    let cache = dir.join("cache").display().to_string();
    let layout = format!("oci:{}", out.path().join("layout").display());
    let (elapsed, peak_kb, cpu, output) = timed(
        dir,
        &[
            "build",
            "apko.yaml",
            "--offline",
            "--cache-dir",
            &cache,
            "--output",
            &layout,
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (elapsed, peak_kb, cpu)
}

/// GET `url` with `accept`, as JSON.
fn get_json(client: &reqwest::blocking::Client, url: &str, accept: &str) -> serde_json::Value {
    let response = client
        .get(url)
        .header("Accept", accept)
        .send()
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    response.json().unwrap_or_else(|e| panic!("{url}: {e}"))
}

/// The floor: every layer of `repository:tag`, pulled, gunzipped and hashed as one stream each.
/// Returns (layers, compressed bytes, decompressed bytes).
fn pull_layers(host: &str, repository: &str, tag: &str) -> (usize, u64, u64) {
    let client = reqwest::blocking::Client::new();
    let base = format!("http://{host}/v2/{repository}");
    let index = get_json(&client, &format!("{base}/manifests/{tag}"), INDEX);
    let (mut layers, mut compressed, mut decompressed) = (0, 0, 0);
    for manifest in index["manifests"].as_array().expect("index manifests") {
        let digest = manifest["digest"].as_str().expect("manifest digest");
        let manifest = get_json(&client, &format!("{base}/manifests/{digest}"), MANIFEST);
        for layer in manifest["layers"].as_array().expect("layers") {
            let digest = layer["digest"].as_str().expect("layer digest");
            let url = format!("{base}/blobs/{digest}");
            let response = client
                .get(&url)
                .send()
                .and_then(|r| r.error_for_status())
                .unwrap_or_else(|e| panic!("GET {url}: {e}"));
            let mut counted = Counted {
                inner: response,
                bytes: 0,
            };
            let mut decoder = flate2::read::MultiGzDecoder::new(&mut counted);
            let mut hasher = Sha256::new();
            let mut buffer = vec![0; 256 * 1024];
            loop {
                let n = decoder.read(&mut buffer).expect("gunzip layer");
                if n == 0 {
                    break;
                }
                hasher.update(&buffer[..n]);
                decompressed += n as u64;
            }
            std::hint::black_box(hasher.finalize());
            compressed += counted.bytes;
            layers += 1;
        }
    }
    (layers, compressed, decompressed)
}

/// A reader that counts the bytes it hands out.
struct Counted<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

/// The child: one `rebuild::audit` of the image `spec` names, verified with its public key;
/// the report on stdout, the rebuilt images on stderr (one line each).
fn child(spec: &str) {
    use receipts::apk::repository::{self, Network};
    use receipts::attest::verify::{Expected, Policy};
    use receipts::rebuild::audit::{Event, Settings, Verification};
    let [image, public, cache] = spec.lines().collect::<Vec<_>>()[..] else {
        panic!("{CHILD}: expected IMAGE, KEY and CACHE lines, not {spec:?}");
    };
    let pem = std::fs::read(public).expect("public key");
    let policy = Policy {
        expected: Expected::Key(receipts::attest::key::load_public_key(&pem).expect("key")),
        ignore_tlog: true,
        ignore_sct: false,
    };
    let verification = Verification::Policy {
        policy: &policy,
        trusted_root: None,
        key_name: Some(public),
    };
    let settings = Settings {
        fetch: repository::Settings {
            cache_dir: Some(cache.into()),
            network: Network::Offline,
        },
        scratch_dir: Some(Path::new(cache).join("tmp")),
        ..Settings::default()
    };
    let reference = receipts::oci::Reference::parse(image).expect("image reference");
    let start = Instant::now();
    let audited =
        receipts::rebuild::audit(image, &reference, &verification, &settings, &|e| match e {
            Event::Build(receipts::build::pipeline::Progress::Image { arch, digest, .. }) => {
                eprintln!("{arch}: rebuilt image {digest}");
                eprintln!("phase rebuilt {:.2}", start.elapsed().as_secs_f64());
            }
            Event::Rebuilding { .. } => {
                eprintln!("phase verified {:.2}", start.elapsed().as_secs_f64());
            }
            _ => {}
        })
        .unwrap_or_else(|e| panic!("audit of {image}: {e:?}"));
    eprintln!("phase done {:.2}", start.elapsed().as_secs_f64());
    print!("{}", audited.report.to_text());
}

/// `/proc/loadavg`'s first three fields.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        return child(&spec);
    }
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|arg| arg == "--bench") {
        return;
    }
    let numbers: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let megabytes = numbers.first().copied().unwrap_or(231);
    let runs = numbers.get(1).copied().unwrap_or(3).max(1) as usize;

    let temp = tempfile::tempdir().expect("temp");
    let dir = temp.path();
    let start = Instant::now();
    let (content, package_bytes) = make_repository(dir, megabytes);
    eprintln!(
        "repository: {content} bytes of content in {PACKAGES} packages ({package_bytes} bytes), made in {:.1} s",
        start.elapsed().as_secs_f64()
    );

    let server = registry::Registry::start();
    let (repository, tag) = ("bench/binaries", "v1");
    let image = format!("{}:{tag}", server.repository(repository));
    let cache = dir.join("cache").display().to_string();
    let predicate = dir.join("predicate.json").display().to_string();
    let start = Instant::now();
    let built = run(
        dir,
        &[
            "build",
            "apko.yaml",
            "--offline",
            "--cache-dir",
            &cache,
            "--output",
            &image,
            "--locked-out",
            &predicate,
        ],
    );
    let digest = String::from_utf8_lossy(&built.stdout).trim().to_owned();
    eprintln!(
        "built and pushed {image} ({digest}) in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    run(
        dir,
        &["generate-key-pair", "--output-key-prefix", "release"],
    );
    run(
        dir,
        &[
            "attest",
            &image,
            "--predicate",
            &predicate,
            "--key",
            "release.key",
            "--tlog-upload=false",
        ],
    );

    // Alternated, so that a change of load weighs on both alike.
    let load_before = load();
    let mut audits = Vec::new();
    let (mut peak_kb, mut audit_cpu) = (0, Duration::MAX);
    let mut report = String::new();
    let mut builds = Vec::new();
    let (mut build_peak_kb, mut build_cpu) = (0, Duration::MAX);
    let public = dir.join("release.pub").display().to_string();
    for _ in 0..runs {
        let (time, peak, cpu, printed) = audit_once(dir, &image, &public);
        audits.push(time);
        peak_kb = peak_kb.max(peak);
        audit_cpu = audit_cpu.min(cpu);
        report = printed;
        let (time, peak, cpu) = build_once(dir);
        builds.push(time);
        build_peak_kb = build_peak_kb.max(peak);
        build_cpu = build_cpu.min(cpu);
    }
    eprintln!("{report}");

    let mut floors = Vec::new();
    let mut floor_cpu = Duration::MAX;
    let mut sizes = (0, 0, 0);
    for _ in 0..runs {
        let cpu = cpu::cpu_time(false);
        let start = Instant::now();
        sizes = pull_layers(server.host(), repository, tag);
        floors.push(start.elapsed());
        floor_cpu = floor_cpu.min(cpu::cpu_time(false).saturating_sub(cpu));
    }
    let pairs: Vec<f64> = audits
        .iter()
        .zip(&builds)
        .map(|(a, b)| a.as_secs_f64() / b.as_secs_f64().max(1e-9))
        .collect();
    audits.sort();
    builds.sort();
    floors.sort();
    let (audit, build, floor) = (audits[0], builds[0], floors[0]);
    let (layers, compressed, decompressed) = sizes;

    println!(
        "\n{:.0} MB of binaries from {} ({PACKAGES} packages, {:.0} MB) -> {layers} layer(s), gzip {:.0} MB, tar {:.0} MB; index {digest}; best of {runs}\n",
        content as f64 / 1e6,
        SOURCES.join(", "),
        package_bytes as f64 / 1e6,
        compressed as f64 / 1e6,
        decompressed as f64 / 1e6,
    );
    println!("| | wall (best) | CPU (least) | peak RSS |");
    println!("|---|---:|---:|---:|");
    println!(
        "| floor: GET the layers over loopback, gunzip, SHA-256 (1 thread) | {} | {} | |",
        secs(floor),
        secs(floor_cpu)
    );
    println!(
        "| `rebuild::audit` (whole process: verify, rebuild with the layers checked beside it, compare) | {} | {} | {:.0} MB |",
        secs(audit),
        secs(audit_cpu),
        peak_kb as f64 / 1024.0
    );
    println!(
        "| `cosign-rebuild build` of the same configuration to an OCI layout | {} | {} | {:.0} MB |",
        secs(build),
        secs(build_cpu),
        build_peak_kb as f64 / 1024.0
    );
    println!(
        "| audit / build (target ≤ 1.15 wall) | {:.2} | {:.2} | |",
        audit.as_secs_f64() / build.as_secs_f64().max(1e-9),
        audit_cpu.as_secs_f64() / build_cpu.as_secs_f64().max(1e-9)
    );
    println!(
        "| audit / floor | {:.2} | {:.2} | |",
        audit.as_secs_f64() / floor.as_secs_f64().max(1e-9),
        audit_cpu.as_secs_f64() / floor_cpu.as_secs_f64().max(1e-9)
    );
    let mut sorted = pairs.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let pairs: Vec<String> = pairs.iter().map(|r| format!("{r:.2}")).collect();
    println!(
        "\naudit / build wall, run by run: {} (median {median:.2}); load average {load_before} before, {} after",
        pairs.join(", "),
        load()
    );
}

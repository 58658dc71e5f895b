//! `cargo bench --bench build [-- MB [RUNS]]`: `cosign-rebuild build` of an image of real
//! binaries against the floor of decompressing its packages and compressing its layer, in the
//! same run; the build's peak RSS.
//!
//! The content: regular files and symbolic links from `/usr/lib`, `/usr/bin` and `/usr/libexec`
//! (each directory in sorted order) until MB megabytes (default 231, the size of the apko
//! comparison image), split into 11 packages by `apk::writer` into a signed local repository.
//! The build is the whole process (`cosign-rebuild build apko.yaml --offline --output oci:DIR`,
//! from a cold, empty download cache), run as a child: its peak RSS is the children's
//! `ru_maxrss`. The floor is measured in this process: gunzip every package (one thread), then
//! compress the built layer's tar with `compress::Writer` (apko's settings, all cores).
//!
//! For scale (issue 5 item 7): apko builds a 231 MB image of real binaries from 66 MB of packages
//! (11 packages) in 3.3 s cold on 2 cores with 50 MB RSS. Targets: faster than that, RSS <= 64 MB.
//! Prints a markdown table. Under `cargo test` (no `--bench` argument) it does nothing.

#[path = "cpu.rs"]
mod cpu;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use receipts::compress::{Options, Writer};

#[path = "binaries.rs"]
mod binaries;
use binaries::{PACKAGES, SOURCES, make_repository, secs};

/// One build into a fresh layout, run under `/usr/bin/time`: a child forked from this process
/// would report this process's resident pages as its own peak, so the build is the grandchild
/// of a small process instead. Returns the wall time, peak RSS (kB), CPU time, the layout and
/// the printed digest.
fn build_once(dir: &Path) -> (Duration, u64, Duration, tempfile::TempDir, String) {
    let out = tempfile::tempdir().expect("out");
    let cache = tempfile::tempdir().expect("cache");
    let usage = out.path().join("usage");
    let start = Instant::now();
    let output = Command::new("/usr/bin/time")
        .arg("-o")
        .arg(&usage)
        .args(["-f", "%M %U %S", env!("CARGO_BIN_EXE_cosign-rebuild")])
        .current_dir(dir)
        .args(["build", "apko.yaml", "--offline", "--cache-dir"])
        .arg(cache.path())
        .arg("--output")
        .arg(format!("oci:{}", out.path().join("layout").display()))
        .env("SOURCE_DATE_EPOCH", "0")
        .output()
        .expect("run cosign-rebuild under /usr/bin/time (apt-get install time)");
    let elapsed = start.elapsed();
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
    let (peak_kb, cpu) = match fields[..] {
        [peak, user, system] => (peak as u64, Duration::from_secs_f64(user + system)),
        _ => panic!("unexpected /usr/bin/time output {usage:?}"),
    };
    let digest = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    (elapsed, peak_kb, cpu, out, digest)
}

/// The single layer blob of the built layout.
fn layer_blob(layout: &Path) -> PathBuf {
    let blobs = layout.join("blobs/sha256");
    std::fs::read_dir(&blobs)
        .expect("blobs")
        .flatten()
        .map(|e| e.path())
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .expect("a layer")
}

fn gunzip_all(repo: &Path) -> u64 {
    let mut total = 0;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(repo)
        .expect("repo")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "apk"))
        .collect();
    paths.sort();
    for path in paths {
        let bytes = std::fs::read(&path).expect("read package");
        let mut decoder = flate2::read::MultiGzDecoder::new(&bytes[..]);
        total += std::io::copy(&mut decoder, &mut std::io::sink()).expect("gunzip");
    }
    total
}

fn compress(tar: &[u8]) -> u64 {
    let mut writer = Writer::new(std::io::sink(), Options::apko());
    for chunk in tar.chunks(64 * 1024) {
        writer.write_all(chunk).expect("compress");
    }
    writer.finish().expect("finish").size
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|arg| arg == "--bench") {
        return;
    }
    let numbers: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let megabytes = numbers.first().copied().unwrap_or(231);
    let runs = numbers.get(1).copied().unwrap_or(3).max(1) as usize;

    // RECEIPTS_BENCH_DIR keeps the repository for profiling the build by hand.
    let temp = tempfile::tempdir().expect("temp");
    let dir = std::env::var_os("RECEIPTS_BENCH_DIR")
        .map_or_else(|| temp.path().to_path_buf(), PathBuf::from);
    let start = Instant::now();
    let (content, package_bytes) = make_repository(&dir, megabytes);
    eprintln!(
        "repository: {content} bytes of content in {PACKAGES} packages ({package_bytes} bytes), made in {:.1} s",
        start.elapsed().as_secs_f64()
    );

    let mut builds = Vec::new();
    let mut digest = String::new();
    let mut layout = None;
    let (mut peak_kb, mut build_cpu) = (0, Duration::MAX);
    for _ in 0..runs {
        let (time, peak, cpu, out, printed) = build_once(&dir);
        builds.push(time);
        peak_kb = peak_kb.max(peak);
        build_cpu = build_cpu.min(cpu);
        digest = printed;
        layout = Some(out);
    }
    let layout = layout.expect("a build");
    let blob = layer_blob(&layout.path().join("layout"));
    let layer_size = std::fs::metadata(&blob).map(|m| m.len()).unwrap_or(0);
    let mut tar = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(&blob).expect("layer"))
        .read_to_end(&mut tar)
        .expect("gunzip layer");

    let mut gunzips = Vec::new();
    let mut compressions = Vec::new();
    let mut floor_cpu = Duration::MAX;
    for _ in 0..runs {
        let cpu = cpu::cpu_time(false);
        let start = Instant::now();
        std::hint::black_box(gunzip_all(&dir.join("repo/x86_64")));
        gunzips.push(start.elapsed());
        let start = Instant::now();
        std::hint::black_box(compress(&tar));
        compressions.push(start.elapsed());
        floor_cpu = floor_cpu.min(cpu::cpu_time(false).saturating_sub(cpu));
    }
    builds.sort();
    gunzips.sort();
    compressions.sort();
    let (build, gunzip, compressing) = (builds[0], gunzips[0], compressions[0]);
    let floor = gunzip + compressing;

    println!(
        "\n{:.0} MB of binaries from {} ({PACKAGES} packages, {:.0} MB) -> layer tar {:.0} MB, gzip {:.0} MB; index {digest}; best of {runs}\n",
        content as f64 / 1e6,
        SOURCES.join(", "),
        package_bytes as f64 / 1e6,
        tar.len() as f64 / 1e6,
        layer_size as f64 / 1e6,
    );
    println!("| stage | wall (best) | note |");
    println!("|---|---:|---|");
    println!(
        "| floor: gunzip the packages (1 thread) | {} | |",
        secs(gunzip)
    );
    println!(
        "| floor: compress the layer tar (`compress::Writer`, all cores) | {} | |",
        secs(compressing)
    );
    println!(
        "| floor total | {} | CPU {:.2} s (least) |",
        secs(floor),
        floor_cpu.as_secs_f64()
    );
    println!(
        "| `cosign-rebuild build` (whole process, cold cache) | {} | CPU {:.2} s (least); peak RSS {:.0} MB |",
        secs(build),
        build_cpu.as_secs_f64(),
        peak_kb as f64 / 1024.0
    );
    println!(
        "| build / floor | {:.2} | apko: 3.3 s, 50 MB RSS on 231 MB (target: faster, <= 64 MB) |",
        build.as_secs_f64() / floor.as_secs_f64().max(1e-9)
    );
}

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

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use receipts::apk::writer::{self, FileSpec, PackageSpec, SigningKey};
use receipts::compress::{Options, Writer};

const PACKAGES: usize = 11;
const SOURCES: [&str; 3] = ["/usr/lib", "/usr/bin", "/usr/libexec"];

/// Regular files and symlinks under `dir`, sorted by path, with their sizes.
fn collect(dir: &Path, out: &mut Vec<(PathBuf, u64)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let Ok(metadata) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if path.to_str().is_none() {
            continue;
        }
        let kind = metadata.file_type();
        if kind.is_dir() {
            collect(&path, out);
        } else if kind.is_symlink() {
            out.push((path, 0));
        } else if kind.is_file() && std::fs::File::open(&path).is_ok() {
            out.push((path, metadata.len()));
        }
    }
}

/// The files for `bytes` of content, in order.
fn corpus(bytes: u64) -> Vec<(PathBuf, u64)> {
    let mut all = Vec::new();
    for source in SOURCES {
        collect(Path::new(source), &mut all);
    }
    // Files that would overshoot are skipped, so the corpus ends close to `bytes`.
    let mut total = 0;
    all.into_iter()
        .filter(|(_, size)| {
            let keep = total + size <= bytes;
            if keep {
                total += size;
            }
            keep
        })
        .collect()
}

/// One package holding `files` (absolute paths) and their parent directories.
fn package_spec(name: &str, files: &[(PathBuf, u64)]) -> PackageSpec {
    let mut spec = PackageSpec::new(name, "1.0-r0", "x86_64");
    let mut dirs = std::collections::BTreeSet::new();
    for (path, _) in files {
        let relative = path.strip_prefix("/").unwrap_or(path);
        let mut parent = relative.parent();
        while let Some(dir) = parent.filter(|d| !d.as_os_str().is_empty()) {
            dirs.insert(dir.to_string_lossy().into_owned());
            parent = dir.parent();
        }
        let name = relative.to_string_lossy();
        let metadata = std::fs::symlink_metadata(path).expect("metadata");
        let entry = if metadata.file_type().is_symlink() {
            let target = std::fs::read_link(path).expect("link");
            FileSpec::symlink(&name, &target.to_string_lossy())
        } else {
            let mut entry = FileSpec::file(&name, &std::fs::read(path).expect("read file"));
            entry.mode = {
                use std::os::unix::fs::PermissionsExt as _;
                metadata.permissions().mode() & 0o777
            };
            entry
        };
        spec.files.push(entry);
    }
    spec.files
        .extend(dirs.iter().map(|dir| FileSpec::directory(dir)));
    spec
}

/// Writes the repository and `apko.yaml` into `dir`; returns (content bytes, package bytes).
fn make_repository(dir: &Path, megabytes: u64) -> (u64, u64) {
    let files = corpus(megabytes * 1_000_000);
    let content: u64 = files.iter().map(|(_, size)| size).sum();
    let key_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/repo/keys");
    let pem = std::fs::read_to_string(key_dir.join("receipts-example.rsa")).expect("key");
    let key = SigningKey::from_pem("receipts-example.rsa.pub", &pem).expect("signing key");
    let per_package = content / PACKAGES as u64 + 1;
    let mut chunks: Vec<Vec<(PathBuf, u64)>> = vec![Vec::new()];
    let mut in_chunk = 0;
    for file in files {
        if in_chunk >= per_package && chunks.len() < PACKAGES {
            chunks.push(Vec::new());
            in_chunk = 0;
        }
        in_chunk += file.1;
        if let Some(chunk) = chunks.last_mut() {
            chunk.push(file);
        }
    }
    let repo = dir.join("repo/x86_64");
    std::fs::create_dir_all(&repo).expect("repo dir");
    // Two at a time: each package's files are in memory while it is built.
    let numbered: Vec<(usize, &Vec<(PathBuf, u64)>)> = chunks.iter().enumerate().collect();
    let repo_dir = &repo;
    let built: Vec<writer::BuiltPackage> = std::thread::scope(|scope| {
        let mut built = Vec::new();
        for pair in numbered.chunks(2) {
            let handles: Vec<_> = pair
                .iter()
                .map(|&(at, files)| {
                    scope.spawn(move || {
                        let spec = package_spec(&format!("content-{at:02}"), files);
                        let package = writer::build_package(&spec, None).expect("package");
                        std::fs::write(repo_dir.join(package.package.filename()), &package.bytes)
                            .expect("write package");
                        writer::BuiltPackage {
                            bytes: Vec::new(),
                            package: package.package,
                        }
                    })
                })
                .collect();
            built.extend(handles.into_iter().map(|h| h.join().expect("builder")));
        }
        built
    });
    let records: Vec<_> = built.iter().map(|p| p.package.clone()).collect();
    let index = writer::build_index(&records, "bench", &key).expect("index");
    std::fs::write(repo.join("APKINDEX.tar.gz"), index).expect("write index");
    std::fs::copy(
        key_dir.join("receipts-example.rsa.pub"),
        dir.join("receipts-example.rsa.pub"),
    )
    .expect("copy key");
    let names: Vec<&str> = records.iter().map(|p| p.name.as_str()).collect();
    std::fs::write(
        dir.join("apko.yaml"),
        format!(
            "contents:\n  keyring: [./receipts-example.rsa.pub]\n  repositories: [./repo]\n  packages: [{}]\narchs: [x86_64]\n",
            names.join(", ")
        ),
    )
    .expect("write apko.yaml");
    let package_bytes = records.iter().map(|p| p.size).sum();
    (content, package_bytes)
}

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

/// CPU time of this process (all threads), from /proc (Linux; 10 ms ticks).
fn cpu_time() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let after = stat.rsplit_once(')')?.1.to_owned();
            let fields: Vec<u64> = after
                .split_whitespace()
                .skip(11)
                .take(2)
                .filter_map(|f| f.parse().ok())
                .collect();
            Some(fields.iter().sum::<u64>())
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
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
        let cpu = cpu_time();
        let start = Instant::now();
        std::hint::black_box(gunzip_all(&dir.join("repo/x86_64")));
        gunzips.push(start.elapsed());
        let start = Instant::now();
        std::hint::black_box(compress(&tar));
        compressions.push(start.elapsed());
        floor_cpu = floor_cpu.min(cpu_time().saturating_sub(cpu));
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

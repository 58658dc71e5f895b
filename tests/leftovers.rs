//! Nothing left behind (issues 13.4, 13.5, 17.4): `cosign-rebuild` run as the built binary and
//! interrupted with real signals at several points of a build and an audit — SIGINT and
//! SIGTERM leave no scratch file (in the scratch area, in `TMPDIR`, in the output) and an output
//! layout that is valid or absent; SIGKILL leaves only what the next run sweeps or `gc`
//! removes; a live run's files are never swept; building into a layout keeps its other tags
//! and attestations, so each still audits `identical`.
//!
//! The image is big enough to be caught in the act: one package per architecture holding a
//! 24 MB file, made by `apk::writer` once per test binary under `CARGO_TARGET_TMPDIR`.

mod kill;
mod tags;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use receipts::apk::writer::{self, FileSpec, PackageSpec, SigningKey};
use receipts::oci::layout::Layout;
use receipts::oci::reference::Selector;

const FILE_BYTES: usize = 24 << 20;

/// A directory with `apko.yaml` (both architectures), `repo/` and the key, built once.
pub fn big_repository() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("leftovers-repo");
        let done = dir.join("done");
        if done.exists() {
            return dir;
        }
        let key_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/repo/keys");
        let pem = std::fs::read_to_string(key_dir.join("receipts-example.rsa")).unwrap();
        let key = SigningKey::from_pem("receipts-example.rsa.pub", &pem).unwrap();
        for arch in ["x86_64", "aarch64"] {
            let mut spec = PackageSpec::new("bigfile", "1.0-r0", arch);
            spec.files.push(FileSpec::directory("usr"));
            spec.files.push(FileSpec::directory("usr/share"));
            spec.files.push(FileSpec::file(
                "usr/share/big.bin",
                &content(arch.len() as u64),
            ));
            let repository = writer::build_repository(
                &[spec],
                "leftovers",
                &key,
                writer::PackageSigning::Unsigned,
            )
            .unwrap();
            writer::write_repository(&repository, &dir.join("repo").join(arch)).unwrap();
        }
        std::fs::copy(
            key_dir.join("receipts-example.rsa.pub"),
            dir.join("receipts-example.rsa.pub"),
        )
        .unwrap();
        std::fs::write(
            dir.join("apko.yaml"),
            "contents:\n  keyring: [./receipts-example.rsa.pub]\n  repositories: [./repo]\n  \
             packages: [bigfile]\narchs: [x86_64, aarch64]\n",
        )
        .unwrap();
        std::fs::write(&done, b"").unwrap();
        dir
    })
}

/// Half-compressible bytes (16 symbols, scattered): slow enough to compress to be interrupted.
fn content(seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..FILE_BYTES)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            b"abcdefghijklmnop"[(state >> 60) as usize]
        })
        .collect()
}

/// One test's directories: the cache (scratch area `cache/tmp`), a private `TMPDIR`, and `out/`
/// holding nothing but the outputs.
pub struct Sandbox {
    pub root: tempfile::TempDir,
    /// Where commands run: the big repository, or the bundled example.
    pub cwd: PathBuf,
}

impl Sandbox {
    /// Commands run in the big repository.
    pub fn new() -> Self {
        Self::in_dir(big_repository())
    }

    /// Commands run in `examples/` (the small bundled example: quick to build and audit).
    pub fn example() -> Self {
        Self::in_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"))
    }

    fn in_dir(cwd: &Path) -> Self {
        let root = tempfile::tempdir().unwrap();
        for dir in ["cache", "tmp", "out"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        Sandbox {
            root,
            cwd: cwd.to_path_buf(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    pub fn area(&self) -> PathBuf {
        self.path("cache").join("tmp")
    }

    /// `cosign-rebuild ARGS…` in the sandbox's directory, `TMPDIR=tmp`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"));
        command
            .current_dir(&self.cwd)
            .args(args)
            .env("TMPDIR", self.path("tmp"))
            .env("COSIGN_PASSWORD", "leftovers")
            .env_remove("SOURCE_DATE_EPOCH");
        command
    }

    /// `--offline --cache-dir cache`.
    pub fn cache_args(&self) -> Vec<String> {
        let cache = self.path("cache").display().to_string();
        vec!["--offline".into(), "--cache-dir".into(), cache]
    }

    /// A build of the directory's `apko.yaml` into `output`.
    pub fn build(&self, output: &str, extra: &[&str]) -> Command {
        let cache = self.path("cache").display().to_string();
        let mut args = vec!["build", "apko.yaml", "--output", output];
        args.extend(["--offline", "--cache-dir", &cache]);
        args.extend(extra);
        self.command(&args)
    }

    /// Every path left in the scratch area, `TMPDIR`, and `out/` other than the layouts named.
    pub fn strays(&self, layouts: &[&str]) -> Vec<PathBuf> {
        let mut strays = entries(&self.area());
        strays.extend(entries(&self.path("tmp")));
        strays.extend(entries(&self.path("out")).into_iter().filter(|path| {
            !layouts
                .iter()
                .any(|name| path.file_name().is_some_and(|n| n == *name))
        }));
        for name in layouts {
            strays.extend(dot_files(&self.path("out").join(name)));
        }
        strays
    }
}

/// The paths in `dir`, sorted; none when it does not exist.
pub fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.sort();
    paths
}

/// Files and directories whose names start with a dot, anywhere under `dir`.
pub fn dot_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for path in entries(dir) {
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            found.push(path.clone());
        }
        if path.is_dir() {
            found.extend(dot_files(&path));
        }
    }
    found
}

/// Panics unless `dir` is absent or a layout whose every listed image is complete (manifests
/// hash to their digests, every blob present with its size). Returns whether it exists.
pub fn valid_or_absent(dir: &Path) -> bool {
    if !dir.exists() {
        return false;
    }
    let layout = Layout::open(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let index = layout.index().unwrap();
    let roots = match layout.shape().unwrap() {
        receipts::oci::layout::Shape::Image => vec![layout.resolve(&Selector::Default).unwrap()],
        receipts::oci::layout::Shape::Tagged => index.manifests,
    };
    for root in roots {
        layout
            .image_set(&root)
            .unwrap_or_else(|e| panic!("{}: {} incomplete: {e}", dir.display(), root.digest));
    }
    true
}

/// A child whose stderr is collected by a thread, so a test can wait for a progress line.
pub struct Running {
    pub child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Running {
    pub fn start(mut command: Command) -> Running {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cosign-rebuild starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut text = sink.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        Running { child, stderr }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Polls `reached` until it holds (true) or the process ends first (false).
    pub fn wait_for(&mut self, reached: impl Fn(&Running) -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if reached(self) {
                return true;
            }
            if self.child.try_wait().unwrap().is_some() {
                return false;
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        panic!("neither the point nor the end came:\n{}", self.stderr());
    }

    pub fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).unwrap();
        // SAFETY: kill sends a signal to our own child; it touches no memory.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }

    pub fn finish(mut self) -> (ExitStatus, String) {
        let status = self.child.wait().unwrap();
        // The reader thread ends with the pipe; give it a moment to take the last lines.
        std::thread::sleep(Duration::from_millis(50));
        (status, self.stderr())
    }
}

/// Whether any entry of `dir` has a name starting with `prefix`.
pub fn has_entry(dir: &Path, prefix: &str) -> bool {
    entries(dir).iter().any(|path| {
        path.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
    })
}

/// A successful run's stdout, or a panic with its stderr.
pub fn succeed(command: &mut Command) -> String {
    let output = command.output().expect("cosign-rebuild runs");
    assert!(
        output.status.success(),
        "{:?} failed:\n{}",
        command,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Where a build is interrupted.
#[derive(Debug, Clone, Copy)]
pub enum Point {
    /// Shortly after the start: reading and installing packages.
    Early,
    /// A layer blob is being compressed into the scratch area.
    Compressing,
    /// The output is being written (a staging directory or a blob's scratch file exists).
    Writing,
    /// `pushing to …` has been printed: blobs are going to the registry.
    Pushing,
}

impl Point {
    pub fn reached(self, sandbox: &Sandbox, run: &Running, started: Instant) -> bool {
        match self {
            Point::Early => started.elapsed() > Duration::from_millis(150),
            Point::Compressing => has_entry(&sandbox.area(), "layer-"),
            Point::Writing => {
                let out = sandbox.path("out");
                entries(&out).iter().any(|path| {
                    let name = path.file_name().unwrap().to_string_lossy().into_owned();
                    name.starts_with('.') || has_entry(&path.join("blobs/sha256"), ".tmp-")
                })
            }
            Point::Pushing => run.stderr().contains("pushing to"),
        }
    }
}

#[test]
fn sigint_and_sigterm_at_every_stage_of_a_new_layout_leave_nothing() {
    let mut interrupted = 0;
    let points = [Point::Early, Point::Compressing, Point::Writing];
    for (point, signal) in points
        .iter()
        .flat_map(|p| [(*p, libc::SIGINT), (*p, libc::SIGTERM)])
    {
        let sandbox = Sandbox::new();
        let output = format!("oci:{}", sandbox.path("out").join("image").display());
        let started = Instant::now();
        let mut run = Running::start(sandbox.build(&output, &[]));
        let caught = run.wait_for(|run| point.reached(&sandbox, run, started));
        if caught {
            run.signal(signal);
        }
        let (status, stderr) = run.finish();
        if caught && status.code() == Some(128 + signal) {
            interrupted += 1;
        } else {
            assert!(status.success(), "{point:?}: {status}\n{stderr}");
        }
        let exists = valid_or_absent(&sandbox.path("out").join("image"));
        assert!(
            exists == status.success(),
            "{point:?}/{signal}: an interrupted build leaves no output, a finished one all of it"
        );
        assert_eq!(
            sandbox.strays(&["image"]),
            Vec::<PathBuf>::new(),
            "{point:?}/{signal}"
        );
    }
    assert!(interrupted >= 4, "only {interrupted} of 6 runs were caught");
}

#[test]
fn sigint_while_writing_into_an_existing_layout_keeps_it_whole_and_orphan_free() {
    let sandbox = Sandbox::new();
    let dir = sandbox.path("out").join("shared");
    let layout_arg = format!("oci:{}", dir.display());
    succeed(&mut sandbox.build(&format!("{layout_arg}:first"), &[]));
    let mut interrupted = 0;
    for (attempt, point) in [Point::Compressing, Point::Writing, Point::Writing]
        .into_iter()
        .enumerate()
    {
        let blobs_before = entries(&dir.join("blobs/sha256"));
        let tags_before = Layout::open(&dir).unwrap().tags().unwrap();
        // A different creation time, so every blob of the second image is new.
        let epoch = format!("{}", 1_700_000_000 + attempt);
        let started = Instant::now();
        let mut run = Running::start(sandbox.build(
            &format!("{layout_arg}:second"),
            &["--source-date-epoch", &epoch],
        ));
        let caught = run.wait_for(|run| point.reached(&sandbox, run, started));
        if caught {
            run.signal(libc::SIGINT);
        }
        let (status, stderr) = run.finish();
        if status.code() == Some(130) {
            interrupted += 1;
            let tags = Layout::open(&dir).unwrap().tags().unwrap();
            if tags == tags_before {
                assert_eq!(
                    entries(&dir.join("blobs/sha256")),
                    blobs_before,
                    "{point:?}: the interrupted write's blobs are gone"
                );
            } else {
                // The signal came after the new index was renamed into place, while the
                // process was ending: the write is whole, the other tag untouched (the layout
                // and its blobs are checked below).
                assert_eq!(
                    tags.keys().map(String::as_str).collect::<Vec<_>>(),
                    ["first", "second"],
                    "{point:?}"
                );
                assert_eq!(tags.get("first"), tags_before.get("first"), "{point:?}");
            }
        } else {
            assert!(status.success(), "{stderr}");
        }
        assert!(valid_or_absent(&dir));
        assert_eq!(sandbox.strays(&["shared"]), Vec::<PathBuf>::new());
    }
    assert!(interrupted >= 2, "only {interrupted} of 3 runs were caught");
}

#[test]
fn sigint_during_a_push_leaves_no_scratch_files() {
    let registry = crate::support::registry::Registry::start();
    let sandbox = Sandbox::new();
    let target = format!("{}:latest", registry.repository("leftovers"));
    let started = Instant::now();
    let mut run = Running::start(sandbox.build(&target, &[]));
    let caught = run.wait_for(|run| Point::Pushing.reached(&sandbox, run, started));
    if caught {
        run.signal(libc::SIGINT);
    }
    let (status, stderr) = run.finish();
    assert!(
        status.code() == Some(130) || status.success(),
        "{status}\n{stderr}"
    );
    assert_eq!(sandbox.strays(&[]), Vec::<PathBuf>::new());
}

#[test]
fn sigint_and_sigterm_during_an_audit_leave_nothing() {
    let sandbox = Sandbox::new();
    let dir = sandbox.path("out").join("image");
    let image = format!("oci:{}", dir.display());
    let predicate = sandbox.path("predicate.json").display().to_string();
    succeed(&mut sandbox.build(&image, &["--locked-out", &predicate]));
    let prefix = sandbox.path("release").display().to_string();
    succeed(&mut sandbox.command(&["generate-key-pair", "--output-key-prefix", &prefix]));
    let key = format!("{prefix}.key");
    succeed(&mut sandbox.command(&[
        "attest",
        &image,
        "--predicate",
        &predicate,
        "--key",
        &key,
        "--tlog-upload=false",
    ]));
    let layout_files = all_files(&dir);
    let public = format!("{prefix}.pub");
    let cache = sandbox.cache_args();
    let mut audit = vec![image.as_str(), "--key", &public, "--insecure-ignore-tlog"];
    audit.extend(cache.iter().map(String::as_str));
    let mut interrupted = 0;
    for (point, signal) in [
        (Point::Early, libc::SIGTERM),
        (Point::Compressing, libc::SIGINT),
        (Point::Compressing, libc::SIGTERM),
    ] {
        let started = Instant::now();
        let mut run = Running::start(sandbox.command(&audit));
        let caught = run.wait_for(|run| point.reached(&sandbox, run, started));
        if caught {
            run.signal(signal);
        }
        let (status, stderr) = run.finish();
        if status.code() == Some(128 + signal) {
            interrupted += 1;
        } else {
            assert!(status.success(), "{point:?}: {status}\n{stderr}");
        }
        assert_eq!(
            all_files(&dir),
            layout_files,
            "the audited layout is untouched"
        );
        assert_eq!(
            sandbox.strays(&["image"]),
            Vec::<PathBuf>::new(),
            "{point:?}"
        );
    }
    assert!(
        interrupted >= 2,
        "only {interrupted} of 3 audits were caught"
    );
}

/// Every path under `dir`, sorted.
fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in entries(dir) {
        if path.is_dir() {
            files.extend(all_files(&path));
        }
        files.push(path);
    }
    files.sort();
    files
}

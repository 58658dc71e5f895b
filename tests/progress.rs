//! Progress a person can read (issue 13 item 7): byte bars with counts, rate and percentage on a
//! real terminal (tmux), plain lines without escape codes through a pipe, nothing with
//! `--quiet`; and underneath, the library's byte counts (`receipts::progress`) add up to the
//! real sizes of what was downloaded, installed, compressed, pushed, pulled and compared.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::support::registry::Registry;

const COSIGN_REBUILD: &str = env!("CARGO_BIN_EXE_cosign-rebuild");

/// The bundled example's signed repository (two architectures, small packages).
fn example_repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/repo")
}

/// Serves `root` on 127.0.0.1 (`HEAD` and `GET`, `Content-Length`, a size-and-path `ETag`,
/// keep-alive), each body in `piece`-byte writes with `pause` between them, so that a download
/// lasts long enough to be watched. Returns the base URL; the server lives as long as the
/// process.
fn serve(root: PathBuf, piece: usize, pause: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            std::thread::spawn(move || {
                // A failed connection only fails the requests it carried.
                let _ = answer(stream, &root, piece, pause);
            });
        }
    });
    format!("http://{address}")
}

fn answer(stream: TcpStream, root: &Path, piece: usize, pause: Duration) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request)? == 0 {
            return Ok(());
        }
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
                break;
            }
        }
        let mut words = request.split_whitespace();
        let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or("/"));
        let file = root.join(path.trim_start_matches('/'));
        let Ok(body) = std::fs::read(&file) else {
            writer.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")?;
            continue;
        };
        write!(
            writer,
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\netag: \"{}-{}\"\r\n\r\n",
            body.len(),
            body.len(),
            path.len()
        )?;
        if method == "GET" {
            for chunk in body.chunks(piece.max(1)) {
                writer.write_all(chunk)?;
                writer.flush()?;
                std::thread::sleep(pause);
            }
        }
        writer.flush()?;
    }
}

/// The example configuration over the repository at `url`, written into `dir`.
fn example_config(dir: &Path, url: &str) {
    let key = example_repo().join("keys/receipts-example.rsa.pub");
    let config = format!(
        "contents:\n  keyring:\n    - {}\n  repositories:\n    - {url}\n  packages:\n    - example-cli\n\
         entrypoint:\n  command: /usr/bin/example-cli\narchs:\n  - x86_64\n  - aarch64\n",
        key.display()
    );
    std::fs::write(dir.join("apko.yaml"), config).expect("write apko.yaml");
}

// ---------------------------------------------------------------------------------------------
// A real terminal.

/// A tmux server of this test's own (its socket in the test's directory, so nothing is left
/// in tmux's shared socket directory), killed when dropped.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn start(dir: &Path, command: &str, env: &[(&str, String)]) -> Tmux {
        let tmux = Tmux {
            socket: dir.join("tmux.socket"),
        };
        let mut new_session = tmux.command();
        new_session.args([
            "new-session",
            "-d",
            "-x",
            "150",
            "-y",
            "40",
            "-s",
            "progress",
        ]);
        new_session.arg("-c").arg(dir);
        for (name, value) in env {
            new_session.args(["-e", &format!("{name}={value}")]);
        }
        // The pane stays after the commands end, so the final screen can be read.
        new_session.arg(format!("{command}; echo \"exit=$?\"; sleep 600"));
        let status = new_session.status().unwrap_or_else(|e| {
            panic!("\n\n*** tmux not runnable ({e}); run ./scripts/test ***\n")
        });
        assert!(status.success(), "tmux new-session: {status}");
        tmux
    }

    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        command
            .arg("-S")
            .arg(&self.socket)
            .args(["-f", "/dev/null"]);
        command
    }

    /// What the pane shows now, one string per line, without escape sequences.
    fn screen(&self) -> String {
        let output = self
            .command()
            .args(["capture-pane", "-p", "-t", "progress"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").status();
    }
}

const SIZE: &str = r"[0-9]+(\.[0-9]+)? (B|KiB|MiB|GiB)";

/// Whether tmux runs: a missing tmux fails under `CI=true` and is reported loudly elsewhere.
fn tmux_runs() -> bool {
    if Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "tmux is not installed: ./scripts/test installs it"
    );
    eprintln!(
        "\n\n*** tmux missing: the terminal progress test did not run; run ./scripts/test ***\n"
    );
    false
}

#[test]
fn on_a_terminal_bars_show_byte_counts_rates_and_percentages() {
    if !tmux_runs() {
        return;
    }
    let work = tempfile::tempdir().expect("work dir");
    // About a second per package: slow enough to catch the bars while they run.
    let url = serve(example_repo(), 64, Duration::from_millis(60));
    example_config(work.path(), &url);
    let registry = Registry::start();
    let pushed = registry.repository("progress:1");
    let cache = work.path().join("cache").display().to_string();
    let command = format!(
        "{COSIGN_REBUILD} build apko.yaml --cache-dir {cache} --output oci:layout && \
         {COSIGN_REBUILD} build apko.yaml --cache-dir {cache} --output {pushed} && \
         {COSIGN_REBUILD} diff {pushed} oci:layout"
    );
    let tmux = Tmux::start(
        work.path(),
        &command,
        &[("TERM", "xterm-256color".into()), ("NO_COLOR", "1".into())],
    );

    let live = regex::Regex::new(&format!(
        r"(downloading|installing) [0-9]+ (files?|packages?): .*{SIZE}/{SIZE} +[0-9]+% +{SIZE}/s"
    ))
    .unwrap();
    let mut seen_live = Vec::new();
    let started = Instant::now();
    let last = loop {
        let screen = tmux.screen();
        seen_live.extend(
            screen
                .lines()
                .filter(|line| live.is_match(line))
                .map(str::to_owned),
        );
        if screen.contains("exit=") {
            break screen;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the commands did not end:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(40));
    };
    assert!(last.contains("exit=0"), "the commands failed:\n{last}");
    assert!(
        seen_live.iter().any(|l| l.contains("downloading")),
        "a live download bar with bytes done/total, percentage and rate; saw {seen_live:#?}\nend:\n{last}"
    );
    // Every kind of work left its summary with byte count, time and rate.
    for (done, items) in [
        ("downloaded", "files"),
        ("installed", "packages"),
        ("compressed", "layers"),
        ("pushed", "blobs"),
        ("pulled", "blobs"),
        ("compared", "layers"),
    ] {
        let summary = regex::Regex::new(&format!(
            r"(?m)^{done} [0-9]+ {items}: {SIZE} in [0-9.]+ s \({SIZE}/s\)"
        ))
        .unwrap();
        assert!(summary.is_match(&last), "a `{done}` summary:\n{last}");
    }
    let digest = regex::Regex::new(r"(?m)^sha256:[0-9a-f]{64}$").unwrap();
    assert!(
        digest.find_iter(&last).count() >= 2,
        "each build's digest on stdout, not overdrawn by the bars:\n{last}"
    );
}

// ---------------------------------------------------------------------------------------------
// A pipe.

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(COSIGN_REBUILD)
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("run cosign-rebuild")
}

#[test]
fn through_a_pipe_progress_is_plain_lines_and_nothing_with_quiet() {
    let work = tempfile::tempdir().expect("work dir");
    let url = serve(example_repo(), 1 << 16, Duration::ZERO);
    example_config(work.path(), &url);
    let registry = Registry::start();
    let pushed = registry.repository("progress:1");
    let cache = work.path().join("cache").display().to_string();
    let build = |output: &str, quiet: bool| {
        let mut args = vec![
            "build",
            "apko.yaml",
            "--cache-dir",
            &cache,
            "--output",
            output,
        ];
        if quiet {
            args.push("--quiet");
        }
        run(work.path(), &args)
    };

    let layout = build("oci:layout", false);
    assert!(layout.status.success(), "{layout:?}");
    let stderr = String::from_utf8(layout.stderr).expect("UTF-8");
    assert!(!stderr.contains('\u{1b}'), "no escape codes:\n{stderr:?}");
    assert!(!stderr.contains('\r'), "no redrawing:\n{stderr:?}");
    let line = |pattern: &str| regex::Regex::new(&format!("(?m)^{pattern}$")).unwrap();
    let amount = format!(r"{SIZE} in [0-9.]+ s \({SIZE}/s\)");
    // Two indexes and six packages (three per architecture) came over the network.
    assert!(
        line(&format!("downloaded 8 files: {amount}")).is_match(&stderr),
        "{stderr}"
    );
    assert!(
        line(&format!("installed 6 packages: {amount}")).is_match(&stderr),
        "{stderr}"
    );
    let compressed = line(&format!("compressed layer: {amount}"));
    assert_eq!(compressed.find_iter(&stderr).count(), 2, "{stderr}");
    let pushed_line = line(&format!("pushed sha256:[0-9a-f]{{12}}: {amount}"));
    assert!(pushed_line.is_match(&stderr), "{stderr}");

    let to_registry = build(&pushed, false);
    assert!(to_registry.status.success(), "{to_registry:?}");
    let stderr = String::from_utf8(to_registry.stderr).expect("UTF-8");
    assert!(!stderr.contains("downloaded"), "all cached:\n{stderr}");
    // Two layers, two configs, at least.
    assert!(pushed_line.find_iter(&stderr).count() >= 4, "{stderr}");

    let diff = run(work.path(), &["diff", &pushed, "oci:layout"]);
    let stderr = String::from_utf8(diff.stderr).expect("UTF-8");
    assert!(diff.status.success(), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    let pulled = line(&format!("pulled sha256:[0-9a-f]{{12}}: {amount}"));
    let compared = line(&format!("compared sha256:[0-9a-f]{{12}}: {amount}"));
    assert!(pulled.find_iter(&stderr).count() >= 2, "{stderr}");
    assert!(compared.find_iter(&stderr).count() >= 2, "{stderr}");

    for quiet in [
        build("oci:quiet", true),
        run(work.path(), &["diff", &pushed, "oci:layout", "--quiet"]),
    ] {
        assert!(quiet.status.success(), "{quiet:?}");
        assert_eq!(
            String::from_utf8_lossy(&quiet.stderr),
            "",
            "--quiet: nothing"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The library's counts.

/// Set in the process [`isolated`] starts: there the test does its work.
const ISOLATED: &str = "RECEIPTS_PROGRESS_TEST_ISOLATED";

/// Whether this is the process that does the work. A reporter is process-wide and the other
/// tests of this binary run beside this one, so the test runs again alone in a child process
/// (this binary, `--exact`), which this process waits for.
fn isolated(test: &str) -> bool {
    if std::env::var_os(ISOLATED).is_some() {
        return true;
    }
    let name = format!("progress::{test}");
    let output = Command::new(std::env::current_exe().expect("test binary"))
        .args([&name, "--exact", "--test-threads=1", "--nocapture"])
        .env(ISOLATED, "1")
        .output()
        .expect("run the test binary again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{name} in its own process:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    false
}

/// The size of the file a URL of the example repository names.
fn served_size(url: &str, base: &str) -> u64 {
    let path = url.strip_prefix(base).expect("a URL of the test server");
    std::fs::metadata(example_repo().join(path.trim_start_matches('/')))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .len()
}

fn gunzipped_size(path: &Path) -> u64 {
    let mut decoder = flate2::read::MultiGzDecoder::new(std::fs::File::open(path).expect("blob"));
    let mut size = 0u64;
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        match decoder.read(&mut buffer).expect("gunzip") {
            0 => return size,
            n => size += n as u64,
        }
    }
}

#[test]
fn library_byte_counts_add_up_to_the_sizes_of_what_was_moved() {
    use receipts::progress::{self, Kind, record::Recorder};

    if !isolated("library_byte_counts_add_up_to_the_sizes_of_what_was_moved") {
        return;
    }
    let work = tempfile::tempdir().expect("work dir");
    let base = serve(example_repo(), 1 << 16, Duration::ZERO);
    example_config(work.path(), &base);
    let recorder = Recorder::new();
    let _installed = progress::install(recorder.clone());

    let built = build(work.path());
    let downloads = recorder.of(Kind::Download);
    let installs = recorder.of(Kind::Install);
    let compressions = recorder.of(Kind::Compress);
    // Everything ended, and every download counted exactly the served file.
    for record in recorder.records() {
        assert!(record.finished, "{record:?}");
    }
    for record in &downloads {
        let size = served_size(&record.name, &base);
        assert_eq!(
            (record.counted, record.total),
            (size, Some(size)),
            "{record:?}"
        );
    }
    let apks: Vec<u64> = downloads
        .iter()
        .filter(|r| r.name.ends_with(".apk"))
        .map(|r| r.counted)
        .collect();
    assert!(
        downloads
            .iter()
            .any(|r| r.name.ends_with("APKINDEX.tar.gz"))
    );
    // Installing reads every downloaded package whole, once.
    let mut installed: Vec<u64> = installs.iter().map(|r| r.counted).collect();
    let mut downloaded = apks.clone();
    installed.sort_unstable();
    downloaded.sort_unstable();
    assert_eq!(installed, downloaded);
    assert!(installs.iter().all(|r| r.total == Some(r.counted)));
    // Each layer's compression counted its whole uncompressed tar.
    let layers: Vec<_> = built.images.iter().flat_map(|i| i.layers()).collect();
    let mut tars: Vec<u64> = layers.iter().map(|l| gunzipped_size(l.path())).collect();
    let mut compressed: Vec<u64> = compressions.iter().map(|r| r.counted).collect();
    tars.sort_unstable();
    compressed.sort_unstable();
    assert_eq!(compressed, tars);
    assert!(!tars.is_empty());

    // Pushing into a layout and a registry, then pulling and comparing from the registry.
    let layout_dir = work.path().join("layout");
    built.write_layout(&layout_dir).expect("write layout");
    let registry = Registry::start();
    let reference = receipts::oci::Reference::parse(&registry.repository("progress:1")).unwrap();
    let settings = receipts::oci::registry::Settings::default();
    let remote = receipts::oci::Store::create(&reference, &settings).expect("registry");
    let root = remote.publish(&built.image_set(), Some("1")).expect("push");
    let local =
        receipts::oci::Store::from(receipts::oci::layout::Layout::open(&layout_dir).unwrap());
    let side = |store, trusted| receipts::rebuild::Named {
        side: receipts::rebuild::Side {
            store,
            root: root.digest,
            trusted,
        },
        role: "side",
        image: "image",
    };
    let report = receipts::rebuild::compare::compare(
        side(&remote, false),
        side(&local, true),
        &receipts::rebuild::Options::default(),
    )
    .expect("compare");
    assert_eq!(report.verdict, receipts::rebuild::Verdict::Identical);
    for layer in &layers {
        let descriptor = layer.descriptor();
        let digest = descriptor.digest.to_string();
        for kind in [Kind::Push, Kind::Pull, Kind::Compare] {
            let counted: Vec<_> = recorder
                .of(kind)
                .into_iter()
                .filter(|r| r.name == digest)
                .map(|r| (r.counted, r.total))
                .collect();
            let whole = (descriptor.size, Some(descriptor.size));
            // Pushed twice (layout, registry); pulled and compared once.
            let times = if kind == Kind::Push { 2 } else { 1 };
            assert_eq!(counted, vec![whole; times], "{kind:?} {digest}");
        }
    }
    for record in recorder.records() {
        assert!(record.finished, "{record:?}");
        if record.total.is_some() && record.kind != Kind::Compress {
            assert_eq!(Some(record.counted), record.total, "{record:?}");
        }
    }
}

fn build(dir: &Path) -> receipts::build::pipeline::Built {
    use receipts::build::pipeline::{self, Request};
    let loaded = receipts::config::Loader::new()
        .working_dir(dir)
        .load("apko.yaml")
        .expect("load");
    let mut request = Request::new("apko.yaml", loaded.configuration);
    request.settings.working_dir = dir.to_path_buf();
    request.settings.fetch.cache_dir = Some(dir.join("cache"));
    request.temp_dir = Some(dir.join("tmp"));
    pipeline::build(&request, &|_| {}).expect("build")
}

//! A flaky registry (issue 17.1): a real `docker-registry` behind the fault proxy of
//! `support::fault`, which fails a seeded fraction of requests with HTTP 500, HTTP 503, a reset
//! in the middle of the body, or a stall. Builds, attestations and audits run as the real
//! binary on the bundled example and must succeed; whatever the outcome, a tag the registry
//! holds names a complete image. Smaller cases, through the library: a stalled registry is
//! given up on after the read timeout, `Retry-After` is waited for, and retries end.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use receipts::oci::reference::{Remote, Repository};
use receipts::oci::registry::{self, Registry, Settings, Timeouts, retry};
use receipts::oci::{Index, Manifest};

use crate::support::fault::{Fault, Faults, Proxy};
use crate::support::registry::Registry as Server;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples")
}

fn cosign_rebuild(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
        .current_dir(examples())
        .args(args)
        .env("COSIGN_PASSWORD", "faults")
        .env("DOCKER_CONFIG", dir.join("no-docker-config"))
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("cosign-rebuild runs")
}

/// A key pair in `dir` (cosign.key, cosign.pub).
fn key_pair(dir: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
        .current_dir(dir)
        .arg("generate-key-pair")
        .env("COSIGN_PASSWORD", "faults")
        .output()
        .expect("cosign-rebuild runs");
    assert!(output.status.success(), "{output:?}");
}

/// Build the example to `image`, attest it, audit it; the first step that fails, with its
/// stderr.
fn cycle(dir: &Path, image: &str, n: usize) -> Result<(), String> {
    let cache = dir.join(format!("cache-{n}"));
    let predicate = dir.join(format!("predicate-{n}.json"));
    let key = dir.join("cosign.key");
    let public = dir.join("cosign.pub");
    let steps: [(&str, Vec<&str>); 3] = [
        (
            "build",
            vec![
                "build",
                "apko.yaml",
                "--output",
                image,
                "--locked-out",
                predicate.to_str().unwrap(),
                "--offline",
                "--cache-dir",
                cache.to_str().unwrap(),
                "-q",
            ],
        ),
        (
            "attest",
            vec![
                "attest",
                image,
                "--predicate",
                predicate.to_str().unwrap(),
                "--key",
                key.to_str().unwrap(),
                "--tlog-upload=false",
            ],
        ),
        (
            "audit",
            vec![
                image,
                "--key",
                public.to_str().unwrap(),
                "--insecure-ignore-tlog",
                "--offline",
                "--cache-dir",
                cache.to_str().unwrap(),
                "-q",
            ],
        ),
    ];
    for (name, args) in steps {
        let output = cosign_rebuild(dir, &args);
        if !output.status.success() {
            return Err(format!(
                "{name} of {image} failed ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    Ok(())
}

/// The tag is absent, or names an index whose manifests, configs and layers are all there.
fn complete_or_absent(upstream: &Server, repository: &str, tag: &str) -> bool {
    let client = Registry::new(Settings::default()).unwrap();
    let remote = Remote::parse(&format!("{}:{tag}", upstream.repository(repository))).unwrap();
    let repo = Repository::parse(&upstream.repository(repository)).unwrap();
    let root = match client.get_manifest(&remote) {
        Ok(root) => root,
        Err(registry::Error::NotFound { .. }) => return false,
        Err(other) => panic!("reading {remote} from the registry itself: {other}"),
    };
    let index = Index::parse(&root.bytes).expect("the tag names an index");
    for child in &index.manifests {
        let raw = client
            .get_manifest(&Remote::at_digest(repo.clone(), child.digest))
            .unwrap_or_else(|e| panic!("{remote}: child {} missing: {e}", child.digest));
        let manifest = Manifest::parse(&raw.bytes).expect("an image manifest");
        for blob in std::iter::once(&manifest.config).chain(&manifest.layers) {
            assert!(
                client.blob_exists(&repo, &blob.digest).unwrap(),
                "{remote}: blob {} of {} missing",
                blob.digest,
                child.digest
            );
        }
    }
    true
}

fn run_cycles(rate: f64, seed: u64, count: usize) -> (usize, Vec<String>, usize) {
    let upstream = Server::start();
    let proxy = Proxy::faulty(
        upstream.host(),
        Faults {
            rate,
            seed,
            stall: Duration::from_millis(500),
        },
    );
    let dir = upstream.scratch("cycles");
    key_pair(&dir);
    let mut failures = Vec::new();
    let mut complete = 0;
    for n in 0..count {
        let tag = format!("run{n}");
        let image = format!("{}/app:{tag}", proxy.host());
        if let Err(failure) = cycle(&dir, &image, n) {
            failures.push(failure);
        }
        if complete_or_absent(&upstream, "app", &tag) {
            complete += 1;
        }
    }
    let log = proxy.log();
    for fault in [
        Fault::Error500,
        Fault::Error503,
        Fault::ResetMidBody,
        Fault::Stall,
    ] {
        assert!(
            log.iter().any(|(_, _, f)| *f == fault),
            "the proxy never injected {fault:?} in {} requests",
            log.len()
        );
    }
    eprintln!(
        "rate {rate}: {} of {count} cycles succeeded; {} of {} requests failed on purpose",
        count - failures.len(),
        proxy.injected(),
        log.len()
    );
    (count - failures.len(), failures, complete)
}

#[test]
fn ten_percent_failing_requests_six_of_six_cycles_succeed() {
    let (succeeded, failures, complete) = run_cycles(0.10, 17, 6);
    assert_eq!(succeeded, 6, "{failures:#?}");
    assert_eq!(complete, 6, "every built tag must name a complete image");
}

#[test]
fn thirty_percent_failing_requests_nine_of_ten_cycles_succeed() {
    let (succeeded, failures, complete) = run_cycles(0.30, 1730, 10);
    assert!(succeeded >= 9, "{succeeded} of 10: {failures:#?}");
    // A failed cycle may have failed after its build: a tag is complete or absent, never half.
    assert!(
        complete >= succeeded,
        "{complete} complete tags, {succeeded} successes"
    );
}

fn settings(read_timeout: Duration) -> Settings {
    Settings {
        timeouts: Timeouts {
            read: read_timeout,
            ..Timeouts::default()
        },
        retry: retry::Policy {
            first_delay: Duration::from_millis(50),
            ..retry::Policy::default()
        },
        ..Settings::default()
    }
}

#[test]
fn a_stalled_registry_times_out_and_the_request_is_retried() {
    let upstream = Server::start();
    // Every request stalls for 30 s: only the client's read timeout ends them.
    let proxy = Proxy::faulty(
        upstream.host(),
        Faults {
            rate: 1.0,
            seed: 3,
            stall: Duration::from_secs(30),
        },
    );
    let mut settings = settings(Duration::from_millis(300));
    settings.retry.attempts = 3;
    let client = Registry::new(settings).unwrap();
    let remote = Remote::parse(&format!("{}/app:v1", proxy.host())).unwrap();
    let started = Instant::now();
    let error = client.get_manifest(&remote).unwrap_err();
    let elapsed = started.elapsed();
    let text = receipts::cli::render_chain(&error);
    assert!(
        matches!(&error, registry::Error::GaveUp { attempts: 3, .. }),
        "{text}"
    );
    assert!(
        text.contains(&format!("http://{}/v2/", proxy.host())),
        "{text}"
    );
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}: {text}");
}

#[test]
fn retry_after_is_waited_for_and_a_wait_beyond_the_budget_is_refused() {
    let upstream = Server::start();
    let busy = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = busy.clone();
    // The first two requests of the manifest are answered 429 with Retry-After: 1.
    let proxy = Proxy::hostile(upstream.host(), move |_, path| {
        (path.contains("/manifests/")
            && counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2)
            .then(|| crate::support::fault::Flood {
                status: 429,
                content_type: "application/json".into(),
                size: 2,
                announced: true,
                headers: vec![("Retry-After".into(), "1".into())],
            })
    });
    let reference = format!("{}/app:v1", proxy.host());
    let store = receipts::oci::Store::create(
        &receipts::oci::Reference::parse(&reference).unwrap(),
        &settings(Duration::from_secs(30)),
    )
    .unwrap();
    busy.store(10, std::sync::atomic::Ordering::SeqCst); // publishing is not throttled
    let published = store
        .publish(&crate::oci::image::tiny(), Some("v1"))
        .unwrap();
    busy.store(0, std::sync::atomic::Ordering::SeqCst);
    let client = Registry::new(settings(Duration::from_secs(30))).unwrap();
    let started = Instant::now();
    let raw = client
        .get_manifest(&Remote::parse(&reference).unwrap())
        .unwrap();
    assert_eq!(raw.descriptor.digest, published.digest);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "two Retry-After: 1 waits took {:?}",
        started.elapsed()
    );

    let mut impatient = settings(Duration::from_secs(30));
    impatient.retry.total = Duration::from_millis(500);
    busy.store(0, std::sync::atomic::Ordering::SeqCst);
    let error = Registry::new(impatient)
        .unwrap()
        .get_manifest(&Remote::parse(&reference).unwrap())
        .unwrap_err();
    assert!(
        matches!(
            error,
            registry::Error::RetryTooLate {
                status: 429,
                seconds: 1,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn blob_downloads_cut_short_resume_and_verify() {
    let upstream = Server::start();
    let reference = receipts::oci::Reference::parse(&upstream.repository("app:v1")).unwrap();
    let store = receipts::oci::Store::create(&reference, &Settings::default()).unwrap();
    let set = crate::oci::image::tiny();
    store.publish(&set, Some("v1")).unwrap();
    let proxy = Proxy::faulty(
        upstream.host(),
        Faults {
            rate: 0.5,
            seed: 11,
            stall: Duration::from_millis(100),
        },
    );
    let client = Registry::new(settings(Duration::from_secs(5))).unwrap();
    let repo = Repository::parse(&format!("{}/app", proxy.host())).unwrap();
    for blob in set.blobs() {
        for _ in 0..4 {
            let mut out = Vec::new();
            let size = client
                .get_blob(&repo, &blob.descriptor.digest, &mut out)
                .unwrap();
            assert_eq!(size, blob.descriptor.size);
            assert_eq!(receipts::oci::Digest::of(&out), blob.descriptor.digest);
        }
    }
    assert!(
        proxy
            .log()
            .iter()
            .any(|(_, path, fault)| path.contains("/blobs/") && *fault == Fault::ResetMidBody),
        "no blob download was cut short"
    );
}

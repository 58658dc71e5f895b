//! A hostile registry (issue 17.2): a front before a real `docker-registry` answers chosen
//! requests with 256 MiB bodies (referrers, manifests, blobs read into memory, error bodies,
//! tokens; announced by `Content-Length` or not). The real binary must fail with an error naming
//! the URL and the limit, and its peak resident memory (`VmHWM` of the child, sampled every few
//! milliseconds until it exits) must stay at or under 64 MiB.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use receipts::oci::reference::Repository;
use receipts::oci::registry::{self, Registry, Settings};
use receipts::oci::{Reference, Store};

use crate::support::fault::{Flood, Proxy};
use crate::support::registry::Registry as Server;

const FLOOD: u64 = 256 << 20;
const PEAK_LIMIT_KIB: u64 = 64 << 10;

fn flood(status: u16, content_type: &str, announced: bool) -> Flood {
    Flood {
        status,
        content_type: content_type.into(),
        size: FLOOD,
        announced,
        headers: Vec::new(),
    }
}

/// Runs the binary; its exit status, stderr, and peak resident set in KiB.
fn run_measured(dir: &Path, args: &[&str]) -> (Option<i32>, String, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
        .current_dir(dir)
        .args(args)
        .env("DOCKER_CONFIG", dir.join("no-docker-config"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cosign-rebuild runs");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_file)
            && let Some(kib) = status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kib);
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(3));
    }
    let output = child.wait_with_output().expect("output");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        peak,
    )
}

/// An image with a bundle attestation, pushed straight to the registry.
fn attested(server: &Server, dir: &Path) {
    let reference = Reference::parse(&server.repository("app:v1")).unwrap();
    let store = Store::create(&reference, &Settings::default()).unwrap();
    store
        .publish(&crate::oci::image::tiny(), Some("v1"))
        .unwrap();
    let keygen = Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
        .current_dir(dir)
        .arg("generate-key-pair")
        .env("COSIGN_PASSWORD", "hostile")
        .output()
        .unwrap();
    assert!(keygen.status.success(), "{keygen:?}");
    std::fs::write(
        dir.join("predicate.json"),
        br#"{"contents":{"packages":["busybox"]}}"#,
    )
    .unwrap();
    let attest = Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
        .current_dir(dir)
        .args(["attest", &server.repository("app:v1")])
        .args(["--predicate", "predicate.json", "--key", "cosign.key"])
        .arg("--tlog-upload=false")
        .env("COSIGN_PASSWORD", "hostile")
        .env("DOCKER_CONFIG", dir.join("no-docker-config"))
        .output()
        .unwrap();
    assert!(attest.status.success(), "{attest:?}");
}

#[test]
fn hostile_bodies_are_refused_with_the_url_and_limit_and_memory_stays_bounded() {
    let server = Server::start();
    let dir = server.scratch("hostile");
    attested(&server, &dir);
    type Rule = fn(&str, &str) -> Option<Flood>;
    let cases: [(&str, Rule, &[&str]); 5] = [
        (
            "referrers index larger than the 16777216-byte limit",
            |_, path| {
                path.contains("/referrers/")
                    .then(|| flood(200, "application/vnd.oci.image.index.v1+json", false))
            },
            &["download"],
        ),
        (
            "manifest larger than the 16777216-byte limit",
            |method, path| {
                (method == "GET" && path.contains("/manifests/sha256-"))
                    .then(|| flood(200, "application/vnd.oci.image.index.v1+json", false))
            },
            &["download"],
        ),
        (
            "manifest larger than the 16777216-byte limit",
            |method, path| {
                (method == "GET" && path.contains("/manifests/sha256-"))
                    .then(|| flood(200, "application/vnd.oci.image.index.v1+json", true))
            },
            &["verify", "--key", "cosign.pub", "--insecure-ignore-tlog"],
        ),
        (
            "blob read into memory larger than the 16777216-byte limit",
            |method, path| {
                (method == "GET" && path.contains("/blobs/"))
                    .then(|| flood(200, "application/octet-stream", false))
            },
            &["download"],
        ),
        (
            "HTTP 400",
            |method, path| {
                (method == "GET" && path.contains("/manifests/sha256-"))
                    .then(|| flood(400, "application/json", false))
            },
            &["download"],
        ),
    ];
    for (expected, rule, command) in cases {
        let front = Proxy::hostile(server.host(), rule);
        let image = format!("{}/app:v1", front.host());
        let mut args = vec![command[0], image.as_str()];
        args.extend_from_slice(&command[1..]);
        let (status, stderr, peak) = run_measured(&dir, &args);
        assert_eq!(status, Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("http://{}/v2/app/", front.host())),
            "{args:?}: the URL is named: {stderr}"
        );
        assert!(
            peak <= PEAK_LIMIT_KIB,
            "{args:?}: peak resident memory {peak} KiB > {PEAK_LIMIT_KIB} KiB"
        );
        eprintln!("{:?} vs {expected:?}: peak {peak} KiB", args[0]);
    }
}

#[test]
fn a_hostile_token_server_is_refused_and_memory_stays_bounded() {
    let server = Server::start();
    let dir = server.scratch("token");
    let token_front = Proxy::hostile(server.host(), |_, path| {
        path.starts_with("/token")
            .then(|| flood(200, "application/json", false))
    });
    let realm = format!("http://{}/token", token_front.host());
    let front = Proxy::hostile(server.host(), move |_, _| {
        Some(Flood {
            status: 401,
            content_type: "application/json".into(),
            size: 2,
            announced: true,
            headers: vec![(
                "WWW-Authenticate".into(),
                format!(r#"Bearer realm="{realm}",service="hostile""#),
            )],
        })
    });
    let image = format!("{}/app:v1", front.host());
    let (status, stderr, peak) = run_measured(&dir, &["download", &image]);
    assert_eq!(status, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "http://{}/token: token response larger than the 1048576-byte limit",
            token_front.host()
        )),
        "{stderr}"
    );
    assert!(peak <= PEAK_LIMIT_KIB, "peak {peak} KiB");
}

#[test]
fn tag_lists_and_error_bodies_are_bounded_in_the_library() {
    let server = Server::start();
    let front = Proxy::hostile(server.host(), |_, path| {
        if path.contains("/tags/list") {
            Some(flood(200, "application/json", true))
        } else {
            Some(flood(404, "application/json", false))
        }
    });
    let client = Registry::new(Settings::default()).unwrap();
    let repository = Repository::parse(&format!("{}/app", front.host())).unwrap();
    match client.list_tags(&repository).unwrap_err() {
        registry::Error::TooLarge {
            url, what, limit, ..
        } => {
            assert!(url.ends_with("/v2/app/tags/list"), "{url}");
            assert_eq!((what, limit), ("tag list", registry::limits::TAG_PAGE));
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    // A 404 with a 256 MiB body: the message keeps a bounded start of it.
    let remote =
        receipts::oci::reference::Remote::parse(&format!("{}/app:v1", front.host())).unwrap();
    match client.get_manifest(&remote).unwrap_err() {
        registry::Error::NotFound { message, .. } => {
            assert!(message.len() <= 512, "{}", message.len());
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
}

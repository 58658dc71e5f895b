//! The referrers API path, which Debian's distribution 2.8 lacks, against a small loopback
//! registry double: the API's answer is used, filtered here unless the registry says it
//! filtered; a non-index answer falls back to the tag schema; other failures are errors.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use receipts::oci::reference::Repository;
use receipts::oci::registry::{self, ReferrersSource, Registry, Settings};
use receipts::oci::{Descriptor, Digest, media_type};

use super::image;

type Answer = (u16, Vec<(&'static str, String)>, Vec<u8>);

/// Serves `answer(method, uri)` on 127.0.0.1 and records the request lines.
struct Double {
    host: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Double {
    fn start(answer: impl Fn(&str, &str) -> Answer + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        // The thread ends with the test binary; every connection is answered and closed.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = serve(stream, &answer, &record);
            }
        });
        Self { host, seen }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(
    stream: TcpStream,
    answer: &impl Fn(&str, &str) -> Answer,
    seen: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (method, uri) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    seen.lock().unwrap().push(format!("{method} {uri}"));
    let (status, headers, body) = if uri == "/v2/" {
        (
            200,
            vec![("Content-Type", "application/json".into())],
            b"{}".to_vec(),
        )
    } else {
        answer(method, uri)
    };
    let mut stream = stream;
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if method != "HEAD" {
        stream.write_all(&body)?;
    }
    stream.flush()
}

const SIGSTORE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const SBOM: &str = "application/spdx+json";

fn listed() -> Vec<Descriptor> {
    [(SIGSTORE, b"a"), (SBOM, b"b")]
        .into_iter()
        .map(|(artifact_type, content)| {
            let mut descriptor = Descriptor::of(media_type::OCI_MANIFEST, content);
            descriptor.artifact_type = Some(artifact_type.into());
            descriptor
        })
        .collect()
}

fn index_answer(filters_applied: Option<&str>) -> Answer {
    let mut headers = vec![("Content-Type", media_type::OCI_INDEX.to_owned())];
    if let Some(value) = filters_applied {
        headers.push(("OCI-Filters-Applied", value.to_owned()));
    }
    (200, headers, image::referrers_index(&listed()))
}

fn not_found() -> Answer {
    let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#;
    (
        404,
        vec![("Content-Type", "application/json".into())],
        body.to_vec(),
    )
}

fn query(
    double: &Double,
    artifact_type: Option<&str>,
) -> Result<registry::Referrers, registry::Error> {
    let client = Registry::new(Settings::default()).unwrap();
    let repository = Repository::parse(&format!("{}/app", double.host)).unwrap();
    client.referrers(&repository, &Digest::of(b"subject"), artifact_type)
}

#[test]
fn the_api_answer_is_used_and_filtered_here_unless_the_registry_filtered() {
    let double = Double::start(|_, uri| {
        if uri.contains("/referrers/") {
            index_answer(None)
        } else {
            not_found()
        }
    });
    let all = query(&double, None).unwrap();
    assert_eq!(all.source, ReferrersSource::Api);
    assert_eq!(all.manifests, listed());
    let sigstore = query(&double, Some(SIGSTORE)).unwrap();
    assert_eq!(sigstore.manifests, listed()[..1]);
    let subject = Digest::of(b"subject");
    assert!(double.seen().contains(&format!(
        "GET /v2/app/referrers/{subject}?artifactType=application%2Fvnd.dev.sigstore.bundle.v0.3%2Bjson"
    )));

    // A registry that says it applied the filter is believed.
    let filtering = Double::start(|_, uri| {
        if uri.contains("/referrers/") {
            index_answer(Some("artifactType"))
        } else {
            not_found()
        }
    });
    assert_eq!(
        query(&filtering, Some(SIGSTORE)).unwrap().manifests.len(),
        2
    );
}

#[test]
fn a_non_index_answer_falls_back_to_the_tag_schema() {
    let subject = Digest::of(b"subject");
    let tag_path = format!("/v2/app/manifests/sha256-{}", subject.hex());
    let double = Double::start(move |_, uri| {
        if uri.contains("/referrers/") {
            (
                200,
                vec![("Content-Type", "application/json".into())],
                b"{}".to_vec(),
            )
        } else if uri == tag_path {
            let mut answer = index_answer(None);
            answer
                .1
                .push(("Docker-Content-Digest", Digest::of(&answer.2).to_string()));
            answer
        } else {
            not_found()
        }
    });
    let found = query(&double, Some(SBOM)).unwrap();
    assert_eq!(found.source, ReferrersSource::TagSchema);
    assert_eq!(found.manifests, listed()[1..]);
}

#[test]
fn a_server_error_is_an_error() {
    let double = Double::start(|_, _| {
        let body = br#"{"errors":[{"code":"UNKNOWN","message":"storage on fire"}]}"#;
        (
            500,
            vec![("Content-Type", "application/json".into())],
            body.to_vec(),
        )
    });
    // Retried as transient, then reported with the last attempt's status.
    match query(&double, None).unwrap_err().last_attempt() {
        registry::Error::Status {
            status,
            code,
            message,
            url,
            ..
        } => {
            assert_eq!(*status, 500);
            assert_eq!(code.as_deref(), Some("UNKNOWN"));
            assert!(message.contains("storage on fire"), "{message}");
            assert!(url.contains("/v2/app/referrers/sha256:"), "{url}");
        }
        other => panic!("expected a status error, got {other:?}"),
    }
}

//! The referrers-API branch, which Debian's distribution 2.8 lacks, against a tiny loopback
//! registry stub that has it: the referrer manifest is pushed by digest and no fallback tag is
//! read or written, because the registry keeps the list itself.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use receipts::attest::key::PrivateKey;
use receipts::attest::statement::{Predicate, Sha256Digest, Statement, SubjectName};
use receipts::attest::store::{self, Format, Signed};
use receipts::oci::registry::Settings;
use receipts::oci::{Descriptor, Digest, Manifest, Reference, Store, media_type};

/// What the stub saw: request lines, and the bodies of manifest PUTs.
#[derive(Default)]
struct Seen {
    requests: Vec<String>,
    manifests: Vec<Vec<u8>>,
}

/// Serves the image manifest `image` and answers the referrers API with `referrers`; every
/// blob exists; manifest PUTs are accepted and recorded.
fn start(image: Vec<u8>, referrers: Vec<u8>) -> (String, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = seen.clone();
    // The thread ends with the test binary.
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = serve(stream, &image, &referrers, &record);
        }
    });
    (host, seen)
}

fn serve(
    stream: TcpStream,
    image: &[u8],
    referrers: &[u8],
    seen: &Mutex<Seen>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut parts = line.split_whitespace();
    let (method, uri) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    seen.lock()
        .unwrap()
        .requests
        .push(format!("{method} {uri}"));
    let image_digest = Digest::of(image).to_string();
    let (status, headers, reply): (u16, Vec<(&str, String)>, Vec<u8>) = match method {
        _ if uri == "/v2/" => (200, vec![], b"{}".to_vec()),
        "HEAD" if uri.contains("/blobs/") => (200, vec![("Content-Length", "2".into())], vec![]),
        "HEAD" | "GET"
            if uri.contains("/manifests/")
                && (uri.ends_with(":v1")
                    || uri.ends_with("/v1")
                    || uri.ends_with(&image_digest)) =>
        {
            (
                200,
                vec![
                    ("Content-Type", media_type::OCI_MANIFEST.into()),
                    ("Docker-Content-Digest", image_digest.clone()),
                ],
                image.to_vec(),
            )
        }
        "PUT" if uri.contains("/manifests/") => {
            let digest = Digest::of(&body).to_string();
            seen.lock().unwrap().manifests.push(body);
            (
                201,
                vec![
                    ("Location", uri.to_owned()),
                    ("Docker-Content-Digest", digest),
                ],
                vec![],
            )
        }
        "GET" if uri.contains("/referrers/") => (
            200,
            vec![("Content-Type", media_type::OCI_INDEX.into())],
            referrers.to_vec(),
        ),
        _ => (
            404,
            vec![("Content-Type", "application/json".into())],
            br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}"#.to_vec(),
        ),
    };
    let mut stream = stream;
    let mut head = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n");
    let has_length = headers.iter().any(|(name, _)| *name == "Content-Length");
    if !has_length {
        head.push_str(&format!("Content-Length: {}\r\n", reply.len()));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if method != "HEAD" {
        stream.write_all(&reply)?;
    }
    stream.flush()
}

#[test]
fn a_registry_with_the_referrers_api_keeps_the_list_itself() {
    let image = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#.to_vec();
    let listed = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#.to_vec();
    let (host, seen) = start(image.clone(), listed);
    let reference = Reference::parse(&format!("{host}/repo:v1")).unwrap();
    let store = Store::open(&reference, &Settings::default()).unwrap();
    let subject = store.resolve(&reference).unwrap();
    assert_eq!(subject, Descriptor::of(media_type::OCI_MANIFEST, &image));
    assert!(store.has_referrers_api(&subject.digest).unwrap());

    let key = PrivateKey::generate_ecdsa_p256().unwrap();
    let statement = Statement::for_image(
        &SubjectName::from_reference(&format!("{host}/repo")).unwrap(),
        &Sha256Digest::from_bytes(*subject.digest.as_bytes()),
        "https://apko.dev/image-configuration",
        Predicate::default(),
    );
    let signed = Signed::sign(&statement, &subject.digest, &key).unwrap();
    let done = store::attach(
        &store,
        &subject,
        &signed,
        Format::Bundle,
        "2026-01-01T00:00:00Z",
    )
    .unwrap();
    assert_eq!(done.tag, None);

    let seen = seen.lock().unwrap();
    // One manifest PUT, by digest, of a referrer whose subject is the image.
    assert_eq!(seen.manifests.len(), 1, "{:?}", seen.requests);
    assert_eq!(Digest::of(&seen.manifests[0]), done.manifest.digest);
    let manifest = Manifest::parse(&seen.manifests[0]).unwrap();
    assert_eq!(
        manifest.subject.as_ref().map(|s| s.digest),
        Some(subject.digest)
    );
    let put: Vec<&String> = seen
        .requests
        .iter()
        .filter(|r| r.starts_with("PUT "))
        .collect();
    assert_eq!(put.len(), 1);
    assert!(
        put[0].ends_with(&format!("/manifests/{}", done.manifest.digest)),
        "{put:?}"
    );
    // The fallback tag is never touched.
    let fallback = format!("sha256-{}", subject.digest.hex());
    assert!(
        !seen.requests.iter().any(|r| r.contains(&fallback)),
        "{:?}",
        seen.requests
    );
}

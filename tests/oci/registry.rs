//! Publishing to and reading from a real registry (Debian's distribution 2.8): exact bytes and
//! digests both ways, skopeo as an independent reader, existing blobs skipped, large blobs
//! chunked, the referrers tag fallback, and errors that name what failed.

use std::process::Command;

use receipts::oci::image_set::{Blob, Content};
use receipts::oci::layout::Layout;
use receipts::oci::reference::{Remote, Repository, Selector, referrers_tag};
use receipts::oci::registry::{self, Pushed, ReferrersSource, Registry, Settings, Upload};
use receipts::oci::{Descriptor, Digest, media_type};

use super::image::{self, GOLDEN_AMD64, GOLDEN_ARM64, GOLDEN_BLOBS, GOLDEN_INDEX, digest};
use crate::support::registry::Registry as Server;

fn golden_set() -> receipts::oci::ImageSet {
    let layout = Layout::open(&image::golden()).unwrap();
    layout
        .image_set(&layout.resolve(&Selector::Default).unwrap())
        .unwrap()
}

fn remote(text: &str) -> Remote {
    Remote::parse(text).unwrap()
}

#[test]
fn publish_and_read_back_with_the_same_digests() {
    let server = Server::start();
    let client = Registry::new(Settings::default()).unwrap();
    let target = remote(&server.repository("apko/golden:v1"));

    let published = client.publish(&target, &golden_set()).unwrap();
    assert_eq!(published.root.digest, digest(GOLDEN_INDEX));
    let uploaded: Vec<String> = published.uploaded.iter().map(Digest::to_string).collect();
    assert_eq!(uploaded, GOLDEN_BLOBS);
    assert!(published.existing.is_empty());

    let index = client.get_manifest(&target).unwrap();
    assert_eq!(
        index.bytes,
        std::fs::read(image::golden().join("index.json")).unwrap()
    );
    assert_eq!(index.descriptor.digest, digest(GOLDEN_INDEX));
    assert_eq!(index.descriptor.media_type, media_type::OCI_INDEX);
    assert_eq!(client.resolve(&target).unwrap(), index.descriptor);

    let child = client
        .get_manifest(&target.with_digest(digest(GOLDEN_AMD64)))
        .unwrap();
    assert_eq!(
        child.bytes,
        std::fs::read(image::golden().join(format!("blobs/sha256/{}", &GOLDEN_AMD64[7..])))
            .unwrap()
    );
    assert_eq!(child.descriptor.media_type, media_type::OCI_MANIFEST);

    for blob in GOLDEN_BLOBS {
        let mut bytes = Vec::new();
        let size = client
            .get_blob(target.repository(), &digest(blob), &mut bytes)
            .unwrap();
        let file =
            std::fs::read(image::golden().join(format!("blobs/sha256/{}", &blob[7..]))).unwrap();
        assert_eq!(bytes, file);
        assert_eq!(size, file.len() as u64);
    }
    assert_eq!(client.list_tags(target.repository()).unwrap(), ["v1"]);
    // The registry saw one upload session per blob.
    assert_eq!(server.settled_requests("POST", "/blobs/uploads/"), 4);

    // Publishing again, under a second tag, sends no blob: only HEADs, then the manifests.
    let again = client
        .publish(&remote(&server.repository("apko/golden:v2")), &golden_set())
        .unwrap();
    assert!(again.uploaded.is_empty());
    assert_eq!(again.existing.len(), 4);
    assert_eq!(server.settled_requests("POST", "/blobs/uploads/"), 4);
    assert_eq!(server.requests("HEAD", "/v2/apko/golden/blobs/"), 8);
    assert_eq!(server.requests("PUT", "/v2/apko/golden/manifests/v2"), 1);
    let mut tags = client.list_tags(target.repository()).unwrap();
    tags.sort();
    assert_eq!(tags, ["v1", "v2"]);
}

#[test]
fn skopeo_reads_our_exact_bytes_and_copies_to_a_layout_we_read() {
    let server = Server::start();
    let client = Registry::new(Settings::default()).unwrap();
    let target = remote(&server.repository("golden:latest"));
    client.publish(&target, &golden_set()).unwrap();

    let inspect = |reference: &str| {
        let output = Command::new("skopeo")
            .args(["inspect", "--raw", "--tls-verify=false"])
            .arg(format!("docker://{reference}"))
            .output()
            .expect("skopeo runs (install it with ./scripts/test)");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    };
    assert_eq!(
        inspect(&server.repository("golden:latest")),
        std::fs::read(image::golden().join("index.json")).unwrap()
    );
    let child = inspect(&server.repository(&format!("golden@{GOLDEN_AMD64}")));
    assert_eq!(Digest::of(&child), digest(GOLDEN_AMD64));

    let skopeo_copy = |source: &str, destination: String, all: bool| {
        let mut command = Command::new("skopeo");
        command.args(["copy", "--src-tls-verify=false"]);
        if all {
            command.arg("--all");
        }
        let output = command
            .arg(format!("docker://{source}"))
            .arg(destination)
            .output()
            .expect("skopeo runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };

    // One platform's manifest: skopeo copies it unchanged, so the tag names the same digest.
    let dir = tempfile::tempdir().unwrap();
    skopeo_copy(
        &server.repository(&format!("golden@{GOLDEN_AMD64}")),
        format!("oci:{}:amd64", dir.path().display()),
        false,
    );
    let layout = Layout::open(dir.path()).unwrap();
    let amd64 = layout.resolve(&Selector::Tag("amd64".into())).unwrap();
    assert_eq!(amd64.digest, digest(GOLDEN_AMD64));
    assert_eq!(layout.resolve(&Selector::Default).unwrap(), amd64);
    let set = layout.image_set(&amd64).unwrap();
    let blobs: Vec<String> = set
        .blobs()
        .iter()
        .map(|b| b.descriptor.digest.to_string())
        .collect();
    assert_eq!(blobs, GOLDEN_BLOBS[..2]);

    // The whole index: skopeo 1.9 re-encodes an index it copies with --all (it drops the
    // OCI 1.1 artifactType of apko's descriptors), so the children keep their digests and
    // the index gets a new one, which the layout reader follows.
    let dir = tempfile::tempdir().unwrap();
    skopeo_copy(
        &server.repository("golden:latest"),
        format!("oci:{}:copied", dir.path().display()),
        true,
    );
    let layout = Layout::open(dir.path()).unwrap();
    let root = layout.resolve(&Selector::Tag("copied".into())).unwrap();
    assert_eq!(root.media_type, media_type::OCI_INDEX);
    let index_bytes = layout.read_manifest(&root).unwrap();
    assert_eq!(Digest::of(&index_bytes), root.digest);
    let index = receipts::oci::Index::parse(&index_bytes).unwrap();
    let children: Vec<String> = index
        .manifests
        .iter()
        .map(|d| d.digest.to_string())
        .collect();
    assert_eq!(children, [GOLDEN_AMD64, GOLDEN_ARM64]);
    assert!(index.manifests.iter().all(|d| d.artifact_type.is_none()));
    let set = layout.image_set(&root).unwrap();
    let blobs: Vec<String> = set
        .blobs()
        .iter()
        .map(|b| b.descriptor.digest.to_string())
        .collect();
    assert_eq!(blobs, GOLDEN_BLOBS);
    for blob in set.blobs() {
        let mut sink = Vec::new();
        layout
            .copy_blob(&blob.descriptor.digest, &mut sink)
            .unwrap();
        assert_eq!(sink.len() as u64, blob.descriptor.size);
    }
}

#[test]
fn large_blobs_upload_chunked_and_monolithic() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let repository = Repository::parse(&server.repository("big")).unwrap();
    for (upload, size) in [
        (Upload::Chunked, 9 << 20),
        (Upload::Monolithic, (5 << 20) + 3),
    ] {
        let client = Registry::new(Settings {
            upload,
            ..Settings::default()
        })
        .unwrap();
        let bytes = image::noise(size);
        let path = dir.path().join(format!("{upload:?}"));
        std::fs::write(&path, &bytes).unwrap();
        let blob = Blob {
            descriptor: Descriptor::of(media_type::OCI_LAYER_GZIP, &bytes),
            content: Content::File(path),
        };
        assert_eq!(
            client.push_blob(&repository, &blob).unwrap(),
            Pushed::Uploaded
        );
        assert!(
            client
                .blob_exists(&repository, &blob.descriptor.digest)
                .unwrap()
        );
        assert_eq!(
            client.push_blob(&repository, &blob).unwrap(),
            Pushed::Existed
        );
        let mut back = Vec::new();
        client
            .get_blob(&repository, &blob.descriptor.digest, &mut back)
            .unwrap();
        assert!(back == bytes, "{upload:?}: {} bytes came back", back.len());
    }
}

#[test]
fn referrers_come_from_the_tag_index_on_a_registry_without_the_api() {
    let server = Server::start();
    let client = Registry::new(Settings::default()).unwrap();
    let target = remote(&server.repository("app:v1"));
    let subject = client.publish(&target, &image::tiny()).unwrap().root;
    let repository = target.repository();

    let empty = client.referrers(repository, &subject.digest, None).unwrap();
    assert_eq!(empty.source, ReferrersSource::TagSchema);
    assert!(empty.manifests.is_empty());

    let bundle = "application/vnd.dev.sigstore.bundle.v0.3+json";
    let artifact = image::referrer(&subject, bundle, b"attestation");
    let referrer = client
        .publish(
            &target.with_digest(artifact.root().unwrap().descriptor.digest),
            &artifact,
        )
        .unwrap()
        .root;
    // The fallback index as cosign writes it: artifactType, no annotations.
    let mut entry = referrer.clone();
    entry.artifact_type = Some(bundle.into());
    let index = image::referrers_index(&[entry.clone()]);
    let tag = Remote::at_tag(repository.clone(), &referrers_tag(&subject.digest)).unwrap();
    client
        .put_manifest(&tag, &index, media_type::OCI_INDEX)
        .unwrap();

    let found = client.referrers(repository, &subject.digest, None).unwrap();
    assert_eq!(found.source, ReferrersSource::TagSchema);
    assert_eq!(found.manifests, [entry]);
    let filtered = client
        .referrers(repository, &subject.digest, Some(bundle))
        .unwrap();
    assert_eq!(filtered.manifests.len(), 1);
    let other = client
        .referrers(repository, &subject.digest, Some("application/other"))
        .unwrap();
    assert!(other.manifests.is_empty());
    let fetched = client
        .get_manifest(&target.with_digest(referrer.digest))
        .unwrap();
    let manifest = receipts::oci::Manifest::parse(&fetched.bytes).unwrap();
    assert_eq!(manifest.subject.map(|s| s.digest), Some(subject.digest));
}

#[test]
fn failures_name_the_url_status_and_registry_code() {
    let server = Server::start();
    let client = Registry::new(Settings::default()).unwrap();
    let missing = remote(&server.repository("nothing:here"));
    let error = client.get_manifest(&missing).unwrap_err();
    assert!(
        matches!(
            error,
            registry::Error::NotFound {
                what: "manifest",
                ..
            }
        ),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains(&format!(
            "http://{}/v2/nothing/manifests/here",
            server.host()
        )),
        "{text}"
    );
    assert!(text.contains("404"), "{text}");

    // A manifest whose blobs were never pushed.
    let set = image::tiny();
    let manifest = &set.manifests()[0];
    let error = client
        .put_manifest(
            &remote(&server.repository("app:broken")),
            &manifest.bytes,
            media_type::OCI_MANIFEST,
        )
        .unwrap_err();
    match &error {
        registry::Error::Status {
            status, code, url, ..
        } => {
            assert_eq!(*status, 400);
            assert_eq!(code.as_deref(), Some("MANIFEST_BLOB_UNKNOWN"));
            assert!(url.contains(server.host()), "{url}");
        }
        other => panic!("expected a status error, got {other:?}"),
    }
    assert!(
        error.to_string().contains("MANIFEST_BLOB_UNKNOWN"),
        "{error}"
    );

    // A digest reference whose content is something else.
    let wrong = remote(&server.repository(&format!("app@{}", Digest::of(b"x"))));
    assert!(matches!(
        client.put_manifest(&wrong, &manifest.bytes, media_type::OCI_MANIFEST),
        Err(registry::Error::DigestMismatch { .. })
    ));

    // Nothing listens: the error names the URL.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let error = client
        .get_manifest(&remote(&format!("127.0.0.1:{dead}/x:y")))
        .unwrap_err();
    assert!(
        error.to_string().contains(&format!("127.0.0.1:{dead}")),
        "{error}"
    );
}

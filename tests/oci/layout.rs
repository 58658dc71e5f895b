//! OCI layouts: apko's golden layout read and rewritten byte for byte, the conversion to a
//! tagged layout keeping digests, referrers found in a layout, blob integrity, and umoci
//! unpacking an image from a layout written here.

use std::process::Command;

use receipts::oci::layout::{self, Layout, Shape};
use receipts::oci::reference::{Selector, referrers_tag};
use receipts::oci::{Descriptor, Digest, media_type};

use super::image::{self, GOLDEN_AMD64, GOLDEN_ARM64, GOLDEN_BLOBS, GOLDEN_INDEX, digest};

#[test]
fn golden_layout_reads_as_one_image() {
    let layout = Layout::open(&image::golden()).expect("golden layout opens");
    assert_eq!(layout.shape().unwrap(), Shape::Image);
    let root = layout.resolve(&Selector::Default).unwrap();
    assert_eq!(root.digest, digest(GOLDEN_INDEX));
    assert_eq!(root.size, 765);
    assert_eq!(root.media_type, media_type::OCI_INDEX);
    // The same, by its own digest, and a child manifest by digest.
    assert_eq!(
        layout
            .resolve(&Selector::Digest(digest(GOLDEN_INDEX)))
            .unwrap(),
        root
    );
    let amd64 = layout
        .resolve(&Selector::Digest(digest(GOLDEN_AMD64)))
        .unwrap();
    assert_eq!(amd64.size, 560);
    assert_eq!(
        amd64.platform.map(|p| p.architecture).as_deref(),
        Some("amd64")
    );
    assert!(layout.tags().unwrap().is_empty());
    assert!(matches!(
        layout.resolve(&Selector::Tag("latest".into())),
        Err(layout::Error::UnknownTag { .. })
    ));

    let set = layout.image_set(&root).unwrap();
    let blobs: Vec<String> = set
        .blobs()
        .iter()
        .map(|b| b.descriptor.digest.to_string())
        .collect();
    assert_eq!(blobs, GOLDEN_BLOBS);
    let manifests: Vec<String> = set
        .manifests()
        .iter()
        .map(|m| m.descriptor.digest.to_string())
        .collect();
    assert_eq!(manifests, [GOLDEN_AMD64, GOLDEN_ARM64, GOLDEN_INDEX]);
    assert_eq!(
        set.root().map(|r| r.bytes.clone()),
        Some(std::fs::read(image::golden().join("index.json")).unwrap())
    );
}

#[test]
fn golden_layout_is_rewritten_byte_for_byte() {
    let source = Layout::open(&image::golden()).unwrap();
    let set = source
        .image_set(&source.resolve(&Selector::Default).unwrap())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let copy = Layout::create(dir.path()).unwrap();
    let root = copy.write_image(&set).unwrap();
    assert_eq!(root.digest, digest(GOLDEN_INDEX));

    let read = |base: &std::path::Path, name: &str| std::fs::read(base.join(name)).unwrap();
    assert_eq!(
        read(dir.path(), "oci-layout"),
        read(&image::golden(), "oci-layout")
    );
    assert_eq!(read(dir.path(), "oci-layout").len(), 37);
    assert_eq!(
        read(dir.path(), "index.json"),
        read(&image::golden(), "index.json")
    );
    let mut ours: Vec<String> = std::fs::read_dir(dir.path().join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    ours.sort();
    let mut theirs: Vec<String> = std::fs::read_dir(image::golden().join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    theirs.sort();
    assert_eq!(
        ours, theirs,
        "the index itself is not a blob in apko's layout"
    );
    for name in &ours {
        let relative = format!("blobs/sha256/{name}");
        assert_eq!(
            read(dir.path(), &relative),
            read(&image::golden(), &relative)
        );
    }
    // Writing again changes nothing and writes no stray temporary files.
    copy.write_image(&set).unwrap();
    assert_eq!(
        std::fs::read_dir(dir.path().join("blobs/sha256"))
            .unwrap()
            .count(),
        6
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
}

#[test]
fn first_tag_converts_the_layout_and_keeps_digests() {
    let source = Layout::open(&image::golden()).unwrap();
    let set = source
        .image_set(&source.resolve(&Selector::Default).unwrap())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::create(dir.path()).unwrap();
    let root = layout.write_image(&set).unwrap();

    layout.tag("v1", &root).unwrap();
    assert_eq!(layout.shape().unwrap(), Shape::Tagged);
    assert_eq!(
        std::fs::read(layout.blob_path(&root.digest)).unwrap(),
        std::fs::read(image::golden().join("index.json")).unwrap(),
        "the image index moved into blobs/ unchanged"
    );
    let tagged = layout.resolve(&Selector::Tag("v1".into())).unwrap();
    assert_eq!(tagged.digest, digest(GOLDEN_INDEX));
    assert_eq!(tagged.media_type, media_type::OCI_INDEX);
    assert_eq!(
        layout.resolve(&Selector::Default).unwrap().digest,
        root.digest
    );
    assert_eq!(layout.read_manifest(&tagged).unwrap().len(), 765);

    // A second tag on the same image, then one on a child manifest.
    layout.tag("v2", &root).unwrap();
    let amd64 = layout
        .resolve(&Selector::Digest(digest(GOLDEN_AMD64)))
        .unwrap();
    layout.tag("amd64", &amd64).unwrap();
    let tags = layout.tags().unwrap();
    assert_eq!(tags.keys().collect::<Vec<_>>(), ["amd64", "v1", "v2"]);
    assert_eq!(tags["v2"].digest, root.digest);
    assert_eq!(tags["amd64"].digest, digest(GOLDEN_AMD64));
    assert!(matches!(
        layout.resolve(&Selector::Default),
        Err(layout::Error::Ambiguous { count: 3, .. })
    ));
    // Moving a tag replaces its entry.
    layout.tag("v1", &amd64).unwrap();
    assert_eq!(layout.tags().unwrap()["v1"].digest, digest(GOLDEN_AMD64));
    assert_eq!(layout.index().unwrap().manifests.len(), 3);
    // The whole image is still there for publishing.
    let again = layout.image_set(&tags["v2"]).unwrap();
    assert_eq!(again.blobs().len(), 4);
    assert!(matches!(
        layout.tag("bad tag", &root),
        Err(layout::Error::BadTag { .. })
    ));
    let absent = Descriptor::of(media_type::OCI_MANIFEST, b"not stored");
    assert!(matches!(
        layout.tag("x", &absent),
        Err(layout::Error::MissingBlob { .. })
    ));
}

#[test]
fn referrers_are_found_by_subject_and_in_the_tag_index() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::create(dir.path()).unwrap();
    let subject = layout.write_image(&image::tiny()).unwrap();

    // One referrer reachable through a tag, one listed only in the sha256-<hex> index.
    let bundle = "application/vnd.dev.sigstore.bundle.v0.3+json";
    let tagged = image::referrer(&subject, bundle, b"first");
    let first = layout.add_image(&tagged, "sig").unwrap();
    let listed = image::referrer(&subject, "application/example", b"second");
    let second = listed.root().unwrap().descriptor.clone();
    for blob in listed.blobs() {
        if let receipts::oci::image_set::Content::Bytes(bytes) = &blob.content {
            layout.write_blob(bytes).unwrap();
        }
    }
    layout.write_blob(&listed.root().unwrap().bytes).unwrap();
    let mut entry = second.clone();
    entry.artifact_type = Some("application/example".into());
    let index = image::referrers_index(&[entry]);
    let index_descriptor = Descriptor::of(media_type::OCI_INDEX, &index);
    layout.write_blob(&index).unwrap();
    layout
        .tag(&referrers_tag(&subject.digest), &index_descriptor)
        .unwrap();

    let all = layout.referrers(&subject.digest, None).unwrap();
    let digests: Vec<Digest> = all.iter().map(|d| d.digest).collect();
    assert_eq!(digests, [first.digest, second.digest]);
    assert_eq!(all[0].artifact_type.as_deref(), Some(bundle));
    assert_eq!(
        all[0].annotations.get("note").map(String::as_str),
        Some("test")
    );
    let only = layout.referrers(&subject.digest, Some(bundle)).unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].digest, first.digest);
    assert!(layout.referrers(&first.digest, None).unwrap().is_empty());
}

#[test]
fn blobs_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::create(dir.path()).unwrap();
    let wrong = Digest::of(b"something else");
    let result = layout.write_blob_from(&mut &b"payload"[..], &wrong);
    assert!(
        matches!(result, Err(layout::Error::DigestMismatch { expected, .. }) if expected == wrong)
    );
    assert!(!layout.has_blob(&wrong));
    assert_eq!(
        std::fs::read_dir(dir.path().join("blobs/sha256"))
            .unwrap()
            .count(),
        0,
        "no temporary file is left behind"
    );
    let good = Digest::of(b"payload");
    assert_eq!(
        layout.write_blob_from(&mut &b"payload"[..], &good).unwrap(),
        7
    );
    std::fs::write(layout.blob_path(&good), b"tampered").unwrap();
    assert!(matches!(
        layout.read_blob(&good),
        Err(layout::Error::DigestMismatch { .. })
    ));
    let mut sink = Vec::new();
    assert!(matches!(
        layout.copy_blob(&good, &mut sink),
        Err(layout::Error::DigestMismatch { .. })
    ));
    assert!(matches!(
        layout.read_blob(&Digest::of(b"absent")),
        Err(layout::Error::MissingBlob { .. })
    ));
    assert!(matches!(
        Layout::open(&dir.path().join("blobs")),
        Err(layout::Error::NotALayout { .. })
    ));
}

#[test]
fn umoci_unpacks_an_image_from_a_layout_written_here() {
    let dir = tempfile::tempdir().unwrap();
    let layout_dir = dir.path().join("layout");
    let layout = Layout::create(&layout_dir).unwrap();
    let root = layout.write_image(&image::tiny()).unwrap();
    layout.tag("v1", &root).unwrap();

    let listed = Command::new("umoci")
        .args(["ls", "--layout"])
        .arg(&layout_dir)
        .output()
        .expect("umoci runs (install it with ./scripts/test)");
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&listed.stdout).trim(), "v1");

    let bundle = dir.path().join("bundle");
    let unpacked = Command::new("umoci")
        .args(["unpack", "--rootless", "--image"])
        .arg(format!("{}:v1", layout_dir.display()))
        .arg(&bundle)
        .output()
        .expect("umoci runs");
    assert!(
        unpacked.status.success(),
        "{}",
        String::from_utf8_lossy(&unpacked.stderr)
    );
    assert_eq!(
        std::fs::read(bundle.join("rootfs/hello.txt")).unwrap(),
        image::HELLO
    );
    assert!(bundle.join("rootfs/etc").is_dir());
}

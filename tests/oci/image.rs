//! Images for the OCI tests: apko's golden layout, and a tiny single-layer image made here.

use std::io::Write as _;
use std::path::PathBuf;

use receipts::oci::image_set::Content;
use receipts::oci::{Descriptor, Digest, ImageSet, media_type};

use crate::support;

/// apko's golden OCI layout (reference/test-data.md §1.2).
pub fn golden() -> PathBuf {
    support::data("chainguard-dev/apko/internal/cli/testdata/golden")
}

/// Digest of the golden `index.json`.
pub const GOLDEN_INDEX: &str =
    "sha256:b5f05e6fc882c97d61c1daee566954ae6fc09924f8e152293e2b97a06092069f";
/// The golden amd64 manifest.
pub const GOLDEN_AMD64: &str =
    "sha256:69f0237c7f8cf0b8a329d1bf1d6870c870c4ec323e39d3a6da59596632d0f2f4";
/// The golden arm64 manifest.
pub const GOLDEN_ARM64: &str =
    "sha256:124c885f834cfaf1329987457a9651a68c4fb9733d4462ae6288b98011277858";
/// The golden configs and layers.
pub const GOLDEN_BLOBS: [&str; 4] = [
    "sha256:6c815259150f37d000417f9a93f41bddf74dff905c745986069d4b03e954ac1d",
    "sha256:c7557730da0e2d7fb242d8d1ac6dcf7e3a2439732aa5981270b4f3a02454b738",
    "sha256:fbb854f9d5a601a36c4dc8cc82e5b21e91b11cdd4aab5035340e4f517c5a8eb1",
    "sha256:7e0f9d62f6cab4785e18a55f17d03f20ffb776881f1f46258efd9458f7cdaf08",
];

pub fn digest(text: &str) -> Digest {
    Digest::parse(text).expect("test digest")
}

/// What [`tiny`] put into its layer.
pub const HELLO: &[u8] = b"hello from receipts\n";

/// A one-platform image: an index over a manifest whose only layer is a gzip tar holding
/// `hello.txt` (and its directory `etc/`). Byte-exactness is not the point here.
pub fn tiny() -> ImageSet {
    let mut tar = tar::Builder::new(Vec::new());
    let mut dir = tar::Header::new_ustar();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(0o755);
    dir.set_size(0);
    tar.append_data(&mut dir, "etc/", std::io::empty())
        .expect("tar dir");
    let mut file = tar::Header::new_ustar();
    file.set_mode(0o644);
    file.set_size(HELLO.len() as u64);
    tar.append_data(&mut file, "hello.txt", HELLO)
        .expect("tar file");
    let layer_tar = tar.into_inner().expect("tar end");
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(&layer_tar).expect("gzip");
    let layer = gzip.finish().expect("gzip end");

    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{"Env":["PATH=/usr/bin:/bin"]}},"rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
        Digest::of(&layer_tar)
    )
    .into_bytes();
    let config_descriptor = Descriptor::of(media_type::OCI_CONFIG, &config);
    let layer_descriptor = Descriptor::of(media_type::OCI_LAYER_GZIP, &layer);
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{},"layers":[{}]}}"#,
        media_type::OCI_MANIFEST,
        serde_json::to_string(&config_descriptor).expect("json"),
        serde_json::to_string(&layer_descriptor).expect("json"),
    )
    .into_bytes();
    let mut set = ImageSet::new();
    set.add_blob(config_descriptor, Content::Bytes(config));
    set.add_blob(layer_descriptor, Content::Bytes(layer));
    let mut manifest_descriptor = set.add_manifest(media_type::OCI_MANIFEST, manifest);
    manifest_descriptor.platform = Some(receipts::oci::Platform {
        architecture: "amd64".into(),
        os: "linux".into(),
        os_version: None,
        os_features: Vec::new(),
        variant: None,
        features: Vec::new(),
    });
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{}]}}"#,
        media_type::OCI_INDEX,
        serde_json::to_string(&manifest_descriptor).expect("json"),
    )
    .into_bytes();
    set.add_manifest(media_type::OCI_INDEX, index);
    set
}

/// An artifact manifest referring to `subject` (OCI 1.1: empty config, `artifactType`,
/// `subject`), with one layer holding `payload`. Returns the set (blobs and the manifest).
pub fn referrer(subject: &Descriptor, artifact_type: &str, payload: &[u8]) -> ImageSet {
    let empty = Descriptor::of(media_type::OCI_EMPTY, b"{}");
    let layer = Descriptor::of("application/vnd.dev.sigstore.bundle.v0.3+json", payload);
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{},"layers":[{}],"annotations":{{"note":"test"}},"subject":{},"artifactType":"{artifact_type}"}}"#,
        media_type::OCI_MANIFEST,
        serde_json::to_string(&empty).expect("json"),
        serde_json::to_string(&layer).expect("json"),
        serde_json::to_string(&Descriptor::new(
            subject.media_type.clone(),
            subject.size,
            subject.digest
        ))
        .expect("json"),
    )
    .into_bytes();
    let mut set = ImageSet::new();
    set.add_blob(empty, Content::Bytes(b"{}".to_vec()));
    set.add_blob(layer, Content::Bytes(payload.to_vec()));
    set.add_manifest(media_type::OCI_MANIFEST, manifest);
    set
}

/// A referrers tag-schema index listing these descriptors, as cosign writes it.
pub fn referrers_index(entries: &[Descriptor]) -> Vec<u8> {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","manifests":{}}}"#,
        media_type::OCI_INDEX,
        serde_json::to_string(entries).expect("json")
    )
    .into_bytes()
}

/// `size` bytes that do not compress and do not repeat at chunk boundaries.
pub fn noise(size: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

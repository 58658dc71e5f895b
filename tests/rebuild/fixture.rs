//! A writable copy of apko's golden OCI layout (two platforms, one layer each) and the edits a
//! test makes to it: replace a platform's layer blob and rewrite, as a publisher would, the
//! config (when the diff_id changes), the manifest and the image index.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use receipts::codec::tar::{self, EntryType, Header};
use receipts::oci::layout::Layout;
use receipts::oci::{Digest, Reference, Store};
use serde_json::Value;

use crate::support;

/// apko's golden layout (reference/test-data.md §1.2).
pub const GOLDEN: &str = "chainguard-dev/apko/internal/cli/testdata/golden";
/// Its image index digest.
pub const GOLDEN_INDEX: &str =
    "sha256:b5f05e6fc882c97d61c1daee566954ae6fc09924f8e152293e2b97a06092069f";
/// The amd64 layer's diff_id.
pub const AMD64_DIFF_ID: &str =
    "sha256:20f698463c2755b6dc42b7d07e959ed7455a06e7367d507e829a315898f21a01";
/// The amd64 layer blob.
pub const AMD64_LAYER: &str =
    "sha256:c7557730da0e2d7fb242d8d1ac6dcf7e3a2439732aa5981270b4f3a02454b738";

/// A copy of a layout in a temporary directory.
pub struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// A writable copy of apko's golden layout.
    pub fn golden() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&support::data(GOLDEN), dir.path());
        Fixture { dir }
    }

    /// The layout directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `oci:DIR`.
    pub fn reference(&self) -> String {
        format!("oci:{}", self.path().display())
    }

    /// The layout as a store.
    pub fn store(&self) -> Store {
        Store::open(
            &Reference::parse(&self.reference()).unwrap(),
            &Default::default(),
        )
        .unwrap()
    }

    /// The image index digest (`index.json` is the index).
    pub fn root(&self) -> Digest {
        Digest::of(&std::fs::read(self.path().join("index.json")).unwrap())
    }

    /// A blob's path.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.path().join("blobs/sha256").join(digest.hex())
    }

    /// A blob's bytes.
    pub fn blob(&self, digest: &Digest) -> Vec<u8> {
        std::fs::read(self.blob_path(digest)).unwrap()
    }

    fn write_blob(&self, bytes: &[u8]) -> Digest {
        let digest = Digest::of(bytes);
        std::fs::write(self.blob_path(&digest), bytes).unwrap();
        digest
    }

    fn json(&self, digest: &Digest) -> Value {
        serde_json::from_slice(&self.blob(digest)).unwrap()
    }

    fn index(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.path().join("index.json")).unwrap()).unwrap()
    }

    /// The platform's position in the index and its manifest digest.
    fn platform(&self, architecture: &str) -> (usize, Digest) {
        let index = self.index();
        let manifests = index["manifests"].as_array().unwrap();
        let position = manifests
            .iter()
            .position(|m| m["platform"]["architecture"] == architecture)
            .unwrap();
        let digest = Digest::parse(manifests[position]["digest"].as_str().unwrap()).unwrap();
        (position, digest)
    }

    /// The platform's first layer blob.
    pub fn layer(&self, architecture: &str) -> Vec<u8> {
        let (_, manifest) = self.platform(architecture);
        let manifest = self.json(&manifest);
        self.blob(&Digest::parse(manifest["layers"][0]["digest"].as_str().unwrap()).unwrap())
    }

    /// Adds a regular file `name` holding `content` to the platform's first layer, recompressed
    /// with `gzip` and its diff_id rewritten: an image whose files differ from the rebuild's.
    pub fn add_file(&self, architecture: &str, name: &str, content: &[u8]) {
        let tar = add_file(&gunzip(&self.layer(architecture)), name, content);
        self.replace_layer(architecture, &real_gzip(&tar, None), Some(Digest::of(&tar)));
    }

    /// Recompresses the platform's first layer with `gzip` (same tar, other gzip bytes): an image
    /// equivalent to the rebuild's but not identical.
    pub fn regzip(&self, architecture: &str) {
        let tar = gunzip(&self.layer(architecture));
        self.replace_layer(architecture, &real_gzip(&tar, None), None);
    }

    /// Replaces the platform's first layer with `blob`; with `diff_id`, also rewrites the
    /// config's first diff_id. Manifest and index are rewritten to the new digests.
    pub fn replace_layer(&self, architecture: &str, blob: &[u8], diff_id: Option<Digest>) {
        let (position, manifest_digest) = self.platform(architecture);
        let mut manifest = self.json(&manifest_digest);
        let layer = self.write_blob(blob);
        manifest["layers"][0]["digest"] = Value::from(layer.to_string());
        manifest["layers"][0]["size"] = Value::from(blob.len());
        if let Some(diff_id) = diff_id {
            let config_digest =
                Digest::parse(manifest["config"]["digest"].as_str().unwrap()).unwrap();
            let mut config = self.json(&config_digest);
            config["rootfs"]["diff_ids"][0] = Value::from(diff_id.to_string());
            let bytes = serde_json::to_vec(&config).unwrap();
            manifest["config"]["digest"] = Value::from(self.write_blob(&bytes).to_string());
            manifest["config"]["size"] = Value::from(bytes.len());
        }
        let bytes = serde_json::to_vec(&manifest).unwrap();
        let new_manifest = self.write_blob(&bytes);
        let mut index = self.index();
        index["manifests"][position]["digest"] = Value::from(new_manifest.to_string());
        index["manifests"][position]["size"] = Value::from(bytes.len());
        std::fs::write(
            self.path().join("index.json"),
            serde_json::to_vec(&index).unwrap(),
        )
        .unwrap();
    }

    /// The layout's image set, to publish to a registry.
    pub fn image_set(&self) -> receipts::oci::ImageSet {
        let layout = Layout::open(self.path()).unwrap();
        layout
            .image_set(&layout.resolve(&receipts::oci::Selector::Default).unwrap())
            .unwrap()
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::write(&target, std::fs::read(entry.path()).unwrap()).unwrap();
        }
    }
}

/// `gzip -9` run on `data`: from stdin (no name), or on a file called `name` (FNAME set).
pub fn real_gzip(data: &[u8], name: Option<&str>) -> Vec<u8> {
    match name {
        None => {
            let mut child = Command::new("gzip")
                .args(["-9", "-n", "-c"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("gzip is runnable");
            child.stdin.take().unwrap().write_all(data).unwrap();
            let output = child.wait_with_output().unwrap();
            assert!(output.status.success());
            output.stdout
        }
        Some(name) => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(name);
            std::fs::write(&path, data).unwrap();
            let output = Command::new("gzip")
                .args(["-9", "-c"])
                .arg(&path)
                .output()
                .expect("gzip is runnable");
            assert!(output.status.success());
            output.stdout
        }
    }
}

/// The uncompressed tar of a gzip layer.
pub fn gunzip(blob: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(blob)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// `tar` with one more regular file appended, written by our Go-compatible tar writer.
pub fn add_file(tar_bytes: &[u8], name: &str, content: &[u8]) -> Vec<u8> {
    let mut reader = tar::Reader::new(tar_bytes);
    let mut writer = tar::Writer::new(Vec::new());
    while let Some(header) = reader.next_header().unwrap() {
        let mut data = Vec::new();
        reader.read_to_end(&mut data).unwrap();
        writer.append(&header, &data[..]).unwrap();
    }
    let header = Header {
        typeflag: EntryType::REGULAR,
        name: name.as_bytes().to_vec(),
        size: content.len() as i64,
        mode: 0o644,
        ..Header::default()
    };
    writer.append(&header, content).unwrap();
    writer.finish().unwrap()
}

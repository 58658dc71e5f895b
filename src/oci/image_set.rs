//! An image ready to publish: its blobs and its manifests, each with the exact bytes that were
//! hashed, in the order a registry accepts them.
//!
//! A registry refuses a manifest whose blobs or child manifests it does not hold yet
//! (distribution 2.8: `MANIFEST_BLOB_UNKNOWN`), so an [`ImageSet`] keeps blobs apart from
//! manifests and manifests children first; the last manifest added is the root (the image
//! index or the single manifest) and is the one a tag names. Blobs may stay on disk. Pure: it
//! only records; [`super::registry::Registry::publish`] and [`super::layout`] do the I/O.
//!
//! Not for: building the documents (the image builder) or reading them back
//! ([`super::manifest`]).

use std::path::PathBuf;

use super::descriptor::Descriptor;

/// Where a blob's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// In memory.
    Bytes(Vec<u8>),
    /// In a file, streamed when pushed.
    File(PathBuf),
}

/// A config or layer blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// What it is; the digest is checked by whoever stores it.
    pub descriptor: Descriptor,
    /// Its bytes.
    pub content: Content,
}

/// A manifest or index with its exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawManifest {
    /// Its media type, size and digest (of exactly `bytes`).
    pub descriptor: Descriptor,
    /// The bytes that were hashed.
    pub bytes: Vec<u8>,
}

/// Blobs, then manifests children first; the last manifest is the root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageSet {
    blobs: Vec<Blob>,
    manifests: Vec<RawManifest>,
}

impl ImageSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a blob; a blob already present (several platforms often share one) is kept once.
    pub fn add_blob(&mut self, descriptor: Descriptor, content: Content) {
        if !self
            .blobs
            .iter()
            .any(|b| b.descriptor.digest == descriptor.digest)
        {
            self.blobs.push(Blob {
                descriptor,
                content,
            });
        }
    }

    /// Adds a manifest after everything it references; returns its descriptor. The last one
    /// added is the root.
    pub fn add_manifest(&mut self, media_type: &str, bytes: Vec<u8>) -> Descriptor {
        let descriptor = Descriptor::of(media_type, &bytes);
        // A manifest added twice keeps its first place, which is already after its children and
        // before everything that was added pointing at it.
        if !self
            .manifests
            .iter()
            .any(|m| m.descriptor.digest == descriptor.digest)
        {
            self.manifests.push(RawManifest {
                descriptor: descriptor.clone(),
                bytes,
            });
        }
        descriptor
    }

    /// The blobs, in the order added.
    pub fn blobs(&self) -> &[Blob] {
        &self.blobs
    }

    /// The manifests, children first.
    pub fn manifests(&self) -> &[RawManifest] {
        &self.manifests
    }

    /// The root manifest or index: the last one added.
    pub fn root(&self) -> Option<&RawManifest> {
        self.manifests.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::manifest::media_type;

    #[test]
    fn shared_blobs_are_kept_once_and_the_last_manifest_is_the_root() {
        let mut set = ImageSet::new();
        let config = Descriptor::of(media_type::OCI_CONFIG, b"{}");
        set.add_blob(config.clone(), Content::Bytes(b"{}".to_vec()));
        set.add_blob(config, Content::Bytes(b"{}".to_vec()));
        assert_eq!(set.blobs().len(), 1);
        let child = set.add_manifest(media_type::OCI_MANIFEST, b"{\"a\":1}".to_vec());
        let root = set.add_manifest(media_type::OCI_INDEX, b"{\"b\":2}".to_vec());
        assert_eq!(set.manifests().len(), 2);
        assert_eq!(set.root().map(|m| &m.descriptor), Some(&root));
        assert_eq!(set.manifests()[0].descriptor, child);
        assert_eq!(root.size, 7);
    }
}

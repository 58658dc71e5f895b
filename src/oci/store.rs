//! Where images live, as two small traits: a [`Source`] reads manifests, blobs, tags and
//! referrers; a [`Sink`] stores blobs and manifests and publishes whole images. A registry
//! repository ([`RegistryRepository`]) and an OCI layout directory ([`Layout`]) are both; a
//! [`Store`] is either behind one handle, opened from a [`Reference`], so commands that read or
//! attach to "IMAGE" (`attest`, `download`, `verify`, the audit, `diff`) never care which.
//!
//! Implementers write the raw operations; checks that hold for every store are provided
//! methods written once here, as go-containerregistry's `partial` derives the rest of a
//! `v1.Image`: [`Source::manifest`] and [`Source::tagged`] check that the bytes hash to the
//! digest asked for and that they are a manifest or index. Blobs stream through their digest
//! check. Writes keep the registry order: blobs, then manifests, then tags. Adding a store is
//! one new implementation (and, when a reference can name it, one line in [`Store::open`]).
//!
//! Not for: the wire protocol ([`super::registry`]) or the layout's files ([`super::layout`]);
//! the documents themselves ([`super::manifest`]).

mod layout;
mod registry;

use std::io::Write;

use super::descriptor::Descriptor;
use super::digest::Digest;
use super::image_set::{Blob, ImageSet, RawManifest};
use super::layout::{Layout, LayoutLock};
use super::manifest;
use super::reference::Reference;
use super::registry::Settings;

pub use registry::RegistryRepository;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A registry operation failed.
    #[error(transparent)]
    Registry(#[from] super::registry::Error),
    /// A layout operation failed.
    #[error(transparent)]
    Layout(#[from] super::layout::Error),
    /// A manifest's bytes do not hash to the digest they were fetched by.
    #[error("{store}: manifest {expected} has digest {actual}")]
    ManifestDigest {
        /// The store.
        store: String,
        /// The digest asked for.
        expected: Digest,
        /// The digest of the bytes received.
        actual: Digest,
    },
    /// A manifest of unknown media type.
    #[error("{store}: {digest} is neither an image manifest nor an index")]
    NotAManifest {
        /// The store.
        store: String,
        /// Its digest.
        digest: Digest,
    },
}

/// The largest config, envelope or bundle [`Source::read_blob`] takes from a registry into
/// memory (cosign's own limit on such blobs is 128 MiB; ours need a few kilobytes).
pub const SMALL_BLOB_LIMIT: u64 = 16 << 20;

impl Error {
    /// Whether the thing asked for is not there (a registry's 404, a layout without the tag
    /// or digest), as opposed to a store that could not be read.
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::Registry(error) => {
                matches!(
                    error.last_attempt(),
                    super::registry::Error::NotFound { .. }
                )
            }
            Self::Layout(error) => matches!(
                error,
                super::layout::Error::UnknownTag { .. }
                    | super::layout::Error::UnknownDigest { .. }
            ),
            _ => false,
        }
    }
}

/// A place images are read from (go-containerregistry's `remote` and `layout` readers).
pub trait Source {
    /// `HOST/REPO` or `oci:DIR`, for messages.
    fn name(&self) -> String;

    /// What a reference's tag, digest or default currently names (its media type, size and
    /// digest). `reference` should name this store; a reference of the other kind is read for
    /// its tag or digest alone.
    fn resolve(&self, reference: &Reference) -> Result<Descriptor, Error>;

    /// What `tag` names, or `None` when the tag does not exist.
    fn resolve_tag(&self, tag: &str) -> Result<Option<Descriptor>, Error>;

    /// The bytes of the manifest or index with this digest, as stored (unchecked: use
    /// [`Source::manifest`]).
    fn fetch_manifest(&self, digest: &Digest) -> Result<RawManifest, Error>;

    /// The manifest or index `tag` names, as stored, or `None` when the tag does not exist
    /// (unchecked: use [`Source::tagged`]).
    fn fetch_tagged(&self, tag: &str) -> Result<Option<RawManifest>, Error>;

    /// Streams a blob into `out`, checking its digest on the way; returns its size. On an
    /// error `out` may hold part of the bytes: discard them.
    fn copy_blob(&self, digest: &Digest, out: &mut dyn Write) -> Result<u64, Error>;

    /// The manifests whose `subject` is `subject` (referrers API or `sha256-<hex>` tag index
    /// in a registry; reachable manifests and the tag index in a layout), optionally one
    /// artifact type only.
    fn referrers(
        &self,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, Error>;

    /// The tags this store holds.
    fn tags(&self) -> Result<Vec<String>, Error>;

    /// A small blob (a config, an envelope) in memory, checked against its digest. Provided:
    /// [`Source::copy_blob`] into memory; a store that must bound what it reads overrides it.
    fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>, Error> {
        let mut bytes = Vec::new();
        self.copy_blob(digest, &mut bytes)?;
        Ok(bytes)
    }

    /// The exact bytes of the manifest or index with this digest, checked against it and
    /// known to be a manifest or an index.
    fn manifest(&self, digest: &Digest) -> Result<RawManifest, Error> {
        let raw = self.fetch_manifest(digest)?;
        check_digest(&self.name(), &raw, digest)?;
        let media_type = &raw.descriptor.media_type;
        if manifest::media_type_of(&raw.bytes).is_none()
            && !manifest::media_type::is_index(media_type)
            && !manifest::media_type::is_manifest(media_type)
        {
            return Err(Error::NotAManifest {
                store: self.name(),
                digest: *digest,
            });
        }
        Ok(raw)
    }

    /// The manifest or index a tag names, or `None` when the tag does not exist. Checked
    /// against its digest.
    fn tagged(&self, tag: &str) -> Result<Option<RawManifest>, Error> {
        let Some(raw) = self.fetch_tagged(tag)? else {
            return Ok(None);
        };
        check_digest(&self.name(), &raw, &raw.descriptor.digest)?;
        Ok(Some(raw))
    }
}

/// A place images are written to (go-containerregistry's `remote.Write` and `layout.Write`).
pub trait Sink {
    /// Stores a blob unless present.
    fn put_blob(&self, blob: &Blob) -> Result<(), Error>;

    /// Stores a manifest by digest and, with `tag`, points the tag at it. Every blob and child
    /// it references must be stored already.
    fn put_manifest(
        &self,
        bytes: &[u8],
        media_type: &str,
        tag: Option<&str>,
    ) -> Result<Descriptor, Error>;

    /// Publishes a whole image (blobs, children, root) and, with `tag`, tags its root.
    fn publish(&self, set: &ImageSet, tag: Option<&str>) -> Result<Descriptor, Error>;

    /// Whether the store keeps referrers lists itself (a registry answering the referrers API
    /// for `subject`). When not, writers maintain the `sha256-<hex>` tag index. Provided: no.
    fn has_referrers_api(&self, _subject: &Digest) -> Result<bool, Error> {
        Ok(false)
    }

    /// Exclusive write access, held until the returned lock is dropped, for a store where
    /// writers can take turns (a layout); `None` where they cannot, and a writer must read its
    /// tag back to see whether another replaced it (a registry). Provided: `None`.
    fn lock(&self) -> Result<Option<WriteLock>, Error> {
        Ok(None)
    }
}

/// Exclusive write access to a store, released when dropped ([`Sink::lock`]).
#[derive(Debug)]
pub enum WriteLock {
    /// A layout's lock.
    Layout(LayoutLock),
}

/// Both sides of a store, as one object.
pub trait Storage: Source + Sink + Send + Sync {}

impl<T: Source + Sink + Send + Sync> Storage for T {}

/// A registry repository or an OCI layout (or any other [`Storage`]) behind one handle.
pub struct Store(Box<dyn Storage>);

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.name())
    }
}

impl From<Layout> for Store {
    fn from(layout: Layout) -> Self {
        Self::new(layout)
    }
}

impl Store {
    /// A store over `storage`.
    pub fn new(storage: impl Storage + 'static) -> Self {
        Self(Box::new(storage))
    }

    /// Opens the store `reference` names for reading: the layout must exist.
    pub fn open(reference: &Reference, settings: &Settings) -> Result<Self, Error> {
        match reference {
            Reference::Remote(remote) => Ok(Self::new(RegistryRepository::new(
                settings,
                remote.repository(),
            )?)),
            Reference::Local(local) => Ok(Self::new(Layout::open(local.dir())?)),
        }
    }

    /// Opens the store `reference` names for writing: a missing layout is created by the first
    /// write ([`Sink::publish`] writes a new layout beside it and renames it into place).
    pub fn create(reference: &Reference, settings: &Settings) -> Result<Self, Error> {
        match reference {
            Reference::Local(local) if !local.dir().exists() => {
                Ok(Self::new(Layout::planned(local.dir())))
            }
            Reference::Local(local) => Ok(Self::new(Layout::create(local.dir())?)),
            Reference::Remote(_) => Self::open(reference, settings),
        }
    }

    /// The store as a [`Source`].
    pub fn source(&self) -> &dyn Source {
        &*self.0
    }

    /// The store as a [`Sink`].
    pub fn sink(&self) -> &dyn Sink {
        &*self.0
    }

    // The trait methods again, inherent, so callers need not import the traits.

    /// [`Source::name`].
    pub fn name(&self) -> String {
        self.0.name()
    }

    /// [`Source::resolve`].
    pub fn resolve(&self, reference: &Reference) -> Result<Descriptor, Error> {
        self.0.resolve(reference)
    }

    /// [`Source::resolve_tag`].
    pub fn resolve_tag(&self, tag: &str) -> Result<Option<Descriptor>, Error> {
        self.0.resolve_tag(tag)
    }

    /// [`Source::manifest`].
    pub fn manifest(&self, digest: &Digest) -> Result<RawManifest, Error> {
        self.0.manifest(digest)
    }

    /// [`Source::tagged`].
    pub fn tagged(&self, tag: &str) -> Result<Option<RawManifest>, Error> {
        self.0.tagged(tag)
    }

    /// [`Source::copy_blob`].
    pub fn copy_blob(&self, digest: &Digest, out: &mut dyn Write) -> Result<u64, Error> {
        self.0.copy_blob(digest, out)
    }

    /// [`Source::read_blob`].
    pub fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>, Error> {
        self.0.read_blob(digest)
    }

    /// [`Source::referrers`].
    pub fn referrers(
        &self,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, Error> {
        self.0.referrers(subject, artifact_type)
    }

    /// [`Source::tags`].
    pub fn tags(&self) -> Result<Vec<String>, Error> {
        self.0.tags()
    }

    /// [`Sink::put_blob`].
    pub fn put_blob(&self, blob: &Blob) -> Result<(), Error> {
        self.0.put_blob(blob)
    }

    /// [`Sink::put_manifest`].
    pub fn put_manifest(
        &self,
        bytes: &[u8],
        media_type: &str,
        tag: Option<&str>,
    ) -> Result<Descriptor, Error> {
        self.0.put_manifest(bytes, media_type, tag)
    }

    /// [`Sink::publish`]. A layout keeps its other images; without a tag the image becomes its
    /// default (untagged) one.
    pub fn publish(&self, set: &ImageSet, tag: Option<&str>) -> Result<Descriptor, Error> {
        self.0.publish(set, tag)
    }

    /// [`Sink::has_referrers_api`].
    pub fn has_referrers_api(&self, subject: &Digest) -> Result<bool, Error> {
        self.0.has_referrers_api(subject)
    }

    /// [`Sink::lock`].
    pub fn lock(&self) -> Result<Option<WriteLock>, Error> {
        self.0.lock()
    }
}

/// Checks that a manifest's bytes hash to `expected`.
fn check_digest(store: &str, raw: &RawManifest, expected: &Digest) -> Result<(), Error> {
    let actual = Digest::of(&raw.bytes);
    if actual != *expected {
        return Err(Error::ManifestDigest {
            store: store.to_owned(),
            expected: *expected,
            actual,
        });
    }
    Ok(())
}

/// A tag that failed validation although it came from a valid reference or a constant.
fn unreachable_tag(tag: &str) -> Error {
    Error::Layout(super::layout::Error::BadTag {
        path: std::path::PathBuf::from(tag),
        tag: tag.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::*;
    use crate::oci::image_set::Content;
    use crate::oci::manifest::media_type;

    /// A store in memory: written only against the two traits, nothing else in `oci` knows it.
    #[derive(Default)]
    struct Memory {
        blobs: Mutex<BTreeMap<Digest, Vec<u8>>>,
        tags: Mutex<BTreeMap<String, RawManifest>>,
    }

    impl Source for Memory {
        fn name(&self) -> String {
            "memory".to_owned()
        }
        fn resolve(&self, _: &Reference) -> Result<Descriptor, Error> {
            Err(unreachable_tag("latest"))
        }
        fn resolve_tag(&self, tag: &str) -> Result<Option<Descriptor>, Error> {
            Ok(self.fetch_tagged(tag)?.map(|raw| raw.descriptor))
        }
        fn fetch_manifest(&self, digest: &Digest) -> Result<RawManifest, Error> {
            let tags = self.tags.lock().expect("not poisoned");
            let found = tags.values().find(|raw| raw.descriptor.digest == *digest);
            found.cloned().ok_or_else(|| unreachable_tag("absent"))
        }
        fn fetch_tagged(&self, tag: &str) -> Result<Option<RawManifest>, Error> {
            Ok(self.tags.lock().expect("not poisoned").get(tag).cloned())
        }
        fn copy_blob(&self, digest: &Digest, out: &mut dyn Write) -> Result<u64, Error> {
            let blobs = self.blobs.lock().expect("not poisoned");
            let bytes = blobs.get(digest).ok_or_else(|| unreachable_tag("absent"))?;
            out.write_all(bytes).expect("into memory");
            Ok(bytes.len() as u64)
        }
        fn referrers(&self, _: &Digest, _: Option<&str>) -> Result<Vec<Descriptor>, Error> {
            Ok(Vec::new())
        }
        fn tags(&self) -> Result<Vec<String>, Error> {
            Ok(self
                .tags
                .lock()
                .expect("not poisoned")
                .keys()
                .cloned()
                .collect())
        }
    }

    impl Sink for Memory {
        fn put_blob(&self, blob: &Blob) -> Result<(), Error> {
            let Content::Bytes(bytes) = &blob.content else {
                return Err(unreachable_tag("file"));
            };
            let mut blobs = self.blobs.lock().expect("not poisoned");
            blobs.insert(blob.descriptor.digest, bytes.clone());
            Ok(())
        }
        fn put_manifest(
            &self,
            bytes: &[u8],
            kind: &str,
            tag: Option<&str>,
        ) -> Result<Descriptor, Error> {
            let raw = RawManifest {
                descriptor: Descriptor::of(kind, bytes),
                bytes: bytes.to_vec(),
            };
            let descriptor = raw.descriptor.clone();
            let key = tag.map_or_else(|| descriptor.digest.to_string(), str::to_owned);
            self.tags.lock().expect("not poisoned").insert(key, raw);
            Ok(descriptor)
        }
        fn publish(&self, set: &ImageSet, tag: Option<&str>) -> Result<Descriptor, Error> {
            set.blobs()
                .iter()
                .try_for_each(|blob| self.put_blob(blob))?;
            let mut root = Err(unreachable_tag("empty"));
            for raw in set.manifests() {
                root = self.put_manifest(&raw.bytes, &raw.descriptor.media_type, tag);
            }
            root
        }
    }

    #[test]
    fn a_new_store_gets_the_checked_reads_for_free() {
        let store = Store::new(Memory::default());
        let manifest = br#"{"schemaVersion":2,"config":{"mediaType":"m","size":0,"digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},"layers":[]}"#;
        let root = store
            .put_manifest(manifest, media_type::OCI_MANIFEST, Some("v1"))
            .expect("stored");
        assert_eq!(store.manifest(&root.digest).expect("read").bytes, manifest);
        assert_eq!(
            store.tagged("v1").expect("read").map(|r| r.descriptor),
            Some(root)
        );
        assert!(store.tagged("v2").expect("read").is_none());
        assert_eq!(store.tags().expect("tags"), ["v1"]);
        assert!(!store.has_referrers_api(&Digest::of(b"")).expect("answer"));
        assert!(store.lock().expect("answer").is_none());

        // Bytes that do not hash to the digest they are stored under are refused by the
        // provided checks, whatever the store.
        let memory = Memory::default();
        let lie = RawManifest {
            descriptor: Descriptor::of(media_type::OCI_MANIFEST, b"{}"),
            bytes: manifest.to_vec(),
        };
        memory
            .tags
            .lock()
            .expect("not poisoned")
            .insert("bad".into(), lie);
        assert!(matches!(
            Store::new(memory).tagged("bad"),
            Err(Error::ManifestDigest { .. })
        ));
        // A blob that is not a manifest is refused as one.
        let store = Store::new(Memory::default());
        let blob = store
            .put_manifest(b"\x1f\x8b", "application/octet-stream", None)
            .expect("stored");
        assert!(matches!(
            store.manifest(&blob.digest),
            Err(Error::NotAManifest { .. })
        ));
    }
}

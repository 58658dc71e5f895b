//! OCI image layout directories: `oci-layout`, `index.json` and `blobs/sha256/<hex>`.
//!
//! Two shapes exist and both are read and written:
//!
//! * **image** — what `apko build` (ggcr `layout.Write`) writes: `index.json` *is* the image
//!   index, byte for byte, so the image's digest is the digest of `index.json`
//!   ([`Layout::write_image`]). No entry carries a `org.opencontainers.image.ref.name`.
//! * **tagged** — what skopeo, umoci and oras write: `index.json` lists manifests or indexes
//!   stored as blobs, tags given by `org.opencontainers.image.ref.name` ([`Layout::tag`]).
//!
//! The first tag written into an image-shaped layout converts it: the image index becomes a
//! blob and a new `index.json` lists it under the tag, so no digest changes.
//! [`Layout::resolve`] turns `oci:DIR`, `oci:DIR:TAG` and `oci:DIR@DIGEST` into a descriptor;
//! [`Layout::referrers`] finds manifests whose `subject` is a digest, both in the
//! `sha256-<hex>` tag index and among the manifests `index.json` reaches.
//!
//! Blobs are written to a scratch file and renamed into place; a blob already present is not
//! written again. Writers hold [`Layout::lock`] (a `flock` on the layout's `oci-layout` file,
//! so no lock file is ever left behind) from their first blob to their `index.json`:
//! [`Layout::publish`] and the attestation store do, so [`Layout::collect_garbage`], which
//! takes it too, never removes a blob a writer is about to name. Whole images go in through
//! [`publish`], which keeps the layout's other entries and leaves no half-written layout
//! (module `publish`); `gc` finds what nothing reaches. `oci:DIR` without tag or digest names the only entry that is not a
//! cosign attachment tag (`sha256-<hex>`, `.att`, `.sig`, `.sbom`).
//!
//! Not for: registries ([`super::registry`]); the bytes of the documents themselves (the image
//! builder). Reproduces ggcr `pkg/v1/layout/write.go` for the image shape
//! (reference/apko-format.md §10.6) and the OCI image-spec `image-layout.md`.

mod blobs;
pub mod gc;
mod publish;
mod walk;

pub use publish::publish;

use blobs::write_atomically_releasing;

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::descriptor::{Descriptor, REF_NAME};
use super::digest::Digest;
use super::image_set::{Content, ImageSet};
use super::manifest::{self, Index, media_type};
use super::reference::{self, Selector};

/// The `oci-layout` file exactly as ggcr writes it: 37 bytes, indented, no final newline.
pub const LAYOUT_MARKER: &[u8] = b"{\n    \"imageLayoutVersion\": \"1.0.0\"\n}";

/// Why a layout cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The directory has no readable `oci-layout` file with an `imageLayoutVersion`.
    #[error("{path}: not an OCI image layout (no valid oci-layout file)", path = path.display())]
    NotALayout {
        /// The directory.
        path: PathBuf,
    },
    /// A file cannot be read, written or renamed.
    #[error("{path}: I/O failure", path = path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The failure.
        #[source]
        source: io::Error,
    },
    /// `index.json` or a stored manifest is not what it claims to be.
    #[error("{path}: malformed document", path = path.display())]
    Document {
        /// The file.
        path: PathBuf,
        /// What the parser found.
        #[source]
        source: manifest::Error,
    },
    /// A blob's content does not hash to its name.
    #[error("{path}: content has digest {actual}, expected {expected}", path = path.display())]
    DigestMismatch {
        /// The blob file (or the stream being stored).
        path: PathBuf,
        /// The digest it should have.
        expected: Digest,
        /// The digest it has.
        actual: Digest,
    },
    /// A blob's size differs from its descriptor's.
    #[error("{path}: {actual} bytes, descriptor says {expected}", path = path.display())]
    SizeMismatch {
        /// The blob file.
        path: PathBuf,
        /// The descriptor's size.
        expected: u64,
        /// The file's size.
        actual: u64,
    },
    /// Something refers to a blob the layout does not hold.
    #[error("{path}: blob {digest} is missing", path = path.display())]
    MissingBlob {
        /// The layout directory.
        path: PathBuf,
        /// The missing blob.
        digest: Digest,
    },
    /// No entry carries this tag.
    #[error("{path}: no image tagged {tag:?} (tags: {tags:?})", path = path.display())]
    UnknownTag {
        /// The layout directory.
        path: PathBuf,
        /// The tag asked for.
        tag: String,
        /// The tags present.
        tags: Vec<String>,
    },
    /// The digest names neither `index.json` nor a manifest or index in the layout.
    #[error("{path}: no manifest or index with digest {digest}", path = path.display())]
    UnknownDigest {
        /// The layout directory.
        path: PathBuf,
        /// The digest asked for.
        digest: Digest,
    },
    /// `oci:DIR` without tag or digest, but the layout lists several images (or none).
    #[error("{path}: {count} images listed; name one by tag or digest (tags: {tags:?})", path = path.display())]
    Ambiguous {
        /// The layout directory.
        path: PathBuf,
        /// How many entries `index.json` lists.
        count: usize,
        /// The tags present.
        tags: Vec<String>,
    },
    /// The tag is not a valid tag.
    #[error("{path}: {tag:?} is not a valid tag", path = path.display())]
    BadTag {
        /// The layout directory.
        path: PathBuf,
        /// The tag.
        tag: String,
    },
    /// An image-shaped layout needs an index at its root.
    #[error("{path}: the image's root is {media_type}, not an image index", path = path.display())]
    RootNotIndex {
        /// The layout directory.
        path: PathBuf,
        /// The root's media type.
        media_type: String,
    },
    /// The image set has no manifest.
    #[error("{path}: the image set has no manifest", path = path.display())]
    EmptyImageSet {
        /// The layout directory.
        path: PathBuf,
    },
}

/// The lock file earlier versions left in every layout they attested into; removed when seen.
const OLD_LOCK_FILE: &str = "index.json.lock";

/// An exclusive advisory lock on a layout (`flock` on its `oci-layout` file), released when
/// dropped. Only writers that take it are coordinated.
#[derive(Debug)]
pub struct LayoutLock {
    _marker: fs::File,
}

/// Which of the two layout shapes a directory has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `index.json` is the image index (apko, ggcr `layout.Write`): no entry is tagged.
    Image,
    /// `index.json` lists tagged images stored as blobs (or lists nothing).
    Tagged,
}

/// An OCI image layout directory.
#[derive(Debug, Clone)]
pub struct Layout {
    dir: PathBuf,
}

impl Layout {
    /// Opens `dir`, creating it, `oci-layout` and `blobs/sha256` when missing. An existing
    /// `oci-layout` is kept as it is.
    pub fn create(dir: &Path) -> Result<Self, Error> {
        let layout = Self { dir: dir.into() };
        let blobs = layout.dir.join("blobs").join("sha256");
        fs::create_dir_all(&blobs).map_err(|source| Error::Io {
            path: blobs.clone(),
            source,
        })?;
        let marker = layout.dir.join("oci-layout");
        if !marker.exists() {
            blobs::write_atomically(&marker, LAYOUT_MARKER)?;
        }
        layout.check_marker()?;
        Ok(layout)
    }

    /// A layout at `dir` that need not exist yet: nothing is read or created until the first
    /// write, which creates it (a whole image through [`publish`] appears all at once).
    pub fn planned(dir: &Path) -> Self {
        Self { dir: dir.into() }
    }

    /// Opens an existing layout; fails unless `dir/oci-layout` names an `imageLayoutVersion`.
    pub fn open(dir: &Path) -> Result<Self, Error> {
        let layout = Self { dir: dir.into() };
        layout.check_marker()?;
        Ok(layout)
    }

    fn check_marker(&self) -> Result<(), Error> {
        #[derive(serde::Deserialize)]
        struct Marker {
            #[serde(rename = "imageLayoutVersion")]
            _version: String,
        }
        let not_a_layout = || Error::NotALayout {
            path: self.dir.clone(),
        };
        let bytes = fs::read(self.dir.join("oci-layout")).map_err(|_| not_a_layout())?;
        serde_json::from_slice::<Marker>(&bytes).map_err(|_| not_a_layout())?;
        Ok(())
    }

    /// Waits for, then takes, the exclusive lock on this layout; hold it from the first blob of
    /// a write to the `index.json` that names them. Scratch files of dead writers (`.tmp-…`
    /// in the root and `blobs/sha256`) are removed on the way.
    pub fn lock(&self) -> Result<LayoutLock, Error> {
        let lock = self.lock_only()?;
        // Every writer passes here: what killed writers left is swept while nobody writes.
        self.abandoned_scratch(gc::Mode::Remove);
        Ok(lock)
    }

    /// The lock without the sweep (for a dry run of `gc`, which must remove nothing).
    fn lock_only(&self) -> Result<LayoutLock, Error> {
        let marker = self.dir.join("oci-layout");
        let io_error = |source| Error::Io {
            path: marker.clone(),
            source,
        };
        // `oci-layout` exists in every layout and is never replaced, so nothing is created for
        // the lock. (Not the directory: a scratch directory's own liveness lock is on that.)
        let file = fs::File::open(&marker).map_err(io_error)?;
        crate::scratch::lock(&file).map_err(io_error)?;
        let _ = fs::remove_file(self.dir.join(OLD_LOCK_FILE));
        Ok(LayoutLock { _marker: file })
    }

    /// The layout directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The bytes of `index.json`; an empty tagged index when the file does not exist yet.
    pub fn index_bytes(&self) -> Result<Vec<u8>, Error> {
        let path = self.dir.join("index.json");
        match fs::read(&path) {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(tagged_index(&[])),
            Err(source) => Err(Error::Io { path, source }),
        }
    }

    /// `index.json`, parsed.
    pub fn index(&self) -> Result<Index, Error> {
        Index::parse(&self.index_bytes()?).map_err(|source| Error::Document {
            path: self.dir.join("index.json"),
            source,
        })
    }

    /// Which shape the layout has: [`Shape::Image`] when `index.json` lists at least one entry
    /// and none is tagged.
    pub fn shape(&self) -> Result<Shape, Error> {
        Ok(shape_of(&self.index()?))
    }

    /// The tags and what they point at, sorted by tag.
    pub fn tags(&self) -> Result<BTreeMap<String, Descriptor>, Error> {
        Ok(tags_of(&self.index()?))
    }

    /// Stores every blob of `set` (not its manifests), checking each digest.
    pub fn store_blobs_of(&self, set: &ImageSet) -> Result<(), Error> {
        for blob in set.blobs() {
            let digest = &blob.descriptor.digest;
            match &blob.content {
                Content::Bytes(bytes) => {
                    let actual = self.write_blob(bytes)?;
                    if actual != *digest {
                        return Err(Error::DigestMismatch {
                            path: self.blob_path(digest),
                            expected: *digest,
                            actual,
                        });
                    }
                }
                Content::File(path) => {
                    let mut file = fs::File::open(path).map_err(|source| Error::Io {
                        path: path.clone(),
                        source,
                    })?;
                    let task = crate::progress::task(
                        crate::progress::Kind::Push,
                        digest,
                        blob.descriptor.size,
                    );
                    self.write_blob_from(&mut task.reader(&mut file), digest)?;
                }
            }
        }
        Ok(())
    }

    /// Points `tag` at `target`, replacing what it pointed at before. An image-shaped layout is
    /// first converted: its index becomes a blob listed (untagged, unless it is `target`) in a
    /// new `index.json`. `target` must be stored in the layout already.
    pub fn tag(&self, tag: &str, target: &Descriptor) -> Result<(), Error> {
        self.tag_releasing(tag, target, &mut crate::scratch::Provisional::default())
    }

    /// [`Layout::tag`], releasing `provisional` blobs when the new `index.json` is in place.
    fn tag_releasing(
        &self,
        tag: &str,
        target: &Descriptor,
        provisional: &mut crate::scratch::Provisional,
    ) -> Result<(), Error> {
        if !reference::valid_tag(tag) {
            return Err(Error::BadTag {
                path: self.dir.clone(),
                tag: tag.into(),
            });
        }
        let bytes = self.index_bytes()?;
        let index = Index::parse(&bytes).map_err(|source| Error::Document {
            path: self.dir.join("index.json"),
            source,
        })?;
        let mut entries = match shape_of(&index) {
            Shape::Tagged => index.manifests,
            Shape::Image => {
                // The image index keeps its bytes, so its digest, by moving into blobs/.
                let media_type = index
                    .media_type
                    .unwrap_or_else(|| media_type::OCI_INDEX.into());
                self.write_blob(&bytes)?;
                vec![Descriptor::of(media_type, &bytes)]
            }
        };
        if !self.has_blob(&target.digest) {
            return Err(Error::MissingBlob {
                path: self.dir.clone(),
                digest: target.digest,
            });
        }
        entries.retain(|entry| entry.ref_name() != Some(tag));
        // An untagged entry for the same content is superseded by the tagged one.
        entries.retain(|entry| !(entry.ref_name().is_none() && entry.digest == target.digest));
        let mut tagged = target.clone();
        tagged.annotations.insert(REF_NAME.into(), tag.into());
        entries.push(tagged);
        write_atomically_releasing(
            &self.dir.join("index.json"),
            &tagged_index(&entries),
            provisional,
        )
    }

    /// Finds the image a selector names.
    ///
    /// * `Default`: in an image-shaped layout, `index.json` itself; in a tagged layout, its only
    ///   entry (several or none is [`Error::Ambiguous`]).
    /// * `Tag`: the entry tagged so.
    /// * `Digest`: `index.json` itself (image shape), an entry, or any stored manifest or index.
    pub fn resolve(&self, selector: &Selector) -> Result<Descriptor, Error> {
        let bytes = self.index_bytes()?;
        let index = Index::parse(&bytes).map_err(|source| Error::Document {
            path: self.dir.join("index.json"),
            source,
        })?;
        let shape = shape_of(&index);
        let own = || {
            let media_type = index
                .media_type
                .clone()
                .unwrap_or_else(|| media_type::OCI_INDEX.into());
            Descriptor::of(media_type, &bytes)
        };
        match selector {
            Selector::Default => match (shape, index.manifests.as_slice()) {
                (Shape::Image, _) => Ok(own()),
                (Shape::Tagged, [only]) => Ok(only.clone()),
                // Attachments (cosign's `sha256-<hex>[.att|.sig|.sbom]` tags) do not make the
                // image they are attached to ambiguous.
                (Shape::Tagged, entries) => {
                    let images: Vec<&Descriptor> =
                        entries.iter().filter(|e| !is_attachment(e)).collect();
                    match images.as_slice() {
                        [only] => Ok((*only).clone()),
                        _ => Err(Error::Ambiguous {
                            path: self.dir.clone(),
                            count: entries.len(),
                            tags: tags_of(&index).into_keys().collect(),
                        }),
                    }
                }
            },
            Selector::Tag(tag) => index
                .manifests
                .iter()
                .find(|entry| entry.ref_name() == Some(tag.as_str()))
                .cloned()
                .ok_or_else(|| Error::UnknownTag {
                    path: self.dir.clone(),
                    tag: tag.clone(),
                    tags: tags_of(&index).into_keys().collect(),
                }),
            Selector::Digest(digest) => {
                if shape == Shape::Image && Digest::of(&bytes) == *digest {
                    return Ok(own());
                }
                if let Some(entry) = index.manifests.iter().find(|e| e.digest == *digest) {
                    return Ok(entry.clone());
                }
                let unknown = || Error::UnknownDigest {
                    path: self.dir.clone(),
                    digest: *digest,
                };
                if !self.has_blob(digest) {
                    return Err(unknown());
                }
                let blob = self.read_blob(digest)?;
                let media_type = manifest::media_type_of(&blob).ok_or_else(unknown)?;
                Ok(Descriptor::of(media_type, &blob))
            }
        }
    }

    /// The bytes of the manifest or index `descriptor` names: a blob, or `index.json` itself
    /// when the layout is image-shaped and the digest is its own.
    pub fn read_manifest(&self, descriptor: &Descriptor) -> Result<Vec<u8>, Error> {
        if !self.has_blob(&descriptor.digest) {
            let bytes = self.index_bytes()?;
            if Digest::of(&bytes) == descriptor.digest {
                return Ok(bytes);
            }
        }
        self.read_blob(&descriptor.digest)
    }
}

fn shape_of(index: &Index) -> Shape {
    if !index.manifests.is_empty() && index.manifests.iter().all(|e| e.ref_name().is_none()) {
        Shape::Image
    } else {
        Shape::Tagged
    }
}

/// Whether an entry is tagged as one of cosign's attachments of an image digest.
fn is_attachment(entry: &Descriptor) -> bool {
    let Some(tag) = entry.ref_name() else {
        return false;
    };
    let Some(rest) = tag.strip_prefix("sha256-") else {
        return false;
    };
    let hex = rest.split_once('.').map_or(rest, |(hex, _)| hex);
    let suffix_ok = match rest.split_once('.') {
        None => true,
        Some((_, suffix)) => matches!(suffix, "att" | "sig" | "sbom"),
    };
    suffix_ok && hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

fn tags_of(index: &Index) -> BTreeMap<String, Descriptor> {
    index
        .manifests
        .iter()
        .filter_map(|entry| Some((entry.ref_name()?.to_owned(), entry.clone())))
        .collect()
}

/// A tagged layout's `index.json`. Nobody hashes it, so it is plain compact serde output.
fn tagged_index(entries: &[Descriptor]) -> Vec<u8> {
    let top = Index {
        schema_version: 2,
        media_type: Some(media_type::OCI_INDEX.to_owned()),
        manifests: entries.to_vec(),
        annotations: BTreeMap::new(),
        subject: None,
        artifact_type: None,
    };
    serde_json::to_vec(&top).expect("strings, numbers and maps of strings always serialise")
}

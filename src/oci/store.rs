//! One interface over the two places an image lives: a registry repository or an OCI layout
//! directory. Commands that read or attach to "IMAGE" (`attest`, `download`, `verify`, the
//! audit, `diff`) open a [`Store`] from a [`Reference`] and never care which it is.
//!
//! Reads are verified (a manifest's bytes hash to the digest asked for; blobs stream through
//! their digest check). Writes keep the registry order: blobs, then manifests, then tags.
//!
//! Not for: the wire protocol ([`super::registry`]) or the layout's files ([`super::layout`]).

use std::io::Write;

use super::descriptor::Descriptor;
use super::digest::Digest;
use super::image_set::{Blob, ImageSet, RawManifest};
use super::layout::{self, Layout};
use super::manifest;
use super::reference::{Reference, Remote, Repository, Selector};
use super::registry::{self, Registry, Settings};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A registry operation failed.
    #[error(transparent)]
    Registry(#[from] registry::Error),
    /// A layout operation failed.
    #[error(transparent)]
    Layout(#[from] layout::Error),
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

/// The largest config, envelope or bundle [`Store::read_blob`] takes from a registry into
/// memory (cosign's own limit on such blobs is 128 MiB; ours need a few kilobytes).
pub const SMALL_BLOB_LIMIT: u64 = 16 << 20;

impl Error {
    /// Whether the thing asked for is not there (a registry's 404, a layout without the tag
    /// or digest), as opposed to a store that could not be read.
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::Registry(error) => {
                matches!(error.last_attempt(), registry::Error::NotFound { .. })
            }
            Self::Layout(error) => matches!(
                error,
                layout::Error::UnknownTag { .. } | layout::Error::UnknownDigest { .. }
            ),
            _ => false,
        }
    }
}

/// A registry repository or an OCI layout.
pub enum Store {
    /// A repository reached through a registry client.
    Registry {
        /// The client (boxed: it carries a runtime).
        client: Box<Registry>,
        /// The repository.
        repository: Repository,
    },
    /// A layout directory.
    Layout(Layout),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.name())
    }
}

impl Store {
    /// Opens the store `reference` names for reading: the layout must exist.
    pub fn open(reference: &Reference, settings: &Settings) -> Result<Self, Error> {
        match reference {
            Reference::Remote(remote) => Ok(Self::Registry {
                client: Box::new(Registry::new(settings.clone())?),
                repository: remote.repository().clone(),
            }),
            Reference::Local(local) => Ok(Self::Layout(Layout::open(local.dir())?)),
        }
    }

    /// Opens the store `reference` names for writing: a missing layout is created by the first
    /// write ([`Store::publish`] writes a new layout beside it and renames it into place).
    pub fn create(reference: &Reference, settings: &Settings) -> Result<Self, Error> {
        match reference {
            Reference::Remote(_) => Self::open(reference, settings),
            Reference::Local(local) if !local.dir().exists() => {
                Ok(Self::Layout(Layout::planned(local.dir())))
            }
            Reference::Local(local) => Ok(Self::Layout(Layout::create(local.dir())?)),
        }
    }

    /// `HOST/REPO` or `oci:DIR`, for messages.
    pub fn name(&self) -> String {
        match self {
            Self::Registry { repository, .. } => repository.to_string(),
            Self::Layout(layout) => format!("oci:{}", layout.dir().display()),
        }
    }

    /// What a reference's tag, digest or default currently names (its media type, size and
    /// digest). `reference` must name this store.
    pub fn resolve(&self, reference: &Reference) -> Result<Descriptor, Error> {
        match (self, reference) {
            (Self::Registry { client, .. }, Reference::Remote(remote)) => {
                Ok(client.resolve(remote)?)
            }
            (Self::Layout(layout), Reference::Local(local)) => {
                Ok(layout.resolve(local.selector())?)
            }
            (Self::Registry { client, repository }, Reference::Local(_)) => {
                // A layout reference against a registry store: only `latest` makes sense.
                let remote = Remote::at_tag(repository.clone(), "latest")
                    .map_err(|_| unreachable_tag(&self.name()))?;
                Ok(client.resolve(&remote)?)
            }
            (Self::Layout(layout), Reference::Remote(remote)) => {
                let selector = match (remote.digest(), remote.tag()) {
                    (Some(digest), _) => Selector::Digest(*digest),
                    (None, Some(tag)) => Selector::Tag(tag.to_owned()),
                    (None, None) => Selector::Default,
                };
                Ok(layout.resolve(&selector)?)
            }
        }
    }

    /// The exact bytes of the manifest or index with this digest, checked against it.
    pub fn manifest(&self, digest: &Digest) -> Result<RawManifest, Error> {
        let raw = match self {
            Self::Registry { client, repository } => {
                client.get_manifest(&Remote::at_digest(repository.clone(), *digest))?
            }
            Self::Layout(layout) => {
                let descriptor = layout.resolve(&Selector::Digest(*digest))?;
                let bytes = layout.read_manifest(&descriptor)?;
                RawManifest { descriptor, bytes }
            }
        };
        let actual = Digest::of(&raw.bytes);
        if actual != *digest {
            return Err(Error::ManifestDigest {
                store: self.name(),
                expected: *digest,
                actual,
            });
        }
        if manifest::media_type_of(&raw.bytes).is_none()
            && !manifest::media_type::is_index(&raw.descriptor.media_type)
            && !manifest::media_type::is_manifest(&raw.descriptor.media_type)
        {
            return Err(Error::NotAManifest {
                store: self.name(),
                digest: *digest,
            });
        }
        Ok(raw)
    }

    /// Streams a blob into `out`, checking its digest on the way; returns its size. On an
    /// error `out` may hold part of the bytes: discard them.
    pub fn copy_blob(&self, digest: &Digest, out: &mut dyn Write) -> Result<u64, Error> {
        match self {
            Self::Registry { client, repository } => Ok(client.get_blob(repository, digest, out)?),
            Self::Layout(layout) => Ok(layout.copy_blob(digest, out)?),
        }
    }

    /// A small blob (a config, an envelope) in memory, checked against its digest; from a
    /// registry, one over [`SMALL_BLOB_LIMIT`] is refused.
    pub fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>, Error> {
        match self {
            Self::Registry { client, repository } => {
                Ok(client.read_blob(repository, digest, SMALL_BLOB_LIMIT)?)
            }
            Self::Layout(_) => {
                let mut bytes = Vec::new();
                self.copy_blob(digest, &mut bytes)?;
                Ok(bytes)
            }
        }
    }

    /// Stores a blob unless present.
    pub fn put_blob(&self, blob: &Blob) -> Result<(), Error> {
        match self {
            Self::Registry { client, repository } => {
                client.push_blob(repository, blob)?;
            }
            Self::Layout(layout) => {
                let mut set = ImageSet::new();
                set.add_blob(blob.descriptor.clone(), blob.content.clone());
                layout.store_blobs_of(&set)?;
            }
        }
        Ok(())
    }

    /// Stores a manifest by digest and, with `tag`, points the tag at it. Every blob and child
    /// it references must be stored already.
    pub fn put_manifest(
        &self,
        bytes: &[u8],
        media_type: &str,
        tag: Option<&str>,
    ) -> Result<Descriptor, Error> {
        match self {
            Self::Registry { client, repository } => {
                let target = match tag {
                    Some(tag) => {
                        Remote::at_tag(repository.clone(), tag).map_err(|_| unreachable_tag(tag))?
                    }
                    None => Remote::at_digest(repository.clone(), Digest::of(bytes)),
                };
                Ok(client.put_manifest(&target, bytes, media_type)?)
            }
            Self::Layout(layout) => {
                layout.write_blob(bytes)?;
                let descriptor = Descriptor::of(media_type, bytes);
                if let Some(tag) = tag {
                    layout.tag(tag, &descriptor)?;
                }
                Ok(descriptor)
            }
        }
    }

    /// Publishes a whole image (blobs, children, root) and, with `tag`, tags its root. A layout
    /// keeps its other images; without a tag the image becomes its default (untagged) one.
    pub fn publish(&self, set: &ImageSet, tag: Option<&str>) -> Result<Descriptor, Error> {
        match self {
            Self::Registry { client, repository } => {
                let root = set.root().map(|r| r.descriptor.digest);
                let target = match (tag, root) {
                    (Some(tag), _) => {
                        Remote::at_tag(repository.clone(), tag).map_err(|_| unreachable_tag(tag))?
                    }
                    (None, Some(digest)) => Remote::at_digest(repository.clone(), digest),
                    (None, None) => Remote::at_tag(repository.clone(), "latest")
                        .map_err(|_| unreachable_tag("latest"))?,
                };
                Ok(client.publish(&target, set)?.root)
            }
            Self::Layout(layout) => Ok(layout::publish(layout.dir(), set, tag)?),
        }
    }

    /// The manifests whose `subject` is `subject` (referrers API or `sha256-<hex>` tag index in
    /// a registry; reachable manifests and the tag index in a layout), optionally one artifact
    /// type only.
    pub fn referrers(
        &self,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, Error> {
        match self {
            Self::Registry { client, repository } => Ok(client
                .referrers(repository, subject, artifact_type)?
                .manifests),
            Self::Layout(layout) => Ok(layout.referrers(subject, artifact_type)?),
        }
    }
    /// What `tag` names in this store, or `None` when the tag does not exist (a registry's
    /// 404, a layout without that tag).
    pub fn resolve_tag(&self, tag: &str) -> Result<Option<Descriptor>, Error> {
        let result = match self {
            Self::Registry { client, repository } => {
                let remote =
                    Remote::at_tag(repository.clone(), tag).map_err(|_| unreachable_tag(tag))?;
                client.resolve(&remote).map_err(Error::from)
            }
            Self::Layout(layout) => layout
                .resolve(&Selector::Tag(tag.to_owned()))
                .map_err(Error::from),
        };
        match result {
            Ok(descriptor) => Ok(Some(descriptor)),
            Err(Error::Registry(registry::Error::NotFound { .. }))
            | Err(Error::Layout(layout::Error::UnknownTag { .. })) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl Store {
    /// The manifest or index a tag names, or `None` when the tag does not exist (a registry's
    /// 404, a layout without that tag). Checked against its digest.
    pub fn tagged(&self, tag: &str) -> Result<Option<RawManifest>, Error> {
        let raw = match self {
            Self::Registry { client, repository } => {
                let target =
                    Remote::at_tag(repository.clone(), tag).map_err(|_| unreachable_tag(tag))?;
                match client.get_manifest(&target) {
                    Ok(raw) => raw,
                    Err(registry::Error::NotFound { .. }) => return Ok(None),
                    Err(other) => return Err(other.into()),
                }
            }
            Self::Layout(layout) => {
                let descriptor = match layout.resolve(&Selector::Tag(tag.to_owned())) {
                    Ok(descriptor) => descriptor,
                    Err(layout::Error::UnknownTag { .. }) => return Ok(None),
                    Err(other) => return Err(other.into()),
                };
                let bytes = layout.read_manifest(&descriptor)?;
                RawManifest { descriptor, bytes }
            }
        };
        let actual = Digest::of(&raw.bytes);
        if actual != raw.descriptor.digest {
            return Err(Error::ManifestDigest {
                store: self.name(),
                expected: raw.descriptor.digest,
                actual,
            });
        }
        Ok(Some(raw))
    }

    /// Whether the store keeps referrers lists itself (a registry answering the referrers API
    /// for `subject`). When not, writers maintain the `sha256-<hex>` tag index; a layout never
    /// does.
    pub fn has_referrers_api(&self, subject: &Digest) -> Result<bool, Error> {
        match self {
            Self::Registry { client, repository } => {
                Ok(client.has_referrers_api(repository, subject)?)
            }
            Self::Layout(_) => Ok(false),
        }
    }
}

/// A tag that failed validation although it came from a valid reference or a constant.
fn unreachable_tag(tag: &str) -> Error {
    Error::Layout(layout::Error::BadTag {
        path: std::path::PathBuf::from(tag),
        tag: tag.to_owned(),
    })
}

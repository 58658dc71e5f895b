//! Publishing an image set: blobs, then child manifests, then the root under its tag.
//!
//! The order is what registries require (distribution 2.8 refuses a manifest whose blobs or
//! children it lacks with `MANIFEST_BLOB_UNKNOWN`) and what makes a tag appear only once the
//! whole image is there. Blobs the repository holds already are not sent again.
//!
//! Not for: building the set ([`crate::oci::ImageSet`], [`crate::oci::layout::Layout::image_set`]).

use super::blobs::Pushed;
use super::{Error, transport::Transport};
use crate::oci::descriptor::Descriptor;
use crate::oci::digest::Digest;
use crate::oci::image_set::ImageSet;
use crate::oci::reference::Remote;

/// What [`super::Registry::publish`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The root manifest or index, now at the target.
    pub root: Descriptor,
    /// Blobs uploaded.
    pub uploaded: Vec<Digest>,
    /// Blobs the repository already held.
    pub existing: Vec<Digest>,
}

impl Transport {
    pub(super) async fn publish(
        &self,
        target: &Remote,
        set: &ImageSet,
    ) -> Result<Published, Error> {
        let Some(root) = set.root() else {
            return Err(Error::EmptyImageSet {
                target: target.to_string(),
            });
        };
        if let Some(digest) = target.digest()
            && *digest != root.descriptor.digest
        {
            return Err(Error::TargetDigest {
                target: target.to_string(),
                actual: root.descriptor.digest,
            });
        }
        let repository = target.repository();
        let mut uploaded = Vec::new();
        let mut existing = Vec::new();
        for blob in set.blobs() {
            match self.push_blob(repository, blob).await? {
                Pushed::Uploaded => uploaded.push(blob.descriptor.digest),
                Pushed::Existed => existing.push(blob.descriptor.digest),
            }
        }
        for manifest in set.manifests() {
            let at = if manifest.descriptor == root.descriptor {
                target.clone()
            } else {
                target.with_digest(manifest.descriptor.digest)
            };
            self.put_manifest(&at, &manifest.bytes, &manifest.descriptor.media_type)
                .await?;
        }
        Ok(Published {
            root: root.descriptor.clone(),
            uploaded,
            existing,
        })
    }
}

//! Walking a layout's manifest graph: collecting an image for publishing, finding referrers.
//!
//! Not for: reading or writing single blobs and `index.json` (the parent module).
//! Referrer descriptors follow the OCI distribution-spec "Listing Referrers" rules
//! (`artifactType`, else the config media type; the manifest's annotations), and the
//! `sha256-<hex>` tag index is the "Referrers Tag Schema" (reference/registry-and-plugins.md §4).

use std::collections::BTreeSet;

use super::{Error, Layout, Shape, shape_of};
use crate::oci::descriptor::Descriptor;
use crate::oci::digest::Digest;
use crate::oci::image_set::{Content, ImageSet};
use crate::oci::manifest::{Index, Manifest, media_type};
use crate::oci::reference::{Selector, referrers_tag};

impl Layout {
    /// Everything `root` consists of, for publishing: blobs as files, manifests children
    /// first, `root` last. Fails when a blob is missing or its size differs from its
    /// descriptor; blob digests are left for the receiver to check while it reads them.
    pub fn image_set(&self, root: &Descriptor) -> Result<ImageSet, Error> {
        let mut set = ImageSet::new();
        self.collect(root, &mut set)?;
        Ok(set)
    }

    fn collect(&self, descriptor: &Descriptor, set: &mut ImageSet) -> Result<(), Error> {
        let bytes = self.read_manifest(descriptor)?;
        let document_path = || self.blob_path(&descriptor.digest);
        if media_type::is_index(&descriptor.media_type) {
            let index = Index::parse(&bytes).map_err(|source| Error::Document {
                path: document_path(),
                source,
            })?;
            for child in &index.manifests {
                self.collect(child, set)?;
            }
        } else {
            let manifest = Manifest::parse(&bytes).map_err(|source| Error::Document {
                path: document_path(),
                source,
            })?;
            for blob in std::iter::once(&manifest.config).chain(&manifest.layers) {
                let path = self.blob_path(&blob.digest);
                let size = std::fs::metadata(&path)
                    .map_err(|source| self.missing_or_io(&blob.digest, &path, source))?
                    .len();
                if size != blob.size {
                    return Err(Error::SizeMismatch {
                        path,
                        expected: blob.size,
                        actual: size,
                    });
                }
                set.add_blob(blob.clone(), Content::File(path));
            }
        }
        set.add_manifest(&descriptor.media_type, bytes);
        Ok(())
    }

    /// The manifests and indexes whose `subject` is `subject`, optionally only those of one
    /// artifact type: those reachable from `index.json`, then those listed in the
    /// `sha256-<hex>` tag index. Manifests missing from a partial layout are passed over.
    pub fn referrers(
        &self,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, Error> {
        let index = self.index()?;
        let roots = match shape_of(&index) {
            Shape::Image => vec![self.resolve(&Selector::Default)?],
            Shape::Tagged => index.manifests.clone(),
        };
        let mut found = Vec::new();
        let mut seen = BTreeSet::new();
        for root in &roots {
            self.find_referrers(root, subject, &mut seen, &mut found)?;
        }
        let tag = referrers_tag(subject);
        if let Some(entry) = index.manifests.iter().find(|e| e.ref_name() == Some(&tag)) {
            let bytes = self.read_manifest(entry)?;
            let listed = Index::parse(&bytes).map_err(|source| Error::Document {
                path: self.blob_path(&entry.digest),
                source,
            })?;
            for descriptor in listed.manifests {
                if !found
                    .iter()
                    .any(|d: &Descriptor| d.digest == descriptor.digest)
                {
                    found.push(descriptor);
                }
            }
        }
        if let Some(wanted) = artifact_type {
            found.retain(|d| d.artifact_type.as_deref() == Some(wanted));
        }
        Ok(found)
    }

    fn find_referrers(
        &self,
        descriptor: &Descriptor,
        subject: &Digest,
        seen: &mut BTreeSet<Digest>,
        found: &mut Vec<Descriptor>,
    ) -> Result<(), Error> {
        if !seen.insert(descriptor.digest) {
            return Ok(());
        }
        let bytes = match self.read_manifest(descriptor) {
            Ok(bytes) => bytes,
            Err(Error::MissingBlob { .. }) => return Ok(()),
            Err(other) => return Err(other),
        };
        let document_path = || self.blob_path(&descriptor.digest);
        let (refers, artifact_type, annotations) = if media_type::is_index(&descriptor.media_type) {
            let index = Index::parse(&bytes).map_err(|source| Error::Document {
                path: document_path(),
                source,
            })?;
            for child in &index.manifests {
                self.find_referrers(child, subject, seen, found)?;
            }
            let refers = index.subject.as_ref().map(|s| s.digest) == Some(*subject);
            (refers, index.artifact_type, index.annotations)
        } else {
            let manifest = Manifest::parse(&bytes).map_err(|source| Error::Document {
                path: document_path(),
                source,
            })?;
            let refers = manifest.subject.as_ref().map(|s| s.digest) == Some(*subject);
            let artifact_type = Some(manifest.effective_artifact_type().to_owned());
            (refers, artifact_type, manifest.annotations)
        };
        if refers {
            let mut referrer = Descriptor::new(
                descriptor.media_type.clone(),
                descriptor.size,
                descriptor.digest,
            );
            referrer.artifact_type = artifact_type;
            referrer.annotations = annotations;
            found.push(referrer);
        }
        Ok(())
    }
}

//! Writing a whole image into a layout without losing what the layout already holds, and
//! without leaving half a write behind.
//!
//! * A layout that does not exist yet is written in a scratch directory beside it
//!   (`.<name>.tmp-<pid>-<random>`) and renamed into place at the end: an interrupted build
//!   leaves no output, only a scratch directory that the signal handler or the next write
//!   removes.
//! * An existing layout is written under its lock. Blobs this write adds are registered with
//!   `crate::scratch` until `index.json` names them, so SIGINT/SIGTERM removes them; when the
//!   write fails, the blobs it added that nothing names are removed again; a SIGKILL leaves
//!   orphan blobs that `cosign-rebuild gc` removes.
//! * The image goes in under its tag, replacing only that tag, as oras and crane treat layouts.
//!   Without a tag it is the layout's default image: `index.json` *is* its index when the
//!   layout holds nothing else (apko's shape, byte for byte), otherwise it becomes the one
//!   untagged entry beside every tagged one (other tags, cosign's `sha256-<hex>` attachments).
//!
//! Not for: single blobs, tags and reading (the parent module), collection (`gc`).

use std::collections::BTreeSet;
use std::path::Path;

use super::blobs::write_atomically_releasing;
use super::{Error, Layout, Shape, shape_of, tagged_index};
use crate::oci::descriptor::Descriptor;
use crate::oci::digest::Digest;
use crate::oci::image_set::ImageSet;
use crate::oci::manifest::{self, Index, media_type};
use crate::scratch;

/// Writes `set` into the layout at `dir` (created when missing) under `tag`, or as its default
/// image without one; returns the root's descriptor. See the module documentation.
pub fn publish(dir: &Path, set: &ImageSet, tag: Option<&str>) -> Result<Descriptor, Error> {
    if dir.exists() {
        let layout = Layout::create(dir)?;
        return layout.publish(set, tag);
    }
    let parent = match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => Path::new(".").to_path_buf(),
    };
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    std::fs::create_dir_all(&parent).map_err(io_error(&parent))?;
    let prefix = staging_prefix(dir);
    scratch::sweep(&parent, &[&prefix]);
    let staging = scratch::Dir::create_in(&parent, &prefix).map_err(io_error(&parent))?;
    let descriptor = Layout::create(staging.path())?.publish(set, tag)?;
    staging.persist(dir).map_err(io_error(dir))?;
    Ok(descriptor)
}

/// `.<name>.tmp-`: how the scratch directory of a new layout at `dir` is named.
fn staging_prefix(dir: &Path) -> String {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "layout".into());
    format!(".{name}.tmp-")
}

impl Layout {
    /// Writes `set` under `tag` (or as the default image) into this existing layout, keeping
    /// its other entries; see the module documentation.
    pub fn publish(&self, set: &ImageSet, tag: Option<&str>) -> Result<Descriptor, Error> {
        let _lock = self.lock()?;
        let mut provisional = scratch::Provisional::default();
        let created: BTreeSet<Digest> = set
            .blobs()
            .iter()
            .map(|b| b.descriptor.digest)
            .chain(set.manifests().iter().map(|m| m.descriptor.digest))
            .filter(|digest| !self.has_blob(digest))
            .collect();
        for digest in &created {
            provisional.add(self.blob_path(digest));
        }
        let result = match tag {
            Some(tag) => self.add_tagged(set, tag, &mut provisional),
            None => self.write_default(set, &mut provisional),
        };
        if result.is_err() {
            // Best effort: the write's own error is the one to report.
            let _ = self.remove_unreachable(&created);
        }
        result
    }

    /// Writes an image as apko does when the layout holds nothing else (every blob and child
    /// manifest into `blobs/`, the root index as `index.json`, byte for byte); otherwise adds
    /// it as the untagged entry, replacing the previous untagged image and keeping every
    /// tagged entry and referrer. Returns the root's descriptor.
    pub fn write_image(&self, set: &ImageSet) -> Result<Descriptor, Error> {
        self.publish(set, None)
    }

    /// Stores an image's blobs and manifests, root included, and tags the root, replacing only
    /// that tag. Returns the root's descriptor.
    pub fn add_image(&self, set: &ImageSet, tag: &str) -> Result<Descriptor, Error> {
        self.publish(set, Some(tag))
    }

    fn write_default(
        &self,
        set: &ImageSet,
        provisional: &mut scratch::Provisional,
    ) -> Result<Descriptor, Error> {
        let Some(root) = set.root() else {
            return Err(Error::EmptyImageSet {
                path: self.dir.clone(),
            });
        };
        let index = self.index()?;
        let apko_shape = index.manifests.is_empty() || shape_of(&index) == Shape::Image;
        if apko_shape && !media_type::is_index(&root.descriptor.media_type) {
            return Err(Error::RootNotIndex {
                path: self.dir.clone(),
                media_type: root.descriptor.media_type.clone(),
            });
        }
        Index::parse(&root.bytes).map_err(|source| Error::Document {
            path: self.dir.join("index.json"),
            source,
        })?;
        self.store_blobs_of(set)?;
        for manifest in set.manifests() {
            if manifest.descriptor != root.descriptor || !apko_shape {
                self.write_blob(&manifest.bytes)?;
            }
        }
        let index_path = self.dir.join("index.json");
        if apko_shape {
            write_atomically_releasing(&index_path, &root.bytes, provisional)?;
            return Ok(root.descriptor.clone());
        }
        let mut entries = Vec::with_capacity(index.manifests.len() + 1);
        for entry in index.manifests {
            // The previous default image goes; untagged referrers stay with their subjects.
            if entry.ref_name().is_some() || self.is_referrer(&entry) {
                entries.push(entry);
            }
        }
        entries.push(root.descriptor.clone());
        write_atomically_releasing(&index_path, &tagged_index(&entries), provisional)?;
        Ok(root.descriptor.clone())
    }

    fn add_tagged(
        &self,
        set: &ImageSet,
        tag: &str,
        provisional: &mut scratch::Provisional,
    ) -> Result<Descriptor, Error> {
        let Some(root) = set.root() else {
            return Err(Error::EmptyImageSet {
                path: self.dir.clone(),
            });
        };
        self.store_blobs_of(set)?;
        for manifest in set.manifests() {
            self.write_blob(&manifest.bytes)?;
        }
        self.tag_releasing(tag, &root.descriptor, provisional)?;
        Ok(root.descriptor.clone())
    }

    /// Whether an `index.json` entry is a manifest or index with a `subject`.
    fn is_referrer(&self, entry: &Descriptor) -> bool {
        let Ok(bytes) = self.read_manifest(entry) else {
            return false;
        };
        #[derive(serde::Deserialize)]
        struct WithSubject {
            subject: Option<serde::de::IgnoredAny>,
        }
        manifest::media_type_of(&bytes).is_some()
            && serde_json::from_slice::<WithSubject>(&bytes).is_ok_and(|d| d.subject.is_some())
    }
}

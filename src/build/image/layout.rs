//! Hands an index and its images to `oci` as an [`ImageSet`] (for a registry) or writes them as
//! the OCI image layout apko writes (`index.json` is the index itself).
//!
//! The layout writer is `oci::layout::publish`: blobs are stored atomically and verified while
//! copied, child manifests go in as blobs, and `index.json` is replaced last, so a reader never
//! finds an index naming a missing or partial blob; a new layout appears all at once, and an
//! existing one keeps its tags and attestations (the image becomes its untagged entry).
//!
//! Not for: the bytes of the documents (`build::image`), the layout format (`oci::layout`).
//! Reproduces reference/apko-format.md §10.6 (ggcr v0.21.9 `pkg/v1/layout/write.go` `Write`).

use std::path::Path;

use super::{Error, Image, Index};
use crate::oci::Descriptor;
use crate::oci::image_set::{Content, ImageSet};
use crate::oci::media_type::{OCI_CONFIG, OCI_INDEX, OCI_MANIFEST};

/// The index and its images as an [`ImageSet`]: every layer (streamed from its file) and
/// config, then each image manifest, then the index as the root.
pub fn image_set(index: &Index, images: &[Image]) -> ImageSet {
    let mut set = ImageSet::new();
    for image in images {
        for layer in image.layers() {
            set.add_blob(
                layer.descriptor().bare(),
                Content::File(layer.path().to_path_buf()),
            );
        }
        set.add_blob(
            Descriptor::of(OCI_CONFIG, image.config()),
            Content::Bytes(image.config().to_vec()),
        );
    }
    for image in images {
        set.add_manifest(OCI_MANIFEST, image.manifest().to_vec());
    }
    set.add_manifest(OCI_INDEX, index.bytes.clone());
    set
}

/// Writes `index` and `images` into the layout directory `dir` (created when missing) as
/// apko's `layout.Write` does; returns the index's descriptor.
pub fn write_layout(dir: &Path, index: &Index, images: &[Image]) -> Result<Descriptor, Error> {
    let layout = |source| Error::Layout {
        dir: dir.to_path_buf(),
        source,
    };
    crate::oci::layout::publish(dir, &image_set(index, images), None).map_err(layout)
}

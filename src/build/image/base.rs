//! The base image of `contents.baseimage`: one architecture's manifest and config, read from an
//! OCI image layout as apko's `baseimg` package picks them.
//!
//! `index.json` is read; if it lists an image index, that nested index is used instead (the
//! first one). Its images are tried in order and the first whose config names the
//! architecture's OCI `architecture` is taken (the variant is not compared, as in apko). Every
//! blob is read through `oci::layout`, which checks it against its digest.
//!
//! Not for: the base image's installed packages (the APKINDEX-style file beside it, which the
//! root filesystem reads), writing layouts (`layout`). Reproduces reference/apko-format.md
//! §10.7 (apko `pkg/baseimg/base_image.go` `getUnnestedImageIndex`, `getImageForArch`).

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::Error;
use crate::config::arch::Architecture;
use crate::oci::layout::Layout;
use crate::oci::media_type::OCI_INDEX;
use crate::oci::{ConfigFile, Digest, Index, Manifest};

/// One architecture's image in a base image layout.
#[derive(Debug, Clone)]
pub struct BaseImage {
    layout: Layout,
    digest: Digest,
    manifest: Manifest,
    config: ConfigFile,
}

impl BaseImage {
    /// Reads the image for `architecture` from the OCI layout at `dir`.
    pub fn open(dir: &Path, architecture: &Architecture) -> Result<BaseImage, Error> {
        let layout_error = |source| Error::Layout {
            dir: dir.to_path_buf(),
            source,
        };
        let layout = Layout::open(dir).map_err(layout_error)?;
        let read = |digest: &Digest| layout.read_blob(digest).map_err(layout_error);
        let index_bytes = layout.index_bytes().map_err(layout_error)?;
        let mut index: Index = decode(&dir.join("index.json"), &index_bytes, "index")?;
        if let Some(nested) = index
            .manifests
            .iter()
            .find(|descriptor| descriptor.media_type == OCI_INDEX)
        {
            let path = layout.blob_path(&nested.digest);
            index = decode(&path, &read(&nested.digest)?, "index")?;
        }
        let wanted = architecture.oci_platform().architecture;
        for descriptor in &index.manifests {
            let manifest: Manifest = decode(
                &layout.blob_path(&descriptor.digest),
                &read(&descriptor.digest)?,
                "manifest",
            )?;
            let config: ConfigFile = decode(
                &layout.blob_path(&manifest.config.digest),
                &read(&manifest.config.digest)?,
                "config",
            )?;
            if config.architecture == wanted {
                return Ok(BaseImage {
                    layout,
                    digest: descriptor.digest,
                    manifest,
                    config,
                });
            }
        }
        Err(Error::NoImageForArchitecture {
            layout: dir.to_path_buf(),
            architecture: architecture.clone(),
        })
    }

    /// The image's manifest digest.
    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// The manifest as Go decodes it.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The config as Go decodes it.
    pub fn config(&self) -> &ConfigFile {
        &self.config
    }

    /// Where a blob of the layout is stored.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.layout.blob_path(digest)
    }
}

fn decode<T: DeserializeOwned>(
    path: &Path,
    bytes: &[u8],
    document: &'static str,
) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|source| Error::Decode {
        path: path.to_path_buf(),
        document,
        source,
    })
}

//! The base image of `contents.baseimage`: one architecture's manifest and config, read from an
//! OCI image layout as apko's `baseimg` package picks them.
//!
//! `index.json` is read; if it lists an image index, that nested index is used instead (the
//! first one). Its images are tried in order and the first whose config names the
//! architecture's OCI `architecture` is taken (the variant is not compared, as in apko). Every
//! blob read is checked against its digest.
//!
//! Not for: the base image's installed packages (the APKINDEX-style file beside it, which the
//! root filesystem reads), writing layouts (`layout`). Reproduces reference/apko-format.md
//! §10.7 (apko `pkg/baseimg/base_image.go` `getUnnestedImageIndex`, `getImageForArch`).

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::Error;
use super::ggcr::{ConfigFile, Digest, IndexManifest, Manifest, OCI_INDEX};
use crate::config::arch::Architecture;

/// One architecture's image in a base image layout.
#[derive(Debug, Clone)]
pub struct BaseImage {
    layout: PathBuf,
    digest: Digest,
    manifest: Manifest,
    config: ConfigFile,
}

impl BaseImage {
    /// Reads the image for `architecture` from the OCI layout at `layout`.
    pub fn open(layout: &Path, architecture: &Architecture) -> Result<BaseImage, Error> {
        let index_path = layout.join("index.json");
        let mut index: IndexManifest = decode(&index_path, &read(&index_path)?, "index")?;
        if let Some(nested) = index
            .manifests
            .iter()
            .find(|descriptor| descriptor.media_type == OCI_INDEX)
        {
            let path = blob_path(layout, &nested.digest);
            index = decode(&path, &read_blob(&path, &nested.digest)?, "index")?;
        }
        let wanted = architecture.oci_platform().architecture;
        for descriptor in &index.manifests {
            let path = blob_path(layout, &descriptor.digest);
            let manifest: Manifest =
                decode(&path, &read_blob(&path, &descriptor.digest)?, "manifest")?;
            let config_path = blob_path(layout, &manifest.config.digest);
            let config: ConfigFile = decode(
                &config_path,
                &read_blob(&config_path, &manifest.config.digest)?,
                "config",
            )?;
            if config.architecture == wanted {
                return Ok(BaseImage {
                    layout: layout.to_path_buf(),
                    digest: descriptor.digest,
                    manifest,
                    config,
                });
            }
        }
        Err(Error::NoImageForArchitecture {
            layout: layout.to_path_buf(),
            architecture: architecture.clone(),
        })
    }

    /// The image's manifest digest.
    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// The manifest as ggcr decodes it.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The config as ggcr decodes it.
    pub fn config(&self) -> &ConfigFile {
        &self.config
    }

    /// Where a blob of the layout is stored.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        blob_path(&self.layout, digest)
    }
}

fn blob_path(layout: &Path, digest: &Digest) -> PathBuf {
    layout.join("blobs").join("sha256").join(digest.hex())
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn read_blob(path: &Path, expected: &Digest) -> Result<Vec<u8>, Error> {
    let bytes = read(path)?;
    let actual = Digest::of(&bytes);
    if actual != *expected {
        return Err(Error::BlobDigest {
            path: path.to_path_buf(),
            expected: *expected,
            actual,
        });
    }
    Ok(bytes)
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

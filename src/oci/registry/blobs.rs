//! Blobs: download verified while streaming, check existence, upload unless present.
//!
//! Uploads go through oci-client (chunked PATCHes of 4 MiB, or one monolithic PUT, per
//! [`super::Upload`]); files are streamed in 4 MiB pieces, never read whole. The registry checks
//! the digest on the final PUT.
//!
//! Not for: manifests ([`super::manifests`]). Follows the distribution-spec blob endpoints.

use std::io::{Read, Write};
use std::path::PathBuf;

use oci_client::RegistryOperation;
use oci_client::errors::OciDistributionError;

use super::Error;
use super::transport::{Transport, error_details};
use crate::oci::digest::{Digest, Hasher};
use crate::oci::image_set::{Blob, Content};
use crate::oci::reference::Repository;

/// The size of each piece read from a blob file; oci-client sends one PATCH per piece.
const PIECE: usize = 4 << 20;

/// What [`super::Registry::push_blob`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// The blob was uploaded.
    Uploaded,
    /// The repository already held it; nothing was sent.
    Existed,
}

impl Transport {
    pub(super) async fn get_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        out: &mut dyn Write,
    ) -> Result<u64, Error> {
        let host = self.host(repository.registry())?;
        let url = host.url(&format!("{}/blobs/{digest}", repository.path()));
        let mut response = self
            .send(&host, repository, RegistryOperation::Pull, &url, |http| {
                http.get(&url)
            })
            .await?;
        match response.status().as_u16() {
            200 => {}
            404 => {
                let body = response.bytes().await.unwrap_or_default();
                return Err(Error::NotFound {
                    what: "blob",
                    url,
                    message: error_details(&body).1,
                });
            }
            _ => return Err(self.status_error("get blob", &url, response).await),
        }
        let mut hasher = Hasher::new();
        while let Some(chunk) = response.chunk().await.map_err(|source| Error::Request {
            url: url.clone(),
            source,
        })? {
            hasher.update(&chunk);
            out.write_all(&chunk).map_err(|source| Error::Write {
                url: url.clone(),
                source,
            })?;
        }
        let size = hasher.length();
        let actual = hasher.finish();
        if actual != *digest {
            return Err(Error::DigestMismatch {
                url,
                expected: *digest,
                actual,
            });
        }
        Ok(size)
    }

    pub(super) async fn blob_exists(
        &self,
        repository: &Repository,
        digest: &Digest,
    ) -> Result<bool, Error> {
        let host = self.host(repository.registry())?;
        let url = host.url(&format!("{}/blobs/{digest}", repository.path()));
        let response = self
            .send(&host, repository, RegistryOperation::Pull, &url, |http| {
                http.head(&url)
            })
            .await?;
        match response.status().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(self.status_error("check blob", &url, response).await),
        }
    }

    pub(super) async fn push_blob(
        &self,
        repository: &Repository,
        blob: &Blob,
    ) -> Result<Pushed, Error> {
        let descriptor = &blob.descriptor;
        if self.blob_exists(repository, &descriptor.digest).await? {
            return Ok(Pushed::Existed);
        }
        let host = self.host(repository.registry())?;
        self.prepare(&host).await;
        let reference = host.reference(repository, "latest");
        let digest = descriptor.digest.to_string();
        let outcome = match &blob.content {
            Content::Bytes(bytes) => {
                let actual = Digest::of(bytes);
                if actual != descriptor.digest {
                    return Err(Error::DigestMismatch {
                        url: format!("{repository}@{digest} (in memory)"),
                        expected: descriptor.digest,
                        actual,
                    });
                }
                host.client
                    .push_blob(&reference, bytes.clone(), &digest)
                    .await
            }
            Content::File(path) => {
                let file = std::fs::File::open(path).map_err(|source| Error::File {
                    path: path.clone(),
                    source,
                })?;
                let size = file
                    .metadata()
                    .map_err(|source| Error::File {
                        path: path.clone(),
                        source,
                    })?
                    .len();
                if size != descriptor.size {
                    return Err(Error::SizeMismatch {
                        path: path.clone(),
                        expected: descriptor.size,
                        actual: size,
                    });
                }
                let pieces = Pieces {
                    file,
                    path: path.clone(),
                };
                host.client
                    .push_blob_stream(
                        &reference,
                        futures_util::stream::iter(pieces),
                        &digest,
                        Some(size),
                    )
                    .await
            }
        };
        outcome.map_err(|e| self.oci_error(&host, "push blob", e))?;
        Ok(Pushed::Uploaded)
    }
}

/// A blob file read in [`PIECE`]-sized pieces, as the stream oci-client uploads from.
struct Pieces {
    file: std::fs::File,
    path: PathBuf,
}

impl Iterator for Pieces {
    type Item = Result<bytes::Bytes, OciDistributionError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut piece = Vec::with_capacity(PIECE);
        match (&mut self.file).take(PIECE as u64).read_to_end(&mut piece) {
            Ok(0) => None,
            Ok(_) => Some(Ok(piece.into())),
            Err(e) => Some(Err(OciDistributionError::IoError(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", self.path.display()),
            )))),
        }
    }
}

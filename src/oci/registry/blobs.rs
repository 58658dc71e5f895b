//! Blobs: download verified while streaming, check existence, upload unless present.
//!
//! A download cut short is resumed where it stopped (`Range: bytes=N-`; a registry that answers
//! the whole blob again has its first N bytes skipped), so the destination receives every byte
//! once and the digest covers exactly what it received. An upload is a POST that opens a
//! session, then one PUT with the whole blob ([`super::Upload::Monolithic`]) or a PATCH per
//! 4 MiB piece and a closing PUT ([`super::Upload::Chunked`]); files are streamed, never read
//! whole. The POST is not idempotent and a session that failed part-way cannot be trusted, so
//! a failed upload is started again from the POST, after a HEAD shows the blob did not arrive
//! after all. The registry checks the digest on the final PUT.
//!
//! Not for: manifests ([`super::manifests`]). Follows the distribution-spec blob endpoints.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, LOCATION, RANGE};

use super::Error;
use super::transport::{Access, Failure, Host, Transport};
use crate::oci::digest::{Digest, Hasher};
use crate::oci::image_set::{Blob, Content};
use crate::oci::reference::Repository;

/// The size of each piece read from a blob file, and of each PATCH of a chunked upload.
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
        let mut hasher = Hasher::new();
        let mut written = 0u64;
        let task = crate::progress::task(crate::progress::Kind::Pull, digest, None);
        self.retrying(&url, async |_| {
            let from = written;
            let mut response = self
                .send(&host, repository, Access::Pull, "get blob", &url, |http| {
                    let request = http.get(&url);
                    if from > 0 {
                        request.header(RANGE, format!("bytes={from}-"))
                    } else {
                        request
                    }
                })
                .await?;
            let mut skip = match response.status().as_u16() {
                200 => from,
                206 if from > 0 && range_start(response.headers()) == Some(from) => 0,
                _ => return Err(self.unexpected("blob", "get blob", &url, response).await),
            };
            task.set_total(response.content_length().map(|rest| rest + from - skip));
            while let Some(chunk) = response.chunk().await.map_err(|source| Error::Request {
                url: url.clone(),
                source,
            })? {
                let dropped = chunk.len().min(usize::try_from(skip).unwrap_or(usize::MAX));
                skip -= dropped as u64;
                let piece = &chunk[dropped..];
                if piece.is_empty() {
                    continue;
                }
                hasher.update(piece);
                out.write_all(piece).map_err(|source| {
                    Failure::Fatal(Error::Write {
                        url: url.clone(),
                        source,
                    })
                })?;
                written += piece.len() as u64;
                task.advance(piece.len() as u64);
            }
            if skip > 0 {
                return Err(Failure::Fatal(Error::Malformed {
                    url: url.clone(),
                    problem: "blob shorter when fetched again",
                }));
            }
            Ok(())
        })
        .await?;
        let actual = hasher.finish();
        if actual != *digest {
            return Err(Error::DigestMismatch {
                url,
                expected: *digest,
                actual,
            });
        }
        Ok(written)
    }

    pub(super) async fn read_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        limit: u64,
    ) -> Result<Vec<u8>, Error> {
        let mut capped = Capped {
            bytes: Vec::new(),
            limit,
            exceeded: false,
        };
        match self.get_blob(repository, digest, &mut capped).await {
            Ok(_) => Ok(capped.bytes),
            Err(Error::Write { url, .. }) if capped.exceeded => Err(Error::TooLarge {
                url,
                what: "blob read into memory",
                limit,
            }),
            Err(other) => Err(other),
        }
    }

    pub(super) async fn blob_exists(
        &self,
        repository: &Repository,
        digest: &Digest,
    ) -> Result<bool, Error> {
        let host = self.host(repository.registry())?;
        let url = host.url(&format!("{}/blobs/{digest}", repository.path()));
        self.retrying(&url, async |_| {
            self.head_blob(&host, repository, &url, Access::Pull).await
        })
        .await
    }

    async fn head_blob(
        &self,
        host: &Host,
        repository: &Repository,
        url: &str,
        access: Access,
    ) -> Result<bool, Failure> {
        let response = self
            .send(host, repository, access, "check blob", url, |http| {
                http.head(url)
            })
            .await?;
        match response.status().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(Failure::Fatal(
                self.status_error("check blob", url, response).await,
            )),
        }
    }

    pub(super) async fn push_blob(
        &self,
        repository: &Repository,
        blob: &Blob,
    ) -> Result<Pushed, Error> {
        let descriptor = &blob.descriptor;
        if let Content::Bytes(bytes) = &blob.content {
            let actual = Digest::of(bytes);
            if actual != descriptor.digest {
                return Err(Error::DigestMismatch {
                    url: format!("{repository}@{} (in memory)", descriptor.digest),
                    expected: descriptor.digest,
                    actual,
                });
            }
        }
        if let Content::File(path) = &blob.content {
            let size = std::fs::metadata(path)
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
        }
        let host = self.host(repository.registry())?;
        let blob_url = host.url(&format!(
            "{}/blobs/{}",
            repository.path(),
            descriptor.digest
        ));
        let uploads = host.url(&format!("{}/blobs/uploads/", repository.path()));
        let mut existed = false;
        self.retrying(&uploads, async |attempt| {
            // Push access for the HEAD too: one token serves the whole upload.
            if self
                .head_blob(&host, repository, &blob_url, Access::Push)
                .await?
            {
                existed = attempt == 1;
                return Ok(());
            }
            let location = self.start_upload(&host, repository, &uploads).await?;
            self.upload(&host, repository, &location, blob).await
        })
        .await?;
        Ok(if existed {
            Pushed::Existed
        } else {
            Pushed::Uploaded
        })
    }

    /// `POST /v2/<name>/blobs/uploads/`: the session's URL.
    async fn start_upload(
        &self,
        host: &Host,
        repository: &Repository,
        uploads: &str,
    ) -> Result<reqwest::Url, Failure> {
        let response = self
            .send(
                host,
                repository,
                Access::Push,
                "start upload",
                uploads,
                |http| http.post(uploads).header(CONTENT_LENGTH, 0),
            )
            .await?;
        if response.status().as_u16() != 202 {
            return Err(Failure::Fatal(
                self.status_error("start upload", uploads, response).await,
            ));
        }
        Ok(location(&response, uploads)?)
    }

    /// Sends the blob into an open session and closes it with its digest.
    async fn upload(
        &self,
        host: &Host,
        repository: &Repository,
        session: &reqwest::Url,
        blob: &Blob,
    ) -> Result<(), Failure> {
        let digest = blob.descriptor.digest.to_string();
        let mut session = session.clone();
        let task =
            crate::progress::task(crate::progress::Kind::Push, &digest, blob.descriptor.size);
        let body = match (self.upload_style(), &blob.content) {
            (super::Upload::Monolithic, Content::Bytes(bytes)) => {
                Some(body_of_bytes(bytes)).inspect(|_| task.advance(bytes.len() as u64))
            }
            (super::Upload::Monolithic, Content::File(path)) => {
                Some(body_of_file(path, task.clone())?)
            }
            (super::Upload::Chunked, content) => {
                let mut pieces = Pieces::open(content)?;
                let mut start = 0u64;
                while let Some(piece) = pieces.next_piece()? {
                    let end = start + piece.len() as u64 - 1;
                    let url = session.to_string();
                    let response = self
                        .send(host, repository, Access::Push, "upload", &url, |http| {
                            http.patch(&url)
                                .header(CONTENT_RANGE, format!("{start}-{end}"))
                                .header(CONTENT_LENGTH, piece.len())
                                .header(CONTENT_TYPE, "application/octet-stream")
                                .body(piece.clone())
                        })
                        .await?;
                    if response.status().as_u16() != 202 {
                        return Err(Failure::Fatal(
                            self.status_error("upload", &url, response).await,
                        ));
                    }
                    session = location(&response, &url)?;
                    task.advance(piece.len() as u64);
                    start = end + 1;
                }
                None
            }
        };
        session.query_pairs_mut().append_pair("digest", &digest);
        let url = session.to_string();
        let size = if body.is_some() {
            blob.descriptor.size
        } else {
            0
        };
        let body = std::sync::Mutex::new(body);
        let response = self
            .send(
                host,
                repository,
                Access::Push,
                "complete upload",
                &url,
                |http| {
                    let request = http
                        .put(&url)
                        .header(CONTENT_LENGTH, size)
                        .header(CONTENT_TYPE, "application/octet-stream");
                    // A 401 resend finds the body taken: the registry refused before reading it,
                    // and the whole upload is retried from the POST.
                    match body.lock().ok().and_then(|mut b| b.take()) {
                        Some(body) => request.body(body),
                        None => request,
                    }
                },
            )
            .await?;
        match response.status().as_u16() {
            201 | 204 => Ok(()),
            _ => Err(Failure::Fatal(
                self.status_error("complete upload", &url, response).await,
            )),
        }
    }
}

/// The `Location` of an upload response, resolved against the request's URL.
fn location(response: &reqwest::Response, url: &str) -> Result<reqwest::Url, Error> {
    let malformed = |problem| Error::Malformed {
        url: url.into(),
        problem,
    };
    let value = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| malformed("upload response without a Location"))?;
    reqwest::Url::parse(url)
        .and_then(|base| base.join(value))
        .map_err(|_| malformed("upload Location is not a URL"))
}

/// The first byte a `206` carries (`Content-Range: bytes N-M/T`).
fn range_start(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let value = headers.get(CONTENT_RANGE)?.to_str().ok()?;
    let range = value.trim().strip_prefix("bytes ")?;
    range.split('-').next()?.trim().parse().ok()
}

fn body_of_bytes(bytes: &[u8]) -> reqwest::Body {
    reqwest::Body::from(bytes.to_vec())
}

fn body_of_file(path: &Path, task: crate::progress::Task) -> Result<reqwest::Body, Error> {
    let pieces = Pieces::open(&Content::File(path.to_owned()))?;
    Ok(reqwest::Body::wrap_stream(futures_util::stream::iter(
        pieces
            .inspect(move |piece| task.advance(piece.as_ref().map_or(0, |p| p.len() as u64)))
            .map(|piece| piece.map_err(|error| std::io::Error::other(error.to_string()))),
    )))
}

/// A blob's content in [`PIECE`]-sized pieces.
enum Pieces {
    Bytes(bytes::Bytes),
    File(std::fs::File, PathBuf),
}

impl Pieces {
    fn open(content: &Content) -> Result<Self, Error> {
        Ok(match content {
            Content::Bytes(bytes) => Self::Bytes(bytes::Bytes::from(bytes.clone())),
            Content::File(path) => Self::File(
                std::fs::File::open(path).map_err(|source| Error::File {
                    path: path.clone(),
                    source,
                })?,
                path.clone(),
            ),
        })
    }

    fn next_piece(&mut self) -> Result<Option<bytes::Bytes>, Error> {
        match self {
            Self::Bytes(rest) if rest.is_empty() => Ok(None),
            Self::Bytes(rest) => Ok(Some(rest.split_to(PIECE.min(rest.len())))),
            Self::File(file, path) => {
                let mut piece = Vec::with_capacity(PIECE);
                match file.take(PIECE as u64).read_to_end(&mut piece) {
                    Ok(0) => Ok(None),
                    Ok(_) => Ok(Some(piece.into())),
                    Err(source) => Err(Error::File {
                        path: path.clone(),
                        source,
                    }),
                }
            }
        }
    }
}

impl Iterator for Pieces {
    type Item = Result<bytes::Bytes, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_piece() {
            Ok(piece) => piece.map(Ok),
            Err(error) => Some(Err(error)),
        }
    }
}

/// A destination that refuses more than `limit` bytes.
struct Capped {
    bytes: Vec<u8>,
    limit: u64,
    exceeded: bool,
}

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if (self.bytes.len() + buf.len()) as u64 > self.limit {
            self.exceeded = true;
            return Err(std::io::Error::other("larger than the limit"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_start() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(CONTENT_RANGE, "bytes 100-199/200".parse().unwrap());
        assert_eq!(range_start(&headers), Some(100));
        headers.insert(CONTENT_RANGE, "items 1-2".parse().unwrap());
        assert_eq!(range_start(&headers), None);
    }
}

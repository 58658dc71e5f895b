//! Manifests: fetch exact bytes with their media type, resolve a tag, push exact bytes.
//!
//! Not for: blobs ([`super::blobs`]) or publishing a whole image ([`super::publish`]).
//! Follows the distribution-spec manifest endpoints with the client rules of
//! reference/registry-and-plugins.md §6.2 (both OCI types in `Accept`, `Content-Type` equal to
//! the manifest's media type).

use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap};

use super::transport::{Access, Failure, Transport, read_limited};
use super::{Error, limits};
use crate::oci::descriptor::Descriptor;
use crate::oci::digest::Digest;
use crate::oci::image_set::RawManifest;
use crate::oci::manifest::{self, media_type};
use crate::oci::reference::Remote;

impl Transport {
    pub(super) async fn get_manifest(&self, reference: &Remote) -> Result<RawManifest, Error> {
        let repository = reference.repository();
        let host = self.host(repository.registry())?;
        let url = host.url(&format!(
            "{}/manifests/{}",
            repository.path(),
            reference.identifier()
        ));
        let accept = media_type::MANIFESTS.join(", ");
        let (headers, bytes) = self
            .retrying(&url, async |_| {
                let response = self
                    .send(
                        &host,
                        repository,
                        Access::Pull,
                        "get manifest",
                        &url,
                        |http| http.get(&url).header(ACCEPT, &accept),
                    )
                    .await?;
                match response.status().as_u16() {
                    200 => {}
                    _ => {
                        return Err(self
                            .unexpected("manifest", "get manifest", &url, response)
                            .await);
                    }
                }
                let headers = response.headers().clone();
                let bytes = read_limited(response, limits::MANIFEST, &url, "manifest").await?;
                Ok((headers, bytes))
            })
            .await?;
        let actual = Digest::of(&bytes);
        check_digests(&url, &actual, reference.digest(), &headers)?;
        let media_type = stated_media_type(&headers)
            .or_else(|| manifest::media_type_of(&bytes))
            .ok_or_else(|| Error::Malformed {
                url: url.clone(),
                problem: "response names no manifest media type",
            })?;
        Ok(RawManifest {
            descriptor: Descriptor::of(media_type, &bytes),
            bytes,
        })
    }

    pub(super) async fn resolve(&self, reference: &Remote) -> Result<Descriptor, Error> {
        let repository = reference.repository();
        let host = self.host(repository.registry())?;
        let url = host.url(&format!(
            "{}/manifests/{}",
            repository.path(),
            reference.identifier()
        ));
        let accept = media_type::MANIFESTS.join(", ");
        let headers = self
            .retrying(&url, async |_| {
                let response = self
                    .send(&host, repository, Access::Pull, "resolve", &url, |http| {
                        http.head(&url).header(ACCEPT, &accept)
                    })
                    .await?;
                match response.status().as_u16() {
                    200 => Ok(response.headers().clone()),
                    404 => Err(Failure::Fatal(Error::NotFound {
                        what: "manifest",
                        url: url.clone(),
                        message: String::new(),
                    })),
                    _ => Err(Failure::Fatal(
                        self.status_error("resolve", &url, response).await,
                    )),
                }
            })
            .await?;
        let digest = header_digest(&headers);
        let size = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        match (digest, size, stated_media_type(&headers)) {
            (Some(digest), Some(size), Some(media_type)) => {
                check_digests(&url, &digest, reference.digest(), &HeaderMap::new())?;
                Ok(Descriptor::new(media_type, size, digest))
            }
            // Without the headers, the body is the only witness.
            _ => Ok(self.get_manifest(reference).await?.descriptor),
        }
    }

    pub(super) async fn put_manifest(
        &self,
        target: &Remote,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<Descriptor, Error> {
        let repository = target.repository();
        let host = self.host(repository.registry())?;
        let descriptor = Descriptor::of(media_type, bytes);
        if let Some(digest) = target.digest()
            && *digest != descriptor.digest
        {
            return Err(Error::DigestMismatch {
                url: target.to_string(),
                expected: *digest,
                actual: descriptor.digest,
            });
        }
        let content_type =
            reqwest::header::HeaderValue::from_str(media_type).map_err(|_| Error::Malformed {
                url: target.to_string(),
                problem: "media type is not a valid header value",
            })?;
        let url = host.url(&format!(
            "{}/manifests/{}",
            repository.path(),
            target.identifier()
        ));
        let body = bytes::Bytes::copy_from_slice(bytes);
        // Idempotent: the same bytes under the same name, so a PUT whose answer was lost is
        // simply sent again.
        self.retrying(&url, async |_| {
            let response = self
                .send(
                    &host,
                    repository,
                    Access::Push,
                    "push manifest",
                    &url,
                    |http| {
                        http.put(&url)
                            .header(CONTENT_TYPE, content_type.clone())
                            .body(body.clone())
                    },
                )
                .await?;
            match response.status().as_u16() {
                200..=299 => Ok(()),
                _ => Err(Failure::Fatal(
                    self.status_error("push manifest", &url, response).await,
                )),
            }
        })
        .await?;
        Ok(descriptor)
    }
}

/// The media type in `Content-Type`, unless it is a generic JSON or text type.
fn stated_media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let media_type = value.split(';').next().unwrap_or(value).trim();
    match media_type {
        "" | "application/json" | "text/plain" | "application/octet-stream" => None,
        other => Some(other.to_owned()),
    }
}

fn header_digest(headers: &HeaderMap) -> Option<Digest> {
    let value = headers.get("Docker-Content-Digest")?.to_str().ok()?;
    Digest::parse(value.trim()).ok()
}

/// The content's digest must equal the one asked for and the one the registry announced.
fn check_digests(
    url: &str,
    actual: &Digest,
    requested: Option<&Digest>,
    headers: &HeaderMap,
) -> Result<(), Error> {
    for expected in requested.into_iter().copied().chain(header_digest(headers)) {
        if expected != *actual {
            return Err(Error::DigestMismatch {
                url: url.into(),
                expected,
                actual: *actual,
            });
        }
    }
    Ok(())
}

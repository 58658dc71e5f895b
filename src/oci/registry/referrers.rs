//! Referrers and tags: the referrers API with the tag-schema fallback, and tag lists.
//!
//! Listing follows ggcr (as cosign uses it): a 200 with the OCI index `Content-Type` is the
//! answer; 404, 400, 406 or any other content type means the registry has no referrers API,
//! and the index under the tag `sha256-<hex>` is read instead (absent: no referrers). The
//! artifact-type filter is applied here unless the registry says, in `OCI-Filters-Applied`,
//! that it applied it. The caller learns which path answered.
//!
//! Not for: writing referrers or maintaining the tag index (the attestation store). Follows
//! reference/registry-and-plugins.md §4.1–§4.3 and reference/cosign-attestations.md §3.4.

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, LINK};

use super::transport::{Access, Failure, Transport, read_limited};
use super::{Error, limits};
use crate::oci::descriptor::Descriptor;
use crate::oci::digest::Digest;
use crate::oci::manifest::{Index, media_type};
use crate::oci::reference::{Remote, Repository, referrers_tag};

/// How many tag-list pages are followed before giving up on a registry that never ends.
const MAX_TAG_PAGES: usize = 1000;

/// Which path answered a referrers query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferrersSource {
    /// `GET /v2/<name>/referrers/<digest>`.
    Api,
    /// The index under the tag `sha256-<hex>` (or its absence).
    TagSchema,
}

/// The referrers of a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrers {
    /// One descriptor per referring manifest, in the registry's order.
    pub manifests: Vec<Descriptor>,
    /// Which path answered.
    pub source: ReferrersSource,
}

/// What the referrers API said: an index (with whether it applied the artifact-type filter),
/// or that it does not exist here.
enum Answer {
    Index { body: Vec<u8>, filtered: bool },
    NoApi,
}

impl Transport {
    /// One round of the referrers API, retried: its index, or that the registry has none.
    async fn referrers_api(
        &self,
        repository: &Repository,
        url: &str,
        operation: &'static str,
        read_body: bool,
    ) -> Result<Answer, Error> {
        let host = self.host(repository.registry())?;
        self.retrying(url, async |_| {
            let response = self
                .send(&host, repository, Access::Pull, operation, url, |http| {
                    http.get(url).header(ACCEPT, media_type::OCI_INDEX)
                })
                .await?;
            let status = response.status().as_u16();
            let is_index = is_oci_index(response.headers());
            let filtered = response
                .headers()
                .get_all("OCI-Filters-Applied")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(|v| v.split(',').any(|f| f.trim() == "artifactType"));
            match status {
                200 if is_index => {
                    let body = if read_body {
                        read_limited(response, limits::REFERRERS, url, "referrers index").await?
                    } else {
                        Vec::new()
                    };
                    Ok(Answer::Index { body, filtered })
                }
                200 | 400 | 404 | 406 => Ok(Answer::NoApi),
                _ => Err(Failure::Fatal(
                    self.status_error(operation, url, response).await,
                )),
            }
        })
        .await
    }

    pub(super) async fn referrers(
        &self,
        repository: &Repository,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Referrers, Error> {
        let host = self.host(repository.registry())?;
        let mut url = host.url(&format!("{}/referrers/{subject}", repository.path()));
        if let Some(wanted) = artifact_type {
            url = format!("{url}?artifactType={}", query_escape(wanted));
        }
        let (mut manifests, source, filtered) =
            match self
                .referrers_api(repository, &url, "list referrers", true)
                .await?
            {
                Answer::Index { body, filtered } => {
                    let index = Index::parse(&body).map_err(|source| Error::Document {
                        url: url.clone(),
                        source,
                    })?;
                    (index.manifests, ReferrersSource::Api, filtered)
                }
                Answer::NoApi => {
                    let tagged = Remote::at_tag(repository.clone(), &referrers_tag(subject))
                        .map_err(|_| Error::Malformed {
                            url: url.clone(),
                            problem: "subject digest makes no valid tag",
                        })?;
                    let manifests = match self.get_manifest(&tagged).await {
                        Ok(raw) => {
                            Index::parse(&raw.bytes)
                                .map_err(|source| Error::Document {
                                    url: tagged.to_string(),
                                    source,
                                })?
                                .manifests
                        }
                        Err(Error::NotFound { .. }) => Vec::new(),
                        Err(other) => return Err(other),
                    };
                    (manifests, ReferrersSource::TagSchema, false)
                }
            };
        if let Some(wanted) = artifact_type
            && !filtered
        {
            manifests.retain(|d| d.artifact_type.as_deref() == Some(wanted));
        }
        Ok(Referrers { manifests, source })
    }

    /// Whether `GET /v2/<name>/referrers/<subject>` answers 200 with an OCI index, as ggcr's
    /// writer checks before deciding to maintain the fallback tag itself.
    pub(super) async fn has_referrers_api(
        &self,
        repository: &Repository,
        subject: &Digest,
    ) -> Result<bool, Error> {
        let host = self.host(repository.registry())?;
        let url = host.url(&format!("{}/referrers/{subject}", repository.path()));
        Ok(matches!(
            self.referrers_api(repository, &url, "probe referrers API", false)
                .await?,
            Answer::Index { .. }
        ))
    }

    pub(super) async fn list_tags(&self, repository: &Repository) -> Result<Vec<String>, Error> {
        #[derive(serde::Deserialize)]
        struct Page {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let host = self.host(repository.registry())?;
        let mut url = host.url(&format!("{}/tags/list", repository.path()));
        let mut tags = Vec::new();
        for _ in 0..MAX_TAG_PAGES {
            let (next, body) = self
                .retrying(&url, async |_| {
                    let response = self
                        .send(&host, repository, Access::Pull, "list tags", &url, |http| {
                            http.get(&url)
                        })
                        .await?;
                    match response.status().as_u16() {
                        200 => {}
                        _ => {
                            return Err(self
                                .unexpected("repository", "list tags", &url, response)
                                .await);
                        }
                    }
                    let next = response
                        .headers()
                        .get(LINK)
                        .and_then(|v| v.to_str().ok())
                        .and_then(next_link);
                    let body = read_limited(response, limits::TAG_PAGE, &url, "tag list").await?;
                    Ok((next, body))
                })
                .await?;
            let page: Page = serde_json::from_slice(&body).map_err(|source| Error::Json {
                url: url.clone(),
                source,
            })?;
            tags.extend(page.tags.unwrap_or_default());
            match next {
                Some(path) if path.starts_with('/') => {
                    url = format!("{}{path}", host.url("").trim_end_matches("/v2/"));
                }
                Some(absolute) => url = absolute,
                None => return Ok(tags),
            }
        }
        Err(Error::Malformed {
            url,
            problem: "tag list pagination does not end",
        })
    }
}

fn is_oci_index(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or(v).trim() == media_type::OCI_INDEX)
}

/// The target of `Link: <…>; rel="next"`.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|link| {
        let (target, params) = link.split_once(';')?;
        params.contains("rel=\"next\"").then(|| {
            target
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

/// Percent-encodes a query value (media types contain `+` and `/`).
fn query_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        assert_eq!(
            next_link(r#"</v2/foo/tags/list?n=2&last=b>; rel="next""#).as_deref(),
            Some("/v2/foo/tags/list?n=2&last=b")
        );
        assert_eq!(next_link(r#"</x>; rel="prev""#), None);
    }

    #[test]
    fn artifact_types_are_escaped() {
        assert_eq!(
            query_escape("application/vnd.dev.sigstore.bundle.v0.3+json"),
            "application%2Fvnd.dev.sigstore.bundle.v0.3%2Bjson"
        );
    }
}

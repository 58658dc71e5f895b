//! Where TUF metadata and targets come from: an `http(s)://` mirror, a `file://` directory (the
//! air-gapped case) or the local cache, each behind `sigstore_tuf::Repository`.
//!
//! Every body is capped at the length the TUF client allows for that file (read chunk by chunk,
//! never trusted from `Content-Length`); redirects are followed only within the mirror's own
//! origin, so nothing is fetched from anywhere but the mirror; every metadata document is
//! checked for duplicate JSON keys before the client parses it (serde would keep the last).
//!
//! Not for: verification (`sigstore_tuf`), the cache layout (`tuf::cache`).

use std::collections::HashSet;
use std::fmt;
use std::io::Read as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::Url;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use sigstore_tuf::transport::FetchFuture;

/// Why a mirror URL or a fetched body is unusable.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL is not `http://`, `https://` or `file://`.
    #[error("{url}: a TUF mirror is an http://, https:// or file:// URL")]
    Scheme {
        /// The URL as given.
        url: String,
    },
    /// The URL does not parse.
    #[error("{url}: not a URL")]
    Url {
        /// The URL as given.
        url: String,
        /// The parse error.
        #[source]
        source: url::ParseError,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client")]
    Client(#[source] reqwest::Error),
    /// The request failed.
    #[error("GET {url}")]
    Request {
        /// The URL.
        url: Box<Url>,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status.
    #[error("GET {url}: HTTP {status}")]
    Status {
        /// The URL.
        url: Box<Url>,
        /// The status code.
        status: u16,
    },
    /// The body is longer than the client allows for this file.
    #[error("{url}: body exceeds {limit} bytes")]
    TooLong {
        /// The URL.
        url: String,
        /// The cap.
        limit: u64,
    },
    /// The server has no such file.
    #[error("{url}: not found")]
    NotFound {
        /// The URL.
        url: String,
    },
    /// A `file://` mirror's file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// A TUF repository base URL: metadata at `BASE/NAME`, targets at `BASE/targets/PATH`.
#[derive(Debug, Clone)]
pub struct Mirror {
    base: Url,
}

impl Mirror {
    /// Parses `url` (trailing slashes ignored).
    pub fn parse(url: &str) -> Result<Self, Error> {
        let mut base = Url::parse(url).map_err(|source| Error::Url {
            url: url.to_owned(),
            source,
        })?;
        if !matches!(base.scheme(), "http" | "https" | "file") {
            return Err(Error::Scheme {
                url: url.to_owned(),
            });
        }
        // Url::join replaces the last segment unless the path ends with a slash.
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        Ok(Mirror { base })
    }

    /// The URL of `path` under the mirror; `None` when `path` would leave it.
    fn join(&self, path: &str) -> Option<Url> {
        if path.split('/').any(|s| s == ".." || s.is_empty()) || path.contains(['?', '#', '\\']) {
            return None;
        }
        self.base.join(path).ok()
    }
}

/// Fetches from one mirror, remembering whether it could be reached at all.
pub struct Fetcher {
    mirror: Mirror,
    http: reqwest::Client,
    unreachable: Arc<AtomicBool>,
}

impl Fetcher {
    /// A fetcher for `mirror`.
    pub fn new(mirror: Mirror) -> Result<Self, Error> {
        let origin = mirror.base.origin();
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("too many redirects")
            } else if attempt.url().origin() != origin {
                attempt.error("redirect leaves the TUF mirror")
            } else {
                attempt.follow()
            }
        });
        let http = reqwest::Client::builder()
            .redirect(redirects)
            .connect_timeout(Duration::from_secs(15))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("cosign-rebuild/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(Error::Client)?;
        Ok(Fetcher {
            mirror,
            http,
            unreachable: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Set when a request could not reach the mirror (no connection, a timeout, a `file://`
    /// directory that is gone): the cue to fall back to the cache.
    pub fn unreachable(&self) -> Arc<AtomicBool> {
        self.unreachable.clone()
    }

    /// `path`'s bytes, at most `limit` of them; `None` when the mirror does not have it.
    pub async fn get(&self, path: &str, limit: u64) -> Result<Option<Vec<u8>>, Error> {
        let Some(url) = self.mirror.join(path) else {
            return Ok(None);
        };
        if url.scheme() == "file" {
            return self.read_file(&url, limit);
        }
        let mut response = self.http.get(url.clone()).send().await.map_err(|source| {
            if source.is_connect() || source.is_timeout() {
                self.unreachable.store(true, Ordering::SeqCst);
            }
            Error::Request {
                url: Box::new(url.clone()),
                source,
            }
        })?;
        let status = response.status();
        // go-tuf ends the root chain on 404 and 403 (S3 and GCS answer 403 for a missing key).
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::FORBIDDEN {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(Error::Status {
                url: Box::new(url),
                status: status.as_u16(),
            });
        }
        let too_long = || Error::TooLong {
            url: url.to_string(),
            limit,
        };
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(too_long());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|source| {
            if source.is_timeout() {
                self.unreachable.store(true, Ordering::SeqCst);
            }
            Error::Request {
                url: Box::new(url.clone()),
                source,
            }
        })? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_long());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Some(body))
    }

    fn read_file(&self, url: &Url, limit: u64) -> Result<Option<Vec<u8>>, Error> {
        let path = url.to_file_path().map_err(|()| Error::Scheme {
            url: url.to_string(),
        })?;
        let base = self.mirror.base.to_file_path().unwrap_or_default();
        let file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !base.is_dir() {
                    self.unreachable.store(true, Ordering::SeqCst);
                    return Err(Error::Read {
                        path: base,
                        source: e,
                    });
                }
                return Ok(None);
            }
            Err(source) => return Err(Error::Read { path, source }),
        };
        let mut body = Vec::new();
        file.take(limit.saturating_add(1))
            .read_to_end(&mut body)
            .map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
        if body.len() as u64 > limit {
            return Err(Error::TooLong {
                url: url.to_string(),
                limit,
            });
        }
        Ok(Some(body))
    }
}

impl sigstore_tuf::Repository for Fetcher {
    fn fetch_metadata<'a>(&'a self, name: &'a str, max_length: u64) -> FetchFuture<'a> {
        Box::pin(async move {
            let body = self.get(name, max_length).await.map_err(transport)?;
            body.map(|bytes| strict(name, bytes)).transpose()
        })
    }

    fn fetch_target<'a>(&'a self, path: &'a str, max_length: u64) -> FetchFuture<'a> {
        Box::pin(async move {
            self.get(&format!("targets/{path}"), max_length)
                .await
                .map_err(transport)
        })
    }
}

/// The local cache as a read-only repository (`sigstore_tuf::StoreRepository`), with the same
/// duplicate-key check as the network.
pub struct Cached(pub sigstore_tuf::StoreRepository<sigstore_tuf::FileStore>);

impl sigstore_tuf::Repository for Cached {
    fn fetch_metadata<'a>(&'a self, name: &'a str, max_length: u64) -> FetchFuture<'a> {
        Box::pin(async move {
            let body = self.0.fetch_metadata(name, max_length).await?;
            body.map(|bytes| strict(name, bytes)).transpose()
        })
    }

    fn fetch_target<'a>(&'a self, path: &'a str, max_length: u64) -> FetchFuture<'a> {
        self.0.fetch_target(path, max_length)
    }
}

fn transport(error: Error) -> sigstore_tuf::Error {
    sigstore_tuf::Error::transport_with_source("fetching from the TUF mirror", error)
}

/// `bytes` unchanged when it is JSON without duplicate object keys.
fn strict(name: &str, bytes: Vec<u8>) -> sigstore_tuf::Result<Vec<u8>> {
    check_duplicate_keys(&bytes)
        .map_err(|e| sigstore_tuf::Error::Malformed(format!("{name}: {e}")))?;
    Ok(bytes)
}

/// Fails on the first JSON object that names a key twice. serde_json (and so the TUF client)
/// silently keeps the last value, so two readers could disagree on what was signed.
pub fn check_duplicate_keys(bytes: &[u8]) -> Result<(), serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    Unique::deserialize(&mut deserializer)?;
    deserializer.end()
}

/// Any JSON value, refused when an object in it repeats a key.
struct Unique;

impl<'de> Deserialize<'de> for Unique {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueVisitor)
    }
}

struct UniqueVisitor;

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = Unique;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Unique, E> {
        Ok(Unique)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Unique, A::Error> {
        while seq.next_element::<Unique>()?.is_some() {}
        Ok(Unique)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Unique, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format_args!("duplicate key \"{key}\"")));
            }
            map.next_value::<Unique>()?;
        }
        Ok(Unique)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_found_at_any_depth() {
        assert!(check_duplicate_keys(br#"{"a":[{"b":1,"c":{"d":null}}],"e":"x"}"#).is_ok());
        for doc in [
            r#"{"a":1,"a":2}"#,
            r#"{"signed":{"keys":{"k":{},"k":{}}}}"#,
            r#"[{"x":[{"y":1,"y":1}]}]"#,
        ] {
            let error = check_duplicate_keys(doc.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(error.contains("duplicate key"), "{doc}: {error}");
        }
    }

    #[test]
    fn paths_stay_under_the_mirror() {
        let mirror = Mirror::parse("https://tuf.example/prefix").unwrap();
        assert_eq!(
            mirror.join("1.root.json").unwrap().as_str(),
            "https://tuf.example/prefix/1.root.json"
        );
        for path in ["../x.json", "targets/../../x", "/etc/passwd", "a?b", "a//b"] {
            assert!(mirror.join(path).is_none(), "{path}");
        }
        assert!(Mirror::parse("ftp://tuf.example").is_err());
    }
}

//! A registry client: manifests and blobs in and out, tags, referrers, publishing an image.
//!
//! [`Registry`] is a blocking facade over an async core on `reqwest`, driven by its own
//! current-thread tokio runtime; call it from synchronous code only (not from inside another
//! runtime). Content moves as exact bytes: manifests are pushed as given and hashed as received,
//! blobs are verified while they stream. Every request is plain HTTP of the distribution spec:
//! the bearer-token exchange (anonymous, basic, OAuth2 refresh token) is [`bearer`]'s, retries
//! with back-off are [`retry`]'s, and every body read from the network has a size limit
//! ([`limits`]). oci-client (0.18) was used here before and was dropped: it reads token and
//! error bodies whole, has no refresh-token grant, reports a token server's 5xx as an
//! authentication failure, hides `Content-Type` and status codes, and panics on a malformed
//! upload `Location`.
//!
//! Plain HTTP is used automatically for loopback registries (`localhost`, `*.localhost`,
//! 127.0.0.0/8, `::1`) and on request for others ([`PlainHttp`], `--plain-http` /
//! `--allow-http-registry`); TLS verification can be turned off ([`Tls`], `--insecure` /
//! `--allow-insecure-registry`). Errors name the URL, the HTTP status and the registry's error
//! code and message; 401 also names the credentials' origin.
//!
//! Registries differ. Debian's `docker-registry` (distribution 2.8) has **no referrers API**:
//! `GET /v2/<name>/referrers/<digest>` answers 404 `text/plain`, so [`Registry::referrers`]
//! falls back to the `sha256-<hex>` tag index and says so in [`Referrers::source`]; it sets no
//! `OCI-Subject` header; it ignores tag-list pagination; it requires `Accept` to include the OCI
//! types (always sent) and a manifest's blobs and children in the same repository first
//! ([`Registry::publish`] pushes in that order). Not supported: maintaining the referrers tag
//! index on write (the attestation store's job), cross-repository blob mounts, client
//! certificates.
//!
//! Not for: OCI layout directories ([`super::layout`]); building the documents (the image
//! builder). Behaviour per reference/registry-and-plugins.md §2.5, §3, §4, §5.2, §6.

pub mod auth;
mod bearer;
mod blobs;
pub mod limits;
mod manifests;
mod publish;
mod referrers;
pub mod retry;
mod transport;

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use blobs::Pushed;
pub use publish::Published;
pub use referrers::{Referrers, ReferrersSource};

use super::descriptor::Descriptor;
use super::digest::Digest;
use super::image_set::{Blob, ImageSet, RawManifest};
use super::manifest;
use super::reference::{Remote, Repository};
use transport::Transport;

/// Which registries are reached over plain HTTP.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PlainHttp {
    /// Only loopback hosts.
    #[default]
    Loopback,
    /// Loopback hosts and these `host[:port]` names.
    Hosts(Vec<String>),
    /// Every registry (`--plain-http`, `--allow-http-registry`).
    Everywhere,
}

/// Whether HTTPS certificates are verified.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Tls {
    /// Verify against the platform's roots.
    #[default]
    Verify,
    /// Accept any certificate (`--insecure`, `--allow-insecure-registry`).
    SkipVerification,
}

/// How blobs are uploaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Upload {
    /// POST, a PATCH per 4 MiB chunk, PUT with the digest.
    #[default]
    Chunked,
    /// POST, then one PUT carrying the whole blob.
    Monolithic,
}

/// How to reach registries and with which credentials.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Plain HTTP hosts.
    pub plain_http: PlainHttp,
    /// TLS verification.
    pub tls: Tls,
    /// Blob upload style.
    pub upload: Upload,
    /// Where credentials come from.
    pub credentials: auth::Sources,
    /// How failed idempotent requests are retried.
    pub retry: retry::Policy,
    /// How long a connection may take to open, and how long a response may go silent.
    pub timeouts: Timeouts,
}

/// Network timeouts of every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening a connection.
    pub connect: Duration,
    /// The longest silence while waiting for (more of) a response; a stalled registry is given
    /// up on after this and the request retried.
    pub read: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(30),
            read: Duration::from_secs(60),
        }
    }
}

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The async runtime cannot start.
    #[error("cannot start the registry client's runtime")]
    Runtime(#[source] std::io::Error),
    /// The HTTP client cannot be set up.
    #[error("cannot set up the HTTP client")]
    Client(#[source] reqwest::Error),
    /// Credentials cannot be looked up.
    #[error("cannot look up credentials for {registry}")]
    Credentials {
        /// The registry.
        registry: String,
        /// The lookup failure.
        #[source]
        source: auth::Error,
    },
    /// The token server refused to issue a token for a scope.
    #[error(
        "{realm}: the token server refused {scope} for {registry} ({origin}): HTTP {status}: {message}"
    )]
    TokenRefused {
        /// The registry.
        registry: String,
        /// The token server's URL.
        realm: String,
        /// The scope asked for (`repository:NAME:pull,push`).
        scope: String,
        /// The HTTP status.
        status: u16,
        /// Where the credentials came from.
        origin: Box<auth::Origin>,
        /// The token server's message.
        message: String,
    },
    /// The token server answered without a usable token.
    #[error("{realm}: the token server's answer holds no token")]
    NoToken {
        /// The token server's URL.
        realm: String,
    },
    /// The registry's authentication challenge cannot be followed.
    #[error("{url}: {problem}")]
    Challenge {
        /// The URL that sent the challenge.
        url: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The token was issued, but the registry says it does not grant what the request needs.
    #[error(
        "{url}: access to repository {repository} denied by registry {registry}: the token for \
         {origin} does not grant {scope}"
    )]
    Denied {
        /// The registry.
        registry: String,
        /// The repository.
        repository: String,
        /// The scope needed (`repository:NAME:pull,push`).
        scope: String,
        /// The URL refused.
        url: String,
        /// Where the credentials came from.
        origin: Box<auth::Origin>,
    },
    /// A response body is larger than anything of its kind needs to be; it was not read.
    #[error("{url}: {what} larger than the {limit}-byte limit; not read")]
    TooLarge {
        /// The URL.
        url: String,
        /// What the body was (`manifest`, `referrers index`, `token response`, …).
        what: &'static str,
        /// The limit in bytes.
        limit: u64,
    },
    /// A request kept failing with transient errors until the attempts or the time ran out.
    #[error("{url}: gave up after {attempts} attempts in {seconds:.1}s")]
    GaveUp {
        /// The URL of the last attempt.
        url: String,
        /// How many attempts were made.
        attempts: u32,
        /// How long they took.
        seconds: f64,
        /// The last attempt's failure.
        #[source]
        source: Box<Error>,
    },
    /// The registry asked to be retried later than the retry budget allows.
    #[error(
        "{url}: HTTP {status}, retry after {seconds}s, beyond the {budget}s the retries may take"
    )]
    RetryTooLate {
        /// The URL.
        url: String,
        /// The HTTP status (429, 503).
        status: u16,
        /// The `Retry-After` wait asked for.
        seconds: u64,
        /// The time left to retry in.
        budget: u64,
    },
    /// The request did not get a response.
    #[error("{url}: request failed")]
    Request {
        /// The URL.
        url: String,
        /// The transport failure.
        #[source]
        source: reqwest::Error,
    },
    /// The registry refused the credentials (or their absence).
    #[error("{url}: HTTP 401 unauthorized by registry {registry} ({origin}): {message}")]
    Unauthorized {
        /// The registry.
        registry: String,
        /// The URL refused.
        url: String,
        /// Where the credentials came from.
        origin: Box<auth::Origin>,
        /// The registry's error code and message.
        message: String,
    },
    /// The manifest, blob or repository does not exist.
    #[error("{url}: {what} not found (HTTP 404): {message}")]
    NotFound {
        /// `manifest`, `blob` or `repository`.
        what: &'static str,
        /// The URL.
        url: String,
        /// The registry's error code and message.
        message: String,
    },
    /// Any other unexpected HTTP status.
    #[error("{operation} {url}: HTTP {status}: {message}")]
    Status {
        /// What was being done (`get manifest`, `push blob`, …).
        operation: &'static str,
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The registry's first error code (`MANIFEST_BLOB_UNKNOWN`, …), if it sent one.
        code: Option<String>,
        /// The registry's error codes and messages, or the start of its response body.
        message: String,
    },
    /// Content does not hash to the digest it was asked for or announced with.
    #[error("{url}: content has digest {actual}, expected {expected}")]
    DigestMismatch {
        /// The URL (or file) the content came from.
        url: String,
        /// The digest expected.
        expected: Digest,
        /// The digest of what arrived.
        actual: Digest,
    },
    /// A blob's size differs from its descriptor's.
    #[error("{path}: {actual} bytes, descriptor says {expected}", path = path.display())]
    SizeMismatch {
        /// The blob file.
        path: PathBuf,
        /// The descriptor's size.
        expected: u64,
        /// The actual size.
        actual: u64,
    },
    /// A response lacks something the protocol requires.
    #[error("{url}: {problem}")]
    Malformed {
        /// The URL.
        url: String,
        /// What is missing or wrong.
        problem: &'static str,
    },
    /// A manifest or index from the registry does not parse.
    #[error("{url}: malformed manifest or index")]
    Document {
        /// The URL.
        url: String,
        /// The parser's complaint.
        #[source]
        source: manifest::Error,
    },
    /// A JSON response (tag list) does not parse.
    #[error("{url}: malformed JSON response")]
    Json {
        /// The URL.
        url: String,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// A blob being downloaded cannot be written to its destination.
    #[error("{url}: cannot write the downloaded blob")]
    Write {
        /// The URL.
        url: String,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// A blob file to upload cannot be read.
    #[error("{path}: cannot read the blob to upload", path = path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// The image to publish is not the one the target reference's digest names.
    #[error("{target}: the image set's root has digest {actual}")]
    TargetDigest {
        /// The target reference.
        target: String,
        /// The root's digest.
        actual: Digest,
    },
    /// The image set has no manifest to publish.
    #[error("{target}: the image set has no manifest")]
    EmptyImageSet {
        /// The target reference.
        target: String,
    },
}

impl Error {
    /// The failure itself: the last attempt's error when retries gave up, else `self`.
    pub fn last_attempt(&self) -> &Error {
        match self {
            Self::GaveUp { source, .. } => source.last_attempt(),
            other => other,
        }
    }

    /// Whether this failure may pass on its own (a connection error, HTTP 5xx, 408 or 429), so
    /// that the same request is worth sending again.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Request { .. } => true,
            Self::Status { status, .. } => retry::transient_status(*status),
            _ => false,
        }
    }
}

/// A blocking registry client. Create one per command; it caches tokens per repository.
pub struct Registry {
    runtime: tokio::runtime::Runtime,
    transport: Transport,
}

impl Registry {
    /// A client with these settings. Nothing is contacted until the first call.
    pub fn new(settings: Settings) -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        Ok(Self {
            runtime,
            transport: Transport::new(settings)?,
        })
    }

    /// Fetches a manifest or index by tag or digest: its exact bytes, the media type the
    /// registry states and the digest of the bytes (checked against the reference's digest
    /// and the registry's `Docker-Content-Digest`).
    pub fn get_manifest(&self, reference: &Remote) -> Result<RawManifest, Error> {
        self.runtime
            .block_on(self.transport.get_manifest(reference))
    }

    /// The descriptor a tag or digest currently names (a `HEAD`, or a `GET` when the registry
    /// sends no digest header).
    pub fn resolve(&self, reference: &Remote) -> Result<Descriptor, Error> {
        self.runtime.block_on(self.transport.resolve(reference))
    }

    /// Streams a blob into `out`, verifying its digest on the way; returns its size. On a
    /// mismatch `out` has already received the bytes: discard them.
    pub fn get_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        out: &mut dyn Write,
    ) -> Result<u64, Error> {
        self.runtime
            .block_on(self.transport.get_blob(repository, digest, out))
    }

    /// A small blob (a config, an envelope, a bundle) in memory, verified; refused unread
    /// beyond `limit` bytes.
    pub fn read_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        limit: u64,
    ) -> Result<Vec<u8>, Error> {
        self.runtime
            .block_on(self.transport.read_blob(repository, digest, limit))
    }

    /// Whether the repository holds this blob.
    pub fn blob_exists(&self, repository: &Repository, digest: &Digest) -> Result<bool, Error> {
        self.runtime
            .block_on(self.transport.blob_exists(repository, digest))
    }

    /// Uploads a blob unless the repository already holds it.
    pub fn push_blob(&self, repository: &Repository, blob: &Blob) -> Result<Pushed, Error> {
        self.runtime
            .block_on(self.transport.push_blob(repository, blob))
    }

    /// Pushes exactly `bytes` as a manifest of `media_type` under the reference's tag, or its
    /// digest (which must be that of `bytes`). Returns its descriptor.
    pub fn put_manifest(
        &self,
        target: &Remote,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<Descriptor, Error> {
        self.runtime
            .block_on(self.transport.put_manifest(target, bytes, media_type))
    }

    /// Publishes an image: blobs (skipping those present), then child manifests by digest,
    /// then the root under the target's tag (or digest).
    pub fn publish(&self, target: &Remote, set: &ImageSet) -> Result<Published, Error> {
        self.runtime.block_on(self.transport.publish(target, set))
    }

    /// The manifests whose `subject` is `subject`, through the referrers API or, where the
    /// registry has none, the `sha256-<hex>` tag index; optionally one artifact type only.
    pub fn referrers(
        &self,
        repository: &Repository,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Referrers, Error> {
        self.runtime
            .block_on(self.transport.referrers(repository, subject, artifact_type))
    }

    /// Whether the registry answers the referrers API for `subject` (and so keeps referrers
    /// lists itself); no fallback tag is read.
    pub fn has_referrers_api(
        &self,
        repository: &Repository,
        subject: &Digest,
    ) -> Result<bool, Error> {
        self.runtime
            .block_on(self.transport.has_referrers_api(repository, subject))
    }

    /// The repository's tags, in the registry's order (following `Link` pagination).
    pub fn list_tags(&self, repository: &Repository) -> Result<Vec<String>, Error> {
        self.runtime.block_on(self.transport.list_tags(repository))
    }
}

/// Whether a registry name (`host[:port]`) is a loopback host: `localhost`, `*.localhost`,
/// 127.0.0.0/8 or `::1`.
pub fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if registry.matches(':').count() == 1 {
        registry.split(':').next().unwrap_or(registry)
    } else {
        registry
    };
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "localhost:5000",
            "foo.svc.localhost:1234",
            "127.0.0.1",
            "127.0.0.1:5000",
            "127.1.2.3:80",
            "::1",
            "[::1]:5000",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "gcr.io",
            "127.0.0.1.evil.com",
            "my127.0.0.1registry.io",
            "10.2.3.4:5000",
            "[2001:db8::1]:5000",
            "localhost.example.com",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}

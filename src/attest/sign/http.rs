//! The one HTTP exchange the signing services need: a request with a body, the status, the
//! `Location` header and at most [`MAX_BODY`] bytes of answer, over a blocking client with
//! timeouts. Every failure names the service and its URL.
//!
//! Not for: the services' protocols ([`super::rekor`], [`super::fulcio`], [`super::tsa`],
//! [`super::oidc`]) or registries (`oci::registry`).

use std::io::Read as _;
use std::time::Duration;

/// The most bytes read from any answer: a log entry, a certificate chain or a timestamp are a
/// few KiB; anything far larger is not one of them.
pub const MAX_BODY: u64 = 4 << 20;

/// Why a service could not be reached or answered unreadably.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The client could not be set up.
    #[error("cannot set up an HTTP client for {service}")]
    Client {
        /// The service.
        service: &'static str,
        /// The failure.
        #[source]
        source: reqwest::Error,
    },
    /// The request did not get an answer.
    #[error("{service} at {url} did not answer")]
    Unreachable {
        /// The service.
        service: &'static str,
        /// The URL.
        url: String,
        /// The failure.
        #[source]
        source: reqwest::Error,
    },
    /// The answer could not be read.
    #[error("{service} at {url}: the answer could not be read")]
    Body {
        /// The service.
        service: &'static str,
        /// The URL.
        url: String,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The `Location` header, when present (Rekor's 409 names the existing entry).
    pub location: Option<String>,
    /// The body, at most [`MAX_BODY`] bytes.
    pub body: Vec<u8>,
}

impl Answer {
    /// The first 300 characters of the body, for error messages.
    pub fn excerpt(&self) -> String {
        String::from_utf8_lossy(&self.body)
            .trim()
            .chars()
            .take(300)
            .collect()
    }
}

/// What to send.
pub struct Request<'a> {
    /// `GET` or `POST`.
    pub method: reqwest::Method,
    /// The URL.
    pub url: &'a str,
    /// The `Content-Type` (and `Accept`) of the exchange.
    pub content_type: &'a str,
    /// The body, for `POST`.
    pub body: Vec<u8>,
    /// An `Authorization: Bearer` token, when the service wants one.
    pub bearer: Option<&'a str>,
}

/// Sends `request` to `service`.
pub fn exchange(service: &'static str, request: Request<'_>) -> Result<Answer, Error> {
    let client = reqwest::blocking::Client::builder()
        .user_agent(concat!("receipts/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30))
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|source| Error::Client { service, source })?;
    let mut builder = client
        .request(request.method, request.url)
        .header(reqwest::header::ACCEPT, request.content_type);
    if !request.body.is_empty() {
        builder = builder
            .header(reqwest::header::CONTENT_TYPE, request.content_type)
            .body(request.body);
    }
    if let Some(token) = request.bearer {
        builder = builder.bearer_auth(token);
    }
    let response = builder.send().map_err(|source| Error::Unreachable {
        service,
        url: request.url.to_owned(),
        source,
    })?;
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    response
        .take(MAX_BODY)
        .read_to_end(&mut body)
        .map_err(|source| Error::Body {
            service,
            url: request.url.to_owned(),
            source,
        })?;
    Ok(Answer {
        status,
        location,
        body,
    })
}

//! Per-registry connection state, authorised requests, retries and bounded reads.
//!
//! One [`Host`] per registry (its scheme, credential, authentication challenge and the
//! authorisations obtained per repository and access). [`Transport::send`] sends one request
//! with the right authorisation: on a 401 it learns the challenge again, fetches a fresh token
//! once and resends, then reports [`Error::Unauthorized`] or, when the registry says the token
//! lacks the scope, [`Error::Denied`]. Statuses worth retrying come back as a transient
//! [`Failure`]; [`Transport::retrying`] runs a whole operation (request and body) again after a
//! back-off, within [`super::retry::Policy`]. [`Transport::read_limited`] reads a body up to a
//! limit; error bodies are cut at [`limits::ERROR_BODY`].
//!
//! Not for: the operations themselves (the sibling modules), the token exchange
//! ([`super::bearer`]) or credential lookup ([`super::auth`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::auth::{Credential, Origin};
use super::bearer::{self, Challenge};
use super::{Error, PlainHttp, Settings, Tls, is_loopback, limits, retry};
use crate::oci::reference::Repository;

pub(super) const USER_AGENT: &str = concat!("receipts/", env!("CARGO_PKG_VERSION"));

/// What a request needs to do in a repository: the token scope's actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Access {
    /// Read.
    Pull,
    /// Read and write.
    Push,
}

impl Access {
    fn actions(self) -> &'static str {
        match self {
            Self::Pull => "pull",
            Self::Push => "pull,push",
        }
    }

    /// The token scope for `repository` (docker's token specification).
    pub(super) fn scope(self, repository: &Repository) -> String {
        format!("repository:{}:{}", repository.path(), self.actions())
    }
}

/// How a request is authorised.
#[derive(Clone)]
enum Authorization {
    Nothing,
    Basic(String, String),
    Bearer(String),
}

/// One registry host.
pub(super) struct Host {
    pub(super) registry: String,
    pub(super) scheme: &'static str,
    pub(super) credential: Credential,
    pub(super) origin: Origin,
    challenge: Mutex<Option<Challenge>>,
    authorizations: Mutex<BTreeMap<(String, Access), Authorization>>,
}

impl Host {
    /// `<scheme>://<registry>/v2/<path>`.
    pub(super) fn url(&self, path: &str) -> String {
        format!("{}://{}/v2/{path}", self.scheme, self.registry)
    }

    /// Whether `url` is on this registry (credentials are sent nowhere else, e.g. not to the
    /// storage a blob GET redirects to or an upload `Location` on another host).
    fn owns(&self, url: &str) -> bool {
        url.strip_prefix(self.scheme)
            .and_then(|rest| rest.strip_prefix("://"))
            .and_then(|rest| rest.strip_prefix(self.registry.as_str()))
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }
}

/// A failed attempt: worth another (after the wait the server asked for, if any), or final.
pub(super) enum Failure {
    /// The failure may pass; the same request may be sent again.
    Transient {
        /// What went wrong.
        error: Error,
        /// The server's `Retry-After`.
        after: Option<Duration>,
    },
    /// Sending again would fail the same way.
    Fatal(Error),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        if error.is_transient() {
            Self::Transient { error, after: None }
        } else {
            Self::Fatal(error)
        }
    }
}

/// All hosts seen so far, created on first use.
pub(super) struct Transport {
    settings: Settings,
    pub(super) http: reqwest::Client,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

impl Transport {
    pub(super) fn new(settings: Settings) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .danger_accept_invalid_certs(settings.tls == Tls::SkipVerification)
            .connect_timeout(settings.timeouts.connect)
            .read_timeout(settings.timeouts.read)
            .build()
            .map_err(Error::Client)?;
        Ok(Self {
            settings,
            http,
            hosts: Mutex::new(HashMap::new()),
        })
    }

    /// How blobs are uploaded.
    pub(super) fn upload_style(&self) -> super::Upload {
        self.settings.upload
    }

    /// The state for `registry`, looking up its credential on first use.
    pub(super) fn host(&self, registry: &str) -> Result<Arc<Host>, Error> {
        if let Some(host) = lock(&self.hosts).get(registry) {
            return Ok(host.clone());
        }
        let found = self
            .settings
            .credentials
            .lookup(registry)
            .map_err(|source| Error::Credentials {
                registry: registry.into(),
                source,
            })?;
        let plain = match &self.settings.plain_http {
            PlainHttp::Loopback => is_loopback(registry),
            PlainHttp::Hosts(hosts) => is_loopback(registry) || hosts.iter().any(|h| h == registry),
            PlainHttp::Everywhere => true,
        };
        let host = Arc::new(Host {
            registry: registry.into(),
            scheme: if plain { "http" } else { "https" },
            credential: found.credential,
            origin: found.origin,
            challenge: Mutex::new(None),
            authorizations: Mutex::new(BTreeMap::new()),
        });
        lock(&self.hosts).insert(registry.into(), host.clone());
        Ok(host)
    }

    /// Runs `attempt` (given its 1-based number) until it succeeds, fails for good, or the
    /// retry policy's attempts or time run out.
    pub(super) async fn retrying<T>(
        &self,
        url: &str,
        mut attempt: impl AsyncFnMut(u32) -> Result<T, Failure>,
    ) -> Result<T, Error> {
        let policy = self.settings.retry;
        let started = Instant::now();
        let mut number = 0;
        loop {
            number += 1;
            let (error, after) = match attempt(number).await {
                Ok(value) => return Ok(value),
                Err(Failure::Fatal(error)) => return Err(error),
                Err(Failure::Transient { error, after }) => (error, after),
            };
            let elapsed = started.elapsed();
            let left = policy.total.saturating_sub(elapsed);
            if let (Some(after), Error::Status { status, url, .. }) = (after, &error)
                && after > left
            {
                return Err(Error::RetryTooLate {
                    url: url.clone(),
                    status: *status,
                    seconds: after.as_secs(),
                    budget: left.as_secs(),
                });
            }
            let wait = after.unwrap_or_else(|| policy.backoff(number));
            if number >= policy.attempts || wait >= left {
                if number == 1 {
                    return Err(error);
                }
                return Err(Error::GaveUp {
                    url: url.into(),
                    attempts: number,
                    seconds: elapsed.as_secs_f64(),
                    source: Box::new(error),
                });
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// The registry's authentication challenge, asked once per host (`GET /v2/`).
    async fn challenge(&self, host: &Host) -> Result<Challenge, Failure> {
        if let Some(known) = lock(&host.challenge).clone() {
            return Ok(known);
        }
        let url = host.url("");
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|source| Error::Request {
                url: url.clone(),
                source,
            })?;
        let status = response.status().as_u16();
        let challenge = if status == 401 {
            bearer::parse(response.headers(), &url)?
        } else if retry::transient_status(status) {
            return Err(self.status_failure("reach", &url, response).await);
        } else {
            // 200, or a registry that answers /v2/ oddly: requests will show what they need.
            Challenge::Open
        };
        *lock(&host.challenge) = Some(challenge.clone());
        Ok(challenge)
    }

    async fn authorization(
        &self,
        host: &Host,
        repository: &Repository,
        access: Access,
    ) -> Result<Authorization, Failure> {
        let key = (repository.path().to_owned(), access);
        if let Some(cached) = lock(&host.authorizations).get(&key) {
            return Ok(cached.clone());
        }
        let authorization = match (self.challenge(host).await?, &host.credential) {
            (Challenge::Open, _) => Authorization::Nothing,
            (Challenge::Basic, Credential::Basic { username, password }) => {
                Authorization::Basic(username.clone(), password.clone())
            }
            (Challenge::Basic, _) => Authorization::Nothing,
            (Challenge::Bearer { .. }, Credential::RegistryToken(token)) => {
                Authorization::Bearer(token.clone())
            }
            (Challenge::Bearer { realm, service }, _) => Authorization::Bearer(
                self.token(host, &realm, service.as_deref(), &access.scope(repository))
                    .await?,
            ),
        };
        lock(&host.authorizations).insert(key, authorization.clone());
        Ok(authorization)
    }

    /// Sends one authorised request. A 401 is answered once with a fresh authorisation, then
    /// reported; HTTP 5xx, 408 and 429 come back as transient failures; any other status is
    /// the caller's to judge.
    pub(super) async fn send(
        &self,
        host: &Host,
        repository: &Repository,
        access: Access,
        operation: &'static str,
        url: &str,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Failure> {
        let mut refreshed = false;
        loop {
            let authorization = self.authorization(host, repository, access).await?;
            let request = match authorization {
                _ if !host.owns(url) => build(&self.http),
                Authorization::Nothing => build(&self.http),
                Authorization::Basic(user, password) => {
                    build(&self.http).basic_auth(user, Some(password))
                }
                Authorization::Bearer(token) => build(&self.http).bearer_auth(token),
            };
            let response = request.send().await.map_err(|source| Error::Request {
                url: url.into(),
                source,
            })?;
            let status = response.status().as_u16();
            if retry::transient_status(status) {
                return Err(self.status_failure(operation, url, response).await);
            }
            if status != 401 {
                return Ok(response);
            }
            lock(&host.authorizations).remove(&(repository.path().to_owned(), access));
            if let Ok(challenge) = bearer::parse(response.headers(), url) {
                *lock(&host.challenge) = Some(challenge);
            }
            if !refreshed {
                refreshed = true;
                continue;
            }
            if bearer::insufficient_scope(response.headers()) {
                return Err(Failure::Fatal(Error::Denied {
                    registry: host.registry.clone(),
                    repository: repository.path().to_owned(),
                    scope: access.scope(repository),
                    url: url.into(),
                    origin: Box::new(host.origin.clone()),
                }));
            }
            let (_, message) = error_details(&error_body(response).await);
            return Err(Failure::Fatal(Error::Unauthorized {
                registry: host.registry.clone(),
                url: url.into(),
                origin: Box::new(host.origin.clone()),
                message,
            }));
        }
    }

    /// The failure for a response with an unexpected status: transient for 5xx, 408 and 429
    /// (with the server's `Retry-After`), final otherwise.
    pub(super) async fn status_failure(
        &self,
        operation: &'static str,
        url: &str,
        response: reqwest::Response,
    ) -> Failure {
        let after = retry::retry_after(response.headers());
        let error = self.status_error(operation, url, response).await;
        if error.is_transient() {
            Failure::Transient { error, after }
        } else {
            Failure::Fatal(error)
        }
    }

    /// The failure for a response the caller does not read: a 404 is [`Error::NotFound`] of
    /// `what` (manifest, blob, repository), any other status the status error of `operation`;
    /// both final.
    pub(super) async fn unexpected(
        &self,
        what: &'static str,
        operation: &'static str,
        url: &str,
        response: reqwest::Response,
    ) -> Failure {
        if response.status().as_u16() == 404 {
            let body = error_body(response).await;
            return Failure::Fatal(Error::NotFound {
                what,
                url: url.into(),
                message: error_details(&body).1,
            });
        }
        Failure::Fatal(self.status_error(operation, url, response).await)
    }

    /// The error for a response whose status the caller did not expect.
    pub(super) async fn status_error(
        &self,
        operation: &'static str,
        url: &str,
        response: reqwest::Response,
    ) -> Error {
        let status = response.status().as_u16();
        let (code, message) = error_details(&error_body(response).await);
        Error::Status {
            operation,
            url: url.into(),
            status,
            code,
            message,
        }
    }
}

/// Reads a whole body of at most `limit` bytes; a longer one is refused, unread when its
/// `Content-Length` says so.
pub(super) async fn read_limited(
    mut response: reqwest::Response,
    limit: u64,
    url: &str,
    what: &'static str,
) -> Result<Vec<u8>, Failure> {
    let too_large = || {
        Failure::Fatal(Error::TooLarge {
            url: url.into(),
            what,
            limit,
        })
    };
    if response
        .content_length()
        .is_some_and(|length| length > limit)
    {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|source| Error::Request {
        url: url.into(),
        source,
    })? {
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The first [`limits::ERROR_BODY`] bytes of an error response; the rest is never read, and a
/// body cut short is as good as it got.
pub(super) async fn error_body(mut response: reqwest::Response) -> Vec<u8> {
    let mut bytes = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = limits::ERROR_BODY as usize - bytes.len();
        bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if bytes.len() >= limits::ERROR_BODY as usize {
            break;
        }
    }
    bytes
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every update is one assignment or insertion: a panic elsewhere leaves no half-state.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The first registry error code and all messages of an OCI error body, or its text.
pub(super) fn error_details(body: &[u8]) -> (Option<String>, String) {
    #[derive(serde::Deserialize)]
    struct Envelope {
        errors: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        code: String,
        #[serde(default)]
        message: String,
    }
    match serde_json::from_slice::<Envelope>(body) {
        Ok(envelope) if !envelope.errors.is_empty() => {
            let code = envelope.errors.first().map(|e| e.code.clone());
            let message = envelope
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.code, e.message))
                .collect::<Vec<_>>()
                .join("; ");
            (code, message)
        }
        _ => {
            let text = String::from_utf8_lossy(body);
            (None, text.trim().chars().take(512).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_stay_on_their_registry() {
        let host = Host {
            registry: "127.0.0.1:5000".into(),
            scheme: "http",
            credential: Credential::Anonymous,
            origin: Origin::Nowhere,
            challenge: Mutex::new(None),
            authorizations: Mutex::new(BTreeMap::new()),
        };
        assert!(host.owns("http://127.0.0.1:5000/v2/a/blobs/uploads/x"));
        assert!(host.owns("http://127.0.0.1:5000"));
        assert!(!host.owns("http://127.0.0.1:50001/v2/"));
        assert!(!host.owns("https://127.0.0.1:5000/v2/"));
        assert!(!host.owns("http://127.0.0.1:5000.evil/v2/"));
        assert!(!host.owns("http://storage.example/blob"));
    }
}

//! Per-registry connection state and authenticated raw requests.
//!
//! One oci-client `Client` per registry host (each knows its scheme and credential, and does the
//! bearer-token dance and token caching); plain `reqwest` requests for the calls oci-client
//! does not expose as needed (manifest `Content-Type`, status codes, referrers), authorised with
//! the token oci-client obtained. A request refused with 401 is retried once with a fresh
//! authorisation, which covers expired tokens.
//!
//! Not for: the operations themselves (the sibling modules) or credential lookup
//! ([`super::auth`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oci_client::RegistryOperation;
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;

use super::auth::{Credential, Origin};
use super::{Error, PlainHttp, Settings, Tls, Upload, is_loopback};
use crate::oci::reference::Repository;

const USER_AGENT: &str = concat!("receipts/", env!("CARGO_PKG_VERSION"));

/// How a raw request is authorised.
#[derive(Clone)]
enum Authorization {
    Nothing,
    Basic(String, String),
    Bearer(String),
}

/// One registry host.
pub(super) struct Host {
    pub(super) registry: String,
    scheme: &'static str,
    pub(super) client: oci_client::Client,
    auth: RegistryAuth,
    pub(super) origin: Origin,
    authorizations: Mutex<BTreeMap<(String, RegistryOperation), Authorization>>,
}

impl Host {
    /// `<scheme>://<registry>/v2/<path>`.
    pub(super) fn url(&self, path: &str) -> String {
        format!("{}://{}/v2/{path}", self.scheme, self.registry)
    }

    /// The oci-client reference for a repository (the tag is never used for blob calls).
    pub(super) fn reference(&self, repository: &Repository, tag: &str) -> oci_client::Reference {
        oci_client::Reference::with_tag(
            repository.registry().to_owned(),
            repository.path().to_owned(),
            tag.to_owned(),
        )
    }
}

/// All hosts seen so far, created on first use.
pub(super) struct Transport {
    settings: Settings,
    http: reqwest::Client,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

impl Transport {
    pub(super) fn new(settings: Settings) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .danger_accept_invalid_certs(settings.tls == Tls::SkipVerification)
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(Duration::from_secs(300))
            .build()
            .map_err(Error::Client)?;
        Ok(Self {
            settings,
            http,
            hosts: Mutex::new(HashMap::new()),
        })
    }

    /// The state for `registry`, looking up its credential on first use.
    pub(super) fn host(&self, registry: &str) -> Result<Arc<Host>, Error> {
        if let Some(host) = self.lock_hosts().get(registry) {
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
        let auth = match found.credential {
            Credential::Anonymous => RegistryAuth::Anonymous,
            Credential::Basic { username, password } => RegistryAuth::Basic(username, password),
            Credential::RegistryToken(token) => RegistryAuth::Bearer(token),
            Credential::IdentityToken(_) => {
                return Err(Error::IdentityToken {
                    registry: registry.into(),
                    origin: Box::new(found.origin),
                });
            }
        };
        let plain = match &self.settings.plain_http {
            PlainHttp::Loopback => is_loopback(registry),
            PlainHttp::Hosts(hosts) => is_loopback(registry) || hosts.iter().any(|h| h == registry),
            PlainHttp::Everywhere => true,
        };
        let config = oci_client::client::ClientConfig {
            protocol: if plain {
                oci_client::client::ClientProtocol::Http
            } else {
                oci_client::client::ClientProtocol::Https
            },
            accept_invalid_certificates: self.settings.tls == Tls::SkipVerification,
            use_monolithic_push: self.settings.upload == Upload::Monolithic,
            platform_resolver: None,
            connect_timeout: Some(Duration::from_secs(30)),
            read_timeout: Some(Duration::from_secs(300)),
            user_agent: USER_AGENT,
            ..Default::default()
        };
        let client = oci_client::Client::try_from(config).map_err(|source| Error::Oci {
            registry: registry.into(),
            operation: "set up the registry client",
            source,
        })?;
        let host = Arc::new(Host {
            registry: registry.into(),
            scheme: if plain { "http" } else { "https" },
            client,
            auth,
            origin: found.origin,
            authorizations: Mutex::new(BTreeMap::new()),
        });
        self.lock_hosts().insert(registry.into(), host.clone());
        Ok(host)
    }

    fn lock_hosts(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Host>>> {
        // A panic elsewhere cannot leave the map half-updated: insertion is one call.
        self.hosts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes oci-client hold the host's credential for its own calls.
    pub(super) async fn prepare(&self, host: &Host) {
        host.client
            .store_auth_if_needed(&host.registry, &host.auth)
            .await;
    }

    async fn authorization(
        &self,
        host: &Host,
        repository: &Repository,
        operation: RegistryOperation,
    ) -> Result<Authorization, Error> {
        let key = (repository.path().to_owned(), operation);
        if let Some(cached) = lock(&host.authorizations).get(&key) {
            return Ok(cached.clone());
        }
        let reference = host.reference(repository, "latest");
        let token = host
            .client
            .auth(&reference, &host.auth, operation)
            .await
            .map_err(|e| self.oci_error(host, "authenticate", e))?;
        let authorization = match (token, &host.auth) {
            (Some(token), _) => Authorization::Bearer(token),
            (None, RegistryAuth::Basic(user, password)) => {
                Authorization::Basic(user.clone(), password.clone())
            }
            (None, _) => Authorization::Nothing,
        };
        lock(&host.authorizations).insert(key, authorization.clone());
        Ok(authorization)
    }

    /// Sends an authorised request; 401 is retried once with a fresh authorisation, then
    /// reported as [`Error::Unauthorized`]. Any other status is the caller's to judge.
    pub(super) async fn send(
        &self,
        host: &Host,
        repository: &Repository,
        operation: RegistryOperation,
        url: &str,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Error> {
        let mut retried = false;
        loop {
            let authorization = self.authorization(host, repository, operation).await?;
            let request = match authorization {
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
            if response.status() != reqwest::StatusCode::UNAUTHORIZED {
                return Ok(response);
            }
            lock(&host.authorizations).remove(&(repository.path().to_owned(), operation));
            if retried {
                let (_, message) = error_details(&response.bytes().await.unwrap_or_default());
                return Err(Error::Unauthorized {
                    registry: host.registry.clone(),
                    url: url.into(),
                    origin: Box::new(host.origin.clone()),
                    message,
                });
            }
            retried = true;
        }
    }

    /// The error for a response whose status the caller did not expect.
    pub(super) async fn status_error(
        &self,
        operation: &'static str,
        url: &str,
        response: reqwest::Response,
    ) -> Error {
        let status = response.status().as_u16();
        let body = response.bytes().await.unwrap_or_default();
        let (code, message) = error_details(&body);
        Error::Status {
            operation,
            url: url.into(),
            status,
            code,
            message,
        }
    }

    /// Maps an oci-client failure to this module's errors, keeping status and registry code.
    pub(super) fn oci_error(
        &self,
        host: &Host,
        operation: &'static str,
        error: OciDistributionError,
    ) -> Error {
        match error {
            OciDistributionError::UnauthorizedError { url } => Error::Unauthorized {
                registry: host.registry.clone(),
                url,
                origin: Box::new(host.origin.clone()),
                message: String::new(),
            },
            OciDistributionError::ServerError {
                code: 401,
                url,
                message,
            } => Error::Unauthorized {
                registry: host.registry.clone(),
                url,
                origin: Box::new(host.origin.clone()),
                message: error_details(message.as_bytes()).1,
            },
            OciDistributionError::AuthenticationFailure(message) => Error::Unauthorized {
                registry: host.registry.clone(),
                url: host.url(""),
                origin: Box::new(host.origin.clone()),
                message: error_details(message.as_bytes()).1,
            },
            OciDistributionError::ServerError { code, url, message } => {
                let (registry_code, message) = error_details(message.as_bytes());
                Error::Status {
                    operation,
                    url,
                    status: code,
                    code: registry_code,
                    message,
                }
            }
            OciDistributionError::RequestError(source) => Error::Request {
                url: source
                    .url()
                    .map(|u| u.to_string())
                    .unwrap_or_else(|| host.url("")),
                source,
            },
            source => Error::Oci {
                registry: host.registry.clone(),
                operation,
                source,
            },
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
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

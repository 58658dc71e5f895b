//! The registry's authentication challenge and the bearer-token exchange, as docker, crane and
//! cosign do them against Docker Hub, ghcr.io, cgr.dev and distribution's `auth: token`.
//!
//! A registry answers `401` with `WWW-Authenticate: Bearer realm="…",service="…"` (parsed with
//! `http-auth`, the parser oci-client uses). The token comes from the realm:
//!
//! - anonymous: `GET realm?scope=…&service=…`;
//! - user name and password: the same `GET` with HTTP basic authentication;
//! - identity token (`identitytoken` in a Docker config, a helper's `<token>` user): an OAuth2
//!   refresh-token grant, `POST realm` with `grant_type=refresh_token`, `refresh_token`,
//!   `service`, `scope` and `client_id` form-encoded; a token server without OAuth2 (404)
//!   gets the anonymous `GET` instead, as go-containerregistry falls back;
//! - registry token (`registrytoken`, `--registry-token`): sent as is, no exchange.
//!
//! The answer is JSON with `token` or `access_token` (read up to [`limits::TOKEN`]). A token
//! server's 5xx, 408 and 429 are retried like any request; its 401 or 403 is
//! [`Error::TokenRefused`], naming the realm, the scope and where the credentials came from.
//! A realm over plain HTTP is followed only for a registry reached over plain HTTP.
//!
//! Not for: deciding when to authorise ([`super::transport`]), finding credentials
//! ([`super::auth`]). Follows distribution's token specification (`docs/spec/auth/token.md`,
//! `oauth.md`) and go-containerregistry `pkg/v1/remote/transport/bearer.go`.

use reqwest::header::{CONTENT_TYPE, HeaderMap, WWW_AUTHENTICATE};

use super::auth::Credential;
use super::transport::{Failure, Host, Transport, error_body, error_details, read_limited};
use super::{Error, limits, retry};

/// What a registry asks for before it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Challenge {
    /// Nothing: requests go unauthenticated.
    Open,
    /// HTTP basic authentication.
    Basic,
    /// A bearer token from `realm`.
    Bearer {
        /// The token server's URL.
        realm: String,
        /// The `service` parameter to pass on.
        service: Option<String>,
    },
}

/// The challenge in a 401's `WWW-Authenticate` headers: a bearer challenge wins over basic.
pub(super) fn parse(headers: &HeaderMap, url: &str) -> Result<Challenge, Error> {
    let mut basic = false;
    for value in headers.get_all(WWW_AUTHENTICATE) {
        let Ok(text) = value.to_str() else { continue };
        let Ok(challenges) = http_auth::parse_challenges(text) else {
            continue;
        };
        for challenge in challenges {
            if challenge.scheme.eq_ignore_ascii_case("bearer") {
                let param = |name: &str| {
                    challenge
                        .params
                        .iter()
                        .find(|(key, _)| key.eq_ignore_ascii_case(name))
                        .map(|(_, value)| value.to_unescaped())
                };
                let realm = param("realm").ok_or_else(|| Error::Challenge {
                    url: url.into(),
                    problem: "bearer challenge without a realm".into(),
                })?;
                return Ok(Challenge::Bearer {
                    realm,
                    service: param("service"),
                });
            }
            basic |= challenge.scheme.eq_ignore_ascii_case("basic");
        }
    }
    if basic {
        Ok(Challenge::Basic)
    } else {
        Err(Error::Challenge {
            url: url.into(),
            problem: "HTTP 401 without a Basic or Bearer challenge".into(),
        })
    }
}

/// Whether a 401's bearer challenge says the token lacks the scope (`error="insufficient_scope"`).
pub(super) fn insufficient_scope(headers: &HeaderMap) -> bool {
    headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|text| http_auth::parse_challenges(text).ok())
        .flatten()
        .any(|challenge| {
            challenge.params.iter().any(|(key, value)| {
                key.eq_ignore_ascii_case("error") && value.to_unescaped() == "insufficient_scope"
            })
        })
}

impl Transport {
    /// A bearer token for `scope` from `realm`, obtained with the host's credential.
    pub(super) async fn token(
        &self,
        host: &Host,
        realm: &str,
        service: Option<&str>,
        scope: &str,
    ) -> Result<String, Failure> {
        let url = reqwest::Url::parse(realm).map_err(|_| {
            Failure::Fatal(Error::Challenge {
                url: host.url(""),
                problem: format!("realm {realm:?} is not a URL"),
            })
        })?;
        if url.scheme() != "https" && !(url.scheme() == "http" && host.scheme == "http") {
            return Err(Failure::Fatal(Error::Challenge {
                url: host.url(""),
                problem: format!(
                    "realm {realm} is not HTTPS, and the registry is not reached over plain HTTP"
                ),
            }));
        }
        let response = match &host.credential {
            Credential::IdentityToken(refresh_token) => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "refresh_token")
                    .append_pair("refresh_token", refresh_token)
                    .append_pair("client_id", "receipts")
                    .append_pair("scope", scope);
                if let Some(service) = service {
                    form.append_pair("service", service);
                }
                let response = self
                    .http
                    .post(url.clone())
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(form.finish())
                    .send()
                    .await
                    .map_err(|source| request_error(realm, source))?;
                if response.status().as_u16() == 404 {
                    self.get_token(&url, service, scope, None).await?
                } else {
                    response
                }
            }
            Credential::Basic { username, password } => {
                self.get_token(&url, service, scope, Some((username, password)))
                    .await?
            }
            Credential::Anonymous | Credential::RegistryToken(_) => {
                self.get_token(&url, service, scope, None).await?
            }
        };
        let status = response.status().as_u16();
        if retry::transient_status(status) {
            return Err(self.status_failure("fetch a token", realm, response).await);
        }
        if status != 200 {
            let (_, message) = error_details(&error_body(response).await);
            return Err(Failure::Fatal(Error::TokenRefused {
                registry: host.registry.clone(),
                realm: realm.into(),
                scope: scope.into(),
                status,
                origin: Box::new(host.origin.clone()),
                message,
            }));
        }
        let body = read_limited(response, limits::TOKEN, realm, "token response").await?;
        #[derive(serde::Deserialize)]
        struct Answer {
            #[serde(default)]
            token: String,
            #[serde(default)]
            access_token: String,
        }
        let answer: Answer = serde_json::from_slice(&body).map_err(|source| {
            Failure::Fatal(Error::Json {
                url: realm.into(),
                source,
            })
        })?;
        // Some token servers set only access_token (go-containerregistry #54).
        [answer.token, answer.access_token]
            .into_iter()
            .find(|token| !token.is_empty())
            .ok_or_else(|| {
                Failure::Fatal(Error::NoToken {
                    realm: realm.into(),
                })
            })
    }

    async fn get_token(
        &self,
        realm: &reqwest::Url,
        service: Option<&str>,
        scope: &str,
        basic: Option<(&String, &String)>,
    ) -> Result<reqwest::Response, Failure> {
        let mut url = realm.clone();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("scope", scope);
            if let Some(service) = service {
                query.append_pair("service", service);
            }
        }
        let mut request = self.http.get(url);
        if let Some((username, password)) = basic {
            request = request.basic_auth(username, Some(password));
        }
        Ok(request
            .send()
            .await
            .map_err(|source| request_error(realm.as_str(), source))?)
    }
}

fn request_error(url: &str, source: reqwest::Error) -> Error {
    Error::Request {
        url: url.into(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(WWW_AUTHENTICATE, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn challenges_as_registries_send_them() {
        // Docker Hub's and distribution's forms.
        let hub = headers(&[
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io""#,
        ]);
        assert_eq!(
            parse(&hub, "u").unwrap(),
            Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into())
            }
        );
        let basic = headers(&[r#"Basic realm="test-realm""#]);
        assert_eq!(parse(&basic, "u").unwrap(), Challenge::Basic);
        let both = headers(&[r#"Basic realm="x""#, r#"Bearer realm="https://t/token""#]);
        assert!(matches!(
            parse(&both, "u").unwrap(),
            Challenge::Bearer { .. }
        ));
        assert!(parse(&headers(&[]), "u").is_err());
        assert!(parse(&headers(&[r#"Bearer service="x""#]), "u").is_err());
    }

    #[test]
    fn insufficient_scope_is_recognised() {
        let denied = headers(&[
            r#"Bearer realm="https://t/token",service="s",scope="repository:a:pull,push",error="insufficient_scope""#,
        ]);
        assert!(insufficient_scope(&denied));
        let plain = headers(&[r#"Bearer realm="https://t/token",service="s""#]);
        assert!(!insufficient_scope(&plain));
    }
}

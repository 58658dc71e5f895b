//! The Sigstore signing config (`signing_config.v0.2.json`, protobuf-specs
//! `SigningConfig`): which Fulcio, Rekor, TSA and OIDC services to sign with, and the choice
//! among them as cosign v3 / sigstore-go make it (services valid now, the highest API version
//! this client speaks — Rekor 2 before Rekor 1 —, the first of each).
//!
//! [`Endpoints::resolve`] is the one place endpoints are decided: the cosign flags
//! (`--fulcio-url`, `--rekor-url`, `--timestamp-server-url`) win, the signing config fills in
//! the rest. The signing config comes from `--signing-config FILE` or from the TUF
//! repository's `signing_config.v0.2.json` target; both arrive here as bytes through
//! [`SigningConfig::from_json`].
//!
//! Not for: talking to the services ([`super::rekor`], [`super::fulcio`], [`super::tsa`]),
//! trusted roots (`attest::verify::trust`).

use serde::Deserialize;

use crate::codec::time::GoTime;

/// The media type of the only signing config version this client reads.
pub const SIGNING_CONFIG_V02_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.signingconfig.v0.2+json";

/// Why a signing config cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not JSON of the schema.
    #[error("signing config {origin} does not match the signing config schema")]
    Json {
        /// Where it came from.
        origin: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// Another media type.
    #[error(
        "signing config {origin} has media type {media_type}; only {SIGNING_CONFIG_V02_MEDIA_TYPE} is read"
    )]
    MediaType {
        /// Where it came from.
        origin: String,
        /// Its media type.
        media_type: String,
    },
}

/// A parsed signing config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SigningConfig {
    /// Fulcio instances.
    pub ca_urls: Vec<Service>,
    /// OIDC providers.
    pub oidc_urls: Vec<Service>,
    /// Rekor instances.
    pub rekor_tlog_urls: Vec<Service>,
    /// Timestamp authorities.
    pub tsa_urls: Vec<Service>,
}

/// One service entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// Its base URL (the TSA's is the full timestamp endpoint).
    pub url: String,
    /// The API version it speaks (Rekor 1 or 2, Fulcio 1, TSA 1).
    #[serde(default)]
    pub major_api_version: u32,
    /// When it may be used.
    #[serde(default)]
    pub valid_for: Option<ValidFor>,
    /// Who runs it.
    #[serde(default)]
    pub operator: String,
}

/// A validity interval (RFC 3339 timestamps).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ValidFor {
    /// Start.
    #[serde(default)]
    pub start: Option<String>,
    /// End, if retired.
    #[serde(default)]
    pub end: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    media_type: String,
    #[serde(default)]
    ca_urls: Vec<Service>,
    #[serde(default)]
    oidc_urls: Vec<Service>,
    #[serde(default)]
    rekor_tlog_urls: Vec<Service>,
    #[serde(default)]
    tsa_urls: Vec<Service>,
}

impl SigningConfig {
    /// Parses a v0.2 signing config; `origin` names it in errors (a path or a TUF target).
    pub fn from_json(json: &[u8], origin: &str) -> Result<Self, Error> {
        let wire: Wire = serde_json::from_slice(json).map_err(|source| Error::Json {
            origin: origin.to_owned(),
            source,
        })?;
        if wire.media_type != SIGNING_CONFIG_V02_MEDIA_TYPE {
            return Err(Error::MediaType {
                origin: origin.to_owned(),
                media_type: wire.media_type,
            });
        }
        Ok(Self {
            ca_urls: wire.ca_urls,
            oidc_urls: wire.oidc_urls,
            rekor_tlog_urls: wire.rekor_tlog_urls,
            tsa_urls: wire.tsa_urls,
        })
    }
}

impl Service {
    fn valid_at(&self, now: i64) -> bool {
        let Some(valid) = &self.valid_for else {
            return true;
        };
        let parse = |t: &Option<String>| t.as_deref().and_then(|t| GoTime::parse_rfc3339(t).ok());
        parse(&valid.start).is_none_or(|s| s.unix_seconds() <= now)
            && parse(&valid.end).is_none_or(|e| now < e.unix_seconds())
    }
}

/// The first service valid at `now` among those speaking one of `versions`, preferring the
/// highest version (sigstore-go `SelectService`).
fn select<'a>(services: &'a [Service], versions: &[u32], now: i64) -> Option<&'a Service> {
    let usable = services
        .iter()
        .filter(|s| versions.contains(&s.major_api_version) && s.valid_at(now));
    let best = usable.clone().map(|s| s.major_api_version).max()?;
    usable.into_iter().find(|s| s.major_api_version == best)
}

/// The cosign flags that name services; each wins over the signing config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    /// `--fulcio-url`.
    pub fulcio: Option<String>,
    /// `--rekor-url`.
    pub rekor: Option<String>,
    /// `--timestamp-server-url`.
    pub tsa: Option<String>,
}

impl Flags {
    /// Whether any flag names a service (then cosign's flags, not a signing config, decide).
    pub fn any(&self) -> bool {
        self.fulcio.is_some() || self.rekor.is_some() || self.tsa.is_some()
    }
}

/// A transparency log and the Rekor API it speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    /// Its base URL.
    pub url: String,
    /// Its API: Rekor v1 (`/api/v1/log/entries`, `dsse` entries with a SET) or v2
    /// (`/api/v2/log/entries`, `hashedrekord` 0.0.2 entries, no SET: a timestamp is needed).
    pub api: RekorApi,
}

/// The Rekor API versions this client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RekorApi {
    /// Rekor v1.
    V1,
    /// Rekor v2 (rekor-tiles).
    V2,
}

/// The services one signing uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    /// Fulcio's base URL (keyless only).
    pub fulcio: Option<String>,
    /// The transparency log.
    pub rekor: Option<Log>,
    /// The RFC 3161 endpoint.
    pub tsa: Option<String>,
}

impl Endpoints {
    /// The endpoints from the flags, then the signing config (valid at `now`). `--rekor-url`
    /// names a Rekor v1 log, as cosign's flag does.
    pub fn resolve(flags: &Flags, config: Option<&SigningConfig>, now: i64) -> Self {
        let pick = |services: fn(&SigningConfig) -> &[Service], versions: &[u32]| {
            config.and_then(|c| select(services(c), versions, now))
        };
        let url = |service: Option<&Service>| service.map(|s| s.url.clone());
        let rekor = match &flags.rekor {
            Some(url) => Some(Log {
                url: url.clone(),
                api: RekorApi::V1,
            }),
            None => pick(|c| &c.rekor_tlog_urls, &[1, 2]).map(|s| Log {
                url: s.url.clone(),
                api: if s.major_api_version == 2 {
                    RekorApi::V2
                } else {
                    RekorApi::V1
                },
            }),
        };
        Self {
            fulcio: flags
                .fulcio
                .clone()
                .or_else(|| url(pick(|c| &c.ca_urls, &[1]))),
            rekor,
            tsa: flags
                .tsa
                .clone()
                .or_else(|| url(pick(|c| &c.tsa_urls, &[1]))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> SigningConfig {
        SigningConfig::from_json(json.as_bytes(), "test").unwrap()
    }

    #[test]
    fn flags_win_and_retired_or_unknown_versions_are_skipped() {
        let config = config(
            r#"{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls":[{"url":"https://old","majorApiVersion":1,"validFor":{"start":"2020-01-01T00:00:00Z","end":"2021-01-01T00:00:00Z"}},
                      {"url":"https://ca","majorApiVersion":1,"validFor":{"start":"2020-01-01T00:00:00Z"}}],
            "rekorTlogUrls":[{"url":"https://rekor2","majorApiVersion":2},{"url":"https://rekor","majorApiVersion":1}],
            "tsaUrls":[{"url":"https://tsa/api/v1/timestamp","majorApiVersion":1}],
            "rekorTlogConfig":{"selector":"ANY"}}"#,
        );
        let now = 1_800_000_000;
        let endpoints = Endpoints::resolve(&Flags::default(), Some(&config), now);
        assert_eq!(endpoints.fulcio.as_deref(), Some("https://ca"));
        // Rekor v2 is preferred over v1, as sigstore-go's selection prefers the highest.
        let v2 = Log {
            url: "https://rekor2".into(),
            api: RekorApi::V2,
        };
        assert_eq!(endpoints.rekor, Some(v2));
        assert_eq!(
            endpoints.tsa.as_deref(),
            Some("https://tsa/api/v1/timestamp")
        );
        let flags = Flags {
            rekor: Some("http://127.0.0.1:1".into()),
            ..Flags::default()
        };
        let endpoints = Endpoints::resolve(&flags, Some(&config), now);
        let v1 = Log {
            url: "http://127.0.0.1:1".into(),
            api: RekorApi::V1,
        };
        assert_eq!(endpoints.rekor, Some(v1));
        assert_eq!(Endpoints::resolve(&Flags::default(), None, now).rekor, None);
    }

    #[test]
    fn other_media_types_are_refused() {
        let error = SigningConfig::from_json(br#"{"mediaType":"x"}"#, "f.json").unwrap_err();
        assert!(matches!(error, Error::MediaType { .. }), "{error}");
    }
}

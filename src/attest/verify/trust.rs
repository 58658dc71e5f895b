//! Trusted material: the Sigstore `TrustedRoot` (protobuf-specs JSON, `--trusted-root`), the
//! legacy per-service overrides (`SIGSTORE_ROOT_FILE`, `SIGSTORE_REKOR_PUBLIC_KEY`,
//! `SIGSTORE_CT_LOG_PUBLIC_KEY_FILE`) and the hook a TUF client would plug into.
//!
//! Not for: checking anything against the material (the sibling modules). Reproduces
//! reference/cosign-attestations.md §6.3 and §10. No network: without a trusted root or an
//! override, [`Source::load`] fails saying how to provide one.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use super::key_details::{self, Scheme};
use crate::attest::dsse::decode_lenient;
use crate::attest::key::{self, PublicKey, pem};
use crate::codec::time::GoTime;

/// The media type prefix of trusted-root documents.
pub const TRUSTED_ROOT_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.trustedroot";
/// PEM certificates: self-signed ones are roots, the others intermediates.
pub const ENV_ROOT_FILE: &str = "SIGSTORE_ROOT_FILE";
/// A PEM Rekor public key.
pub const ENV_REKOR_PUBLIC_KEY: &str = "SIGSTORE_REKOR_PUBLIC_KEY";
/// A PEM CT log public key.
pub const ENV_CT_LOG_PUBLIC_KEY: &str = "SIGSTORE_CT_LOG_PUBLIC_KEY_FILE";

/// Why trusted material could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The trusted root JSON does not have the protobuf-specs shape.
    #[error("{path}: not a Sigstore trusted root")]
    Json {
        /// The file.
        path: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A field is malformed.
    #[error("{path}: {field}: {reason}")]
    Field {
        /// The file.
        path: String,
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A key could not be parsed.
    #[error("{path}: {field}: unusable public key")]
    Key {
        /// The file.
        path: String,
        /// The field.
        field: String,
        /// The key error.
        #[source]
        source: key::Error,
    },
    /// Nothing to verify against, and no way to fetch it.
    #[error(
        "no trusted root: pass --trusted-root FILE (a Sigstore trusted_root.json, e.g. from \
         `cosign trusted-root create` or the Sigstore TUF repository), or set \
         SIGSTORE_ROOT_FILE / SIGSTORE_REKOR_PUBLIC_KEY / SIGSTORE_CT_LOG_PUBLIC_KEY_FILE, \
         or leave all of them unset to use the Sigstore TUF repository"
    )]
    Missing,
    /// The fetcher (TUF, `attest::tuf`) failed; its error names the mirror and the role.
    #[error(
        "no --trusted-root or SIGSTORE_* variable given, and the Sigstore TUF repository \
         could not provide a trusted root"
    )]
    Fetch(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A transparency log or CT log key with its validity window.
#[derive(Debug, Clone)]
pub struct LogKey {
    /// The log's id: SHA-256 of its DER public key (or as the root states it).
    pub log_id: Vec<u8>,
    /// The log's base URL (its host names Rekor v2 checkpoints), empty when unknown.
    pub base_url: String,
    /// The key.
    pub key: PublicKey,
    /// How the key signs, from the root's `keyDetails`.
    pub scheme: Scheme,
    /// The key's DER (PKIX) bytes.
    pub der: Vec<u8>,
    /// Unix seconds from which the key is valid.
    pub valid_from: Option<i64>,
    /// Unix seconds until which the key is valid, if it was retired.
    pub valid_until: Option<i64>,
}

impl LogKey {
    /// Whether `time` (Unix seconds) lies within the key's validity.
    pub fn valid_at(&self, time: i64) -> bool {
        self.valid_from.is_none_or(|start| time >= start)
            && self.valid_until.is_none_or(|end| time <= end)
    }
}

/// A certificate authority: its chain (intermediates first, root last) and validity.
#[derive(Debug, Clone)]
pub struct CertificateAuthority {
    /// DER certificates, intermediates first, the root last.
    pub chain: Vec<Vec<u8>>,
    /// Unix seconds from which the CA issued.
    pub valid_from: Option<i64>,
    /// Unix seconds until which the CA issued.
    pub valid_until: Option<i64>,
}

impl CertificateAuthority {
    /// Whether `time` lies within the CA's validity.
    pub fn valid_at(&self, time: i64) -> bool {
        self.valid_from.is_none_or(|start| time >= start)
            && self.valid_until.is_none_or(|end| time <= end)
    }
}

/// A key of the root that cannot be used: skipped, with the reason kept for messages.
#[derive(Debug, Clone)]
pub struct UnusableKey {
    /// Where it sits in the root (`ctlogs[0].publicKey`).
    pub field: String,
    /// The log id the root gives it.
    pub log_id: Vec<u8>,
    /// Why it is unusable.
    pub reason: key_details::Unusable,
}

/// A timestamping authority: its chain (leaf if given, …, root) and its trusted window.
#[derive(Debug, Clone)]
pub struct TimestampAuthority {
    /// The authority's URI (duplicate timestamps from one URI count once).
    pub uri: String,
    /// DER certificates as the root lists them: leaf (if any), intermediates, root.
    pub chain: Vec<Vec<u8>>,
    /// Unix seconds from which its timestamps are trusted.
    pub valid_from: Option<i64>,
    /// Unix seconds until which its timestamps are trusted (inclusive).
    pub valid_until: Option<i64>,
}

impl TimestampAuthority {
    /// Whether a timestamp at `time` lies within the authority's window (both ends inclusive).
    pub fn valid_at(&self, time: i64) -> bool {
        self.valid_from.is_none_or(|start| time >= start)
            && self.valid_until.is_none_or(|end| time <= end)
    }
}

/// Everything verification trusts.
#[derive(Debug, Clone, Default)]
pub struct TrustedRoot {
    /// Rekor keys.
    pub tlogs: Vec<LogKey>,
    /// CT log keys.
    pub ctlogs: Vec<LogKey>,
    /// Fulcio-like CAs.
    pub certificate_authorities: Vec<CertificateAuthority>,
    /// RFC 3161 timestamping authorities.
    pub timestamp_authorities: Vec<TimestampAuthority>,
    /// Log keys the root lists but this verifier cannot use (unparseable or unsupported).
    pub unusable_keys: Vec<UnusableKey>,
    /// Built from the `SIGSTORE_*` per-service overrides rather than a trusted-root document:
    /// cosign uses such material on the legacy path only, and bundles then need
    /// `--trusted-root`.
    pub legacy_only: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRoot {
    #[serde(default)]
    media_type: String,
    #[serde(default)]
    tlogs: Vec<WireLog>,
    #[serde(default)]
    ctlogs: Vec<WireLog>,
    #[serde(default)]
    certificate_authorities: Vec<WireCa>,
    #[serde(default)]
    timestamp_authorities: Vec<WireCa>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireLog {
    #[serde(default)]
    base_url: String,
    #[serde(default)]
    public_key: Option<WireKey>,
    #[serde(default)]
    log_id: Option<WireLogId>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireKey {
    #[serde(default)]
    raw_bytes: String,
    #[serde(default)]
    key_details: Option<String>,
    #[serde(default)]
    valid_for: Option<WireValidity>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireLogId {
    #[serde(default)]
    key_id: String,
}

#[derive(Deserialize)]
struct WireValidity {
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    end: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireCa {
    #[serde(default)]
    uri: String,
    #[serde(default)]
    cert_chain: Option<WireChain>,
    #[serde(default)]
    valid_for: Option<WireValidity>,
}

#[derive(Deserialize)]
struct WireChain {
    #[serde(default)]
    certificates: Vec<WireCert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireCert {
    #[serde(default)]
    raw_bytes: String,
}

impl TrustedRoot {
    /// Parses a trusted root document; `origin` names it in errors. A log key that cannot be
    /// parsed or whose type is unsupported is recorded in [`TrustedRoot::unusable_keys`] and
    /// skipped; only a malformed document fails as a whole.
    pub fn from_json(json: &[u8], origin: &str) -> Result<Self, Error> {
        let wire: WireRoot = serde_json::from_slice(json).map_err(|source| Error::Json {
            path: origin.to_owned(),
            source,
        })?;
        if !wire.media_type.starts_with(TRUSTED_ROOT_MEDIA_TYPE) {
            return Err(field_error(
                origin,
                "mediaType".to_owned(),
                "not a trusted root media type",
            ));
        }
        let mut unusable_keys = Vec::new();
        let tlogs = parse_logs(wire.tlogs, "tlogs", origin, &mut unusable_keys)?;
        let ctlogs = parse_logs(wire.ctlogs, "ctlogs", origin, &mut unusable_keys)?;
        let certificate_authorities = parse_chains(
            wire.certificate_authorities,
            "certificateAuthorities",
            origin,
        )?
        .into_iter()
        .map(|(_, chain, valid_from, valid_until)| CertificateAuthority {
            chain,
            valid_from,
            valid_until,
        })
        .collect();
        let timestamp_authorities =
            parse_chains(wire.timestamp_authorities, "timestampAuthorities", origin)?
                .into_iter()
                .map(|(uri, chain, valid_from, valid_until)| TimestampAuthority {
                    uri,
                    chain,
                    valid_from,
                    valid_until,
                })
                .collect();
        Ok(TrustedRoot {
            tlogs,
            ctlogs,
            certificate_authorities,
            timestamp_authorities,
            unusable_keys,
            legacy_only: false,
        })
    }

    /// Reads a trusted root file.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(&bytes, &path.display().to_string())
    }

    /// The Rekor key with this log id.
    pub fn tlog(&self, log_id: &[u8]) -> Option<&LogKey> {
        self.tlogs.iter().find(|log| log.log_id == log_id)
    }

    /// Whether the root lists any transparency log, usable or not.
    pub fn has_tlogs(&self) -> bool {
        !self.tlogs.is_empty()
            || self
                .unusable_keys
                .iter()
                .any(|k| k.field.starts_with("tlogs"))
    }

    /// The unusable key the root lists under this log id, if any (for messages).
    pub fn unusable_key(&self, log_id: &[u8]) -> Option<&UnusableKey> {
        self.unusable_keys.iter().find(|k| k.log_id == log_id)
    }

    /// The CT log key with this log id.
    pub fn ctlog(&self, log_id: &[u8]) -> Option<&LogKey> {
        self.ctlogs.iter().find(|log| log.log_id == log_id)
    }
}

fn field_error(origin: &str, field: String, reason: &str) -> Error {
    Error::Field {
        path: origin.to_owned(),
        field,
        reason: reason.to_owned(),
    }
}

/// Parses `tlogs` or `ctlogs`: a malformed entry fails the root, an unusable key is skipped.
fn parse_logs(
    logs: Vec<WireLog>,
    name: &str,
    origin: &str,
    unusable: &mut Vec<UnusableKey>,
) -> Result<Vec<LogKey>, Error> {
    let mut out = Vec::new();
    for (i, log) in logs.into_iter().enumerate() {
        let at = |f: &str| format!("{name}[{i}].{f}");
        let public_key = log
            .public_key
            .ok_or_else(|| field_error(origin, at("publicKey"), "missing"))?;
        let raw = decode_lenient(&public_key.raw_bytes)
            .ok_or_else(|| field_error(origin, at("publicKey.rawBytes"), "not base64"))?;
        let (valid_from, valid_until) = validity(
            public_key.valid_for.as_ref(),
            &at("publicKey.validFor"),
            origin,
        )?;
        // The trusted-root schema makes the start mandatory (sigstore-go refuses the root;
        // conformance `trust-root-tlog-missing-validity-start_fail`).
        if valid_from.is_none() {
            return Err(field_error(
                origin,
                at("publicKey.validFor.start"),
                "missing",
            ));
        }
        let log_id = match &log.log_id {
            Some(id) => decode_lenient(&id.key_id)
                .ok_or_else(|| field_error(origin, at("logId.keyId"), "not base64"))?,
            None => Sha256::digest(&raw).to_vec(),
        };
        match key_details::parse(public_key.key_details.as_deref(), &raw) {
            Ok((key, scheme)) => {
                // Key hints and log ids hash the PKIX form, whatever the root's encoding.
                let der = key.to_der().unwrap_or(raw);
                out.push(LogKey {
                    log_id,
                    base_url: log.base_url,
                    key,
                    scheme,
                    der,
                    valid_from,
                    valid_until,
                });
            }
            Err(reason) => unusable.push(UnusableKey {
                field: at("publicKey"),
                log_id,
                reason,
            }),
        }
    }
    Ok(out)
}

type Chain = (String, Vec<Vec<u8>>, Option<i64>, Option<i64>);

/// Parses `certificateAuthorities` or `timestampAuthorities`: URI, chain and validity.
fn parse_chains(cas: Vec<WireCa>, name: &str, origin: &str) -> Result<Vec<Chain>, Error> {
    cas.into_iter()
        .enumerate()
        .map(|(i, ca)| {
            let at = |f: &str| format!("{name}[{i}].{f}");
            let chain = ca
                .cert_chain
                .map(|c| c.certificates)
                .unwrap_or_default()
                .iter()
                .map(|c| {
                    decode_lenient(&c.raw_bytes)
                        .ok_or_else(|| field_error(origin, at("certChain"), "not base64"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if chain.is_empty() {
                return Err(field_error(origin, at("certChain"), "empty"));
            }
            let (valid_from, valid_until) =
                validity(ca.valid_for.as_ref(), &at("validFor"), origin)?;
            Ok((ca.uri, chain, valid_from, valid_until))
        })
        .collect()
}

fn validity(
    valid_for: Option<&WireValidity>,
    field: &str,
    origin: &str,
) -> Result<(Option<i64>, Option<i64>), Error> {
    let parse = |text: &Option<String>, which: &str| -> Result<Option<i64>, Error> {
        text.as_deref()
            .map(|t| {
                GoTime::parse_rfc3339(t)
                    .map(|time| time.unix_seconds())
                    .map_err(|e| Error::Field {
                        path: origin.to_owned(),
                        field: format!("{field}.{which}"),
                        reason: e.to_string(),
                    })
            })
            .transpose()
    };
    match valid_for {
        None => Ok((None, None)),
        Some(v) => Ok((parse(&v.start, "start")?, parse(&v.end, "end")?)),
    }
}

/// Where trusted material comes from, in cosign's precedence (§6.3).
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// `--trusted-root FILE`.
    pub trusted_root: Option<PathBuf>,
    /// `SIGSTORE_ROOT_FILE`.
    pub root_file: Option<PathBuf>,
    /// `SIGSTORE_REKOR_PUBLIC_KEY`.
    pub rekor_public_key: Option<PathBuf>,
    /// `SIGSTORE_CT_LOG_PUBLIC_KEY_FILE`.
    pub ct_log_public_key: Option<PathBuf>,
}

/// A fetcher of the default trusted root (cosign: the Sigstore TUF repository). None ships in
/// this build; a TUF client implements this to add one.
pub trait Fetch {
    /// The current trusted root.
    fn trusted_root(&self) -> Result<TrustedRoot, Error>;
}

impl Source {
    /// `--trusted-root` plus the environment overrides.
    pub fn from_env(trusted_root: Option<PathBuf>) -> Self {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Source {
            trusted_root,
            root_file: var(ENV_ROOT_FILE),
            rekor_public_key: var(ENV_REKOR_PUBLIC_KEY),
            ct_log_public_key: var(ENV_CT_LOG_PUBLIC_KEY),
        }
    }

    /// Whether any per-service override is set (they disable the default root in cosign).
    pub fn has_overrides(&self) -> bool {
        self.root_file.is_some()
            || self.rekor_public_key.is_some()
            || self.ct_log_public_key.is_some()
    }

    /// Loads the material: the trusted root file if given, else the overrides, else `fetch`;
    /// `Ok(None)` when there is nothing and no fetcher.
    pub fn load(&self, fetch: Option<&dyn Fetch>) -> Result<Option<TrustedRoot>, Error> {
        if let Some(path) = &self.trusted_root {
            return TrustedRoot::from_file(path).map(Some);
        }
        if self.has_overrides() {
            return self.load_overrides().map(Some);
        }
        fetch.map(|f| f.trusted_root()).transpose()
    }

    fn load_overrides(&self) -> Result<TrustedRoot, Error> {
        let mut root = TrustedRoot {
            legacy_only: true,
            ..TrustedRoot::default()
        };
        if let Some(path) = &self.root_file {
            root.certificate_authorities = authorities_from_pem(&read(path)?);
        }
        if let Some(path) = &self.rekor_public_key {
            root.tlogs.push(log_key_from_pem(&read(path)?, path)?);
        }
        if let Some(path) = &self.ct_log_public_key {
            root.ctlogs.push(log_key_from_pem(&read(path)?, path)?);
        }
        Ok(root)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })
}

fn log_key_from_pem(text: &[u8], path: &Path) -> Result<LogKey, Error> {
    let key = key::load_public_key(text).map_err(|source| Error::Key {
        path: path.display().to_string(),
        field: "PEM".to_owned(),
        source,
    })?;
    let der = key.to_der().map_err(|source| Error::Key {
        path: path.display().to_string(),
        field: "PEM".to_owned(),
        source,
    })?;
    Ok(LogKey {
        log_id: Sha256::digest(&der).to_vec(),
        base_url: String::new(),
        scheme: key_details::default_scheme(&key),
        key,
        der,
        valid_from: None,
        valid_until: None,
    })
}

/// Splits PEM certificates into CAs: each self-signed certificate is a root, and every other
/// certificate is offered as an intermediate to each of them (Go's pool semantics).
fn authorities_from_pem(text: &[u8]) -> Vec<CertificateAuthority> {
    let certificates = pem_certificates(text);
    let (roots, intermediates): (Vec<_>, Vec<_>) = certificates
        .into_iter()
        .partition(|der| super::certificate::is_self_signed(der));
    roots
        .into_iter()
        .map(|root| {
            let mut chain = intermediates.clone();
            chain.push(root);
            CertificateAuthority {
                chain,
                valid_from: None,
                valid_until: None,
            }
        })
        .collect()
}

/// The DER bodies of every `CERTIFICATE` block in PEM text.
pub fn pem_certificates(text: &[u8]) -> Vec<Vec<u8>> {
    pem::decode_all(text, "CERTIFICATE")
}

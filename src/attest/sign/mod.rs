//! Signing an attestation as a release pipeline does, before it is attached: with a key or
//! keylessly (an ephemeral key certified by Fulcio for an OIDC identity), logged in Rekor, and
//! optionally timestamped by an RFC 3161 authority; the evidence lands in the bundle's
//! verification material and in the legacy layer's annotations, as cosign puts it.
//!
//! [`attestation`] runs every network step first and returns a [`Signed`] that
//! `attest::store::attach` can then write: a refusal by any service leaves the image untouched.
//! Which services to use is decided once, by [`config::Endpoints::resolve`], from the cosign
//! flags and a Sigstore signing config ([`config::SigningConfig`], from `--signing-config` or
//! from TUF).
//!
//! Not for: the statement and envelope ([`super::statement`], [`super::dsse`]), storage
//! ([`super::store`]), verification ([`super::verify`]). Reproduces cosign v3's `attest`
//! (`cmd/cosign/cli/attest/attest.go`, sigstore-go `pkg/sign`): Rekor v1 `dsse` entries, or
//! Rekor v2 `hashedrekord` 0.0.2 entries over the DSSE PAE (with a required timestamp) when the
//! signing config chooses a v2 log.

pub mod config;
pub mod fulcio;
pub mod http;
pub mod oidc;
pub mod rekor;
pub mod rekor_v2;
pub mod tsa;

use std::collections::BTreeMap;

use super::key::{self, PrivateKey};
use super::names;
use super::statement::Statement;
use super::store::{self, Evidence, Format, Signed};
use crate::oci::Digest;

pub use config::{Endpoints, Flags, Log, RekorApi, SigningConfig};

/// Why an attestation could not be signed; nothing was attached.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A service is needed but no URL names it.
    #[error("{service} is needed but not configured: {remedy}")]
    NoEndpoint {
        /// The service.
        service: &'static str,
        /// Which flags provide it.
        remedy: &'static str,
    },
    /// Rekor v2 entries carry no SET, which the legacy `.att` annotations need.
    #[error(
        "the Rekor v2 log {url} cannot back a legacy attestation (its entries have no SET): \
         use the bundle format, or name a Rekor v1 log with --rekor-url"
    )]
    LegacyWithRekorV2 {
        /// The log.
        url: String,
    },
    /// The identity token is missing or unusable.
    #[error(transparent)]
    Token(#[from] oidc::Error),
    /// The ephemeral key could not be made or encoded.
    #[error("cannot make or encode the signing key")]
    Key(#[source] key::Error),
    /// Fulcio did not issue a certificate.
    #[error(transparent)]
    Fulcio(#[from] fulcio::Error),
    /// Rekor did not log the entry.
    #[error(transparent)]
    Rekor(#[from] rekor::Error),
    /// The timestamp authority did not stamp the signature.
    #[error(transparent)]
    Timestamp(#[from] tsa::Error),
    /// Signing or the pre-push check failed.
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// Who signs.
#[derive(Debug, Clone)]
pub enum Signer<'a> {
    /// A key file's key (`--key`).
    Key(&'a PrivateKey),
    /// An ephemeral key certified for this identity token (no `--key`).
    Keyless(oidc::Token),
}

/// Where and how the evidence is made.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The services.
    pub endpoints: Endpoints,
    /// `--tlog-upload`: log the entry in Rekor (cosign's default).
    pub tlog_upload: bool,
    /// The storage scheme: the legacy timestamp covers the layer, the bundle's the signature.
    pub format: Format,
}

/// Signs `statement` about `subject`, gets a certificate (keyless), logs the entry and gets a
/// timestamp as `plan` says; returns what `store::attach` writes.
pub fn attestation(
    statement: &Statement,
    subject: &Digest,
    signer: Signer<'_>,
    plan: &Plan,
) -> Result<Signed, Error> {
    let endpoints = &plan.endpoints;
    check_plan(plan, matches!(signer, Signer::Keyless(_)))?;
    let (key, certificate) = match signer {
        Signer::Key(key) => (key.clone(), None),
        Signer::Keyless(token) => {
            let fulcio = endpoints.fulcio.as_deref().ok_or(Error::NoEndpoint {
                service: "Fulcio",
                remedy: "pass --fulcio-url or --signing-config (or sign with --key)",
            })?;
            let key = PrivateKey::generate_ecdsa_p256().map_err(Error::Key)?;
            let issued = fulcio::certificate(fulcio, &token, &key)?;
            (key, Some(issued))
        }
    };
    let signed = Signed::sign(statement, subject, &key)?;
    let public = key.public_key();
    let mut evidence = Evidence::default();
    let verifier_pem = match &certificate {
        Some(issued) => {
            evidence.certificate = Some(issued.leaf.clone());
            evidence
                .annotations
                .insert(names::CERTIFICATE_ANNOTATION.to_owned(), issued.leaf_pem());
            evidence
                .annotations
                .insert(names::CHAIN_ANNOTATION.to_owned(), issued.chain_pem());
            issued.leaf_pem()
        }
        None => public.to_pem().map_err(Error::Key)?,
    };
    match endpoints.rekor.as_ref().filter(|_| plan.tlog_upload) {
        Some(Log {
            url,
            api: RekorApi::V1,
        }) => {
            let logged = rekor::log_envelope(
                url,
                signed.envelope(),
                signed.envelope_json(),
                &verifier_pem,
            )?;
            evidence.tlog_entries.push(logged.entry);
            evidence
                .annotations
                .insert(names::REKOR_BUNDLE_ANNOTATION.to_owned(), logged.annotation);
        }
        Some(Log {
            url,
            api: RekorApi::V2,
        }) => {
            let public_der;
            let verifier = match &evidence.certificate {
                Some(leaf) => rekor_v2::Verifier::Certificate(leaf),
                None => {
                    public_der = public.to_der().map_err(Error::Key)?;
                    rekor_v2::Verifier::PublicKey(&public_der)
                }
            };
            let entry = rekor_v2::log_envelope(url, signed.envelope(), &public, verifier)?;
            evidence.tlog_entries.push(entry);
        }
        None => {}
    }
    if let Some(url) = endpoints.tsa.as_deref() {
        let stamped = match plan.format {
            Format::Bundle => signed
                .envelope()
                .signatures
                .first()
                .map(|s| s.sig.clone())
                .unwrap_or_default(),
            Format::Legacy { .. } => signed.envelope_json().to_vec(),
        };
        let response = tsa::timestamp(url, &stamped)?;
        evidence.annotations.insert(
            names::RFC3161_ANNOTATION.to_owned(),
            legacy_timestamp(&response),
        );
        evidence.timestamps.push(response);
    }
    Ok(signed.with_evidence(evidence, &public)?)
}

/// Refuses, before any service is asked, a plan that cannot make verifiable evidence.
fn check_plan(plan: &Plan, keyless: bool) -> Result<(), Error> {
    let endpoints = &plan.endpoints;
    if plan.tlog_upload {
        let log = endpoints.rekor.as_ref().ok_or(Error::NoEndpoint {
            service: "Rekor",
            remedy: "pass --rekor-url or --signing-config, or --tlog-upload=false to sign \
                     without a transparency log",
        })?;
        if log.api == RekorApi::V2 {
            if matches!(plan.format, Format::Legacy { .. }) {
                return Err(Error::LegacyWithRekorV2 {
                    url: log.url.clone(),
                });
            }
            if endpoints.tsa.is_none() {
                // Rekor v2 entries carry no time; verifiers require a signed timestamp.
                return Err(Error::NoEndpoint {
                    service: "a timestamp authority (Rekor v2 entries carry no time)",
                    remedy: "pass --timestamp-server-url, or a signing config that lists a TSA",
                });
            }
        }
    } else if keyless && endpoints.tsa.is_none() {
        // A short-lived certificate needs a time it was valid at: a log entry or a timestamp.
        return Err(Error::NoEndpoint {
            service: "a transparency log or a timestamp authority",
            remedy: "keyless signing with --tlog-upload=false needs --timestamp-server-url",
        });
    }
    Ok(())
}

/// cosign's `dev.sigstore.cosign/rfc3161timestamp` annotation (`pkg/cosign/bundle/tsa.go`).
fn legacy_timestamp(response: &[u8]) -> String {
    use base64::Engine as _;
    let value = BTreeMap::from([(
        "SignedRFC3161Timestamp",
        base64::engine::general_purpose::STANDARD.encode(response),
    )]);
    serde_json::to_string(&value).unwrap_or_default()
}

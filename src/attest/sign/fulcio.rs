//! A short-lived signing certificate from Fulcio's v2 REST API (`POST /api/v2/signingCert`):
//! the identity token, the ephemeral public key and a proof of possession (the key's signature
//! over the token's subject), answered with the certificate chain and an SCT embedded in the
//! leaf. The leaf must carry our key; bundles have no room for a detached SCT, so one is refused.
//!
//! Not for: the token ([`super::oidc`]), checking the chain or SCT against a trusted root
//! (`attest::verify`). Follows Fulcio's `fulcio.proto` (`CreateSigningCertificateRequest`,
//! `SigningCertificate`) as sigstore-go's `pkg/sign/certificate.go` calls it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;

use super::http::{self, Request};
use super::oidc::Token;
use crate::attest::key::{PrivateKey, pem};
use crate::attest::verify::certificate::Cert;

const SERVICE: &str = "Fulcio";

/// Why no certificate was issued.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No answer.
    #[error(transparent)]
    Http(#[from] http::Error),
    /// The key could not sign the proof of possession or be encoded.
    #[error("cannot prepare the certificate request for Fulcio at {url}")]
    Key {
        /// The URL.
        url: String,
        /// The failure.
        #[source]
        source: crate::attest::key::Error,
    },
    /// Fulcio refused.
    #[error("Fulcio at {url} refused to issue a certificate: HTTP {status}: {message}")]
    Refused {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
        /// Fulcio's message.
        message: String,
    },
    /// The answer is not a usable chain.
    #[error("Fulcio at {url} answered with an unusable certificate: {reason}")]
    Answer {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
}

/// An issued certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// The leaf, DER, with its embedded SCT.
    pub leaf: Vec<u8>,
    /// The intermediates and root above it, DER, in order.
    pub chain: Vec<Vec<u8>>,
}

impl Issued {
    /// The leaf as PEM (the Rekor verifier, the legacy certificate annotation).
    pub fn leaf_pem(&self) -> String {
        pem::encode("CERTIFICATE", &self.leaf)
    }

    /// The chain above the leaf as PEM (the legacy chain annotation).
    pub fn chain_pem(&self) -> String {
        self.chain
            .iter()
            .map(|der| pem::encode("CERTIFICATE", der))
            .collect()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    signed_certificate_embedded_sct: Option<WithChain>,
    signed_certificate_detached_sct: Option<WithChain>,
}

#[derive(Deserialize)]
struct WithChain {
    chain: Chain,
}

#[derive(Deserialize)]
struct Chain {
    certificates: Vec<String>,
}

/// The signing-certificate endpoint under Fulcio's base URL.
pub fn signing_cert_url(base: &str) -> String {
    format!("{}/api/v2/signingCert", base.trim_end_matches('/'))
}

/// Asks Fulcio at `base` for a certificate binding `key` to `token`'s identity.
pub fn certificate(base: &str, token: &Token, key: &PrivateKey) -> Result<Issued, Error> {
    let url = signing_cert_url(base);
    let key_error = |source| Error::Key {
        url: url.clone(),
        source,
    };
    let public_pem = key.public_key().to_pem().map_err(key_error)?;
    let proof = key.sign(token.subject.as_bytes()).map_err(key_error)?;
    let algorithm = match key {
        PrivateKey::EcdsaP256(_) | PrivateKey::EcdsaP384(_) => "ECDSA",
        PrivateKey::Ed25519(_) => "ED25519",
        PrivateKey::Rsa(_) => "RSA_PSS",
    };
    let request = json!({
        "credentials": {"oidcIdentityToken": token.jwt},
        "publicKeyRequest": {
            "publicKey": {"algorithm": algorithm, "content": public_pem},
            "proofOfPossession": STANDARD.encode(proof)
        }
    });
    let answer = http::exchange(
        SERVICE,
        Request {
            method: reqwest::Method::POST,
            url: &url,
            content_type: "application/json",
            body: request.to_string().into_bytes(),
            bearer: None,
        },
    )?;
    if !(200..300).contains(&answer.status) {
        return Err(Error::Refused {
            url,
            status: answer.status,
            message: answer.excerpt(),
        });
    }
    let fail = |reason: String| Error::Answer {
        url: url.clone(),
        reason,
    };
    let parsed: Answer = serde_json::from_slice(&answer.body)
        .map_err(|e| fail(format!("not a signing certificate: {e}")))?;
    let chain = match (
        parsed.signed_certificate_embedded_sct,
        parsed.signed_certificate_detached_sct,
    ) {
        (Some(embedded), _) => embedded.chain.certificates,
        (None, Some(_)) => {
            return Err(fail(
                "it has a detached SCT; a Sigstore bundle carries only embedded SCTs".into(),
            ));
        }
        (None, None) => return Err(fail("no certificate chain".into())),
    };
    let mut ders = chain
        .iter()
        .map(|text| {
            pem::decode(text.as_bytes())
                .map(|block| block.body)
                .map_err(|e| fail(format!("a certificate is not PEM: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if ders.is_empty() {
        return Err(fail("the chain is empty".into()));
    }
    let leaf = ders.remove(0);
    let parsed_leaf = Cert::parse(&leaf).map_err(|e| fail(format!("leaf: {e}")))?;
    if parsed_leaf.public_key != key.public_key() {
        return Err(fail("the leaf certifies another key than ours".into()));
    }
    if parsed_leaf.extension("1.3.6.1.4.1.11129.2.4.2").is_none() {
        return Err(fail("the leaf has no embedded SCT".into()));
    }
    Ok(Issued { leaf, chain: ders })
}

//! X.509 for Sigstore: parsing a signing certificate's identity (SANs, Fulcio issuer and GitHub
//! workflow extensions), and validating it against a trusted CA chain at a given time with the
//! code-signing EKU, as Go's `x509.Verify` does for cosign and sigstore-go.
//!
//! Not for: deciding whether an identity is the expected one ([`super::identity`]) or SCTs
//! ([`super::sct`]). Reproduces reference/cosign-attestations.md §6.6 step 3, §6.8 and §6.9. Pure.

use x509_cert::Certificate;
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, SubjectAltName};

use super::der;
use super::signature::{self, hash_of_x509_algorithm};
use super::trust::TrustedRoot;
use crate::attest::key::PublicKey;

/// Fulcio's issuer extension (raw ASCII value), the only one cosign's legacy path reads.
pub const OID_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
/// Fulcio's issuer extension (DER UTF8String value).
pub const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
/// Fulcio's otherName SAN type (a username).
pub const OID_OTHERNAME_SAN: &str = "1.3.6.1.4.1.57264.1.7";
/// The embedded SCT list extension.
pub const OID_SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";
const OID_EKU_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
const OID_EKU_ANY: &str = "2.5.29.37.0";
const OID_SAN: &str = "2.5.29.17";
const OID_EKU: &str = "2.5.29.37";
const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";

/// Why a certificate is unusable or untrusted.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not a DER certificate.
    #[error("certificate is not valid DER: {reason}")]
    Parse {
        /// The decoder's complaint.
        reason: String,
    },
    /// Its public key is not one cosign verifies with.
    #[error("certificate public key is unusable")]
    Key {
        /// The key error.
        #[source]
        source: crate::attest::key::Error,
    },
    /// No trusted CA issued it (at that time).
    #[error("certificate chain does not lead to a trusted root valid at {time}: {reason}")]
    Untrusted {
        /// The time checked (Unix seconds).
        time: i64,
        /// The last reason a candidate chain failed.
        reason: String,
    },
    /// The leaf lacks the code-signing EKU.
    #[error("certificate is not valid for code signing (extended key usage)")]
    CodeSigning,
}

/// One subject alternative name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum San {
    /// An email address.
    Email(String),
    /// A URI.
    Uri(String),
    /// A DNS name.
    Dns(String),
    /// An IP address, printed.
    Ip(String),
    /// Fulcio's otherName username.
    OtherName(String),
}

impl San {
    /// The value as a string.
    pub fn value(&self) -> &str {
        match self {
            San::Email(v) | San::Uri(v) | San::Dns(v) | San::Ip(v) | San::OtherName(v) => v,
        }
    }
}

/// A parsed certificate with what verification reads from it.
#[derive(Debug, Clone)]
pub struct Cert {
    /// The DER bytes.
    pub der: Vec<u8>,
    /// Validity start, Unix seconds.
    pub not_before: i64,
    /// Validity end, Unix seconds.
    pub not_after: i64,
    /// The subject public key.
    pub public_key: PublicKey,
    /// The DER subject public key info (hashed for SCTs).
    pub spki_der: Vec<u8>,
    subject: Vec<u8>,
    issuer: Vec<u8>,
    tbs: Vec<u8>,
    signature_algorithm: String,
    signature: Vec<u8>,
    /// Extensions in order: OID and raw value.
    pub extensions: Vec<(String, Vec<u8>)>,
    /// Subject alternative names in order.
    pub sans: Vec<San>,
    is_ca: bool,
}

impl Cert {
    /// Parses DER.
    pub fn parse(der_bytes: &[u8]) -> Result<Self, Error> {
        let parse = |reason: String| Error::Parse { reason };
        let cert = Certificate::from_der(der_bytes).map_err(|e| parse(e.to_string()))?;
        let tbs = cert.tbs_certificate();
        let spki_der = tbs
            .subject_public_key_info()
            .to_der()
            .map_err(|e| parse(e.to_string()))?;
        let public_key = PublicKey::from_der(&spki_der).map_err(|source| Error::Key { source })?;
        let mut extensions = Vec::new();
        let mut sans = Vec::new();
        let mut is_ca = false;
        for extension in tbs.extensions().map(|e| e.as_slice()).unwrap_or_default() {
            let oid = extension.extn_id.to_string();
            let value = extension.extn_value.as_bytes().to_vec();
            if oid == OID_SAN {
                let names = SubjectAltName::from_der(&value).map_err(|e| parse(e.to_string()))?;
                sans.extend(names.0.iter().filter_map(san));
            }
            if oid == OID_BASIC_CONSTRAINTS {
                is_ca = BasicConstraints::from_der(&value)
                    .map(|b| b.ca)
                    .unwrap_or(false);
            }
            extensions.push((oid, value));
        }
        Ok(Cert {
            der: der_bytes.to_vec(),
            not_before: tbs.validity().not_before.to_unix_duration().as_secs() as i64,
            not_after: tbs.validity().not_after.to_unix_duration().as_secs() as i64,
            public_key,
            spki_der,
            subject: tbs.subject().to_der().map_err(|e| parse(e.to_string()))?,
            issuer: tbs.issuer().to_der().map_err(|e| parse(e.to_string()))?,
            tbs: der::tbs_certificate(der_bytes)
                .map_err(|e| parse(e.to_string()))?
                .to_vec(),
            signature_algorithm: cert.signature_algorithm().oid.to_string(),
            signature: cert.signature().raw_bytes().to_vec(),
            extensions,
            sans,
            is_ca,
        })
    }

    /// The raw value of the first extension with this OID.
    pub fn extension(&self, oid: &str) -> Option<&[u8]> {
        self.extensions
            .iter()
            .find(|(o, _)| o == oid)
            .map(|(_, v)| v.as_slice())
    }

    /// The issuer as cosign's legacy path reads it: extension 1.1's raw bytes.
    pub fn issuer_v1(&self) -> Option<String> {
        self.extension(OID_ISSUER_V1)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// The issuer as sigstore-go reads it: 1.1 (raw) or 1.8 (UTF8String), the later in the
    /// extension list winning.
    pub fn issuer(&self) -> Option<String> {
        let mut issuer = None;
        for (oid, value) in &self.extensions {
            if oid == OID_ISSUER_V1 {
                issuer = Some(String::from_utf8_lossy(value).into_owned());
            } else if oid == OID_ISSUER_V2 {
                issuer = der::read(value)
                    .ok()
                    .map(|(tlv, _)| String::from_utf8_lossy(tlv.content).into_owned());
            }
        }
        issuer
    }

    /// The one SAN sigstore-go compares: the first URI, else the first email, else otherName.
    pub fn primary_san(&self) -> Option<&str> {
        let first = |f: fn(&San) -> bool| self.sans.iter().find(|s| f(s)).map(San::value);
        first(|s| matches!(s, San::Uri(_)))
            .or_else(|| first(|s| matches!(s, San::Email(_))))
            .or_else(|| first(|s| matches!(s, San::OtherName(_))))
    }

    /// Whether the certificate is valid at `time`.
    pub fn valid_at(&self, time: i64) -> bool {
        self.not_before <= time && time <= self.not_after
    }

    /// Whether the EKU allows code signing.
    pub fn code_signing(&self) -> bool {
        self.extension(OID_EKU)
            .and_then(|v| ExtendedKeyUsage::from_der(v).ok())
            .is_some_and(|eku| {
                eku.0.iter().any(|oid| {
                    let oid = oid.to_string();
                    oid == OID_EKU_CODE_SIGNING || oid == OID_EKU_ANY
                })
            })
    }

    /// Whether `issuer` signed this certificate.
    fn signed_by(&self, issuer: &Cert) -> Result<(), String> {
        if self.issuer != issuer.subject {
            return Err("issuer name does not match".to_owned());
        }
        let hash = hash_of_x509_algorithm(&self.signature_algorithm).map_err(|e| e.to_string())?;
        signature::verify(&issuer.public_key, hash, &self.tbs, &self.signature)
            .map_err(|e| e.to_string())
    }
}

fn san(name: &GeneralName) -> Option<San> {
    match name {
        GeneralName::Rfc822Name(v) => Some(San::Email(v.to_string())),
        GeneralName::UniformResourceIdentifier(v) => Some(San::Uri(v.to_string())),
        GeneralName::DnsName(v) => Some(San::Dns(v.to_string())),
        GeneralName::IpAddress(v) => {
            let bytes = v.as_bytes();
            let ip: Option<core::net::IpAddr> = match bytes.len() {
                4 => <[u8; 4]>::try_from(bytes).ok().map(Into::into),
                16 => <[u8; 16]>::try_from(bytes).ok().map(Into::into),
                _ => None,
            };
            ip.map(|ip| San::Ip(ip.to_string()))
        }
        GeneralName::OtherName(other) if other.type_id.to_string() == OID_OTHERNAME_SAN => {
            let value = other.value.value();
            // The value is `[0] EXPLICIT UTF8String` on the wire; accept the string itself too.
            let text = der::read(value)
                .ok()
                .map(|(tlv, _)| tlv.content)
                .unwrap_or(value);
            Some(San::OtherName(String::from_utf8_lossy(text).into_owned()))
        }
        _ => None,
    }
}

/// Whether DER bytes are a certificate signed by its own key.
pub fn is_self_signed(der_bytes: &[u8]) -> bool {
    Cert::parse(der_bytes).is_ok_and(|c| c.signed_by(&c).is_ok())
}

/// A validated chain: the certificate that issued the leaf (its SPKI feeds SCT checks).
#[derive(Debug, Clone)]
pub struct Chain {
    /// The leaf's issuer.
    pub issuer: Cert,
}

/// Validates `leaf` at `time` against the trusted CAs, with `intermediates` (e.g. cosign's chain
/// annotation) as extra candidates: every certificate on the path valid at `time`, CAs marked
/// CA, the path ending at a CA's root, and the leaf allowed to sign code.
pub fn verify_chain(
    leaf: &Cert,
    intermediates: &[Vec<u8>],
    root: &TrustedRoot,
    time: i64,
) -> Result<Chain, Error> {
    if !leaf.code_signing() {
        return Err(Error::CodeSigning);
    }
    let mut reason = "no certificate authority in the trusted root".to_owned();
    if !leaf.valid_at(time) {
        return Err(Error::Untrusted {
            time,
            reason: format!(
                "the leaf is valid from {} to {}",
                leaf.not_before, leaf.not_after
            ),
        });
    }
    for authority in &root.certificate_authorities {
        if !authority.valid_at(time) {
            reason = "the certificate authority is not valid at that time".to_owned();
            continue;
        }
        let Some((root_der, ca_intermediates)) = authority.chain.split_last() else {
            continue;
        };
        let Ok(anchor) = Cert::parse(root_der) else {
            continue;
        };
        let candidates: Vec<Cert> = ca_intermediates
            .iter()
            .chain(intermediates)
            .filter_map(|d| Cert::parse(d).ok())
            .collect();
        match walk(leaf, &anchor, &candidates, time) {
            Ok(issuer) => return Ok(Chain { issuer }),
            Err(why) => reason = why,
        }
    }
    Err(Error::Untrusted { time, reason })
}

/// Validates `leaf`'s path at `time` to the single trust anchor `anchor_der` (a TSA's root),
/// with `intermediates` as candidates. The leaf's own validity and key usage are the
/// caller's to check.
pub fn verify_path(
    leaf: &Cert,
    intermediates: &[Vec<u8>],
    anchor_der: &[u8],
    time: i64,
) -> Result<(), String> {
    let anchor = Cert::parse(anchor_der).map_err(|e| e.to_string())?;
    let candidates: Vec<Cert> = intermediates
        .iter()
        .filter_map(|d| Cert::parse(d).ok())
        .collect();
    walk(leaf, &anchor, &candidates, time).map(|_| ())
}

/// Follows issuers from `leaf` up to `anchor`; returns the leaf's issuer.
fn walk(leaf: &Cert, anchor: &Cert, candidates: &[Cert], time: i64) -> Result<Cert, String> {
    let mut current = leaf.clone();
    let mut leaf_issuer = None;
    for _ in 0..8 {
        if current.signed_by(anchor).is_ok() {
            if !anchor.valid_at(time) {
                return Err("the root is not valid at that time".to_owned());
            }
            return Ok(leaf_issuer.unwrap_or_else(|| anchor.clone()));
        }
        let next = candidates
            .iter()
            .find(|c| c.der != current.der && current.signed_by(c).is_ok())
            .ok_or_else(|| "no issuer found for a certificate on the path".to_owned())?;
        if !next.is_ca {
            return Err("an issuing certificate is not a CA".to_owned());
        }
        if !next.valid_at(time) {
            return Err("an intermediate is not valid at that time".to_owned());
        }
        if leaf_issuer.is_none() {
            leaf_issuer = Some(next.clone());
        }
        current = next.clone();
    }
    Err("certificate path too long".to_owned())
}

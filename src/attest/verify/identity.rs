//! Who must have signed: a cosign key, or a certificate identity (SAN and OIDC issuer, each
//! exact or an unanchored regular expression) with optional GitHub workflow claims; and the
//! matching rules of cosign's two verification paths.
//!
//! Not for: certificate parsing or chains ([`super::certificate`]). Reproduces
//! reference/cosign-attestations.md §6.8 and §6.9. Pure.

use super::certificate::{Cert, San};
use crate::attest::key::PublicKey;

/// Why an identity did not match.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Legacy path: no SAN/issuer pair matched.
    #[error(
        "none of the expected identities matched what was in the certificate, got subjects [{subjects}] with issuer {issuer}"
    )]
    Legacy {
        /// All SANs, comma-joined.
        subjects: String,
        /// The 1.1 issuer.
        issuer: String,
    },
    /// Bundle path: the SAN or issuer did not match.
    #[error("no matching CertificateIdentity found, last error: {last}")]
    Bundle {
        /// The last mismatch.
        last: String,
    },
    /// A GitHub workflow claim did not match.
    #[error("expected GitHub Workflow {claim} not found in certificate")]
    GithubClaim {
        /// The claim's name.
        claim: &'static str,
    },
    /// A regular expression does not compile.
    #[error("invalid regular expression {pattern:?}")]
    Regex {
        /// The pattern.
        pattern: String,
        /// The compile error.
        #[source]
        source: regex::Error,
    },
}

/// A string expectation: exact, or a regular expression matched anywhere (Go's `MatchString`).
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Equal to this string.
    Exact(String),
    /// Matching this expression somewhere.
    Regex(regex::Regex),
}

impl Matcher {
    /// A regular expression matcher.
    pub fn regex(pattern: &str) -> Result<Self, Error> {
        regex::Regex::new(pattern)
            .map(Matcher::Regex)
            .map_err(|source| Error::Regex {
                pattern: pattern.to_owned(),
                source,
            })
    }

    /// Whether `value` satisfies the expectation.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Matcher::Exact(expected) => expected == value,
            Matcher::Regex(re) => re.is_match(value),
        }
    }

    fn describe(&self) -> String {
        match self {
            Matcher::Exact(expected) => expected.clone(),
            Matcher::Regex(re) => re.as_str().to_owned(),
        }
    }
}

/// The GitHub workflow claims to require (`--certificate-github-workflow-*`).
#[derive(Debug, Clone, Default)]
pub struct GithubClaims {
    /// Workflow trigger (OID …1.2).
    pub trigger: Option<String>,
    /// Workflow SHA (…1.3).
    pub sha: Option<String>,
    /// Workflow name (…1.4).
    pub name: Option<String>,
    /// Workflow repository (…1.5).
    pub repository: Option<String>,
    /// Workflow ref (…1.6).
    pub git_ref: Option<String>,
}

/// A keyless identity to require.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The SAN.
    pub subject: Matcher,
    /// The OIDC issuer.
    pub issuer: Matcher,
    /// Workflow claims.
    pub github: GithubClaims,
}

/// Who must have signed.
#[derive(Debug, Clone)]
pub enum Expected {
    /// The holder of this key (`--key`).
    Key(PublicKey),
    /// A certificate with this identity.
    Identity(Identity),
}

impl Identity {
    /// cosign's legacy `CheckCertificatePolicy`: issuer from 1.1 only, any SAN.
    pub fn check_legacy(&self, cert: &Cert) -> Result<(), Error> {
        let issuer = cert.issuer_v1().unwrap_or_default();
        let ok = self.issuer.matches(&issuer)
            && cert.sans.iter().any(|s| self.subject.matches(s.value()));
        if !ok {
            return Err(Error::Legacy {
                subjects: cert
                    .sans
                    .iter()
                    .map(San::value)
                    .collect::<Vec<_>>()
                    .join(", "),
                issuer,
            });
        }
        self.check_github(cert)
    }

    /// sigstore-go's `CertificateIdentity`: issuer from 1.1 or 1.8, one SAN.
    pub fn check_bundle(&self, cert: &Cert) -> Result<(), Error> {
        let issuer = cert.issuer().unwrap_or_default();
        if !self.issuer.matches(&issuer) {
            return Err(Error::Bundle {
                last: format!(
                    "expected issuer value \"{}\", got \"{issuer}\"",
                    self.issuer.describe()
                ),
            });
        }
        let san = cert.primary_san().unwrap_or_default();
        if !self.subject.matches(san) {
            return Err(Error::Bundle {
                last: format!(
                    "expected SAN value \"{}\", got \"{san}\"",
                    self.subject.describe()
                ),
            });
        }
        self.check_github(cert)
    }

    fn check_github(&self, cert: &Cert) -> Result<(), Error> {
        let claims = [
            ("Trigger", "1.3.6.1.4.1.57264.1.2", &self.github.trigger),
            ("SHA", "1.3.6.1.4.1.57264.1.3", &self.github.sha),
            ("Name", "1.3.6.1.4.1.57264.1.4", &self.github.name),
            (
                "Repository",
                "1.3.6.1.4.1.57264.1.5",
                &self.github.repository,
            ),
            ("Ref", "1.3.6.1.4.1.57264.1.6", &self.github.git_ref),
        ];
        for (claim, oid, expected) in claims {
            if let Some(expected) = expected
                && cert.extension(oid) != Some(expected.as_bytes())
            {
                return Err(Error::GithubClaim { claim });
            }
        }
        Ok(())
    }
}

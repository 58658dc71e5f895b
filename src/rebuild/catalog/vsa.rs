//! The SLSA Verification Summary Attestation (`https://slsa.dev/verification_summary/v1`) a
//! catalogue audit attaches to each image it reached a verdict on, so that
//! `cosign verify-attestation --type https://slsa.dev/verification_summary/v1` and admission
//! controllers can require "someone reproduced this image".
//!
//! The statement is in-toto v1 about the audited digest; the predicate follows the VSA v1
//! schema (slsa.dev/spec/v1.0/verification_summary): `verifier.id` (this project) and its
//! version, `timeVerified`, `resourceUri` (a purl for registry images), `policy` (the catalogue
//! file's URI and SHA-256), `verificationResult` (`PASSED` when reproduced, identical or
//! equivalent; `FAILED` when different), `verifiedLevels` (a custom level
//! `RECEIPTS_REPRODUCED_<VERDICT>`, or `FAILED`; custom values may not start with `SLSA_`) and
//! `slsaVersion` `1.0`, plus one extension field named by URI with the verdict. Errors get no
//! summary: no verification happened, and a transient failure must not read as FAILED.
//!
//! Signed and stored exactly as `cosign-rebuild attest` does ([`crate::attest::store`]).
//!
//! Not for: the statement format and signing ([`crate::attest`]).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::attest::key::PrivateKey;
use crate::attest::statement::{self, Predicate, STATEMENT_V1, Statement, Subject, SubjectName};
use crate::attest::store::{self, Format, Signed};
use crate::oci::{Descriptor, Digest, Reference, Store};
use crate::rebuild::Verdict;

/// The predicate type.
pub const PREDICATE_TYPE: &str = "https://slsa.dev/verification_summary/v1";
/// The verifier's identity.
pub const VERIFIER_ID: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/cosign-rebuild/catalog");
/// The extension field carrying the verdict.
pub const VERDICT_FIELD: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/verdict");

/// What a summary says.
#[derive(Debug, Clone)]
pub struct Summary<'a> {
    /// The audited image's reference (its repository names the subject).
    pub reference: &'a Reference,
    /// The audited digest.
    pub digest: Digest,
    /// The verdict.
    pub verdict: Verdict,
    /// The policy's URI (the catalogue file).
    pub policy_uri: &'a str,
    /// SHA-256 of the policy (the catalogue file's bytes).
    pub policy_digest: Digest,
    /// When the verification finished (RFC 3339, UTC).
    pub time_verified: &'a str,
}

/// Why a summary was not attached.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The image cannot be named in a statement.
    #[error("cannot name {image} in a statement")]
    Name {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: statement::Error,
    },
    /// Signing or storing failed.
    #[error("cannot attach the verification summary to {image}")]
    Store {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: Box<store::Error>,
    },
}

impl Summary<'_> {
    /// `PASSED` or `FAILED`.
    pub fn result(&self) -> &'static str {
        if self.verdict.reproduced() {
            "PASSED"
        } else {
            "FAILED"
        }
    }

    /// The VSA v1 predicate.
    pub fn predicate(&self) -> Map<String, Value> {
        let level = if self.verdict.reproduced() {
            format!(
                "RECEIPTS_REPRODUCED_{}",
                self.verdict.as_str().to_uppercase()
            )
        } else {
            "FAILED".to_owned()
        };
        let value = json!({
            "verifier": {
                "id": VERIFIER_ID,
                "version": {"cosign-rebuild": env!("CARGO_PKG_VERSION")},
            },
            "timeVerified": self.time_verified,
            "resourceUri": resource_uri(self.reference, &self.digest),
            "policy": {
                "uri": self.policy_uri,
                "digest": {"sha256": self.policy_digest.hex()},
            },
            "verificationResult": self.result(),
            "verifiedLevels": [level],
            "slsaVersion": "1.0",
        });
        let mut map = match value {
            Value::Object(map) => map,
            _ => unreachable!("json! of an object literal is an object"),
        };
        map.insert(VERDICT_FIELD.to_owned(), json!(self.verdict.as_str()));
        map
    }

    /// The in-toto v1 statement about the audited digest.
    pub fn statement(&self) -> Result<Statement, Error> {
        let name = subject_name(self.reference).map_err(|source| Error::Name {
            image: self.reference.to_string(),
            source,
        })?;
        Ok(Statement {
            statement_type: STATEMENT_V1.to_owned(),
            subject: vec![Subject {
                name: name.as_str().to_owned(),
                digest: BTreeMap::from([("sha256".to_owned(), self.digest.hex())]),
                ..Subject::default()
            }],
            predicate_type: PREDICATE_TYPE.to_owned(),
            predicate: Predicate::from_map(self.predicate()),
        })
    }

    /// Signs the summary with `key` and attaches it to the image in `store` as a bundle
    /// referrer (cosign v3's default), as `cosign-rebuild attest` would.
    pub fn attach(&self, store: &Store, key: &PrivateKey) -> Result<store::Attached, Error> {
        let image = format!("{}@{}", store.name(), self.digest);
        let store_error = |source| Error::Store {
            image: image.clone(),
            source: Box::new(source),
        };
        let statement = self.statement()?;
        let signed = Signed::sign(&statement, &self.digest, key).map_err(store_error)?;
        let subject: Descriptor = store
            .resolve(&super::pinned(self.reference, self.digest))
            .map_err(|source| store_error(store::Error::Store(source)))?;
        store::attach(store, &subject, &signed, Format::Bundle, self.time_verified)
            .map_err(store_error)
    }
}

/// The statement subject's name, as `cosign attest` writes it: the repository, or the layout
/// directory.
fn subject_name(reference: &Reference) -> Result<SubjectName, statement::Error> {
    match reference {
        Reference::Remote(remote) => SubjectName::from_reference(&remote.repository().to_string()),
        Reference::Local(local) => SubjectName::for_layout(&local.dir().to_string_lossy()),
    }
}

/// A package URL for a registry image (`pkg:oci/NAME@sha256%3AHEX?repository_url=REPO`, the
/// purl spec's `oci` type); `oci:DIR@DIGEST` for a layout.
pub fn resource_uri(reference: &Reference, digest: &Digest) -> String {
    match reference {
        Reference::Remote(remote) => {
            let repository = remote.repository().to_string();
            let name = repository.rsplit('/').next().unwrap_or(&repository);
            format!(
                "pkg:oci/{name}@sha256%3A{}?repository_url={}",
                digest.hex(),
                percent_encode(&repository)
            )
        }
        Reference::Local(local) => format!("oci:{}@{digest}", local.dir().display()),
    }
}

/// Percent-encodes what a purl qualifier value may not hold literally (`/` and `:` stay).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/:".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_predicate_has_every_required_vsa_v1_field() {
        let reference = Reference::parse("registry.example/team/app:1").unwrap();
        let digest = Digest::of(b"image");
        for (verdict, result, level) in [
            (
                Verdict::Identical,
                "PASSED",
                "RECEIPTS_REPRODUCED_IDENTICAL",
            ),
            (
                Verdict::Equivalent,
                "PASSED",
                "RECEIPTS_REPRODUCED_EQUIVALENT",
            ),
            (Verdict::Different, "FAILED", "FAILED"),
        ] {
            let summary = Summary {
                reference: &reference,
                digest,
                verdict,
                policy_uri: "file:///etc/catalog.yaml",
                policy_digest: Digest::of(b"policy"),
                time_verified: "2026-01-02T03:04:05Z",
            };
            let statement = summary.statement().unwrap();
            assert_eq!(statement.statement_type, STATEMENT_V1);
            assert_eq!(statement.subject[0].name, "registry.example/team/app");
            assert_eq!(statement.subject[0].digest["sha256"], digest.hex());
            let p = summary.predicate();
            // Required by the v1 schema: verifier.id, timeVerified, resourceUri, policy.uri,
            // verificationResult, verifiedLevels.
            assert_eq!(p["verifier"]["id"], VERIFIER_ID);
            assert_eq!(p["timeVerified"], "2026-01-02T03:04:05Z");
            assert_eq!(
                p["resourceUri"],
                format!(
                    "pkg:oci/app@sha256%3A{}?repository_url=registry.example/team/app",
                    digest.hex()
                )
            );
            assert_eq!(p["policy"]["uri"], "file:///etc/catalog.yaml");
            assert_eq!(p["policy"]["digest"]["sha256"], Digest::of(b"policy").hex());
            assert_eq!(p["verificationResult"], result);
            assert_eq!(p["verifiedLevels"], json!([level]));
            assert_eq!(p["slsaVersion"], "1.0");
            assert_eq!(p[VERDICT_FIELD], verdict.as_str());
        }
    }
}

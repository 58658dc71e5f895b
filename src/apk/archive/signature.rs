//! Per-package signatures: the `.SIGN.RSA.<key>` / `.SIGN.RSA256.<key>` entries of the first
//! gzip member, checked over the raw control member.
//!
//! apko never checks these (its trust flows index signature → `C:` → `datahash` → per-file
//! SHA-1); we offer the check for audits and tests.
//!
//! Not for: APKINDEX signatures (`super::super::signed`) or loading keys
//! ([`crate::apk::keyring`]; pass `|name| keyring.find(name).map(|(_, key)| key)` as the lookup).
//! Reproduces reference/apko-format.md §5.3 (RSA PKCS#1 v1.5 over SHA-1 or SHA-256 of the raw
//! control member; DSA and RSA512 entries are skipped as apk-tools does).

use rsa::{Pkcs1v15Sign, PublicKey};
use sha1::Digest as _;

use super::Error;

/// The hash a package signature is made over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// `.SIGN.RSA.<key>`: RSA PKCS#1 v1.5 over SHA-1.
    RsaSha1,
    /// `.SIGN.RSA256.<key>`: RSA PKCS#1 v1.5 over SHA-256.
    RsaSha256,
}

impl SignatureAlgorithm {
    /// The entry name prefix, e.g. `.SIGN.RSA256.`.
    pub fn entry_prefix(self) -> &'static str {
        match self {
            SignatureAlgorithm::RsaSha1 => ".SIGN.RSA.",
            SignatureAlgorithm::RsaSha256 => ".SIGN.RSA256.",
        }
    }

    /// The PKCS#1 v1.5 scheme and the digest of `signed` for this algorithm.
    pub fn scheme_and_digest(self, signed: &[u8]) -> (Pkcs1v15Sign, Vec<u8>) {
        match self {
            SignatureAlgorithm::RsaSha1 => (
                Pkcs1v15Sign::new::<sha1::Sha1>(),
                sha1::Sha1::digest(signed).to_vec(),
            ),
            SignatureAlgorithm::RsaSha256 => (
                Pkcs1v15Sign::new::<sha2::Sha256>(),
                sha2::Sha256::digest(signed).to_vec(),
            ),
        }
    }
}

/// One signature entry of a package's signature member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The hash algorithm.
    pub algorithm: SignatureAlgorithm,
    /// The key's file name, e.g. `melange.rsa.pub`.
    pub key_name: String,
    /// The raw RSA signature.
    pub value: Vec<u8>,
}

impl Signature {
    /// Recognises `.SIGN.RSA.<key>` and `.SIGN.RSA256.<key>`; other entries give `None`.
    pub(super) fn from_entry(name: &[u8], value: Vec<u8>) -> Option<Signature> {
        let name = std::str::from_utf8(name).ok()?;
        // RSA256 first: `.SIGN.RSA.` is not a prefix of it, but keep the longer match explicit.
        [SignatureAlgorithm::RsaSha256, SignatureAlgorithm::RsaSha1]
            .into_iter()
            .find_map(|algorithm| {
                let key_name = name.strip_prefix(algorithm.entry_prefix())?;
                Some(Signature {
                    algorithm,
                    key_name: key_name.to_owned(),
                    value: value.clone(),
                })
            })
    }

    /// True when this signature over `signed` verifies with `key`.
    pub fn verifies(&self, signed: &[u8], key: &PublicKey) -> bool {
        let (scheme, digest) = self.algorithm.scheme_and_digest(signed);
        key.verify(scheme, &digest, &self.value).is_ok()
    }
}

/// Finds a signature that verifies over `control` with a key from `lookup` (by key file name).
pub(super) fn verify_any<'s, 'k>(
    package: &str,
    signatures: &'s [Signature],
    control: &[u8],
    lookup: impl Fn(&str) -> Option<&'k PublicKey>,
) -> Result<&'s Signature, Error> {
    if signatures.is_empty() {
        return Err(Error::Unsigned {
            package: package.to_owned(),
        });
    }
    let mut failed = None;
    for signature in signatures {
        let Some(key) = lookup(&signature.key_name) else {
            continue;
        };
        if signature.verifies(control, key) {
            return Ok(signature);
        }
        failed.get_or_insert_with(|| signature.key_name.clone());
    }
    match failed {
        Some(key) => Err(Error::BadSignature {
            package: package.to_owned(),
            key,
        }),
        None => Err(Error::UnknownSigningKey {
            package: package.to_owned(),
            keys: signatures.iter().map(|s| s.key_name.clone()).collect(),
        }),
    }
}

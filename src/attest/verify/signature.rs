//! Signature checks with an explicit hash: X.509 signature algorithms (certificate chains), SCT
//! hash/signature pairs and pre-hashed message signatures (a bundle verified against an
//! artifact digest).
//!
//! Not for: the default scheme per key type that DSSE and cosign keys use
//! ([`crate::attest::key::PublicKey::verify`]). Pure.

use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
use rsa::signature::Verifier as _;
use sha2::{Digest as _, Sha256, Sha384, Sha512};

use super::key_details::{Family, Scheme};
use crate::attest::key::PublicKey;

/// A hash a signature was made over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
    /// No pre-hash (Ed25519).
    None,
}

/// Why a signature did not verify.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The algorithm identifier is not one the verifier knows.
    #[error("unsupported signature algorithm {oid}")]
    Algorithm {
        /// The OID or name.
        oid: String,
    },
    /// The signature is wrong for this key and message.
    #[error("{algorithm} signature does not verify")]
    Invalid {
        /// The key algorithm.
        algorithm: &'static str,
    },
}

/// The hash of an X.509 signature algorithm OID.
pub fn hash_of_x509_algorithm(oid: &str) -> Result<Hash, Error> {
    Ok(match oid {
        "1.2.840.10045.4.3.2" | "1.2.840.113549.1.1.11" => Hash::Sha256,
        "1.2.840.10045.4.3.3" | "1.2.840.113549.1.1.12" => Hash::Sha384,
        "1.2.840.10045.4.3.4" | "1.2.840.113549.1.1.13" => Hash::Sha512,
        "1.3.101.112" => Hash::None,
        other => {
            return Err(Error::Algorithm {
                oid: other.to_owned(),
            });
        }
    })
}

/// Hashes `message` as `hash` says.
pub fn digest(hash: Hash, message: &[u8]) -> Vec<u8> {
    match hash {
        Hash::Sha256 => Sha256::digest(message).to_vec(),
        Hash::Sha384 => Sha384::digest(message).to_vec(),
        Hash::Sha512 => Sha512::digest(message).to_vec(),
        Hash::None => message.to_vec(),
    }
}

/// Checks `signature` over `message` hashed with `hash`.
pub fn verify(key: &PublicKey, hash: Hash, message: &[u8], signature: &[u8]) -> Result<(), Error> {
    if hash == Hash::None {
        return match key {
            PublicKey::Ed25519(_) => key.verify(message, signature).map_err(|_| invalid(key)),
            _ => Err(Error::Algorithm {
                oid: format!("{} without a hash", key.algorithm()),
            }),
        };
    }
    verify_prehash(key, hash, &digest(hash, message), signature)
}

/// Checks `signature` over a message whose `hash` digest is `prehash`.
pub fn verify_prehash(
    key: &PublicKey,
    hash: Hash,
    prehash: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    let bad = || invalid(key);
    match key {
        PublicKey::EcdsaP256(key) => {
            let signature = p256::ecdsa::DerSignature::from_bytes(signature).map_err(|_| bad())?;
            key.verify_prehash(prehash, &signature).map_err(|_| bad())
        }
        PublicKey::EcdsaP384(key) => {
            let signature = p384::ecdsa::DerSignature::from_bytes(signature).map_err(|_| bad())?;
            key.verify_prehash(prehash, &signature).map_err(|_| bad())
        }
        PublicKey::EcdsaP521(key) => {
            let signature = p521::ecdsa::DerSignature::from_bytes(signature).map_err(|_| bad())?;
            key.verify_prehash(prehash, &signature).map_err(|_| bad())
        }
        PublicKey::Rsa(rsa_key) => {
            let signature = rsa::pkcs1v15::Signature::try_from(signature).map_err(|_| bad())?;
            let result = match hash {
                Hash::Sha256 => rsa::pkcs1v15::VerifyingKey::<Sha256>::new(rsa_key.clone())
                    .verify_prehash(prehash, &signature),
                Hash::Sha384 => rsa::pkcs1v15::VerifyingKey::<Sha384>::new(rsa_key.clone())
                    .verify_prehash(prehash, &signature),
                Hash::Sha512 => rsa::pkcs1v15::VerifyingKey::<Sha512>::new(rsa_key.clone())
                    .verify_prehash(prehash, &signature),
                Hash::None => return Err(bad()),
            };
            result.map_err(|_| bad())
        }
        PublicKey::Ed25519(_) => Err(Error::Algorithm {
            oid: "Ed25519 over a pre-hashed message".to_owned(),
        }),
    }
}

/// Checks `signature` over `message` with a key's stated scheme ([`Scheme`]): its hash, and
/// RSASSA-PSS rather than PKCS#1 v1.5 where the scheme says so.
pub fn verify_scheme(
    key: &PublicKey,
    scheme: &Scheme,
    message: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    match (scheme.family, key) {
        (Family::RsaPss, PublicKey::Rsa(rsa_key)) => {
            let bad = || invalid(key);
            let signature = rsa::pss::Signature::try_from(signature).map_err(|_| bad())?;
            let result = match scheme.hash {
                Hash::Sha256 => rsa::pss::VerifyingKey::<Sha256>::new(rsa_key.clone())
                    .verify(message, &signature),
                Hash::Sha384 => rsa::pss::VerifyingKey::<Sha384>::new(rsa_key.clone())
                    .verify(message, &signature),
                Hash::Sha512 => rsa::pss::VerifyingKey::<Sha512>::new(rsa_key.clone())
                    .verify(message, &signature),
                Hash::None => return Err(bad()),
            };
            result.map_err(|_| bad())
        }
        (Family::Ed25519, PublicKey::Ed25519(_)) if scheme.hash != Hash::None => {
            Err(Error::Algorithm {
                oid: scheme.name.to_owned(),
            })
        }
        _ => verify(key, scheme.hash, message, signature),
    }
}

fn invalid(key: &PublicKey) -> Error {
    Error::Invalid {
        algorithm: key.algorithm(),
    }
}

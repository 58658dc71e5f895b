//! The key types cosign signs and verifies with, their DER forms and signature schemes.
//!
//! Not for: files, PEM or encryption ([`super`], [`crate::codec::pem`], [`super::encrypted`]).
//! Reproduces sigstore `pkg/signature` defaults as cosign loads keys (reference/
//! cosign-attestations.md §4.2): ECDSA with ASN.1 DER signatures (SHA-256 on P-256, SHA-384 on
//! P-384), Ed25519 (pure), RSA PKCS#1 v1.5 with SHA-256.

use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use p384::ecdsa::signature::hazmat::PrehashVerifier as _;
use pkcs8::der::Decode as _;
use pkcs8::{EncodePrivateKey as _, PrivateKeyInfoRef};
use rsa::pkcs1::{DecodeRsaPrivateKey as _, DecodeRsaPublicKey as _};
use rsa::signature::{SignatureEncoding as _, Signer as _, Verifier as _};
use sha2::{Digest as _, Sha256};
use spki::{DecodePublicKey as _, EncodePublicKey as _, SubjectPublicKeyInfoRef};
use zeroize::Zeroizing;

use super::{Error, PUBLIC_KEY_LABEL, pem};

/// A private key cosign can sign with.
#[derive(Clone)]
pub enum PrivateKey {
    /// ECDSA on P-256: what cosign generates.
    EcdsaP256(p256::ecdsa::SigningKey),
    /// ECDSA on P-384.
    EcdsaP384(p384::ecdsa::SigningKey),
    /// Ed25519.
    Ed25519(ed25519_dalek::SigningKey),
    /// RSA (signs with PKCS#1 v1.5 and SHA-256).
    Rsa(Box<rsa::PrivateKey>),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({})", self.algorithm())
    }
}

/// A public key a signature can be checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// ECDSA on P-256.
    EcdsaP256(p256::ecdsa::VerifyingKey),
    /// ECDSA on P-384.
    EcdsaP384(p384::ecdsa::VerifyingKey),
    /// ECDSA on P-521 (verification only: trusted roots and certificates may carry one).
    EcdsaP521(p521::ecdsa::VerifyingKey),
    /// Ed25519.
    Ed25519(ed25519_dalek::VerifyingKey),
    /// RSA.
    Rsa(rsa::PublicKey),
}

const ID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const SECP256R1: &str = "1.2.840.10045.3.1.7";
const SECP384R1: &str = "1.3.132.0.34";
const SECP521R1: &str = "1.3.132.0.35";
const ID_ED25519: &str = "1.3.101.112";
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

impl PrivateKey {
    /// A fresh ECDSA P-256 key from the operating system's random source, as cosign's
    /// `GeneratePrivateKey`.
    pub fn generate_ecdsa_p256() -> Result<Self, Error> {
        use p256::elliptic_curve::Generate as _;
        let key =
            p256::ecdsa::SigningKey::try_generate().map_err(|source| Error::Random { source })?;
        Ok(PrivateKey::EcdsaP256(key))
    }

    /// Parses PKCS#8 DER (Go's `x509.ParsePKCS8PrivateKey` input), choosing the type from the
    /// algorithm identifier.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, Error> {
        let invalid = || Error::PrivateKeyDer { format: "PKCS#8" };
        let info = PrivateKeyInfoRef::from_der(der).map_err(|_| invalid())?;
        let (algorithm, parameters) = info.algorithm.oids().map_err(|_| invalid())?;
        let key = match (
            algorithm.to_string().as_str(),
            parameters.map(|p| p.to_string()),
        ) {
            (ID_EC_PUBLIC_KEY, Some(curve)) if curve == SECP256R1 => PrivateKey::EcdsaP256(
                p256::ecdsa::SigningKey::from_pkcs8_der(der).map_err(|_| invalid())?,
            ),
            (ID_EC_PUBLIC_KEY, Some(curve)) if curve == SECP384R1 => PrivateKey::EcdsaP384(
                p384::ecdsa::SigningKey::from_pkcs8_der(der).map_err(|_| invalid())?,
            ),
            (ID_EC_PUBLIC_KEY, curve) => {
                return Err(Error::Algorithm {
                    algorithm: format!(
                        "ECDSA on curve {}",
                        curve.unwrap_or_else(|| "(none)".to_owned())
                    ),
                });
            }
            (ID_ED25519, _) => PrivateKey::Ed25519(
                ed25519_dalek::SigningKey::from_pkcs8_der(der).map_err(|_| invalid())?,
            ),
            (RSA_ENCRYPTION, _) => PrivateKey::Rsa(Box::new(
                rsa::PrivateKey::from_pkcs8_der(der).map_err(|_| invalid())?,
            )),
            (other, _) => {
                return Err(Error::Algorithm {
                    algorithm: other.to_owned(),
                });
            }
        };
        Ok(key)
    }

    /// Parses a SEC1 `EC PRIVATE KEY` (P-256 or P-384; the curve must be named in the key).
    pub fn from_sec1_der(der: &[u8]) -> Result<Self, Error> {
        if let Ok(key) = p256::SecretKey::from_sec1_der(der) {
            return Ok(PrivateKey::EcdsaP256(key.into()));
        }
        if let Ok(key) = p384::SecretKey::from_sec1_der(der) {
            return Ok(PrivateKey::EcdsaP384(key.into()));
        }
        Err(Error::PrivateKeyDer {
            format: "SEC1 P-256 or P-384",
        })
    }

    /// Parses a PKCS#1 `RSA PRIVATE KEY`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, Error> {
        let key = rsa::PrivateKey::from_pkcs1_der(der)
            .map_err(|_| Error::PrivateKeyDer { format: "PKCS#1" })?;
        Ok(PrivateKey::Rsa(Box::new(key)))
    }

    /// The PKCS#8 DER encoding, as sealed inside cosign's encrypted key files.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        let document = match self {
            PrivateKey::EcdsaP256(key) => key.to_pkcs8_der(),
            PrivateKey::EcdsaP384(key) => key.to_pkcs8_der(),
            PrivateKey::Ed25519(key) => key.to_pkcs8_der(),
            PrivateKey::Rsa(key) => key.to_pkcs8_der(),
        }
        .map_err(|_| Error::Encode {
            what: "private key as PKCS#8",
        })?;
        Ok(Zeroizing::new(document.as_bytes().to_vec()))
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::EcdsaP256(key) => PublicKey::EcdsaP256(*key.verifying_key()),
            PrivateKey::EcdsaP384(key) => PublicKey::EcdsaP384(*key.verifying_key()),
            PrivateKey::Ed25519(key) => PublicKey::Ed25519(key.verifying_key()),
            PrivateKey::Rsa(key) => PublicKey::Rsa(key.to_public_key()),
        }
    }

    /// Signs `message` with the key's cosign default scheme: ECDSA (deterministic, RFC 6979) as
    /// ASN.1 DER, Ed25519, or RSA PKCS#1 v1.5 with SHA-256.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let failed = || Error::Sign {
            algorithm: self.algorithm(),
        };
        Ok(match self {
            PrivateKey::EcdsaP256(key) => {
                let signature: p256::ecdsa::Signature =
                    key.try_sign(message).map_err(|_| failed())?;
                signature.to_der().to_vec()
            }
            PrivateKey::EcdsaP384(key) => {
                let signature: p384::ecdsa::Signature =
                    key.try_sign(message).map_err(|_| failed())?;
                signature.to_der().to_vec()
            }
            PrivateKey::Ed25519(key) => key.try_sign(message).map_err(|_| failed())?.to_vec(),
            PrivateKey::Rsa(key) => rsa::pkcs1v15::SigningKey::<Sha256>::new((**key).clone())
                .try_sign(message)
                .map_err(|_| failed())?
                .to_vec(),
        })
    }

    /// A short name of the key's algorithm, for messages.
    pub fn algorithm(&self) -> &'static str {
        self.public_key().algorithm()
    }
}

impl PublicKey {
    /// Parses PKIX (SubjectPublicKeyInfo) DER, Go's `x509.ParsePKIXPublicKey` input.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        let invalid = || Error::PublicKeyDer { format: "PKIX" };
        let info = SubjectPublicKeyInfoRef::from_der(der).map_err(|_| invalid())?;
        let (algorithm, parameters) = info.algorithm.oids().map_err(|_| invalid())?;
        let key = match (
            algorithm.to_string().as_str(),
            parameters.map(|p| p.to_string()),
        ) {
            (ID_EC_PUBLIC_KEY, Some(curve)) if curve == SECP256R1 => PublicKey::EcdsaP256(
                p256::ecdsa::VerifyingKey::from_public_key_der(der).map_err(|_| invalid())?,
            ),
            (ID_EC_PUBLIC_KEY, Some(curve)) if curve == SECP384R1 => PublicKey::EcdsaP384(
                p384::ecdsa::VerifyingKey::from_public_key_der(der).map_err(|_| invalid())?,
            ),
            (ID_EC_PUBLIC_KEY, Some(curve)) if curve == SECP521R1 => PublicKey::EcdsaP521(
                p521::ecdsa::VerifyingKey::from_public_key_der(der).map_err(|_| invalid())?,
            ),
            (ID_EC_PUBLIC_KEY, curve) => {
                return Err(Error::Algorithm {
                    algorithm: format!(
                        "ECDSA on curve {}",
                        curve.unwrap_or_else(|| "(none)".to_owned())
                    ),
                });
            }
            (ID_ED25519, _) => PublicKey::Ed25519(
                ed25519_dalek::VerifyingKey::from_public_key_der(der).map_err(|_| invalid())?,
            ),
            (RSA_ENCRYPTION, _) => {
                PublicKey::Rsa(rsa::PublicKey::from_public_key_der(der).map_err(|_| invalid())?)
            }
            (other, _) => {
                return Err(Error::Algorithm {
                    algorithm: other.to_owned(),
                });
            }
        };
        Ok(key)
    }

    /// Parses a PKCS#1 `RSA PUBLIC KEY`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, Error> {
        let key = rsa::PublicKey::from_pkcs1_der(der)
            .map_err(|_| Error::PublicKeyDer { format: "PKCS#1" })?;
        Ok(PublicKey::Rsa(key))
    }

    /// The PKIX DER encoding (what `cosign.pub` armours and the bundle hint hashes).
    pub fn to_der(&self) -> Result<Vec<u8>, Error> {
        let document = match self {
            PublicKey::EcdsaP256(key) => key.to_public_key_der(),
            PublicKey::EcdsaP384(key) => key.to_public_key_der(),
            PublicKey::EcdsaP521(key) => key.to_public_key_der(),
            PublicKey::Ed25519(key) => key.to_public_key_der(),
            PublicKey::Rsa(key) => key.to_public_key_der(),
        }
        .map_err(|_| Error::Encode {
            what: "public key as PKIX",
        })?;
        Ok(document.as_bytes().to_vec())
    }

    /// The `PUBLIC KEY` PEM text, as sigstore's `MarshalPublicKeyToPEM` writes it.
    pub fn to_pem(&self) -> Result<String, Error> {
        Ok(pem::encode(PUBLIC_KEY_LABEL, &self.to_der()?))
    }

    /// Checks `signature` over `message` with the schemes cosign's verifiers use for this key
    /// type. For P-384 both SHA-384 (sigstore's default for the curve, used by sigstore-go) and
    /// SHA-256 (what cosign's legacy `--key` path loads every key with) are accepted.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), Error> {
        let bad = || Error::BadSignature {
            algorithm: self.algorithm(),
        };
        match self {
            PublicKey::EcdsaP256(key) => {
                let signature =
                    p256::ecdsa::DerSignature::from_bytes(signature).map_err(|_| bad())?;
                key.verify(message, &signature).map_err(|_| bad())
            }
            PublicKey::EcdsaP384(key) => {
                let signature =
                    p384::ecdsa::DerSignature::from_bytes(signature).map_err(|_| bad())?;
                key.verify(message, &signature)
                    .or_else(|_| key.verify_prehash(&Sha256::digest(message), &signature))
                    .map_err(|_| bad())
            }
            PublicKey::EcdsaP521(key) => {
                let signature =
                    p521::ecdsa::DerSignature::from_bytes(signature).map_err(|_| bad())?;
                key.verify(message, &signature).map_err(|_| bad())
            }
            PublicKey::Ed25519(key) => {
                let signature =
                    ed25519_dalek::Signature::from_slice(signature).map_err(|_| bad())?;
                key.verify(message, &signature).map_err(|_| bad())
            }
            PublicKey::Rsa(key) => {
                let signature = rsa::pkcs1v15::Signature::try_from(signature).map_err(|_| bad())?;
                rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key.clone())
                    .verify(message, &signature)
                    .map_err(|_| bad())
            }
        }
    }

    /// A short name of the key's algorithm, for messages.
    pub fn algorithm(&self) -> &'static str {
        match self {
            PublicKey::EcdsaP256(_) => "ECDSA P-256",
            PublicKey::EcdsaP384(_) => "ECDSA P-384",
            PublicKey::EcdsaP521(_) => "ECDSA P-521",
            PublicKey::Ed25519(_) => "Ed25519",
            PublicKey::Rsa(_) => "RSA",
        }
    }
}

//! protobuf-specs `PublicKeyDetails`: how a trusted root or a Rekor v2 entry says a key is
//! encoded (PKIX or PKCS#1) and which signature scheme and hash it signs with, including the
//! deprecated names still found in real roots (Sigstore staging's `PKCS1_RSA_PKCS1V5` CT key).
//!
//! Takes a `keyDetails` name and raw key bytes; returns the parsed key and its [`Scheme`], or
//! why that one key is unusable (the caller skips the key, never the whole root). Pure.
//!
//! Not for: the key types themselves ([`crate::attest::key::PublicKey`]) or checking signatures
//! ([`super::signature`]). Reproduces `sigstore_common.proto` (protobuf-specs) and sigstore-go
//! `pkg/root/trusted_root.go` (`ParseTransparencyLogs`) and `sigstore/pkg/signature`'s
//! algorithm registry.

use super::signature::Hash;
use crate::attest::key::PublicKey;

/// The key family a `keyDetails` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// RSA with PKCS#1 v1.5 signatures.
    RsaPkcs1v15,
    /// RSA with RSASSA-PSS signatures.
    RsaPss,
    /// ECDSA on P-256.
    EcdsaP256,
    /// ECDSA on P-384.
    EcdsaP384,
    /// ECDSA on P-521.
    EcdsaP521,
    /// Ed25519, pure (or pre-hashed for `PKIX_ED25519_PH`).
    Ed25519,
}

/// How a key is encoded on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// X.509 SubjectPublicKeyInfo DER.
    Pkix,
    /// PKCS#1 `RSAPublicKey` DER.
    Pkcs1,
}

/// A key's signature scheme as a `keyDetails` value states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheme {
    /// The protobuf enum name, or `inferred` when the root gave none.
    pub name: &'static str,
    /// The wire encoding of the key bytes.
    pub encoding: Encoding,
    /// The key family.
    pub family: Family,
    /// The hash signatures are made over.
    pub hash: Hash,
    /// For RSA: the modulus sizes allowed (bits), when the name fixes one.
    pub rsa_bits: Option<u32>,
}

const fn scheme(
    name: &'static str,
    encoding: Encoding,
    family: Family,
    hash: Hash,
    rsa_bits: Option<u32>,
) -> Scheme {
    Scheme {
        name,
        encoding,
        family,
        hash,
        rsa_bits,
    }
}

/// Every `PublicKeyDetails` this verifier can check signatures with.
const SCHEMES: &[Scheme] = &[
    scheme(
        "PKCS1_RSA_PKCS1V5",
        Encoding::Pkcs1,
        Family::RsaPkcs1v15,
        Hash::Sha256,
        None,
    ),
    scheme(
        "PKCS1_RSA_PSS",
        Encoding::Pkcs1,
        Family::RsaPss,
        Hash::Sha256,
        None,
    ),
    scheme(
        "PKIX_RSA_PKCS1V5",
        Encoding::Pkix,
        Family::RsaPkcs1v15,
        Hash::Sha256,
        None,
    ),
    scheme(
        "PKIX_RSA_PSS",
        Encoding::Pkix,
        Family::RsaPss,
        Hash::Sha256,
        None,
    ),
    scheme(
        "PKIX_RSA_PKCS1V15_2048_SHA256",
        Encoding::Pkix,
        Family::RsaPkcs1v15,
        Hash::Sha256,
        Some(2048),
    ),
    scheme(
        "PKIX_RSA_PKCS1V15_3072_SHA256",
        Encoding::Pkix,
        Family::RsaPkcs1v15,
        Hash::Sha256,
        Some(3072),
    ),
    scheme(
        "PKIX_RSA_PKCS1V15_4096_SHA256",
        Encoding::Pkix,
        Family::RsaPkcs1v15,
        Hash::Sha256,
        Some(4096),
    ),
    scheme(
        "PKIX_RSA_PSS_2048_SHA256",
        Encoding::Pkix,
        Family::RsaPss,
        Hash::Sha256,
        Some(2048),
    ),
    scheme(
        "PKIX_RSA_PSS_3072_SHA256",
        Encoding::Pkix,
        Family::RsaPss,
        Hash::Sha256,
        Some(3072),
    ),
    scheme(
        "PKIX_RSA_PSS_4096_SHA256",
        Encoding::Pkix,
        Family::RsaPss,
        Hash::Sha256,
        Some(4096),
    ),
    // RFC 6979 signatures verify as ordinary ECDSA.
    scheme(
        "PKIX_ECDSA_P256_HMAC_SHA_256",
        Encoding::Pkix,
        Family::EcdsaP256,
        Hash::Sha256,
        None,
    ),
    scheme(
        "PKIX_ECDSA_P256_SHA_256",
        Encoding::Pkix,
        Family::EcdsaP256,
        Hash::Sha256,
        None,
    ),
    scheme(
        "PKIX_ECDSA_P384_SHA_384",
        Encoding::Pkix,
        Family::EcdsaP384,
        Hash::Sha384,
        None,
    ),
    scheme(
        "PKIX_ECDSA_P521_SHA_512",
        Encoding::Pkix,
        Family::EcdsaP521,
        Hash::Sha512,
        None,
    ),
    scheme(
        "PKIX_ECDSA_P384_SHA_256",
        Encoding::Pkix,
        Family::EcdsaP384,
        Hash::Sha256,
        None,
    ),
    scheme(
        "PKIX_ECDSA_P521_SHA_256",
        Encoding::Pkix,
        Family::EcdsaP521,
        Hash::Sha256,
        None,
    ),
    scheme(
        "PKIX_ED25519",
        Encoding::Pkix,
        Family::Ed25519,
        Hash::None,
        None,
    ),
    scheme(
        "PKIX_ED25519_PH",
        Encoding::Pkix,
        Family::Ed25519,
        Hash::Sha512,
        None,
    ),
];

/// Why one key of a trusted root cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Unusable {
    /// The name is a `PublicKeyDetails` this verifier has no scheme for (LMS, ML-DSA).
    #[error("key type {name} is not supported")]
    Unsupported {
        /// The `keyDetails` name.
        name: String,
    },
    /// The name is not a `PublicKeyDetails` value at all.
    #[error("unknown keyDetails {name}")]
    Unknown {
        /// The value found.
        name: String,
    },
    /// The bytes do not parse as the stated encoding.
    #[error("key bytes are not a {details} key: {reason}")]
    Parse {
        /// The `keyDetails` name.
        details: &'static str,
        /// The parser's complaint.
        reason: String,
    },
    /// The key parses, but as another family than the name states.
    #[error("key is {found}, but keyDetails says {details}")]
    Mismatch {
        /// The `keyDetails` name.
        details: &'static str,
        /// The key's actual algorithm.
        found: &'static str,
    },
    /// An RSA key whose size is not the one the name states.
    #[error("RSA key has {bits} bits, but keyDetails says {details}")]
    RsaSize {
        /// The `keyDetails` name.
        details: &'static str,
        /// The modulus size.
        bits: usize,
    },
}

/// Names protobuf-specs defines for algorithms this verifier does not implement.
const UNSUPPORTED: &[&str] = &[
    "LMS_SHA256",
    "LMOTS_SHA256",
    "ML_DSA_44",
    "ML_DSA_65",
    "ML_DSA_87",
];

/// The scheme a `keyDetails` name states, if this verifier implements it.
pub fn lookup(name: &str) -> Result<Scheme, Unusable> {
    if let Some(found) = SCHEMES.iter().find(|s| s.name == name) {
        return Ok(*found);
    }
    if UNSUPPORTED.contains(&name) {
        return Err(Unusable::Unsupported {
            name: name.to_owned(),
        });
    }
    Err(Unusable::Unknown {
        name: name.to_owned(),
    })
}

/// The scheme sigstore's `LoadDefaultVerifier` picks for a key when nothing names one.
pub fn default_scheme(key: &PublicKey) -> Scheme {
    let name = match key {
        PublicKey::EcdsaP256(_) => "PKIX_ECDSA_P256_SHA_256",
        PublicKey::EcdsaP384(_) => "PKIX_ECDSA_P384_SHA_384",
        PublicKey::EcdsaP521(_) => "PKIX_ECDSA_P521_SHA_512",
        PublicKey::Ed25519(_) => "PKIX_ED25519",
        PublicKey::Rsa(_) => "PKIX_RSA_PKCS1V5",
    };
    SCHEMES
        .iter()
        .find(|s| s.name == name)
        .copied()
        .expect("every key type has a default scheme in SCHEMES")
}

fn family_of(key: &PublicKey) -> Family {
    match key {
        PublicKey::EcdsaP256(_) => Family::EcdsaP256,
        PublicKey::EcdsaP384(_) => Family::EcdsaP384,
        PublicKey::EcdsaP521(_) => Family::EcdsaP521,
        PublicKey::Ed25519(_) => Family::Ed25519,
        PublicKey::Rsa(_) => Family::RsaPkcs1v15,
    }
}

/// Parses `raw` as the `keyDetails` name says (`None` or `PUBLIC_KEY_DETAILS_UNSPECIFIED`:
/// PKIX, with the key type's default scheme).
pub fn parse(details: Option<&str>, raw: &[u8]) -> Result<(PublicKey, Scheme), Unusable> {
    let name = details.filter(|d| !d.is_empty() && *d != "PUBLIC_KEY_DETAILS_UNSPECIFIED");
    let Some(name) = name else {
        let key = PublicKey::from_der(raw).map_err(|e| Unusable::Parse {
            details: "PKIX",
            reason: e.to_string(),
        })?;
        let scheme = default_scheme(&key);
        return Ok((key, scheme));
    };
    let scheme = lookup(name)?;
    let parsed = match scheme.encoding {
        Encoding::Pkix => PublicKey::from_der(raw),
        Encoding::Pkcs1 => PublicKey::from_pkcs1_der(raw),
    };
    let key = parsed.map_err(|e| Unusable::Parse {
        details: scheme.name,
        reason: e.to_string(),
    })?;
    let rsa_family = matches!(scheme.family, Family::RsaPkcs1v15 | Family::RsaPss);
    let fits = family_of(&key) == scheme.family || (rsa_family && matches!(key, PublicKey::Rsa(_)));
    if !fits {
        return Err(Unusable::Mismatch {
            details: scheme.name,
            found: key.algorithm(),
        });
    }
    if let (Some(bits), PublicKey::Rsa(rsa_key)) = (scheme.rsa_bits, &key) {
        use rsa::traits::PublicKeyParts as _;
        let size = rsa_key.size() * 8;
        if size != bits as usize {
            return Err(Unusable::RsaSize {
                details: scheme.name,
                bits: size,
            });
        }
    }
    Ok((key, scheme))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_name_round_trips() {
        for s in SCHEMES {
            assert_eq!(lookup(s.name).unwrap(), *s);
        }
        assert!(matches!(
            lookup("ML_DSA_65"),
            Err(Unusable::Unsupported { .. })
        ));
        assert!(matches!(lookup("NOPE"), Err(Unusable::Unknown { .. })));
    }
}

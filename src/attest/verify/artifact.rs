//! What a bundle is verified against: the artifact's bytes, or one digest of it
//! (`sha256:`, `sha384:` or `sha512:` hex, as the conformance client protocol and
//! `cosign verify-blob` accept), and matching it against DSSE subjects and message digests.
//!
//! Not for: reading files (the CLI) or the checks themselves ([`super::bundle`]). Pure.

use std::collections::BTreeMap;

use super::signature::{self, Hash};

/// A digest algorithm artifacts are named by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlgorithm {
    /// The in-toto digest-set key (`sha256`, …).
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "sha256",
            DigestAlgorithm::Sha384 => "sha384",
            DigestAlgorithm::Sha512 => "sha512",
        }
    }

    /// From a digest-set key or a protobuf `HashAlgorithm` name (`SHA2_256`, …).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" | "SHA2_256" => Some(DigestAlgorithm::Sha256),
            "sha384" | "SHA2_384" => Some(DigestAlgorithm::Sha384),
            "sha512" | "SHA2_512" => Some(DigestAlgorithm::Sha512),
            _ => None,
        }
    }

    /// The digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            DigestAlgorithm::Sha256 => 32,
            DigestAlgorithm::Sha384 => 48,
            DigestAlgorithm::Sha512 => 64,
        }
    }

    /// The signature-layer hash.
    pub fn hash(self) -> Hash {
        match self {
            DigestAlgorithm::Sha256 => Hash::Sha256,
            DigestAlgorithm::Sha384 => Hash::Sha384,
            DigestAlgorithm::Sha512 => Hash::Sha512,
        }
    }
}

/// A digest of the artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactDigest {
    /// The algorithm.
    pub algorithm: DigestAlgorithm,
    /// The digest bytes (of the algorithm's length).
    pub bytes: Vec<u8>,
}

/// Why a digest argument is not one.
#[derive(Debug, thiserror::Error)]
#[error("{text:?} is not a sha256:, sha384: or sha512: digest of the right length")]
pub struct DigestError {
    /// The text given.
    pub text: String,
}

impl ArtifactDigest {
    /// A SHA-256 digest.
    pub fn sha256(bytes: [u8; 32]) -> Self {
        ArtifactDigest {
            algorithm: DigestAlgorithm::Sha256,
            bytes: bytes.to_vec(),
        }
    }

    /// Parses `ALGORITHM:HEX`.
    pub fn parse(text: &str) -> Result<Self, DigestError> {
        let bad = || DigestError {
            text: text.to_owned(),
        };
        let (name, hex_text) = text.split_once(':').ok_or_else(bad)?;
        let algorithm = DigestAlgorithm::from_name(name).ok_or_else(bad)?;
        let bytes = hex::decode(hex_text).map_err(|_| bad())?;
        if bytes.len() != algorithm.digest_len() {
            return Err(bad());
        }
        Ok(ArtifactDigest { algorithm, bytes })
    }
}

impl std::fmt::Display for ArtifactDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), hex::encode(&self.bytes))
    }
}

/// What is verified: the bytes (any digest can be computed) or one digest of them.
#[derive(Debug, Clone, Copy)]
pub enum Artifact<'a> {
    /// The artifact itself.
    Bytes(&'a [u8]),
    /// One digest of it.
    Digest(&'a ArtifactDigest),
}

impl Artifact<'_> {
    /// The artifact's digest under `algorithm`, if it can be known.
    pub fn digest(&self, algorithm: DigestAlgorithm) -> Option<Vec<u8>> {
        match self {
            Artifact::Bytes(bytes) => Some(signature::digest(algorithm.hash(), bytes)),
            Artifact::Digest(digest) => {
                (digest.algorithm == algorithm).then(|| digest.bytes.clone())
            }
        }
    }

    /// Whether any supported entry of an in-toto digest set names this artifact
    /// (sigstore-go matches any algorithm the statement and the artifact share).
    pub fn matches_digest_set(&self, set: &BTreeMap<String, String>) -> bool {
        set.iter().any(|(name, hex_text)| {
            let Some(algorithm) = DigestAlgorithm::from_name(name) else {
                return false;
            };
            match (self.digest(algorithm), hex::decode(hex_text)) {
                (Some(ours), Ok(theirs)) => ours == theirs,
                _ => false,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_parse_by_algorithm_and_length() {
        let d = ArtifactDigest::parse(&format!("sha384:{}", "ab".repeat(48))).unwrap();
        assert_eq!(d.algorithm, DigestAlgorithm::Sha384);
        assert!(ArtifactDigest::parse(&format!("sha384:{}", "ab".repeat(32))).is_err());
        assert!(ArtifactDigest::parse("md5:00").is_err());
        assert!(ArtifactDigest::parse("sha256").is_err());
    }

    #[test]
    fn subjects_match_on_any_shared_algorithm() {
        let bytes = b"hello";
        let sha512 = hex::encode(signature::digest(Hash::Sha512, bytes));
        let set = BTreeMap::from([("sha512".to_owned(), sha512.clone())]);
        assert!(Artifact::Bytes(bytes).matches_digest_set(&set));
        let digest = ArtifactDigest::parse(&format!("sha512:{sha512}")).unwrap();
        assert!(Artifact::Digest(&digest).matches_digest_set(&set));
        let other = ArtifactDigest::sha256([0; 32]);
        assert!(!Artifact::Digest(&other).matches_digest_set(&set));
    }
}

//! Content digests: `sha256:<64 lowercase hex>`, the name of every blob and manifest.
//!
//! Parses and validates the text form, hashes bytes ([`Digest::of`]) or a stream
//! ([`Hasher`]), and serialises as the text form. Pure: no I/O.
//!
//! Only SHA-256 is accepted: it is what apko, cosign and every registry this project talks to
//! produce, and a second algorithm would be a second way for two names to mean one blob.
//!
//! Not for: descriptors that carry a digest with its size and media type
//! ([`super::descriptor`]); references that name an image by digest ([`super::reference`]).
//! Reproduces the OCI image-spec `descriptor.md` digest grammar restricted to `sha256`, the
//! form ggcr's `v1.Hash` accepts (reference/registry-and-plugins.md §4.1).

use std::fmt;
use std::str::FromStr;

use sha2::Digest as _;

/// Why a string is not a digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The algorithm prefix is missing or not `sha256`.
    #[error("digest {text:?}: the algorithm must be sha256")]
    Algorithm {
        /// The text as given.
        text: String,
    },
    /// The hex part is not exactly 64 lowercase hex digits.
    #[error("digest {text:?}: expected 64 lowercase hex digits after \"sha256:\"")]
    Hex {
        /// The text as given.
        text: String,
    },
}

/// A SHA-256 content digest. `Display` gives `sha256:<hex>`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(sha2::Sha256::digest(bytes).into())
    }

    /// Parses `sha256:<64 lowercase hex>`. Upper-case hex is refused, as registries compare
    /// digests as strings.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let Some(hex_part) = text.strip_prefix("sha256:") else {
            return Err(Error::Algorithm { text: text.into() });
        };
        let lower = hex_part
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let mut raw = [0u8; 32];
        if hex_part.len() != 64 || !lower || hex::decode_to_slice(hex_part, &mut raw).is_err() {
            return Err(Error::Hex { text: text.into() });
        }
        Ok(Self(raw))
    }

    /// The digest made of these 32 raw bytes.
    pub fn from_bytes(raw: [u8; 32]) -> Self {
        Self(raw)
    }

    /// The 32 raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64 hex digits, without the algorithm: the blob's file name in an OCI layout.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The algorithm, always `sha256`.
    pub fn algorithm(&self) -> &'static str {
        "sha256"
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Self::parse(text)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Hashes a stream as it passes, so a blob is checked while it is written, never read twice.
#[derive(Clone, Default)]
pub struct Hasher {
    state: sha2::Sha256,
    length: u64,
}

impl Hasher {
    /// A hasher that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds more bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.state.update(bytes);
        self.length += bytes.len() as u64;
    }

    /// How many bytes were fed.
    pub fn length(&self) -> u64 {
        self.length
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Digest {
        Digest(self.state.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_has_the_well_known_digest() {
        assert_eq!(
            Digest::of(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn parse_round_trips_and_rejects_other_forms() {
        let text = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
        let digest = Digest::parse(text).unwrap();
        assert_eq!(digest, Digest::of(b"{}"));
        assert_eq!(digest.to_string(), text);
        for bad in [
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            "sha512:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            "sha256:44136FA355B3678A1146AD16F7E8649E94FB4FC21FE77E8310C060F61CAAFF8A",
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8",
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8aa",
            "sha256:g4136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            "sha256:",
            "",
        ] {
            assert!(Digest::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn hasher_matches_one_shot_digest() {
        let mut hasher = Hasher::new();
        hasher.update(b"hello ");
        hasher.update(b"world");
        assert_eq!(hasher.length(), 11);
        assert_eq!(hasher.finish(), Digest::of(b"hello world"));
    }

    #[test]
    fn serde_uses_the_text_form() {
        let digest = Digest::of(b"{}");
        let json = serde_json::to_string(&digest).unwrap();
        assert_eq!(json, format!("\"{digest}\""));
        let back: Digest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, digest);
        assert!(serde_json::from_str::<Digest>("\"sha256:00\"").is_err());
    }
}

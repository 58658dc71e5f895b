//! PEM armour for cosign key files and Sigstore certificates, on top of Go's `encoding/pem`
//! ([`crate::codec::pem`]).
//!
//! Not for: what is inside the armour (the parent module [`super`] dispatches on the label;
//! [`super::encrypted`] opens encrypted bodies). cosign reads `cosign.key`, `cosign.pub` and
//! certificates with Go's `pem.Decode` (reference/cosign-attestations.md §11): the first block
//! wins, text around it and blocks that do not decode are passed over, and it writes with
//! `pem.EncodeToMemory` (64-character base64 lines).

use crate::codec::pem as go;

use super::Error;

/// One decoded PEM block: its label (`PUBLIC KEY`, `ENCRYPTED SIGSTORE PRIVATE KEY`, …) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The word(s) between `BEGIN ` and the closing dashes.
    pub label: String,
    /// The base64-decoded body.
    pub body: Vec<u8>,
}

impl From<go::Block> for Block {
    fn from(block: go::Block) -> Self {
        Block {
            label: String::from_utf8_lossy(&block.kind).into_owned(),
            body: block.bytes,
        }
    }
}

/// The first PEM block in `text`, as Go's `pem.Decode` finds it.
pub fn decode(text: &[u8]) -> Result<Block, Error> {
    go::decode(text)
        .map(|(block, _)| block.into())
        .ok_or(Error::PemMissing)
}

/// Every block in `text` with the label `label`, in order (sigstore's
/// `UnmarshalCertificatesFromPEM` loop, blocks of other types passed over).
pub fn decode_all(text: &[u8], label: &str) -> Vec<Vec<u8>> {
    go::blocks(text)
        .filter(|block| block.kind == label.as_bytes())
        .map(|block| block.bytes)
        .collect()
}

/// Armours `body` like Go's `pem.EncodeToMemory`: 64-character lines and a final newline.
pub fn encode(label: &str, body: &[u8]) -> String {
    go::encode_text(label, body)
}

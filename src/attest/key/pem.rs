//! PEM armour for cosign key files, read as leniently and written exactly as Go's `encoding/pem`.
//!
//! Not for: what is inside the armour (the parent module [`super`] dispatches on the label;
//! [`super::encrypted`] opens encrypted bodies). Reproduces Go `encoding/pem` (`Decode`,
//! `EncodeToMemory`), which cosign uses for `cosign.key` and `cosign.pub` (reference/
//! cosign-attestations.md §11): the first block wins, text around it is ignored, and the body is
//! written as standard base64 in lines of 64 characters.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::Error;

/// One decoded PEM block: its label (`PUBLIC KEY`, `ENCRYPTED SIGSTORE PRIVATE KEY`, …) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The word(s) between `BEGIN ` and the closing dashes.
    pub label: String,
    /// The base64-decoded body.
    pub body: Vec<u8>,
}

const BEGIN: &str = "-----BEGIN ";
const END: &str = "-----END ";
const DASHES: &str = "-----";

/// Finds and decodes the first PEM block in `text`, as Go's `pem.Decode` does: anything before the
/// `BEGIN` line and after the `END` line is ignored; `Key: value` header lines are skipped; a
/// `BEGIN` without its `END` is passed over.
pub fn decode(text: &[u8]) -> Result<Block, Error> {
    let text = std::str::from_utf8(text).map_err(|_| Error::PemMissing)?;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(label) = line
            .trim_end_matches([' ', '\t', '\r'])
            .strip_prefix(BEGIN)
            .and_then(|rest| rest.strip_suffix(DASHES))
        else {
            continue;
        };
        let end_marker = format!("{END}{label}{DASHES}");
        let mut body = String::new();
        let mut ended = false;
        for line in lines.clone() {
            if line.starts_with(&end_marker) {
                ended = true;
                break;
            }
            // Go's decoder skips RFC 1421 headers (`Proc-Type: …`); cosign never writes them.
            if !line.contains(':') {
                body.extend(line.chars().filter(|c| !c.is_ascii_whitespace()));
            }
        }
        if !ended {
            continue;
        }
        let body = STANDARD
            .decode(body.as_bytes())
            .map_err(|source| Error::PemBase64 {
                label: label.to_owned(),
                source,
            })?;
        return Ok(Block {
            label: label.to_owned(),
            body,
        });
    }
    Err(Error::PemMissing)
}

/// Armours `body` like Go's `pem.EncodeToMemory`: 64-character lines and a final newline.
pub fn encode(label: &str, body: &[u8]) -> String {
    let encoded = STANDARD.encode(body);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 64 + 2 * label.len() + 40);
    out.push_str(BEGIN);
    out.push_str(label);
    out.push_str(DASHES);
    out.push('\n');
    let mut rest = encoded.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str(END);
    out.push_str(label);
    out.push_str(DASHES);
    out.push('\n');
    out
}

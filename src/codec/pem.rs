//! PEM blocks as Go's `encoding/pem` finds and re-encodes them.
//!
//! apko re-encodes the certificates and runtime keys it writes, so the bytes in the image are
//! Go's encoding of what Go's decoder found: leading and trailing text dropped, headers sorted
//! (`Proc-Type` first), base64 wrapped at 64 columns.
//!
//! Not for: what the DER inside means (`build::rootfs` certificates, `attest::key`).
//! Reproduces Go `encoding/pem` `Decode`, `Encode`, `getLine`, `removeSpacesAndTabs`.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use std::collections::BTreeMap;

/// A decoded PEM block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The type from the BEGIN line.
    pub kind: Vec<u8>,
    /// `key: value` headers (later keys replace earlier ones, as in Go's map).
    pub headers: BTreeMap<Vec<u8>, Vec<u8>>,
    /// The decoded bytes.
    pub bytes: Vec<u8>,
}

const PEM_START: &[u8] = b"\n-----BEGIN ";
const PEM_END: &[u8] = b"\n-----END ";
const PEM_END_OF_LINE: &[u8] = b"-----";

/// Go's `base64.StdEncoding` decoder: padding required, non-zero trailing bits allowed.
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// `getLine`: the line up to `\n` (without `\r` and trailing spaces/tabs), and the rest.
fn get_line(data: &[u8]) -> (&[u8], &[u8]) {
    let (mut end, next) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (i, i + 1),
        None => (data.len(), data.len()),
    };
    if next > end && end > 0 && data.get(end - 1) == Some(&b'\r') {
        end -= 1;
    }
    let mut line = data.get(..end).unwrap_or_default();
    while let Some(stripped) = line.strip_suffix(b" ").or_else(|| line.strip_suffix(b"\t")) {
        line = stripped;
    }
    (line, data.get(next..).unwrap_or_default())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn trim_space(mut s: &[u8]) -> &[u8] {
    while let Some((first, rest)) = s.split_first() {
        if !first.is_ascii_whitespace() && *first != 0x0b {
            break;
        }
        s = rest;
    }
    while let Some((last, rest)) = s.split_last() {
        if !last.is_ascii_whitespace() && *last != 0x0b {
            break;
        }
        s = rest;
    }
    s
}

/// `pem.Decode`: the first block in `data` and what follows it, or `None`.
pub fn decode(data: &[u8]) -> Option<(Block, &[u8])> {
    let mut rest = data;
    loop {
        let start = PEM_START.get(1..).unwrap_or_default();
        if let Some(after) = rest.strip_prefix(start) {
            rest = after;
        } else if let Some(i) = find(rest, PEM_START) {
            rest = rest.get(i + PEM_START.len()..).unwrap_or_default();
        } else {
            return None;
        }
        let (type_line, after_type) = get_line(rest);
        rest = after_type;
        let Some(kind) = type_line.strip_suffix(PEM_END_OF_LINE) else {
            continue;
        };
        let mut headers = BTreeMap::new();
        loop {
            if rest.is_empty() {
                return None;
            }
            let (line, next) = get_line(rest);
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                break;
            };
            let key = trim_space(line.get(..colon).unwrap_or_default());
            let value = trim_space(line.get(colon + 1..).unwrap_or_default());
            headers.insert(key.to_vec(), value.to_vec());
            rest = next;
        }
        let end_short = PEM_END.get(1..).unwrap_or_default();
        let (end_index, trailer_index) = if headers.is_empty() && rest.starts_with(end_short) {
            (0, end_short.len())
        } else {
            match find(rest, PEM_END) {
                Some(i) => (i, i + PEM_END.len()),
                None => continue,
            }
        };
        let trailer = rest.get(trailer_index..).unwrap_or_default();
        let trailer_len = kind.len() + PEM_END_OF_LINE.len();
        let (Some(end_line), Some(rest_of_end_line)) =
            (trailer.get(..trailer_len), trailer.get(trailer_len..))
        else {
            continue;
        };
        if !end_line.starts_with(kind) || !end_line.ends_with(PEM_END_OF_LINE) {
            continue;
        }
        if !get_line(rest_of_end_line).0.is_empty() {
            continue;
        }
        let encoded: Vec<u8> = rest
            .get(..end_index)
            .unwrap_or_default()
            .iter()
            .copied()
            .filter(|&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .collect();
        let Ok(bytes) = GO_STD.decode(&encoded) else {
            continue;
        };
        let after_end = rest
            .get(end_index + PEM_END.len() - 1..)
            .unwrap_or_default();
        let (_, after) = get_line(after_end);
        return Some((
            Block {
                kind: kind.to_vec(),
                headers,
                bytes,
            },
            after,
        ));
    }
}

/// `pem.Encode`.
pub fn encode(block: &Block) -> Vec<u8> {
    let mut out = b"-----BEGIN ".to_vec();
    out.extend_from_slice(&block.kind);
    out.extend_from_slice(b"-----\n");
    if !block.headers.is_empty() {
        let proc_type: &[u8] = b"Proc-Type";
        let mut write_header = |k: &[u8], v: &[u8]| {
            out.extend_from_slice(k);
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.push(b'\n');
        };
        if let Some(v) = block.headers.get(proc_type) {
            write_header(proc_type, v);
        }
        for (k, v) in block
            .headers
            .iter()
            .filter(|(k, _)| k.as_slice() != proc_type)
        {
            write_header(k, v);
        }
        out.push(b'\n');
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(&block.bytes);
    for line in encoded.as_bytes().chunks(64) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(b"-----END ");
    out.extend_from_slice(&block.kind);
    out.extend_from_slice(b"-----\n");
    out
}

/// Every block in `data`, in order: Go's `for { block, rest = pem.Decode(rest) }` loop.
pub fn blocks(data: &[u8]) -> impl Iterator<Item = Block> + '_ {
    let mut rest = data;
    std::iter::from_fn(move || {
        let (block, after) = decode(rest)?;
        rest = after;
        Some(block)
    })
}

/// `pem.EncodeToMemory` of a block with no headers, as text.
pub fn encode_text(kind: &str, bytes: &[u8]) -> String {
    let block = Block {
        kind: kind.as_bytes().to_vec(),
        headers: BTreeMap::new(),
        bytes: bytes.to_vec(),
    };
    // Base64, dashes and the caller's label: ASCII unless the label is not, and then it is the
    // caller's UTF-8 back.
    String::from_utf8_lossy(&encode(&block)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_skips_text_and_encode_rewraps() {
        let input = b"junk\n-----BEGIN PUBLIC KEY-----\nAAEC\nAw==\n-----END PUBLIC KEY-----\ntail";
        let (block, rest) = decode(input).unwrap();
        assert_eq!(block.kind, b"PUBLIC KEY");
        assert_eq!(block.bytes, vec![0, 1, 2, 3]);
        assert_eq!(rest, b"tail");
        assert_eq!(
            encode(&block),
            b"-----BEGIN PUBLIC KEY-----\nAAECAw==\n-----END PUBLIC KEY-----\n"
        );
    }

    #[test]
    fn mismatched_end_is_not_a_block() {
        assert!(decode(b"-----BEGIN A-----\nAAAA\n-----END B-----\n").is_none());
        assert!(decode(b"no pem here").is_none());
    }

    #[test]
    fn headers_are_kept_and_sorted() {
        let input = b"-----BEGIN X-----\nZ: 1\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END X-----\n";
        let (block, _) = decode(input).unwrap();
        assert_eq!(
            encode(&block),
            b"-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\nZ: 1\n\nAAAA\n-----END X-----\n"
        );
    }
}

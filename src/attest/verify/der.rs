//! A minimal DER walker over raw bytes: split TLVs, list a constructed value's children and
//! re-encode one with other content. Certificates are checked against their exact bytes (the
//! signed TBS, the SCT precertificate form), which typed decoders do not hand back.
//!
//! Not for: typed decoding (x509-cert does that). Pure.

/// Why bytes are not DER as expected.
#[derive(Debug, thiserror::Error)]
#[error("malformed DER: {what}")]
pub struct Error {
    /// What was wrong.
    pub what: &'static str,
}

fn bad(what: &'static str) -> Error {
    Error { what }
}

/// One TLV: its tag byte, the whole encoding and the content.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    /// The (single-byte) tag.
    pub tag: u8,
    /// Tag, length and content.
    pub whole: &'a [u8],
    /// The content octets.
    pub content: &'a [u8],
}

/// Reads the TLV at the start of `bytes`; returns it and the rest.
pub fn read(bytes: &[u8]) -> Result<(Tlv<'_>, &[u8]), Error> {
    let (&tag, rest) = bytes.split_first().ok_or(bad("truncated tag"))?;
    if tag & 0x1f == 0x1f {
        return Err(bad("multi-byte tags are not supported"));
    }
    let (&first, rest) = rest.split_first().ok_or(bad("truncated length"))?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return Err(bad("bad length"));
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (length, &rest[count..])
    };
    if rest.len() < length {
        return Err(bad("content shorter than its length"));
    }
    let header = bytes.len() - rest.len();
    Ok((
        Tlv {
            tag,
            whole: &bytes[..header + length],
            content: &rest[..length],
        },
        &rest[length..],
    ))
}

/// The TLVs inside a constructed value's content, in order.
pub fn children(content: &[u8]) -> Result<Vec<Tlv<'_>>, Error> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (tlv, next) = read(rest)?;
        out.push(tlv);
        rest = next;
    }
    Ok(out)
}

/// Encodes `tag` with `content`, definite length.
pub fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = content.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes = (length as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (4 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// The exact TBSCertificate bytes of a DER certificate (what its signature covers).
pub fn tbs_certificate(certificate: &[u8]) -> Result<&[u8], Error> {
    let (outer, _) = read(certificate)?;
    let (tbs, _) = read(outer.content)?;
    Ok(tbs.whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lengths_round_trip() {
        let content = vec![7u8; 300];
        let encoded = encode(0x04, &content);
        assert_eq!(&encoded[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let (tlv, rest) = read(&encoded).unwrap();
        assert_eq!(tlv.content, content.as_slice());
        assert!(rest.is_empty());
    }

    #[test]
    fn truncated_content_is_rejected() {
        assert!(read(&[0x30, 0x05, 0x01]).is_err());
    }
}

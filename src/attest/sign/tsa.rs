//! A signed timestamp from an RFC 3161 time-stamping authority: a `TimeStampReq` over the
//! SHA-256 of the signature (bundle) or of the layer (legacy `.att`, as cosign does), with a
//! random nonce and the TSA's certificates requested, posted as `application/timestamp-query`;
//! the `TimeStampResp` is kept whole, as sigstore-go stores it in
//! `verificationMaterial.timestampVerificationData`. Before it is kept, the status must be
//! granted and the token's `TSTInfo` must carry our imprint and nonce.
//!
//! Not for: verifying the token's signature and chain against a trusted root (the verifier's
//! RFC 3161 support). Reproduces RFC 3161 §2.4 and RFC 5652 §5 (the layers read here).

use sha2::{Digest as _, Sha256};

use super::http::{self, Request};
use crate::attest::verify::der::{self, children, encode, read};

const SERVICE: &str = "timestamp authority";
/// The DER of the SHA-256 algorithm identifier's OID (2.16.840.1.101.3.4.2.1).
const SHA256_OID: [u8; 11] = [
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
];

/// Why no timestamp was obtained.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No answer.
    #[error(transparent)]
    Http(#[from] http::Error),
    /// An HTTP refusal.
    #[error("timestamp authority at {url} refused: HTTP {status}: {message}")]
    Refused {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
        /// The message.
        message: String,
    },
    /// A `TimeStampResp` whose status is not granted.
    #[error("timestamp authority at {url} did not grant a timestamp (PKIStatus {status})")]
    NotGranted {
        /// The URL.
        url: String,
        /// The PKIStatus.
        status: u8,
    },
    /// The answer is not a timestamp for our request.
    #[error("timestamp authority at {url} answered with an unusable timestamp: {reason}")]
    Answer {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
}

/// A `TimeStampReq` for `message`'s SHA-256 with `nonce`.
pub fn request(message: &[u8], nonce: u64) -> Vec<u8> {
    let algorithm = encode(0x30, &[&SHA256_OID[..], &[0x05, 0x00]].concat());
    let imprint = encode(
        0x30,
        &[algorithm, encode(0x04, &Sha256::digest(message))].concat(),
    );
    let body = [
        encode(0x02, &[1]),
        imprint,
        integer(nonce),
        vec![0x01, 0x01, 0xff],
    ]
    .concat();
    encode(0x30, &body)
}

fn integer(n: u64) -> Vec<u8> {
    let mut bytes: Vec<u8> = n
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    if bytes.first().is_none_or(|b| b & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    encode(0x02, &bytes)
}

/// Timestamps `message` at the RFC 3161 endpoint `url`; returns the DER `TimeStampResp`.
pub fn timestamp(url: &str, message: &[u8]) -> Result<Vec<u8>, Error> {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| Error::Answer {
        url: url.to_owned(),
        reason: format!("no random nonce: {e}"),
    })?;
    // A positive 63-bit nonce: some TSAs mishandle negative or 64-bit ones.
    let nonce = u64::from_be_bytes(random) >> 1;
    let answer = http::exchange(
        SERVICE,
        Request {
            method: reqwest::Method::POST,
            url,
            content_type: "application/timestamp-query",
            body: request(message, nonce),
            bearer: None,
        },
    )?;
    if answer.status != 200 {
        return Err(Error::Refused {
            url: url.to_owned(),
            status: answer.status,
            message: answer.excerpt(),
        });
    }
    check(&answer.body, message, nonce).map_err(|e| match e {
        Checked::Status(status) => Error::NotGranted {
            url: url.to_owned(),
            status,
        },
        Checked::Reason(reason) => Error::Answer {
            url: url.to_owned(),
            reason,
        },
    })?;
    Ok(answer.body)
}

enum Checked {
    Status(u8),
    Reason(String),
}

impl From<der::Error> for Checked {
    fn from(error: der::Error) -> Self {
        Checked::Reason(error.to_string())
    }
}

fn child<'a>(items: &[der::Tlv<'a>], index: usize, what: &str) -> Result<der::Tlv<'a>, Checked> {
    items
        .get(index)
        .copied()
        .ok_or_else(|| Checked::Reason(format!("{what} missing")))
}

/// Status granted; the token's TSTInfo names our imprint and nonce.
fn check(response: &[u8], message: &[u8], nonce: u64) -> Result<(), Checked> {
    let (outer, _) = read(response)?;
    let parts = children(outer.content)?;
    let status_info = children(child(&parts, 0, "PKIStatusInfo")?.content)?;
    let status = child(&status_info, 0, "PKIStatus")?.content;
    match status {
        [0] | [1] => {}
        [other] => return Err(Checked::Status(*other)),
        _ => return Err(Checked::Reason("malformed PKIStatus".into())),
    }
    // ContentInfo { signedData, [0] { SignedData { version, digestAlgorithms,
    // encapContentInfo { eContentType, [0] { OCTET STRING TSTInfo } }, … } } }
    let content_info = children(child(&parts, 1, "timeStampToken")?.content)?;
    let (signed_data, _) = read(child(&content_info, 1, "SignedData")?.content)?;
    let signed = children(signed_data.content)?;
    let encap = children(child(&signed, 2, "encapContentInfo")?.content)?;
    let (octets, _) = read(child(&encap, 1, "eContent")?.content)?;
    let (tst_info, _) = read(octets.content)?;
    let fields = children(tst_info.content)?;
    let imprint = children(child(&fields, 2, "messageImprint")?.content)?;
    if child(&imprint, 1, "hashedMessage")?.content != Sha256::digest(message).as_slice() {
        return Err(Checked::Reason("it stamps another message".into()));
    }
    let wanted = integer(nonce);
    let nonce_present = fields
        .iter()
        .skip(5)
        .any(|f| f.tag == 0x02 && f.whole == wanted.as_slice());
    if !nonce_present {
        return Err(Checked::Reason("the nonce is not ours".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_der_with_imprint_nonce_and_cert_req() {
        let der_bytes = request(b"abc", 0x80);
        let (outer, rest) = read(&der_bytes).unwrap();
        assert!(rest.is_empty());
        let parts = children(outer.content).unwrap();
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0].whole, [0x02, 0x01, 0x01]);
        let imprint = children(parts[1].content).unwrap();
        assert_eq!(imprint[1].content, Sha256::digest(b"abc").as_slice());
        assert_eq!(parts[2].whole, [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(parts[3].whole, [0x01, 0x01, 0xff]);
    }
}

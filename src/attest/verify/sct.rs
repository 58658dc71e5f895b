//! Embedded signed certificate timestamps (RFC 6962 §3.2): parse the SCT list extension and
//! verify at least one SCT against a trusted CT log, over the precertificate form of the leaf
//! (TBS without the SCT extension, issuer key hash).
//!
//! Not for: CT logs' other entry kinds or detached SCTs. Reproduces
//! reference/cosign-attestations.md §7.5. Pure.

use sha2::{Digest as _, Sha256};

use super::certificate::{Cert, OID_SCT_LIST};
use super::der;
use super::signature::{self, Hash};
use super::trust::TrustedRoot;

/// Why no SCT verified.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The certificate has no SCT extension.
    #[error("certificate does not include required embedded SCT and no detached SCT was set")]
    Missing,
    /// The SCT list is malformed.
    #[error("embedded SCT list is malformed: {reason}")]
    Malformed {
        /// Why.
        reason: String,
    },
    /// SCTs exist but none verifies against a trusted CT log.
    #[error("no embedded SCT verifies against a trusted CT log: {reason}")]
    Unverified {
        /// The last failure.
        reason: String,
    },
}

struct Sct<'a> {
    log_id: &'a [u8],
    timestamp: &'a [u8],
    extensions: &'a [u8],
    hash: u8,
    signature: &'a [u8],
}

fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Result<&'a [u8], Error> {
    if bytes.len() < n {
        return Err(Error::Malformed {
            reason: "truncated".to_owned(),
        });
    }
    let (head, tail) = bytes.split_at(n);
    *bytes = tail;
    Ok(head)
}

fn take_u16_vec<'a>(bytes: &mut &'a [u8]) -> Result<&'a [u8], Error> {
    let len = take(bytes, 2)?;
    take(bytes, usize::from(u16::from_be_bytes([len[0], len[1]])))
}

fn parse_list(value: &[u8]) -> Result<Vec<Sct<'_>>, Error> {
    // The extension value is an OCTET STRING wrapping the TLS-encoded list.
    let (inner, _) = der::read(value).map_err(|e| Error::Malformed {
        reason: e.to_string(),
    })?;
    let mut rest = inner.content;
    let mut list = take_u16_vec(&mut rest)?;
    let mut out = Vec::new();
    while !list.is_empty() {
        let mut sct = take_u16_vec(&mut list)?;
        let version = take(&mut sct, 1)?[0];
        let log_id = take(&mut sct, 32)?;
        let timestamp = take(&mut sct, 8)?;
        let extensions = take_u16_vec(&mut sct)?;
        let algorithms = take(&mut sct, 2)?;
        let signature = take_u16_vec(&mut sct)?;
        if version != 0 {
            continue;
        }
        out.push(Sct {
            log_id,
            timestamp,
            extensions,
            hash: algorithms[0],
            signature,
        });
    }
    Ok(out)
}

/// The leaf's TBS with the SCT list extension removed, re-encoded (the precertificate TBS).
fn precert_tbs(leaf: &Cert) -> Result<Vec<u8>, der::Error> {
    let (cert, _) = der::read(&leaf.der)?;
    let (tbs, _) = der::read(cert.content)?;
    let mut content = Vec::new();
    for field in der::children(tbs.content)? {
        if field.tag != 0xa3 {
            content.extend_from_slice(field.whole);
            continue;
        }
        let (sequence, _) = der::read(field.content)?;
        let mut kept = Vec::new();
        for extension in der::children(sequence.content)? {
            let (oid, _) = der::read(extension.content)?;
            if oid.content != SCT_OID_DER {
                kept.extend_from_slice(extension.whole);
            }
        }
        content.extend(der::encode(0xa3, &der::encode(0x30, &kept)));
    }
    Ok(der::encode(0x30, &content))
}

/// 1.3.6.1.4.1.11129.2.4.2 in DER content form.
const SCT_OID_DER: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02];

/// Verifies that at least one embedded SCT was signed by a CT log in `root`.
pub fn verify_embedded(leaf: &Cert, issuer: &Cert, root: &TrustedRoot) -> Result<(), Error> {
    let value = leaf.extension(OID_SCT_LIST).ok_or(Error::Missing)?;
    let scts = parse_list(value)?;
    let tbs = precert_tbs(leaf).map_err(|e| Error::Malformed {
        reason: e.to_string(),
    })?;
    let issuer_key_hash = Sha256::digest(&issuer.spki_der);
    let mut reason = "the list is empty".to_owned();
    for sct in scts {
        let Some(log) = root.ctlog(sct.log_id) else {
            reason = format!("SCT from unknown log {}", hex::encode(sct.log_id));
            continue;
        };
        let hash = match sct.hash {
            4 => Hash::Sha256,
            5 => Hash::Sha384,
            6 => Hash::Sha512,
            other => {
                reason = format!("unsupported SCT hash algorithm {other}");
                continue;
            }
        };
        let mut signed = vec![0u8, 0u8];
        signed.extend_from_slice(sct.timestamp);
        signed.extend_from_slice(&[0, 1]);
        signed.extend_from_slice(&issuer_key_hash);
        let length = (tbs.len() as u32).to_be_bytes();
        signed.extend_from_slice(&length[1..]);
        signed.extend_from_slice(&tbs);
        signed.extend_from_slice(&(sct.extensions.len() as u16).to_be_bytes());
        signed.extend_from_slice(sct.extensions);
        match signature::verify(&log.key, hash, &signed, sct.signature) {
            Ok(()) => return Ok(()),
            Err(e) => reason = e.to_string(),
        }
    }
    Err(Error::Unverified { reason })
}

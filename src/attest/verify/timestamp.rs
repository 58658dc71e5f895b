//! RFC 3161 signed timestamps, verified as sigstore-go does (timestamp-authority
//! `pkg/verification`): the CMS signature of the token, the signer's chain to a
//! timestamping authority of the trusted root at the timestamp's own time, the TSA leaf's
//! timestamping EKU, the authority's validity window, and the message imprint over the
//! bundle's signature.
//!
//! Takes the DER `TimeStampResp` (or a bare token) and the signature bytes it must cover;
//! returns the verified time and the authority's URI. Pure. CMS structures are read with the
//! RustCrypto `cms` crate; `TSTInfo` with `der`'s reader.
//!
//! Not for: thresholds and how times are used ([`super::bundle`]), certificate chains of
//! signing certificates ([`super::certificate`]).

use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode as _, Encode as _, Reader as _, Tagged as _};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

use super::certificate::{self, Cert};
use super::signature::{self, Hash};
use super::trust::{TimestampAuthority, TrustedRoot};
use crate::codec::time::GoTime;

/// Most timestamps a bundle may carry (sigstore-go and sigstore-python refuse more).
pub const MAX_TIMESTAMPS: usize = 32;

const ID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const ID_CT_TSTINFO: &str = "1.2.840.113549.1.9.16.1.4";
const ID_CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
const ID_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const EKU_TIME_STAMPING: &str = "1.3.6.1.5.5.7.3.8";
const EKU_ANY: &str = "2.5.29.37.0";
const OID_EKU: &str = "2.5.29.37";

/// Why a signed timestamp is not accepted.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes are not a timestamp response or token.
    #[error("signed timestamp {index} is malformed: {reason}")]
    Malformed {
        /// Which timestamp of the bundle.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// The response reports a failure status.
    #[error("signed timestamp {index} has status {status}, not granted")]
    Status {
        /// Which timestamp.
        index: usize,
        /// The PKIStatus value.
        status: u8,
    },
    /// The message imprint is not the hash of this bundle's signature.
    #[error(
        "signed timestamp {index} does not cover this bundle's signature (message imprint differs)"
    )]
    Imprint {
        /// Which timestamp.
        index: usize,
    },
    /// No authority of the trusted root vouches for the timestamp.
    #[error("signed timestamp {index} is not from a trusted timestamping authority: {reasons}")]
    Untrusted {
        /// Which timestamp.
        index: usize,
        /// Each authority's reason, joined.
        reasons: String,
    },
    /// Two timestamps by one authority: only the first counts.
    #[error("signed timestamp {index} duplicates a timestamp from authority {uri}")]
    Duplicate {
        /// Which timestamp.
        index: usize,
        /// The authority.
        uri: String,
    },
    /// More timestamps than clients accept.
    #[error("bundle has {count} signed timestamps; at most {MAX_TIMESTAMPS} are accepted")]
    TooMany {
        /// How many the bundle has.
        count: usize,
    },
}

/// A verified timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The time the authority asserts, Unix seconds.
    pub time: i64,
    /// The authority's URI.
    pub uri: String,
}

/// A parsed token: what the authorities are checked against.
struct Token {
    tst_info: Vec<u8>,
    imprint_hash: Hash,
    imprint: Vec<u8>,
    time: i64,
    signer: SignerInfo,
    signed_attrs: Vec<u8>,
    embedded: Vec<Certificate>,
}

/// Verifies timestamp `index` (DER) over `signature` against the root's authorities.
pub fn verify(
    index: usize,
    der_bytes: &[u8],
    signature: &[u8],
    root: &TrustedRoot,
) -> Result<Verified, Error> {
    let token = parse(index, der_bytes)?;
    if signature::digest(token.imprint_hash, signature) != token.imprint {
        return Err(Error::Imprint { index });
    }
    let mut reasons = Vec::new();
    if root.timestamp_authorities.is_empty() {
        reasons.push("the trusted root lists no timestamping authority".to_owned());
    }
    for authority in &root.timestamp_authorities {
        match check_authority(&token, authority) {
            Ok(()) => {
                return Ok(Verified {
                    time: token.time,
                    uri: authority.uri.clone(),
                });
            }
            Err(why) => reasons.push(format!("{}: {why}", display_uri(authority))),
        }
    }
    Err(Error::Untrusted {
        index,
        reasons: reasons.join("; "),
    })
}

/// Verifies every timestamp; returns the verified ones (one per authority) and the errors of
/// the others. Fails outright only for more than [`MAX_TIMESTAMPS`].
pub fn verify_all(
    timestamps: &[Vec<u8>],
    signature: &[u8],
    root: &TrustedRoot,
) -> Result<(Vec<Verified>, Vec<Error>), Error> {
    if timestamps.len() > MAX_TIMESTAMPS {
        return Err(Error::TooMany {
            count: timestamps.len(),
        });
    }
    let mut verified: Vec<Verified> = Vec::new();
    let mut errors = Vec::new();
    for (index, der_bytes) in timestamps.iter().enumerate() {
        match verify(index, der_bytes, signature, root) {
            Ok(stamp) if verified.iter().any(|v| v.uri == stamp.uri) => {
                errors.push(Error::Duplicate {
                    index,
                    uri: stamp.uri,
                });
            }
            Ok(stamp) => verified.push(stamp),
            Err(e) => errors.push(e),
        }
    }
    Ok((verified, errors))
}

fn display_uri(authority: &TimestampAuthority) -> &str {
    if authority.uri.is_empty() {
        "(authority without URI)"
    } else {
        &authority.uri
    }
}

fn parse(index: usize, der_bytes: &[u8]) -> Result<Token, Error> {
    let bad = |reason: String| Error::Malformed { index, reason };
    let content_info = token_of(index, der_bytes)?;
    if content_info.content_type.to_string() != ID_SIGNED_DATA {
        return Err(bad("the token is not CMS SignedData".to_owned()));
    }
    let signed: SignedData = content_info
        .content
        .decode_as()
        .map_err(|e| bad(format!("SignedData: {e}")))?;
    let encapsulated = &signed.encap_content_info;
    if encapsulated.econtent_type.to_string() != ID_CT_TSTINFO {
        return Err(bad("the signed content is not a TSTInfo".to_owned()));
    }
    let tst_info = encapsulated
        .econtent
        .as_ref()
        .ok_or_else(|| bad("the TSTInfo content is absent".to_owned()))?
        .decode_as::<OctetString>()
        .map_err(|e| bad(format!("TSTInfo content: {e}")))?
        .as_bytes()
        .to_vec();
    let (imprint_hash, imprint, time) = read_tst_info(&tst_info).map_err(bad)?;
    let [signer] = signed.signer_infos.0.as_slice() else {
        return Err(bad(format!(
            "{} signer infos; RFC 3161 tokens have exactly one",
            signed.signer_infos.0.len()
        )));
    };
    let signed_attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or_else(|| bad("the signer info has no signed attributes".to_owned()))?
        .to_der()
        .map_err(|e| bad(format!("signed attributes: {e}")))?;
    let embedded = signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            CertificateChoices::Certificate(cert) => Some(cert.clone()),
            CertificateChoices::Other(_) => None,
        })
        .collect();
    Ok(Token {
        tst_info,
        imprint_hash,
        imprint,
        time,
        signer: signer.clone(),
        signed_attrs,
        embedded,
    })
}

/// The token of a `TimeStampResp` after checking its status, or the bytes as a bare token.
fn token_of(index: usize, der_bytes: &[u8]) -> Result<ContentInfo, Error> {
    let bad = |reason: String| Error::Malformed { index, reason };
    if let Ok(token) = ContentInfo::from_der(der_bytes) {
        return Ok(token);
    }
    let response = der::asn1::AnyRef::from_der(der_bytes)
        .map_err(|e| bad(format!("not a TimeStampResp: {e}")))?;
    let (status, token) = response
        .sequence(|reader| {
            let status: der::asn1::AnyRef<'_> = reader.decode()?;
            let status = status.sequence(|r| {
                let value: u8 = r.decode()?;
                r.read_slice(r.remaining_len())?;
                Ok::<_, der::Error>(value)
            })?;
            let token: Option<ContentInfo> = if reader.is_finished() {
                None
            } else {
                Some(reader.decode()?)
            };
            Ok::<_, der::Error>((status, token))
        })
        .map_err(|e| bad(format!("not a TimeStampResp: {e}")))?;
    // 0 granted, 1 granted with modifications.
    if status > 1 {
        return Err(Error::Status { index, status });
    }
    token.ok_or_else(|| bad("the response carries no token".to_owned()))
}

/// Reads `TSTInfo` up to `genTime`: the imprint's hash and value, and the time.
fn read_tst_info(tst_info: &[u8]) -> Result<(Hash, Vec<u8>, i64), String> {
    let any = der::asn1::AnyRef::from_der(tst_info).map_err(|e| format!("TSTInfo: {e}"))?;
    let (algorithm, imprint, time) = any
        .sequence(|reader| {
            let _version: u8 = reader.decode()?;
            let _policy: ObjectIdentifier = reader.decode()?;
            let (algorithm, imprint) = reader.sequence(|imprint| {
                let algorithm: spki::AlgorithmIdentifierOwned = imprint.decode()?;
                let value: OctetString = imprint.decode()?;
                Ok::<_, der::Error>((algorithm.oid.to_string(), value.as_bytes().to_vec()))
            })?;
            let _serial: der::asn1::AnyRef<'_> = reader.decode()?;
            let time: der::asn1::AnyRef<'_> = reader.decode()?;
            let time = (time.tag() == der::Tag::GeneralizedTime).then(|| time.value().to_vec());
            reader.read_slice(reader.remaining_len())?;
            Ok::<_, der::Error>((algorithm, imprint, time))
        })
        .map_err(|e| format!("TSTInfo: {e}"))?;
    let hash = hash_of_digest_algorithm(&algorithm)
        .ok_or_else(|| format!("message imprint hash {algorithm} is not supported"))?;
    let time = time
        .as_deref()
        .and_then(generalized_time)
        .ok_or_else(|| "genTime is not a GeneralizedTime".to_owned())?;
    Ok((hash, imprint, time))
}

/// Parses `YYYYMMDDHHMMSS[.fff]Z` to Unix seconds (fractions dropped, as Go's time compare
/// at second granularity would not see them either way for validity windows).
fn generalized_time(text: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(text).ok()?;
    let text = text.strip_suffix('Z')?;
    let whole = text.split('.').next()?;
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &whole[0..4],
        &whole[4..6],
        &whole[6..8],
        &whole[8..10],
        &whole[10..12],
        &whole[12..14]
    );
    GoTime::parse_rfc3339(&rfc3339)
        .ok()
        .map(|t| t.unix_seconds())
}

fn hash_of_digest_algorithm(oid: &str) -> Option<Hash> {
    match oid {
        "2.16.840.1.101.3.4.2.1" => Some(Hash::Sha256),
        "2.16.840.1.101.3.4.2.2" => Some(Hash::Sha384),
        "2.16.840.1.101.3.4.2.3" => Some(Hash::Sha512),
        _ => None,
    }
}

/// Checks the token's signature and chain against one authority.
fn check_authority(token: &Token, authority: &TimestampAuthority) -> Result<(), String> {
    let parsed: Vec<Certificate> = authority
        .chain
        .iter()
        .map(|der_bytes| Certificate::from_der(der_bytes).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let (root_cert, rest) = parsed.split_last().ok_or("the authority has no chain")?;
    // sigstore-go: a first certificate that is not a CA is the TSA's own leaf.
    let configured_leaf = rest.first().filter(|c| !is_ca(c));
    let signer = token
        .embedded
        .iter()
        .find(|c| identifies(&token.signer.sid, c))
        .or_else(|| configured_leaf.filter(|c| identifies(&token.signer.sid, c)))
        .ok_or("no certificate of the authority or the token matches the token's signer")?;
    if let Some(leaf) = configured_leaf
        && leaf != signer
    {
        return Err("the token's signing certificate is not the authority's leaf".to_owned());
    }
    check_signed_attributes(token)?;
    let signer_der = signer.to_der().map_err(|e| e.to_string())?;
    let leaf = Cert::parse(&signer_der).map_err(|e| e.to_string())?;
    let hash = signature_hash(&token.signer)?;
    signature::verify(
        &leaf.public_key,
        hash,
        &token.signed_attrs,
        token.signer.signature.as_bytes(),
    )
    .map_err(|e| format!("token signature: {e}"))?;
    check_eku(signer, true)?;
    let mut intermediates = Vec::new();
    for cert in rest.iter().filter(|c| is_ca(c)) {
        check_eku(cert, false)?;
        intermediates.push(cert.to_der().map_err(|e| e.to_string())?);
    }
    for cert in token.embedded.iter().filter(|c| is_ca(c)) {
        intermediates.push(cert.to_der().map_err(|e| e.to_string())?);
    }
    let anchor_der = root_cert.to_der().map_err(|e| e.to_string())?;
    if !leaf.valid_at(token.time) {
        return Err(format!(
            "the TSA certificate is not valid at the timestamp's time {}",
            token.time
        ));
    }
    certificate::verify_path(&leaf, &intermediates, &anchor_der, token.time)
        .map_err(|why| format!("TSA certificate chain at {}: {why}", token.time))?;
    if !authority.valid_at(token.time) {
        return Err(format!(
            "the timestamp's time {} is outside the authority's validity in the trusted root",
            token.time
        ));
    }
    Ok(())
}

/// RFC 5652 §5.4: the signed attributes name TSTInfo as content type and carry its digest.
fn check_signed_attrs_values(token: &Token) -> Result<(Vec<u8>, Vec<u8>), String> {
    let attrs = token
        .signer
        .signed_attrs
        .as_ref()
        .ok_or("no signed attributes")?;
    let value_of = |oid: &str| {
        attrs
            .iter()
            .find(|a| a.oid.to_string() == oid)
            .and_then(|a| a.values.iter().next())
            .map(|v| v.value().to_vec())
    };
    let content_type = value_of(ID_CONTENT_TYPE).ok_or("no content-type attribute")?;
    let digest = value_of(ID_MESSAGE_DIGEST).ok_or("no message-digest attribute")?;
    Ok((content_type, digest))
}

fn check_signed_attributes(token: &Token) -> Result<(), String> {
    let (content_type, digest) = check_signed_attrs_values(token)?;
    let expected_type = ObjectIdentifier::new(ID_CT_TSTINFO).map_err(|e| e.to_string())?;
    if content_type != expected_type.as_bytes() {
        return Err("the content-type attribute is not TSTInfo".to_owned());
    }
    let hash = hash_of_digest_algorithm(&token.signer.digest_alg.oid.to_string())
        .ok_or("the signer's digest algorithm is not supported")?;
    if signature::digest(hash, &token.tst_info) != digest {
        return Err("the message-digest attribute is not the TSTInfo's digest".to_owned());
    }
    Ok(())
}

fn signature_hash(signer: &SignerInfo) -> Result<Hash, String> {
    let algorithm = signer.signature_algorithm.oid.to_string();
    if algorithm == RSA_ENCRYPTION {
        return hash_of_digest_algorithm(&signer.digest_alg.oid.to_string())
            .ok_or_else(|| "the signer's digest algorithm is not supported".to_owned());
    }
    signature::hash_of_x509_algorithm(&algorithm).map_err(|e| e.to_string())
}

fn is_ca(cert: &Certificate) -> bool {
    cert.tbs_certificate()
        .get_extension::<x509_cert::ext::pkix::BasicConstraints>()
        .ok()
        .flatten()
        .is_some_and(|(_, constraints)| constraints.ca)
}

fn identifies(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    let tbs = cert.tbs_certificate();
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(id) => {
            &id.issuer == tbs.issuer() && &id.serial_number == tbs.serial_number()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => tbs
            .get_extension::<SubjectKeyIdentifier>()
            .ok()
            .flatten()
            .is_some_and(|(_, own)| &own == ski),
    }
}

/// The TSA leaf's EKU must be critical and exactly timeStamping; an intermediate's EKU, if
/// present, must allow timeStamping.
fn check_eku(cert: &Certificate, leaf: bool) -> Result<(), String> {
    let extension = cert
        .tbs_certificate()
        .extensions()
        .into_iter()
        .flatten()
        .find(|e| e.extn_id.to_string() == OID_EKU);
    let Some(extension) = extension else {
        return if leaf {
            Err("the TSA certificate has no extended key usage".to_owned())
        } else {
            Ok(())
        };
    };
    let usages = x509_cert::ext::pkix::ExtendedKeyUsage::from_der(extension.extn_value.as_bytes())
        .map_err(|e| format!("extended key usage: {e}"))?;
    let names: Vec<String> = usages.0.iter().map(|o| o.to_string()).collect();
    if leaf {
        if !extension.critical {
            return Err("the TSA certificate's extended key usage is not critical".to_owned());
        }
        if names != [EKU_TIME_STAMPING] {
            return Err("the TSA certificate's extended key usage is not only timeStamping".into());
        }
    } else if !names.iter().any(|n| n == EKU_TIME_STAMPING || n == EKU_ANY) {
        return Err("an intermediate does not allow timeStamping".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generalized_times_with_and_without_fractions() {
        assert_eq!(generalized_time(b"20250612120220Z"), Some(1_749_729_740));
        assert_eq!(generalized_time(b"20250612120220.5Z"), Some(1_749_729_740));
        assert_eq!(generalized_time(b"2025061212022Z"), None);
    }

    #[test]
    fn truncated_input_is_a_clear_error() {
        let root = TrustedRoot::default();
        for bytes in [
            &b""[..],
            &[0x30, 0x82, 0x01],
            &[0x30, 0x03, 0x02, 0x01, 0x00],
        ] {
            let e = verify(0, bytes, b"sig", &root).unwrap_err();
            assert!(
                matches!(e, Error::Malformed { index: 0, .. } | Error::Status { .. }),
                "{e}"
            );
        }
    }
}

//! DSSE envelopes: pre-authentication encoding, signing with a cosign key, both serialisations
//! cosign has produced, and verification.
//!
//! Not for: the statement inside ([`super::statement`]) or the bundle around it
//! ([`super::bundle`]). Reproduces reference/cosign-attestations.md §4 (go-securesystemslib
//! `dsse/envelope.go`, `dsse/sign.go`, `dsse/verify.go`; sigstore-go's protobuf envelope) and the
//! byte layout of the legacy layer `derived/cosign/legacy-att.layer.dsse.json`.

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use serde::Deserialize;

use super::key::{self, PrivateKey, PublicKey};
use super::statement::{self, Statement};

/// The payload type of in-toto statements; cosign rejects any other on attestations.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Why an envelope could not be read, signed or verified.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The envelope is not JSON of the DSSE shape.
    #[error("DSSE envelope is not valid JSON of the envelope shape")]
    Json {
        /// The JSON error, naming the field.
        #[source]
        source: serde_json::Error,
    },
    /// A base64 field decodes under neither the standard nor the URL-safe alphabet.
    #[error("DSSE envelope field {field} is not base64")]
    Base64 {
        /// `payload` or `signatures[i].sig`.
        field: String,
    },
    /// Verification needs exactly one signature (sigstore-go's rule).
    #[error("DSSE envelope has {count} signatures; exactly one is required")]
    SignatureCount {
        /// How many there are.
        count: usize,
    },
    /// The payload type is not in-toto's.
    #[error(
        "invalid payloadType {payload_type} on envelope. Expected application/vnd.in-toto+json"
    )]
    PayloadType {
        /// The payload type found.
        payload_type: String,
    },
    /// Signing or signature verification failed.
    #[error("DSSE signature check failed")]
    Signature {
        /// The key-level failure.
        #[source]
        source: key::Error,
    },
    /// The payload is not a valid in-toto statement.
    #[error("DSSE payload is not an in-toto statement")]
    Statement {
        /// The statement error.
        #[source]
        source: statement::Error,
    },
}

/// Which of cosign's two envelope serialisations to write (reference §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeForm {
    /// cosign v3 (sigstore-go's protobuf envelope as Go JSON), both inside bundles and as a
    /// legacy `.att` layer: `{"payload","payloadType","signatures":[{"sig"}]}`, empty keyid
    /// omitted. The form to emit.
    CosignV3,
    /// cosign ≤ v2 (go-securesystemslib's struct):
    /// `{"payloadType","payload","signatures":[{"keyid":"","sig"}]}`, keyid always present.
    /// Needed to reproduce older layers byte for byte (their Rekor `envelopeHash` covers these
    /// bytes).
    SecureSystemsLib,
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The key identifier; empty when absent. cosign writes it empty or omits it, and the two
    /// mean the same to every verifier.
    pub keyid: String,
    /// The raw signature bytes (ASN.1 DER for ECDSA).
    pub sig: Vec<u8>,
}

/// A DSSE envelope with its payload and signatures decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The payload's media type.
    pub payload_type: String,
    /// The signed payload bytes (for attestations, the statement JSON).
    pub payload: Vec<u8>,
    /// The signatures, in order.
    pub signatures: Vec<Signature>,
}

/// DSSE's pre-authentication encoding: `"DSSEv1" SP len(type) SP type SP len(payload) SP
/// payload`, lengths in ASCII decimal bytes. Signatures are computed over these bytes.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let header = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    );
    let mut out = Vec::with_capacity(header.len() + payload.len());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(payload);
    out
}

impl Envelope {
    /// Signs `payload` with `key` over the PAE, with no keyid, as cosign does.
    pub fn sign(payload_type: &str, payload: Vec<u8>, key: &PrivateKey) -> Result<Self, Error> {
        let sig = key
            .sign(&pae(payload_type, &payload))
            .map_err(|source| Error::Signature { source })?;
        Ok(Envelope {
            payload_type: payload_type.to_owned(),
            payload,
            signatures: vec![Signature {
                keyid: String::new(),
                sig,
            }],
        })
    }

    /// Signs a statement as `cosign attest` does: payload type in-toto, payload the statement's
    /// cosign v3 serialisation.
    pub fn sign_statement(statement: &Statement, key: &PrivateKey) -> Result<Self, Error> {
        Self::sign(IN_TOTO_PAYLOAD_TYPE, statement.to_json(), key)
    }

    /// Checks the one signature over the PAE with `key`. More or fewer than one signature is an
    /// error, as in sigstore-go. The keyid is ignored, as in cosign's `--key` verification.
    pub fn verify(&self, key: &PublicKey) -> Result<(), Error> {
        let [signature] = self.signatures.as_slice() else {
            return Err(Error::SignatureCount {
                count: self.signatures.len(),
            });
        };
        key.verify(&pae(&self.payload_type, &self.payload), &signature.sig)
            .map_err(|source| Error::Signature { source })
    }

    /// The statement in the payload, after checking the payload type is in-toto's; parsed
    /// strictly (unknown fields rejected).
    pub fn statement(&self) -> Result<Statement, Error> {
        if self.payload_type != IN_TOTO_PAYLOAD_TYPE {
            return Err(Error::PayloadType {
                payload_type: self.payload_type.clone(),
            });
        }
        Statement::from_json(&self.payload).map_err(|source| Error::Statement { source })
    }

    /// Serialises in the given form, compact, standard padded base64.
    pub fn to_json(&self, form: EnvelopeForm) -> Vec<u8> {
        let payload = STANDARD.encode(&self.payload);
        let mut out = String::from("{");
        match form {
            EnvelopeForm::CosignV3 => {
                push_member(&mut out, "payload", &payload);
                out.push(',');
                push_member(&mut out, "payloadType", &self.payload_type);
            }
            EnvelopeForm::SecureSystemsLib => {
                push_member(&mut out, "payloadType", &self.payload_type);
                out.push(',');
                push_member(&mut out, "payload", &payload);
            }
        }
        out.push_str(",\"signatures\":[");
        for (i, signature) in self.signatures.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('{');
            let sig = STANDARD.encode(&signature.sig);
            match form {
                // protojson order: sig (1), keyid (2); an empty keyid is not emitted.
                EnvelopeForm::CosignV3 => {
                    push_member(&mut out, "sig", &sig);
                    if !signature.keyid.is_empty() {
                        out.push(',');
                        push_member(&mut out, "keyid", &signature.keyid);
                    }
                }
                EnvelopeForm::SecureSystemsLib => {
                    push_member(&mut out, "keyid", &signature.keyid);
                    out.push(',');
                    push_member(&mut out, "sig", &sig);
                }
            }
            out.push('}');
        }
        out.push_str("]}");
        out.into_bytes()
    }

    /// Reads an envelope in either key order, with or without keyid, payload and signatures in
    /// standard or URL-safe base64 (padded or not). Unknown fields are ignored, as Go's
    /// `encoding/json` does in cosign's legacy reader.
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        let wire: WireEnvelope =
            serde_json::from_slice(json).map_err(|source| Error::Json { source })?;
        Self::from_wire(wire)
    }

    pub(crate) fn from_wire(wire: WireEnvelope) -> Result<Self, Error> {
        let payload = decode_lenient(&wire.payload).ok_or_else(|| Error::Base64 {
            field: "payload".to_owned(),
        })?;
        let signatures = wire
            .signatures
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let sig = decode_lenient(&s.sig).ok_or_else(|| Error::Base64 {
                    field: format!("signatures[{i}].sig"),
                })?;
                Ok(Signature {
                    keyid: s.keyid.unwrap_or_default(),
                    sig,
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok(Envelope {
            payload_type: wire.payload_type,
            payload,
            signatures,
        })
    }
}

fn push_member(out: &mut String, key: &str, value: &str) {
    // serde_json's string escaping matches Go's for every character these fields can hold.
    out.push_str(&serde_json::to_string(key).unwrap_or_default());
    out.push(':');
    out.push_str(&serde_json::to_string(value).unwrap_or_default());
}

const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// go-securesystemslib tries standard then URL-safe base64; protojson also accepts both, with
/// or without padding.
pub(crate) fn decode_lenient(text: &str) -> Option<Vec<u8>> {
    STANDARD_LENIENT
        .decode(text)
        .or_else(|_| URL_SAFE_LENIENT.decode(text))
        .ok()
}

/// The envelope's JSON shape, base64 fields still encoded.
#[derive(Deserialize)]
pub(crate) struct WireEnvelope {
    #[serde(rename = "payloadType", alias = "payload_type", default)]
    pub(crate) payload_type: String,
    #[serde(default)]
    pub(crate) payload: String,
    #[serde(default)]
    pub(crate) signatures: Vec<WireSignature>,
}

#[derive(Deserialize)]
pub(crate) struct WireSignature {
    #[serde(default)]
    pub(crate) keyid: Option<String>,
    #[serde(default)]
    pub(crate) sig: String,
}

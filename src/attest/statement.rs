//! in-toto statements: written byte for byte as cosign v3 `attest --type <URI>` writes them, read
//! as strictly as cosign's protojson reader.
//!
//! Not for: signing ([`super::dsse`]) or bundles ([`super::bundle`]). Reproduces
//! reference/cosign-attestations.md §5 (cosign `pkg/cosign/attestation/attestation.go`,
//! `generateCustomStatement`; in-toto `protos/in_toto_attestation/v1/statement.proto` and
//! `resource_descriptor.proto` under Go protojson): key order `_type`, `subject`,
//! `predicateType`, `predicate`; subject keys `name`, `uri`, `digest`, `content`,
//! `downloadLocation`, `mediaType`, `annotations`; empty fields omitted; the predicate as a
//! `google.protobuf.Struct` ([`json`]). Pure.

mod json;
mod name;
pub mod predicate_type;

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Map, Value};

pub use name::SubjectName;

/// `_type` cosign `attest` writes (v2 and v3).
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
/// `_type` of in-toto v1 statements (cosign v3 `sign`); verifiers accept both.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// The predicate type of an apko image configuration attestation.
pub const APKO_IMAGE_CONFIGURATION: &str = "https://apko.dev/image-configuration";

/// Why a statement, predicate, digest or image reference was rejected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An image reference go-containerregistry would not parse.
    #[error("invalid image reference {reference:?}: {what}")]
    Reference {
        /// The reference as given.
        reference: String,
        /// What is wrong with it.
        what: &'static str,
    },
    /// A digest is not `sha256:` followed by 64 lower-case hex digits.
    #[error("invalid image digest {digest:?}: expected sha256:<64 lower-case hex digits>")]
    Digest {
        /// The digest as given.
        digest: String,
    },
    /// The predicate is not a JSON object Go can decode into float64 numbers.
    #[error("predicate is not a JSON object")]
    Predicate {
        /// The JSON error (absent when the JSON was valid but not an object).
        #[source]
        source: Option<serde_json::Error>,
    },
    /// The statement is not valid JSON for the in-toto protobuf (unknown or duplicate field,
    /// wrong type).
    #[error("statement does not parse as an in-toto statement")]
    Statement {
        /// The parse error, naming the offending field.
        #[source]
        source: serde_json::Error,
    },
    /// A `--type` value that is neither a short name nor an absolute URI.
    #[error("invalid predicate type {value:?}: {what}")]
    PredicateType {
        /// The value given.
        value: String,
        /// What is wrong with it.
        what: &'static str,
    },
    /// A predicate file that is neither JSON nor YAML.
    #[error("predicate is neither JSON nor YAML")]
    PredicateYaml {
        /// The YAML parser's complaint.
        #[source]
        source: serde_yaml_ng::Error,
    },
    /// A subject's `content` is not base64.
    #[error("statement subject {index} has content that is not base64")]
    SubjectContent {
        /// The subject's position in the list.
        index: usize,
        /// The decoding failure.
        #[source]
        source: base64::DecodeError,
    },
}

/// The SHA-256 digest of an image manifest or index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256Digest([u8; 32]);

impl Sha256Digest {
    /// Parses `sha256:<64 lower-case hex digits>`, the form registries and cosign use.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = || Error::Digest {
            digest: text.to_owned(),
        };
        let hex_digits = text.strip_prefix("sha256:").ok_or_else(bad)?;
        if hex_digits.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(bad());
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_digits, &mut bytes).map_err(|_| bad())?;
        Ok(Sha256Digest(bytes))
    }

    /// Wraps raw digest bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Sha256Digest(bytes)
    }

    /// The 64 lower-case hex digits, as written into `digest.sha256`.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

/// A predicate as cosign sees it: a JSON object whose numbers are all float64.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Predicate {
    fields: Map<String, Value>,
    rounded: Vec<String>,
}

impl Predicate {
    /// Decodes a `--predicate` file the way cosign does (Go `encoding/json` into a generic map):
    /// it must be one JSON object; every number becomes the nearest float64.
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        let value: Value = serde_json::from_slice(json).map_err(|source| Error::Predicate {
            source: Some(source),
        })?;
        match value {
            Value::Object(fields) => Ok(Self::from_map(fields)),
            _ => Err(Error::Predicate { source: None }),
        }
    }

    /// Reads a `--predicate` file that is JSON (as cosign requires) or YAML (as apko
    /// configurations are): JSON is tried first, with cosign's number handling; otherwise the
    /// YAML document must be a mapping with string keys.
    pub fn from_json_or_yaml(text: &[u8]) -> Result<Self, Error> {
        match Self::from_json(text) {
            Ok(predicate) => Ok(predicate),
            Err(json_error) => {
                let value: Value = serde_yaml_ng::from_slice(text)
                    .map_err(|source| Error::PredicateYaml { source })?;
                match value {
                    Value::Object(fields) => Ok(Self::from_map(fields)),
                    _ => Err(json_error),
                }
            }
        }
    }

    /// Wraps an already parsed object, converting its numbers to float64.
    pub fn from_map(fields: Map<String, Value>) -> Self {
        let mut value = Value::Object(fields);
        let mut rounded = Vec::new();
        json::to_float64(&mut value, &mut String::new(), &mut rounded);
        let fields = match value {
            Value::Object(fields) => fields,
            _ => Map::new(),
        };
        Predicate { fields, rounded }
    }

    /// The object's fields (numbers already float64).
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// JSON pointers (RFC 6901) of integers float64 could not hold exactly, which cosign rounds
    /// silently (for example 9007199254740993 becomes 9007199254740992). Integers beyond the
    /// 64-bit range are rounded too but not listed.
    pub fn rounded_integers(&self) -> &[String] {
        &self.rounded
    }

    /// The predicate as protojson prints it: sorted keys, Go float formatting, compact.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        json::push_value(&mut out, &Value::Object(self.fields.clone()));
        out
    }
}

/// One subject: an in-toto v1 `ResourceDescriptor` (v0.1 subjects use only `name` and `digest`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Subject {
    /// The artifact's name; cosign writes the image repository ([`SubjectName`]).
    pub name: String,
    /// A URI for the artifact.
    pub uri: String,
    /// Algorithm → lower-case hex digest; cosign writes only `sha256`.
    pub digest: BTreeMap<String, String>,
    /// Inline content.
    pub content: Vec<u8>,
    /// Where to download the artifact.
    pub download_location: String,
    /// The artifact's media type.
    pub media_type: String,
    /// Free-form annotations.
    pub annotations: Option<Map<String, Value>>,
}

/// An in-toto statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// `_type`: [`STATEMENT_V01`] from `cosign attest`. Verifiers do not check it.
    pub statement_type: String,
    /// What the statement is about.
    pub subject: Vec<Subject>,
    /// The predicate's type URI, compared by exact string equality when filtering.
    pub predicate_type: String,
    /// The predicate (absent in the JSON reads as empty).
    pub predicate: Predicate,
}

impl Statement {
    /// The statement `cosign attest --type <predicate_type>` writes for an image: `_type` v0.1
    /// and one subject `{name, digest: {sha256}}`.
    pub fn for_image(
        name: &SubjectName,
        digest: &Sha256Digest,
        predicate_type: &str,
        predicate: Predicate,
    ) -> Self {
        Statement {
            statement_type: STATEMENT_V01.to_owned(),
            subject: vec![Subject {
                name: name.as_str().to_owned(),
                digest: BTreeMap::from([("sha256".to_owned(), digest.hex())]),
                ..Subject::default()
            }],
            predicate_type: predicate_type.to_owned(),
            predicate,
        }
    }

    /// Whether some subject carries this SHA-256 digest: the only subject check cosign makes.
    pub fn has_subject_digest(&self, digest: &Sha256Digest) -> bool {
        let hex = digest.hex();
        self.subject
            .iter()
            .any(|s| s.digest.get("sha256") == Some(&hex))
    }

    /// The statement as cosign v3 serialises it (protojson, without its random spaces).
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = String::from("{");
        let mut fields = Fields::new(&mut out);
        if !self.statement_type.is_empty() {
            fields.string("_type", &self.statement_type);
        }
        if !self.subject.is_empty() {
            let out = fields.key("subject");
            out.push('[');
            for (i, subject) in self.subject.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_subject(out, subject);
            }
            out.push(']');
        }
        if !self.predicate_type.is_empty() {
            fields.string("predicateType", &self.predicate_type);
        }
        fields.key("predicate").push_str(&self.predicate.to_json());
        out.push('}');
        out.into_bytes()
    }

    /// Parses a statement as protojson does: unknown or duplicate fields are errors, and both
    /// the JSON names (`predicateType`) and the proto names (`predicate_type`) are accepted.
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        let wire: WireStatement =
            serde_json::from_slice(json).map_err(|source| Error::Statement { source })?;
        let subject = wire
            .subject
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(index, s)| {
                let content = match s.content {
                    Some(text) => STANDARD
                        .decode(text)
                        .map_err(|source| Error::SubjectContent { index, source })?,
                    None => Vec::new(),
                };
                Ok(Subject {
                    name: s.name.unwrap_or_default(),
                    uri: s.uri.unwrap_or_default(),
                    digest: s.digest.unwrap_or_default(),
                    content,
                    download_location: s.download_location.unwrap_or_default(),
                    media_type: s.media_type.unwrap_or_default(),
                    annotations: s.annotations,
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok(Statement {
            statement_type: wire.statement_type.unwrap_or_default(),
            subject,
            predicate_type: wire.predicate_type.unwrap_or_default(),
            predicate: Predicate::from_map(wire.predicate.unwrap_or_default()),
        })
    }
}

fn push_subject(out: &mut String, subject: &Subject) {
    out.push('{');
    let mut fields = Fields::new(out);
    if !subject.name.is_empty() {
        fields.string("name", &subject.name);
    }
    if !subject.uri.is_empty() {
        fields.string("uri", &subject.uri);
    }
    if !subject.digest.is_empty() {
        let digest: Map<String, Value> = subject
            .digest
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        json::push_value(fields.key("digest"), &Value::Object(digest));
    }
    if !subject.content.is_empty() {
        fields.string("content", &STANDARD.encode(&subject.content));
    }
    if !subject.download_location.is_empty() {
        fields.string("downloadLocation", &subject.download_location);
    }
    if !subject.media_type.is_empty() {
        fields.string("mediaType", &subject.media_type);
    }
    if let Some(annotations) = &subject.annotations {
        json::push_value(
            fields.key("annotations"),
            &Value::Object(annotations.clone()),
        );
    }
    out.push('}');
}

/// Writes `"key":` pairs separated by commas into an object already opened.
struct Fields<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Fields<'a> {
    fn new(out: &'a mut String) -> Self {
        Fields { out, first: true }
    }

    fn key(&mut self, key: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        json::push_string(self.out, key);
        self.out.push(':');
        self.out
    }

    fn string(&mut self, key: &str, value: &str) {
        json::push_string(self.key(key), value);
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireStatement {
    #[serde(rename = "_type", alias = "type")]
    statement_type: Option<String>,
    subject: Option<Vec<WireSubject>>,
    #[serde(rename = "predicateType", alias = "predicate_type")]
    predicate_type: Option<String>,
    predicate: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireSubject {
    name: Option<String>,
    uri: Option<String>,
    digest: Option<BTreeMap<String, String>>,
    content: Option<String>,
    #[serde(rename = "downloadLocation", alias = "download_location")]
    download_location: Option<String>,
    #[serde(rename = "mediaType", alias = "media_type")]
    media_type: Option<String>,
    annotations: Option<Map<String, Value>>,
}

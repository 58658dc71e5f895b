//! One image's result in a catalogue audit: the JSON file written to the report directory,
//! atomically (a temporary file beside it, then a rename), one per catalogue entry.
//!
//! ```text
//! {
//!   "schemaVersion": 1,
//!   "image": STRING,                 // as the catalogue writes it
//!   "digest": DIGEST | null,         // what it resolved to; null when it could not be resolved
//!   "status": "identical" | "equivalent" | "different" | "error",
//!   "error": STRING,                 // status error only: the error and its causes, one per line
//!   "platforms": [STRING],           // the platforms asked for; [] for all
//!   "shard": "INDEX/COUNT",
//!   "startedAt": RFC3339, "seconds": NUMBER,
//!   "audit": AUDIT-REPORT,           // not for errors: the audit's --output json (crate::rebuild)
//!   "attestation": {"predicateType", "verificationResult", "manifest"} | {"error": STRING}
//! }
//! ```
//!
//! `error` is distinct from `different`: it means no verdict was reached (unreachable image,
//! attestation that does not verify, a rebuild that failed), not that the rebuild differs.
//!
//! Not for: deciding what to audit ([`super::run`]) or merging records ([`super::summary`]).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Version of the record schema.
pub const SCHEMA_VERSION: u32 = 1;

/// An image's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Rebuilt to the same bytes.
    Identical,
    /// Rebuilt; only compressed bytes differ.
    Equivalent,
    /// Rebuilt, and different.
    Different,
    /// No verdict: the image could not be resolved, verified or rebuilt.
    Error,
}

impl Status {
    /// `identical`, `equivalent`, `different` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Identical => "identical",
            Status::Equivalent => "equivalent",
            Status::Different => "different",
            Status::Error => "error",
        }
    }
}

impl From<crate::rebuild::Verdict> for Status {
    fn from(verdict: crate::rebuild::Verdict) -> Status {
        match verdict {
            crate::rebuild::Verdict::Identical => Status::Identical,
            crate::rebuild::Verdict::Equivalent => Status::Equivalent,
            crate::rebuild::Verdict::Different => Status::Different,
        }
    }
}

/// The verification summary attached for this image, or why it could not be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Attestation {
    /// Attached.
    Attached {
        /// `https://slsa.dev/verification_summary/v1`.
        #[serde(rename = "predicateType")]
        predicate_type: String,
        /// `PASSED` or `FAILED`.
        #[serde(rename = "verificationResult")]
        verification_result: String,
        /// The attestation manifest written.
        manifest: String,
    },
    /// Not attached.
    Failed {
        /// The error and its causes.
        error: String,
    },
}

/// One image's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// [`SCHEMA_VERSION`].
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    /// The image as the catalogue writes it.
    pub image: String,
    /// The digest it resolved to.
    pub digest: Option<String>,
    /// The outcome.
    pub status: Status,
    /// Why there is no verdict (status `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The platforms asked for (empty: all).
    #[serde(default)]
    pub platforms: Vec<String>,
    /// The shard that audited it.
    pub shard: String,
    /// When the audit started (RFC 3339, UTC).
    #[serde(rename = "startedAt")]
    pub started_at: String,
    /// How long it took.
    pub seconds: f64,
    /// The audit report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<serde_json::Value>,
    /// The verification summary attached, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<Attestation>,
}

/// Why a record cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing the file failed.
    #[error("{path}", path = path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a record.
    #[error("{path}: not a catalogue audit record", path = path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// The record file of `image` in `dir`: its reference with every character outside
/// `[A-Za-z0-9._-]` as `_`, then 8 hex digits of SHA-256(image) so that two references that
/// read alike never share a file.
pub fn path_in(dir: &Path, image: &str) -> PathBuf {
    use sha2::Digest as _;
    let readable: String = image
        .chars()
        .take(150)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let hash = sha2::Sha256::digest(image.as_bytes());
    dir.join(format!("{readable}-{}.json", hex::encode(&hash[..4])))
}

impl Record {
    /// Reads a record file.
    pub fn read(path: &Path) -> Result<Record, Error> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|source| Error::Json {
            path: path.to_owned(),
            source,
        })
    }

    /// Writes the record to `path` through a temporary file beside it, synced, then renamed:
    /// a reader (or a resumed run) sees the old record or the new one, never a part.
    pub fn write(&self, path: &Path) -> Result<(), Error> {
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut bytes = serde_json::to_vec_pretty(self).map_err(|source| Error::Json {
            path: path.to_owned(),
            source,
        })?;
        bytes.push(b'\n');
        let mut builder = tempfile::Builder::new();
        builder.prefix(".record-").suffix(".tmp");
        // Readable by the other pods and the report job sharing the volume (tempfile's 0600
        // would hide records from a reader running as another user).
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
        let mut temporary = builder.tempfile_in(dir).map_err(io)?;
        temporary.write_all(&bytes).map_err(io)?;
        temporary.as_file().sync_all().map_err(io)?;
        temporary.persist(path).map_err(|e| io(e.error))?;
        Ok(())
    }
}

//! Reading `.apk` v2 package files: gzip member splitting, byte ranges and integrity checks.
//!
//! An `.apk` is 2 or 3 concatenated gzip members: an optional signature tar (first entry
//! `.SIGN.*`), the control tar (`.PKGINFO`, scripts) and the data tar. [`PackageReader`] streams a
//! package from any `Read`; [`read_package`] reads a whole one from memory. Both expose the exact
//! byte range and digest of every member ([`Layout`], as `apko.lock.json` records them) and check
//! what apko checks: `datahash` against the data member, each regular file against its
//! `APK-TOOLS.checksum.SHA1` record, and, when the caller supplies the index's `C:`, the control
//! member. The per-package RSA signature can be checked on request. Tar entries are read by
//! [`crate::codec::tar::Reader`] (Go's `archive/tar` rules), so data entries come out as the
//! [`Header`]s the image builder writes back.
//!
//! Not for: `.PKGINFO` syntax ([`super::pkginfo`]), APKINDEX archives (`super::signed`),
//! writing packages ([`super::writer`]). Reproduces apko `pkg/apk/expandapk/expandapk.go` and
//! `split.go` (reference/apko-format.md §3.3, §5.1–5.3).

mod gzip;
mod signature;
mod stream;

use base64::Engine as _;

use super::package::Package;
use super::pkginfo::PkgInfo;

pub use crate::codec::tar::{EntryType, Header};
pub use signature::{Signature, SignatureAlgorithm};
pub use stream::PackageReader;

/// Why a package cannot be read or does not verify. `member` numbers count gzip members from 1.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the input failed.
    #[error("package {package}: read failed")]
    Io {
        /// The package (file name or `name-version`).
        package: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A member does not start with the gzip magic and deflate method.
    #[error("package {package}: gzip member {member} at byte {offset} is not gzip")]
    NotGzip {
        /// The package.
        package: String,
        /// The gzip member number.
        member: usize,
        /// Where the member should start.
        offset: u64,
    },
    /// A gzip header is malformed (over-long name, wrong header CRC).
    #[error("package {package}: gzip member {member} at byte {offset}: {what}")]
    GzipHeader {
        /// The package.
        package: String,
        /// The gzip member number.
        member: usize,
        /// Where the member starts.
        offset: u64,
        /// What is wrong.
        what: &'static str,
    },
    /// The file ends inside a gzip member.
    #[error("package {package}: truncated inside gzip member {member} (at byte {offset})")]
    Truncated {
        /// The package.
        package: String,
        /// The gzip member number.
        member: usize,
        /// How far the input went.
        offset: u64,
    },
    /// The deflate data of a member is invalid.
    #[error("package {package}: gzip member {member} is corrupt")]
    Corrupt {
        /// The package.
        package: String,
        /// The gzip member number.
        member: usize,
        /// The inflater's complaint.
        #[source]
        source: flate2::DecompressError,
    },
    /// A member's CRC-32 or length trailer does not match its content.
    #[error("package {package}: gzip member {member} fails its CRC-32/length trailer")]
    GzipChecksum {
        /// The package.
        package: String,
        /// The gzip member number.
        member: usize,
    },
    /// The control or data member is missing (a 1-member file, or a signature and no control).
    #[error("package {package}: gzip member {member} is missing")]
    MissingMember {
        /// The package.
        package: String,
        /// The gzip member number that should follow.
        member: usize,
    },
    /// A member decompresses to more than the limit (apko's defaults: 10 MiB / 16 GiB).
    #[error("package {package}: gzip member {member} decompresses to more than {limit} bytes")]
    TooLarge {
        /// The package.
        package: String,
        /// The gzip member number.
        member: usize,
        /// The limit in bytes.
        limit: u64,
    },
    /// A tar inside a member is malformed or ends early.
    #[error("package {package}: tar in gzip member {member}")]
    Tar {
        /// The package.
        package: String,
        /// The gzip member number.
        member: usize,
        /// The tar reader's complaint (offsets are within the decompressed tar).
        #[source]
        source: crate::codec::tar::Error,
    },
    /// The first member's tar holds no entry, so it is neither signature nor control.
    #[error("package {package}: gzip member {member} holds no tar entry")]
    NoEntries {
        /// The package.
        package: String,
        /// The gzip member number.
        member: usize,
    },
    /// The control tar has no `.PKGINFO`.
    #[error("package {package}: no .PKGINFO in the control member")]
    NoPkgInfo {
        /// The package.
        package: String,
    },
    /// `.PKGINFO` does not parse.
    #[error("package {package}: .PKGINFO")]
    PkgInfo {
        /// The package.
        package: String,
        /// The parse error.
        #[source]
        source: super::pkginfo::Error,
    },
    /// The control member's SHA-1 is not the expected `C:` checksum.
    #[error("package {package}: control checksum {actual} is not the expected {expected}")]
    ControlChecksum {
        /// The package.
        package: String,
        /// `Q1…` as the index or lock file says.
        expected: String,
        /// `Q1…` of the control member read.
        actual: String,
    },
    /// `datahash` in `.PKGINFO` is not hex.
    #[error("package {package}: datahash {value:?} is not hex")]
    DataHashFormat {
        /// The package.
        package: String,
        /// The value in `.PKGINFO`.
        value: String,
    },
    /// The data member's SHA-256 is not `.PKGINFO`'s `datahash`.
    #[error("package {package}: data hash {actual} is not datahash {expected}")]
    DataHash {
        /// The package.
        package: String,
        /// The `datahash` value (hex).
        expected: String,
        /// SHA-256 of the data member (hex).
        actual: String,
    },
    /// A regular file's `APK-TOOLS.checksum.SHA1` record is neither hex nor `Q1` + base64.
    #[error("package {package}: file {path}: checksum record {value:?} is malformed")]
    FileChecksumFormat {
        /// The package.
        package: String,
        /// The file's path in the data tar.
        path: String,
        /// The record's value.
        value: String,
    },
    /// A regular file's content does not match its `APK-TOOLS.checksum.SHA1` record.
    #[error("package {package}: file {path}: SHA-1 {actual} is not the recorded {expected}")]
    FileChecksum {
        /// The package.
        package: String,
        /// The file's path in the data tar.
        path: String,
        /// The recorded SHA-1 (hex).
        expected: String,
        /// SHA-1 of the content read (hex).
        actual: String,
    },
    /// A signature check was asked for a package without a signature member.
    #[error("package {package}: not signed")]
    Unsigned {
        /// The package.
        package: String,
    },
    /// No signature names a key that the lookup knows.
    #[error("package {package}: signed by unknown keys {keys:?}")]
    UnknownSigningKey {
        /// The package.
        package: String,
        /// The key names of the package's signatures.
        keys: Vec<String>,
    },
    /// The signature does not verify with the named key.
    #[error("package {package}: signature by {key} does not verify")]
    BadSignature {
        /// The package.
        package: String,
        /// The key name.
        key: String,
    },
}

/// Inclusive byte offsets of a member inside the `.apk` file (`bytes=first-last` in lock files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ByteRange {
    /// Offset of the first byte.
    pub first: u64,
    /// Offset of the last byte.
    pub last: u64,
}

impl ByteRange {
    /// Number of bytes.
    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    /// Never true: a gzip member has at least 18 bytes.
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl std::fmt::Display for ByteRange {
    /// `bytes=first-last`, the HTTP range form apko writes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bytes={}-{}", self.first, self.last)
    }
}

/// A SHA-1 digest (signature and control members).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha1Digest(pub [u8; 20]);

impl Sha1Digest {
    /// `Q1` + base64, the APKINDEX `C:` form.
    pub fn q1(&self) -> String {
        format!(
            "Q1{}",
            base64::engine::general_purpose::STANDARD.encode(self.0)
        )
    }

    /// `sha1-` + base64, the lock file form.
    pub fn lock_checksum(&self) -> String {
        format!(
            "sha1-{}",
            base64::engine::general_purpose::STANDARD.encode(self.0)
        )
    }

    /// Lower-case hex.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// A SHA-256 digest (data member).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    /// `sha256-` + base64, the lock file form.
    pub fn lock_checksum(&self) -> String {
        format!(
            "sha256-{}",
            base64::engine::general_purpose::STANDARD.encode(self.0)
        )
    }

    /// Lower-case hex, the `.PKGINFO` `datahash` form.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// One gzip member: where it is and what it hashes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Member<D> {
    /// Its bytes in the file.
    pub range: ByteRange,
    /// Digest of those raw (compressed) bytes.
    pub digest: D,
    /// Length of the decompressed content (for the data member: of all members to end of file).
    pub uncompressed: u64,
}

/// Where each member of a package is, with its digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Layout {
    /// The signature member (absent for unsigned packages).
    pub signature: Option<Member<Sha1Digest>>,
    /// The control member; its SHA-1 is the `C:` checksum.
    pub control: Member<Sha1Digest>,
    /// The data member (to end of file); its SHA-256 is `datahash`.
    pub data: Member<Sha256Digest>,
}

impl Layout {
    /// Size of the whole file (the APKINDEX `S:`).
    pub fn size(&self) -> u64 {
        self.data.range.last + 1
    }
}

/// Decompression limits against gzip bombs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes the signature or control member may decompress to.
    pub control: u64,
    /// Most bytes the data member may decompress to.
    pub data: u64,
}

impl Default for Limits {
    /// apko's defaults: 10 MiB control, 16 GiB data.
    fn default() -> Self {
        Limits {
            control: 10 << 20,
            data: 16 << 30,
        }
    }
}

/// The PAX record holding a file's SHA-1 (hex, or `Q1` + base64).
pub const CHECKSUM_RECORD: &str = "APK-TOOLS.checksum.SHA1";

/// A tar entry with its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// The header as Go's `archive/tar` reads it (PAX records applied, format guessed).
    pub header: Header,
    /// The content (empty for links, directories, devices and FIFOs).
    pub content: Vec<u8>,
}

/// A whole package, read and verified (except `C:` and the signature, which need outside
/// knowledge: see [`ApkFile::verify_control`] and [`ApkFile::verify_signature`]).
#[derive(Debug, Clone)]
pub struct ApkFile {
    /// The name used in errors.
    pub package: String,
    /// Member ranges and digests.
    pub layout: Layout,
    /// The signature entries (empty when unsigned).
    pub signatures: Vec<Signature>,
    /// The raw control member (what signatures sign).
    pub control_raw: Vec<u8>,
    /// The decompressed control tar.
    pub control_tar: Vec<u8>,
    /// The control tar's entries with content.
    pub control_entries: Vec<FileEntry>,
    /// The parsed `.PKGINFO`.
    pub pkginfo: PkgInfo,
    /// The data tar's entries with content, in archive order.
    pub files: Vec<FileEntry>,
}

impl ApkFile {
    /// The package record as an index would describe it: `.PKGINFO` plus `C:` and `S:`.
    pub fn package_record(&self) -> Package {
        Package {
            checksum: self.layout.control.digest.0.to_vec(),
            size: self.layout.size(),
            ..self.pkginfo.package.clone()
        }
    }

    /// Checks the control member against the expected `C:` checksum (SHA-1 bytes).
    pub fn verify_control(&self, expected: &[u8]) -> Result<(), Error> {
        check_control(&self.package, &self.layout.control.digest, expected)
    }

    /// Checks the per-package signature with keys found by file name.
    pub fn verify_signature<'k>(
        &self,
        lookup: impl Fn(&str) -> Option<&'k rsa::PublicKey>,
    ) -> Result<&Signature, Error> {
        signature::verify_any(&self.package, &self.signatures, &self.control_raw, lookup)
    }
}

/// The `C:` check shared by [`ApkFile`] and [`PackageReader`].
fn check_control(package: &str, actual: &Sha1Digest, expected: &[u8]) -> Result<(), Error> {
    if expected == actual.0.as_slice() {
        return Ok(());
    }
    Err(Error::ControlChecksum {
        package: package.to_owned(),
        expected: format!(
            "Q1{}",
            base64::engine::general_purpose::STANDARD.encode(expected)
        ),
        actual: actual.q1(),
    })
}

/// Reads and verifies a whole package held in memory.
pub fn read_package(bytes: &[u8], package: &str) -> Result<ApkFile, Error> {
    let mut reader = PackageReader::open(bytes, package, Limits::default())?;
    let mut files = Vec::new();
    while let Some(header) = reader.next_entry()? {
        let mut content = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let count = reader.read_content(&mut chunk)?;
            if count == 0 {
                break;
            }
            content.extend_from_slice(chunk.get(..count).unwrap_or_default());
        }
        files.push(FileEntry { header, content });
    }
    let signatures = reader.signatures().to_vec();
    let control_raw = reader.control_raw().to_vec();
    let control_tar = reader.control_tar().to_vec();
    let control_entries = reader.control_entries().to_vec();
    let pkginfo = reader.pkginfo().clone();
    let layout = reader.finish()?;
    Ok(ApkFile {
        package: package.to_owned(),
        layout,
        signatures,
        control_raw,
        control_tar,
        control_entries,
        pkginfo,
        files,
    })
}

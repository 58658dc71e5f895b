//! The installed database apko writes while installing packages: one record per package in
//! `usr/lib/apk/db/installed`, the package's scripts appended to `usr/lib/apk/db/scripts.tar`,
//! and its triggers appended to `usr/lib/apk/db/triggers`.
//!
//! Inputs are values: the package record from `.PKGINFO` (with the control checksum and file
//! size filled in) and the data tar's entries as [`FileEntry`]s; outputs are the bytes to
//! append. [`parse`] reads a database back, apko's records and apk-tools' alike.
//!
//! Not for: reading `.apk` files ([`super::archive`]), parsing `.PKGINFO` ([`super::pkginfo`]),
//! deciding which package owns a file or placing files in the root filesystem (`build`).
//!
//! Reproduces reference/apko-format.md §6.4 (apko `pkg/apk/apk/installed.go`, `package.go`
//! `PackageToInstalled`), with apko's quirks: the Go-list `i:[]` line, `D:`/`p:` always
//! written, `r:` only when non-empty, the bare `F:` before top-level files, `M:`/`a:` omitted
//! for default ownership and modes, pathCompare order with orphans dropped, and a blank line
//! after every record.

mod order;
mod parse;
mod record;
mod scripts;

pub use parse::{Record, parse};
pub use record::record;
pub use scripts::{append_scripts, trigger_lines};

use crate::codec::tar;

/// The PAX record in which packages carry a file's SHA-1 (hex, or `Q1` + base64).
pub const CHECKSUM_RECORD: &str = "APK-TOOLS.checksum.SHA1";

/// What the installed database distinguishes about a file: directories (`F:` lines) and
/// everything else (`R:` lines: regular files, symlinks, hard links, devices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A directory.
    Directory,
    /// Any other entry.
    File,
}

/// One entry of a package's data tar, as the installed database needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// The path as the tar header names it (directories may end in `/`).
    pub path: String,
    /// Directory or not.
    pub kind: EntryKind,
    /// Mode bits from the tar header (only `mode & 0o7777` is recorded).
    pub mode: i64,
    /// Owner user id from the tar header.
    pub uid: i64,
    /// Owner group id from the tar header.
    pub gid: i64,
    /// The `APK-TOOLS.checksum.SHA1` PAX value: hex, or already `Q1` + base64.
    pub checksum: Option<String>,
}

impl FileEntry {
    /// The entry for a data-tar header.
    pub fn from_tar_header(header: &tar::Header) -> Result<FileEntry, Error> {
        let text = |bytes: &[u8]| {
            String::from_utf8(bytes.to_vec()).map_err(|_| Error::NonUtf8 {
                path: String::from_utf8_lossy(&header.name).into_owned(),
            })
        };
        Ok(FileEntry {
            path: text(&header.name)?,
            kind: if header.typeflag == tar::EntryType::DIRECTORY {
                EntryKind::Directory
            } else {
                EntryKind::File
            },
            mode: header.mode,
            uid: header.uid,
            gid: header.gid,
            checksum: header
                .pax_records
                .get(CHECKSUM_RECORD)
                .map(text)
                .transpose()?,
        })
    }
}

/// Why a database record cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// apko refuses a record with an empty `P:`, which its reader would drop.
    #[error("refusing to record a package with an empty name")]
    NamelessPackage,
    /// The top-level directory cannot carry an `M:` line: apko's reader rejects it.
    #[error(
        "{package}: the top-level directory entry {path:?} has mode {mode:04o}, uid {uid}, gid {gid}, which the installed database cannot express"
    )]
    TopLevelOwnership {
        /// The package.
        package: String,
        /// The entry's path.
        path: String,
        /// `mode & 0o7777`.
        mode: i64,
        /// Owner user id.
        uid: i64,
        /// Owner group id.
        gid: i64,
    },
    /// A file's checksum is neither `Q1…` nor hex.
    #[error("{package}: checksum of {path} is not hex")]
    Checksum {
        /// The package.
        package: String,
        /// The file.
        path: String,
        /// The decoding error.
        #[source]
        source: hex::FromHexError,
    },
    /// A path or PAX value is not UTF-8.
    #[error("{path}: not UTF-8")]
    NonUtf8 {
        /// The path, lossily decoded.
        path: String,
    },
    /// A database line is malformed.
    #[error("line {line}: {what}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// A number in a database line does not parse.
    #[error("line {line}: {field} is not a number")]
    Number {
        /// 1-based line number.
        line: usize,
        /// The field (`t:`, `S:`, `M:` uid, …).
        field: &'static str,
        /// The parse error.
        #[source]
        source: std::num::ParseIntError,
    },
    /// A `C:` checksum is not base64.
    #[error("line {line}: C: checksum is not base64")]
    Base64 {
        /// 1-based line number.
        line: usize,
        /// The decoding error.
        #[source]
        source: base64::DecodeError,
    },
    /// The control tar cannot be read or the scripts cannot be written.
    #[error("{package}: scripts.tar")]
    Scripts {
        /// The package.
        package: String,
        /// The tar error.
        #[source]
        source: tar::Error,
    },
}

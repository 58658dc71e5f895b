//! Tar streams byte for byte as Go's `archive/tar` writes and reads them.
//!
//! [`Writer`] emits exactly the blocks Go's `tar.Writer` emits for the same [`Header`]: format
//! selection (USTAR when possible, then PAX, then GNU, or the format a header read back asks
//! for), USTAR prefix splitting, PAX extended headers named `<dir>/PaxHeaders.0/<base>` with
//! sorted records, GNU long names, octal and base-256 numbers, the checksum field, 512-byte
//! padding and the two zero blocks at the end. [`Reader`] parses a stream the way Go's
//! `tar.Reader` does, including its guess of each header's [`Format`], so that headers read
//! from a package and written again come out as apko writes them. File data is streamed, never
//! buffered whole; [`HashingWriter`] yields the SHA-256 (the layer's diff_id) and size of
//! everything written through it.
//!
//! Pure: bytes in, bytes out, through `std::io::{Read, Write}` handed in by the caller.
//!
//! Not for: deciding what goes into a layer or in which order (the root filesystem, `build`),
//! compression (`compress`), reading `.apk` packages (`apk::archive`).
//!
//! Reproduces reference/apko-format.md §7.4–§7.6 (Go `archive/tar`: `writer.go`, `reader.go`,
//! `common.go` `allowedFormats`, `format.go`, `strconv.go`). Sparse files are not supported.

mod block;
mod hashing;
mod pax;
mod reader;
mod writer;

pub use hashing::{Hashed, HashingWriter};
pub use reader::Reader;
pub use writer::Writer;

use std::collections::BTreeMap;

/// The type of a tar entry (Go's `Header.Typeflag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EntryType(pub u8);

impl EntryType {
    /// `0`: a regular file.
    pub const REGULAR: EntryType = EntryType(b'0');
    /// NUL: the legacy regular-file flag; written as [`Self::DIRECTORY`] when the name ends in
    /// `/`, [`Self::REGULAR`] otherwise.
    pub const REGULAR_LEGACY: EntryType = EntryType(0);
    /// `1`: a hard link to `linkname`.
    pub const HARDLINK: EntryType = EntryType(b'1');
    /// `2`: a symbolic link to `linkname`.
    pub const SYMLINK: EntryType = EntryType(b'2');
    /// `3`: a character device.
    pub const CHAR_DEVICE: EntryType = EntryType(b'3');
    /// `4`: a block device.
    pub const BLOCK_DEVICE: EntryType = EntryType(b'4');
    /// `5`: a directory.
    pub const DIRECTORY: EntryType = EntryType(b'5');
    /// `6`: a FIFO.
    pub const FIFO: EntryType = EntryType(b'6');
    /// `g`: PAX records for all following entries (only the records and the name are used).
    pub const PAX_GLOBAL: EntryType = EntryType(b'g');

    /// Whether entries of this type carry no data whatever their size says (Go's
    /// `isHeaderOnlyType`).
    pub fn is_header_only(self) -> bool {
        matches!(self.0, b'1'..=b'6')
    }
}

impl Default for EntryType {
    fn default() -> Self {
        EntryType::REGULAR
    }
}

/// A point in time as Go's `time.Time` holds it: Unix seconds plus nanoseconds in
/// `0..1_000_000_000`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    /// Seconds since the Unix epoch (floor for negative times).
    pub seconds: i64,
    /// Nanoseconds within the second, always below one billion.
    pub nanos: u32,
}

impl Timestamp {
    /// A whole-second time.
    pub fn from_seconds(seconds: i64) -> Timestamp {
        Timestamp { seconds, nanos: 0 }
    }

    /// Normalises like Go's `time.Unix(sec, nsec)`: `nanos` may be out of range or negative.
    pub fn from_parts(seconds: i64, nanos: i64) -> Timestamp {
        const BILLION: i64 = 1_000_000_000;
        let seconds = seconds.saturating_add(nanos.div_euclid(BILLION));
        let nanos = nanos.rem_euclid(BILLION);
        Timestamp {
            seconds,
            nanos: u32::try_from(nanos).unwrap_or(0),
        }
    }

    /// Rounds to the nearest second, halves up, as `time.Round(time.Second)` does.
    pub fn round_to_second(self) -> Timestamp {
        if self.nanos >= 500_000_000 {
            Timestamp::from_seconds(self.seconds.saturating_add(1))
        } else {
            Timestamp::from_seconds(self.seconds)
        }
    }
}

/// The header format: set by [`Reader`] as Go's best guess, or chosen by the caller.
///
/// [`Format::Unknown`] lets the writer pick (USTAR, then PAX, then GNU), rounds the
/// modification time to whole seconds and drops access and change times, as Go does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// No format requested.
    #[default]
    Unknown,
    /// POSIX.1-1988 USTAR.
    Ustar,
    /// POSIX.1-2001 PAX (USTAR plus extended headers).
    Pax,
    /// GNU tar's format.
    Gnu,
}

/// PAX extended-header records, kept sorted by key bytes (the order Go writes them in).
///
/// Keys and values are bytes, as Go strings are. Besides the standard keys, apko meets
/// `SCHILY.xattr.<name>` (extended attributes) and `APK-TOOLS.checksum.SHA1` (per-file SHA-1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PaxRecords(BTreeMap<Vec<u8>, Vec<u8>>);

impl PaxRecords {
    /// No records.
    pub fn new() -> PaxRecords {
        PaxRecords::default()
    }

    /// The value recorded under `key`.
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        self.0.get(key.as_bytes()).map(Vec::as_slice)
    }

    /// Records `value` under `key`, replacing an earlier value.
    pub fn insert(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.0.insert(key.into(), value.into());
    }

    /// Removes the record under `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Vec<u8>> {
        self.0.remove(key.as_bytes())
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The records in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.0.iter().map(|(k, v)| (k.as_slice(), v.as_slice()))
    }

    fn get_bytes(&self, key: &[u8]) -> Option<&[u8]> {
        self.0.get(key).map(Vec::as_slice)
    }
}

impl<K: Into<Vec<u8>>, V: Into<Vec<u8>>> FromIterator<(K, V)> for PaxRecords {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        PaxRecords(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

/// One tar entry's metadata, with the fields of Go's `tar.Header`.
///
/// Strings are bytes, as in Go. Numbers are signed 64-bit like Go's (`Uid`/`Gid` are Go `int`s,
/// 64 bits wide on every platform apko ships for).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Header {
    /// Entry type.
    pub typeflag: EntryType,
    /// Path inside the archive.
    pub name: Vec<u8>,
    /// Target of a hard or symbolic link.
    pub linkname: Vec<u8>,
    /// Data size in bytes; header-only types ([`EntryType::is_header_only`]) carry no data.
    pub size: i64,
    /// Permission and mode bits.
    pub mode: i64,
    /// Owner user id.
    pub uid: i64,
    /// Owner group id.
    pub gid: i64,
    /// Owner user name.
    pub uname: Vec<u8>,
    /// Owner group name.
    pub gname: Vec<u8>,
    /// Modification time (Go's zero time and the epoch are written alike, as 0).
    pub mtime: Timestamp,
    /// Access time; `None` is Go's zero time (not written).
    pub atime: Option<Timestamp>,
    /// Change time; `None` is Go's zero time (not written).
    pub ctime: Option<Timestamp>,
    /// Device major number.
    pub devmajor: i64,
    /// Device minor number.
    pub devminor: i64,
    /// PAX records; those for fields above are only kept when they agree with the field.
    pub pax_records: PaxRecords,
    /// Requested format (writing) or Go's guess (reading).
    pub format: Format,
}

/// Why a tar stream cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Go's `allowedFormats` rejects the header.
    #[error("{entry}: cannot encode tar header: {reason}")]
    Unencodable {
        /// The entry's name.
        entry: String,
        /// What cannot be encoded.
        reason: &'static str,
    },
    /// The content reader ended before `size` bytes.
    #[error("{entry}: content ended after {written} of {size} bytes")]
    ContentTooShort {
        /// The entry's name.
        entry: String,
        /// The size the header announced.
        size: u64,
        /// Bytes that could be read.
        written: u64,
    },
    /// Reading an entry's content failed.
    #[error("{entry}: reading content")]
    ReadContent {
        /// The entry's name.
        entry: String,
        /// The reader's error.
        #[source]
        source: std::io::Error,
    },
    /// The output refused bytes.
    #[error("writing the tar stream")]
    Write {
        /// The writer's error.
        #[source]
        source: std::io::Error,
    },
    /// The input failed.
    #[error("reading the tar stream at offset {offset}")]
    Read {
        /// Byte offset in the stream.
        offset: u64,
        /// The reader's error.
        #[source]
        source: std::io::Error,
    },
    /// A header block (or PAX or GNU long-name data) is malformed.
    #[error("invalid tar header at offset {offset}: {what}")]
    InvalidHeader {
        /// Byte offset of the header block in the stream.
        offset: u64,
        /// What is wrong.
        what: &'static str,
    },
    /// The stream ends in the middle of a block or an entry.
    #[error("tar stream truncated at offset {offset}")]
    Truncated {
        /// Byte offset where data was missing.
        offset: u64,
    },
    /// The entry is a GNU or PAX sparse file.
    #[error("{entry}: sparse files are not supported")]
    Sparse {
        /// The entry's name.
        entry: String,
    },
}

fn display_name(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

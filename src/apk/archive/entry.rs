//! Tar headers as Go's `archive/tar` decodes them: one 512-byte block into an [`Entry`], PAX
//! records, numbers (octal or base-256), the header checksum and format detection.
//!
//! Not for: walking an archive ([`super::tar`]). Reproduces Go `archive/tar` `reader.go`
//! (`readHeader`, `parsePAX`, `parsePAXRecord`, `mergePAX`, `parsePAXTime`), `strconv.go`
//! (`parseNumeric`, `parseOctal`) and `format.go` (`getFormat`, `computeChecksum`).

use std::collections::BTreeMap;

pub(super) const BLOCK: usize = 512;
const CHECKSUM_RECORD: &str = "APK-TOOLS.checksum.SHA1";
const XATTR_PREFIX: &str = "SCHILY.xattr.";

/// What a tar entry is (its type flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// `0` (and the legacy `\0` without a trailing slash).
    Regular,
    /// `1`: a hard link to `link_target`.
    Hardlink,
    /// `2`: a symbolic link to `link_target`.
    Symlink,
    /// `3`
    CharDevice,
    /// `4`
    BlockDevice,
    /// `5` (and the legacy `\0` with a trailing slash).
    Directory,
    /// `6`
    Fifo,
    /// Any other type flag, e.g. `g` (a PAX global header, returned as an entry as Go does).
    Other(u8),
}

impl EntryKind {
    pub(super) fn from_flag(flag: u8) -> EntryKind {
        match flag {
            b'0' => EntryKind::Regular,
            b'1' => EntryKind::Hardlink,
            b'2' => EntryKind::Symlink,
            b'3' => EntryKind::CharDevice,
            b'4' => EntryKind::BlockDevice,
            b'5' => EntryKind::Directory,
            b'6' => EntryKind::Fifo,
            other => EntryKind::Other(other),
        }
    }

    /// The tar type flag byte.
    pub fn flag(self) -> u8 {
        match self {
            EntryKind::Regular => b'0',
            EntryKind::Hardlink => b'1',
            EntryKind::Symlink => b'2',
            EntryKind::CharDevice => b'3',
            EntryKind::BlockDevice => b'4',
            EntryKind::Directory => b'5',
            EntryKind::Fifo => b'6',
            EntryKind::Other(flag) => flag,
        }
    }

    /// Go's `isHeaderOnlyType`: the header's size field does not describe content.
    pub(super) fn header_only(self) -> bool {
        matches!(
            self,
            EntryKind::Hardlink
                | EntryKind::Symlink
                | EntryKind::CharDevice
                | EntryKind::BlockDevice
                | EntryKind::Directory
                | EntryKind::Fifo
        )
    }
}

/// One tar header, with PAX and GNU extensions applied (Go's `tar.Header`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The path as stored (`usr/bin/x`, no leading `./` in apk packages).
    pub path: String,
    /// The entry type.
    pub kind: EntryKind,
    /// The mode field (permission, setuid/setgid/sticky bits).
    pub mode: i64,
    /// Owner id.
    pub uid: i64,
    /// Group id.
    pub gid: i64,
    /// Owner name.
    pub uname: String,
    /// Group name.
    pub gname: String,
    /// Modification time, Unix seconds.
    pub mtime: i64,
    /// Sub-second part of the modification time (only PAX `mtime` can carry one).
    pub mtime_nanos: u32,
    /// The size field; content length is 0 for links, directories, devices and FIFOs.
    pub size: u64,
    /// Target of a symlink or hard link.
    pub link_target: String,
    /// Device major number.
    pub dev_major: i64,
    /// Device minor number.
    pub dev_minor: i64,
    /// Every PAX record of the entry's `x` header (later duplicates win, as in Go).
    pub pax: BTreeMap<String, Vec<u8>>,
}

impl Entry {
    /// The `APK-TOOLS.checksum.SHA1` PAX record, as written (hex, or `Q1` + base64).
    pub fn checksum_record(&self) -> Option<&[u8]> {
        self.pax.get(CHECKSUM_RECORD).map(Vec::as_slice)
    }

    /// Extended attributes (`SCHILY.xattr.<name>` records with a non-empty value), by name.
    pub fn xattrs(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.pax.iter().filter_map(|(key, value)| {
            let name = key.strip_prefix(XATTR_PREFIX)?;
            (!value.is_empty()).then_some((name, value.as_slice()))
        })
    }

    /// Bytes of content that follow the header.
    pub fn content_len(&self) -> u64 {
        if self.kind.header_only() {
            0
        } else {
            self.size
        }
    }
}

pub(super) fn blank_entry() -> Entry {
    Entry {
        path: String::new(),
        kind: EntryKind::Regular,
        mode: 0,
        uid: 0,
        gid: 0,
        uname: String::new(),
        gname: String::new(),
        mtime: 0,
        mtime_nanos: 0,
        size: 0,
        link_target: String::new(),
        dev_major: 0,
        dev_minor: 0,
        pax: BTreeMap::new(),
    }
}

fn field(block: &[u8; BLOCK], start: usize, length: usize) -> &[u8] {
    block.get(start..start + length).unwrap_or_default()
}

pub(super) fn until_nul(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == 0) {
        Some(end) => bytes.get(..end).unwrap_or_default(),
        None => bytes,
    }
}

pub(super) fn text(bytes: &[u8]) -> Result<String, &'static str> {
    String::from_utf8(bytes.to_vec()).map_err(|_| "name is not UTF-8")
}

/// Go's `parser.parseNumeric`: base-256 when the high bit is set, octal otherwise.
fn numeric(bytes: &[u8]) -> Result<i64, &'static str> {
    const INVALID: &str = "invalid number in header";
    if let Some(&first) = bytes.first().filter(|&&b| b & 0x80 != 0) {
        let invert = if first & 0x40 != 0 { 0xff } else { 0 };
        let mut value: u64 = 0;
        for (index, &byte) in bytes.iter().enumerate() {
            let mut byte = byte ^ invert;
            if index == 0 {
                byte &= 0x7f;
            }
            if value >> 56 > 0 {
                return Err(INVALID);
            }
            value = value << 8 | u64::from(byte);
        }
        let value = i64::try_from(value).map_err(|_| INVALID)?;
        return Ok(if invert == 0xff { !value } else { value });
    }
    let start = bytes.iter().position(|&b| b != b' ' && b != 0);
    let end = bytes.iter().rposition(|&b| b != b' ' && b != 0);
    let (Some(start), Some(end)) = (start, end) else {
        return Ok(0);
    };
    let digits = until_nul(bytes.get(start..=end).unwrap_or_default());
    let digits = std::str::from_utf8(digits).map_err(|_| INVALID)?;
    if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return Err(INVALID);
    }
    let value = u64::from_str_radix(digits, 8).map_err(|_| INVALID)?;
    // Go returns int64(x): an octal value above 2^63 wraps.
    Ok(i64::from_ne_bytes(value.to_ne_bytes()))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    V7,
    Ustar,
    Gnu,
    Star,
}

/// Go's `readHeader` for one block (before PAX and long names are applied).
pub(super) fn parse_header(block: &[u8; BLOCK]) -> Result<Entry, &'static str> {
    let stored = numeric(field(block, 148, 8)).map_err(|_| "header checksum mismatch")?;
    let (mut unsigned, mut signed) = (0i64, 0i64);
    for (index, &byte) in block.iter().enumerate() {
        let byte = if (148..156).contains(&index) {
            b' '
        } else {
            byte
        };
        unsigned += i64::from(byte);
        signed += i64::from(i8::from_ne_bytes([byte]));
    }
    if stored != unsigned && stored != signed {
        return Err("header checksum mismatch");
    }
    let magic = field(block, 257, 6);
    let format = if magic == b"ustar\0" && field(block, 508, 4) == b"tar\0" {
        Format::Star
    } else if magic == b"ustar\0" {
        Format::Ustar
    } else if magic == b"ustar " && field(block, 263, 2) == b" \0" {
        Format::Gnu
    } else {
        Format::V7
    };
    let mut entry = blank_entry();
    entry.kind = EntryKind::from_flag(block[156]);
    entry.path = text(until_nul(field(block, 0, 100)))?;
    entry.link_target = text(until_nul(field(block, 157, 100)))?;
    let size = numeric(field(block, 124, 12))?;
    entry.size = u64::try_from(size).map_err(|_| "negative size")?;
    entry.mode = numeric(field(block, 100, 8))?;
    entry.uid = numeric(field(block, 108, 8))?;
    entry.gid = numeric(field(block, 116, 8))?;
    entry.mtime = numeric(field(block, 136, 12))?;
    if format == Format::V7 {
        return Ok(entry);
    }
    entry.uname = text(until_nul(field(block, 265, 32)))?;
    entry.gname = text(until_nul(field(block, 297, 32)))?;
    entry.dev_major = numeric(field(block, 329, 8))?;
    entry.dev_minor = numeric(field(block, 337, 8))?;
    let prefix = match format {
        Format::Ustar => until_nul(field(block, 345, 155)),
        Format::Star => {
            numeric(field(block, 476, 12))?;
            numeric(field(block, 488, 12))?;
            until_nul(field(block, 345, 131))
        }
        Format::Gnu | Format::V7 => &[],
    };
    if !prefix.is_empty() {
        entry.path = format!("{}/{}", text(prefix)?, entry.path);
    }
    Ok(entry)
}

/// Go's `parsePAX`: `<length> <key>=<value>\n` records.
pub(super) fn parse_pax(data: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, &'static str> {
    const INVALID: &str = "invalid PAX record";
    let mut records = BTreeMap::new();
    let mut rest = data;
    while !rest.is_empty() {
        let space = rest.iter().position(|&b| b == b' ').ok_or(INVALID)?;
        let length_text =
            std::str::from_utf8(rest.get(..space).unwrap_or_default()).map_err(|_| INVALID)?;
        let length: i64 = length_text.parse().map_err(|_| INVALID)?;
        let length = usize::try_from(length).map_err(|_| INVALID)?;
        if length < 5 || length > rest.len() || length <= space + 1 {
            return Err(INVALID);
        }
        let record = rest.get(space + 1..length - 1).ok_or(INVALID)?;
        if rest.get(length - 1) != Some(&b'\n') {
            return Err(INVALID);
        }
        let equals = record.iter().position(|&b| b == b'=').ok_or(INVALID)?;
        let key = record.get(..equals).unwrap_or_default();
        let value = record.get(equals + 1..).unwrap_or_default();
        let nul_checked = match key {
            b"path" | b"linkpath" | b"uname" | b"gname" => value,
            _ => key,
        };
        if key.is_empty() || nul_checked.contains(&0) {
            return Err(INVALID);
        }
        if key.starts_with(b"GNU.sparse.") {
            return Err("sparse files are not supported");
        }
        let key = String::from_utf8(key.to_vec()).map_err(|_| INVALID)?;
        records.insert(key, value.to_vec());
        rest = rest.get(length..).unwrap_or_default();
    }
    Ok(records)
}

/// Go's `mergePAX`: records with a non-empty value override header fields.
pub(super) fn merge_pax(
    entry: &mut Entry,
    records: &BTreeMap<String, Vec<u8>>,
) -> Result<(), &'static str> {
    const INVALID: &str = "invalid PAX record";
    for (key, value) in records {
        if value.is_empty() {
            continue;
        }
        let value_text = || std::str::from_utf8(value).map_err(|_| INVALID);
        let number =
            || -> Result<i64, &'static str> { value_text()?.parse::<i64>().map_err(|_| INVALID) };
        match key.as_str() {
            "path" => entry.path = value_text()?.to_owned(),
            "linkpath" => entry.link_target = value_text()?.to_owned(),
            "uname" => entry.uname = value_text()?.to_owned(),
            "gname" => entry.gname = value_text()?.to_owned(),
            "uid" => entry.uid = number()?,
            "gid" => entry.gid = number()?,
            "size" => entry.size = u64::try_from(number()?).map_err(|_| INVALID)?,
            "mtime" => (entry.mtime, entry.mtime_nanos) = pax_time(value_text()?)?,
            "atime" | "ctime" => {
                pax_time(value_text()?)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Go's `parsePAXTime`: `seconds[.fraction]`, fraction cut to nanoseconds.
fn pax_time(value: &str) -> Result<(i64, u32), &'static str> {
    const INVALID: &str = "invalid PAX time";
    let (seconds_text, fraction) = value.split_once('.').unwrap_or((value, ""));
    let seconds: i64 = seconds_text.parse().map_err(|_| INVALID)?;
    if fraction.is_empty() {
        return Ok((seconds, 0));
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(INVALID);
    }
    let digits: String = fraction
        .chars()
        .chain(std::iter::repeat('0'))
        .take(9)
        .collect();
    let nanos: i64 = digits.parse().map_err(|_| INVALID)?;
    let nanos = if seconds_text.starts_with('-') {
        -nanos
    } else {
        nanos
    };
    // time.Unix normalises a negative nanosecond part into the previous second.
    let seconds = seconds + nanos.div_euclid(1_000_000_000);
    let nanos = u32::try_from(nanos.rem_euclid(1_000_000_000)).map_err(|_| INVALID)?;
    Ok((seconds, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_octal_or_base_256() {
        assert_eq!(numeric(b"0000644\0"), Ok(0o644));
        assert_eq!(numeric(b"  755 \0"), Ok(0o755));
        assert_eq!(numeric(b"\0\0\0\0"), Ok(0));
        assert_eq!(numeric(&[0x80, 0, 0, 0, 0, 0, 0x01, 0x00]), Ok(256));
        assert_eq!(numeric(&[0xff; 8]), Ok(-1));
        assert!(numeric(b"0000648\0").is_err());
    }

    #[test]
    fn pax_records_parse_as_go_does() {
        let records = parse_pax(b"30 mtime=1234567890.123456789\n20 path=a/b/c/d/e/f\n")
            .expect("valid records");
        assert_eq!(
            records.get("mtime").map(Vec::as_slice),
            Some(&b"1234567890.123456789"[..])
        );
        assert!(parse_pax(b"31 mtime=1234567890.123456789\n").is_err());
        assert!(parse_pax(b"9 =abc\n").is_err());
        assert_eq!(pax_time("-1.5"), Ok((-2, 500_000_000)));
        assert_eq!(pax_time("12.3"), Ok((12, 300_000_000)));
        assert!(pax_time("1.x").is_err());
    }
}

//! Writes tar entries exactly as Go's `tar.Writer` does.
//!
//! Not for: parsing (`reader`), block field codecs (`block`).
//! Reproduces Go `archive/tar` `writer.go` and `common.go` `allowedFormats`
//! (apko-format.md §7.4–§7.6).

use super::block::{
    self, Block, F_GNU, F_PAX, F_USTAR, Formats, MAX_SPECIAL_FILE_SIZE, NAME_SIZE, PREFIX_SIZE,
    ZERO_BLOCK,
};
use super::pax::{format_pax_record, format_pax_time, pax_header_name, valid_pax_record};
use super::{EntryType, Error, Format, Header, PaxRecords, Timestamp, display_name};
use std::collections::BTreeMap;
use std::io::{Read, Write};

/// Writes a tar stream entry by entry; [`Writer::finish`] adds the two zero blocks.
///
/// Memory stays bounded: entry data is copied through a fixed buffer. After an error the
/// stream may end inside an entry (as with Go's sticky writer errors): discard it.
#[derive(Debug)]
pub struct Writer<W: Write> {
    inner: W,
}

/// The PAX keys Go derives from [`Header`] fields; records under them are only written when a
/// field needs them or agrees with them.
const BASIC_KEYS: [&[u8]; 10] = [
    b"path",
    b"linkpath",
    b"size",
    b"uid",
    b"gid",
    b"uname",
    b"gname",
    b"mtime",
    b"atime",
    b"ctime",
];

const COPY_BUFFER: usize = 64 * 1024;

impl<W: Write> Writer<W> {
    /// A writer that appends to `inner` (which may already hold entries).
    pub fn new(inner: W) -> Self {
        Writer { inner }
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// Writes `header`, then exactly `header.size` bytes read from `content` (none for
    /// header-only types), then padding to the next block.
    ///
    /// `content` is read no further than `size` bytes, so it may be a longer stream.
    pub fn append(&mut self, header: &Header, content: impl Read) -> Result<(), Error> {
        let (blocks, data_size) = encode(header)?;
        self.inner
            .write_all(&blocks)
            .map_err(|source| Error::Write { source })?;
        let written = self.copy_content(header, content, data_size)?;
        if written < data_size {
            return Err(Error::ContentTooShort {
                entry: display_name(&header.name),
                size: data_size,
                written,
            });
        }
        self.write_padding(data_size)
    }

    /// Writes the end-of-archive marker (two zero blocks) and returns the underlying writer.
    pub fn finish(mut self) -> Result<W, Error> {
        self.inner
            .write_all(&[0u8; 2 * block::BLOCK_SIZE])
            .map_err(|source| Error::Write { source })?;
        self.inner
            .flush()
            .map_err(|source| Error::Write { source })?;
        Ok(self.inner)
    }

    fn copy_content(
        &mut self,
        header: &Header,
        mut content: impl Read,
        size: u64,
    ) -> Result<u64, Error> {
        let mut buffer = vec![0u8; COPY_BUFFER.min(usize::try_from(size).unwrap_or(COPY_BUFFER))];
        let mut written = 0u64;
        while written < size {
            let want = usize::try_from(size - written)
                .unwrap_or(usize::MAX)
                .min(buffer.len());
            let chunk = &mut buffer[..want];
            let n = match content.read(chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(Error::ReadContent {
                        entry: display_name(&header.name),
                        source,
                    });
                }
            };
            let read = chunk.get(..n).unwrap_or(chunk);
            self.inner
                .write_all(read)
                .map_err(|source| Error::Write { source })?;
            written += read.len() as u64;
        }
        Ok(written)
    }

    fn write_padding(&mut self, size: u64) -> Result<(), Error> {
        let pad = block::padding(size) as usize;
        self.inner
            .write_all(&ZERO_BLOCK[..pad])
            .map_err(|source| Error::Write { source })
    }
}

/// Everything Go writes before an entry's data: the header block, preceded by a PAX extended
/// header or GNU long-name entries when needed. Returns the bytes and the data size to follow.
fn encode(header: &Header) -> Result<(Vec<u8>, u64), Error> {
    let mut h = header.clone();
    if h.typeflag == EntryType::REGULAR_LEGACY {
        h.typeflag = if h.name.ends_with(b"/") {
            EntryType::DIRECTORY
        } else {
            EntryType::REGULAR
        };
    }
    // Without a requested format Go rounds the mtime and drops atime/ctime, so that ordinary
    // headers stay USTAR instead of growing a PAX header.
    if h.format == Format::Unknown {
        h.mtime = h.mtime.round_to_second();
        h.atime = None;
        h.ctime = None;
    }
    let allowed = allowed_formats(&h)?;
    let mut out = Vec::with_capacity(block::BLOCK_SIZE);
    if allowed.formats & F_USTAR != 0 {
        out.extend_from_slice(&ustar_block(&h));
    } else if allowed.formats & F_PAX != 0 {
        if !pax_block(&h, &allowed.pax, &mut out)? {
            return Ok((out, 0));
        }
    } else {
        gnu_blocks(&h, &mut out)?;
    }
    let data_size = if h.typeflag.is_header_only() {
        0
    } else {
        u64::try_from(h.size).unwrap_or(0)
    };
    Ok((out, data_size))
}

struct Allowed {
    formats: Formats,
    pax: BTreeMap<Vec<u8>, Vec<u8>>,
}

/// Go's `Header.allowedFormats`: which formats can encode `h`, and the PAX records needed.
fn allowed_formats(h: &Header) -> Result<Allowed, Error> {
    let unencodable = |reason| Error::Unencodable {
        entry: display_name(&h.name),
        reason,
    };
    let mut check = Check {
        formats: F_USTAR | F_PAX | F_GNU,
        pax: BTreeMap::new(),
        prefer_pax: false,
        records: &h.pax_records,
    };
    check.string(&h.name, NAME_SIZE, b"path");
    check.string(&h.linkname, NAME_SIZE, b"linkpath");
    check.string(&h.uname, 32, b"uname");
    check.string(&h.gname, 32, b"gname");
    check.numeric(h.mode, 8, b"");
    check.numeric(h.uid, 8, b"uid");
    check.numeric(h.gid, 8, b"gid");
    check.numeric(h.size, 12, b"size");
    check.numeric(h.devmajor, 8, b"");
    check.numeric(h.devminor, 8, b"");
    check.time(Some(h.mtime), 12, b"mtime");
    check.time(h.atime, 12, b"atime");
    check.time(h.ctime, 12, b"ctime");

    match h.typeflag.0 {
        b'0' | b'3' | b'4' | b'6' | b'S' if h.name.ends_with(b"/") => {
            return Err(unencodable("filename may not have trailing slash"));
        }
        b'x' | b'L' | b'K' => {
            return Err(unencodable(
                "cannot manually encode TypeXHeader, TypeGNULongName, or TypeGNULongLink headers",
            ));
        }
        b'g' => {
            let bare = Header {
                name: h.name.clone(),
                typeflag: h.typeflag,
                pax_records: h.pax_records.clone(),
                format: h.format,
                ..Header::default()
            };
            if *h != bare {
                return Err(unencodable(
                    "only PAXRecords should be set for TypeXGlobalHeader",
                ));
            }
            check.formats &= F_PAX;
        }
        _ => {}
    }
    if !h.typeflag.is_header_only() && h.size < 0 {
        return Err(unencodable("negative size on header-only type"));
    }
    if !h.pax_records.is_empty() {
        for (k, v) in h.pax_records.iter() {
            if check.pax.contains_key(k) {
                continue;
            }
            if h.typeflag == EntryType::PAX_GLOBAL
                || (!BASIC_KEYS.contains(&k) && !k.starts_with(b"GNU.sparse."))
            {
                check.pax.insert(k.to_vec(), v.to_vec());
            }
        }
        check.formats &= F_PAX;
    }
    if check.pax.iter().any(|(k, v)| !valid_pax_record(k, v)) {
        return Err(unencodable("invalid PAX record"));
    }
    let want = match h.format {
        Format::Unknown => None,
        Format::Ustar => Some(F_USTAR),
        Format::Pax if check.prefer_pax => Some(F_PAX),
        Format::Pax => Some(F_PAX | F_USTAR),
        Format::Gnu => Some(F_GNU),
    };
    if let Some(want) = want {
        check.formats &= want;
    }
    if check.formats == 0 {
        return Err(unencodable(
            "no tar format (USTAR, PAX or GNU) can hold its fields",
        ));
    }
    Ok(Allowed {
        formats: check.formats,
        pax: check.pax,
    })
}

struct Check<'a> {
    formats: Formats,
    pax: BTreeMap<Vec<u8>, Vec<u8>>,
    prefer_pax: bool,
    records: &'a PaxRecords,
}

impl Check<'_> {
    /// Go's `verifyString`; an empty `key` is `paxNone`.
    fn string(&mut self, s: &[u8], size: usize, key: &[u8]) {
        let too_long = s.len() > size;
        let allow_long_gnu = key == b"path" || key == b"linkpath";
        if block::has_nul(s) || (too_long && !allow_long_gnu) {
            self.formats &= !F_GNU;
        }
        if !block::is_ascii(s) || too_long {
            let can_split = key == b"path";
            if !can_split || split_ustar_path(s).is_none() {
                self.formats &= !F_USTAR;
            }
            self.pax_or_nothing(key, s.to_vec());
        }
        self.keep_agreeing_record(key, s);
    }

    /// Go's `verifyNumeric`.
    fn numeric(&mut self, n: i64, size: usize, key: &[u8]) {
        if !block::fits_in_base256(size, n) {
            self.formats &= !F_GNU;
        }
        let text = n.to_string().into_bytes();
        if !block::fits_in_octal(size, n) {
            self.formats &= !F_USTAR;
            self.pax_or_nothing(key, text.clone());
        }
        self.keep_agreeing_record(key, &text);
    }

    /// Go's `verifyTime`; `None` is Go's zero time, which is always fine.
    fn time(&mut self, ts: Option<Timestamp>, size: usize, key: &[u8]) {
        let Some(ts) = ts else { return };
        if !block::fits_in_base256(size, ts.seconds) {
            self.formats &= !F_GNU;
        }
        let is_mtime = key == b"mtime";
        let fits_octal = block::fits_in_octal(size, ts.seconds);
        if !is_mtime || !fits_octal {
            self.formats &= !F_USTAR;
        }
        let text = format_pax_time(ts).into_bytes();
        if !is_mtime || !fits_octal || ts.nanos != 0 {
            self.prefer_pax = true;
            self.pax_or_nothing(key, text.clone());
        }
        self.keep_agreeing_record(key, &text);
    }

    fn pax_or_nothing(&mut self, key: &[u8], value: Vec<u8>) {
        if key.is_empty() {
            self.formats &= !F_PAX;
        } else {
            self.pax.insert(key.to_vec(), value);
        }
    }

    fn keep_agreeing_record(&mut self, key: &[u8], value: &[u8]) {
        if let Some(v) = self.records.get_bytes(key)
            && v == value
        {
            self.pax.insert(key.to_vec(), v.to_vec());
        }
    }
}

/// Go's `splitUSTARPath`: a prefix of at most 155 bytes and a name of at most 100, split at a
/// `/`, for ASCII names longer than 100 bytes.
fn split_ustar_path(name: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut length = name.len();
    if length <= NAME_SIZE || !block::is_ascii(name) {
        return None;
    } else if length > PREFIX_SIZE + 1 {
        length = PREFIX_SIZE + 1;
    } else if name.get(length - 1) == Some(&b'/') {
        length -= 1;
    }
    let i = name.get(..length)?.iter().rposition(|&c| c == b'/')?;
    let suffix_len = name.len() - i - 1;
    if i == 0 || suffix_len > NAME_SIZE || suffix_len == 0 || i > PREFIX_SIZE {
        return None;
    }
    Some((name.get(..i)?, name.get(i + 1..)?))
}

/// Go's `templateV7Plus`: the fields USTAR, PAX and GNU headers share.
fn template(
    h: &Header,
    format_str: fn(&mut [u8], &[u8]),
    format_num: fn(&mut [u8], i64) -> bool,
) -> Block {
    let mut b = ZERO_BLOCK;
    b[block::TYPEFLAG] = h.typeflag.0;
    format_str(&mut b[block::NAME], &h.name);
    format_str(&mut b[block::LINKNAME], &h.linkname);
    format_num(&mut b[block::MODE], h.mode);
    format_num(&mut b[block::UID], h.uid);
    format_num(&mut b[block::GID], h.gid);
    format_num(&mut b[block::SIZE], h.size);
    format_num(&mut b[block::MTIME], h.mtime.seconds);
    format_str(&mut b[block::UNAME], &h.uname);
    format_str(&mut b[block::GNAME], &h.gname);
    format_num(&mut b[block::DEVMAJOR], h.devmajor);
    format_num(&mut b[block::DEVMINOR], h.devminor);
    b
}

fn plain_string(field: &mut [u8], s: &[u8]) {
    block::format_string(field, s);
}

fn ascii_string(field: &mut [u8], s: &[u8]) {
    block::format_string(field, &block::to_ascii(s));
}

fn ustar_block(h: &Header) -> Block {
    let (prefix, name) = match split_ustar_path(&h.name) {
        Some((prefix, name)) => (prefix, name),
        None => (&[][..], &h.name[..]),
    };
    let short = Header {
        name: name.to_vec(),
        ..h.clone()
    };
    let mut b = template(&short, plain_string, block::format_octal);
    block::format_string(&mut b[block::PREFIX], prefix);
    block::seal(&mut b, F_USTAR);
    b
}

/// Go's `writePAXHeader`; returns false for a global header, which has no entry of its own.
fn pax_block(
    h: &Header,
    pax: &BTreeMap<Vec<u8>, Vec<u8>>,
    out: &mut Vec<u8>,
) -> Result<bool, Error> {
    let global = h.typeflag == EntryType::PAX_GLOBAL;
    if !pax.is_empty() || global {
        let body: Vec<u8> = pax
            .iter()
            .flat_map(|(k, v)| format_pax_record(k, v))
            .collect();
        let (name, flag) = if global {
            let name = if h.name.is_empty() {
                b"GlobalHead.0.0".to_vec()
            } else {
                h.name.clone()
            };
            (name, b'g')
        } else {
            (pax_header_name(&h.name), b'x')
        };
        if body.len() > MAX_SPECIAL_FILE_SIZE {
            return Err(Error::Unencodable {
                entry: display_name(&h.name),
                reason: "PAX records exceed 1 MiB",
            });
        }
        raw_file(&name, &body, flag, F_PAX, out);
        if global {
            return Ok(false);
        }
    }
    let mut b = template(h, ascii_string, block::format_octal);
    block::seal(&mut b, F_PAX);
    out.extend_from_slice(&b);
    Ok(true)
}

/// Go's `writeGNUHeader`: `././@LongLink` entries for long names, then the header with
/// base-256 numbers where octal does not fit.
fn gnu_blocks(h: &Header, out: &mut Vec<u8>) -> Result<(), Error> {
    for (value, flag) in [(&h.name, b'L'), (&h.linkname, b'K')] {
        if value.len() > NAME_SIZE {
            if value.len() + 1 > MAX_SPECIAL_FILE_SIZE {
                return Err(Error::Unencodable {
                    entry: display_name(&h.name),
                    reason: "GNU long name exceeds 1 MiB",
                });
            }
            let mut data = value.clone();
            data.push(0);
            raw_file(b"././@LongLink", &data, flag, F_GNU, out);
        }
    }
    let mut b = template(h, plain_string, block::format_numeric);
    if let Some(atime) = h.atime {
        block::format_numeric(&mut b[block::GNU_ATIME], atime.seconds);
    }
    if let Some(ctime) = h.ctime {
        block::format_numeric(&mut b[block::GNU_CTIME], ctime.seconds);
    }
    block::seal(&mut b, F_GNU);
    out.extend_from_slice(&b);
    Ok(())
}

/// Go's `writeRawFile`: a minimal header (zero mode, ids and mtime) followed by `data`.
fn raw_file(name: &[u8], data: &[u8], flag: u8, format: Formats, out: &mut Vec<u8>) {
    let mut name = block::to_ascii(name);
    name.truncate(NAME_SIZE);
    while name.last() == Some(&b'/') {
        name.pop();
    }
    let mut b = ZERO_BLOCK;
    b[block::TYPEFLAG] = flag;
    block::format_string(&mut b[block::NAME], &name);
    block::format_octal(&mut b[block::MODE], 0);
    block::format_octal(&mut b[block::UID], 0);
    block::format_octal(&mut b[block::GID], 0);
    // Bodies are capped at 1 MiB by the callers, far below the 8 GiB octal limit.
    block::format_octal(&mut b[block::SIZE], data.len() as i64);
    block::format_octal(&mut b[block::MTIME], 0);
    block::seal(&mut b, format);
    out.extend_from_slice(&b);
    out.extend_from_slice(data);
    out.extend_from_slice(&ZERO_BLOCK[..block::padding(data.len() as u64) as usize]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ustar_split_needs_a_slash_in_range() {
        let long = format!("{}/{}", "d".repeat(60), "f".repeat(60));
        let (prefix, name) = split_ustar_path(long.as_bytes()).expect("splittable");
        assert_eq!(prefix.len(), 60);
        assert_eq!(name.len(), 60);
        assert!(split_ustar_path("x".repeat(101).as_bytes()).is_none());
        let no_room = format!("{}/{}", "d".repeat(10), "f".repeat(101));
        assert!(split_ustar_path(no_room.as_bytes()).is_none());
    }
}

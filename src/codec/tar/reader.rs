//! Reads tar streams as Go's `tar.Reader` does, including its guess of each header's format.
//!
//! The guess matters because apko writes headers it read back (the control-tar scripts in
//! `scripts.tar`), and Go's writer honours a header's format.
//!
//! Not for: writing (`writer`), block field codecs (`block`).
//! Reproduces Go `archive/tar` `reader.go` (`Next`, `readHeader`, `parsePAX`, `mergePAX`).

use super::block::{self, Block, F_GNU, F_PAX, F_STAR, F_USTAR, F_V7, Formats};
use super::pax::{parse_decimal, parse_pax_record, parse_pax_time};
use super::{EntryType, Error, Format, Header, PaxRecords, Timestamp, display_name};
use std::io::{self, Read};

/// Reads headers with [`Reader::next_header`]; the current entry's data is read through
/// [`Read`]. Unread data is skipped by the next call. After an error the reader is spent.
#[derive(Debug)]
pub struct Reader<R: Read> {
    inner: R,
    /// Bytes consumed from `inner`.
    offset: u64,
    /// Data bytes of the current entry not yet read.
    remaining: u64,
    /// Padding after the current entry's data.
    pad: u64,
}

impl<R: Read> Reader<R> {
    /// A reader at the start of a tar stream.
    pub fn new(inner: R) -> Self {
        Reader {
            inner,
            offset: 0,
            remaining: 0,
            pad: 0,
        }
    }

    /// Byte offset in the underlying stream.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next entry's header, or `None` at the end of the archive (two zero blocks, or the
    /// end of the input at a block boundary, as Go accepts for truncated control tars).
    pub fn next_header(&mut self) -> Result<Option<Header>, Error> {
        let mut pax: Option<PaxRecords> = None;
        let mut gnu_long_name: Vec<u8> = Vec::new();
        let mut gnu_long_link: Vec<u8> = Vec::new();
        let mut format: Formats = F_USTAR | F_PAX | F_GNU;
        loop {
            self.skip(self.remaining + self.pad)?;
            self.remaining = 0;
            self.pad = 0;
            let header_offset = self.offset;
            let Some((mut hdr, block_format)) = self.read_header()? else {
                return Ok(None);
            };
            self.start_data(&hdr, header_offset)?;
            format &= block_format;
            match hdr.typeflag.0 {
                b'x' | b'g' => {
                    format &= F_PAX;
                    let records = self.parse_pax(header_offset)?;
                    if hdr.typeflag == EntryType::PAX_GLOBAL {
                        // Go ignores field errors in global headers.
                        let _ = merge_pax(&mut hdr, records);
                        return Ok(Some(Header {
                            name: hdr.name,
                            typeflag: hdr.typeflag,
                            pax_records: hdr.pax_records,
                            format: to_format(format),
                            ..Header::default()
                        }));
                    }
                    pax = Some(records);
                }
                b'L' | b'K' => {
                    format &= F_GNU;
                    let data = self.read_special(header_offset)?;
                    let value = block::parse_string(&data).to_vec();
                    if hdr.typeflag.0 == b'L' {
                        gnu_long_name = value;
                    } else {
                        gnu_long_link = value;
                    }
                }
                _ => {
                    if let Some(records) = pax.take() {
                        merge_pax(&mut hdr, records).map_err(|()| Error::InvalidHeader {
                            offset: header_offset,
                            what: "PAX record value does not parse",
                        })?;
                    }
                    if !gnu_long_name.is_empty() {
                        hdr.name = gnu_long_name;
                    }
                    if !gnu_long_link.is_empty() {
                        hdr.linkname = gnu_long_link;
                    }
                    if hdr.typeflag == EntryType::REGULAR_LEGACY {
                        hdr.typeflag = if hdr.name.ends_with(b"/") {
                            EntryType::DIRECTORY
                        } else {
                            EntryType::REGULAR
                        };
                    }
                    self.start_data(&hdr, header_offset)?;
                    if is_sparse(&hdr) {
                        return Err(Error::Sparse {
                            entry: display_name(&hdr.name),
                        });
                    }
                    if format & F_USTAR != 0 && format & F_PAX != 0 {
                        format &= F_USTAR;
                    }
                    hdr.format = to_format(format);
                    return Ok(Some(hdr));
                }
            }
        }
    }

    /// Go's `readHeader`: one block, parsed; `None` at the end of the archive.
    fn read_header(&mut self) -> Result<Option<(Header, Formats)>, Error> {
        let offset = self.offset;
        let mut raw: Block = block::ZERO_BLOCK;
        if !self.read_block(&mut raw)? {
            return Ok(None);
        }
        if raw == block::ZERO_BLOCK {
            if !self.read_block(&mut raw)? || raw == block::ZERO_BLOCK {
                return Ok(None);
            }
            return Err(Error::InvalidHeader {
                offset,
                what: "zero block followed by a non-zero block",
            });
        }
        let detected = block::detect_format(&raw);
        if detected == 0 {
            return Err(Error::InvalidHeader {
                offset,
                what: "checksum mismatch",
            });
        }
        let invalid = |what| Error::InvalidHeader { offset, what };
        let numeric = |field: &[u8]| block::parse_numeric(field).ok_or(invalid("bad number"));
        let mut hdr = Header {
            typeflag: EntryType(raw[block::TYPEFLAG]),
            name: block::parse_string(&raw[block::NAME]).to_vec(),
            linkname: block::parse_string(&raw[block::LINKNAME]).to_vec(),
            size: numeric(&raw[block::SIZE])?,
            mode: numeric(&raw[block::MODE])?,
            uid: numeric(&raw[block::UID])?,
            gid: numeric(&raw[block::GID])?,
            mtime: Timestamp::from_seconds(numeric(&raw[block::MTIME])?),
            ..Header::default()
        };
        let mut block_format: Formats = 0;
        if detected > F_V7 {
            hdr.uname = block::parse_string(&raw[block::UNAME]).to_vec();
            hdr.gname = block::parse_string(&raw[block::GNAME]).to_vec();
            hdr.devmajor = numeric(&raw[block::DEVMAJOR])?;
            hdr.devminor = numeric(&raw[block::DEVMINOR])?;
            let mut prefix: &[u8] = &[];
            if detected & (F_USTAR | F_PAX) != 0 {
                block_format = detected;
                prefix = block::parse_string(&raw[block::PREFIX]);
                // Go only trusts a USTAR guess for blocks that are strictly well formed.
                let nul_terminated = [
                    block::SIZE,
                    block::MODE,
                    block::UID,
                    block::GID,
                    block::MTIME,
                    block::DEVMAJOR,
                    block::DEVMINOR,
                ]
                .into_iter()
                .all(|field| raw[field].last() == Some(&0));
                if raw.iter().any(|&c| c >= 0x80) || !nul_terminated {
                    block_format = 0;
                }
            } else if detected & F_STAR != 0 {
                prefix = block::parse_string(&raw[block::STAR_PREFIX]);
                hdr.atime = Some(Timestamp::from_seconds(numeric(&raw[block::STAR_ATIME])?));
                hdr.ctime = Some(Timestamp::from_seconds(numeric(&raw[block::STAR_CTIME])?));
            } else if detected & F_GNU != 0 {
                block_format = detected;
                let atime = &raw[block::GNU_ATIME];
                let ctime = &raw[block::GNU_CTIME];
                let parsed_atime = gnu_time(atime);
                let parsed_ctime = gnu_time(ctime);
                match (parsed_atime, parsed_ctime) {
                    (Some(a), Some(c)) => {
                        hdr.atime = a;
                        hdr.ctime = c;
                    }
                    _ => {
                        // Go before 1.8 wrote a USTAR prefix here; Go reads such files that way.
                        let old_prefix = block::parse_string(&raw[block::PREFIX]);
                        if block::is_ascii(old_prefix) {
                            prefix = old_prefix;
                        }
                        block_format = 0;
                    }
                }
            }
            if !prefix.is_empty() {
                let mut name = prefix.to_vec();
                name.push(b'/');
                name.extend_from_slice(&hdr.name);
                hdr.name = name;
            }
        }
        Ok(Some((hdr, block_format)))
    }

    /// Reads a whole block; false at a clean end of input, an error inside a block.
    fn read_block(&mut self, raw: &mut Block) -> Result<bool, Error> {
        let mut filled = 0;
        while filled < raw.len() {
            match self.inner.read(&mut raw[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(Error::Read {
                        offset: self.offset,
                        source,
                    });
                }
            }
        }
        self.offset += filled as u64;
        match filled {
            0 => Ok(false),
            n if n == raw.len() => Ok(true),
            _ => Err(Error::Truncated {
                offset: self.offset,
            }),
        }
    }

    /// Go's `handleRegularFile`: the data size that follows this header.
    fn start_data(&mut self, hdr: &Header, offset: u64) -> Result<(), Error> {
        let size = if hdr.typeflag.is_header_only() {
            0
        } else {
            hdr.size
        };
        let size = u64::try_from(size).map_err(|_| Error::InvalidHeader {
            offset,
            what: "negative size",
        })?;
        self.remaining = size;
        self.pad = block::padding(size);
        Ok(())
    }

    fn skip(&mut self, mut count: u64) -> Result<(), Error> {
        let mut buffer = [0u8; 8192];
        while count > 0 {
            let want = usize::try_from(count)
                .unwrap_or(buffer.len())
                .min(buffer.len());
            let chunk = &mut buffer[..want];
            match self.inner.read(chunk) {
                Ok(0) => {
                    return Err(Error::Truncated {
                        offset: self.offset,
                    });
                }
                Ok(n) => {
                    self.offset += n as u64;
                    count = count.saturating_sub(n as u64);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(Error::Read {
                        offset: self.offset,
                        source,
                    });
                }
            }
        }
        Ok(())
    }

    /// Go's `readSpecialFile`: the current entry's data, at most 1 MiB.
    fn read_special(&mut self, offset: u64) -> Result<Vec<u8>, Error> {
        if self.remaining > block::MAX_SPECIAL_FILE_SIZE as u64 {
            return Err(Error::InvalidHeader {
                offset,
                what: "PAX or GNU long-name data exceeds 1 MiB",
            });
        }
        let mut data = Vec::new();
        self.read_to_end(&mut data).map_err(|source| Error::Read {
            offset: self.offset,
            source,
        })?;
        Ok(data)
    }

    /// Go's `parsePAX`: records of the current `x`/`g` entry; GNU sparse 0.0 offsets and sizes
    /// are folded into `GNU.sparse.map` as Go does.
    fn parse_pax(&mut self, offset: u64) -> Result<PaxRecords, Error> {
        let data = self.read_special(offset)?;
        let invalid = Error::InvalidHeader {
            offset,
            what: "malformed PAX record",
        };
        let mut records = PaxRecords::new();
        let mut sparse_map: Vec<Vec<u8>> = Vec::new();
        let mut rest: &[u8] = &data;
        while !rest.is_empty() {
            let Some((key, value, remainder)) = parse_pax_record(rest) else {
                return Err(invalid);
            };
            rest = remainder;
            match key {
                b"GNU.sparse.offset" | b"GNU.sparse.numbytes" => {
                    let expect_offset = sparse_map.len().is_multiple_of(2);
                    if expect_offset != (key == b"GNU.sparse.offset") || value.contains(&b',') {
                        return Err(invalid);
                    }
                    sparse_map.push(value.to_vec());
                }
                _ => records.insert(key, value),
            }
        }
        if !sparse_map.is_empty() {
            records.insert("GNU.sparse.map", sparse_map.join(&b","[..]));
        }
        Ok(records)
    }
}

impl<R: Read> Read for Reader<R> {
    /// Reads the current entry's data; `Ok(0)` at its end.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = usize::try_from(self.remaining)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        if want == 0 {
            return Ok(0);
        }
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "tar entry data ends early",
            ));
        }
        self.offset += n as u64;
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// A GNU atime/ctime field: `Some(None)` when empty, `None` when it does not parse.
fn gnu_time(field: &[u8]) -> Option<Option<Timestamp>> {
    if field.first() == Some(&0) {
        return Some(None);
    }
    block::parse_numeric(field).map(|s| Some(Timestamp::from_seconds(s)))
}

fn to_format(format: Formats) -> Format {
    match format {
        F_USTAR => Format::Ustar,
        F_PAX => Format::Pax,
        F_GNU => Format::Gnu,
        _ => Format::Unknown,
    }
}

/// Go's `mergePAX`: standard records override header fields; all records are kept.
fn merge_pax(hdr: &mut Header, records: PaxRecords) -> Result<(), ()> {
    for (key, value) in records.iter() {
        if value.is_empty() {
            continue;
        }
        match key {
            b"path" => hdr.name = value.to_vec(),
            b"linkpath" => hdr.linkname = value.to_vec(),
            b"uname" => hdr.uname = value.to_vec(),
            b"gname" => hdr.gname = value.to_vec(),
            b"uid" => hdr.uid = parse_decimal(value)?,
            b"gid" => hdr.gid = parse_decimal(value)?,
            b"size" => hdr.size = parse_decimal(value)?,
            b"atime" => hdr.atime = Some(parse_pax_time(value)?),
            b"mtime" => hdr.mtime = parse_pax_time(value)?,
            b"ctime" => hdr.ctime = Some(parse_pax_time(value)?),
            _ => {}
        }
    }
    hdr.pax_records = records;
    Ok(())
}

/// Whether Go would treat the entry as sparse (old GNU `S` or a GNU PAX sparse map).
fn is_sparse(hdr: &Header) -> bool {
    if hdr.typeflag.0 == b'S' {
        return true;
    }
    let major = hdr.pax_records.get("GNU.sparse.major").unwrap_or(b"");
    let minor = hdr.pax_records.get("GNU.sparse.minor").unwrap_or(b"");
    match (major, minor) {
        (b"0", b"0" | b"1") | (b"1", b"0") => true,
        _ if !major.is_empty() || !minor.is_empty() => false,
        _ => hdr
            .pax_records
            .get("GNU.sparse.map")
            .is_some_and(|m| !m.is_empty()),
    }
}

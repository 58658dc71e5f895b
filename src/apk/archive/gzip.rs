//! Gzip members one at a time, with the exact compressed byte range and digest of each.
//!
//! A [`Source`] counts, hashes and optionally keeps the compressed bytes it hands out; a
//! [`MemberDecoder`] inflates exactly one member from it and stops right after the trailer, so the
//! next member starts at [`Source::offset`].
//!
//! Not for: whole gzip streams or layer compression (`crate::compress`). Reproduces the member
//! handling of Go `compress/gzip` `Reader` with `Multistream(false)` (header flags, 512-byte name
//! limit, header CRC, CRC-32 and size trailer) as apko `expandapk.ExpandApk` uses it.

use std::io::{BufRead, BufReader, Read};

use flate2::{Crc, Decompress, FlushDecompress, Status};
use sha1::Digest as _;

use super::Error;

/// Which running digest the source feeds with every byte it hands out.
#[derive(Debug, Clone)]
pub(super) enum Running {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

impl Running {
    fn update(&mut self, bytes: &[u8]) {
        match self {
            Running::Sha1(hasher) => hasher.update(bytes),
            Running::Sha256(hasher) => hasher.update(bytes),
        }
    }
}

/// The compressed input: counts consumed bytes, feeds a digest, optionally keeps a copy.
pub(super) struct Source<R> {
    inner: BufReader<R>,
    offset: u64,
    digest: Option<Running>,
    capture: Option<Vec<u8>>,
    pub(super) package: String,
}

impl<R: Read> Source<R> {
    pub(super) fn new(inner: R, package: String) -> Self {
        Source {
            inner: BufReader::with_capacity(64 * 1024, inner),
            offset: 0,
            digest: None,
            capture: None,
            package,
        }
    }

    /// Offset of the next byte to be consumed.
    pub(super) fn offset(&self) -> u64 {
        self.offset
    }

    /// Starts a digest (and optionally a copy) at the current offset.
    pub(super) fn start(&mut self, digest: Running, capture: Capture) {
        self.digest = Some(digest);
        self.capture = match capture {
            Capture::Keep => Some(Vec::new()),
            Capture::Discard => None,
        };
    }

    /// Ends the digest started by [`Source::start`].
    pub(super) fn finish(&mut self) -> (Option<Running>, Option<Vec<u8>>) {
        (self.digest.take(), self.capture.take())
    }

    fn io(&self, error: std::io::Error) -> Error {
        Error::Io {
            package: self.package.clone(),
            source: error,
        }
    }

    /// The buffered bytes; empty at end of input.
    fn fill(&mut self) -> Result<&[u8], Error> {
        loop {
            match self.inner.fill_buf() {
                Ok(_) => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io(e)),
            }
        }
        Ok(self.inner.buffer())
    }

    fn consume(&mut self, count: usize) {
        let consumed = self.inner.buffer().get(..count).unwrap_or_default();
        if let Some(digest) = &mut self.digest {
            digest.update(consumed);
        }
        if let Some(capture) = &mut self.capture {
            capture.extend_from_slice(consumed);
        }
        let count = consumed.len();
        self.inner.consume(count);
        self.offset += count as u64;
    }

    /// Fills `buffer` completely; returns how many bytes were available before end of input.
    fn read_up_to(&mut self, buffer: &mut [u8]) -> Result<usize, Error> {
        let mut filled = 0;
        while filled < buffer.len() {
            let available = self.fill()?;
            if available.is_empty() {
                break;
            }
            let count = available.len().min(buffer.len() - filled);
            if let (Some(target), Some(source)) = (
                buffer.get_mut(filled..filled + count),
                available.get(..count),
            ) {
                target.copy_from_slice(source);
            }
            self.consume(count);
            filled += count;
        }
        Ok(filled)
    }
}

/// Whether [`Source::start`] keeps a copy of the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Capture {
    Keep,
    Discard,
}

const FLAG_HEADER_CRC: u8 = 1 << 1;
const FLAG_EXTRA: u8 = 1 << 2;
const FLAG_NAME: u8 = 1 << 3;
const FLAG_COMMENT: u8 = 1 << 4;
/// Go's gzip reader refuses header strings longer than its 512-byte buffer.
const MAX_HEADER_STRING: usize = 512;

/// Inflates one gzip member.
pub(super) struct MemberDecoder {
    inflate: Decompress,
    crc: Crc,
    member: usize,
    finished: bool,
}

impl MemberDecoder {
    /// Reads a member header; `None` when the input ends exactly here.
    pub(super) fn start<R: Read>(
        source: &mut Source<R>,
        member: usize,
    ) -> Result<Option<MemberDecoder>, Error> {
        let at = source.offset();
        let truncated = |source: &Source<R>| Error::Truncated {
            package: source.package.clone(),
            member,
            offset: source.offset(),
        };
        let bad_header = |source: &Source<R>, what: &'static str| Error::GzipHeader {
            package: source.package.clone(),
            member,
            offset: at,
            what,
        };
        let mut fixed = [0u8; 10];
        match source.read_up_to(&mut fixed)? {
            0 => return Ok(None),
            10 => {}
            _ => return Err(truncated(source)),
        }
        let [0x1f, 0x8b, 8, flags, ..] = fixed else {
            return Err(Error::NotGzip {
                package: source.package.clone(),
                member,
                offset: at,
            });
        };
        let mut header_crc = Crc::new();
        header_crc.update(&fixed);
        if flags & FLAG_EXTRA != 0 {
            let mut length = [0u8; 2];
            if source.read_up_to(&mut length)? != 2 {
                return Err(truncated(source));
            }
            header_crc.update(&length);
            let mut extra = vec![0u8; usize::from(u16::from_le_bytes(length))];
            if source.read_up_to(&mut extra)? != extra.len() {
                return Err(truncated(source));
            }
            header_crc.update(&extra);
        }
        for flag in [FLAG_NAME, FLAG_COMMENT] {
            if flags & flag == 0 {
                continue;
            }
            let mut length = 0;
            loop {
                let mut byte = [0u8; 1];
                if source.read_up_to(&mut byte)? != 1 {
                    return Err(truncated(source));
                }
                header_crc.update(&byte);
                if byte == [0] {
                    break;
                }
                length += 1;
                if length >= MAX_HEADER_STRING {
                    return Err(bad_header(source, "header string longer than 512 bytes"));
                }
            }
        }
        if flags & FLAG_HEADER_CRC != 0 {
            let mut stored = [0u8; 2];
            if source.read_up_to(&mut stored)? != 2 {
                return Err(truncated(source));
            }
            // The header CRC is the low 16 bits of the CRC-32 of the header so far.
            if u32::from(u16::from_le_bytes(stored)) != header_crc.sum() & 0xffff {
                return Err(bad_header(source, "header CRC mismatch"));
            }
        }
        Ok(Some(MemberDecoder {
            inflate: Decompress::new(false),
            crc: Crc::new(),
            member,
            finished: false,
        }))
    }

    /// Decompressed bytes so far.
    pub(super) fn total_out(&self) -> u64 {
        self.inflate.total_out()
    }

    /// Reads decompressed bytes; `Ok(0)` once the member (trailer included) is complete.
    pub(super) fn read<R: Read>(
        &mut self,
        source: &mut Source<R>,
        output: &mut [u8],
    ) -> Result<usize, Error> {
        if self.finished || output.is_empty() {
            return Ok(0);
        }
        loop {
            let input = source.fill()?;
            let at_end = input.is_empty();
            let before_in = self.inflate.total_in();
            let before_out = self.inflate.total_out();
            let flush = if at_end {
                FlushDecompress::Finish
            } else {
                FlushDecompress::None
            };
            let status =
                self.inflate
                    .decompress(input, output, flush)
                    .map_err(|e| Error::Corrupt {
                        package: source.package.clone(),
                        member: self.member,
                        source: e,
                    })?;
            let consumed = usize::try_from(self.inflate.total_in() - before_in).unwrap_or(0);
            let produced = usize::try_from(self.inflate.total_out() - before_out).unwrap_or(0);
            source.consume(consumed);
            self.crc.update(output.get(..produced).unwrap_or_default());
            if status == Status::StreamEnd {
                self.read_trailer(source)?;
                self.finished = true;
                return Ok(produced);
            }
            if produced > 0 {
                return Ok(produced);
            }
            // No progress: the input ended inside the deflate stream.
            if at_end || consumed == 0 {
                return Err(Error::Truncated {
                    package: source.package.clone(),
                    member: self.member,
                    offset: source.offset(),
                });
            }
        }
    }

    fn read_trailer<R: Read>(&mut self, source: &mut Source<R>) -> Result<(), Error> {
        let mut trailer = [0u8; 8];
        if source.read_up_to(&mut trailer)? != 8 {
            return Err(Error::Truncated {
                package: source.package.clone(),
                member: self.member,
                offset: source.offset(),
            });
        }
        let [c0, c1, c2, c3, s0, s1, s2, s3] = trailer;
        let crc = u32::from_le_bytes([c0, c1, c2, c3]);
        let size = u32::from_le_bytes([s0, s1, s2, s3]);
        // ISIZE is the uncompressed length modulo 2^32.
        #[allow(clippy::cast_possible_truncation)]
        let expected_size = self.inflate.total_out() as u32;
        if crc != self.crc.sum() || size != expected_size {
            return Err(Error::GzipChecksum {
                package: source.package.clone(),
                member: self.member,
            });
        }
        Ok(())
    }

    /// Reads the rest of the member into `sink` (at most `limit` decompressed bytes in total).
    pub(super) fn read_to_end<R: Read>(
        &mut self,
        source: &mut Source<R>,
        sink: &mut Vec<u8>,
        limit: u64,
    ) -> Result<(), Error> {
        let mut chunk = vec![0u8; 32 * 1024];
        loop {
            let count = self.read(source, &mut chunk)?;
            if count == 0 && self.finished {
                return Ok(());
            }
            if self.total_out() > limit {
                return Err(Error::TooLarge {
                    package: source.package.clone(),
                    member: self.member,
                    limit,
                });
            }
            sink.extend_from_slice(chunk.get(..count).unwrap_or_default());
        }
    }
}

//! A strict gzip reader for verifying layers: exactly one member, nothing after it, CRC-32 and
//! size checked, and the decompressed stream's SHA-256 and size reported.
//!
//! Not for: producing layers (`pgzip`), or reading APK files (several concatenated members).
//! Reproduces reference/apko-format.md §9.2–§9.4 (the single-member framing of layers) and
//! RFC 1952; the DEFLATE decoding itself is flate2's.

use std::io::{self, Read};

use flate2::{Decompress, FlushDecompress, Status};
use sha2::{Digest, Sha256};

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
const BUFFER: usize = 64 * 1024;

/// Why a stream was rejected. Each check has its own variant.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The underlying reader failed.
    #[error("reading the gzip stream")]
    Io(#[source] io::Error),
    /// The stream ended inside the 10-byte header or its optional fields.
    #[error("the gzip stream ends inside its header")]
    TruncatedHeader,
    /// The stream ended before the final DEFLATE block.
    #[error("the gzip stream ends inside its compressed data")]
    TruncatedData,
    /// The stream ended inside the 8-byte trailer.
    #[error("the gzip stream ends inside its trailer")]
    TruncatedTrailer,
    /// The first two bytes are not `1f 8b`.
    #[error("not a gzip stream: magic bytes {0:02x?}")]
    BadMagic([u8; 2]),
    /// The compression method is not 8 (DEFLATE).
    #[error("unsupported gzip compression method {0} (only 8, deflate)")]
    UnsupportedMethod(u8),
    /// Flag bits 5–7, reserved by RFC 1952, are set.
    #[error("reserved gzip flag bits are set: {0:#04x}")]
    ReservedFlags(u8),
    /// FEXTRA is set (strict mode).
    #[error("the gzip header carries an extra field (FEXTRA)")]
    ExtraField,
    /// FNAME is set (strict mode).
    #[error("the gzip header carries a file name (FNAME)")]
    FileName,
    /// FCOMMENT is set (strict mode).
    #[error("the gzip header carries a comment (FCOMMENT)")]
    Comment,
    /// FHCRC is set (strict mode).
    #[error("the gzip header carries a header CRC (FHCRC)")]
    HeaderCrc,
    /// FHCRC does not match the header (lenient mode).
    #[error("the gzip header CRC does not match")]
    HeaderCrcMismatch,
    /// The DEFLATE data is invalid.
    #[error("invalid deflate data: {0}")]
    Deflate(String),
    /// The trailer's CRC-32 is not that of the decompressed data.
    #[error("CRC-32 mismatch: the trailer says {expected:08x}, the data has {actual:08x}")]
    CrcMismatch {
        /// From the trailer.
        expected: u32,
        /// Of the decompressed bytes.
        actual: u32,
    },
    /// The trailer's ISIZE is not the decompressed size mod 2^32.
    #[error("size mismatch: the trailer says {expected}, the data has {actual} (mod 2^32)")]
    SizeMismatch {
        /// From the trailer.
        expected: u32,
        /// Decompressed bytes, mod 2^32.
        actual: u32,
    },
    /// Bytes follow the member (another member, padding or garbage).
    #[error("bytes follow the end of the gzip member")]
    TrailingBytes,
}

impl Error {
    /// The same error again (an I/O error keeps its kind and message), so a failure seen by
    /// `read` can also be returned by `finish`.
    fn duplicate(&self) -> Error {
        match self {
            Error::Io(e) => Error::Io(io::Error::new(e.kind(), e.to_string())),
            Error::TruncatedHeader => Error::TruncatedHeader,
            Error::TruncatedData => Error::TruncatedData,
            Error::TruncatedTrailer => Error::TruncatedTrailer,
            Error::BadMagic(m) => Error::BadMagic(*m),
            Error::UnsupportedMethod(m) => Error::UnsupportedMethod(*m),
            Error::ReservedFlags(f) => Error::ReservedFlags(*f),
            Error::ExtraField => Error::ExtraField,
            Error::FileName => Error::FileName,
            Error::Comment => Error::Comment,
            Error::HeaderCrc => Error::HeaderCrc,
            Error::HeaderCrcMismatch => Error::HeaderCrcMismatch,
            Error::Deflate(m) => Error::Deflate(m.clone()),
            Error::CrcMismatch { expected, actual } => Error::CrcMismatch {
                expected: *expected,
                actual: *actual,
            },
            Error::SizeMismatch { expected, actual } => Error::SizeMismatch {
                expected: *expected,
                actual: *actual,
            },
            Error::TrailingBytes => Error::TrailingBytes,
        }
    }

    fn into_io(self) -> io::Error {
        match self {
            Error::Io(e) => e,
            Error::TruncatedHeader | Error::TruncatedData | Error::TruncatedTrailer => {
                io::Error::new(io::ErrorKind::UnexpectedEof, self)
            }
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}

/// What a fully verified stream decompressed to.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// SHA-256 of the decompressed bytes (the layer's diffID).
    pub digest_sha256: [u8; 32],
    /// Decompressed bytes.
    pub size: u64,
}

enum State {
    Header,
    Body,
    Done,
    Failed(Error),
}

/// Decompresses one gzip member from `inner`, checking everything on the way.
///
/// `read` yields the decompressed bytes; the trailer and the end of input are checked before
/// `read` reports the end, so a reader that reached `Ok(0)` was verified. [`Reader::finish`]
/// reads whatever is left and returns the digest and size.
pub struct Reader<R: Read> {
    inner: R,
    allow_header_fields: bool,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    eof: bool,
    inflate: Decompress,
    crc: crc32fast::Hasher,
    digest: Sha256,
    size: u64,
    state: State,
}

impl<R: Read> Reader<R> {
    /// A strict reader: rejects FEXTRA, FNAME, FCOMMENT and FHCRC (apko writes none).
    pub fn new(inner: R) -> Self {
        Reader {
            inner,
            allow_header_fields: false,
            buf: vec![0; BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
            eof: false,
            inflate: Decompress::new(false),
            crc: crc32fast::Hasher::new(),
            digest: Sha256::new(),
            size: 0,
            state: State::Header,
        }
    }

    /// A reader that accepts (and checks) the optional header fields; everything else stays
    /// strict, trailing bytes included.
    pub fn lenient(inner: R) -> Self {
        Reader {
            allow_header_fields: true,
            ..Reader::new(inner)
        }
    }

    /// Reads to the end, verifying, and returns the SHA-256 and size of everything
    /// decompressed (including bytes already returned by `read`).
    pub fn finish(mut self) -> Result<Verified, Error> {
        let mut scratch = vec![0u8; BUFFER];
        while self.read_checked(&mut scratch)? > 0 {}
        Ok(Verified {
            digest_sha256: self.digest.clone().finalize().into(),
            size: self.size,
        })
    }

    /// Moves unread bytes to the front and reads more; sets `eof` when the source is done.
    fn fill(&mut self) -> Result<(), Error> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() || self.eof {
            return Ok(());
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::Io(e)),
            }
        }
    }

    fn next_byte(&mut self, truncated: fn() -> Error) -> Result<u8, Error> {
        if self.start == self.end {
            self.fill()?;
            if self.start == self.end {
                return Err(truncated());
            }
        }
        let b = self.buf[self.start];
        self.start += 1;
        Ok(b)
    }

    fn header(&mut self) -> Result<(), Error> {
        let mut fixed = [0u8; 10];
        for b in fixed.iter_mut() {
            *b = self.next_byte(|| Error::TruncatedHeader)?;
        }
        if fixed[..2] != [0x1f, 0x8b] {
            return Err(Error::BadMagic([fixed[0], fixed[1]]));
        }
        if fixed[2] != 8 {
            return Err(Error::UnsupportedMethod(fixed[2]));
        }
        let flags = fixed[3];
        if flags & 0xe0 != 0 {
            return Err(Error::ReservedFlags(flags & 0xe0));
        }
        if !self.allow_header_fields {
            if flags & FEXTRA != 0 {
                return Err(Error::ExtraField);
            }
            if flags & FNAME != 0 {
                return Err(Error::FileName);
            }
            if flags & FCOMMENT != 0 {
                return Err(Error::Comment);
            }
            if flags & FHCRC != 0 {
                return Err(Error::HeaderCrc);
            }
            return Ok(());
        }
        let mut header_crc = crc32fast::Hasher::new();
        header_crc.update(&fixed);
        if flags & FEXTRA != 0 {
            let lo = self.next_byte(|| Error::TruncatedHeader)?;
            let hi = self.next_byte(|| Error::TruncatedHeader)?;
            header_crc.update(&[lo, hi]);
            for _ in 0..u16::from_le_bytes([lo, hi]) {
                let b = self.next_byte(|| Error::TruncatedHeader)?;
                header_crc.update(&[b]);
            }
        }
        for flag in [FNAME, FCOMMENT] {
            if flags & flag != 0 {
                loop {
                    let b = self.next_byte(|| Error::TruncatedHeader)?;
                    header_crc.update(&[b]);
                    if b == 0 {
                        break;
                    }
                }
            }
        }
        if flags & FHCRC != 0 {
            let lo = self.next_byte(|| Error::TruncatedHeader)?;
            let hi = self.next_byte(|| Error::TruncatedHeader)?;
            if u16::from_le_bytes([lo, hi]) != header_crc.finalize() as u16 {
                return Err(Error::HeaderCrcMismatch);
            }
        }
        Ok(())
    }

    /// Checks the trailer and that nothing follows it.
    fn trailer(&mut self) -> Result<(), Error> {
        let mut t = [0u8; 8];
        for b in t.iter_mut() {
            *b = self.next_byte(|| Error::TruncatedTrailer)?;
        }
        let expected_crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
        let expected_size = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
        let actual_crc = self.crc.clone().finalize();
        if expected_crc != actual_crc {
            return Err(Error::CrcMismatch {
                expected: expected_crc,
                actual: actual_crc,
            });
        }
        if expected_size != self.size as u32 {
            return Err(Error::SizeMismatch {
                expected: expected_size,
                actual: self.size as u32,
            });
        }
        if self.start == self.end {
            self.fill()?;
        }
        if self.start != self.end {
            return Err(Error::TrailingBytes);
        }
        Ok(())
    }

    /// Inflates into `out` until something was produced or the member ended.
    fn inflate_some(&mut self, out: &mut [u8]) -> Result<usize, Error> {
        loop {
            if self.start == self.end {
                self.fill()?;
            }
            let before_in = self.inflate.total_in();
            let before_out = self.inflate.total_out();
            let status = self
                .inflate
                .decompress(&self.buf[self.start..self.end], out, FlushDecompress::None)
                .map_err(|e| Error::Deflate(e.to_string()))?;
            let consumed = (self.inflate.total_in() - before_in) as usize;
            let produced = (self.inflate.total_out() - before_out) as usize;
            self.start += consumed;
            self.crc.update(&out[..produced]);
            self.digest.update(&out[..produced]);
            self.size += produced as u64;
            if status == Status::StreamEnd {
                self.trailer()?;
                self.state = State::Done;
                return Ok(produced);
            }
            if produced > 0 {
                return Ok(produced);
            }
            if consumed == 0 {
                // No progress: the inflater wants more input than is buffered.
                if self.eof {
                    return Err(Error::TruncatedData);
                }
                let had = self.end - self.start;
                self.fill()?;
                if self.end - self.start == had && self.eof {
                    return Err(Error::TruncatedData);
                }
            }
        }
    }

    fn read_checked(&mut self, out: &mut [u8]) -> Result<usize, Error> {
        loop {
            let step = match &self.state {
                State::Failed(e) => return Err(e.duplicate()),
                State::Done => return Ok(0),
                State::Header => self.header().map(|()| {
                    self.state = State::Body;
                    None
                }),
                State::Body if out.is_empty() => return Ok(0),
                State::Body => self.inflate_some(out).map(Some),
            };
            match step {
                Ok(Some(n)) => return Ok(n),
                Ok(None) => continue,
                Err(e) => {
                    let returned = e.duplicate();
                    self.state = State::Failed(e);
                    return Err(returned);
                }
            }
        }
    }
}

impl<R: Read> Read for Reader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.read_checked(out).map_err(Error::into_io)
    }
}

/// Decompresses a whole in-memory gzip stream strictly; returns the bytes and their digest.
pub fn decompress(bytes: &[u8]) -> Result<(Vec<u8>, Verified), Error> {
    let mut reader = Reader::new(bytes);
    let mut out = Vec::new();
    let mut chunk = vec![0u8; BUFFER];
    loop {
        let n = reader.read_checked(&mut chunk)?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&chunk[..n]);
    }
    let verified = reader.finish()?;
    Ok((out, verified))
}

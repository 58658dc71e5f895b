//! [`PackageReader`]: one `.apk` read front to back from any `Read`, verifying as it goes.
//!
//! Opening reads the signature and control members (small; kept in memory), parses `.PKGINFO`
//! and stops at the data member. The data tar is then streamed entry by entry; each regular
//! file's content is checked against its `APK-TOOLS.checksum.SHA1` record when it has been read
//! (or skipped), and [`PackageReader::finish`] checks `datahash` over the data member to end of
//! file. Nothing read from the data member is trustworthy before `finish` succeeds.
//!
//! Not for: writing packages ([`crate::apk::writer`]). Reproduces apko `expandapk.ExpandApk`
//! and `checkSums` (reference/apko-format.md §5.1–5.3).

use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use sha1::Digest as _;

use super::gzip::{Capture, MemberDecoder, Running, Source};
use super::signature::{self, Signature};
use super::{
    ByteRange, CHECKSUM_RECORD, Error, FileEntry, Layout, Limits, Member, Sha1Digest, Sha256Digest,
};
use crate::apk::pkginfo::{self, PkgInfo};
use crate::codec::tar::{self, EntryType, Header};

/// Decompressed data member: the remaining gzip members of the file, one after the other
/// (apko's data reader is a multistream gzip reader).
pub(super) struct DataStream<R> {
    source: Source<R>,
    decoder: Option<MemberDecoder>,
    member: usize,
    produced: u64,
    limit: u64,
}

impl<R: Read> DataStream<R> {
    fn read_some(&mut self, buffer: &mut [u8]) -> Result<usize, Error> {
        loop {
            let Some(decoder) = &mut self.decoder else {
                return Ok(0);
            };
            let count = decoder.read(&mut self.source, buffer)?;
            self.produced += count as u64;
            if self.produced > self.limit {
                return Err(Error::TooLarge {
                    package: self.source.package.clone(),
                    member: self.member,
                    limit: self.limit,
                });
            }
            if count > 0 || buffer.is_empty() {
                return Ok(count);
            }
            self.member += 1;
            self.decoder = MemberDecoder::start(&mut self.source, self.member)?;
        }
    }
}

/// The data stream, shared by the tar reader (which reads it) and [`PackageReader::finish`]
/// (which drains it to end of file and takes its digest once the tar has ended).
struct Shared<R>(Arc<Mutex<DataStream<R>>>);

impl<R: Read> Read for Shared<R> {
    /// Errors are [`Error`] values inside `io::Error::other`, unwrapped by [`io_error`].
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let mut stream = self
            .0
            .lock()
            .map_err(|_| io::Error::other("data stream lock poisoned"))?;
        stream.read_some(buffer).map_err(io::Error::other)
    }
}

/// An `io::Error` from the tar reader: our own error passed through, a short entry, or I/O.
fn io_error(package: &str, member: usize, offset: u64, error: io::Error) -> Error {
    match error.downcast::<Error>() {
        Ok(inner) => inner,
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => Error::Tar {
            package: package.to_owned(),
            member,
            source: tar::Error::Truncated { offset },
        },
        Err(error) => Error::Io {
            package: package.to_owned(),
            source: error,
        },
    }
}

/// A tar reader error, with errors of the stream underneath unwrapped.
fn tar_error(package: &str, member: usize, error: tar::Error) -> Error {
    match error {
        tar::Error::Read { offset, source } => io_error(package, member, offset, source),
        other => Error::Tar {
            package: package.to_owned(),
            member,
            source: other,
        },
    }
}

/// The data entry being read: content left, and the SHA-1 its content must have.
struct Current {
    path: String,
    remaining: u64,
    check: Option<(Vec<u8>, sha1::Sha1)>,
}

/// A package being read. See the module documentation for the order of checks.
pub struct PackageReader<R: Read> {
    package: String,
    signature: Option<Member<Sha1Digest>>,
    signatures: Vec<Signature>,
    control: Member<Sha1Digest>,
    control_raw: Vec<u8>,
    control_tar: Vec<u8>,
    control_entries: Vec<FileEntry>,
    pkginfo: PkgInfo,
    data_start: u64,
    data_member: usize,
    stream: Arc<Mutex<DataStream<R>>>,
    tar: tar::Reader<Shared<R>>,
    current: Option<Current>,
    ended: bool,
}

impl<R: Read> std::fmt::Debug for PackageReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackageReader")
            .field("package", &self.package)
            .field("control", &self.control)
            .finish_non_exhaustive()
    }
}

/// A member decoded into memory.
struct Whole {
    content: Vec<u8>,
    member: Member<Sha1Digest>,
    raw: Option<Vec<u8>>,
}

/// Decodes one whole member into memory, with its range and SHA-1.
fn whole_member<R: Read>(
    source: &mut Source<R>,
    member: usize,
    limit: u64,
    capture: Capture,
) -> Result<Whole, Error> {
    let first = source.offset();
    source.start(Running::Sha1(sha1::Sha1::new()), capture);
    let Some(mut decoder) = MemberDecoder::start(source, member)? else {
        return Err(Error::MissingMember {
            package: source.package.clone(),
            member,
        });
    };
    let mut bytes = Vec::new();
    decoder.read_to_end(source, &mut bytes, limit)?;
    let (digest, raw) = source.finish();
    let sha1 = match digest {
        Some(Running::Sha1(hasher)) => Sha1Digest(hasher.finalize().into()),
        _ => Sha1Digest([0; 20]),
    };
    let range = ByteRange {
        first,
        last: source.offset().saturating_sub(1),
    };
    let member = Member {
        range,
        digest: sha1,
        uncompressed: bytes.len() as u64,
    };
    Ok(Whole {
        content: bytes,
        member,
        raw,
    })
}

/// All entries of an in-memory tar with their content.
fn tar_entries(bytes: &[u8], package: &str, member: usize) -> Result<Vec<FileEntry>, Error> {
    let mut reader = tar::Reader::new(bytes);
    let mut entries = Vec::new();
    while let Some(header) = reader
        .next_header()
        .map_err(|e| tar_error(package, member, e))?
    {
        let mut content = Vec::new();
        reader
            .read_to_end(&mut content)
            .map_err(|e| io_error(package, member, reader.offset(), e))?;
        entries.push(FileEntry { header, content });
    }
    Ok(entries)
}

impl<R: Read> PackageReader<R> {
    /// Reads the signature and control members of `source`; `package` names the package in
    /// errors (a file name or `name-version`).
    pub fn open(source: R, package: &str, limits: Limits) -> Result<Self, Error> {
        let mut source = Source::new(source, package.to_owned());
        let first = whole_member(&mut source, 1, limits.control, Capture::Keep)?;
        let first_entries = tar_entries(&first.content, package, 1)?;
        let Some(first_entry) = first_entries.first() else {
            return Err(Error::NoEntries {
                package: package.to_owned(),
                member: 1,
            });
        };
        let signed = first_entry.header.name.starts_with(b".SIGN.");
        let (signature, signatures, control, control_entries) = if signed {
            let signatures = first_entries
                .into_iter()
                .filter_map(|entry| Signature::from_entry(&entry.header.name, entry.content))
                .collect();
            let control = whole_member(&mut source, 2, limits.control, Capture::Keep)?;
            let entries = tar_entries(&control.content, package, 2)?;
            (Some(first.member), signatures, control, entries)
        } else {
            (None, Vec::new(), first, first_entries)
        };
        let control_number = if signed { 2 } else { 1 };
        // apko counts the members before it looks inside the control tar.
        let data_start = source.offset();
        source.start(Running::Sha256(sha2::Sha256::new()), Capture::Discard);
        let data_number = control_number + 1;
        let decoder = MemberDecoder::start(&mut source, data_number)?.ok_or_else(|| {
            Error::MissingMember {
                package: package.to_owned(),
                member: data_number,
            }
        })?;
        // tarfs indexes by name, so the last `.PKGINFO` wins.
        let pkginfo_text = control_entries
            .iter()
            .rev()
            .find(|entry| entry.header.name == b".PKGINFO")
            .map(|entry| entry.content.as_slice())
            .ok_or_else(|| Error::NoPkgInfo {
                package: package.to_owned(),
            })?;
        let pkginfo = pkginfo::parse(pkginfo_text).map_err(|source| Error::PkgInfo {
            package: package.to_owned(),
            source,
        })?;
        let stream = Arc::new(Mutex::new(DataStream {
            source,
            decoder: Some(decoder),
            member: data_number,
            produced: 0,
            limit: limits.data,
        }));
        Ok(PackageReader {
            package: package.to_owned(),
            signature,
            signatures,
            control: control.member,
            control_raw: control.raw.unwrap_or_default(),
            control_tar: control.content,
            control_entries,
            pkginfo,
            data_start,
            data_member: data_number,
            tar: tar::Reader::new(Shared(Arc::clone(&stream))),
            stream,
            current: None,
            ended: false,
        })
    }

    /// The name used in errors.
    pub fn package(&self) -> &str {
        &self.package
    }

    /// Bytes of the signature and control members this reader keeps in memory (raw, decoded and
    /// split into entries) while the data member streams through fixed-size buffers.
    pub fn held_bytes(&self) -> u64 {
        let signatures: usize = self
            .signatures
            .iter()
            .map(|s| s.value.len() + s.key_name.len())
            .sum();
        let entries: usize = self
            .control_entries
            .iter()
            .map(|e| e.content.len() + e.header.name.len())
            .sum();
        (signatures + self.control_raw.len() + self.control_tar.len() + entries) as u64
    }

    /// The parsed `.PKGINFO`.
    pub fn pkginfo(&self) -> &PkgInfo {
        &self.pkginfo
    }

    /// The signature member's range and SHA-1, when the package is signed.
    pub fn signature_member(&self) -> Option<&Member<Sha1Digest>> {
        self.signature.as_ref()
    }

    /// The signature entries (`.SIGN.RSA*`) of the signature member.
    pub fn signatures(&self) -> &[Signature] {
        &self.signatures
    }

    /// The control member's range and SHA-1 (the `C:` checksum).
    pub fn control_member(&self) -> &Member<Sha1Digest> {
        &self.control
    }

    /// The raw (compressed) bytes of the control member, as signed.
    pub fn control_raw(&self) -> &[u8] {
        &self.control_raw
    }

    /// The decompressed control tar (what `apk::installed` appends scripts from).
    pub fn control_tar(&self) -> &[u8] {
        &self.control_tar
    }

    /// The control tar's entries (`.PKGINFO`, scripts, …) with their content.
    pub fn control_entries(&self) -> &[FileEntry] {
        &self.control_entries
    }

    /// Checks the control member against the expected `C:` checksum (SHA-1 bytes).
    pub fn verify_control(&self, expected: &[u8]) -> Result<(), Error> {
        super::check_control(&self.package, &self.control.digest, expected)
    }

    /// Checks the per-package signature with keys found by file name (e.g. `melange.rsa.pub`);
    /// returns the signature that verified.
    pub fn verify_signature<'k>(
        &self,
        lookup: impl Fn(&str) -> Option<&'k rsa::PublicKey>,
    ) -> Result<&Signature, Error> {
        signature::verify_any(&self.package, &self.signatures, &self.control_raw, lookup)
    }

    /// Compares the current file's SHA-1 with its record once its content is fully read.
    fn settle(&mut self) -> Result<(), Error> {
        let Some(current) = self.current.as_mut().filter(|c| c.remaining == 0) else {
            return Ok(());
        };
        let Some((expected, hasher)) = current.check.take() else {
            return Ok(());
        };
        let actual = hasher.finalize();
        if actual.as_slice() == expected.as_slice() {
            return Ok(());
        }
        Err(Error::FileChecksum {
            package: self.package.clone(),
            path: current.path.clone(),
            expected: hex::encode(&expected),
            actual: hex::encode(actual),
        })
    }

    /// Reads content of the current data entry; `Ok(0)` at its end (after its checksum held).
    pub fn read_content(&mut self, buffer: &mut [u8]) -> Result<usize, Error> {
        let Some(current) = &mut self.current else {
            return Ok(0);
        };
        let want = usize::try_from(current.remaining)
            .unwrap_or(usize::MAX)
            .min(buffer.len());
        let Some(target) = buffer.get_mut(..want).filter(|t| !t.is_empty()) else {
            return Ok(0);
        };
        let count = self
            .tar
            .read(target)
            .map_err(|e| io_error(&self.package, self.data_member, self.tar.offset(), e))?;
        if count == 0 {
            return Err(Error::Tar {
                package: self.package.clone(),
                member: self.data_member,
                source: tar::Error::Truncated {
                    offset: self.tar.offset(),
                },
            });
        }
        current.remaining -= count as u64;
        if let Some((_, hasher)) = &mut current.check {
            hasher.update(target.get(..count).unwrap_or_default());
        }
        self.settle()?;
        Ok(count)
    }

    /// Skips the rest of the current entry's content, still checking it.
    fn skip_content(&mut self) -> Result<(), Error> {
        let mut scratch = [0u8; 16 * 1024];
        while self.current.as_ref().is_some_and(|c| c.remaining > 0) {
            self.read_content(&mut scratch)?;
        }
        Ok(())
    }

    /// The next entry of the data tar; `None` after the last.
    pub fn next_entry(&mut self) -> Result<Option<Header>, Error> {
        if self.ended {
            return Ok(None);
        }
        self.skip_content()?;
        self.current = None;
        let next = self
            .tar
            .next_header()
            .map_err(|e| tar_error(&self.package, self.data_member, e))?;
        let Some(header) = next else {
            self.ended = true;
            return Ok(None);
        };
        let path = String::from_utf8_lossy(&header.name).into_owned();
        let mut check = None;
        if header.typeflag == EntryType::REGULAR
            && let Some(record) = header.pax_records.get(CHECKSUM_RECORD)
        {
            let expected = decode_checksum(record).ok_or_else(|| Error::FileChecksumFormat {
                package: self.package.clone(),
                path: path.clone(),
                value: String::from_utf8_lossy(record).into_owned(),
            })?;
            check = Some((expected, sha1::Sha1::new()));
        }
        let remaining = if header.typeflag.is_header_only() {
            0
        } else {
            u64::try_from(header.size).unwrap_or(0)
        };
        self.current = Some(Current {
            path,
            remaining,
            check,
        });
        self.settle()?;
        Ok(Some(header))
    }

    /// Reads and checks the remaining entries, reads the data member to end of file and checks
    /// `datahash`; returns the byte layout of the package.
    pub fn finish(mut self) -> Result<Layout, Error> {
        while self.next_entry()?.is_some() {}
        // apko reads the decompressed data to its end after the tar (`io.Copy(io.Discard, …)`).
        let mut stream = self.stream.lock().map_err(|_| Error::Io {
            package: self.package.clone(),
            source: io::Error::other("data stream lock poisoned"),
        })?;
        let mut scratch = [0u8; 16 * 1024];
        while stream.read_some(&mut scratch)? > 0 {}
        let last = stream.source.offset().saturating_sub(1);
        let uncompressed = stream.produced;
        let actual = match stream.source.finish().0 {
            Some(Running::Sha256(hasher)) => Sha256Digest(hasher.finalize().into()),
            _ => Sha256Digest([0; 32]),
        };
        drop(stream);
        let expected = &self.pkginfo.package.data_hash;
        let decoded = hex::decode(expected).map_err(|_| Error::DataHashFormat {
            package: self.package.clone(),
            value: expected.clone(),
        })?;
        if decoded.as_slice() != actual.0.as_slice() {
            return Err(Error::DataHash {
                package: self.package.clone(),
                expected: expected.clone(),
                actual: actual.hex(),
            });
        }
        Ok(Layout {
            signature: self.signature,
            control: self.control,
            data: Member {
                range: ByteRange {
                    first: self.data_start,
                    last,
                },
                digest: actual,
                uncompressed,
            },
        })
    }
}

impl<R: Read> Read for PackageReader<R> {
    /// The current entry's content; errors are [`Error`] values inside `io::Error::other`.
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        self.read_content(buffer).map_err(std::io::Error::other)
    }
}

/// `APK-TOOLS.checksum.SHA1` is hex; `Q1` + base64 is also accepted (apko `checksumFromHeader`).
fn decode_checksum(record: &[u8]) -> Option<Vec<u8>> {
    match record.strip_prefix(b"Q1") {
        Some(encoded) => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok(),
        None => hex::decode(record).ok(),
    }
}

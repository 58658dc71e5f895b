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

use std::io::Read;

use base64::Engine as _;
use sha1::Digest as _;

use super::entry::{Entry, EntryKind};
use super::gzip::{Capture, MemberDecoder, Running, Source};
use super::signature::{self, Signature};
use super::tar::{Inflow, TarReader};
use super::{ByteRange, Error, Layout, Limits, Member, Sha1Digest, Sha256Digest};
use crate::apk::pkginfo::{self, PkgInfo};

/// Decompressed data member: the remaining gzip members of the file, one after the other
/// (apko's data reader is a multistream gzip reader).
pub(super) struct DataStream<R> {
    source: Source<R>,
    decoder: Option<MemberDecoder>,
    member: usize,
    produced: u64,
    limit: u64,
}

impl<R: Read> Inflow for DataStream<R> {
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

/// The regular file whose content is being read, and what its content must hash to.
struct FileCheck {
    path: String,
    expected: Vec<u8>,
    hasher: sha1::Sha1,
}

/// A package being read. See the module documentation for the order of checks.
pub struct PackageReader<R: Read> {
    package: String,
    signature: Option<Member<Sha1Digest>>,
    signatures: Vec<Signature>,
    control: Member<Sha1Digest>,
    control_raw: Vec<u8>,
    control_entries: Vec<(Entry, Vec<u8>)>,
    pkginfo: PkgInfo,
    data_start: u64,
    tar: TarReader<DataStream<R>>,
    check: Option<FileCheck>,
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
fn tar_entries(bytes: &[u8], package: &str, member: usize) -> Result<Vec<(Entry, Vec<u8>)>, Error> {
    let mut tar = TarReader::new(bytes, package.to_owned(), member);
    let mut entries = Vec::new();
    while let Some(entry) = tar.next_entry()? {
        let mut content = vec![0u8; usize::try_from(tar.remaining()).unwrap_or(0)];
        let mut filled = 0;
        while let Some(rest) = content.get_mut(filled..).filter(|rest| !rest.is_empty()) {
            filled += tar.read_content(rest)?;
        }
        entries.push((entry, content));
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
        let Some((first_entry, _)) = first_entries.first() else {
            return Err(Error::Tar {
                package: package.to_owned(),
                member: 1,
                offset: 0,
                what: "first member holds no tar entry",
            });
        };
        let signed = first_entry.path.starts_with(".SIGN.");
        let (signature, signatures, control, control_entries) = if signed {
            let signatures = first_entries
                .into_iter()
                .filter_map(|(entry, content)| Signature::from_entry(&entry.path, content))
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
            .find(|(entry, _)| entry.path == ".PKGINFO")
            .map(|(_, content)| content.as_slice())
            .ok_or_else(|| Error::NoPkgInfo {
                package: package.to_owned(),
            })?;
        let pkginfo = pkginfo::parse(pkginfo_text).map_err(|source| Error::PkgInfo {
            package: package.to_owned(),
            source,
        })?;
        let stream = DataStream {
            source,
            decoder: Some(decoder),
            member: data_number,
            produced: 0,
            limit: limits.data,
        };
        Ok(PackageReader {
            package: package.to_owned(),
            signature,
            signatures,
            control: control.member,
            control_raw: control.raw.unwrap_or_default(),
            control_entries,
            pkginfo,
            data_start,
            tar: TarReader::new(stream, package.to_owned(), data_number),
            check: None,
        })
    }

    /// The name used in errors.
    pub fn package(&self) -> &str {
        &self.package
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

    /// The control tar's entries (`.PKGINFO`, scripts, …) with their content.
    pub fn control_entries(&self) -> &[(Entry, Vec<u8>)] {
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

    /// Completes the per-file check of the current entry once its content is fully read.
    fn settle(&mut self) -> Result<(), Error> {
        if self.tar.remaining() > 0 {
            return Ok(());
        }
        let Some(check) = self.check.take() else {
            return Ok(());
        };
        let actual = check.hasher.finalize();
        if actual.as_slice() == check.expected.as_slice() {
            return Ok(());
        }
        Err(Error::FileChecksum {
            package: self.package.clone(),
            path: check.path,
            expected: hex::encode(&check.expected),
            actual: hex::encode(actual),
        })
    }

    /// Reads content of the current data entry; `Ok(0)` at its end (after its checksum held).
    pub fn read_content(&mut self, buffer: &mut [u8]) -> Result<usize, Error> {
        let count = self.tar.read_content(buffer)?;
        if let Some(check) = &mut self.check {
            check.hasher.update(buffer.get(..count).unwrap_or_default());
        }
        self.settle()?;
        Ok(count)
    }

    /// Skips the rest of the current entry's content, still checking it.
    fn skip_content(&mut self) -> Result<(), Error> {
        let mut scratch = [0u8; 16 * 1024];
        while self.tar.remaining() > 0 {
            self.read_content(&mut scratch)?;
        }
        self.settle()
    }

    /// The next entry of the data tar; `None` after the last.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, Error> {
        self.skip_content()?;
        let Some(entry) = self.tar.next_entry()? else {
            return Ok(None);
        };
        if entry.kind == EntryKind::Regular
            && let Some(record) = entry.checksum_record()
        {
            let expected = decode_checksum(record).ok_or_else(|| Error::FileChecksumFormat {
                package: self.package.clone(),
                path: entry.path.clone(),
                value: String::from_utf8_lossy(record).into_owned(),
            })?;
            self.check = Some(FileCheck {
                path: entry.path.clone(),
                expected,
                hasher: sha1::Sha1::new(),
            });
            self.settle()?;
        }
        Ok(Some(entry))
    }

    /// Reads and checks the remaining entries, reads the data member to end of file and checks
    /// `datahash`; returns the byte layout of the package.
    pub fn finish(mut self) -> Result<Layout, Error> {
        while self.next_entry()?.is_some() {}
        self.tar.drain()?;
        let stream = self.tar.source_mut();
        let last = stream.source.offset().saturating_sub(1);
        let uncompressed = stream.produced;
        let actual = match stream.source.finish().0 {
            Some(Running::Sha256(hasher)) => Sha256Digest(hasher.finalize().into()),
            _ => Sha256Digest([0; 32]),
        };
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

//! APKINDEX.tar.gz archives: reading the signed index and checking its signatures.
//!
//! Takes the archive's bytes, a [`Keyring`] and a location (URL or path, only used in errors);
//! returns the parsed [`Index`] once one signature by a trusted key verifies. Pure: no network or
//! disk.
//!
//! Layout: gzip member 1 is a tar of `.SIGN.RSA.<key>` (SHA-1) or `.SIGN.RSA256.<key>` (SHA-256)
//! entries; the signature is RSA PKCS#1 v1.5 over the raw bytes from the start of member 2 to the
//! end of the file, which hold a tar of `DESCRIPTION` and `APKINDEX`.
//!
//! The tar streams are read with Go's `archive/tar` rules ([`crate::codec::tar::Reader`]), as apko
//! reads them; `APKINDEX` is parsed while it is decompressed ([`index::parse_from`]).
//!
//! Not for: fetching or caching indexes ([`super::repository`]), loading keys
//! ([`super::keyring`]) or the `APKINDEX` text itself ([`super::index`]).
//! Reproduces apko `pkg/apk/apk/index.go` `parseRepositoryIndex` and `pkg/apk/apk/apkindex.go`
//! `IndexFromArchive` (reference/apko-format.md §4.2, §5.5).

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};

use sha1::Digest as _;

use super::index::{self, Index};
use super::keyring::{KeyName, Keyring};
use crate::codec::tar;

/// apko's `DefaultMaxAPKIndexDecompressedSize`: a larger index is refused, not read.
pub const MAX_DECOMPRESSED: u64 = 300 << 20;

/// Why an APKINDEX archive cannot be read or trusted.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No trusted keys were given, so no signature can be checked.
    #[error("{index}: no keys to verify its signature")]
    NoKeys {
        /// The index's URL or path.
        index: String,
    },
    /// A gzip member is malformed or truncated.
    #[error("{index}: gzip member {member} is corrupt or truncated")]
    Gzip {
        /// The index's URL or path.
        index: String,
        /// 1-based gzip member number.
        member: usize,
        /// The decoder's complaint.
        #[source]
        source: std::io::Error,
    },
    /// The tar stream inside the gzip members is malformed or truncated.
    #[error("{index}: malformed tar stream")]
    Tar {
        /// The index's URL or path.
        index: String,
        /// The tar reader's complaint.
        #[source]
        source: tar::Error,
    },
    /// A tar entry's data ends before the size its header declares.
    #[error("{index}: tar entry {entry:?} is truncated")]
    TruncatedEntry {
        /// The index's URL or path.
        index: String,
        /// The entry's name.
        entry: String,
    },
    /// Reading stopped because the signature check running beside it failed (that failure is
    /// what [`read`] returns).
    #[error("{index}: reading stopped: its signature did not verify")]
    Stopped {
        /// The index's URL or path.
        index: String,
    },
    /// The decompressed archive exceeds [`MAX_DECOMPRESSED`].
    #[error("{index}: decompresses to more than {limit} bytes")]
    TooLarge {
        /// The index's URL or path.
        index: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The index sits in the first gzip member: the old single-stream layout, which apko refuses
    /// because signed data must start at the second member.
    #[error(
        "{index}: single gzip stream with {entry:?} in the signature member; not a signed index"
    )]
    SingleStream {
        /// The index's URL or path.
        index: String,
        /// The index entry found among the signatures.
        entry: String,
    },
    /// The signature member holds an entry that is not `.SIGN.<type>.<key>.rsa.pub`.
    #[error("{index}: entry {entry:?} in the signature member is not a signature")]
    SignatureEntry {
        /// The index's URL or path.
        index: String,
        /// The entry's name.
        entry: String,
    },
    /// The signature member holds no signature at all.
    #[error("{index}: not signed")]
    Unsigned {
        /// The index's URL or path.
        index: String,
    },
    /// No signature is both RSA (SHA-1 or SHA-256) and by a trusted key.
    #[error("{index}: no usable signature by a trusted key; signed as {}", signatures.join(", "))]
    UnknownKey {
        /// The index's URL or path.
        index: String,
        /// The signature entries found (`.SIGN.RSA.<key>`).
        signatures: Vec<String>,
    },
    /// Nothing follows the signature member, so there is no signed data.
    #[error("{index}: no index after the signature member")]
    MissingIndex {
        /// The index's URL or path.
        index: String,
    },
    /// Every signature by a trusted key failed to verify.
    #[error("{index}: signature by {} does not verify", keys.iter().map(KeyName::as_str).collect::<Vec<_>>().join(", "))]
    BadSignature {
        /// The index's URL or path.
        index: String,
        /// The trusted keys whose signatures failed.
        keys: Vec<KeyName>,
    },
    /// The archive holds an entry other than `APKINDEX`, `DESCRIPTION` and `.SIGN.*`.
    #[error("{index}: unexpected entry {entry:?}")]
    UnexpectedEntry {
        /// The index's URL or path.
        index: String,
        /// The entry's name.
        entry: String,
    },
    /// The `APKINDEX` text is malformed.
    #[error("{index}: APKINDEX text")]
    Text {
        /// The index's URL or path.
        index: String,
        /// The parser's complaint, with the line.
        #[source]
        source: index::Error,
    },
}

/// The digest a signature is computed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `.SIGN.RSA.`: RSA PKCS#1 v1.5 over SHA-1.
    RsaSha1,
    /// `.SIGN.RSA256.`: RSA PKCS#1 v1.5 over SHA-256.
    RsaSha256,
}

/// The signature that made an index trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The trusted key that verified it.
    pub key: KeyName,
    /// Its digest algorithm.
    pub algorithm: Algorithm,
}

/// An index whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIndex {
    /// The parsed index.
    pub index: Index,
    /// Who signed it.
    pub verified: Verified,
}

/// Verifies the archive against `keyring` and parses it. The signature check (a hash of the
/// signed member and an RSA verification) runs on a thread beside the decompression, which
/// itself overlaps the parsing ([`index::parse_from`]); its outcome decides first, so a bad
/// signature is the error even when the text is malformed too, and it stops the decompression
/// early. Nothing parsed is returned unless the signature verified.
pub fn read(bytes: &[u8], keyring: &Keyring, location: &str) -> Result<SignedIndex, Error> {
    let refused = AtomicBool::new(false);
    let (verified, index) = std::thread::scope(|scope| {
        let check = || {
            let verified = verify(bytes, keyring, location);
            refused.store(verified.is_err(), Ordering::Relaxed);
            verified
        };
        let checking = std::thread::Builder::new()
            .name("apkindex-verify".into())
            .spawn_scoped(scope, check);
        let index = read_members(
            Members::new(bytes, Scope::AllMembers, Some(&refused)),
            location,
        );
        let verified = match checking {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No thread to spare: check here, after the fact, as if in turn.
            Err(_) => verify(bytes, keyring, location),
        };
        (verified, index)
    });
    Ok(SignedIndex {
        verified: verified?,
        index: index?,
    })
}

/// Checks that one signature in the first gzip member, by a key in `keyring`, verifies the rest
/// of the file. Signatures by unknown keys and DSA/RSA512 signatures are skipped, as in apko.
pub fn verify(bytes: &[u8], keyring: &Keyring, location: &str) -> Result<Verified, Error> {
    if keyring.is_empty() {
        return Err(Error::NoKeys {
            index: location.to_owned(),
        });
    }
    let mut seen = Vec::new();
    let mut usable = Vec::new();
    let mut members = Members::new(bytes, Scope::FirstMember, None);
    let read = for_each_entry(&mut members, location, |name, declared, entry| {
        let Some((kind, signer)) = parse_signature_name(&name) else {
            return Err(if name == "APKINDEX" || name == "DESCRIPTION" {
                Error::SingleStream {
                    index: location.to_owned(),
                    entry: name,
                }
            } else {
                Error::SignatureEntry {
                    index: location.to_owned(),
                    entry: name,
                }
            });
        };
        let contents = read_contents(entry, &name, declared, location)?;
        let algorithm = match kind {
            "RSA" => Some(Algorithm::RsaSha1),
            "RSA256" => Some(Algorithm::RsaSha256),
            // DSA is obsolete and RSA512 is not compiled into apk-tools: apko skips both.
            _ => None,
        };
        if let (Some(algorithm), Some((key_name, key))) = (algorithm, keyring.find(signer)) {
            usable.push((key_name, key, algorithm, contents));
        }
        seen.push(name);
        Ok(())
    });
    let signed_data = members.close(read, location)?;

    if seen.is_empty() {
        return Err(Error::Unsigned {
            index: location.to_owned(),
        });
    }
    if usable.is_empty() {
        return Err(Error::UnknownKey {
            index: location.to_owned(),
            signatures: seen,
        });
    }
    if signed_data.is_empty() {
        return Err(Error::MissingIndex {
            index: location.to_owned(),
        });
    }

    let (mut sha1, mut sha256) = (None, None);
    let mut failed = Vec::new();
    for (key_name, key, algorithm, signature) in usable {
        let outcome = match algorithm {
            Algorithm::RsaSha1 => key.verify(
                rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
                sha1.get_or_insert_with(|| sha1::Sha1::digest(signed_data)),
                &signature,
            ),
            Algorithm::RsaSha256 => key.verify(
                rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                sha256.get_or_insert_with(|| sha2::Sha256::digest(signed_data)),
                &signature,
            ),
        };
        if outcome.is_ok() {
            return Ok(Verified {
                key: key_name.clone(),
                algorithm,
            });
        }
        failed.push(key_name.clone());
    }
    Err(Error::BadSignature {
        index: location.to_owned(),
        keys: failed,
    })
}

/// Parses the archive without checking signatures, as apko's `IndexFromArchive` (used for
/// `--ignore-signatures` and the single-stream layout). All gzip members are read as one tar
/// stream; only `APKINDEX`, `DESCRIPTION` and `.SIGN.*` entries are allowed. Stricter than
/// apko, which stops at the tar's end: every member is read to its end, so a truncated trailer or
/// trailing garbage is an error rather than silently ignored.
pub fn read_unverified(bytes: &[u8], location: &str) -> Result<Index, Error> {
    read_members(Members::new(bytes, Scope::AllMembers, None), location)
}

/// [`read_unverified`] over `members`.
fn read_members(mut members: Members<'_>, location: &str) -> Result<Index, Error> {
    let mut parsed = Index::default();
    let read = for_each_entry(&mut members, location, |name, declared, entry| {
        parse_entry(entry, name, declared, location, &mut parsed)
    });
    members.close(read, location)?;
    Ok(parsed)
}

/// One entry of an index archive: `APKINDEX` parsed as it is decompressed, `DESCRIPTION` kept,
/// signatures skipped, anything else refused.
fn parse_entry<R: Read>(
    entry: &mut tar::Reader<R>,
    name: String,
    declared: u64,
    location: &str,
    parsed: &mut Index,
) -> Result<(), Error> {
    if name == "APKINDEX" {
        let (packages, read) = index::parse_from(&mut *entry).map_err(|error| match error {
            index::StreamError::Read(source) => data_error(entry, &name, source, location),
            index::StreamError::Text(source) => Error::Text {
                index: location.to_owned(),
                source,
            },
        })?;
        if read != declared {
            return Err(Error::TruncatedEntry {
                index: location.to_owned(),
                entry: name,
            });
        }
        parsed.packages = packages;
        return Ok(());
    }
    let contents = read_contents(entry, &name, declared, location)?;
    if name == "DESCRIPTION" {
        parsed.description = String::from_utf8_lossy(&contents).into_owned();
    } else if !name.starts_with(".SIGN.") {
        return Err(Error::UnexpectedEntry {
            index: location.to_owned(),
            entry: name,
        });
    }
    Ok(())
}

/// Splits `.SIGN.<type>.<key>` into type and key, where the key must end in `.rsa.pub`
/// (apko's `^\.SIGN\.(DSA|RSA|RSA256|RSA512)\.(.*\.rsa\.pub)$`).
fn parse_signature_name(name: &str) -> Option<(&str, &str)> {
    let (kind, key) = name.strip_prefix(".SIGN.")?.split_once('.')?;
    let known = matches!(kind, "DSA" | "RSA" | "RSA256" | "RSA512");
    (known && key.ends_with(".rsa.pub") && !key.contains('\n')).then_some((kind, key))
}

/// Hands every entry of a tar stream to `visit` as `(name, declared size, reader of its data)`,
/// one at a time, with Go's `archive/tar` reader (as apko reads indexes).
fn for_each_entry<R: Read>(
    source: R,
    location: &str,
    mut visit: impl FnMut(String, u64, &mut tar::Reader<R>) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut reader = tar::Reader::new(source);
    while let Some(header) = reader.next_header().map_err(|source| Error::Tar {
        index: location.to_owned(),
        source,
    })? {
        let name = String::from_utf8_lossy(&header.name).into_owned();
        // The reader refuses negative sizes; header-only entries carry no data whatever it says.
        let declared = if header.typeflag.is_header_only() {
            0
        } else {
            u64::try_from(header.size).unwrap_or(0)
        };
        if declared > MAX_DECOMPRESSED {
            return Err(Error::TooLarge {
                index: location.to_owned(),
                limit: MAX_DECOMPRESSED,
            });
        }
        visit(name, declared, &mut reader)?;
    }
    Ok(())
}

/// The whole data of the current entry.
fn read_contents<R: Read>(
    entry: &mut tar::Reader<R>,
    name: &str,
    declared: u64,
    location: &str,
) -> Result<Vec<u8>, Error> {
    // Reserve what the header declares (bounded) so the entry is read in large chunks.
    let mut contents = Vec::with_capacity(declared.min(RESERVE_LIMIT) as usize);
    match entry.read_to_end(&mut contents) {
        Ok(_) => Ok(contents),
        Err(source) => Err(data_error(entry, name, source, location)),
    }
}

/// A failure while reading entry data: the stream ending early is a truncated entry (a gzip
/// failure behind it is reported instead by [`Members::close`]).
fn data_error<R: Read>(
    entry: &tar::Reader<R>,
    name: &str,
    source: std::io::Error,
    location: &str,
) -> Error {
    if source.kind() == std::io::ErrorKind::UnexpectedEof {
        Error::TruncatedEntry {
            index: location.to_owned(),
            entry: name.to_owned(),
        }
    } else {
        Error::Tar {
            index: location.to_owned(),
            source: tar::Error::Read {
                offset: entry.offset(),
                source,
            },
        }
    }
}

/// The most memory reserved ahead from a tar header's declared size, which is not yet trusted.
const RESERVE_LIMIT: u64 = 64 << 20;

/// How far [`Members`] reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Stop at the end of the first gzip member (Go's `Multistream(false)`), leaving the rest.
    FirstMember,
    /// Read every member as one stream (Go's default multistream reader).
    AllMembers,
}

/// Gzip members of a file read as one stream, capped at [`MAX_DECOMPRESSED`]. Failures are
/// remembered so that an error surfacing through the tar reader can be reported as what it is.
struct Members<'a> {
    scope: Scope,
    /// The raw bytes not yet handed to a decoder: after the first member (in
    /// [`Scope::FirstMember`]), exactly the signed data.
    rest: &'a [u8],
    current: Option<flate2::bufread::GzDecoder<&'a [u8]>>,
    member: usize,
    total: u64,
    failure: Option<Failure>,
    /// Set when the signature check beside this read failed: reading further is wasted work.
    stop: Option<&'a AtomicBool>,
}

enum Failure {
    Gzip(usize, std::io::Error),
    TooLarge,
    Stopped,
}

impl<'a> Members<'a> {
    fn new(bytes: &'a [u8], scope: Scope, stop: Option<&'a AtomicBool>) -> Self {
        Self {
            scope,
            rest: bytes,
            current: None,
            member: 0,
            total: 0,
            failure: None,
            stop,
        }
    }

    /// Reads to the end of the scope (what the tar reader left: padding, end-of-archive blocks,
    /// gzip trailers, later members) and returns the raw bytes after it: in
    /// [`Scope::FirstMember`], the signed data. A gzip or size failure wins over `result`: a
    /// corrupt member often shows first as a bad tar header or entry name, and the gzip check at
    /// the member's end names the real cause.
    fn close(&mut self, result: Result<(), Error>, location: &str) -> Result<&'a [u8], Error> {
        if self.failure.is_none() {
            // Any error here is recorded in `failure`.
            let _ = std::io::copy(self, &mut std::io::sink());
        }
        match self.failure.take() {
            Some(Failure::Gzip(member, source)) => Err(Error::Gzip {
                index: location.to_owned(),
                member,
                source,
            }),
            Some(Failure::TooLarge) => Err(Error::TooLarge {
                index: location.to_owned(),
                limit: MAX_DECOMPRESSED,
            }),
            Some(Failure::Stopped) => Err(Error::Stopped {
                index: location.to_owned(),
            }),
            None => result.map(|()| self.rest),
        }
    }
}

impl Read for Members<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.failure.is_some() {
                return Err(std::io::Error::other("index stream already failed"));
            }
            if self.stop.is_some_and(|stop| stop.load(Ordering::Relaxed)) {
                self.failure = Some(Failure::Stopped);
                continue;
            }
            let decoder = match &mut self.current {
                Some(decoder) => decoder,
                // An empty file is not a gzip stream; the end after a member is.
                None if self.rest.is_empty() && self.member == 0 => {
                    self.failure = Some(Failure::Gzip(1, std::io::ErrorKind::UnexpectedEof.into()));
                    continue;
                }
                None if self.rest.is_empty() => return Ok(0),
                None if self.scope == Scope::FirstMember && self.member == 1 => return Ok(0),
                None => {
                    self.member += 1;
                    let rest = std::mem::take(&mut self.rest);
                    self.current.insert(flate2::bufread::GzDecoder::new(rest))
                }
            };
            match decoder.read(buf) {
                // bufread::GzDecoder consumes exactly one member (header, deflate data, 8-byte
                // trailer), so what is left of its slice starts the next member.
                Ok(0) => {
                    if let Some(decoder) = self.current.take() {
                        self.rest = decoder.into_inner();
                    }
                }
                Ok(read) => {
                    self.total += read as u64;
                    if self.total > MAX_DECOMPRESSED {
                        self.failure = Some(Failure::TooLarge);
                        continue;
                    }
                    return Ok(read);
                }
                Err(error) => {
                    let kind = error.kind();
                    self.failure = Some(Failure::Gzip(self.member, error));
                    return Err(std::io::Error::new(kind, "gzip stream failed"));
                }
            }
        }
    }
}

//! Writing signed `.apk` v2 packages and `APKINDEX.tar.gz` archives: test support.
//!
//! Builds packages from an in-memory file list ([`FileSpec`]) or a directory tree
//! ([`files_from_dir`]): a signature member `.SIGN.RSA256.<key>` (RSA PKCS#1 v1.5 over SHA-256
//! of the raw control member), a control member with `.PKGINFO` (its `datahash` computed) and
//! scripts, and a data member whose regular files (and symlinks, as melange does) carry
//! `APK-TOOLS.checksum.SHA1`. Signature and control tars are truncated (no end-of-archive
//! blocks), as in real packages. [`build_index`] writes a signed index whose `C:` and `S:` come
//! from the packages built. Tars are written by [`crate::codec::tar::Writer`] (Go's
//! `archive/tar` rules, as melange's output). Output is deterministic: mtimes 0, files sorted
//! by path.
//!
//! Not for: reading packages ([`super::archive`]) or anything a product path relies on; this is
//! compiled into the library only so tests, benches and `examples/` share it. Layout follows
//! reference/apko-format.md §5.1–5.2 and §5.5 and melange's output.

mod example;
mod key;
mod repository;
mod synthetic;

use std::cell::RefCell;
use std::path::PathBuf;

use sha1::Digest as _;

use super::archive::{CHECKSUM_RECORD, SignatureAlgorithm};
use super::package::{Package, Text};
use crate::codec::tar::{self, EntryType, Header, PaxRecords, Timestamp};

pub use key::SigningKey;

pub use example::{example_packages, example_repository};
pub use repository::{
    PackageSigning, Repository, build_repository, files_from_dir, write_repository,
};
pub use synthetic::synthetic_packages;

/// Why a package, index or repository cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A private key does not parse.
    #[error("key {key}: not an RSA private key in PEM (PKCS#1 or PKCS#8)")]
    Key {
        /// The key's name.
        key: String,
        /// The PKCS#8 parse error.
        #[source]
        source: rsa::pkcs8::Error,
    },
    /// RSA signing failed.
    #[error("key {key}: signing failed")]
    Sign {
        /// The key's name.
        key: String,
        /// The RSA error.
        #[source]
        source: rsa::Error,
    },
    /// A metadata value would not read back the same from `.PKGINFO` or the index.
    #[error("package {package}: {field} value {value:?} cannot be written faithfully")]
    Unrepresentable {
        /// The package name.
        package: String,
        /// The `.PKGINFO` key.
        field: &'static str,
        /// The offending value.
        value: String,
    },
    /// A file path is empty, absolute or has empty, `.` or `..` components.
    #[error("package {package}: file path {path:?} is not a clean relative path")]
    FilePath {
        /// The package name.
        package: String,
        /// The offending path.
        path: String,
    },
    /// Go's tar rules cannot encode an entry (e.g. a name with a NUL byte).
    #[error("tar entry cannot be written")]
    Tar {
        /// The tar writer's complaint.
        #[source]
        source: tar::Error,
    },
    /// Compressing into memory failed.
    #[error("compressing the {what} member failed")]
    Compress {
        /// Which member.
        what: &'static str,
        /// The deflate error.
        #[source]
        source: flate2::CompressError,
    },
    /// Reading a source tree or writing a repository failed.
    #[error("{path}: file system access failed")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A source tree holds something other than directories, files and symlinks.
    #[error("{path}: unsupported file type")]
    FileType {
        /// The path involved.
        path: PathBuf,
    },
}

/// What a data tar entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    /// A directory.
    Directory,
    /// A regular file with its content.
    Regular(Vec<u8>),
    /// A symbolic link to the target.
    Symlink(String),
    /// A hard link to an earlier entry's path.
    Hardlink(String),
}

/// How the `APK-TOOLS.checksum.SHA1` record of a regular file or symlink is written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ChecksumRecord {
    /// Hex SHA-1 (melange and abuild).
    #[default]
    Hex,
    /// `Q1` + base64 SHA-1 (accepted by apko).
    Q1,
    /// No record.
    Absent,
    /// This exact text (for negative tests).
    Literal(String),
}

/// One entry of a package's data tar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    /// Relative path without leading `/` or `./`.
    pub path: String,
    /// Type and content.
    pub kind: FileKind,
    /// Permission bits.
    pub mode: u32,
    /// Owner id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// The checksum record.
    pub checksum: ChecksumRecord,
    /// Further PAX records, written after the checksum (e.g. `SCHILY.xattr.user.note`).
    pub pax: Vec<(String, String)>,
}

impl FileSpec {
    fn new(path: &str, kind: FileKind, mode: u32) -> Self {
        FileSpec {
            path: path.to_owned(),
            kind,
            mode,
            uid: 0,
            gid: 0,
            checksum: ChecksumRecord::Hex,
            pax: Vec::new(),
        }
    }

    /// A directory, mode 0755.
    pub fn directory(path: &str) -> Self {
        Self::new(path, FileKind::Directory, 0o755)
    }

    /// A regular file, mode 0644.
    pub fn file(path: &str, content: &[u8]) -> Self {
        Self::new(path, FileKind::Regular(content.to_vec()), 0o644)
    }

    /// An executable regular file, mode 0755.
    pub fn executable(path: &str, content: &[u8]) -> Self {
        Self::new(path, FileKind::Regular(content.to_vec()), 0o755)
    }

    /// A symbolic link, mode 0777.
    pub fn symlink(path: &str, target: &str) -> Self {
        Self::new(path, FileKind::Symlink(target.to_owned()), 0o777)
    }

    /// A hard link to `target`, mode 0644.
    pub fn hardlink(path: &str, target: &str) -> Self {
        Self::new(path, FileKind::Hardlink(target.to_owned()), 0o644)
    }
}

/// Everything a package is built from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PackageSpec {
    /// Metadata written to `.PKGINFO`; `checksum`, `size`, `installed_size` and `data_hash` are
    /// computed and ignored here.
    pub package: Package,
    /// `triggers` lines.
    pub triggers: Vec<String>,
    /// Control scripts by name (`.post-install`, `.trigger`, …).
    pub scripts: Vec<(String, Vec<u8>)>,
    /// Data tar entries (written sorted by path).
    pub files: Vec<FileSpec>,
}

impl PackageSpec {
    /// A spec with name, version and architecture set, origin = name, no files.
    pub fn new(name: &str, version: &str, arch: &str) -> Self {
        PackageSpec {
            package: Package {
                name: name.into(),
                version: version.into(),
                arch: arch.into(),
                origin: name.into(),
                ..Package::default()
            },
            ..PackageSpec::default()
        }
    }
}

/// A package file and the index record that describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltPackage {
    /// The `.apk` bytes.
    pub bytes: Vec<u8>,
    /// The record with `checksum` (`C:`), `size` (`S:`), `installed_size` and `data_hash` set.
    pub package: Package,
}

thread_local! {
    /// One deflate state per thread: allocating it costs more than compressing a tiny member.
    static DEFLATE: RefCell<flate2::Compress> =
        RefCell::new(flate2::Compress::new(flate2::Compression::default(), false));
}

/// One gzip member: header without name or mtime (OS "unknown", as flate2 and Go write it),
/// deflate at the default level, CRC-32 and length trailer.
fn gzip(content: &[u8], what: &'static str) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(content.len() / 2 + 64);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    DEFLATE.with(|cell| {
        let mut deflate = cell.borrow_mut();
        deflate.reset();
        loop {
            if out.len() == out.capacity() {
                out.reserve(4096);
            }
            let consumed = usize::try_from(deflate.total_in()).unwrap_or(usize::MAX);
            let input = content.get(consumed..).unwrap_or_default();
            let status = deflate
                .compress_vec(input, &mut out, flate2::FlushCompress::Finish)
                .map_err(|source| Error::Compress { what, source })?;
            if status == flate2::Status::StreamEnd {
                return Ok(());
            }
        }
    })?;
    let mut crc = flate2::Crc::new();
    crc.update(content);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    // ISIZE is the length modulo 2^32.
    #[allow(clippy::cast_possible_truncation)]
    out.extend_from_slice(&(content.len() as u32).to_le_bytes());
    Ok(out)
}

/// A value that reads back unchanged as `key = value` in `.PKGINFO` and as an index field.
fn plain(value: &str) -> bool {
    value.trim() == value
        && !value.contains(['\n', '\r', '#', ';'])
        && !value.contains("%(")
        && !value.ends_with('\\')
        && !value.starts_with(['"', '\'', '`'])
}

fn check_path(package: &str, path: &str) -> Result<(), Error> {
    let clean = !path.is_empty()
        && !path.starts_with('/')
        && path.split('/').all(|part| !matches!(part, "" | "." | ".."));
    if clean {
        Ok(())
    } else {
        Err(Error::FilePath {
            package: package.to_owned(),
            path: path.to_owned(),
        })
    }
}

/// The `.PKGINFO` text, after checking every value reads back as written.
fn pkginfo_text(spec: &PackageSpec, installed_size: u64, data_hash: &str) -> Result<String, Error> {
    let p = &spec.package;
    let unrepresentable = |field: &'static str, value: &str| Error::Unrepresentable {
        package: p.name.to_string(),
        field,
        value: value.to_owned(),
    };
    let mut text = String::from("# Generated by receipts (test support)\n");
    let scalars = [
        ("pkgname", p.name.as_str()),
        ("pkgver", p.version.as_str()),
        ("arch", p.arch.as_str()),
        ("size", &installed_size.to_string()),
        ("origin", p.origin.as_str()),
        ("pkgdesc", p.description.as_str()),
        ("url", p.url.as_str()),
        ("commit", p.commit.as_str()),
        ("builddate", &p.build_time.to_string()),
        ("maintainer", p.maintainer.as_str()),
        ("license", p.license.as_str()),
    ]
    .map(|(key, value)| (key, value.to_owned()));
    for (key, value) in &scalars {
        if !plain(value) {
            return Err(unrepresentable(key, value));
        }
        text.push_str(&format!("{key} = {value}\n"));
    }
    if p.provider_priority != 0 {
        text.push_str(&format!("provider_priority = {}\n", p.provider_priority));
    }
    // Index fields D:, p:, i: are space-separated, so their elements cannot hold spaces;
    // ini.v1 splits list values at commas and drops repeats.
    let lists: [(&'static str, Vec<&str>, bool); 5] = [
        (
            "depend",
            p.dependencies.iter().map(Text::as_str).collect(),
            true,
        ),
        (
            "provides",
            p.provides.iter().map(Text::as_str).collect(),
            true,
        ),
        (
            "install_if",
            p.install_if.iter().map(Text::as_str).collect(),
            true,
        ),
        (
            "replaces",
            p.replaces.iter().map(String::as_str).collect(),
            false,
        ),
        (
            "triggers",
            spec.triggers.iter().map(String::as_str).collect(),
            false,
        ),
    ];
    for (key, values, indexed) in lists {
        for (index, value) in values.iter().enumerate() {
            let repeated = values
                .get(..index)
                .is_some_and(|earlier| earlier.contains(value));
            if value.is_empty()
                || !plain(value)
                || value.contains(',')
                || (indexed && value.contains(' '))
                || repeated
            {
                return Err(unrepresentable(key, value));
            }
            text.push_str(&format!("{key} = {value}\n"));
        }
    }
    text.push_str(&format!("datahash = {data_hash}\n"));
    Ok(text)
}

/// A tar written with Go's `archive/tar` rules ([`crate::codec::tar::Writer`]).
struct TarOut(tar::Writer<Vec<u8>>);

impl TarOut {
    fn new() -> Self {
        TarOut(tar::Writer::new(Vec::new()))
    }

    fn append(&mut self, header: &Header, content: &[u8]) -> Result<(), Error> {
        self.0
            .append(header, content)
            .map_err(|source| Error::Tar { source })
    }

    /// Without end-of-archive blocks (signature and control members).
    fn truncated(self) -> Vec<u8> {
        self.0.get_ref().clone()
    }

    /// With the two end-of-archive blocks.
    fn finished(self) -> Result<Vec<u8>, Error> {
        self.0.finish().map_err(|source| Error::Tar { source })
    }
}

/// A header owned by root (`root`/`root` names for id 0, as melange writes), mtime 0.
fn header(path: &str, typeflag: EntryType, mode: u32, size: usize) -> Header {
    Header {
        typeflag,
        name: path.as_bytes().to_vec(),
        size: i64::try_from(size).unwrap_or(i64::MAX),
        mode: i64::from(mode),
        uname: b"root".to_vec(),
        gname: b"root".to_vec(),
        mtime: Timestamp::from_seconds(0),
        ..Header::default()
    }
}

fn owner_name(id: u32) -> Vec<u8> {
    if id == 0 {
        b"root".to_vec()
    } else {
        Vec::new()
    }
}

fn data_tar(spec: &PackageSpec) -> Result<(Vec<u8>, u64), Error> {
    let mut files: Vec<&FileSpec> = spec.files.iter().collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut tar = TarOut::new();
    let mut installed_size = 0u64;
    for file in files {
        check_path(&spec.package.name, &file.path)?;
        let (typeflag, content, link, hashed): (EntryType, &[u8], &str, Option<&[u8]>) = match &file
            .kind
        {
            FileKind::Directory => (EntryType::DIRECTORY, &[], "", None),
            FileKind::Regular(content) => (EntryType::REGULAR, content, "", Some(content)),
            FileKind::Symlink(target) => (EntryType::SYMLINK, &[], target, Some(target.as_bytes())),
            FileKind::Hardlink(target) => (EntryType::HARDLINK, &[], target, None),
        };
        installed_size += content.len() as u64;
        let record = hashed.and_then(|bytes| {
            let digest = sha1::Sha1::digest(bytes);
            match &file.checksum {
                ChecksumRecord::Hex => Some(hex::encode(digest)),
                ChecksumRecord::Q1 => Some(format!(
                    "Q1{}",
                    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, digest)
                )),
                ChecksumRecord::Absent => None,
                ChecksumRecord::Literal(text) => Some(text.clone()),
            }
        });
        let mut records = PaxRecords::new();
        if let Some(value) = record {
            records.insert(CHECKSUM_RECORD, value);
        }
        for (key, value) in &file.pax {
            records.insert(key.as_bytes(), value.as_bytes());
        }
        let mut entry = header(&file.path, typeflag, file.mode, content.len());
        entry.linkname = link.as_bytes().to_vec();
        entry.uid = i64::from(file.uid);
        entry.gid = i64::from(file.gid);
        entry.uname = owner_name(file.uid);
        entry.gname = owner_name(file.gid);
        entry.pax_records = records;
        tar.append(&entry, content)?;
    }
    Ok((tar.finished()?, installed_size))
}

/// A one-entry tar holding `.SIGN.RSA256.<key>`, truncated as in real packages and indexes.
fn signature_member(key: &SigningKey, signed: &[u8]) -> Result<Vec<u8>, Error> {
    let algorithm = SignatureAlgorithm::RsaSha256;
    let signature = key.sign(algorithm, signed)?;
    let name = format!("{}{}", algorithm.entry_prefix(), key.name());
    let mut tar = TarOut::new();
    tar.append(
        &header(&name, EntryType::REGULAR, 0o644, signature.len()),
        &signature,
    )?;
    gzip(&tar.truncated(), "signature")
}

/// Builds one package; signs it when a key is given.
pub fn build_package(spec: &PackageSpec, key: Option<&SigningKey>) -> Result<BuiltPackage, Error> {
    let (data, installed_size) = data_tar(spec)?;
    let data_member = gzip(&data, "data")?;
    let data_hash = hex::encode(sha2::Sha256::digest(&data_member));
    let pkginfo = pkginfo_text(spec, installed_size, &data_hash)?;
    let mut control = TarOut::new();
    control.append(
        &header(".PKGINFO", EntryType::REGULAR, 0o644, pkginfo.len()),
        pkginfo.as_bytes(),
    )?;
    let mut scripts: Vec<&(String, Vec<u8>)> = spec.scripts.iter().collect();
    scripts.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, content) in scripts {
        check_path(&spec.package.name, name)?;
        control.append(
            &header(name, EntryType::REGULAR, 0o755, content.len()),
            content,
        )?;
    }
    let control_member = gzip(&control.truncated(), "control")?;
    let signature = match key {
        Some(key) => signature_member(key, &control_member)?,
        None => Vec::new(),
    };
    let bytes = [signature, control_member.clone(), data_member].concat();
    let package = Package {
        checksum: sha1::Sha1::digest(&control_member).to_vec(),
        size: bytes.len() as u64,
        installed_size,
        data_hash,
        ..spec.package.clone()
    };
    Ok(BuiltPackage { bytes, package })
}

/// Whether an index line is written when its value is empty.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Presence {
    Always,
    WhenSet,
}

/// The APKINDEX text for `packages`, in the given order (fields as apko's index template).
pub fn index_text(packages: &[Package]) -> String {
    use Presence::{Always, WhenSet};
    let mut text = String::new();
    for p in packages {
        let lines = [
            ('C', p.checksum_string(), Always),
            ('P', p.name.to_string(), Always),
            ('V', p.version.to_string(), Always),
            ('A', p.arch.to_string(), WhenSet),
            ('S', nonzero(p.size), WhenSet),
            ('I', nonzero(p.installed_size), WhenSet),
            ('T', p.description.to_string(), Always),
            ('U', p.url.to_string(), WhenSet),
            ('L', p.license.to_string(), WhenSet),
            ('o', p.origin.to_string(), WhenSet),
            ('m', p.maintainer.to_string(), WhenSet),
            ('t', p.build_time.to_string(), Always),
            ('c', p.commit.to_string(), WhenSet),
            ('D', p.dependencies.join(" "), WhenSet),
            ('i', p.install_if.join(" "), WhenSet),
            ('p', p.provides.join(" "), WhenSet),
            ('k', nonzero(p.provider_priority), WhenSet),
        ];
        for (letter, value, presence) in lines {
            if presence == Always || !value.is_empty() {
                text.push_str(&format!("{letter}:{value}\n"));
            }
        }
        text.push('\n');
    }
    text
}

fn nonzero(value: u64) -> String {
    if value == 0 {
        String::new()
    } else {
        value.to_string()
    }
}

/// A signed `APKINDEX.tar.gz`: member 1 = `.SIGN.RSA256.<key>` over the raw member 2, member 2 =
/// a tar with `APKINDEX` and `DESCRIPTION`.
pub fn build_index(
    packages: &[Package],
    description: &str,
    key: &SigningKey,
) -> Result<Vec<u8>, Error> {
    let text = index_text(packages);
    let mut tar = TarOut::new();
    tar.append(
        &header("APKINDEX", EntryType::REGULAR, 0o644, text.len()),
        text.as_bytes(),
    )?;
    tar.append(
        &header("DESCRIPTION", EntryType::REGULAR, 0o644, description.len()),
        description.as_bytes(),
    )?;
    let index_member = gzip(&tar.finished()?, "index")?;
    let signature = signature_member(key, &index_member)?;
    Ok([signature, index_member].concat())
}

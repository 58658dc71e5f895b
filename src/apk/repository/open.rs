//! Packages as open files: a package is read where it lies (a local repository, the download
//! cache) or downloaded into the cache first, never held whole in memory.
//!
//! Before a file is handed out its control member is checked against the index's `C:`, reading
//! only the signature and control members (a few kilobytes); the data member is left to the
//! reader, which verifies `datahash` while it streams ([`crate::apk::archive::PackageReader`]).
//!
//! Not for: reading a package's contents ([`crate::apk::archive`]) or indexes and keys (the
//! parent module). Reproduces apko's package fetch through its cache
//! (reference/apko-format.md §4.7, §5.1, §5.2), as the in-memory [`super::Fetcher::fetch_package`]
//! does.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use reqwest::Url;
use sha1::Digest as _;

use super::{Error, Fetcher, Location, Network, Package, Repository, cache, parse_url};

/// A package's `.apk` file, opened at its start, its control member already checked.
#[derive(Debug)]
pub struct PackageFile {
    file: BufReader<File>,
    len: u64,
}

impl PackageFile {
    /// The file's size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty (it never is once checked).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Read for PackageFile {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        self.file.read(buffer)
    }
}

impl Fetcher {
    /// `package` from `repository` as an open file (see [`Fetcher::fetch_package`] for where it
    /// comes from and what is checked).
    pub fn open_package(
        &self,
        repository: &Repository,
        arch: &str,
        package: &Package,
    ) -> Result<PackageFile, Error> {
        let location = repository.package_url(arch, package);
        match &repository.location {
            Location::Local(_) => open_local(Path::new(&location), package, &location),
            Location::Remote(_) => self.open_remote(parse_url(&location)?, package),
        }
    }

    /// The `.apk` a lock file names, as an open file (see [`Fetcher::fetch_package_url`]).
    pub fn open_package_url(
        &self,
        url: &str,
        base_dir: &Path,
        package: &Package,
    ) -> Result<PackageFile, Error> {
        let path = if url.starts_with("https://") || url.starts_with("http://") {
            return self.open_remote(parse_url(url)?, package);
        } else if url.starts_with("file://") {
            parse_url(url)?.to_file_path().map_err(|()| Error::Parse {
                line: url.to_owned(),
                problem: "not a local file URL",
            })?
        } else if url.contains("://") {
            return Err(Error::Parse {
                line: url.to_owned(),
                problem: "only http, https and file URLs are supported",
            });
        } else {
            base_dir.join(url)
        };
        open_local(&path, package, &path.display().to_string())
    }

    fn open_remote(&self, url: Url, package: &Package) -> Result<PackageFile, Error> {
        let label = cache::redact(&url);
        let cached = match &self.cache {
            Some(root) => Some(cache::path_for_url(root, &url).ok_or_else(|| Error::Parse {
                line: label.clone(),
                problem: "the URL names no file",
            })?),
            None => None,
        };
        // A cached copy is only as good as the index checksum it matches.
        if let Some(path) = &cached
            && !package.checksum.is_empty()
            && let Ok(file) = File::open(path)
            && let Ok(opened) = checked(file, package, &label)
        {
            return Ok(opened);
        }
        if self.network == Network::Offline {
            return Err(Error::Offline { url: label });
        }
        // Processes sharing the cache and wanting this package take turns: the first downloads,
        // the others then find its copy (and check it, as any cached copy).
        let _entry_lock = match &cached {
            Some(path) if !package.checksum.is_empty() => cache::lock_entry(path),
            _ => None,
        };
        if _entry_lock.is_some()
            && let Some(path) = &cached
            && let Ok(file) = File::open(path)
            && let Ok(opened) = checked(file, package, &label)
        {
            return Ok(opened);
        }
        let mut response = self.send(self.client()?.get(url.clone()), &url)?;
        let download = |source| Error::Download {
            url: label.clone(),
            source,
        };
        match (&cached, package.checksum.is_empty()) {
            (Some(path), false) => {
                let dir = path.parent().unwrap_or(Path::new("."));
                let failed = |source| Error::CacheWrite {
                    path: path.to_owned(),
                    source,
                };
                std::fs::create_dir_all(dir).map_err(failed)?;
                let mut temporary = tempfile::NamedTempFile::new_in(dir).map_err(failed)?;
                copy_body(&mut response, temporary.as_file_mut()).map_err(download)?;
                temporary.flush().map_err(failed)?;
                let file = temporary.reopen().map_err(failed)?;
                let opened = checked(file, package, &label)?;
                temporary
                    .persist(path)
                    .map_err(|error| failed(error.error))?;
                Ok(opened)
            }
            // Not cached (as before): an anonymous file that disappears when closed.
            _ => {
                let mut file = tempfile::tempfile().map_err(|source| Error::CacheWrite {
                    path: std::env::temp_dir(),
                    source,
                })?;
                copy_body(&mut response, &mut file).map_err(download)?;
                checked(file, package, &label)
            }
        }
    }
}

/// Copies a response body into `file`, in pieces.
fn copy_body(response: &mut reqwest::blocking::Response, file: &mut File) -> std::io::Result<()> {
    let task = crate::progress::task(
        crate::progress::Kind::Download,
        cache::redact(response.url()),
        response.content_length(),
    );
    std::io::copy(&mut task.reader(response), file)?;
    file.flush()
}

fn open_local(path: &Path, package: &Package, location: &str) -> Result<PackageFile, Error> {
    let file = File::open(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    checked(file, package, location)
}

/// `file` from its start, after its control member matched `package`'s `C:` (when it has one).
fn checked(mut file: File, package: &Package, location: &str) -> Result<PackageFile, Error> {
    let not_apk = |source| Error::Package {
        url: location.to_owned(),
        source,
    };
    let len = file.metadata().map_err(not_apk)?.len();
    if !package.checksum.is_empty() {
        let actual = control_checksum(&mut file).map_err(not_apk)?;
        if actual.as_slice() != package.checksum.as_slice() {
            let actual = Package {
                checksum: actual.to_vec(),
                ..Package::default()
            };
            return Err(Error::Checksum {
                url: location.to_owned(),
                expected: package.checksum_string(),
                actual: actual.checksum_string(),
            });
        }
        file.seek(SeekFrom::Start(0)).map_err(not_apk)?;
    }
    Ok(PackageFile {
        file: BufReader::with_capacity(1 << 16, file),
        len,
    })
}

/// [`super::control_checksum`] over a file, reading only the signature and control members.
fn control_checksum(file: &mut File) -> std::io::Result<[u8; 20]> {
    let mut source = Hashing {
        inner: BufReader::with_capacity(1 << 14, file),
        hasher: sha1::Sha1::new(),
    };
    let first_is_signature = member_starts_with(&mut source, b".SIGN.")?;
    let first = std::mem::take(&mut source.hasher).finalize();
    if !first_is_signature {
        return Ok(first.into());
    }
    member_starts_with(&mut source, b"")?;
    Ok(source.hasher.finalize().into())
}

/// Decodes one gzip member from `source` to its end; whether its content starts with `prefix`.
fn member_starts_with<R: BufRead>(source: &mut R, prefix: &[u8]) -> std::io::Result<bool> {
    if source.fill_buf()?.is_empty() {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let mut decoder = flate2::bufread::GzDecoder::new(source);
    let mut head = Vec::new();
    (&mut decoder).take(512).read_to_end(&mut head)?;
    std::io::copy(&mut decoder, &mut std::io::sink())?;
    Ok(head.starts_with(prefix))
}

/// A `BufRead` that hashes exactly the bytes its reader consumes.
struct Hashing<R> {
    inner: R,
    hasher: sha1::Sha1,
}

impl<R: BufRead> Read for Hashing<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let count = available.len().min(buffer.len());
        if let (Some(to), Some(from)) = (buffer.get_mut(..count), available.get(..count)) {
            to.copy_from_slice(from);
        }
        self.consume(count);
        Ok(count)
    }
}

impl<R: BufRead> BufRead for Hashing<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, count: usize) {
        // The buffer is already filled: fill_buf returns it again without reading.
        if let Ok(buffered) = self.inner.fill_buf() {
            self.hasher
                .update(buffered.get(..count).unwrap_or(buffered));
        }
        self.inner.consume(count);
    }
}

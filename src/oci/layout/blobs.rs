//! Blob files of a layout: stored atomically, read back verified.
//!
//! A blob is written to a scratch file beside its final name (`.tmp-<pid>-<random>`, locked
//! while it lives, removed on drop or a terminating signal, swept by a later writer after a
//! kill: `crate::scratch`), synced, made world-readable (0644, as ggcr's files end up) and
//! renamed into place; one already present is not written again. Reads check the digest,
//! whole or while streaming.
//!
//! Not for: `index.json` and tags (the parent module).

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::gc::SCRATCH_PREFIX;
use super::{Error, Layout};
use crate::oci::digest::{Digest, Hasher};
use crate::scratch;

impl Layout {
    /// Where the blob with this digest lives (whether or not it exists).
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.dir.join("blobs").join("sha256").join(digest.hex())
    }

    /// Whether the layout holds this blob.
    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    /// Stores `bytes` as a blob (unless present) and returns its digest.
    pub fn write_blob(&self, bytes: &[u8]) -> Result<Digest, Error> {
        let digest = Digest::of(bytes);
        let path = self.blob_path(&digest);
        if !path.is_file() {
            self.materialize()?;
            write_atomically(&path, bytes)?;
        }
        Ok(digest)
    }

    /// Streams a blob into the layout, checking on the way that it hashes to `expected`;
    /// returns its size. Nothing is read when the blob is already present.
    pub fn write_blob_from(&self, reader: &mut dyn Read, expected: &Digest) -> Result<u64, Error> {
        let path = self.blob_path(expected);
        if let Ok(metadata) = fs::metadata(&path)
            && metadata.is_file()
        {
            return Ok(metadata.len());
        }
        self.materialize()?;
        let mut file = temporary_beside(&path)?;
        let mut hasher = Hasher::new();
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            let n = match reader.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(Error::Io {
                        path: path.clone(),
                        source,
                    });
                }
            };
            let chunk = buffer.get(..n).unwrap_or_default();
            hasher.update(chunk);
            file.as_file_mut()
                .write_all(chunk)
                .map_err(|source| Error::Io {
                    path: path.clone(),
                    source,
                })?;
        }
        let size = hasher.length();
        let actual = hasher.finish();
        if actual != *expected {
            return Err(Error::DigestMismatch {
                path,
                expected: *expected,
                actual,
            });
        }
        persist(file, &path, &mut scratch::Provisional::default())?;
        Ok(size)
    }

    /// Reads a blob whole, checking its digest.
    pub fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>, Error> {
        let path = self.blob_path(digest);
        let bytes = fs::read(&path).map_err(|source| self.missing_or_io(digest, &path, source))?;
        let actual = Digest::of(&bytes);
        if actual != *digest {
            return Err(Error::DigestMismatch {
                path,
                expected: *digest,
                actual,
            });
        }
        Ok(bytes)
    }

    /// Streams a blob into `out`, checking its digest at the end; returns its size. On a
    /// mismatch `out` has already received the bytes: discard them.
    pub fn copy_blob(&self, digest: &Digest, out: &mut dyn Write) -> Result<u64, Error> {
        let path = self.blob_path(digest);
        let mut file =
            fs::File::open(&path).map_err(|source| self.missing_or_io(digest, &path, source))?;
        let mut hasher = Hasher::new();
        let mut buffer = vec![0u8; 1 << 16];
        let io_error = |source| Error::Io {
            path: path.clone(),
            source,
        };
        loop {
            let n = match file.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => return Err(io_error(source)),
            };
            let chunk = buffer.get(..n).unwrap_or_default();
            hasher.update(chunk);
            out.write_all(chunk).map_err(io_error)?;
        }
        let size = hasher.length();
        let actual = hasher.finish();
        if actual != *digest {
            return Err(Error::DigestMismatch {
                path,
                expected: *digest,
                actual,
            });
        }
        Ok(size)
    }

    /// A layout opened for writing before its directory existed (`Store::create` of a new
    /// `oci:DIR`) is created on its first blob.
    fn materialize(&self) -> Result<(), Error> {
        if self.dir.join("blobs").join("sha256").is_dir() {
            return Ok(());
        }
        Layout::create(&self.dir).map(drop)
    }

    pub(super) fn missing_or_io(&self, digest: &Digest, path: &Path, source: io::Error) -> Error {
        if source.kind() == io::ErrorKind::NotFound {
            Error::MissingBlob {
                path: self.dir.clone(),
                digest: *digest,
            }
        } else {
            Error::Io {
                path: path.into(),
                source,
            }
        }
    }
}

pub(super) fn temporary_beside(path: &Path) -> Result<scratch::File, Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    scratch::File::create_in(dir, SCRATCH_PREFIX, "").map_err(|source| Error::Io {
        path: dir.into(),
        source,
    })
}

fn persist(
    file: scratch::File,
    path: &Path,
    provisional: &mut scratch::Provisional,
) -> Result<(), Error> {
    let io_error = |source| Error::Io {
        path: path.into(),
        source,
    };
    file.as_file().sync_all().map_err(io_error)?;
    // Layouts are shared like ggcr's (0644 before umask), whatever the umask made the file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.as_file()
            .set_permissions(fs::Permissions::from_mode(0o644))
            .map_err(io_error)?;
    }
    file.persist_releasing(path, provisional).map_err(io_error)
}

pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomically_releasing(path, bytes, &mut scratch::Provisional::default())
}

/// Writes `path` atomically; in the same step as the rename, `provisional` paths (the blobs the
/// new `index.json` names) stop being removed by a terminating signal.
pub(super) fn write_atomically_releasing(
    path: &Path,
    bytes: &[u8],
    provisional: &mut scratch::Provisional,
) -> Result<(), Error> {
    let mut file = temporary_beside(path)?;
    file.as_file_mut()
        .write_all(bytes)
        .map_err(|source| Error::Io {
            path: path.into(),
            source,
        })?;
    persist(file, path, provisional)
}

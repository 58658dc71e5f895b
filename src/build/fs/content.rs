//! Where package file data lives while an image is assembled: a spool file holding each
//! package's decompressed data tar, and per package the index of its entries.
//!
//! apko expands every `.apk` into an uncompressed tar on disk and lets the in-memory tree point
//! into it ("lazy reference into the expanded APK tar"); file data is read from there only when
//! the layer is written. [`Spool`] is that disk area (one temporary file shared by all packages,
//! so an image with a thousand packages does not hold a thousand descriptors), and
//! [`PackageData`] is apko's `tarfs.FS` over one package's tar: entries in archive order, the
//! byte offset of each entry's data, and lookup by name (the last entry of a name wins).
//!
//! Not for: reading `.apk` members (`apk::archive`), the tree (`ops`).
//! Reproduces apko `pkg/apk/expandapk/tarfs/tarfs.go` (`New`, `Open`).

use super::Error;
use super::path;
use crate::codec::tar::{self, EntryType, Header};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex};

/// A temporary file that receives the decompressed data tars of the packages of one build.
///
/// Cheap to clone (a shared handle). The file has no name (`O_TMPFILE`, or unlinked as soon as
/// it is created), so it leaves nothing behind however the process ends: the space goes back
/// when the last clone and every [`PackageData`] made from it are dropped, or the process dies.
#[derive(Debug, Clone)]
pub struct Spool {
    file: Arc<Mutex<File>>,
}

impl Spool {
    /// A new, empty spool in the system's temporary directory.
    pub fn new() -> Result<Spool, Error> {
        Self::new_in(&std::env::temp_dir())
    }

    /// A new, empty spool on the filesystem of `dir` (a build's scratch area, so that gigabytes
    /// of package data do not land in a small `/tmp`).
    pub fn new_in(dir: &std::path::Path) -> Result<Spool, Error> {
        let file = tempfile::tempfile_in(dir).map_err(|source| Error::Spool { source })?;
        Ok(Spool {
            file: Arc::new(Mutex::new(file)),
        })
    }

    /// Copies a package's decompressed data tar into the spool and indexes its entries.
    ///
    /// `package` names the package in errors. The stream is read once; only headers stay in
    /// memory.
    pub fn add_data_tar(&self, package: &str, data_tar: impl Read) -> Result<PackageData, Error> {
        let mut file = self.file.lock().map_err(|_| Error::SpoolPoisoned)?;
        let base = file
            .seek(SeekFrom::End(0))
            .map_err(|source| Error::Spool { source })?;
        let mut tee = Tee {
            inner: data_tar,
            copy: BufWriter::with_capacity(1 << 20, &mut *file),
        };
        let mut entries = Vec::new();
        {
            let mut reader = tar::Reader::new(&mut tee);
            let bad_tar = |source| Error::PackageTar {
                package: package.to_owned(),
                source,
            };
            while let Some(header) = reader.next_header().map_err(bad_tar)? {
                entries.push(DataEntry {
                    offset: base + reader.offset(),
                    header,
                });
            }
        }
        // Entries' data all precede the end marker, which the reader has consumed.
        tee.copy.flush().map_err(|source| Error::Spool { source })?;
        drop(tee);
        drop(file);
        Ok(PackageData::new(self.clone(), entries))
    }

    /// Starts spooling one package entry by entry (for readers that hand out parsed headers and
    /// content, like `apk::archive::PackageReader`). The spool is locked until the writer is
    /// finished or dropped.
    pub fn package_writer(&self, package: &str) -> Result<PackageWriter<'_>, Error> {
        let mut file = self.file.lock().map_err(|_| Error::SpoolPoisoned)?;
        let position = file
            .seek(SeekFrom::End(0))
            .map_err(|source| Error::Spool { source })?;
        Ok(PackageWriter {
            spool: self,
            package: package.to_owned(),
            position,
            out: BufWriter::with_capacity(1 << 20, Locked(file)),
            entries: Vec::new(),
        })
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let mut file = self
            .file
            .lock()
            .map_err(|_| io::Error::other("spool lock poisoned"))?;
        file.seek(SeekFrom::Start(offset))?;
        file.read(buf)
    }
}

/// The spool file while one writer holds it.
struct Locked<'s>(std::sync::MutexGuard<'s, File>);

impl Write for Locked<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Spools one package's entries; see [`Spool::package_writer`].
pub struct PackageWriter<'s> {
    spool: &'s Spool,
    package: String,
    position: u64,
    out: BufWriter<Locked<'s>>,
    entries: Vec<DataEntry>,
}

impl std::fmt::Debug for PackageWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackageWriter")
            .field("package", &self.package)
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl PackageWriter<'_> {
    /// Adds an entry: its header, and (unless its type carries no data) exactly `header.size`
    /// bytes read from `content`.
    pub fn add(&mut self, header: Header, content: &mut dyn Read) -> Result<(), Error> {
        let offset = self.position;
        let size = if header.typeflag.is_header_only() {
            0
        } else {
            u64::try_from(header.size).unwrap_or(0)
        };
        let copied = io::copy(&mut content.take(size), &mut self.out)
            .map_err(|source| Error::Spool { source })?;
        if copied != size {
            return Err(Error::PackageTar {
                package: self.package.clone(),
                source: tar::Error::ContentTooShort {
                    entry: String::from_utf8_lossy(&header.name).into_owned(),
                    size,
                    written: copied,
                },
            });
        }
        self.position += size;
        self.entries.push(DataEntry { header, offset });
        Ok(())
    }

    /// The spooled package.
    pub fn finish(mut self) -> Result<PackageData, Error> {
        self.out.flush().map_err(|source| Error::Spool { source })?;
        let entries = std::mem::take(&mut self.entries);
        let spool = self.spool.clone();
        drop(self);
        Ok(PackageData::new(spool, entries))
    }
}

/// Copies what is read from `inner` into `copy`.
struct Tee<R, W: Write> {
    inner: R,
    copy: BufWriter<W>,
}

impl<R: Read, W: Write> Read for Tee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.copy.write_all(buf.get(..n).unwrap_or(buf))?;
        Ok(n)
    }
}

/// One entry of a package's data tar and where its data starts in the spool.
#[derive(Debug, Clone)]
pub struct DataEntry {
    /// The header as Go's `tar.Reader` returns it.
    pub header: Header,
    /// Offset of the entry's data in the spool.
    pub offset: u64,
}

/// A package's data tar: entries in archive order, data in the [`Spool`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PackageData {
    spool: Spool,
    entries: Arc<Vec<DataEntry>>,
    /// Name → index of the last entry with that name (tarfs keeps the last).
    by_name: Arc<HashMap<Vec<u8>, usize>>,
}

const MAX_HOPS: usize = 64;

impl PackageData {
    fn new(spool: Spool, entries: Vec<DataEntry>) -> PackageData {
        let by_name = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.header.name.clone(), i))
            .collect();
        PackageData {
            spool,
            entries: Arc::new(entries),
            by_name: Arc::new(by_name),
        }
    }

    /// The entries in archive order.
    pub fn entries(&self) -> &[DataEntry] {
        &self.entries
    }

    /// tarfs `Open(name)`: the entry named `name` (the last of that name), following symbolic
    /// and hard links inside the package; relative targets are joined to the entry's directory.
    pub(super) fn open(&self, name: &[u8]) -> Option<&DataEntry> {
        let mut name = name.to_vec();
        for _ in 0..=MAX_HOPS {
            let entry = self.entries.get(*self.by_name.get(&name)?)?;
            if entry.header.typeflag != EntryType::SYMLINK
                && entry.header.typeflag != EntryType::HARDLINK
            {
                return Some(entry);
            }
            let link = String::from_utf8_lossy(&entry.header.linkname).into_owned();
            name = if path::is_abs(&link) {
                link.into_bytes()
            } else {
                let own = String::from_utf8_lossy(&entry.header.name).into_owned();
                path::join(&[&go_path_dir(&own), &link]).into_bytes()
            };
        }
        None
    }

    /// A reader over `len` bytes of spooled data starting at `offset`.
    pub(super) fn section(&self, offset: u64, len: u64) -> Section<'_> {
        Section {
            spool: &self.spool,
            start: offset,
            len,
            pos: 0,
        }
    }
}

/// Go's `path.Dir` (tarfs uses the `path` package, which shares `Clean` with `filepath`).
fn go_path_dir(name: &str) -> String {
    path::dir(name)
}

/// A byte range of the spool.
pub(super) struct Section<'a> {
    spool: &'a Spool,
    start: u64,
    len: u64,
    pos: u64,
}

impl Section<'_> {
    /// Reads at `offset` within the section, without moving the read position.
    pub(super) fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.len.saturating_sub(offset);
        let want = usize::try_from(available)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        match buf.get_mut(..want) {
            Some(window) if !window.is_empty() => self.spool.read_at(self.start + offset, window),
            _ => Ok(0),
        }
    }
}

impl Read for Section<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.read_at(self.pos, buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

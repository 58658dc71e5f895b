//! Reading an `.apk` into a [`PackageSource`]: verified by `apk::archive` as it streams, its
//! data entries spooled, its control tar and `.PKGINFO` kept.
//!
//! Not for: the `.apk` format and its checks (`apk::archive`), the spool (`build::fs`).

use super::{Error, PackageSource};
use crate::apk::Package;
use crate::apk::archive::{self, Layout, Limits, PackageReader};
use crate::build::fs::Spool;
use std::io::{self, Read};

impl PackageSource {
    /// Reads the `.apk` in `apk` (named `name` in errors) with apko's checks — per-file SHA-1s
    /// as each entry streams into `spool`, `datahash` at the end — and returns the package to
    /// install with the package's byte layout. Signature and control-checksum checks against a
    /// keyring or a lock file are the caller's (`apk::archive`'s `verify_*`, before installing).
    ///
    /// `opened` is told, once the signature and control members are read and before the data
    /// streams, how many bytes of them this read holds in memory from then on (a memory budget
    /// gives back the rest of what it charged for the largest members `limits` allow).
    pub fn read_apk(
        spool: &Spool,
        apk: impl Read,
        name: &str,
        limits: Limits,
        opened: impl FnOnce(u64),
    ) -> Result<(PackageSource, Layout), Error> {
        let archive_error = |source| Error::Archive {
            package: name.to_owned(),
            source: Box::new(source),
        };
        let spool_error = |source| Error::Install {
            package: name.to_owned(),
            source: Box::new(source),
        };
        let mut reader = PackageReader::open(apk, name, limits).map_err(archive_error)?;
        let control_tar = reader.control_tar().to_vec();
        opened(reader.held_bytes() + control_tar.len() as u64);
        let pkginfo = reader.pkginfo().clone();
        let mut writer = spool.package_writer(name).map_err(spool_error)?;
        while let Some(header) = reader.next_entry().map_err(archive_error)? {
            let mut content = EntryContent {
                reader: &mut reader,
                failure: None,
            };
            let added = writer.add(header, &mut content);
            if let Some(failure) = content.failure {
                return Err(archive_error(failure));
            }
            added.map_err(spool_error)?;
        }
        let data = writer.finish().map_err(spool_error)?;
        let layout = reader.finish().map_err(archive_error)?;
        let package = Package {
            checksum: layout.control.digest.0.to_vec(),
            size: layout.size(),
            ..pkginfo.package
        };
        Ok((
            PackageSource {
                package,
                triggers: pkginfo.triggers,
                control_tar,
                data,
            },
            layout,
        ))
    }
}

/// The current entry's content as a `Read`, keeping the archive's own error (a checksum
/// mismatch, a truncated member) for the caller.
struct EntryContent<'a, R: Read> {
    reader: &'a mut PackageReader<R>,
    failure: Option<archive::Error>,
}

impl<R: Read> Read for EntryContent<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read_content(buf).map_err(|e| {
            let message = e.to_string();
            self.failure = Some(e);
            io::Error::other(message)
        })
    }
}

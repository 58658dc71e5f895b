//! The packages of a base image (`contents.baseimage`), recorded in the new installed database
//! before anything is installed, as apko's `buildImage` does with `AddInstalledPackage`.
//!
//! apko reads the base's APKINDEX-format list with `ParseInstalled`, whose file entries are
//! copies taken before their `M:`/`a:`/`Z:` lines are applied, and whose `i:` value is split on
//! spaces without removing the brackets. Re-serialised, every directory and file therefore has
//! default ownership and mode and no checksum, and `i:[]` becomes `i:[[]]`. Only the records
//! are written: the base's files are in its own layers.
//!
//! Not for: reading the list (`apk::installed::parse`, which keeps what apko loses), the base
//! image's layers and config (`build::image::base`). Reproduces reference/apko-format.md §10.7
//! (apko `pkg/build/build_implementation.go` `buildImage`, `pkg/apk/apk/installed.go`
//! `ParseInstalled`, `AddInstalledPackage`).

use super::{Error, fs_error};
use crate::apk::installed::{self, EntryKind, FileEntry, Record};
use crate::build::fs::{FileMode, Tree};

const INSTALLED: &str = "usr/lib/apk/db/installed";

/// Appends each base package's record, as apko re-serialises it, to the installed database.
pub(super) fn record_base_packages(tree: &mut Tree, records: &[Record]) -> Result<(), Error> {
    for record in records {
        let db_error = |source| Error::Installed {
            package: record.package.name.to_string(),
            source,
        };
        let mut package = record.package.clone();
        // ParseInstalled keeps `i:`'s brackets: the value is split as written.
        package.install_if = format!("[{}]", record.package.install_if.join(" "))
            .split(' ')
            .map(Into::into)
            .collect();
        let files: Vec<FileEntry> = record
            .files
            .iter()
            .map(|file| FileEntry {
                path: file.path.clone(),
                kind: file.kind,
                mode: match file.kind {
                    EntryKind::Directory => 0o755,
                    EntryKind::File => 0o644,
                },
                uid: 0,
                gid: 0,
                checksum: None,
            })
            .collect();
        let text = installed::record(&package, &files, |_| false).map_err(db_error)?;
        tree.append_file(INSTALLED, text.as_bytes(), FileMode(0o644))
            .map_err(fs_error(INSTALLED))?;
    }
    Ok(())
}

//! Installing the packages: files into the tree, scripts and triggers as each package goes in,
//! installed-database records once all are in, then the `/lib/apk` link.
//!
//! Not for: the tree's conflict rules (`build::fs`), the record and scripts formats
//! (`apk::installed`).
//! Reproduces apko `pkg/apk/apk/implementation.go` `InstallPackages`, `installPackage`,
//! `resolveApkDB` (reference/apko-format.md §6.4).

use super::initdb::SCRIPTS_TAR;
use super::{Error, InstalledPackage, PackageSource, fs_error};
use crate::apk::installed::{self, FileEntry};
use crate::build::fs::{FileMode, InstallPackage, Tree, path};
use crate::codec::tar::Timestamp;

const INSTALLED: &str = "usr/lib/apk/db/installed";
const TRIGGERS: &str = "usr/lib/apk/db/triggers";

/// Installs `packages` in order and records them.
pub(super) fn install(
    tree: &mut Tree,
    packages: Vec<PackageSource>,
    source_date_epoch: Timestamp,
) -> Result<Vec<InstalledPackage>, Error> {
    let mut done = Vec::with_capacity(packages.len());
    for source in packages {
        let package = source.package;
        let installed = tree
            .install_package(
                InstallPackage {
                    name: &package.name,
                    origin: &package.origin,
                    replaces: &package.replaces,
                },
                source.data,
            )
            .map_err(|source| Error::Install {
                package: package.name.to_string(),
                source: Box::new(source),
            })?;
        let db_error = |source| Error::Installed {
            package: package.name.to_string(),
            source,
        };
        tree.stat(SCRIPTS_TAR).map_err(fs_error(SCRIPTS_TAR))?;
        tree.edit_file(SCRIPTS_TAR, |scripts| {
            installed::append_scripts(
                scripts,
                &package,
                source.control_tar.as_slice(),
                Some(source_date_epoch),
            )
        })
        .map_err(fs_error(SCRIPTS_TAR))?
        .map_err(db_error)?;
        let triggers = installed::trigger_lines(&package, &source.triggers);
        tree.append_file(TRIGGERS, triggers.as_bytes(), FileMode(0))
            .map_err(fs_error(TRIGGERS))?;
        done.push((package, installed));
    }
    let mut recorded = Vec::with_capacity(done.len());
    for (package, installed) in done {
        let db_error = |source| Error::Installed {
            package: package.name.to_string(),
            source,
        };
        let files = installed
            .entries
            .iter()
            .map(FileEntry::from_tar_header)
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_error)?;
        let owner = installed.package;
        let record = installed::record(&package, &files, |file| {
            tree.owner(file).is_some_and(|o| o != owner)
        })
        .map_err(db_error)?;
        tree.append_file(INSTALLED, record.as_bytes(), FileMode(0o644))
            .map_err(fs_error(INSTALLED))?;
        recorded.push(InstalledPackage {
            id: owner,
            package,
            record: record.into_bytes(),
        });
    }
    resolve_apk_db(tree)?;
    Ok(recorded)
}

/// `resolveApkDB`: makes `/lib/apk` point at `../usr/lib/apk` unless `/lib` or `/lib/apk`
/// already lead there, replacing an empty `/lib/apk` directory tree.
fn resolve_apk_db(tree: &mut Tree) -> Result<(), Error> {
    if let Ok(target) = tree.readlink("/lib")
        && path::clean(&format!("/{target}")) == "/usr/lib"
    {
        return Ok(());
    }
    if let Ok(target) = tree.readlink("/lib/apk")
        && path::clean(&format!("/{target}")) == "/usr/lib/apk"
    {
        return Ok(());
    }
    if matches!(
        tree.stat("lib"),
        Err(crate::build::fs::Error::NotFound { .. })
    ) {
        tree.mkdir("lib", FileMode(0o755))
            .map_err(fs_error("lib"))?;
    }
    if let Ok(stat) = tree.stat("lib/apk")
        && stat.is_dir
    {
        let children = tree.read_dir("lib/apk").map_err(fs_error("lib/apk"))?;
        for (name, id) in children {
            if !tree.node(id).is_dir() {
                return Err(Error::LibApk {
                    reason: format!("contains file {name}, refusing to replace"),
                });
            }
            let child = format!("lib/apk/{name}");
            if tree.node(id).children().next().is_some() {
                return Err(Error::LibApk {
                    reason: format!("{name} is not empty, refusing to replace"),
                });
            }
            tree.remove(&child).map_err(fs_error(&child))?;
        }
        tree.remove("lib/apk").map_err(fs_error("lib/apk"))?;
    }
    tree.symlink("../usr/lib/apk", "lib/apk")
        .map_err(fs_error("lib/apk"))?;
    Ok(())
}

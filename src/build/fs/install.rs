//! Installing a package's data-tar entries into the tree: apko's `WriteHeader`.
//!
//! Not for: the installed database, scripts or triggers (`build::rootfs`), the spool
//! (`content`).
//! Reproduces apko `pkg/tarfs/fs.go` `WriteHeader`/`writeHeader` and `pkg/apk/apk/install.go`
//! `lazilyInstallAPKFiles` (reference/apko-format.md §4.8, §6.1).

use super::{Error, FileMode, Node, PackageData, PackageFile, PackageId, Tree, TreePackage};
use crate::codec::tar::{EntryType, Header};
use base64::Engine as _;
use sha1::{Digest as _, Sha1};

const CHECKSUM_RECORD: &str = "APK-TOOLS.checksum.SHA1";
const XATTR_PREFIX: &[u8] = b"SCHILY.xattr.";

/// What apko consults about a package when its files meet another package's.
#[derive(Debug, Clone, Copy)]
pub struct InstallPackage<'a> {
    /// `pkgname`.
    pub name: &'a str,
    /// `origin`.
    pub origin: &'a str,
    /// `replaces`.
    pub replaces: &'a [String],
}

/// The outcome of installing one package.
#[derive(Debug, Clone)]
pub struct Installed {
    /// The package's id in the tree (owner of the files it wrote).
    pub package: PackageId,
    /// The data-tar entries apko hands to the installed database: all of them, in archive
    /// order, after the leading hidden top-level entries.
    pub entries: Vec<Header>,
}

impl Tree {
    /// Installs every entry of `data` as apko does (see the module documentation of
    /// [`super`]): leading hidden top-level entries (`.PKGINFO`, `.SIGN…`) are skipped until
    /// the first other one.
    pub fn install_package(
        &mut self,
        package: InstallPackage<'_>,
        data: PackageData,
    ) -> Result<Installed, Error> {
        let id = PackageId(self.packages.len());
        self.packages.push(TreePackage {
            name: package.name.to_owned(),
            origin: package.origin.to_owned(),
            replaces: package.replaces.to_vec(),
            data: data.clone(),
        });
        let mut entries = Vec::new();
        let mut started = false;
        for entry in data.entries() {
            let header = &entry.header;
            let name = std::str::from_utf8(&header.name)
                .ok()
                .filter(|n| !n.is_empty())
                .ok_or_else(|| Error::BadName {
                    package: package.name.to_owned(),
                    path: String::from_utf8_lossy(&header.name).into_owned(),
                })?;
            if !started && name.starts_with('.') && !name.contains('/') {
                continue;
            }
            started = true;
            self.install_entry(package, id, name, header)?;
            entries.push(header.clone());
        }
        Ok(Installed {
            package: id,
            entries,
        })
    }

    fn install_entry(
        &mut self,
        package: InstallPackage<'_>,
        id: PackageId,
        name: &str,
        header: &Header,
    ) -> Result<(), Error> {
        match header.typeflag {
            EntryType::DIRECTORY => {
                let perm = FileMode(FileMode::from_tar_header(header).perm());
                self.mkdir_all(name, perm)?;
                self.chtimes(name, header.mtime)?;
                self.set_xattrs(name, header)?;
            }
            EntryType::REGULAR | EntryType::SYMLINK => {
                let linkname = String::from_utf8_lossy(&header.linkname).into_owned();
                if header.typeflag == EntryType::SYMLINK
                    && self.readlink(name).is_ok_and(|target| target == linkname)
                {
                    return Ok(());
                }
                let checksum = checksum(package.name, name, header)?;
                let node = Node {
                    mode: FileMode::from_tar_header(header),
                    mtime: header.mtime,
                    link_target: linkname,
                    package: Some(PackageFile {
                        package: id,
                        name: header.name.clone(),
                        size: header.size,
                        checksum,
                    }),
                    ..Node::default()
                };
                let written = self.write_entry(package, name, node)?;
                self.set_xattrs(name, header)?;
                if written && header.typeflag == EntryType::REGULAR {
                    self.owners.insert(name.to_owned(), id);
                }
            }
            EntryType::HARDLINK => {
                let target = String::from_utf8_lossy(&header.linkname).into_owned();
                self.link(&target, name, Some(&target))?;
            }
            other => {
                return Err(Error::UnsupportedEntry {
                    package: package.name.to_owned(),
                    path: name.to_owned(),
                    typeflag: char::from(other.0),
                });
            }
        }
        Ok(())
    }

    /// memFS `writeHeader`: places a package file, or settles the conflict with what is there.
    /// Returns whether the file was written.
    fn write_entry(
        &mut self,
        want: InstallPackage<'_>,
        name: &str,
        node: Node,
    ) -> Result<bool, Error> {
        let (parent, base) = self.parent_of(name)?;
        let Some(existing) = self.node(parent).children.get(&base).copied() else {
            let id = self.add_node(node);
            self.node_mut(parent).children.insert(base, id);
            return Ok(true);
        };
        let want_sum = node
            .package
            .as_ref()
            .map(|f| f.checksum.as_slice())
            .unwrap_or_default();
        let foreign = || Error::ForeignConflict {
            package: want.name.to_owned(),
            path: name.to_owned(),
        };
        let existing_node = self.node(existing);
        let Some(got) = &existing_node.package else {
            // Only files apko wrote itself have content without a package; identical ones
            // (a key that alpine-keys also ships) are left as they are.
            if existing_node.data.is_empty() {
                return Err(foreign());
            }
            if Sha1::digest(&existing_node.data).as_slice() == want_sum {
                return Ok(false);
            }
            return Err(foreign());
        };
        if got.checksum == want_sum {
            return Ok(false);
        }
        let got_package = self.packages.get(got.package.0).ok_or_else(foreign)?;
        if got_package.replaces.iter().any(|r| r == want.name) {
            return Ok(false);
        }
        let replaces = want.replaces.contains(&got_package.name);
        let same_origin = got_package.origin == want.origin;
        if !same_origin && !replaces {
            return Err(Error::FileConflict {
                path: name.to_owned(),
                existing: got_package.name.clone(),
                existing_origin: got_package.origin.clone(),
                new: want.name.to_owned(),
                new_origin: want.origin.to_owned(),
            });
        }
        let id = self.add_node(node);
        self.node_mut(parent).children.insert(base, id);
        Ok(true)
    }

    fn set_xattrs(&mut self, name: &str, header: &Header) -> Result<(), Error> {
        for (key, value) in header.pax_records.iter() {
            if let Some(attr) = key.strip_prefix(XATTR_PREFIX) {
                self.set_xattr(name, &String::from_utf8_lossy(attr), value)?;
            }
        }
        Ok(())
    }
}

/// apko's `checksumFromHeader`, required for regular files and symlinks.
fn checksum(package: &str, name: &str, header: &Header) -> Result<Vec<u8>, Error> {
    let bad = || Error::BadChecksum {
        package: package.to_owned(),
        path: name.to_owned(),
    };
    let value = header
        .pax_records
        .get(CHECKSUM_RECORD)
        .ok_or_else(|| Error::MissingChecksum {
            package: package.to_owned(),
            path: name.to_owned(),
        })?;
    let value = std::str::from_utf8(value).map_err(|_| bad())?;
    let decoded = match value.strip_prefix("Q1") {
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| bad())?,
        None => hex::decode(value).map_err(|_| bad())?,
    };
    Ok(decoded)
}

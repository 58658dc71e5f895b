//! Whole repositories for tests and examples: build every package and a signed index, write them
//! to a directory; and file lists read from a directory tree.
//!
//! Not for: fetching or reading repositories (`super::super::repository`). Files are written
//! atomically (temporary file + rename).

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use super::super::package::Package;
use super::{BuiltPackage, Error, FileSpec, PackageSpec, SigningKey, build_index, build_package};

/// Whether [`build_repository`] signs each package (the index is always signed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageSigning {
    /// Each package gets a signature member.
    Signed,
    /// Packages have two members, like recent Wolfi packages (faster to build).
    Unsigned,
}

/// One architecture's repository: the index and the packages it lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    /// `APKINDEX.tar.gz`.
    pub index: Vec<u8>,
    /// The packages, in index order.
    pub packages: Vec<BuiltPackage>,
}

/// Builds every package of `specs` and a signed index over them.
pub fn build_repository(
    specs: &[PackageSpec],
    description: &str,
    key: &SigningKey,
    signing: PackageSigning,
) -> Result<Repository, Error> {
    let package_key = match signing {
        PackageSigning::Signed => Some(key),
        PackageSigning::Unsigned => None,
    };
    let packages = specs
        .iter()
        .map(|spec| build_package(spec, package_key))
        .collect::<Result<Vec<_>, _>>()?;
    let records: Vec<Package> = packages.iter().map(|p| p.package.clone()).collect();
    let index = build_index(&records, description, key)?;
    Ok(Repository { index, packages })
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    temp.write_all(bytes).map_err(io)?;
    // Temporary files are created 0600; repository files are meant to be served and read.
    temp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))
        .map_err(io)?;
    temp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// Writes `APKINDEX.tar.gz` and every `<name>-<version>.apk` into `dir` (atomically per file).
pub fn write_repository(repository: &Repository, dir: &Path) -> Result<(), Error> {
    write_atomically(&dir.join("APKINDEX.tar.gz"), &repository.index)?;
    for package in &repository.packages {
        write_atomically(&dir.join(package.package.filename()), &package.bytes)?;
    }
    Ok(())
}

/// The files under `root` (directories, regular files, symlinks), sorted, owned by root.
pub fn files_from_dir(root: &Path) -> Result<Vec<FileSpec>, Error> {
    let mut files = Vec::new();
    walk(root, root, &mut files)?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

fn walk(root: &Path, dir: &Path, files: &mut Vec<FileSpec>) -> Result<(), Error> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { path, source }
    };
    let entries = std::fs::read_dir(dir).map_err(io(dir))?;
    for entry in entries {
        let path = entry.map_err(io(dir))?.path();
        let metadata = std::fs::symlink_metadata(&path).map_err(io(&path))?;
        let relative = path
            .strip_prefix(root)
            .ok()
            .and_then(Path::to_str)
            .ok_or_else(|| Error::FileType { path: path.clone() })?
            .to_owned();
        let mode = metadata.permissions().mode() & 0o7777;
        let file_type = metadata.file_type();
        let mut spec = if file_type.is_dir() {
            FileSpec::directory(&relative)
        } else if file_type.is_file() {
            FileSpec::file(&relative, &std::fs::read(&path).map_err(io(&path))?)
        } else if file_type.is_symlink() {
            let target = std::fs::read_link(&path).map_err(io(&path))?;
            let target = target
                .to_str()
                .ok_or_else(|| Error::FileType { path: path.clone() })?;
            FileSpec::symlink(&relative, target)
        } else {
            return Err(Error::FileType { path });
        };
        if !file_type.is_symlink() {
            spec.mode = mode;
        }
        files.push(spec);
        if file_type.is_dir() {
            walk(root, &path, files)?;
        }
    }
    Ok(())
}

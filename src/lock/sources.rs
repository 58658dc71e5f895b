//! What one architecture resolves against: the keyring, the build-time repositories' verified
//! indexes in apko's order, the base image's package list, and the world.
//!
//! Not for: resolving ([`super::locker`]) or fetching packages ([`super::fetch`]). Reproduces
//! apko `pkg/build/apk.go` `initializeApk` (repositories = sorted union of
//! `build_repositories` and `repositories`, runtime-only ones never used; keyring = sorted
//! union; world sorted, base image packages pinned) and `pkg/baseimg/base_image.go` (the base
//! image's index comes last and is not signature-checked), reference/apko-format.md §4.1, §6.3.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::Error;
use crate::apk::Package;
use crate::apk::keyring::Keyring;
use crate::apk::repository::{self, FetchedKey, Fetcher, Location, Repository};
use crate::config::{Architecture, ImageConfiguration};

/// A repository's index for one architecture.
#[derive(Debug, Clone)]
pub(super) struct Indexed {
    /// `<repository as configured, without @tag>/<apk arch>`: the solver's source URL and the
    /// prefix of package URLs.
    pub url: String,
    /// The `@tag` of a pinned repository.
    pub pin: Option<String>,
    /// Where packages are fetched from; `None` for the base image's list.
    pub repository: Option<Repository>,
    /// The packages in index order.
    pub packages: Vec<Package>,
}

/// Everything one architecture resolves against.
#[derive(Debug, Clone)]
pub(super) struct ArchSources {
    /// The architecture.
    pub arch: Architecture,
    /// Its APK name.
    pub apk_arch: String,
    /// Indexes in apko's order (sorted repositories, then the base image's).
    pub indexes: Vec<Indexed>,
    /// Local repositories without an index for this architecture (apko warns).
    pub missing: Vec<PathBuf>,
    /// Names installed in the base image (dropped from the lock file).
    pub base_names: BTreeSet<String>,
    /// The world: sorted requested packages plus the base image's `name=version` pins.
    pub world: Vec<String>,
}

/// apko's `sets.List`: sorted, duplicates removed.
pub(super) fn sorted_unique(items: &[String]) -> Vec<String> {
    let set: BTreeSet<&String> = items.iter().collect();
    set.into_iter().cloned().collect()
}

/// The keys of `contents.keyring`, in configuration order (duplicates kept, as apko's lock
/// file keeps them), and the keyring built from the sorted, de-duplicated list.
pub(super) fn read_keys(
    fetcher: &Fetcher,
    configuration: &ImageConfiguration,
    working_dir: &Path,
) -> Result<(Vec<(String, FetchedKey)>, Keyring), Error> {
    let mut keys = Vec::new();
    for entry in &configuration.contents.keyring {
        let key = fetcher
            .fetch_key(entry, working_dir)
            .map_err(|source| Error::Key {
                key: entry.clone(),
                source: Box::new(source),
            })?;
        keys.push((entry.clone(), key));
    }
    let mut keyring = Keyring::new();
    for entry in sorted_unique(&configuration.contents.keyring) {
        if let Some((_, key)) = keys.iter().find(|(configured, _)| *configured == entry) {
            keyring
                .insert_pem(&key.name, &key.pem)
                .map_err(|source| Error::Key {
                    key: entry.clone(),
                    source: Box::new(repository::Error::Key {
                        key: key.location.clone(),
                        source,
                    }),
                })?;
        }
    }
    Ok((keys, keyring))
}

/// The build-time repository lines: sorted union of `build_repositories` and `repositories`.
pub(super) fn build_repositories(configuration: &ImageConfiguration) -> Vec<String> {
    let contents = &configuration.contents;
    let all: Vec<String> = contents
        .build_repositories
        .iter()
        .chain(&contents.repositories)
        .cloned()
        .collect();
    sorted_unique(&all)
}

/// One repository line parsed for fetching, with the URL text apko shows for it.
#[derive(Debug, Clone)]
pub(super) struct RepositoryLine {
    /// The line as configured.
    pub line: String,
    /// The repository URL or path as written, without `@tag`.
    pub base: String,
    /// The parsed repository (local paths resolved against the working directory).
    pub repository: Repository,
}

/// Parses the build-time repository lines.
pub(super) fn parse_repositories(
    lines: &[String],
    working_dir: &Path,
) -> Result<Vec<RepositoryLine>, Error> {
    lines
        .iter()
        .map(|line| {
            let repository =
                Repository::parse(line, working_dir).map_err(|source| Error::Repository {
                    repository: line.clone(),
                    source: Box::new(source),
                })?;
            let base = match line.trim() {
                pinned if pinned.starts_with('@') => pinned
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned(),
                plain => plain.to_owned(),
            };
            Ok(RepositoryLine {
                line: line.clone(),
                base,
                repository,
            })
        })
        .collect()
}

/// The base image's package list for one architecture.
#[derive(Debug, Clone, Default)]
pub(super) struct BaseList {
    /// The list read as a repository index.
    pub index: Option<Indexed>,
    /// `name=version` of every installed package.
    pub pins: Vec<String>,
    /// Installed names.
    pub names: BTreeSet<String>,
}

/// apko's `paths.ResolvePath`: the path itself when it exists, else under each include path.
pub(super) fn resolve_path(
    path: &str,
    working_dir: &Path,
    include_paths: &[PathBuf],
) -> Result<PathBuf, Error> {
    let direct = working_dir.join(path);
    if direct.exists() {
        return Ok(direct);
    }
    include_paths
        .iter()
        .map(|prefix| working_dir.join(prefix).join(path))
        .find(|candidate| candidate.exists())
        .ok_or_else(|| Error::BaseImageNotFound {
            path: path.to_owned(),
        })
}

/// Reads `<apkindex dir>/<arch>/APKINDEX` of `contents.baseimage`, both as the installed
/// database apko's base image reader takes it for and as the index it resolves against.
pub(super) fn read_base(
    configuration: &ImageConfiguration,
    apk_arch: &str,
    working_dir: &Path,
    include_paths: &[PathBuf],
) -> Result<BaseList, Error> {
    let Some(base) = &configuration.contents.baseimage else {
        return Ok(BaseList::default());
    };
    resolve_path(&base.image, working_dir, include_paths)?;
    let dir = resolve_path(&base.apkindex, working_dir, include_paths)?;
    let path = dir.join(apk_arch).join("APKINDEX");
    let bytes = std::fs::read(&path).map_err(|source| Error::BaseImageRead {
        path: path.clone(),
        source,
    })?;
    let installed =
        crate::apk::installed::parse(&bytes).map_err(|source| Error::BaseImageInstalled {
            path: path.clone(),
            source,
        })?;
    let packages =
        crate::apk::index::parse_text(&bytes).map_err(|source| Error::BaseImageIndex {
            path: path.clone(),
            source,
        })?;
    let pins = installed
        .iter()
        .map(|record| format!("{}={}", record.package.name, record.package.version))
        .collect();
    let names = installed
        .into_iter()
        .map(|record| record.package.name.into())
        .collect();
    let url = format!("{}/{apk_arch}", base.apkindex.trim_end_matches('/'));
    Ok(BaseList {
        index: Some(Indexed {
            url,
            pin: None,
            repository: None,
            packages,
        }),
        pins,
        names,
    })
}

/// Fetches and verifies every repository's index for `apk_arch`. A local repository without
/// an index for the architecture is skipped and reported, as apko only warns about it.
pub(super) fn fetch_indexes(
    fetcher: &Fetcher,
    repositories: &[RepositoryLine],
    apk_arch: &str,
    keyring: &Keyring,
) -> Result<(Vec<Indexed>, Vec<PathBuf>), Error> {
    let mut indexes = Vec::new();
    let mut missing = Vec::new();
    for line in repositories {
        match fetcher.fetch_index(&line.repository, apk_arch, keyring) {
            Ok(fetched) => indexes.push(Indexed {
                url: format!("{}/{apk_arch}", line.base),
                pin: line.repository.pin.clone(),
                repository: Some(line.repository.clone()),
                packages: fetched.index.packages,
            }),
            Err(repository::Error::Read { path, source })
                if source.kind() == std::io::ErrorKind::NotFound
                    && matches!(line.repository.location, Location::Local(_)) =>
            {
                missing.push(path);
            }
            Err(source) => {
                return Err(Error::Index {
                    repository: line.line.clone(),
                    arch: apk_arch.to_owned(),
                    source: Box::new(source),
                });
            }
        }
    }
    Ok((indexes, missing))
}

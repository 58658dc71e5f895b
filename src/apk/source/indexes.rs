//! The build-time repositories of a configuration and their verified indexes, in apko's order.
//!
//! Not for: fetching or verifying one index ([`crate::apk::repository::Fetcher`]), the base
//! image's list ([`super::base`]). Reproduces apko `pkg/build/apk.go` `initializeApk`
//! (repositories = sorted union of `build_repositories` and `repositories`, runtime-only ones
//! never used), reference/apko-format.md §4.1.

use std::path::{Path, PathBuf};

use super::{Error, sorted_unique};
use crate::apk::Package;
use crate::apk::keyring::Keyring;
use crate::apk::repository::{self, Fetcher, Location, Repository};
use crate::config::ImageConfiguration;

/// A repository's index for one architecture.
#[derive(Debug, Clone)]
pub struct Indexed {
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

//! An apko configuration's package sources, gathered once for whoever needs them: the locker
//! (`lock`) and the builder (`build`).
//!
//! [`Sources::open`] reads the configuration's keys ([`Keys`]), parses its build-time
//! repositories, fetches and verifies every architecture's indexes through one
//! [`Fetcher`](super::repository::Fetcher) (so the download cache and offline mode apply) and
//! reads the base image's package list ([`BaseImage`]). Over the result it resolves (alone or
//! with the architectures aware of each other, [`Scope`]), resolves a pinned world again for the
//! install order, unifies into the locked configurations ([`LockedConfiguration`]) and opens the
//! chosen packages' files. A lock-file build, which resolves nothing, uses the pieces alone:
//! [`Keys::read`] and [`read_base`].
//!
//! | file | owns |
//! |---|---|
//! | [`keys`] | `contents.keyring`: every entry fetched once, the keyring, `/etc/apk/keys` |
//! | [`base`] | `contents.baseimage`: its layout and `<apkindex>/<arch>/APKINDEX` |
//! | `indexes` | repository lines and their verified indexes, in apko's order |
//! | `sources` | [`Sources`]: all of the above per architecture, and package files |
//! | `resolve` | resolution over the indexes, withdrawn pins diagnosed |
//! | `locked` | apko's `LockImageConfiguration`: resolve together, unify, lock |
//!
//! Not for: the configuration model or its files ([`crate::config`]), the lock file
//! (`lock`), installing packages (`build`), the solver itself ([`super::solver`]). Reproduces
//! apko `pkg/build/apk.go` `initializeApk`, `pkg/baseimg/base_image.go`, `pkg/build/lock.go`
//! and `pkg/apk/apk/implementation.go` `ResolveWorld` (reference/apko-format.md §3.4, §3.6,
//! §4.1, §6.3).

pub mod base;
mod indexes;
pub mod keys;
mod locked;
mod resolve;
mod sources;

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::{repository, solver, unify};
use crate::config::{self, Architecture, ImageConfiguration, Loader};

pub use base::{BaseImage, read_base};
pub use indexes::Indexed;
pub use keys::Keys;
pub use locked::{LockedConfiguration, lock_input};
pub use resolve::{ArchResolution, Scope, Tables};
pub use sources::{ArchSources, Sources};

/// Where and how a configuration is read and its repositories fetched.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Settings {
    /// The directory relative paths are read from (configuration, keys, local repositories,
    /// base image), as apko reads them from its working directory. Empty: the process's.
    pub working_dir: PathBuf,
    /// Directories searched for the configuration file (and base image) when it is not in the
    /// working directory (apko's include paths).
    pub include_paths: Vec<PathBuf>,
    /// Architecture names as asked for, read by apko's `--arch` rules; empty means the
    /// configuration's `archs`, or every architecture when it has none.
    pub archs: Vec<String>,
    /// Download cache and network use.
    pub fetch: repository::Settings,
}

impl Settings {
    /// The architectures chosen for `configuration`: [`Settings::archs`] (normalised, sorted,
    /// de-duplicated), else the configuration's `archs` as listed, else all of them.
    pub fn archs_for(&self, configuration: &ImageConfiguration) -> Vec<Architecture> {
        if !self.archs.is_empty() {
            config::parse_architectures(&self.archs)
        } else if !configuration.archs.is_empty() {
            configuration.archs.clone()
        } else {
            Architecture::all()
        }
    }

    /// A loader that finds files as these settings say: the working directory, then each
    /// include path (apko's `paths.ResolvePath`).
    pub fn loader(&self) -> Loader {
        Loader::new()
            .working_dir(&self.working_dir)
            .include_paths(self.include_paths.iter().cloned())
    }
}

/// `archs` in order, each architecture once (compared by canonical name).
pub fn distinct(archs: &[Architecture]) -> Vec<Architecture> {
    let mut seen = BTreeSet::new();
    archs
        .iter()
        .filter(|arch| seen.insert(arch.normalised()))
        .cloned()
        .collect()
}

/// apko's `sets.List`: sorted, duplicates removed.
pub fn sorted_unique(items: &[String]) -> Vec<String> {
    let set: BTreeSet<&String> = items.iter().collect();
    set.into_iter().cloned().collect()
}

/// Why a configuration's package sources cannot be had or resolved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration fails apko's validation (run before resolving).
    #[error("configuration {config} is not valid")]
    Invalid {
        /// The configuration's name.
        config: String,
        /// The rule it breaks.
        #[source]
        source: config::Error,
    },
    /// The HTTP client or cache cannot be set up.
    #[error("cannot set up downloads")]
    Fetcher(#[source] Box<repository::Error>),
    /// A `contents.keyring` entry cannot be read or is not an RSA public key.
    #[error("keyring entry {key}")]
    Key {
        /// The entry as configured.
        key: String,
        /// Why.
        #[source]
        source: Box<repository::Error>,
    },
    /// A repository line is malformed.
    #[error("repository {repository}")]
    Repository {
        /// The line as configured.
        repository: String,
        /// Why.
        #[source]
        source: Box<repository::Error>,
    },
    /// A repository's index for an architecture cannot be fetched or trusted.
    #[error("index of repository {repository} for {arch}")]
    Index {
        /// The repository as configured.
        repository: String,
        /// The APK architecture.
        arch: String,
        /// Why.
        #[source]
        source: Box<repository::Error>,
    },
    /// `contents.baseimage` names a path that is in neither the working directory nor an
    /// include path.
    #[error("base image path {path} not found in the working directory or include paths")]
    BaseImageNotFound {
        /// The path as configured.
        path: String,
    },
    /// The base image's package list cannot be read.
    #[error("base image package list {path}", path = path.display())]
    BaseImageRead {
        /// The APKINDEX file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The base image's package list is not in APKINDEX format.
    #[error("base image package list {path}", path = path.display())]
    BaseImageIndex {
        /// The APKINDEX file.
        path: PathBuf,
        /// Why.
        #[source]
        source: super::index::Error,
    },
    /// The base image's package list is not an installed database.
    #[error("base image package list {path}", path = path.display())]
    BaseImageInstalled {
        /// The APKINDEX file.
        path: PathBuf,
        /// Why.
        #[source]
        source: super::installed::Error,
    },
    /// A pinned package is in none of the repositories any more (withdrawn or never there).
    #[error(
        "{package}={version} for {arch} is in none of the repositories searched: {}",
        repositories.join(", ")
    )]
    Withdrawn {
        /// The package name.
        package: String,
        /// The pinned version.
        version: String,
        /// The APK architecture.
        arch: String,
        /// `<repository>/<arch>` of every index searched.
        repositories: Vec<String>,
        /// The solver's report.
        #[source]
        source: Box<solver::Error>,
    },
    /// The world cannot be resolved for an architecture.
    #[error("cannot resolve the packages for {arch}")]
    Resolve {
        /// The APK architecture.
        arch: String,
        /// The solver's report.
        #[source]
        source: Box<solver::Error>,
    },
    /// An architecture whose sources were not opened was asked for.
    #[error("architecture {arch} was not among the architectures resolved")]
    NotOpened {
        /// The APK architecture.
        arch: String,
    },
    /// A resolver or fetcher thread cannot be started.
    #[error("cannot start a resolver thread")]
    Thread(#[source] std::io::Error),
    /// Architectures disagree on a requested package (apko's "consistent version" error).
    #[error(transparent)]
    Unify(#[from] unify::Error),
    /// A resolved package cannot be fetched.
    #[error("cannot fetch package {url}")]
    Package {
        /// The package URL.
        url: String,
        /// Why.
        #[source]
        source: Box<repository::Error>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(archs: &[Architecture]) -> Vec<&str> {
        archs.iter().map(Architecture::as_str).collect()
    }

    #[test]
    fn architectures_come_from_the_settings_then_the_configuration_then_all() {
        let mut configuration = ImageConfiguration::default();
        let mut settings = Settings::default();
        assert_eq!(settings.archs_for(&configuration), Architecture::all());
        configuration.archs = vec![Architecture::parse("arm64"), Architecture::parse("amd64")];
        assert_eq!(
            names(&settings.archs_for(&configuration)),
            ["arm64", "amd64"]
        );
        settings.archs = vec!["x86_64".into(), "aarch64".into(), "amd64".into()];
        assert_eq!(
            names(&settings.archs_for(&configuration)),
            ["amd64", "arm64"]
        );
    }

    #[test]
    fn distinct_keeps_the_first_spelling_of_each_architecture_in_order() {
        let archs: Vec<Architecture> = ["x86_64", "arm64", "amd64"]
            .iter()
            .map(|name| serde_json::from_value(serde_json::json!(name)).expect("name"))
            .collect();
        assert_eq!(names(&distinct(&archs)), ["x86_64", "arm64"]);
    }

    #[test]
    fn sorted_unique_is_apkos_sets_list() {
        let items = ["b", "a", "b", "a/"].map(String::from);
        assert_eq!(sorted_unique(&items), ["a", "a/", "b"]);
    }
}

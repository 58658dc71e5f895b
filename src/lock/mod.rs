//! Locking at release time: resolve a floating apko configuration for every architecture,
//! unify the results, and produce the locked configuration (every package pinned `name=version`,
//! the object an `https://apko.dev/image-configuration` predicate carries), apko's
//! `apko.lock.json`, the `show-packages` listing, or a drift report against an earlier lock.
//!
//! [`Locker::open`] reads the configuration (include paths, checksum), keys, repositories and
//! every index an architecture needs (through [`crate::apk::repository::Fetcher`], so the
//! download cache and offline mode apply). From there:
//!
//! * [`Locker::locked_configuration`]: resolution with every architecture known to the solver
//!   (apko's `ByArch`), then [`unify`] (apko's `LockImageConfiguration`);
//! * [`Locker::lock_file`]: each architecture resolved on its own and every package fetched for
//!   its byte ranges and checksums (apko's `lock` command, `LockCmd`);
//! * [`Locker::show_packages`] with a [`Template`] (apko's `show-packages`);
//! * [`check::against_lock_file`] and [`check::against_locked_configuration`]: what a fresh
//!   lock would change.
//!
//! Differences from apko, on purpose:
//! * apko discovers extra keys over the network (Alpine's `releases.json` for
//!   `…/alpine/<version>/…` repositories, the JWKS at `<repo>/apk-configuration` for every
//!   http(s) repository) and adds them to the keyring and the lock file. That needs the internet
//!   and is not done: list keys in `contents.keyring`. Locks of such configurations then match
//!   apko's byte for byte.
//! * The base image of `contents.baseimage` is read for its package list only (the APKINDEX-
//!   format file beside it); its OCI layout is checked to exist, not opened (that is the
//!   builder's job). The base packages' source is shown as `<apkindex dir>/<arch>`, where apko
//!   shows a path in its temporary directory.
//! * Where apko iterates Go maps (architectures in `unify` and `show-packages`) the order here
//!   is sorted.
//!
//! Not for: the configuration model or lock file format ([`crate::config`]), choosing packages
//! ([`crate::apk::solver`]), fetching ([`crate::apk::repository`]), command-line parsing
//! (`cli::oras_lock`). Reproduces reference/apko-format.md §3 (apko `internal/cli/lock.go`,
//! `internal/cli/show-packages.go`, `pkg/build/lock.go`) and §4.1.

pub mod check;
mod fetch;
mod locker;
mod lockfile;
pub mod output;
pub mod show;
mod sources;
pub mod unify;

use std::path::PathBuf;

use crate::apk::{archive, repository, solver};
use crate::config;

pub use locker::{ArchResolution, LockedConfiguration, Locker, Scope, Tables};
pub use show::Template;

/// Where and how a configuration is read and its repositories fetched.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Settings {
    /// The directory relative paths are read from (configuration, keys, local repositories,
    /// base image), as apko reads them from its working directory. Empty: the process's.
    pub working_dir: PathBuf,
    /// Directories searched for the configuration file (and base image) when it is not in the
    /// working directory (apko's `--include-paths`).
    pub include_paths: Vec<PathBuf>,
    /// `--arch` values as given; empty means the configuration's `archs`, or every
    /// architecture when it has none.
    pub archs: Vec<String>,
    /// Download cache and network use.
    pub fetch: repository::Settings,
}

/// Why a configuration cannot be locked, shown or checked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration file cannot be read.
    #[error("cannot load configuration {config}")]
    Config {
        /// The name as given.
        config: String,
        /// What went wrong.
        #[source]
        source: config::Error,
    },
    /// The configuration fails apko's validation (run before resolving).
    #[error("configuration {config} is not valid")]
    Invalid {
        /// The name as given.
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
        source: crate::apk::index::Error,
    },
    /// The base image's package list is not an installed database.
    #[error("base image package list {path}", path = path.display())]
    BaseImageInstalled {
        /// The APKINDEX file.
        path: PathBuf,
        /// Why.
        #[source]
        source: crate::apk::installed::Error,
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
    /// An architecture the locker did not open was asked for.
    #[error("architecture {arch} was not among the architectures resolved")]
    NotOpened {
        /// The APK architecture.
        arch: String,
    },
    /// A resolver thread cannot be started.
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
    /// A fetched package is not a valid `.apk`.
    #[error("package {url} does not verify")]
    Archive {
        /// The package URL.
        url: String,
        /// Why.
        #[source]
        source: Box<archive::Error>,
    },
    /// A `show-packages` format is neither a named format nor a supported template.
    #[error("format {format:?}: {problem}")]
    Format {
        /// The format as given.
        format: String,
        /// What is not supported.
        problem: String,
    },
    /// An earlier lock file cannot be read.
    #[error("cannot read lock file {path}", path = path.display())]
    LockFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: config::lock::Error,
    },
    /// An earlier locked configuration cannot be read.
    #[error("cannot read locked configuration {path}", path = path.display())]
    LockedConfiguration {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: config::Error,
    },
    /// A locked configuration cannot be encoded.
    #[error("cannot encode the locked configuration")]
    Encode(#[source] config::Error),
    /// A locked configuration cannot be encoded as YAML.
    #[error("cannot encode the locked configuration as yaml")]
    Yaml(#[source] serde_yaml_ng::Error),
    /// A repository line cannot be written as a lock file entry.
    #[error("repository {repository} cannot be recorded in the lock file")]
    LockRepository {
        /// The line as configured.
        repository: String,
        /// Why.
        #[source]
        source: config::lock::Error,
    },
    /// A lock file cannot be encoded.
    #[error("cannot encode the lock file")]
    EncodeLock(#[source] config::lock::Error),
    /// A drift report cannot be encoded.
    #[error("cannot encode the drift report")]
    EncodeReport(#[source] crate::codec::json::Error),
    /// An output file cannot be written.
    #[error("cannot write {path}", path = path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

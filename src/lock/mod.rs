//! Locking at release time: resolve a floating apko configuration for every architecture,
//! unify the results, and produce the locked configuration (every package pinned `name=version`,
//! the object an `https://apko.dev/image-configuration` predicate carries), apko's
//! `apko.lock.json`, the `show-packages` listing, or a drift report against an earlier lock.
//!
//! [`Locker::open`] reads the configuration (include paths, checksum) and opens its package
//! sources ([`crate::apk::source::Sources`]: keys, repositories and every index an architecture
//! needs, through the download cache, offline when asked). From there:
//!
//! * [`Locker::locked_configuration`]: resolution with every architecture known to the solver
//!   (apko's `ByArch`), then [`unify`] (apko's `LockImageConfiguration`), both in
//!   [`crate::apk::source`], which the builder shares;
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
//! Not for: the configuration model or lock file format ([`crate::config`]), package sources,
//! resolving and unifying ([`crate::apk::source`]), command-line parsing
//! (`cli::oras_lock`). Reproduces reference/apko-format.md §3 (apko `internal/cli/lock.go`,
//! `internal/cli/show-packages.go`, `pkg/build/lock.go`) and §4.1.

pub mod check;
mod fetch;
mod locker;
mod lockfile;
pub mod output;
pub mod show;

use std::path::PathBuf;

use crate::apk::{archive, repository, source};
use crate::config;

pub use crate::apk::source::{ArchResolution, LockedConfiguration, Scope, Settings, Tables};
pub use crate::apk::unify;
pub use locker::Locker;
pub use show::Template;

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
    /// Reading keys, indexes or the base image, or resolving, failed.
    #[error(transparent)]
    Source(Box<source::Error>),
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

impl From<source::Error> for Error {
    fn from(error: source::Error) -> Self {
        Error::Source(Box::new(error))
    }
}

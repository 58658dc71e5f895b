//! Why an image cannot be built: one variant per step of [`super::build`], each naming the
//! configuration, architecture, package or URL it failed on.
//!
//! Not for: advice on what to do about it (that depends on the command line, `cli::hint`).

use crate::apk::{repository, source};
use crate::build::{fs, image, layer, layering, rootfs, walk};
use crate::config::lock as lockfile;

/// Why an image cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading keys, indexes or the base image, or resolving, failed.
    #[error(transparent)]
    Source(Box<source::Error>),
    /// The lock file was made from another configuration.
    #[error("lock file does not match the configuration {config}")]
    LockConsistency {
        /// The configuration's name.
        config: String,
        /// The checksums.
        #[source]
        source: lockfile::Error,
    },
    /// The lock file has no usable packages for an architecture being built.
    #[error("lock file has no packages for architecture {arch}")]
    NoLockedPackages {
        /// The APK architecture.
        arch: String,
    },
    /// A lock file entry cannot be used.
    #[error("lock file entry for {package}")]
    LockEntry {
        /// The package.
        package: String,
        /// Why.
        #[source]
        source: lockfile::Error,
    },
    /// A lock file entry's `checksum` is not `Q1` + base64 of 20 bytes.
    #[error("lock file entry for {package}: checksum {checksum:?} is not Q1 + base64 SHA-1")]
    LockChecksum {
        /// The package.
        package: String,
        /// The checksum as written.
        checksum: String,
    },
    /// The configuration fails apko's validation.
    #[error("configuration {config} is not valid")]
    Invalid {
        /// The configuration's name.
        config: String,
        /// The rule it breaks.
        #[source]
        source: crate::config::Error,
    },
    /// `contents.baseimage` without a lock file (apko supports base images only with one).
    #[error("configuration {config}: a base image (contents.baseimage) needs a lock file")]
    BaseImage {
        /// The configuration's name.
        config: String,
    },
    /// A package cannot be fetched.
    #[error("cannot fetch package {package} from {url}")]
    Fetch {
        /// The package.
        package: String,
        /// Where from.
        url: String,
        /// Why.
        #[source]
        source: Box<repository::Error>,
    },
    /// A package to install is one of the base image's: it has no file to fetch.
    #[error("cannot fetch package {package} from {url}: a base image package has no file")]
    BasePackage {
        /// The package.
        package: String,
        /// The base image list it is in.
        url: String,
    },
    /// A package cannot be read (not an `.apk`, a checksum fails).
    #[error("package {package} from {url}")]
    Package {
        /// The package.
        package: String,
        /// Where it came from.
        url: String,
        /// Why.
        #[source]
        source: Box<rootfs::Error>,
    },
    /// The scratch directory or a package spool (a temporary file) cannot be made.
    #[error("cannot create the package spool")]
    Spool(#[source] fs::Error),
    /// The root filesystem cannot be assembled.
    #[error("root filesystem for {arch}")]
    Rootfs {
        /// The APK architecture.
        arch: String,
        /// Why.
        #[source]
        source: Box<rootfs::Error>,
    },
    /// The layering configuration is invalid.
    #[error("layering for {arch}")]
    Layering {
        /// The APK architecture.
        arch: String,
        /// Why.
        #[source]
        source: Box<layering::Error>,
    },
    /// A layer's blob cannot be written.
    #[error("layer for {arch}")]
    Layer {
        /// The APK architecture.
        arch: String,
        /// Why.
        #[source]
        source: Box<layer::Error>,
    },
    /// A layer group's blob cannot be written.
    #[error("layer for {arch}")]
    Split {
        /// The APK architecture.
        arch: String,
        /// Why.
        #[source]
        source: Box<layering::Error>,
    },
    /// The tree cannot be written as a layer's tar.
    #[error("layer for {arch}")]
    Walk {
        /// The APK architecture.
        arch: String,
        /// Why.
        #[source]
        source: Box<walk::Error>,
    },
    /// The config, manifest or index cannot be made, or the layout written.
    #[error(transparent)]
    Image(#[from] image::Error),
    /// A worker thread cannot be started.
    #[error("cannot start a build thread")]
    Thread(#[source] std::io::Error),
    /// A listed (lock-order) configuration's packages are not one complete closure.
    #[error("{arch}: package {package}: {reason}")]
    Listed {
        /// The APK architecture.
        arch: String,
        /// The package.
        package: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl From<source::Error> for Error {
    fn from(error: source::Error) -> Self {
        Error::Source(Box::new(error))
    }
}

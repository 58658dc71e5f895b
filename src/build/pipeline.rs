//! From a configuration to an image: the one entry point that builds, [`build`].
//!
//! A [`Request`] holds what apko's `build` command takes: the loaded configuration (any
//! command-line annotations merged here, before locking, so they reach `/etc/apko.json`), an
//! optional lock file, the architectures, the source date and where packages come from.
//! [`build`] then does what apko does:
//!
//! 1. **Lock.** Without a lock file, every architecture is resolved with the others known
//!    (apko's `LockImageConfiguration` over [`crate::apk::source::Sources`]), pins sorted as strings;
//!    each architecture's pinned world is resolved once more on its own for the install order
//!    (apko's `FixateWorld`), and its packages are fetched from the repositories (checked against
//!    the signed index's `C:`). With a lock file, the configuration checksum must match, each
//!    architecture's pins are the lock's in lock order and its packages are fetched from the
//!    lock's URLs (checked against the lock's `checksum`): nothing is resolved.
//! 2. **Root filesystem** per architecture (in parallel): `build::rootfs` with the packages read
//!    through `apk::archive` (every file's SHA-1 and the `datahash` verified) into a spool.
//! 3. **Layers**: one layer, or `layering`'s groups; written into temporary files.
//! 4. **Images and index**: `build::image`.
//!
//! The result, [`Built`], holds the index, the images (their layer blobs are temporary files
//! that live as long as it does), and the locked configurations: [`Built::locked`] is the
//! `"index"` configuration an image-configuration attestation carries. Nothing is written
//! anywhere by this module: hand [`Built::image_set`] to `oci::Store::publish`, or call
//! [`Built::write_layout`].
//!
//! To rebuild from an attested predicate (a locked configuration as a value), put it in a
//! [`Request`] with [`Request::new`]: its packages are all pinned, so resolution finds the same
//! closure.
//!
//! | file | owns |
//! |---|---|
//! | this one | [`Request`], [`build`], [`Built`] |
//! | `plan` | each architecture's locked configuration, keys, packages and base image |
//! | `arch` | one architecture's root filesystem, layers and image; all of them in parallel |
//! | `packages` | fetching and reading the packages into the spool, in parallel |
//! | `error` | [`Error`] |
//!
//! Not for: the steps themselves (`build::rootfs`, `build::walk`, `build::layering`,
//! `build::image`), package sources and resolving (`apk::source`), writing to a registry
//! (`oci`). A base image (`contents.baseimage`) needs a lock file, as in apko: its
//! packages are pinned in the world and recorded in the installed database
//! (`Rootfs::record_base_packages`), the accounts step is skipped, and the new layer goes on
//! top of the base's layers. Reproduces reference/apko-format.md §1, §3.5, §3.6 (apko
//! `internal/cli/build.go` `buildImageComponents`, `pkg/build/lock.go`).

mod arch;
mod error;
mod packages;
mod plan;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::apk::repository::Fetcher;
use crate::apk::source::{self, Sources};
use crate::build::fs;
use crate::build::image::{self, Image, Index, SourceDate, time::Pinning};
use crate::build::predicate;
use crate::config::lock::Lock;
use crate::config::{Architecture, ImageConfiguration, LoadedConfiguration};
use crate::oci::{Descriptor, Digest, ImageSet};

pub use crate::apk::source::Settings;
pub use error::Error;

/// Where the packages come from.
#[derive(Debug, Clone)]
pub enum Packages {
    /// Resolve the configuration's packages against its repositories.
    Resolve,
    /// Install exactly a lock file's packages (apko's `--lockfile`).
    Locked(Box<Lock>),
    /// Install exactly the configuration's pinned packages, in the order listed, found in its
    /// repositories: how an audit rebuilds the predicate of a lock-file build
    /// ([`super::predicate::rebuild_path`]). Each architecture's `/etc/apko.json` holds the list
    /// as given, as apko's lock-file path writes it.
    Listed,
}

/// What to build and how.
#[derive(Debug, Clone)]
pub struct Request {
    /// The configuration's name (its path as given): messages and the lock file's `config.name`.
    pub name: String,
    /// The configuration as loaded (includes merged), with its checksum.
    pub configuration: LoadedConfiguration,
    /// Where packages come from.
    pub packages: Packages,
    /// Annotations from the command line, merged over the configured ones.
    pub annotations: BTreeMap<String, String>,
    /// apko's `SourceDateEpoch` and whether the environment pinned it.
    pub source_date: SourceDate,
    /// Working directory, include paths, `--arch` values (empty: the configuration's `archs`,
    /// else all) and download settings.
    pub settings: Settings,
    /// Where layer blobs and the package spool are written while the build lives (default: the
    /// system's temporary directory); created when missing. Layer blobs are scratch files
    /// (`crate::scratch`): removed on drop and on SIGINT/SIGTERM, swept by a later run.
    pub temp_dir: Option<PathBuf>,
    /// How many packages are read at once (default: one per core, 2 to 8). Each reader streams
    /// its package through a fixed-size window, so memory grows with this, not with packages.
    pub readers: Option<usize>,
    /// Bytes the package readers may hold in memory at once, every architecture together
    /// (default [`READ_BUDGET`]): a reader is charged its window and the largest signature and
    /// control members apko accepts before it opens a package, then only what that package's
    /// members take; readers wait while the budget cannot cover them.
    pub read_budget: Option<u64>,
}

/// The default [`Request::read_budget`]: 64 MiB, one reader opening a package whose members
/// are as large as apko allows (42 MiB) beside eleven streaming ones, so that up to eight readers
/// of ordinary packages never wait for each other.
pub const READ_BUDGET: u64 = 64 << 20;

/// What one package reader holds whatever the package: the spool's 1 MiB write buffer, the gzip
/// and tar state and the read buffers, rounded up. A reader opening a package is charged this and
/// four times the control limit (signature and control members, raw, decoded and as entries).
pub const READER_WINDOW: u64 = 2 << 20;

impl Request {
    /// A request to build `configuration` by resolving its packages, with no annotations, the
    /// source date unpinned at the epoch, and default settings (working directory: the process's).
    /// For a locked configuration (a predicate), every package is pinned, so resolution gives
    /// the closure it was locked with. The checksum is that of no file: to build from a lock
    /// file instead, set [`Request::packages`] and the configuration's real checksum (a lock
    /// file is checked against it).
    pub fn new(name: &str, configuration: ImageConfiguration) -> Request {
        let checksum = crate::config::ConfigChecksum::of_contents(std::iter::empty::<&[u8]>());
        Request {
            name: name.to_owned(),
            configuration: LoadedConfiguration {
                configuration,
                checksum,
                files: Vec::new(),
            },
            packages: Packages::Resolve,
            annotations: BTreeMap::new(),
            source_date: SourceDate {
                time: image::GoTime::from_unix(0),
                pinning: Pinning::Unpinned,
            },
            settings: Settings::default(),
            temp_dir: None,
            readers: None,
            read_budget: None,
        }
    }
}

/// Progress of a build, for a caller that reports it.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// An architecture's packages are known.
    Resolved {
        /// The architecture.
        arch: &'a Architecture,
        /// How many packages will be installed.
        packages: usize,
    },
    /// An architecture's image is assembled.
    Image {
        /// The architecture.
        arch: &'a Architecture,
        /// The image (manifest) digest.
        digest: Digest,
        /// Bytes in its layers (compressed).
        layer_bytes: u64,
    },
    /// A rebuild starts again with the creation time pinned to the published one
    /// ([`super::predicate::rebuild`]).
    Repinned {
        /// The published creation time.
        created: &'a image::GoTime,
    },
}

/// A built image index: its images, their blobs (temporary files, removed when this is dropped)
/// and the locked configurations it was built from.
#[derive(Debug)]
pub struct Built {
    /// The image index.
    pub index: Index,
    /// One image per architecture.
    pub images: Vec<Image>,
    /// The locked `"index"` configuration: what an image-configuration predicate carries
    /// (read it through [`Built::predicate`]). With a lock file, its packages are the lock
    /// order every architecture shares; when the architectures' orders differ, the pins they
    /// share, sorted, and [`Built::predicate`] refuses.
    pub locked: ImageConfiguration,
    /// Why [`Built::locked`] would not reproduce this image (a lock file whose architectures
    /// install different lists), if so.
    pub order_mismatch: Option<predicate::OrderMismatch>,
    /// Each architecture's locked configuration (what its `/etc/apko.json` holds, before the
    /// run-as user is resolved).
    pub per_arch: BTreeMap<Architecture, ImageConfiguration>,
    /// The most bytes the package readers were charged at once (at most
    /// [`Request::read_budget`], or one reader's charge when that is larger).
    pub read_peak: u64,
}

impl Built {
    /// The image-configuration predicate that rebuilds this image (through
    /// [`predicate::rebuild_path`]), or why there is none.
    pub fn predicate(&self) -> Result<&ImageConfiguration, predicate::OrderMismatch> {
        match &self.order_mismatch {
            Some(mismatch) => Err(mismatch.clone()),
            None => Ok(&self.locked),
        }
    }

    /// The index digest: the multi-architecture image's digest.
    pub fn digest(&self) -> Digest {
        self.index.digest
    }

    /// Everything to publish (layers streamed from their files, configs, manifests, the index
    /// last). Valid while `self` lives.
    pub fn image_set(&self) -> ImageSet {
        image::image_set(&self.index, &self.images)
    }

    /// Writes the OCI layout apko writes (`index.json` is the index) into `dir`.
    pub fn write_layout(&self, dir: &Path) -> Result<Descriptor, Error> {
        Ok(image::write_layout(dir, &self.index, &self.images)?)
    }
}

/// What the architectures' builds give: the predicate, the per-architecture configurations
/// and the images.
struct Assembled {
    locked: ImageConfiguration,
    order_mismatch: Option<predicate::OrderMismatch>,
    per_arch: BTreeMap<Architecture, ImageConfiguration>,
    images: Vec<Image>,
}

/// Builds the image `request` describes. `progress` is called from build threads.
pub fn build(request: &Request, progress: &(dyn Fn(Progress<'_>) + Sync)) -> Result<Built, Error> {
    let name = &request.name;
    let mut loaded = request.configuration.clone();
    loaded
        .configuration
        .annotations
        .extend(request.annotations.clone());
    if loaded.configuration.contents.baseimage.is_some()
        && matches!(request.packages, Packages::Resolve)
    {
        return Err(Error::BaseImage {
            config: name.clone(),
        });
    }
    let mut configuration = loaded.configuration.clone();
    configuration.validate().map_err(|source| Error::Invalid {
        config: name.clone(),
        source,
    })?;
    let temp_dir = request.temp_dir.clone().unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&temp_dir)
        .map_err(|source| Error::Spool(fs::Error::Spool { source }))?;
    let budget = crate::parallel::Budget::new(request.read_budget.unwrap_or(READ_BUDGET));
    let builder = arch::ArchBuilder {
        source_date: &request.source_date,
        temp_dir: &temp_dir,
        readers: request.readers,
        budget: &budget,
        progress,
        name,
    };
    let assembled = match &request.packages {
        Packages::Locked(lock) => from_lock(&builder, &loaded, lock, &request.settings)?,
        Packages::Resolve => {
            from_sources(&builder, &loaded, plan::Order::Resolved, &request.settings)?
        }
        Packages::Listed => {
            from_sources(&builder, &loaded, plan::Order::Listed, &request.settings)?
        }
    };
    let index = image::index(&configuration, &assembled.images, &request.source_date)?;
    Ok(Built {
        index,
        images: assembled.images,
        locked: assembled.locked,
        order_mismatch: assembled.order_mismatch,
        per_arch: assembled.per_arch,
        read_peak: budget.peak(),
    })
}

/// A lock file build: each architecture's pins in lock order, fetched from the lock's URLs.
fn from_lock(
    builder: &arch::ArchBuilder<'_>,
    loaded: &LoadedConfiguration,
    lock: &Lock,
    settings: &Settings,
) -> Result<Assembled, Error> {
    let fetcher = Fetcher::new(&settings.fetch)
        .map_err(|e| Error::from(source::Error::Fetcher(Box::new(e))))?;
    let plans = plan::from_lock(builder.name, loaded, lock, settings, &fetcher)?;
    let (locked, order_mismatch) = plan::lock_predicate(&loaded.configuration, &plans, settings);
    let per_arch = plans
        .iter()
        .map(|p| (p.arch.clone(), p.locked.clone()))
        .collect();
    let fetch = packages::Fetch {
        fetcher: &fetcher,
        working_dir: &settings.working_dir,
    };
    let images = arch::build_all(builder, plans, &fetch)?;
    Ok(Assembled {
        locked,
        order_mismatch,
        per_arch,
        images,
    })
}

/// A build that resolves (or, listed, checks) each architecture's packages over the
/// configuration's sources, one candidate table per architecture serving both the lock and
/// the install order.
fn from_sources(
    builder: &arch::ArchBuilder<'_>,
    loaded: &LoadedConfiguration,
    order: plan::Order,
    settings: &Settings,
) -> Result<Assembled, Error> {
    let sources = Sources::open(builder.name, &loaded.configuration, settings)?;
    let tables = sources.tables();
    let result = match order {
        plan::Order::Listed => plan::listed_configurations(&loaded.configuration, &sources),
        plan::Order::Resolved => {
            sources.locked_configuration_over(&loaded.configuration, &tables)?
        }
    };
    let plans = plan::from_sources(builder.name, &sources, &tables, &result, order)?;
    let fetch = packages::Fetch {
        fetcher: sources.fetcher(),
        working_dir: &settings.working_dir,
    };
    let images = arch::build_all(builder, plans, &fetch)?;
    Ok(Assembled {
        locked: result.index,
        order_mismatch: None,
        per_arch: result.per_arch,
        images,
    })
}

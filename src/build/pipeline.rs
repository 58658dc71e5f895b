//! From a configuration to an image: the one entry point that builds, [`build`].
//!
//! A [`Request`] holds what apko's `build` command takes: the loaded configuration (any
//! command-line annotations merged here, before locking, so they reach `/etc/apko.json`), an
//! optional lock file, the architectures, the source date and where packages come from.
//! [`build`] then does what apko does:
//!
//! 1. **Lock.** Without a lock file, every architecture is resolved with the others known
//!    (apko's `LockImageConfiguration` through [`crate::lock::Locker`]), pins sorted as strings;
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
//! Not for: the steps themselves (`build::rootfs`, `build::walk`, `build::layering`,
//! `build::image`), resolving (`lock`, `apk::solver`), fetching (`apk::repository`), writing to a
//! registry (`oci`). A base image (`contents.baseimage`) needs a lock file, as in apko: its
//! packages are pinned in the world and recorded in the installed database
//! (`Rootfs::record_base_packages`), the accounts step is skipped, and the new layer goes on
//! top of the base's layers. Reproduces reference/apko-format.md §1, §3.5, §3.6 (apko
//! `internal/cli/build.go` `buildImageComponents`, `pkg/build/lock.go`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::apk::Package;
use crate::apk::archive::Limits;
use crate::apk::repository::{self, Fetcher, PackageFile};
use crate::build::fs::{self, Spool};
use crate::build::image::{self, Image, Index, SourceDate, time::Pinning};
use crate::build::layer::{BuiltLayer, LayerSink};
use crate::build::rootfs::{self, BuildDate, KeyFile, PackageSource, Plan};
use crate::build::{layering, predicate, walk};
use crate::codec::tar::Timestamp;
use crate::config::lock::{self as lockfile, Lock};
use crate::config::{Architecture, ImageConfiguration, LoadedConfiguration};
use crate::lock::{self, Locker};
use crate::oci::{Descriptor, Digest, ImageSet};

/// Why an image cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Resolving, or reading keys and indexes, failed.
    #[error(transparent)]
    Lock(Box<lock::Error>),
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
    #[error("configuration {config}: a base image (contents.baseimage) needs --lockfile")]
    BaseImage {
        /// The configuration's name.
        config: String,
    },
    /// A base image path is in neither the working directory nor an include path.
    #[error("base image path {path} not found in the working directory or include paths")]
    BaseImagePath {
        /// The path as configured.
        path: String,
    },
    /// The base image's package list cannot be read or parsed.
    #[error("base image package list {path}", path = path.display())]
    BaseImageList {
        /// The APKINDEX file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The download cache or client cannot be set up.
    #[error("cannot set up downloads")]
    Fetcher(#[source] repository::Error),
    /// A keyring entry cannot be read.
    #[error("keyring entry {key}")]
    Key {
        /// The entry as configured.
        key: String,
        /// Why.
        #[source]
        source: repository::Error,
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
        source: Box<dyn std::error::Error + Send + Sync>,
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
    /// The package spool (a temporary file) cannot be made.
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
    /// A layer cannot be written.
    #[error("layer for {arch}")]
    Layer {
        /// The APK architecture.
        arch: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
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

impl From<lock::Error> for Error {
    fn from(error: lock::Error) -> Self {
        Error::Lock(Box::new(error))
    }
}

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
    pub settings: lock::Settings,
    /// Where layer blobs and the package spool are written while the build lives (default: the
    /// system's temporary directory); created when missing. Layer blobs are scratch files
    /// (`crate::scratch`): removed on drop and on SIGINT/SIGTERM, swept by a later run.
    pub temp_dir: Option<PathBuf>,
    /// How many packages are read at once (default: one per core, 2 to 8). Each reader streams
    /// its package through a fixed-size window, so memory grows with this, not with packages.
    pub readers: Option<usize>,
}

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
            settings: lock::Settings::default(),
            temp_dir: None,
            readers: None,
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

/// One architecture, ready to build: its locked configuration, keys and packages to read.
struct ArchPlan {
    arch: Architecture,
    locked: ImageConfiguration,
    keyring: Vec<KeyFile>,
    packages: Vec<Job>,
    base: Option<Base>,
}

/// One architecture's base image: its layout and its installed packages.
struct Base {
    layout: PathBuf,
    records: Vec<crate::apk::installed::Record>,
}

/// One package to fetch and read.
struct Job {
    package: Package,
    url: String,
    source: JobSource,
}

enum JobSource {
    /// A lock file URL.
    Url,
    /// A resolved package: the architecture's resolution and the package's place in it.
    Resolved(Architecture, usize),
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
    let settings = &request.settings;
    let builder = ArchBuilder {
        source_date: &request.source_date,
        temp_dir: &temp_dir,
        readers: request.readers,
        progress,
        name,
    };

    let (locked, order_mismatch, per_arch, images) = match &request.packages {
        Packages::Locked(lock) => {
            let fetcher = Fetcher::new(&settings.fetch).map_err(Error::Fetcher)?;
            let plans = plan_from_lock(name, &loaded, lock, settings, &fetcher)?;
            let (locked, mismatch) = lock_predicate(&loaded, &plans, settings);
            let per_arch = plans
                .iter()
                .map(|p| (p.arch.clone(), p.locked.clone()))
                .collect();
            let images = build_all(&builder, plans, &|job: &Job| {
                fetcher
                    .open_package_url(&job.url, &settings.working_dir, &job.package)
                    .map_err(|e| Box::new(e) as _)
            })?;
            (locked, mismatch, per_arch, images)
        }
        Packages::Resolve | Packages::Listed => {
            let locker = Locker::from_loaded(name, loaded.clone(), settings)?;
            let listed = matches!(request.packages, Packages::Listed);
            // One candidate table per architecture serves both the lock and the install order.
            let tables = locker.tables();
            let result = if listed {
                listed_configurations(&locker)
            } else {
                locker.locked_configuration_over(&tables)?
            };
            let mut plans = Vec::new();
            let mut resolutions = Vec::new();
            for arch in unique(locker.archs()) {
                let Some(locked) = result.per_arch.get(&arch.normalised()) else {
                    continue;
                };
                let mut validated = locked.clone();
                validated.validate().map_err(|source| Error::Invalid {
                    config: name.clone(),
                    source,
                })?;
                let resolution =
                    locker.resolve_world_over(&tables, &arch, &validated.world::<&str>(&[]))?;
                let keyring = read_keys(locker.fetcher(), &validated, settings)?;
                let order = if listed {
                    listed_order(&locker, &arch, &locked.contents.packages, &resolution)?
                } else {
                    (0..resolution.packages.len()).collect()
                };
                let packages = order
                    .into_iter()
                    .filter_map(|at| Some((at, resolution.packages.get(at)?)))
                    .map(|(at, resolved)| Job {
                        package: resolved.package.clone(),
                        url: resolved.url.clone(),
                        source: JobSource::Resolved(arch.clone(), at),
                    })
                    .collect();
                let base = if listed {
                    read_base(&validated, &arch, settings)?
                } else {
                    None
                };
                plans.push(ArchPlan {
                    arch: arch.clone(),
                    locked: locked.clone(),
                    keyring,
                    packages,
                    base,
                });
                resolutions.push(resolution);
            }
            let resolutions = &resolutions;
            let images = build_all(&builder, plans, &|job: &Job| {
                let JobSource::Resolved(arch, at) = &job.source else {
                    return Err("not a resolved package".into());
                };
                let resolved = resolutions
                    .iter()
                    .find(|r| &r.arch == arch)
                    .and_then(|r| r.packages.get(*at));
                let Some(resolved) = resolved else {
                    return Err("not a resolved package".into());
                };
                match locker.open_package(arch, resolved) {
                    Ok(Some(file)) => Ok(file),
                    Ok(None) => Err("a base image package has no file to fetch".into()),
                    Err(e) => Err(Box::new(e) as _),
                }
            })?;
            (result.index, None, result.per_arch, images)
        }
    };
    let index = image::index(&configuration, &images, &request.source_date)?;
    Ok(Built {
        index,
        images,
        locked,
        order_mismatch,
        per_arch,
    })
}

/// Architectures in order, each once.
fn unique(archs: &[Architecture]) -> Vec<Architecture> {
    let mut seen = BTreeSet::new();
    archs
        .iter()
        .filter(|a| seen.insert(a.normalised()))
        .cloned()
        .collect()
}

/// The architectures to build: `--arch`, else the configuration's, else all.
fn chosen_archs(
    configuration: &ImageConfiguration,
    settings: &lock::Settings,
) -> Vec<Architecture> {
    let archs = if !settings.archs.is_empty() {
        crate::config::parse_architectures(&settings.archs)
    } else if !configuration.archs.is_empty() {
        configuration.archs.clone()
    } else {
        Architecture::all()
    };
    unique(&archs)
}

/// apko's `LockImageConfigurationWithPackages` input: keyring and repository lists sorted and
/// de-duplicated (`sets.List`), the architectures being built.
fn lock_input(configuration: &ImageConfiguration, archs: &[Architecture]) -> ImageConfiguration {
    let sorted = |items: &[String]| -> Vec<String> {
        items
            .iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .cloned()
            .collect()
    };
    let mut input = configuration.clone();
    input.archs = archs.to_vec();
    let contents = &mut input.contents;
    contents.build_repositories = sorted(&contents.build_repositories);
    contents.repositories = sorted(&contents.repositories);
    contents.keyring = sorted(&contents.keyring);
    input
}

/// The per-architecture plans of a lock file build (apko §3.5).
fn plan_from_lock(
    name: &str,
    loaded: &LoadedConfiguration,
    lock: &Lock,
    settings: &lock::Settings,
    fetcher: &Fetcher,
) -> Result<Vec<ArchPlan>, Error> {
    lock.check_config(&loaded.checksum)
        .map_err(|source| Error::LockConsistency {
            config: name.to_owned(),
            source,
        })?;
    let archs = chosen_archs(&loaded.configuration, settings);
    let input = lock_input(&loaded.configuration, &archs);
    let mut pins = lock.locked_packages(&archs);
    let mut plans = Vec::new();
    for arch in archs {
        let entries = lock.installable(&arch).map_err(|source| Error::LockEntry {
            package: source_package(&source),
            source,
        })?;
        let arch_pins = pins.remove(&arch).unwrap_or_default();
        if entries.is_empty() || arch_pins.is_empty() {
            return Err(Error::NoLockedPackages {
                arch: arch.to_apk(),
            });
        }
        let locked = input.locked_for(Some(&arch), arch_pins);
        let mut validated = locked.clone();
        validated.validate().map_err(|source| Error::Invalid {
            config: name.to_owned(),
            source,
        })?;
        let keyring = read_keys(fetcher, &validated, settings)?;
        let packages = entries
            .into_iter()
            .map(|entry| {
                let checksum = entry
                    .checksum
                    .strip_prefix("Q1")
                    .and_then(|b64| {
                        use base64::Engine as _;
                        base64::engine::general_purpose::STANDARD.decode(b64).ok()
                    })
                    .filter(|bytes| bytes.len() == 20)
                    .ok_or_else(|| Error::LockChecksum {
                        package: entry.name.clone(),
                        checksum: entry.checksum.clone(),
                    })?;
                Ok(Job {
                    package: Package {
                        name: entry.name.as_str().into(),
                        version: entry.version.as_str().into(),
                        arch: entry.architecture.as_str().into(),
                        checksum,
                        ..Package::default()
                    },
                    url: entry.url.clone(),
                    source: JobSource::Url,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let base = read_base(&validated, &arch, settings)?;
        plans.push(ArchPlan {
            arch,
            locked,
            keyring,
            packages,
            base,
        });
    }
    Ok(plans)
}

fn source_package(error: &lockfile::Error) -> String {
    match error {
        lockfile::Error::MissingChecksum { package } => package.clone(),
        _ => String::new(),
    }
}

/// The `"index"` configuration of a lock file build: the lock order every architecture
/// installs ([`predicate::from_lock_orders`]); when they differ, the pins every architecture
/// shares, sorted, with the reason no predicate reproduces the image.
fn lock_predicate(
    loaded: &LoadedConfiguration,
    plans: &[ArchPlan],
    settings: &lock::Settings,
) -> (ImageConfiguration, Option<predicate::OrderMismatch>) {
    let archs = chosen_archs(&loaded.configuration, settings);
    let input = lock_input(&loaded.configuration, &archs);
    let orders = plans
        .iter()
        .map(|plan| (&plan.arch, plan.locked.contents.packages.as_slice()));
    match predicate::from_lock_orders(orders) {
        Ok(pins) => (input.locked_for(None, pins), None),
        Err(mismatch) => {
            let mut shared: Option<BTreeSet<String>> = None;
            for plan in plans {
                let pins: BTreeSet<String> =
                    plan.locked.contents.packages.iter().cloned().collect();
                shared = Some(match shared {
                    None => pins,
                    Some(before) => before.intersection(&pins).cloned().collect(),
                });
            }
            let pins = shared.unwrap_or_default().into_iter().collect();
            (input.locked_for(None, pins), Some(mismatch))
        }
    }
}

/// The locked configurations of [`Packages::Listed`]: the configuration's list, as given, for
/// the index and every architecture (apko's `Arch2LockedPackages` of a one-order lock).
fn listed_configurations(locker: &Locker) -> lock::LockedConfiguration {
    let input = lock_input(&locker.configuration().configuration, locker.archs());
    let pins = input.contents.packages.clone();
    let per_arch = unique(locker.archs())
        .into_iter()
        .map(|arch| {
            let locked = input.locked_for(Some(&arch), pins.clone());
            (arch.normalised(), locked)
        })
        .collect();
    lock::LockedConfiguration {
        index: input.locked_for(None, pins),
        per_arch,
        missing: BTreeMap::new(),
    }
}

/// Positions in `resolution` of the `listed` pins, in the listed order: the packages a lock
/// file would install, in its order. The pinned world resolves to exactly these (plus a base
/// image's packages, which are not installed); anything else is an error naming the package.
fn listed_order(
    locker: &Locker,
    arch: &Architecture,
    listed: &[String],
    resolution: &lock::ArchResolution<'_>,
) -> Result<Vec<usize>, Error> {
    let base = locker.base_image_names(arch);
    let mut order = Vec::with_capacity(listed.len());
    for pin in listed {
        let constraint = crate::apk::constraint::Constraint::parse(pin);
        let found = resolution.packages.iter().position(|resolved| {
            resolved.package.name == constraint.name
                && resolved.package.version == constraint.version
        });
        match found {
            Some(at) if !order.contains(&at) => order.push(at),
            _ => {
                return Err(Error::Listed {
                    arch: arch.to_apk(),
                    package: pin.clone(),
                    reason: "not in the resolution of the pinned list",
                });
            }
        }
    }
    if let Some((_, extra)) = resolution
        .packages
        .iter()
        .enumerate()
        .find(|(at, resolved)| {
            !order.contains(at)
                && !base.is_some_and(|names| names.contains(resolved.package.name.as_str()))
        })
    {
        return Err(Error::Listed {
            arch: arch.to_apk(),
            package: format!("{}={}", extra.package.name, extra.package.version),
            reason: "needed by the listed packages but not listed (the list is not a lock)",
        });
    }
    Ok(order)
}

/// `path` in the working directory, else in the first include path that has it.
fn resolve_path(path: &str, settings: &lock::Settings) -> Result<PathBuf, Error> {
    std::iter::once(settings.working_dir.join(path))
        .chain(
            settings
                .include_paths
                .iter()
                .map(|dir| settings.working_dir.join(dir).join(path)),
        )
        .find(|candidate| candidate.exists())
        .ok_or_else(|| Error::BaseImagePath {
            path: path.to_owned(),
        })
}

/// The base image of `contents.baseimage` for `arch`: its layout directory and the packages of
/// `<apkindex>/<arch>/APKINDEX` (read as apko's `ParseInstalled` reads it: a last record
/// without a final blank line is dropped).
fn read_base(
    configuration: &ImageConfiguration,
    arch: &Architecture,
    settings: &lock::Settings,
) -> Result<Option<Base>, Error> {
    let Some(base) = &configuration.contents.baseimage else {
        return Ok(None);
    };
    let layout = resolve_path(&base.image, settings)?;
    let path = resolve_path(&base.apkindex, settings)?
        .join(arch.to_apk())
        .join("APKINDEX");
    let list_error = |source: Box<dyn std::error::Error + Send + Sync>| Error::BaseImageList {
        path: path.clone(),
        source,
    };
    let bytes = std::fs::read(&path).map_err(|e| list_error(Box::new(e)))?;
    let records = crate::apk::installed::parse(&bytes).map_err(|e| list_error(Box::new(e)))?;
    Ok(Some(Base { layout, records }))
}

/// The configured keys as `/etc/apk/keys` gets them (file name and bytes).
fn read_keys(
    fetcher: &Fetcher,
    configuration: &ImageConfiguration,
    settings: &lock::Settings,
) -> Result<Vec<KeyFile>, Error> {
    configuration
        .contents
        .keyring
        .iter()
        .map(|entry| {
            let key = fetcher
                .fetch_key(entry, &settings.working_dir)
                .map_err(|source| Error::Key {
                    key: entry.clone(),
                    source,
                })?;
            Ok(KeyFile {
                name: key.name,
                content: key.pem,
            })
        })
        .collect()
}

type FetchFn<'a> =
    dyn Fn(&Job) -> Result<PackageFile, Box<dyn std::error::Error + Send + Sync>> + Sync + 'a;

/// What every architecture's build shares.
struct ArchBuilder<'a> {
    source_date: &'a SourceDate,
    temp_dir: &'a Path,
    readers: Option<usize>,
    progress: &'a (dyn Fn(Progress<'_>) + Sync),
    name: &'a str,
}

/// Builds every architecture, in parallel; images in plan order.
fn build_all(
    builder: &ArchBuilder<'_>,
    plans: Vec<ArchPlan>,
    fetch: &FetchFn<'_>,
) -> Result<Vec<Image>, Error> {
    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for plan in plans {
            let handle = std::thread::Builder::new()
                .name(format!("build-{}", plan.arch.to_apk()))
                .spawn_scoped(scope, move || builder.build(plan, fetch))
                .map_err(Error::Thread)?;
            handles.push(handle);
        }
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

impl ArchBuilder<'_> {
    fn build(&self, plan: ArchPlan, fetch: &FetchFn<'_>) -> Result<Image, Error> {
        let arch = plan.arch.clone();
        let apk_arch = arch.to_apk();
        (self.progress)(Progress::Resolved {
            arch: &arch,
            packages: plan.packages.len(),
        });
        let mut locked = plan.locked;
        locked.validate().map_err(|source| Error::Invalid {
            config: self.name.to_owned(),
            source,
        })?;
        let mut rootfs_plan = Plan::from_configuration(&locked, &arch, plan.keyring);
        rootfs_plan.source_date_epoch =
            Timestamp::from_seconds(self.source_date.time.unix_seconds());
        rootfs_plan.build_date = match self.source_date.pinning {
            Pinning::Environment => BuildDate::SourceDateEpoch,
            Pinning::Unpinned => BuildDate::LatestPackage,
        };
        let packages = read_packages(&plan.packages, fetch, self.temp_dir, self.readers)?;
        let rootfs_error = |source| Error::Rootfs {
            arch: apk_arch.clone(),
            source: Box::new(source),
        };
        let (built, run_as) = match &plan.base {
            None => {
                let run_as = Mutex::new(String::new());
                let built = rootfs::build(&rootfs_plan, packages, |resolved| {
                    if let Ok(mut slot) = run_as.lock() {
                        resolved.clone_into(&mut slot);
                    }
                    let mut json = locked.clone();
                    json.accounts.run_as = resolved.to_owned();
                    json.to_apko_json_file()
                })
                .map_err(rootfs_error)?;
                let run_as = run_as
                    .into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                (built, run_as)
            }
            Some(base) => {
                // apko's world on a base image also pins every base package; its accounts step
                // is skipped, so run-as stays as configured.
                rootfs_plan.world.extend(
                    base.records
                        .iter()
                        .map(|r| format!("{}={}", r.package.name, r.package.version)),
                );
                let mut built = rootfs::Rootfs::init(&rootfs_plan).map_err(rootfs_error)?;
                built
                    .record_base_packages(&base.records)
                    .map_err(rootfs_error)?;
                built.install(packages).map_err(rootfs_error)?;
                let json = locked.to_apko_json_file().map_err(|source| {
                    rootfs_error(rootfs::Error::ApkoJson {
                        source: Box::new(source),
                    })
                })?;
                built.write_apko_json(&json).map_err(rootfs_error)?;
                built.finish(&rootfs_plan).map_err(rootfs_error)?;
                (built, locked.accounts.run_as.clone())
            }
        };
        // A base image's packages count towards the build date too.
        let base_times = plan
            .base
            .iter()
            .flat_map(|base| base.records.iter().map(|r| r.package.build_time));
        let created = self.source_date.build_date_epoch(
            built
                .packages()
                .iter()
                .map(|p| p.build_time)
                .chain(base_times),
        );
        let layers = self.layers(&built, &locked, &apk_arch)?;
        drop(built);
        let mut image_configuration = locked;
        image_configuration.accounts.run_as = run_as;
        let base = match &plan.base {
            Some(base) => Some(image::BaseImage::open(&base.layout, &arch)?),
            None => None,
        };
        let image = image::assemble(&image_configuration, &arch, created, layers, base.as_ref())?;
        (self.progress)(Progress::Image {
            arch: &arch,
            digest: image.digest(),
            layer_bytes: image.layers().iter().map(|l| l.descriptor().size).sum(),
        });
        Ok(image)
    }

    fn layers(
        &self,
        built: &rootfs::Rootfs,
        configuration: &ImageConfiguration,
        apk_arch: &str,
    ) -> Result<Vec<BuiltLayer>, Error> {
        let layer_error = |source: Box<dyn std::error::Error + Send + Sync>| Error::Layer {
            arch: apk_arch.to_owned(),
            source,
        };
        let options = crate::compress::Options::apko();
        let budget = layering::budget(configuration).map_err(|source| Error::Layering {
            arch: apk_arch.to_owned(),
            source: Box::new(source),
        })?;
        match budget {
            None => {
                let sink = LayerSink::create_in(self.temp_dir, options)
                    .map_err(|e| layer_error(Box::new(e)))?;
                let (sink, hashed) =
                    walk::write_layer(built.tree(), sink).map_err(|e| layer_error(Box::new(e)))?;
                Ok(vec![
                    sink.finish(hashed).map_err(|e| layer_error(Box::new(e)))?,
                ])
            }
            Some(budget) => {
                let groups =
                    layering::group_by_origin(&built.packages(), budget).map_err(|source| {
                        Error::Layering {
                            arch: apk_arch.to_owned(),
                            source: Box::new(source),
                        }
                    })?;
                let mut splitter = layering::Splitter::create_in(
                    self.temp_dir,
                    options,
                    built.group_records(&groups),
                )
                .map_err(|e| layer_error(Box::new(e)))?;
                walk::split_layers(built.tree(), &groups, &mut splitter)
                    .map_err(|e| layer_error(Box::new(e)))?;
                splitter.finish().map_err(|e| layer_error(Box::new(e)))
            }
        }
    }
}

/// Fewest and most package readers: reading is decompression and hashing, so about one per
/// core, at least two to overlap a fetch with a read.
const FEWEST_READERS: usize = 2;
const MOST_READERS: usize = 8;

/// Fetches and reads `jobs` in parallel (each reader its own spool), in job order; the first
/// failure in job order is returned.
fn read_packages(
    jobs: &[Job],
    fetch: &FetchFn<'_>,
    temp_dir: &Path,
    readers: Option<usize>,
) -> Result<Vec<PackageSource>, Error> {
    let workers = readers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(FEWEST_READERS, usize::from)
            .clamp(FEWEST_READERS, MOST_READERS)
    });
    crate::parallel::try_map(
        jobs,
        workers,
        || Spool::new_in(temp_dir).map_err(Error::Spool),
        |spool, job| read_package(spool, job, fetch),
    )
}

fn read_package(spool: &Spool, job: &Job, fetch: &FetchFn<'_>) -> Result<PackageSource, Error> {
    let name = &job.package.name;
    let file = fetch(job).map_err(|source| Error::Fetch {
        package: name.to_string(),
        url: job.url.clone(),
        source,
    })?;
    // Streamed from the file: memory per reader does not grow with the package.
    let (source, _) =
        PackageSource::read_apk(spool, file, name, Limits::default()).map_err(|source| {
            Error::Package {
                package: name.to_string(),
                url: job.url.clone(),
                source: Box::new(source),
            }
        })?;
    Ok(source)
}

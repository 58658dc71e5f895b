//! Each architecture's plan: its locked configuration (what `/etc/apko.json` holds), the keys
//! `/etc/apk/keys` receives, the packages to fetch in install order, and its base image.
//!
//! From a lock file, the lock's pins in lock order and its URLs (nothing resolved); from the
//! configuration's sources, the pinned world resolved again for the install order (apko's
//! `FixateWorld`), or, listed, exactly the configuration's pins in their order.
//!
//! Not for: resolving or reading sources ([`crate::apk::source`]), building
//! ([`super::arch`]). Reproduces apko `pkg/build/lock.go` (`Arch2LockedPackages`,
//! `installablePackagesForArch`), reference/apko-format.md §3.5, §3.6.

use std::collections::{BTreeMap, BTreeSet};

use super::{Error, Settings};
use crate::apk::Package;
use crate::apk::constraint::Constraint;
use crate::apk::repository::{Fetcher, Repository};
use crate::apk::source::{
    self, ArchResolution, BaseImage, Keys, LockedConfiguration, Sources, Tables,
};
use crate::build::predicate;
use crate::build::rootfs::KeyFile;
use crate::config::lock::{self as lockfile, Lock};
use crate::config::{Architecture, ImageConfiguration, LoadedConfiguration};

/// One architecture, ready to build: its locked configuration, keys and packages to read.
pub(super) struct ArchPlan {
    pub arch: Architecture,
    pub locked: ImageConfiguration,
    pub keyring: Vec<KeyFile>,
    pub packages: Vec<Job>,
    pub base: Option<BaseImage>,
}

/// One package to fetch and read.
pub(super) struct Job {
    pub package: Package,
    pub url: String,
    pub origin: Origin,
}

/// Where a package's file comes from.
pub(super) enum Origin {
    /// A lock file URL (checked against the lock's `checksum`).
    LockUrl,
    /// A repository (checked against the index's `C:`).
    Repository {
        /// The repository.
        repository: Repository,
        /// Its architecture directory.
        apk_arch: String,
    },
    /// The base image's list: installed already, nothing to fetch.
    BaseImage,
}

/// Which packages a build from sources installs, in which order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Order {
    /// The resolution of the locked world, in the solver's order.
    Resolved,
    /// The configuration's pins, as listed ([`super::Packages::Listed`]).
    Listed,
}

/// The keys `/etc/apk/keys` receives (file name and bytes).
fn key_files(keys: &Keys) -> Vec<KeyFile> {
    keys.installed()
        .map(|(_, key)| KeyFile {
            name: key.name.clone(),
            content: key.pem.clone(),
        })
        .collect()
}

/// `locked` validated as apko validates it before building.
fn validated(name: &str, locked: &ImageConfiguration) -> Result<ImageConfiguration, Error> {
    let mut validated = locked.clone();
    validated.validate().map_err(|source| Error::Invalid {
        config: name.to_owned(),
        source,
    })?;
    Ok(validated)
}

/// The per-architecture plans of a lock file build (apko §3.5).
pub(super) fn from_lock(
    name: &str,
    loaded: &LoadedConfiguration,
    lock: &Lock,
    settings: &Settings,
    fetcher: &Fetcher,
) -> Result<Vec<ArchPlan>, Error> {
    lock.check_config(&loaded.checksum)
        .map_err(|source| Error::LockConsistency {
            config: name.to_owned(),
            source,
        })?;
    let archs = source::distinct(&settings.archs_for(&loaded.configuration));
    let input = source::lock_input(&loaded.configuration, &archs);
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
        let validated = validated(name, &locked)?;
        let keys = Keys::read(fetcher, &validated.contents.keyring, &settings.working_dir)?;
        let packages = entries
            .into_iter()
            .map(|entry| {
                Ok(Job {
                    package: Package {
                        name: entry.name.as_str().into(),
                        version: entry.version.as_str().into(),
                        arch: entry.architecture.as_str().into(),
                        checksum: lock_checksum(&entry.name, &entry.checksum)?,
                        ..Package::default()
                    },
                    url: entry.url.clone(),
                    origin: Origin::LockUrl,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let base = source::read_base(&validated, &arch.to_apk(), settings)?;
        plans.push(ArchPlan {
            arch,
            locked,
            keyring: key_files(&keys),
            packages,
            base,
        });
    }
    Ok(plans)
}

/// A lock file entry's `checksum`: `Q1` + base64 of a SHA-1.
fn lock_checksum(package: &str, checksum: &str) -> Result<Vec<u8>, Error> {
    use base64::Engine as _;
    checksum
        .strip_prefix("Q1")
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .filter(|bytes| bytes.len() == 20)
        .ok_or_else(|| Error::LockChecksum {
            package: package.to_owned(),
            checksum: checksum.to_owned(),
        })
}

fn source_package(error: &lockfile::Error) -> String {
    match error {
        lockfile::Error::MissingChecksum { package } => package.clone(),
        _ => String::new(),
    }
}

/// The per-architecture plans of a build from the configuration's sources: each
/// architecture's locked world resolved again (over `tables`) for the install order, its
/// packages taken in that order, or in the listed order.
pub(super) fn from_sources<'s>(
    name: &str,
    sources: &'s Sources,
    tables: &Tables<'s>,
    result: &LockedConfiguration,
    order: Order,
) -> Result<Vec<ArchPlan>, Error> {
    let mut plans = Vec::new();
    for arch in source::distinct(sources.archs()) {
        let Some(locked) = result.per_arch.get(&arch.normalised()) else {
            continue;
        };
        let validated = validated(name, locked)?;
        let resolution =
            sources.resolve_world_over(tables, &arch, &validated.world::<&str>(&[]))?;
        let positions = match order {
            Order::Listed => listed_order(sources, &arch, &locked.contents.packages, &resolution)?,
            Order::Resolved => (0..resolution.packages.len()).collect(),
        };
        let arch_sources = sources.arch(&arch);
        let packages = positions
            .into_iter()
            .filter_map(|at| resolution.packages.get(at))
            .map(|resolved| {
                let repository = arch_sources.and_then(|s| Some((s.repository(resolved)?, s)));
                Job {
                    package: resolved.package.clone(),
                    url: resolved.url.clone(),
                    origin: match repository {
                        Some((repository, s)) => Origin::Repository {
                            repository: repository.clone(),
                            apk_arch: s.apk_arch.clone(),
                        },
                        None => Origin::BaseImage,
                    },
                }
            })
            .collect();
        let base = match order {
            Order::Listed => arch_sources.and_then(|s| s.base.clone()),
            Order::Resolved => None,
        };
        plans.push(ArchPlan {
            arch: arch.clone(),
            locked: locked.clone(),
            keyring: key_files(sources.keys()),
            packages,
            base,
        });
    }
    Ok(plans)
}

/// The `"index"` configuration of a lock file build: the lock order every architecture
/// installs ([`predicate::from_lock_orders`]); when they differ, the pins every architecture
/// shares, sorted, with the reason no predicate reproduces the image.
pub(super) fn lock_predicate(
    configuration: &ImageConfiguration,
    plans: &[ArchPlan],
    settings: &Settings,
) -> (ImageConfiguration, Option<predicate::OrderMismatch>) {
    let archs = source::distinct(&settings.archs_for(configuration));
    let input = source::lock_input(configuration, &archs);
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

/// The locked configurations of [`super::Packages::Listed`]: the configuration's list, as
/// given, for the index and every architecture (apko's `Arch2LockedPackages` of a one-order
/// lock).
pub(super) fn listed_configurations(
    configuration: &ImageConfiguration,
    sources: &Sources,
) -> LockedConfiguration {
    let input = source::lock_input(configuration, sources.archs());
    let pins = input.contents.packages.clone();
    let per_arch = source::distinct(sources.archs())
        .into_iter()
        .map(|arch| {
            let locked = input.locked_for(Some(&arch), pins.clone());
            (arch.normalised(), locked)
        })
        .collect();
    LockedConfiguration {
        index: input.locked_for(None, pins),
        per_arch,
        missing: BTreeMap::new(),
    }
}

/// Positions in `resolution` of the `listed` pins, in the listed order: the packages a lock
/// file would install, in its order. The pinned world resolves to exactly these (plus a base
/// image's packages, which are not installed); anything else is an error naming the package.
fn listed_order(
    sources: &Sources,
    arch: &Architecture,
    listed: &[String],
    resolution: &ArchResolution<'_>,
) -> Result<Vec<usize>, Error> {
    let base = sources.base_names(arch);
    let mut order = Vec::with_capacity(listed.len());
    for pin in listed {
        let constraint = Constraint::parse(pin);
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

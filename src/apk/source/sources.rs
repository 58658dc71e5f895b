//! [`Sources`]: a configuration's keys read and every architecture's indexes and base image
//! list in memory, with the fetcher they came through; opens the files of chosen packages.
//!
//! Not for: resolving over them ([`super::resolve`]) or locking ([`super::locked`]). Reproduces
//! apko `pkg/build/apk.go` `initializeApk` (world sorted, base image packages pinned) and
//! `internal/cli/lock.go` `LockCmd` (architecture choice), reference/apko-format.md §3.4, §4.1.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::indexes::{self, Indexed};
use super::{BaseImage, Error, Keys, Settings, read_base};
use crate::apk::repository::{Fetcher, PackageFile, Repository};
use crate::apk::solver::Resolved;
use crate::config::{Architecture, ImageConfiguration};

/// Everything one architecture resolves against.
#[derive(Debug, Clone)]
pub struct ArchSources {
    /// The architecture.
    pub arch: Architecture,
    /// Its APK name.
    pub apk_arch: String,
    /// Indexes in apko's order (sorted repositories, then the base image's).
    pub indexes: Vec<Indexed>,
    /// Local repositories without an index for this architecture (apko warns).
    pub missing: Vec<PathBuf>,
    /// The base image of `contents.baseimage`, if any.
    pub base: Option<BaseImage>,
    /// Names installed in the base image (left out of a lock file, not installed again).
    pub base_names: BTreeSet<String>,
    /// The world: sorted requested packages plus the base image's `name=version` pins.
    pub world: Vec<String>,
}

impl ArchSources {
    /// The repository a package `resolved` for this architecture is fetched from; `None` for a
    /// package of the base image's list.
    pub fn repository(&self, resolved: &Resolved<'_>) -> Option<&Repository> {
        self.indexes
            .iter()
            .find(|indexed| indexed.url == resolved.repository)
            .and_then(|indexed| indexed.repository.as_ref())
    }
}

/// A configuration's keys read and every chosen architecture's indexes fetched.
#[derive(Debug)]
pub struct Sources {
    archs: Vec<Architecture>,
    keys: Keys,
    pub(super) per_arch: Vec<ArchSources>,
    fetcher: Fetcher,
}

impl Sources {
    /// Reads the keys of `configuration` and fetches the indexes of every architecture
    /// [`Settings::archs_for`] chooses (in parallel, as apko's build contexts do). The
    /// configuration is validated first, as apko's `build.New` does before resolving (which also
    /// adds `s6` for service bundles to the world); `config` names it in messages.
    pub fn open(
        config: &str,
        configuration: &ImageConfiguration,
        settings: &Settings,
    ) -> Result<Sources, Error> {
        let archs = settings.archs_for(configuration);
        let mut validated = configuration.clone();
        validated.validate().map_err(|source| Error::Invalid {
            config: config.to_owned(),
            source,
        })?;
        let requested = validated.world::<&str>(&[]);

        let fetcher = Fetcher::new(&settings.fetch).map_err(|e| Error::Fetcher(Box::new(e)))?;
        let working_dir = &settings.working_dir;
        let keys = Keys::read(&fetcher, &configuration.contents.keyring, working_dir)?;
        let keyring = keys.keyring()?;
        let lines = indexes::build_repositories(configuration);
        let repositories = indexes::parse_repositories(&lines, working_dir)?;

        let unique: BTreeSet<&Architecture> = archs.iter().collect();
        let fetch_one = |arch: &Architecture| -> Result<ArchSources, Error> {
            let apk_arch = arch.to_apk();
            let (mut indexes, missing) =
                indexes::fetch_indexes(&fetcher, &repositories, &apk_arch, &keyring)?;
            let base = read_base(configuration, &apk_arch, settings)?;
            let mut world = requested.clone();
            let mut base_names = BTreeSet::new();
            if let Some(base) = &base {
                indexes.push(base.index(&apk_arch)?);
                world.extend(base.pins());
                base_names = base.names();
            }
            world.sort();
            world.dedup();
            Ok(ArchSources {
                arch: arch.clone(),
                apk_arch,
                indexes,
                missing,
                base,
                base_names,
                world,
            })
        };
        let per_arch = std::thread::scope(|scope| {
            let handles: Vec<_> = unique
                .iter()
                .map(|arch| scope.spawn(|| fetch_one(arch)))
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|e| std::panic::resume_unwind(e))
                })
                .collect::<Result<Vec<_>, _>>()
        })?;
        Ok(Sources {
            archs,
            keys,
            per_arch,
            fetcher,
        })
    }

    /// The architectures in lock order (apko's `--arch` sorting, or the configuration's order);
    /// one may appear under two spellings.
    pub fn archs(&self) -> &[Architecture] {
        &self.archs
    }

    /// The keys of `contents.keyring`.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The fetcher (download cache and network settings) the indexes came through.
    pub fn fetcher(&self) -> &Fetcher {
        &self.fetcher
    }

    /// What `arch` resolves against, if it was opened.
    pub fn arch(&self, arch: &Architecture) -> Option<&ArchSources> {
        self.per_arch.iter().find(|sources| &sources.arch == arch)
    }

    /// Local repositories that have no index for an architecture (apko warns and goes on).
    pub fn missing_indexes(&self) -> Vec<&Path> {
        self.per_arch
            .iter()
            .flat_map(|sources| sources.missing.iter().map(PathBuf::as_path))
            .collect()
    }

    /// The names installed in the base image (`contents.baseimage`) for `arch`, if any.
    pub fn base_names(&self, arch: &Architecture) -> Option<&BTreeSet<String>> {
        self.arch(arch).map(|sources| &sources.base_names)
    }

    /// The `.apk` file of a package resolved for `arch`, opened through the download cache, its
    /// control member checked against the index's `C:` checksum. `None` for a package of the
    /// base image (nothing to fetch).
    pub fn open_package(
        &self,
        arch: &Architecture,
        resolved: &Resolved<'_>,
    ) -> Result<Option<PackageFile>, Error> {
        let Some(sources) = self.arch(arch) else {
            return Ok(None);
        };
        let Some(repository) = sources.repository(resolved) else {
            return Ok(None);
        };
        self.fetcher
            .open_package(repository, &sources.apk_arch, resolved.package)
            .map(Some)
            .map_err(|source| Error::Package {
                url: resolved.url.clone(),
                source: Box::new(source),
            })
    }
}

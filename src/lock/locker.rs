//! [`Locker`]: a configuration opened for locking: its name and checksum (what the lock file
//! records) with its package sources; locks, resolves and shows over them.
//!
//! Not for: the sources, resolution and unification themselves ([`crate::apk::source`]), the
//! lock file's package entries ([`super::lockfile`]). Reproduces apko `internal/cli/lock.go`
//! `LockCmd` and `internal/cli/show-packages.go` (reference/apko-format.md §3.4, §3.6).

use std::collections::BTreeSet;

use super::{Error, Settings};
use crate::apk::repository::FetchedKey;
use crate::apk::source::{ArchResolution, ArchSources, LockedConfiguration, Scope, Sources};
use crate::config::{Architecture, LoadedConfiguration};

/// A configuration with its keys read and every architecture's indexes fetched.
#[derive(Debug)]
pub struct Locker {
    name: String,
    loaded: LoadedConfiguration,
    sources: Sources,
}

impl Locker {
    /// Loads `config` (a path as given on the command line), reads its keys and fetches the
    /// indexes of every architecture: `settings.archs` (apko's `--arch` rules), else the
    /// configuration's `archs`, else all.
    pub fn open(config: &str, settings: &Settings) -> Result<Locker, Error> {
        let loaded = settings
            .loader()
            .load(config)
            .map_err(|source| Error::Config {
                config: config.to_owned(),
                source,
            })?;
        Self::from_loaded(config, loaded, settings)
    }

    /// As [`Locker::open`], for a configuration already in memory. `config` names it in
    /// messages and the lock file; relative paths in it are read from `settings.working_dir`.
    pub fn from_loaded(
        config: &str,
        loaded: LoadedConfiguration,
        settings: &Settings,
    ) -> Result<Locker, Error> {
        let sources = Sources::open(config, &loaded.configuration, settings)?;
        Ok(Locker {
            name: config.to_owned(),
            loaded,
            sources,
        })
    }

    /// The configuration name as given (`config.name` in the lock file).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The loaded configuration with its checksum.
    pub fn configuration(&self) -> &LoadedConfiguration {
        &self.loaded
    }

    /// The package sources: keys, indexes, base image lists and the fetcher.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// The architectures in lock order (apko's `--arch` sorting, or the configuration's order).
    pub fn archs(&self) -> &[Architecture] {
        self.sources.archs()
    }

    /// Local repositories that have no index for an architecture (apko warns and goes on).
    pub fn missing_indexes(&self) -> Vec<&std::path::Path> {
        self.sources.missing_indexes()
    }

    pub(super) fn keys(&self) -> &[(String, FetchedKey)] {
        self.sources.keys().entries()
    }

    /// The names installed in the base image (`contents.baseimage`) for `arch`, if any.
    pub fn base_image_names(&self, arch: &Architecture) -> Option<&BTreeSet<String>> {
        self.sources.base_names(arch)
    }

    pub(super) fn arch_sources(&self, arch: &Architecture) -> Option<&ArchSources> {
        self.sources.arch(arch)
    }

    /// Resolves every distinct architecture (sorted) in `scope`.
    pub fn resolve(&self, scope: Scope) -> Result<Vec<ArchResolution<'_>>, Error> {
        Ok(self.sources.resolve(scope)?)
    }

    /// apko's `show-packages`: every architecture (sorted) with one line per package in install
    /// order, resolved with the architectures aware of each other.
    pub fn show_packages(
        &self,
        template: &super::Template,
    ) -> Result<Vec<(Architecture, String)>, Error> {
        Ok(self
            .resolve(Scope::Together)?
            .into_iter()
            .map(|resolution| {
                let lines = template.render_all(&resolution.packages);
                (resolution.arch, lines)
            })
            .collect())
    }

    /// apko's `LockImageConfiguration`: resolves with every architecture known, unifies, and
    /// returns the index and per-architecture locked configurations.
    pub fn locked_configuration(&self) -> Result<LockedConfiguration, Error> {
        Ok(self
            .sources
            .locked_configuration(&self.loaded.configuration)?)
    }
}

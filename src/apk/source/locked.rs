//! apko's `LockImageConfiguration` over [`Sources`]: resolve with every architecture known,
//! unify ([`crate::apk::unify`]), and pin the index and per-architecture configurations.
//!
//! Not for: the lock file (`lock`) or how a configuration is locked into a copy
//! ([`crate::config::merge`]). Reproduces apko `pkg/build/lock.go`
//! `LockImageConfigurationWithPackages`, reference/apko-format.md §3.6.

use std::collections::BTreeMap;

use super::{Error, Scope, Sources, Tables, sorted_unique};
use crate::apk::unify::{self, ArchSet};
use crate::config::{Architecture, ImageConfiguration};

/// The result of locking a configuration (apko's `LockImageConfiguration`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedConfiguration {
    /// The `"index"` configuration: the packages every architecture agrees on, pinned. This is
    /// what an image-configuration predicate carries.
    pub index: ImageConfiguration,
    /// Each architecture's own locked configuration (`archs` set to just that one).
    pub per_arch: BTreeMap<Architecture, ImageConfiguration>,
    /// Per architecture (canonical name), resolved packages left out of the index because the
    /// architectures disagree on their version (apko returns these as warnings).
    pub missing: BTreeMap<String, Vec<String>>,
}

/// The configuration `LockImageConfigurationWithPackages` starts from: `configuration` with
/// `archs` being locked, and keyring and repository lists sorted and de-duplicated
/// (`sets.List`).
pub fn lock_input(
    configuration: &ImageConfiguration,
    archs: &[Architecture],
) -> ImageConfiguration {
    let mut input = configuration.clone();
    input.archs = archs.to_vec();
    let contents = &mut input.contents;
    contents.build_repositories = sorted_unique(&contents.build_repositories);
    contents.repositories = sorted_unique(&contents.repositories);
    contents.keyring = sorted_unique(&contents.keyring);
    input
}

impl Sources {
    /// apko's `LockImageConfiguration` of `configuration` (the one these sources were opened
    /// for): resolves with every architecture known, unifies, and returns the index and
    /// per-architecture locked configurations.
    pub fn locked_configuration(
        &self,
        configuration: &ImageConfiguration,
    ) -> Result<LockedConfiguration, Error> {
        self.locked_configuration_in(configuration, None)
    }

    /// [`Sources::locked_configuration`] over tables from [`Sources::tables`].
    pub fn locked_configuration_over<'s>(
        &'s self,
        configuration: &ImageConfiguration,
        tables: &Tables<'s>,
    ) -> Result<LockedConfiguration, Error> {
        self.locked_configuration_in(configuration, Some(tables))
    }

    fn locked_configuration_in<'s>(
        &'s self,
        configuration: &ImageConfiguration,
        tables: Option<&Tables<'s>>,
    ) -> Result<LockedConfiguration, Error> {
        let resolutions = self.resolve_over(Scope::Together, tables)?;
        let sets: Vec<ArchSet> = resolutions
            .iter()
            .map(|resolution| {
                let mut set = ArchSet::new(resolution.arch.normalised().as_str());
                for resolved in &resolution.packages {
                    let package = resolved.package;
                    set.insert(&package.name, &package.version, &package.provides);
                }
                set
            })
            .collect();
        let input = lock_input(configuration, self.archs());
        let unified = unify::unify(&input.contents.packages, &sets)?;
        let per_arch = unified
            .per_arch
            .into_iter()
            .map(|(arch, pins)| {
                let arch = Architecture::parse(&arch);
                let locked = input.locked_for(Some(&arch), pins);
                (arch, locked)
            })
            .collect();
        Ok(LockedConfiguration {
            index: input.locked_for(None, unified.index),
            per_arch,
            missing: unified.missing,
        })
    }
}

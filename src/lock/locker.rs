//! [`Locker`]: a configuration opened for locking, with every architecture's indexes in memory;
//! resolves per architecture (alone or aware of the others) and builds the locked
//! configurations.
//!
//! Not for: the lock file's package entries ([`super::lockfile`]) or unification itself
//! ([`super::unify`]). Reproduces apko `internal/cli/lock.go` `LockCmd` (architecture choice),
//! `pkg/build/multi.go` `NewMultiArch` (`ByArch`), `pkg/build/lock.go`
//! `LockImageConfigurationWithPackages` and `pkg/apk/apk/implementation.go` `ResolveWorld`
//! (reference/apko-format.md §3.4, §3.6).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::sources::{self, ArchSources, Indexed};
use super::unify::{self, ArchSet};
use super::{Error, Settings};
use crate::apk::constraint::{Constraint, Operator};
use crate::apk::repository::{FetchedKey, Fetcher, PackageFile};
use crate::apk::solver::{self, Resolved, Resolver, Source};
use crate::apk::version::Version;
use crate::config::{Architecture, ImageConfiguration, LoadedConfiguration, Loader};

/// Stack size of a resolver thread: reserved address space, touched only as deep as the walk
/// goes (depth is bounded by the number of package names).
const RESOLVER_STACK: usize = 512 << 20;

/// Whether architectures are resolved knowing about each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// apko's `ByArch`: a package whose name and version some architecture lacks is
    /// disqualified everywhere (locked configuration, `show-packages`).
    Together,
    /// Each architecture on its own (apko's `lock` command, the lock file).
    Separately,
}

/// One architecture's packages in install order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchResolution<'a> {
    /// The architecture.
    pub arch: Architecture,
    /// The packages to install, in apko's order.
    pub packages: Vec<Resolved<'a>>,
}

/// The candidate tables of a [`Locker`]'s architectures ([`Locker::tables`]).
pub struct Tables<'a> {
    resolvers: Vec<Resolver<'a>>,
}

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

/// A configuration with its keys read and every architecture's indexes fetched.
#[derive(Debug)]
pub struct Locker {
    name: String,
    loaded: LoadedConfiguration,
    archs: Vec<Architecture>,
    keys: Vec<(String, FetchedKey)>,
    sources: Vec<ArchSources>,
    fetcher: Fetcher,
}

impl Locker {
    /// Loads `config` (a path as given on the command line), reads its keys and fetches the
    /// indexes of every architecture: `settings.archs` (apko's `--arch` rules), else the
    /// configuration's `archs`, else all.
    pub fn open(config: &str, settings: &Settings) -> Result<Locker, Error> {
        let loaded = Loader::new()
            .working_dir(&settings.working_dir)
            .include_paths(settings.include_paths.iter().cloned())
            .load(config)
            .map_err(|source| Error::Config {
                config: config.to_owned(),
                source,
            })?;
        Self::from_loaded(config, loaded, settings)
    }

    /// As [`Locker::open`], for a configuration already in memory (a builder that merged
    /// command-line annotations, an audit rebuilding from a predicate). `config` names it in
    /// messages and the lock file; relative paths in it are read from `settings.working_dir`.
    pub fn from_loaded(
        config: &str,
        loaded: LoadedConfiguration,
        settings: &Settings,
    ) -> Result<Locker, Error> {
        let configuration = &loaded.configuration;
        let archs = if !settings.archs.is_empty() {
            crate::config::parse_architectures(&settings.archs)
        } else if !configuration.archs.is_empty() {
            configuration.archs.clone()
        } else {
            Architecture::all()
        };
        // apko validates inside build.New, before anything is resolved; validation also adds
        // `s6` for service bundles, which the world then requests.
        let mut validated = configuration.clone();
        validated.validate().map_err(|source| Error::Invalid {
            config: config.to_owned(),
            source,
        })?;
        let requested = validated.world::<&str>(&[]);

        let fetcher = Fetcher::new(&settings.fetch).map_err(|e| Error::Fetcher(Box::new(e)))?;
        let working_dir = &settings.working_dir;
        let (keys, keyring) = sources::read_keys(&fetcher, configuration, working_dir)?;
        let lines = sources::build_repositories(configuration);
        let repositories = sources::parse_repositories(&lines, working_dir)?;

        let unique: BTreeSet<&Architecture> = archs.iter().collect();
        let fetch_one = |arch: &Architecture| -> Result<ArchSources, Error> {
            let apk_arch = arch.to_apk();
            let (mut indexes, missing) =
                sources::fetch_indexes(&fetcher, &repositories, &apk_arch, &keyring)?;
            let base = sources::read_base(
                configuration,
                &apk_arch,
                working_dir,
                &settings.include_paths,
            )?;
            indexes.extend(base.index);
            let mut world = requested.clone();
            world.extend(base.pins);
            world.sort();
            world.dedup();
            Ok(ArchSources {
                arch: arch.clone(),
                apk_arch,
                indexes,
                missing,
                base_names: base.names,
                world,
            })
        };
        // Architectures are fetched in parallel, as apko's build contexts do.
        let sources = std::thread::scope(|scope| {
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
        Ok(Locker {
            name: config.to_owned(),
            loaded,
            archs,
            keys,
            sources,
            fetcher,
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

    /// The architectures in lock order (apko's `--arch` sorting, or the configuration's order).
    pub fn archs(&self) -> &[Architecture] {
        &self.archs
    }

    /// Local repositories that have no index for an architecture (apko warns and goes on).
    pub fn missing_indexes(&self) -> Vec<&std::path::Path> {
        self.sources
            .iter()
            .flat_map(|sources| sources.missing.iter().map(PathBuf::as_path))
            .collect()
    }

    pub(super) fn keys(&self) -> &[(String, FetchedKey)] {
        &self.keys
    }

    /// The names installed in the base image (`contents.baseimage`) for `arch`, if any.
    pub fn base_image_names(&self, arch: &Architecture) -> Option<&BTreeSet<String>> {
        self.base_names(arch)
    }

    pub(super) fn base_names(&self, arch: &Architecture) -> Option<&BTreeSet<String>> {
        self.sources(arch).map(|sources| &sources.base_names)
    }

    pub(super) fn sources(&self, arch: &Architecture) -> Option<&ArchSources> {
        self.sources.iter().find(|sources| &sources.arch == arch)
    }

    /// Resolves every distinct architecture (sorted) in `scope`.
    pub fn resolve(&self, scope: Scope) -> Result<Vec<ArchResolution<'_>>, Error> {
        self.resolve_over(scope, None)
    }

    /// Every opened architecture's candidate table, built once: a build locks and then resolves
    /// each architecture's pinned world for the install order (apko's `FixateWorld`) over the
    /// same indexes, so both can share them ([`Locker::locked_configuration_over`],
    /// [`Locker::resolve_world_over`]).
    pub fn tables(&self) -> Tables<'_> {
        Tables {
            resolvers: self
                .sources
                .iter()
                .map(|sources| Resolver::new(&solver_sources(sources)))
                .collect(),
        }
    }

    fn resolve_over<'s>(
        &'s self,
        scope: Scope,
        tables: Option<&Tables<'s>>,
    ) -> Result<Vec<ArchResolution<'s>>, Error> {
        let all: Vec<Vec<Source<'_>>> = self.sources.iter().map(solver_sources).collect();
        let arch_sources: Vec<solver::ArchSources<'_>> = self
            .sources
            .iter()
            .zip(&all)
            .map(|(sources, list)| solver::ArchSources {
                arch: &sources.apk_arch,
                sources: list,
            })
            .collect();
        // With one architecture there is nothing to disqualify against.
        let options = match scope {
            Scope::Together if arch_sources.len() > 1 => solver::Options {
                arches: &arch_sources,
            },
            Scope::Together | Scope::Separately => solver::Options::default(),
        };
        // One thread per architecture, each with a deep stack: the solver walks dependencies
        // recursively (as apko does on Go's growing stacks), and a long dependency chain in a
        // large repository goes deeper than a default thread stack allows.
        std::thread::scope(|scope| {
            let mut handles = Vec::with_capacity(self.sources.len());
            for (at, (sources, list)) in self.sources.iter().zip(&all).enumerate() {
                let options = &options;
                let table = tables.and_then(|tables| tables.resolvers.get(at));
                let handle = std::thread::Builder::new()
                    .name(format!("resolve-{}", sources.apk_arch))
                    .stack_size(RESOLVER_STACK)
                    .spawn_scoped(scope, move || {
                        let built;
                        let resolver = match table {
                            Some(resolver) => resolver,
                            None => {
                                built = Resolver::new(list);
                                &built
                            }
                        };
                        resolver
                            .resolve(&sources.world, options)
                            .map_err(|error| diagnose(sources, error))
                    })
                    .map_err(Error::Thread)?;
                handles.push((sources, handle));
            }
            handles
                .into_iter()
                .map(|(sources, handle)| {
                    let resolution = handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
                    Ok(ArchResolution {
                        arch: sources.arch.clone(),
                        packages: resolution.packages,
                    })
                })
                .collect()
        })
    }

    /// One architecture's `world` resolved on its own, against the same indexes (apko's
    /// `FixateWorld` when it builds an architecture from its locked configuration: the pinned
    /// closure resolved again, which gives the install order).
    pub fn resolve_world(
        &self,
        arch: &Architecture,
        world: &[String],
    ) -> Result<ArchResolution<'_>, Error> {
        self.resolve_world_in(arch, world, None)
    }

    /// [`Locker::resolve_world`] over tables from [`Locker::tables`].
    pub fn resolve_world_over<'s>(
        &'s self,
        tables: &Tables<'s>,
        arch: &Architecture,
        world: &[String],
    ) -> Result<ArchResolution<'s>, Error> {
        self.resolve_world_in(arch, world, Some(tables))
    }

    fn resolve_world_in<'s>(
        &'s self,
        arch: &Architecture,
        world: &[String],
        tables: Option<&Tables<'s>>,
    ) -> Result<ArchResolution<'s>, Error> {
        let table = self
            .sources
            .iter()
            .position(|sources| &sources.arch == arch)
            .and_then(|at| tables.and_then(|tables| tables.resolvers.get(at)));
        let Some(sources) = self.sources(arch) else {
            return Err(Error::NotOpened {
                arch: arch.to_apk(),
            });
        };
        let list = solver_sources(sources);
        let mut world = world.to_vec();
        world.extend(
            sources
                .world
                .iter()
                .filter(|entry| {
                    let name = Constraint::parse(entry).name;
                    sources.base_names.contains(&name)
                })
                .cloned(),
        );
        world.sort();
        world.dedup();
        let resolution = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name(format!("resolve-{}", sources.apk_arch))
                .stack_size(RESOLVER_STACK)
                .spawn_scoped(scope, || {
                    let built;
                    let resolver = match table {
                        Some(resolver) => resolver,
                        None => {
                            built = Resolver::new(&list);
                            &built
                        }
                    };
                    resolver
                        .resolve(&world, &solver::Options::default())
                        .map_err(|error| diagnose(sources, error))
                })
                .map_err(Error::Thread)?
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })?;
        Ok(ArchResolution {
            arch: arch.clone(),
            packages: resolution.packages,
        })
    }

    /// The `.apk` file of a package `resolve` or `resolve_world` chose for `arch`, opened through
    /// the download cache, its control member checked against the index's `C:` checksum.
    /// `None` for a package of the base image (nothing to fetch).
    pub fn open_package(
        &self,
        arch: &Architecture,
        resolved: &Resolved<'_>,
    ) -> Result<Option<PackageFile>, Error> {
        let Some(sources) = self.sources(arch) else {
            return Ok(None);
        };
        let repository = sources
            .indexes
            .iter()
            .find(|indexed| indexed.url == resolved.repository)
            .and_then(|indexed| indexed.repository.as_ref());
        let Some(repository) = repository else {
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

    /// The fetcher (download cache and network settings) the indexes came through.
    pub fn fetcher(&self) -> &Fetcher {
        &self.fetcher
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
        self.locked_configuration_in(None)
    }

    /// [`Locker::locked_configuration`] over tables from [`Locker::tables`].
    pub fn locked_configuration_over<'s>(
        &'s self,
        tables: &Tables<'s>,
    ) -> Result<LockedConfiguration, Error> {
        self.locked_configuration_in(Some(tables))
    }

    fn locked_configuration_in<'s>(
        &'s self,
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
        let input = self.lock_input();
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

    /// The configuration `LockImageConfigurationWithPackages` starts from: the loaded one with
    /// the architectures being locked, and keyring and repository lists sorted and
    /// de-duplicated (`sets.List`).
    fn lock_input(&self) -> ImageConfiguration {
        let mut input = self.loaded.configuration.clone();
        input.archs = self.archs.clone();
        let contents = &mut input.contents;
        contents.build_repositories = sources::sorted_unique(&contents.build_repositories);
        contents.repositories = sources::sorted_unique(&contents.repositories);
        contents.keyring = sources::sorted_unique(&contents.keyring);
        input
    }
}

fn solver_sources(sources: &ArchSources) -> Vec<Source<'_>> {
    sources
        .indexes
        .iter()
        .map(|indexed: &Indexed| Source {
            url: &indexed.url,
            pin: indexed.pin.as_deref(),
            packages: &indexed.packages,
        })
        .collect()
}

/// A failed resolution: when a pinned world entry matches nothing in any index, the pin was
/// withdrawn (or never published), which is reported as such; otherwise the solver's error.
fn diagnose(sources: &ArchSources, error: solver::Error) -> Error {
    for entry in &sources.world {
        let constraint = Constraint::parse(entry);
        if constraint.conflict || constraint.operator != Operator::Equal {
            continue;
        }
        let available = sources.indexes.iter().any(|indexed| {
            indexed
                .packages
                .iter()
                .any(|package| offers(package, &constraint))
        });
        if !available {
            return Error::Withdrawn {
                package: constraint.name,
                version: constraint.version,
                arch: sources.apk_arch.clone(),
                repositories: sources
                    .indexes
                    .iter()
                    .map(|indexed| redact(&indexed.url))
                    .collect(),
                source: Box::new(error),
            };
        }
    }
    Error::Resolve {
        arch: sources.apk_arch.clone(),
        source: Box::new(error),
    }
}

/// Whether `package` has or provides the constraint's name at an admitted version.
fn offers(package: &crate::apk::Package, constraint: &Constraint) -> bool {
    let admits = |version: &str| Version::parse(version).is_ok_and(|v| constraint.admits(&v));
    if package.name == constraint.name && admits(&package.version) {
        return true;
    }
    package.provides.iter().any(|provide| {
        let provided = Constraint::parse(provide);
        provided.name == constraint.name && admits(&provided.version)
    })
}

/// A repository URL for messages: any password replaced, as Go's `url.Redacted` does.
fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("xxxxx"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

//! Resolution over [`Sources`]: every architecture at once (alone or aware of the others,
//! [`Scope`]) or one architecture's pinned world again for its install order; a failure whose
//! pinned package is in no index is reported as withdrawn.
//!
//! Not for: choosing packages ([`crate::apk::solver`]) or unifying architectures
//! ([`super::locked`]). Reproduces apko `pkg/build/multi.go` `NewMultiArch` (`ByArch`) and
//! `pkg/apk/apk/implementation.go` `ResolveWorld`, reference/apko-format.md §3.6, §4.5.

use super::{ArchSources, Error, Sources};
use crate::apk::constraint::{Constraint, Operator};
use crate::apk::solver::{self, Resolved, Resolver, Source};
use crate::apk::version::Version;
use crate::config::Architecture;
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

/// The candidate tables of the opened architectures ([`Sources::tables`]).
pub struct Tables<'a> {
    resolvers: Vec<Resolver<'a>>,
}

impl Sources {
    /// Resolves every distinct architecture (sorted) in `scope`.
    pub fn resolve(&self, scope: Scope) -> Result<Vec<ArchResolution<'_>>, Error> {
        self.resolve_over(scope, None)
    }

    /// Every opened architecture's candidate table, built once: a build locks and then resolves
    /// each architecture's pinned world for the install order (apko's `FixateWorld`) over the
    /// same indexes, so both can share them ([`Sources::locked_configuration_over`],
    /// [`Sources::resolve_world_over`]).
    pub fn tables(&self) -> Tables<'_> {
        Tables {
            resolvers: self
                .per_arch
                .iter()
                .map(|sources| Resolver::new(&solver_sources(sources)))
                .collect(),
        }
    }

    /// [`Sources::resolve`] over tables from [`Sources::tables`], when given.
    pub fn resolve_over<'s>(
        &'s self,
        scope: Scope,
        tables: Option<&Tables<'s>>,
    ) -> Result<Vec<ArchResolution<'s>>, Error> {
        let all: Vec<Vec<Source<'_>>> = self.per_arch.iter().map(solver_sources).collect();
        let arch_sources: Vec<solver::ArchSources<'_>> = self
            .per_arch
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
            let mut handles = Vec::with_capacity(self.per_arch.len());
            for (at, (sources, list)) in self.per_arch.iter().zip(&all).enumerate() {
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

    /// [`Sources::resolve_world`] over tables from [`Sources::tables`].
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
            .per_arch
            .iter()
            .position(|sources| &sources.arch == arch)
            .and_then(|at| tables.and_then(|tables| tables.resolvers.get(at)));
        let Some(sources) = self.arch(arch) else {
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
}

fn solver_sources(sources: &ArchSources) -> Vec<Source<'_>> {
    sources
        .indexes
        .iter()
        .map(|indexed: &super::Indexed| Source {
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

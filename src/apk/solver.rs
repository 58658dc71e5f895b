//! Chooses one package per name so that the whole world is satisfied, in apko's order.
//!
//! Takes the repositories' package lists (in the order of `/etc/apk/repositories`, i.e. sorted)
//! and a world (`/etc/apk/world` entries, sorted); returns the packages to install in apko's
//! install order, with their URLs, or an error naming the missing name and the chain of packages
//! that needed it. Pure: no I/O.
//!
//! Not for: fetching or verifying indexes ([`super::repository`], [`super::signed`]), version
//! and constraint syntax ([`super::version`], [`super::constraint`]), or installing.
//! Reproduces apko `pkg/apk/apk/repo.go` (`NewPkgResolver`, `GetPackagesWithDependencies`) as
//! called by `ResolveWorld` in `implementation.go` (reference/apko-format.md §4.5–§4.7): the same
//! package set and the same install order.
//!
//! Where apko is not deterministic, this module picks one order and keeps to it:
//! * providers are appended to a name's candidates in order of the provider's name's first
//!   appearance in the indexes (apko: Go map order). This can only change a result when
//!   apko's preference order is not transitive among providers with different names;
//! * install_if triggers are examined in install order, including packages that install_if has
//!   just added (apko: Go map order, added packages visited or not at random);
//! * when two chosen packages share an origin at different versions, the later-chosen one's
//!   version is the origin's version (apko: Go map order);
//! * a `ByArch` disqualification names the first architecture, in the given order, that lacks
//!   the package (apko: any of them).
//!
//! A world entry `!name` fails, as in apko, where it is looked up as a package called `!name`.

mod deps;
mod error;
mod journal;
mod prefer;
mod table;
mod term;
mod walk;

pub use error::{Chain, Error, Reason, Rejected, Rejections};

use crate::apk::package::Package;
use prefer::Preference;
use table::{PkgId, Table, TableSource};
use term::Term;
use walk::{ArchSet, Run, WorldEntry};

/// One repository's index as the solver reads it.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The repository URL including the architecture (`<repo>/<arch>`), without any `@tag`;
    /// package URLs are `<url>/<name>-<version>.apk`.
    pub url: &'a str,
    /// The `@tag` of a pinned repository (`@tag <repo>` in `/etc/apk/repositories`).
    pub pin: Option<&'a str>,
    /// The index's packages in file order.
    pub packages: &'a [Package],
}

/// The indexes of one architecture, when several are locked together (apko's `ByArch`).
#[derive(Debug, Clone, Copy)]
pub struct ArchSources<'a> {
    /// The APK architecture name, e.g. `x86_64`.
    pub arch: &'a str,
    /// That architecture's repositories.
    pub sources: &'a [Source<'a>],
}

/// What else the resolution must respect besides the world.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// Every architecture being locked, including this one. With two or more, a package whose
    /// name and version are missing from any of them is disqualified (`disqualifyDifference`).
    /// Repository pins come from the world entries themselves (`name@tag`), as in apko.
    pub arches: &'a [ArchSources<'a>],
}

/// One package to install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved<'a> {
    /// The package as its index describes it.
    pub package: &'a Package,
    /// The URL of the repository it comes from ([`Source::url`]).
    pub repository: &'a str,
    /// The URL of its `.apk` file.
    pub url: String,
}

/// The outcome of a resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution<'a> {
    /// The packages in install order.
    pub packages: Vec<Resolved<'a>>,
    /// Names that dependencies declared as conflicts (`!name`), first occurrence order; apko
    /// refuses to install onto a root that already has one of them.
    pub conflicts: Vec<String>,
}

/// The candidate table over a set of indexes; build once, resolve many worlds.
pub struct Resolver<'a> {
    table: Table<'a>,
}

impl<'a> Resolver<'a> {
    /// Indexes every package of `sources` (in the given order, which is apko's index order).
    pub fn new(sources: &[Source<'a>]) -> Resolver<'a> {
        let sources: Vec<TableSource<'a>> = sources
            .iter()
            .map(|s| TableSource {
                url: s.url,
                pin: s.pin.unwrap_or(""),
                packages: s.packages,
            })
            .collect();
        Resolver {
            table: Table::new(&sources),
        }
    }

    /// Resolves `world` (apko's `GetPackagesWithDependencies`): the install list and the
    /// conflicts declared along the way.
    pub fn resolve<S: AsRef<str>>(
        &self,
        world: &[S],
        options: &Options<'_>,
    ) -> Result<Resolution<'a>, Error> {
        // A single architecture has nothing to differ from: its set would never be read.
        let others = if options.arches.len() > 1 {
            options.arches
        } else {
            &[]
        };
        let arches: Vec<ArchSet<'_>> = others
            .iter()
            .map(|a| ArchSet {
                arch: a.arch,
                packages: a
                    .sources
                    .iter()
                    .flat_map(|s| s.packages.iter())
                    .map(|p| (p.name.as_str(), p.version.as_str()))
                    .collect(),
            })
            .collect();
        let world: Vec<WorldEntry> = world
            .iter()
            .map(|text| WorldEntry {
                text: text.as_ref().to_owned(),
                term: Term::parse(text.as_ref(), &self.table.names).into_owned(),
            })
            .collect();
        let outcome = Run::new(&self.table, &arches).world(&world)?;
        Ok(Resolution {
            packages: outcome
                .install
                .into_iter()
                .map(|id| self.resolved(id))
                .collect(),
            conflicts: outcome.conflicts,
        })
    }

    /// Every candidate for one constraint, best first (apko's `ResolvePackage`, with nothing
    /// disqualified and nothing chosen yet).
    pub fn candidates(&self, constraint: &str) -> Result<Vec<Resolved<'a>>, Error> {
        let entry = WorldEntry {
            text: constraint.to_owned(),
            term: Term::parse(constraint, &self.table.names).into_owned(),
        };
        let run = Run::new(&self.table, &[]);
        let (name, candidates) = run.entry_candidates(&entry)?;
        let preference = Preference {
            name,
            existing: None,
            origins: None,
            pin: &entry.term.pin,
        };
        Ok(preference
            .sort(&self.table, &candidates)
            .into_iter()
            .map(|id| self.resolved(id))
            .collect())
    }

    fn resolved(&self, id: PkgId) -> Resolved<'a> {
        let package = self.table.package(id);
        let repository = self.table.url(id);
        Resolved {
            package,
            repository,
            url: format!("{repository}/{}", package.filename()),
        }
    }
}

/// Builds a [`Resolver`] over `sources` and resolves `world` once.
pub fn resolve<'a, S: AsRef<str>>(
    sources: &[Source<'a>],
    world: &[S],
    options: &Options<'_>,
) -> Result<Resolution<'a>, Error> {
    Resolver::new(sources).resolve(world, options)
}

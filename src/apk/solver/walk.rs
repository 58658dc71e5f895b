//! One resolution: disqualify (architectures, constraints, conflicts), choose the world entries
//! in apko's order, then assemble the install list from each entry's dependency walk.
//!
//! Not for: the candidate table ([`super::table`]), the preference order ([`super::prefer`]) or
//! the per-package dependency walk and install_if ([`super::deps`]).
//! Reproduces apko `GetPackagesWithDependencies`, `GetPackageWithDependencies`, `constrain`,
//! `disqualifyProviders`, `disqualifyConflicts`, `conflictingVersion`, `pick` and
//! `disqualifyDifference` (`pkg/apk/apk/repo.go`), reference/apko-format.md §4.5 and §4.7.
//! Disqualification is global to the resolution, as in apko: a dependency's version constraint
//! or `!name` also binds every later choice.

use std::collections::{BTreeSet, HashSet};

use super::deps::Walk;
use super::error::{Chain, Error, Reason, Rejected, Rejections};
use super::prefer::{self, Existing, Filter, Origins, Preference};
use super::table::{Dep, FastMap, FastSet, NameId, PkgId, Table};
use super::term::Term;
use crate::apk::constraint::Operator;

/// Another architecture's packages, as `(name, version)` pairs (apko's `ByArch`).
pub(super) struct ArchSet<'s> {
    pub arch: &'s str,
    pub packages: FastSet<(&'s str, &'s str)>,
}

/// What a resolution produces before it is turned into public values.
pub(super) struct Outcome {
    pub install: Vec<PkgId>,
    pub conflicts: Vec<String>,
}

/// The constraints of one package: a dependency list or the world.
pub(super) trait Constraints {
    fn text(&self) -> &str;
    fn term(&self) -> &Term<'_>;
}

impl Constraints for Dep<'_> {
    fn text(&self) -> &str {
        self.text
    }
    fn term(&self) -> &Term<'_> {
        &self.term
    }
}

/// A world entry with its parsed form.
pub(super) struct WorldEntry {
    pub text: String,
    pub term: Term<'static>,
}

impl Constraints for WorldEntry {
    fn text(&self) -> &str {
        &self.text
    }
    fn term(&self) -> &Term<'_> {
        &self.term
    }
}

/// The packages chosen so far, by package name, in the order names were first chosen
/// (apko's `dependenciesMap`; the order only decides which version wins when two chosen
/// packages share an origin, where apko iterates a Go map).
#[derive(Default)]
struct Chosen {
    by_name: Existing,
    order: Vec<NameId>,
}

impl Chosen {
    fn set(&mut self, name: NameId, id: PkgId) {
        if self.by_name.insert(name, id).is_none() {
            self.order.push(name);
        }
    }
}

pub(super) struct Run<'r, 'a> {
    pub(super) table: &'r Table<'a>,
    pub(super) dq: Vec<Option<Reason>>,
    /// apko's `selected`: names owned by packages whose dependencies were walked.
    pub(super) selected: FastMap<NameId, PkgId>,
    /// The packages whose dependencies are being walked, world entry first (for error chains).
    pub(super) path: Vec<PkgId>,
    /// While world entries are chosen: the packages disqualified since last taken.
    dq_log: Option<Vec<PkgId>>,
}

impl<'r, 'a> Run<'r, 'a> {
    pub(super) fn new(table: &'r Table<'a>, arches: &[ArchSet<'_>]) -> Run<'r, 'a> {
        let mut run = Run {
            table,
            dq: vec![None; table.entries.len()],
            selected: FastMap::default(),
            path: Vec::new(),
            dq_log: None,
        };
        // A single architecture has nothing to differ from (apko returns early too).
        if arches.len() > 1 {
            for (id, entry) in table.entries.iter().enumerate() {
                let key = (entry.package.name.as_str(), entry.package.version.as_str());
                if let Some(missing) = arches.iter().find(|a| !a.packages.contains(&key))
                    && let Some(slot) = run.dq.get_mut(id)
                {
                    *slot = Some(Reason::NotForArch {
                        arch: missing.arch.to_owned(),
                    });
                }
            }
        }
        run
    }

    pub(super) fn chain(&self) -> Chain {
        Chain(
            self.path
                .iter()
                .rev()
                .map(|&id| self.table.label(id))
                .collect(),
        )
    }

    fn disqualify(&mut self, id: PkgId, reason: Reason) {
        if let Some(slot) = self.dq.get_mut(id as usize) {
            if slot.is_none()
                && let Some(log) = &mut self.dq_log
            {
                log.push(id);
            }
            *slot = Some(reason);
        }
    }

    fn is_disqualified(&self, id: PkgId) -> bool {
        self.dq.get(id as usize).is_some_and(Option::is_some)
    }

    pub(super) fn filter(&self, list: &[PkgId], filter: &Filter<'_>) -> Vec<PkgId> {
        prefer::filter(self.table, &self.dq, list, filter)
    }

    pub(super) fn unsatisfiable(&self, text: &str, list: &[PkgId], filter: &Filter<'_>) -> Error {
        let rejected = prefer::rejections(self.table, &self.dq, list, filter)
            .into_iter()
            .map(|(id, reason)| Rejected {
                package: self.table.package(id).filename(),
                repository: self.table.url(id).to_owned(),
                reason,
            })
            .collect();
        Error::Unsatisfiable {
            constraint: text.to_owned(),
            chain: self.chain(),
            rejected: Rejections(rejected),
        }
    }

    pub(super) fn nothing_provides(&self, text: &str, term: &Term<'_>) -> Error {
        Error::NothingProvides {
            name: term.name_text.to_string(),
            constraint: text.to_owned(),
            chain: self.chain(),
        }
    }

    /// `constrain`: `!name` disqualifies its providers; a versioned constraint disqualifies
    /// every candidate whose own version, or versioned provide of the name, fails it.
    pub(super) fn constrain<C: Constraints>(&mut self, constraints: &[C]) -> Result<(), Error> {
        let table = self.table;
        for constraint in constraints {
            let term = constraint.term();
            if term.conflict {
                self.disqualify_providers(constraint.text(), term);
                continue;
            }
            if term.op == Operator::Any {
                continue;
            }
            let Some(name) = term.name else { continue };
            let required = match &term.version {
                Some(Ok(version)) => version,
                Some(Err(error)) => {
                    return Err(Error::InvalidConstraint {
                        constraint: constraint.text().to_owned(),
                        chain: self.chain(),
                        source: error.clone(),
                    });
                }
                None => continue,
            };
            for &id in table.candidates(name) {
                let entry = table.entry(id);
                if entry.name == name {
                    match table.version(id) {
                        None => self.disqualify(
                            id,
                            Reason::InvalidVersion {
                                version: entry.package.version.to_string(),
                            },
                        ),
                        Some(actual) if !term.op.admits(actual, required) => self.disqualify(
                            id,
                            Reason::VersionMismatch {
                                constraint: constraint.text().to_owned(),
                            },
                        ),
                        Some(_) => {}
                    }
                    continue;
                }
                for provide in table.provides(id) {
                    if provide.name != name {
                        continue;
                    }
                    let provided = table.provide_term(provide);
                    // An unversioned provide neither satisfies nor disqualifies.
                    match &provided.version {
                        None => {}
                        Some(Err(_)) => self.disqualify(
                            id,
                            Reason::InvalidVersion {
                                version: provided.version_text.to_string(),
                            },
                        ),
                        Some(Ok(actual)) if !term.op.admits(actual, required) => self.disqualify(
                            id,
                            Reason::ProvideMismatch {
                                provide: provide.text.to_owned(),
                                constraint: constraint.text().to_owned(),
                            },
                        ),
                        Some(Ok(_)) => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// `disqualifyProviders`, for `!name[op version][@pin]`.
    fn disqualify_providers(&mut self, text: &str, term: &Term<'_>) {
        let Some(name) = term.name else { return };
        let filter = Filter {
            term,
            allow_pin: "",
            prefer_pin: &term.pin,
            installed: None,
        };
        for id in self.filter(self.table.candidates(name), &filter) {
            self.disqualify(
                id,
                Reason::Excluded {
                    constraint: text.to_owned(),
                },
            );
        }
    }

    /// `disqualifyConflicts`: once `chosen` is taken, nothing else may own what it provides.
    pub(super) fn disqualify_conflicts(&mut self, chosen: PkgId) {
        let table = self.table;
        for provide in table.provides(chosen) {
            let versioned = !table.provide_term(provide).version_text.is_empty();
            for &other in table.candidates(provide.name) {
                if other == chosen || self.is_disqualified(other) {
                    continue;
                }
                if !versioned && !self.owns_versioned(other, provide.name) {
                    continue;
                }
                self.disqualify(
                    other,
                    Reason::Conflicts {
                        package: table.package(chosen).filename(),
                        name: table.name_text(provide.name).to_owned(),
                    },
                );
            }
        }
    }

    /// `conflictingVersion` for an unversioned provide: `other` conflicts when it is named
    /// `name` (with a version) or its first provide of `name` carries a version.
    fn owns_versioned(&self, other: PkgId, name: NameId) -> bool {
        let table = self.table;
        let entry = table.entry(other);
        if entry.name == name {
            return !entry.package.version.is_empty();
        }
        table
            .provides(other)
            .iter()
            .find(|p| p.name == name)
            .is_some_and(|p| !table.provide_term(p).version_text.is_empty())
    }

    /// `pick`: record that `id` owns its name and its versioned provides.
    pub(super) fn pick(&mut self, id: PkgId) -> Result<(), Error> {
        let table = self.table;
        let entry = table.entry(id);
        match self.selected.get(&entry.name) {
            Some(&owner) if owner == id => return Ok(()),
            Some(&owner) => return Err(self.conflict(id, owner, entry.name)),
            None => {}
        }
        self.selected.insert(entry.name, id);
        for provide in table.provides(id) {
            if let Some(&owner) = self.selected.get(&provide.name) {
                return Err(self.conflict(id, owner, provide.name));
            }
            if !table.provide_term(provide).version_text.is_empty() {
                self.selected.insert(provide.name, id);
            }
        }
        Ok(())
    }

    fn conflict(&self, id: PkgId, owner: PkgId, name: NameId) -> Error {
        Error::Conflict {
            package: self.table.package(id).filename(),
            selected: self.table.package(owner).filename(),
            name: self.table.name_text(name).to_owned(),
            chain: self.chain(),
        }
    }

    /// `ResolvePackage` for a world entry: its name and candidates under the current
    /// disqualifications (none is an error).
    pub(super) fn entry_candidates(
        &self,
        entry: &WorldEntry,
    ) -> Result<(NameId, Vec<PkgId>), Error> {
        let term = &entry.term;
        if term.conflict {
            return Err(Error::WorldConflict {
                entry: entry.text.clone(),
            });
        }
        let Some(name) = term.name else {
            return Err(self.nothing_provides(&entry.text, term));
        };
        let filter = Filter {
            term,
            allow_pin: "",
            prefer_pin: &term.pin,
            installed: None,
        };
        let list = self.table.candidates(name);
        let candidates = self.filter(list, &filter);
        if candidates.is_empty() {
            return Err(self.unsatisfiable(&entry.text, list, &filter));
        }
        Ok((name, candidates))
    }

    /// `resolvePackage` for a world entry: its best candidate.
    fn resolve_entry(&self, entry: &WorldEntry) -> Result<PkgId, Error> {
        let (name, candidates) = self.entry_candidates(entry)?;
        let preference = Preference {
            name,
            existing: None,
            origins: None,
            pin: &entry.term.pin,
        };
        match preference.best(self.table, &candidates) {
            Some(best) => Ok(best),
            None => Err(self.nothing_provides(&entry.text, &entry.term)),
        }
    }

    /// The first half of `GetPackagesWithDependencies`: world entries chosen one at a time, the
    /// entry with the fewest candidates first (the first in world order on ties), each choice
    /// disqualifying what conflicts with it.
    ///
    /// apko counts every remaining entry's candidates before each choice; a choice only changes
    /// the counts of entries whose candidates it disqualified, so the counts live in an ordered
    /// set and only those entries are counted again. An entry with no candidate (or a world
    /// entry that cannot be resolved at all) counts 0, so the first such in world order is the
    /// error apko's scan would stop at.
    fn choose_entries(&mut self, world: &[WorldEntry]) -> Result<Chosen, Error> {
        let count = |run: &Self, entry: &WorldEntry| {
            run.entry_candidates(entry)
                .map_or(0, |(_, list)| list.len())
        };
        let mut counts: Vec<usize> = world.iter().map(|entry| count(self, entry)).collect();
        let mut queue: BTreeSet<(usize, usize)> =
            counts.iter().enumerate().map(|(at, &n)| (n, at)).collect();
        let mut by_name: FastMap<NameId, Vec<usize>> = FastMap::default();
        let mut by_text: FastMap<&str, Vec<usize>> = FastMap::default();
        for (at, entry) in world.iter().enumerate() {
            if let Some(name) = entry.term.name {
                by_name.entry(name).or_default().push(at);
            }
            by_text.entry(entry.text.as_str()).or_default().push(at);
        }
        let mut chosen = Chosen::default();
        let mut dirty: Vec<usize> = Vec::new();
        self.dq_log = Some(Vec::new());
        while let Some(&(least, at)) = queue.first() {
            let Some(entry) = world.get(at) else { break };
            if least == 0 {
                // Fails with the entry's own error.
                self.entry_candidates(entry)?;
            }
            let id = self.resolve_entry(entry)?;
            chosen.set(self.table.entry(id).name, id);
            for &same in by_text.get(entry.text.as_str()).into_iter().flatten() {
                if let Some(&n) = counts.get(same) {
                    queue.remove(&(n, same));
                }
            }
            self.disqualify_conflicts(id);
            let newly = self.dq_log.replace(Vec::new()).unwrap_or_default();
            for gone in newly {
                let provided = self.table.provides(gone).iter().map(|p| p.name);
                for name in [self.table.entry(gone).name].into_iter().chain(provided) {
                    dirty.extend(by_name.get(&name).into_iter().flatten().copied());
                }
            }
            dirty.sort_unstable();
            dirty.dedup();
            for at in dirty.drain(..) {
                let (Some(entry), Some(&before)) = (world.get(at), counts.get(at)) else {
                    continue;
                };
                if queue.remove(&(before, at)) {
                    let after = count(self, entry);
                    queue.insert((after, at));
                    if let Some(slot) = counts.get_mut(at) {
                        *slot = after;
                    }
                }
            }
        }
        self.dq_log = None;
        Ok(chosen)
    }

    /// `GetPackagesWithDependencies`.
    pub(super) fn world(&mut self, world: &[WorldEntry]) -> Result<Outcome, Error> {
        self.constrain(world)?;
        let chosen = self.choose_entries(world)?;

        // apko walks each entry over a fresh copy of what is chosen so far and of the origins
        // those packages came from; one journaled copy, whose walk writes are undone after each
        // entry, behaves the same. The origins start as apko folds them: in the order names were
        // first chosen, a later package of the same origin overriding an earlier one.
        let mut existing = chosen.by_name;
        let mut origins = Origins::default();
        for name in &chosen.order {
            if let Some(&chosen_id) = existing.get(name) {
                let package = self.table.package(chosen_id);
                if !package.origin.is_empty() {
                    origins.insert(&package.origin, &package.version);
                }
            }
        }
        let mut install = Vec::new();
        let mut installed: FastMap<NameId, ()> = FastMap::default();
        let mut conflicts: Vec<String> = Vec::new();
        let mut walk = Walk::default();
        for entry in world {
            let id = self.resolve_entry(entry)?;
            self.path.clear();
            self.path.push(id);
            existing.record();
            origins.record();
            let start = walk.packages.len();
            let walked =
                self.dependencies(id, &entry.term.pin, &mut walk, &mut existing, &mut origins);
            existing.undo();
            origins.undo();
            walked?;
            self.path.clear();
            let deps = self.with_install_if(walk.packages.get(start..).unwrap_or(&[]));
            for dep in deps.into_iter().chain([id]) {
                let name = self.table.entry(dep).name;
                if installed.insert(name, ()).is_none() {
                    install.push(dep);
                }
                // A name chosen for the first time goes last in the fold, so its origin wins.
                if !existing.contains_key(&name) {
                    existing.insert(name, dep);
                    let package = self.table.package(dep);
                    if !package.origin.is_empty() {
                        origins.insert(&package.origin, &package.version);
                    }
                }
            }
            conflicts.append(&mut walk.conflicts);
        }
        let mut seen = HashSet::new();
        conflicts.retain(|c| seen.insert(c.clone()));
        Ok(Outcome { install, conflicts })
    }
}

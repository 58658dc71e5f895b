//! One world entry's dependencies: apko's depth-first walk and the install_if packages it
//! brings in.
//!
//! Not for: the world-level order and disqualification ([`super::walk`]) or the preference
//! order ([`super::prefer`]). Reproduces apko `getPackageDependencies` and the install_if part of
//! `GetPackageWithDependencies` (`pkg/apk/apk/repo.go`), reference/apko-format.md §4.5.

use std::collections::hash_map::Entry;

use super::error::Error;
use super::prefer::{Existing, Filter, Origins, Preference};
use super::table::{Dep, FastMap, NameId, PkgId};
use super::term::Term;
use super::walk::Run;
use crate::apk::constraint::Operator;

/// What `getPackageDependencies` produces, shared by every level of every world entry's walk.
///
/// apko returns each level's package list up to its parent, which appends it to its own and
/// writes every package of it into `existing` and `existingOrigins`: a package `d` levels deep is
/// copied and written `d` times, quadratic in the depth of a long chain. Here every level
/// appends to one list (`packages`, the same order), and a parent writes only what those copies
/// would change: after a child's walk, every name in the child's part of the list already maps
/// to its last package there except the names of the child's own direct dependencies, which
/// apko writes one level later; so the parent sets those names (and origins) to their last
/// package in the list, found through `last_by_name` / `last_by_origin`.
#[derive(Default)]
pub(super) struct Walk<'a> {
    /// Every world entry's packages, each entry's children before their parent.
    pub packages: Vec<PkgId>,
    /// `!name` dependencies met, in apko's order.
    pub conflicts: Vec<String>,
    /// Names of the packages being walked (apko's `parents`), with how often each is on the path.
    parents: FastMap<NameId, u32>,
    last_by_name: FastMap<NameId, usize>,
    last_by_origin: FastMap<&'a str, usize>,
}

impl<'a> Walk<'a> {
    fn emit(&mut self, table: &super::table::Table<'a>, id: PkgId) {
        let at = self.packages.len();
        self.packages.push(id);
        self.last_by_name.insert(table.entry(id).name, at);
        let origin = table.package(id).origin.as_str();
        if !origin.is_empty() {
            self.last_by_origin.insert(origin, at);
        }
    }

    fn last_package(&self, at: Option<&usize>) -> Option<PkgId> {
        at.and_then(|&at| self.packages.get(at)).copied()
    }
}

impl<'a> Run<'_, 'a> {
    /// `getPackageDependencies`: depth first, children before their parent; among siblings the
    /// constraint with the fewest candidates first, ties to the smaller constraint string.
    /// Appends to `walk`; returns the packages chosen for `id`'s own dependencies, in order.
    pub(super) fn dependencies(
        &mut self,
        id: PkgId,
        allow_pin: &str,
        walk: &mut Walk<'a>,
        existing: &mut Existing,
        origins: &mut Origins<'a>,
    ) -> Result<Vec<PkgId>, Error> {
        let table = self.table;
        let entry = table.entry(id);
        let mut direct = Vec::new();
        if walk.parents.get(&entry.name).is_some_and(|&n| n > 0) {
            return Ok(direct);
        }
        let deps = table.deps(id);
        self.constrain(deps)?;
        let mut remaining: Vec<&Dep<'_>> = deps.iter().collect();
        let mut first_round = true;
        while !remaining.is_empty() {
            let mut options: Vec<(&Dep<'_>, Vec<PkgId>)> = Vec::with_capacity(remaining.len());
            for &dep in &remaining {
                if dep.term.conflict {
                    // apko records conflicts only while they are still in the list: the first round.
                    if first_round {
                        walk.conflicts
                            .push(dep.text.trim_start_matches('!').to_owned());
                    }
                    continue;
                }
                if options.iter().any(|(o, _)| o.text == dep.text) {
                    continue;
                }
                if let Some(candidates) = self.options(id, dep, allow_pin, existing)? {
                    options.push((dep, candidates));
                }
            }
            first_round = false;
            let Some(lowest) = options
                .iter()
                .enumerate()
                .min_by(|(_, (a, ca)), (_, (b, cb))| {
                    ca.len().cmp(&cb.len()).then_with(|| a.text.cmp(b.text))
                })
                .map(|(at, _)| at)
            else {
                break;
            };
            let (dep, candidates) = options.swap_remove(lowest);
            remaining = options.into_iter().map(|(d, _)| d).collect();
            let Some(name) = dep.term.name else { break };
            let preference = Preference {
                name,
                existing: Some(existing),
                origins: Some(origins),
                pin: "",
            };
            let Some(best) = preference.best(table, &candidates) else {
                break;
            };
            self.disqualify_conflicts(best);
            self.pick(id)?;
            *walk.parents.entry(entry.name).or_default() += 1;
            self.path.push(best);
            let sub = self.dependencies(best, allow_pin, walk, existing, origins);
            self.path.pop();
            if let Some(count) = walk.parents.get_mut(&entry.name) {
                *count -= 1;
            }
            // apko writes all of `best`'s list into `existing` and the origins here; see `Walk`.
            for child in sub? {
                let child_entry = table.entry(child);
                if let Some(last) = walk.last_package(walk.last_by_name.get(&child_entry.name)) {
                    existing.insert(child_entry.name, last);
                }
                let origin = child_entry.package.origin.as_str();
                if !origin.is_empty()
                    && let Some(last) = walk.last_package(walk.last_by_origin.get(origin))
                {
                    let package = table.package(last);
                    origins.insert(&package.origin, &package.version);
                }
            }
            walk.emit(table, best);
            direct.push(best);
        }
        Ok(direct)
    }

    /// The candidates of one dependency of `id`, or `None` when it needs none (provided by `id`
    /// itself or by a package already selected).
    fn options(
        &self,
        id: PkgId,
        dep: &Dep<'_>,
        allow_pin: &str,
        existing: &Existing,
    ) -> Result<Option<Vec<PkgId>>, Error> {
        let table = self.table;
        let term = &dep.term;
        let package = table.package(id);
        let provided_by_self = table.provides(id).iter().any(|p| {
            let name = table.name_text(p.name);
            name == term.name_text
                || p.text == term.name_text
                || p.text == dep.text
                || name == dep.text
        });
        if provided_by_self {
            return Ok(None);
        }
        if package.name.as_str() == term.name_text
            && let Some(actual) = table.version(id)
        {
            let satisfied = match term.op {
                Operator::Any => true,
                op => term.valid_version().is_some_and(|r| op.admits(actual, r)),
            };
            if satisfied {
                return Ok(None);
            }
        }
        let Some(name) = term.name else {
            return Err(self.nothing_provides(dep.text, term));
        };
        if let Some(&picked) = self.selected.get(&name) {
            if term.version_text.is_empty() {
                return Ok(None);
            }
            return self.check_selected(picked, dep).map(|()| None);
        }
        let filter = Filter {
            term,
            allow_pin,
            prefer_pin: "",
            installed: existing.get(&name).copied(),
        };
        let list = table.candidates(name);
        let candidates = self.filter(list, &filter);
        if candidates.is_empty() {
            return Err(self.unsatisfiable(dep.text, list, &filter));
        }
        Ok(Some(candidates))
    }

    /// A versioned dependency on a name already selected: satisfied by a versioned provide of
    /// the selected package (compared with the provide's own operator, as apko does) or by its
    /// package version; anything else is an error.
    fn check_selected(&self, picked: PkgId, dep: &Dep<'_>) -> Result<(), Error> {
        let table = self.table;
        let term = &dep.term;
        let invalid = |source| Error::InvalidSelectedVersion {
            package: table.label(picked),
            constraint: dep.text.to_owned(),
            chain: self.chain(),
            source,
        };
        let actual =
            crate::apk::version::Version::parse(&table.package(picked).version).map_err(invalid)?;
        let required = match &term.version {
            Some(Ok(version)) => version,
            Some(Err(error)) => {
                return Err(Error::InvalidConstraint {
                    constraint: dep.text.to_owned(),
                    chain: self.chain(),
                    source: error.clone(),
                });
            }
            None => return Ok(()),
        };
        for provide in table.provides(picked) {
            let provided = table.provide_term(provide);
            if Some(provide.name) != term.name || provided.version_text.is_empty() {
                continue;
            }
            match &provided.version {
                Some(Ok(version)) if provided.op.admits(version, required) => return Ok(()),
                Some(Err(error)) => return Err(invalid(error.clone())),
                _ => {}
            }
        }
        if term.op.admits(&actual, required) {
            return Ok(());
        }
        Err(Error::SelectedMismatch {
            constraint: dep.text.to_owned(),
            selected: table.label(picked),
            chain: self.chain(),
        })
    }

    /// The de-duplication and install_if step of `GetPackageWithDependencies`.
    pub(super) fn with_install_if(&self, walked: &[PkgId]) -> Vec<PkgId> {
        let table = self.table;
        // By interned name: every package's name is interned, so a text names an added package
        // exactly when it interns to that package's name (and the walk hashes no text).
        let mut added: FastMap<NameId, PkgId> = FastMap::default();
        let mut deps = Vec::with_capacity(walked.len());
        for &id in walked {
            if let Entry::Vacant(slot) = added.entry(table.entry(id).name) {
                slot.insert(id);
                deps.push(id);
            }
        }
        let added_as = |added: &FastMap<NameId, PkgId>, text: &str| {
            table
                .names
                .get(text)
                .and_then(|name| added.get(name))
                .copied()
        };
        // apko ranges over a Go map here (random order, packages added meanwhile may or may not
        // be visited); we visit in install order, including packages added on the way.
        let mut at = 0;
        while let Some(&dep) = deps.get(at) {
            at += 1;
            if !table.may_trigger_install_if(table.entry(dep).name) {
                continue;
            }
            let package = table.package(dep);
            let triggered = match table.install_if.get(package.name.as_str()) {
                Some(list) => Some(list),
                None => table
                    .install_if
                    .get(format!("{}={}", package.name, package.version).as_str()),
            };
            let Some(triggered) = triggered else { continue };
            for &candidate in triggered {
                let conditions = &table.package(candidate).install_if;
                let all_met = conditions.iter().all(|condition| {
                    if added_as(&added, condition).is_some() {
                        return true;
                    }
                    let term = Term::parse(condition, &table.names);
                    added_as(&added, &term.name_text).is_some_and(|a| {
                        !term.conflict && table.package(a).version.as_str() == term.version_text
                    })
                });
                if all_met && let Entry::Vacant(slot) = added.entry(table.entry(candidate).name) {
                    slot.insert(candidate);
                    deps.push(candidate);
                }
            }
        }
        deps
    }
}

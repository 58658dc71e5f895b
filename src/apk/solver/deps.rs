//! One world entry's dependencies: apko's depth-first walk and the install_if packages it
//! brings in.
//!
//! Not for: the world-level order and disqualification ([`super::walk`]) or the preference
//! order ([`super::prefer`]). Reproduces apko `getPackageDependencies` and the install_if part of
//! `GetPackageWithDependencies` (`pkg/apk/apk/repo.go`), reference/apko-format.md §4.5.

use super::error::Error;
use super::prefer::{Existing, Filter, Origins, Preference};
use super::table::{Dep, FastMap, NameId, PkgId};
use super::term::Term;
use super::walk::Run;
use crate::apk::constraint::Operator;

/// What `getPackageDependencies` returns.
pub(super) struct Walked {
    pub packages: Vec<PkgId>,
    pub conflicts: Vec<String>,
}

impl<'a> Run<'_, 'a> {
    /// `getPackageDependencies`: depth first, children before their parent; among siblings the
    /// constraint with the fewest candidates first, ties to the smaller constraint string.
    pub(super) fn dependencies(
        &mut self,
        id: PkgId,
        allow_pin: &str,
        parents: &mut Vec<NameId>,
        existing: &mut Existing,
        origins: &mut Origins<'a>,
    ) -> Result<Walked, Error> {
        let table = self.table;
        let entry = table.entry(id);
        let mut walked = Walked {
            packages: Vec::new(),
            conflicts: Vec::new(),
        };
        if parents.contains(&entry.name) {
            return Ok(walked);
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
                        walked
                            .conflicts
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
            parents.push(entry.name);
            self.path.push(best);
            let sub = self.dependencies(best, allow_pin, parents, existing, origins);
            self.path.pop();
            parents.pop();
            let sub = sub?;
            for &dep_id in &sub.packages {
                let package = table.package(dep_id);
                existing.insert(table.entry(dep_id).name, dep_id);
                if !package.origin.is_empty() {
                    origins.insert(&package.origin, &package.version);
                }
            }
            walked.packages.extend(sub.packages);
            walked.packages.push(best);
            walked.conflicts.extend(sub.conflicts);
        }
        Ok(walked)
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
        if package.name == term.name_text
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
    pub(super) fn with_install_if(&self, walked: Vec<PkgId>) -> Vec<PkgId> {
        let table = self.table;
        let mut added: FastMap<&str, PkgId> = FastMap::default();
        let mut deps = Vec::with_capacity(walked.len());
        for id in walked {
            let name = table.package(id).name.as_str();
            if !added.contains_key(name) {
                added.insert(name, id);
                deps.push(id);
            }
        }
        // apko ranges over a Go map here (random order, packages added meanwhile may or may not
        // be visited); we visit in install order, including packages added on the way.
        let mut at = 0;
        while let Some(&dep) = deps.get(at) {
            at += 1;
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
                    if added.contains_key(condition.as_str()) {
                        return true;
                    }
                    let term = Term::parse(condition, &table.names);
                    added.get(term.name_text.as_ref()).is_some_and(|&a| {
                        !term.conflict && table.package(a).version == term.version_text
                    })
                });
                let name = table.package(candidate).name.as_str();
                if all_met && !added.contains_key(name) {
                    added.insert(name, candidate);
                    deps.push(candidate);
                }
            }
        }
        deps
    }
}

//! Which candidates may stand for a constraint, and which of them apko prefers.
//!
//! Not for: building the candidate lists ([`super::table`]) or the order in which constraints are
//! solved ([`super::walk`]). Reproduces apko `filterPackages` (`pkg/apk/apk/version.go`) and
//! `comparePackages` / `bestPackage` (`pkg/apk/apk/repo.go`), reference/apko-format.md §4.5
//! ("Candidate filtering") and §4.6. The `compare` package argument of `comparePackages` is
//! always nil in apko's resolution path, so its repository and origin rules are not carried over.

use std::cmp::Ordering;

use super::error::Reason;
use super::journal::Journaled;
use super::table::{NameId, PkgId, Table};
use super::term::Term;
use crate::apk::constraint::Operator;
use crate::apk::version::Version;

/// The packages already chosen, by package name (apko's `existing`).
pub(super) type Existing = Journaled<NameId, PkgId>;
/// Origins already pulled in, with the version they were pulled in at (`existingOrigins`).
pub(super) type Origins<'a> = Journaled<&'a str, &'a str>;

/// What a candidate list is filtered for (apko's `filterOptions`).
pub(super) struct Filter<'t> {
    pub term: &'t Term<'t>,
    /// A pin the caller was requested with (dependencies of `pkg@pin`).
    pub allow_pin: &'t str,
    /// The pin of the constraint itself.
    pub prefer_pin: &'t str,
    /// The package already chosen under the constraint's name.
    pub installed: Option<PkgId>,
}

/// Why `filter` drops a candidate, before any text is made for it: `filter` runs for every
/// constraint of every walk and only needs the verdict; the words are for error messages.
enum Rejected {
    Disqualified,
    Pinned,
    NoRequiredVersion,
    InvalidVersion,
    VersionMismatch,
}

/// Whether `filter` drops candidate `id`, and why; `None` when it keeps it.
fn check(
    table: &Table<'_>,
    dq: &[Option<Reason>],
    id: PkgId,
    filter: &Filter<'_>,
    required: Option<&Version>,
) -> Option<Rejected> {
    if dq.get(id as usize).is_some_and(Option::is_some) {
        return Some(Rejected::Disqualified);
    }
    let pin = table.pin(id);
    if !pin.is_empty()
        && pin != filter.allow_pin
        && pin != filter.prefer_pin
        && filter.installed.is_none_or(|i| !table.same_url(i, id))
    {
        return Some(Rejected::Pinned);
    }
    if filter.term.op == Operator::Any {
        return None;
    }
    let Some(required) = required else {
        return Some(Rejected::NoRequiredVersion);
    };
    let Some(actual) = table.version(id) else {
        return Some(Rejected::InvalidVersion);
    };
    if filter.term.op.admits(actual, required) {
        return None;
    }
    // apko accepts any versioned provide that satisfies the version, whatever its name.
    for provide in table.provides(id) {
        let term = table.provide_term(provide);
        if let Some(version) = term.valid_version()
            && filter.term.op.admits(version, required)
        {
            return None;
        }
    }
    Some(Rejected::VersionMismatch)
}

/// Why `filter` would drop a candidate, in words, or `None` when it keeps it.
fn rejection(
    table: &Table<'_>,
    dq: &[Option<Reason>],
    id: PkgId,
    filter: &Filter<'_>,
    required: Option<&Version>,
) -> Option<Reason> {
    Some(match check(table, dq, id, filter, required)? {
        Rejected::Disqualified => dq.get(id as usize).cloned().flatten()?,
        Rejected::Pinned => Reason::Pinned {
            pin: table.pin(id).to_owned(),
        },
        Rejected::InvalidVersion => Reason::InvalidVersion {
            version: table.package(id).version.to_string(),
        },
        Rejected::NoRequiredVersion | Rejected::VersionMismatch => Reason::VersionMismatch {
            constraint: constraint_text(filter.term),
        },
    })
}

/// The constraint as apko would print it, for reasons.
pub(super) fn constraint_text(term: &Term<'_>) -> String {
    let mut text = term.name_text.to_string();
    if !term.version_text.is_empty() {
        text.push_str(term.op.as_str());
        text.push_str(&term.version_text);
    }
    if !term.pin.is_empty() {
        text.push('@');
        text.push_str(&term.pin);
    }
    text
}

/// apko's `filterPackages`: the candidates that are not disqualified, not from a repository
/// pinned to another tag, and whose version (or any versioned provide) satisfies the term.
pub(super) fn filter(
    table: &Table<'_>,
    dq: &[Option<Reason>],
    list: &[PkgId],
    filter: &Filter<'_>,
) -> Vec<PkgId> {
    let required = filter.term.valid_version();
    // An unparsable required version matches nothing at all.
    if filter.term.op != Operator::Any && required.is_none() {
        return Vec::new();
    }
    let mut passed = Vec::with_capacity(list.len());
    for &id in list {
        if check(table, dq, id, filter, required).is_none() {
            passed.push(id);
        }
    }
    passed
}

/// Why each candidate of `list` failed `filter` (for error messages).
pub(super) fn rejections(
    table: &Table<'_>,
    dq: &[Option<Reason>],
    list: &[PkgId],
    filter: &Filter<'_>,
) -> Vec<(PkgId, Reason)> {
    let required = filter.term.valid_version();
    list.iter()
        .filter_map(|&id| rejection(table, dq, id, filter, required).map(|r| (id, r)))
        .collect()
}

/// The context `comparePackages` closes over.
pub(super) struct Preference<'p, 'a> {
    /// The requested name; versions are compared as carried for it.
    pub name: NameId,
    pub existing: Option<&'p Existing>,
    pub origins: Option<&'p Origins<'a>>,
    pub pin: &'p str,
}

/// `getDepVersionForName`: the package version for its own name, else the version of the first
/// provide of `name` (empty for an unversioned provide); with its parsed form (`None` when
/// apko cannot parse it).
fn version_for_name<'t>(
    table: &'t Table<'_>,
    id: PkgId,
    name: NameId,
) -> (&'t str, Option<&'t Version>) {
    let entry = table.entry(id);
    if entry.name == name {
        return (&entry.package.version, table.version(id));
    }
    for provide in table.provides(id) {
        if provide.name == name {
            let term = table.provide_term(provide);
            return (&term.version_text, term.valid_version());
        }
    }
    ("", None)
}

/// Orders two versions newest first, as apko does: an unparsable `a` loses, then an
/// unparsable `b`.
fn newer_first(a: Option<&Version>, b: Option<&Version>) -> Ordering {
    match (a, b) {
        (None, _) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => b.cmp(a),
    }
}

impl Preference<'_, '_> {
    /// `comparePackages`: `Less` when `a` is preferred.
    pub(super) fn compare(&self, table: &Table<'_>, a: PkgId, b: PkgId) -> Ordering {
        let (ea, eb) = (table.entry(a), table.entry(b));
        let (pa, pb) = (ea.package, eb.package);
        if let Some(existing) = self.existing {
            let matched = |entry_name: NameId, version: &str| -> (bool, bool) {
                match existing.get(&entry_name) {
                    Some(&chosen) => (true, table.package(chosen).version == version),
                    None => (false, false),
                }
            };
            let (a_ok, a_same) = matched(ea.name, &pa.version);
            let (b_ok, b_same) = matched(eb.name, &pb.version);
            if a_ok && a_same && !(b_ok && b_same) {
                return Ordering::Less;
            }
            if b_ok && b_same && !(a_ok && a_same) {
                return Ordering::Greater;
            }
        }
        let origin_matched = |origin: &str, version: &str| {
            !origin.is_empty()
                && self
                    .origins
                    .and_then(|o| o.get(origin).copied())
                    .unwrap_or("")
                    == version
        };
        let a_origin = origin_matched(&pa.origin, &pa.version);
        let b_origin = origin_matched(&pb.origin, &pb.version);
        if a_origin != b_origin {
            return if a_origin {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let a_pin = table.pin(a) == self.pin;
        let b_pin = table.pin(b) == self.pin;
        if a_pin != b_pin {
            return if a_pin {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (text_a, va) = version_for_name(table, a, self.name);
        let (text_b, vb) = version_for_name(table, b, self.name);
        if !text_a.is_empty() && !text_b.is_empty() && text_a != text_b {
            let order = newer_first(va, vb);
            if order != Ordering::Equal {
                return order;
            }
        }
        if pa.name == pb.name && pa.version != pb.version {
            let order = newer_first(table.version(a), table.version(b));
            if order != Ordering::Equal {
                return order;
            }
        }
        if pa.provider_priority != pb.provider_priority {
            return pb.provider_priority.cmp(&pa.provider_priority);
        }
        if pa.version != pb.version {
            let order = newer_first(table.version(a), table.version(b));
            if order != Ordering::Equal {
                return order;
            }
        }
        pa.name.cmp(&pb.name)
    }

    /// `bestPackage` (Go's `slices.MinFunc`): the first candidate no later one beats.
    pub(super) fn best(&self, table: &Table<'_>, candidates: &[PkgId]) -> Option<PkgId> {
        let (&first, rest) = candidates.split_first()?;
        let mut best = first;
        for &id in rest {
            if self.compare(table, id, best) == Ordering::Less {
                best = id;
            }
        }
        Some(best)
    }

    /// `sortPackages`, by repeated `best` so that a comparison apko's rules leave non-transitive
    /// cannot upset the sort.
    pub(super) fn sort(&self, table: &Table<'_>, candidates: &[PkgId]) -> Vec<PkgId> {
        let mut rest = candidates.to_vec();
        let mut sorted = Vec::with_capacity(rest.len());
        while let Some(best) = self.best(table, &rest) {
            if let Some(at) = rest.iter().position(|&id| id == best) {
                rest.remove(at);
            }
            sorted.push(best);
        }
        sorted
    }
}

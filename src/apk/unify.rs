//! Multi-architecture unification: from each architecture's resolved package set, the pins every
//! architecture agrees on (the `"index"` list of a locked configuration) and each architecture's
//! own pins.
//!
//! Takes the requested packages and, per architecture, the resolved names, versions and provided
//! names; returns [`Unified`] or [`Error::Inconsistent`] with apko's message. Pure.
//!
//! Not for: resolving ([`super::solver`], which also applies apko's `ByArch` disqualification) or
//! writing the configuration ([`crate::config::merge`]). Reproduces apko `pkg/build/lock.go`
//! `unify` (reference/apko-format.md §3.6 step 3), including two of its quirks: the provided
//! names consulted for "missing" requests are those of the first architecture, narrowed only for
//! packages still agreed on; and after the provides check nothing can stay missing, so the
//! index list never carries unpinned requests. apko takes the first architecture in Go map order
//! (random); here it is the first one given, which the caller sorts.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use regex::Regex;

/// One architecture's resolution, reduced to what unification compares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ArchSet {
    /// The architecture in apko's canonical spelling (`amd64`).
    pub arch: String,
    /// Package name → version.
    pub versions: BTreeMap<String, String>,
    /// Package name → the names it provides (version and pin stripped); only packages that
    /// provide something.
    pub provided: BTreeMap<String, BTreeSet<String>>,
}

impl ArchSet {
    /// An empty set for `arch`.
    pub fn new(arch: &str) -> Self {
        Self {
            arch: arch.to_owned(),
            ..Self::default()
        }
    }

    /// Adds a resolved package with its `provides` entries as the index lists them.
    pub fn insert<S: AsRef<str>>(&mut self, name: &str, version: &str, provides: &[S]) {
        self.versions.insert(name.to_owned(), version.to_owned());
        for provide in provides {
            if let Some(provided) = provided_name(provide.as_ref()) {
                self.provided
                    .entry(name.to_owned())
                    .or_default()
                    .insert(provided.to_owned());
            }
        }
    }
}

/// The outcome of [`unify`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Unified {
    /// `name=version[@pin]` of the packages every architecture resolved to the same version,
    /// sorted as strings (the `=` takes part).
    pub index: Vec<String>,
    /// Each architecture's own `name=version[@pin]` list, sorted the same way.
    pub per_arch: BTreeMap<String, Vec<String>>,
    /// Per architecture, the packages it resolved that are not in [`Unified::index`] (apko
    /// returns these as warnings, not errors).
    pub missing: BTreeMap<String, Vec<String>>,
}

/// Requested packages that cannot be pinned to one version on every architecture.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// apko's "consistent version" error: per package, `version (arch, …)` clusters (an empty
    /// version for architectures that did not resolve it).
    #[error("unable to lock packages to a consistent version: {}", GoMap(.packages))]
    Inconsistent {
        /// Package → sorted `version (arch, arch)` clusters.
        packages: BTreeMap<String, Vec<String>>,
    },
}

/// Prints a map as Go's `%v` does: `map[key:[a b] other:[c]]`, keys sorted.
struct GoMap<'a>(&'a BTreeMap<String, Vec<String>>);

impl fmt::Display for GoMap<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("map[")?;
        for (position, (key, values)) in self.0.iter().enumerate() {
            if position > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{key}:[{}]", values.join(" "))?;
        }
        f.write_str("]")
    }
}

/// apko's `packageNameRegex` (from its `version.go`): the name part of a provide.
fn provided_name(provide: &str) -> Option<&str> {
    static PATTERN: std::sync::OnceLock<Option<Regex>> = std::sync::OnceLock::new();
    let pattern = PATTERN
        .get_or_init(|| Regex::new(r"^([^@=><~]+)(([=><~]+)([^@]+))?(@([a-zA-Z0-9]+))?$").ok())
        .as_ref()?;
    pattern
        .captures(provide)
        .and_then(|captures| captures.get(1))
        .map(|name| name.as_str())
}

/// A requested package split as `unify` splits it: the name (up to the first of `=<>~`, without
/// the pin) and the pin (`@tag`, or empty). The constraint in between only mattered for unpinned
/// leftovers, which apko's error check makes impossible (see the module documentation).
fn split_request(original: &str) -> (String, String) {
    let name = original
        .split(['=', '<', '>', '~'])
        .next()
        .unwrap_or(original);
    let pin = original
        .find('@')
        .and_then(|at| original.get(at..))
        .unwrap_or("");
    let name = name.strip_suffix(pin).unwrap_or(name);
    (name.to_owned(), pin.to_owned())
}

/// apko's `unify`: `originals` are the configuration's `contents.packages`, `inputs` the
/// architectures in the order to accumulate them.
pub fn unify<S: AsRef<str>>(originals: &[S], inputs: &[ArchSet]) -> Result<Unified, Error> {
    let Some((first, rest)) = inputs.split_first() else {
        return Ok(Unified::default());
    };
    if originals.is_empty() {
        return Ok(Unified::default());
    }
    let mut requested: BTreeSet<String> = BTreeSet::new();
    let mut pins: BTreeMap<String, String> = BTreeMap::new();
    for original in originals {
        let (name, pin) = split_request(original.as_ref());
        requested.insert(name.clone());
        pins.insert(name, pin);
    }

    let mut agreed: BTreeSet<String> = first.versions.keys().cloned().collect();
    let mut versions = first.versions.clone();
    let mut provided = first.provided.clone();
    for next in rest {
        agreed.retain(|name| next.versions.contains_key(name));
        let names: Vec<String> = agreed.iter().cloned().collect();
        for name in names {
            if versions.get(&name) != next.versions.get(&name) {
                agreed.remove(&name);
                versions.remove(&name);
                provided.remove(&name);
            }
            let theirs = next.provided.get(&name);
            let ours = provided.get(&name);
            let same = match (ours, theirs) {
                (Some(a), Some(b)) => a == b,
                (None, None) => true,
                (Some(set), None) | (None, Some(set)) => set.is_empty(),
            };
            if !same {
                let narrowed = match (ours, theirs) {
                    (Some(a), Some(b)) => a.intersection(b).cloned().collect(),
                    _ => BTreeSet::new(),
                };
                provided.insert(name, narrowed);
            }
        }
    }

    let mut missing: BTreeSet<String> = requested.difference(&agreed).cloned().collect();
    if !missing.is_empty() {
        for names in provided.values() {
            if names.iter().any(|name| missing.contains(name)) {
                missing.retain(|name| !names.contains(name));
            }
        }
        if !missing.is_empty() {
            return Err(inconsistent(&missing, inputs));
        }
    }

    let pinned = |name: &str, version: &str| {
        let pin = pins.get(name).map_or("", String::as_str);
        format!("{name}={version}{pin}")
    };
    let mut index: Vec<String> = agreed
        .iter()
        .map(|name| pinned(name, versions.get(name).map_or("", String::as_str)))
        .collect();
    index.sort();

    let mut per_arch = BTreeMap::new();
    let mut missing_by_arch = BTreeMap::new();
    for input in inputs {
        let mut list: Vec<String> = input
            .versions
            .iter()
            .map(|(name, version)| pinned(name, version))
            .collect();
        list.sort();
        per_arch.insert(input.arch.clone(), list);
        let here: Vec<String> = input
            .versions
            .keys()
            .filter(|name| !agreed.contains(*name))
            .cloned()
            .collect();
        if !here.is_empty() {
            missing_by_arch.insert(input.arch.clone(), here);
        }
    }
    Ok(Unified {
        index,
        per_arch,
        missing: missing_by_arch,
    })
}

fn inconsistent(missing: &BTreeSet<String>, inputs: &[ArchSet]) -> Error {
    let mut packages = BTreeMap::new();
    for name in missing {
        let mut clusters: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for input in inputs {
            let version = input.versions.get(name).map_or("", String::as_str);
            clusters.entry(version).or_default().insert(&input.arch);
        }
        let mut texts: Vec<String> = clusters
            .iter()
            .map(|(version, archs)| {
                let archs: Vec<&str> = archs.iter().copied().collect();
                format!("{version} ({})", archs.join(", "))
            })
            .collect();
        texts.sort();
        packages.insert(name.clone(), texts);
    }
    Error::Inconsistent { packages }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arch(name: &str, packages: &[(&str, &str, &[&str])]) -> ArchSet {
        let mut set = ArchSet::new(name);
        for (package, version, provides) in packages {
            set.insert(package, version, provides);
        }
        set
    }

    #[test]
    fn agreeing_architectures_pin_everything_with_pins_kept() -> Result<(), Error> {
        let amd = arch("amd64", &[("foo", "1.0-r0", &[]), ("foo-bar", "2-r0", &[])]);
        let arm = arch("arm64", &[("foo", "1.0-r0", &[]), ("foo-bar", "2-r0", &[])]);
        let unified = unify(&["foo@edge", "foo-bar"], &[amd, arm])?;
        // "foo-bar=" sorts before "foo=" because '-' < '='.
        assert_eq!(unified.index, ["foo-bar=2-r0", "foo=1.0-r0@edge"]);
        assert_eq!(unified.per_arch["arm64"], unified.index);
        assert!(unified.missing.is_empty());
        Ok(())
    }

    #[test]
    fn disagreeing_dependency_is_left_out_and_reported_missing() -> Result<(), Error> {
        let amd = arch("amd64", &[("app", "1-r0", &[]), ("lib", "1-r0", &[])]);
        let arm = arch("arm64", &[("app", "1-r0", &[]), ("lib", "2-r0", &[])]);
        let unified = unify(&["app"], &[amd, arm])?;
        assert_eq!(unified.index, ["app=1-r0"]);
        assert_eq!(unified.per_arch["arm64"], ["app=1-r0", "lib=2-r0"]);
        assert_eq!(unified.missing["amd64"], ["lib"]);
        assert_eq!(unified.missing["arm64"], ["lib"]);
        Ok(())
    }

    #[test]
    fn disagreeing_request_is_apkos_error() {
        let amd = arch("amd64", &[("app", "1-r0", &[])]);
        let arm = arch("arm64", &[("app", "2-r0", &[])]);
        let x86 = arch("386", &[]);
        let error = unify(&["app>1"], &[amd, arm, x86]).err();
        let text = error.map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            text,
            "unable to lock packages to a consistent version: map[app:[ (386) 1-r0 (amd64) 2-r0 (arm64)]]"
        );
    }

    #[test]
    fn request_provided_by_an_agreed_package_is_not_missing() -> Result<(), Error> {
        let amd = arch("amd64", &[("busybox", "1-r0", &["cmd:sh=1-r0", "sh"])]);
        let arm = arch("arm64", &[("busybox", "1-r0", &["cmd:sh=1-r0", "sh"])]);
        let unified = unify(&["sh"], &[amd, arm])?;
        assert_eq!(unified.index, ["busybox=1-r0"]);
        Ok(())
    }

    #[test]
    fn no_requests_give_an_empty_index() -> Result<(), Error> {
        let amd = arch("amd64", &[("base", "1-r0", &[])]);
        let unified = unify::<&str>(&[], &[amd])?;
        assert!(unified.index.is_empty());
        assert!(unified.per_arch.is_empty());
        Ok(())
    }
}

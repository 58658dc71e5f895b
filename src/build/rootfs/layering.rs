//! Grouping installed packages into layers (`layering: {strategy: origin, budget: N}`).
//!
//! Packages are grouped by origin; groups merge when a package `replaces` a package of another
//! group (with a version check); groups are ordered by installed size, largest first (ties by
//! the largest package name), the first `budget - 1` kept and the rest merged into one last
//! group; packages within a group are sorted by name.
//!
//! Not for: writing the layers (`build::walk`).
//! Reproduces apko `pkg/build/layers.go` `groupByOriginAndSize`, `replacesGroup`, `merge`
//! (reference/apko-format.md §11).

use super::{Error, InstalledPackage};
use crate::apk::{Constraint, Version};
use crate::build::fs::PackageId;
use std::collections::BTreeMap;

/// One package layer: its packages (by name) and the installed-database bytes it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerGroup {
    /// The packages' ids in the tree, sorted by package name.
    pub packages: Vec<PackageId>,
    /// The packages' names, sorted.
    pub names: Vec<String>,
    /// The concatenated installed-database records of the packages, in name order.
    pub installed_db: Vec<u8>,
}

#[derive(Clone)]
struct Group {
    members: Vec<usize>,
    size: u64,
    tiebreaker: String,
}

/// `groupByOriginAndSize` over the installed packages.
pub fn group_by_origin(
    installed: &[InstalledPackage],
    budget: usize,
) -> Result<Vec<LayerGroup>, Error> {
    // Each package starts in its origin's group; a union-find over package indexes merges
    // groups (the outcome does not depend on Go's map order: merging is a union).
    let mut parent: Vec<usize> = (0..installed.len()).collect();
    fn find(parent: &[usize], mut i: usize) -> usize {
        while let Some(&p) = parent.get(i) {
            if p == i {
                break;
            }
            i = p;
        }
        i
    }
    let mut by_origin: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, p) in installed.iter().enumerate() {
        match by_origin.get(p.package.origin.as_str()) {
            Some(&first) => {
                let root = find(&parent, first);
                if let Some(slot) = parent.get_mut(i) {
                    *slot = root;
                }
            }
            None => {
                by_origin.insert(&p.package.origin, i);
            }
        }
    }
    let by_name: BTreeMap<&str, usize> = installed
        .iter()
        .enumerate()
        .map(|(i, p)| (p.package.name.as_str(), i))
        .collect();
    for (i, p) in installed.iter().enumerate() {
        for replaced in &p.package.replaces {
            let constraint = Constraint::parse(replaced);
            let Some(&j) = by_name.get(constraint.name.as_str()) else {
                continue;
            };
            let replacee_root = find(&parent, j);
            if !replaces_group(&constraint, replacee_root, installed, &parent)? {
                continue;
            }
            let root = find(&parent, i);
            if root != replacee_root
                && let Some(slot) = parent.get_mut(replacee_root)
            {
                *slot = root;
            }
        }
    }
    let mut groups: BTreeMap<usize, Group> = BTreeMap::new();
    for (i, p) in installed.iter().enumerate() {
        let root = find(&parent, i);
        let group = groups.entry(root).or_insert_with(|| Group {
            members: Vec::new(),
            size: 0,
            tiebreaker: String::new(),
        });
        group.members.push(i);
        group.size += p.package.installed_size;
        if p.package.name > group.tiebreaker {
            group.tiebreaker = p.package.name.clone();
        }
    }
    let mut groups: Vec<Group> = groups.into_values().collect();
    // Sizes descending, then tiebreakers ascending: unique keys, so any sort agrees with Go's.
    groups.sort_by(|a, b| {
        b.size
            .cmp(&a.size)
            .then_with(|| a.tiebreaker.cmp(&b.tiebreaker))
    });
    if groups.len() > budget {
        let cutoff = budget.saturating_sub(1);
        let remainder = groups.split_off(cutoff);
        let mut merged = Group {
            members: Vec::new(),
            size: 0,
            tiebreaker: String::new(),
        };
        for g in remainder {
            merged.members.extend(g.members);
            merged.size += g.size;
            merged.tiebreaker = merged.tiebreaker.max(g.tiebreaker);
        }
        groups.push(merged);
    }
    Ok(groups
        .into_iter()
        .map(|mut g| {
            g.members
                .sort_by(|&a, &b| name_of(installed, a).cmp(name_of(installed, b)));
            let members: Vec<&InstalledPackage> =
                g.members.iter().filter_map(|&i| installed.get(i)).collect();
            LayerGroup {
                packages: members.iter().map(|p| p.id).collect(),
                names: members.iter().map(|p| p.package.name.clone()).collect(),
                installed_db: members.iter().flat_map(|p| p.record.clone()).collect(),
            }
        })
        .collect())
}

fn name_of(installed: &[InstalledPackage], i: usize) -> &str {
    installed
        .get(i)
        .map(|p| p.package.name.as_str())
        .unwrap_or("")
}

/// `replacesGroup`: whether the group rooted at `root` holds a package that the constraint
/// names at a version it admits. An unparsable version is an error, as in apko.
fn replaces_group(
    constraint: &Constraint,
    root: usize,
    installed: &[InstalledPackage],
    parent: &[usize],
) -> Result<bool, Error> {
    for (i, p) in installed.iter().enumerate() {
        if p.package.name != constraint.name {
            continue;
        }
        let mut r = i;
        while let Some(&up) = parent.get(r) {
            if up == r {
                break;
            }
            r = up;
        }
        if r != root {
            continue;
        }
        let bad = |version: &str| Error::Layering {
            package: p.package.name.clone(),
            version: version.to_owned(),
        };
        let version = Version::parse(&p.package.version).map_err(|_| bad(&p.package.version))?;
        if constraint.version.is_empty() {
            return Ok(true);
        }
        let required = Version::parse(&constraint.version).map_err(|_| bad(&constraint.version))?;
        if constraint.operator.admits(&version, &required) {
            return Ok(true);
        }
    }
    Ok(false)
}

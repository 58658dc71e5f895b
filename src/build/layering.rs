//! apko's multi-layer images (`layering: {strategy: origin, budget: N}`): which packages share
//! a layer, and how one walk of the root filesystem is split into those layers.
//!
//! [`group_by_origin`] is the pure half: packages grouped by origin, groups joined when a
//! package replaces one in another group, ordered by installed size (largest first), the
//! groups past `budget - 1` merged into one last group. [`Splitter`] is the writing half: it
//! takes the walk's entries in order, each with its destination (a group's layer, or the top
//! layer for everything no package owns), gives each layer the parent directories it lacks
//! (with the entry's mtime, apko's "synthesised timestamps") and, when the installed database
//! passes, a partial database of the group's packages.
//!
//! Not for: the walk itself and which package owns an entry (`build::walk`, `build::rootfs`),
//! layer compression (`build::layer`), the config's history entries (`build::image`).
//! Reproduces reference/apko-format.md §11 (apko `pkg/build/layers.go` `groupByOriginAndSize`,
//! `splitLayers`, `alignStacks`).

mod split;

use std::collections::BTreeMap;

use crate::apk::constraint::Constraint;
use crate::apk::package::Package;
use crate::apk::version::{self, Version};
use crate::config::image::ImageConfiguration;

pub use split::{Destination, Splitter};

/// Why packages cannot be grouped or layers split.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The strategy is not `origin`.
    #[error("unrecognized layering strategy {strategy:?}")]
    Strategy {
        /// The configured strategy.
        strategy: String,
    },
    /// Layering and a base image are both configured.
    #[error("layering with \"baseimage\" is unsupported")]
    WithBaseImage,
    /// A version in a `replaces` check cannot be parsed (apko fails the build then).
    #[error("checking whether {package} replaces {replaced}: version {version:?}")]
    Version {
        /// The replacing package.
        package: String,
        /// The `replaces` entry.
        replaced: String,
        /// The version that does not parse.
        version: String,
        /// The parser's complaint.
        #[source]
        source: version::Error,
    },
    /// An entry names a group layer that does not exist.
    #[error("{entry}: routed to layer {group} of {groups}")]
    NoSuchGroup {
        /// The entry's name.
        entry: String,
        /// The group asked for.
        group: usize,
        /// The number of groups.
        groups: usize,
    },
    /// A layer cannot be written.
    #[error("writing a layer")]
    Layer {
        /// The layer writer's error.
        #[source]
        source: crate::build::layer::Error,
    },
}

/// Packages that go into one layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The packages' names, sorted bytewise.
    pub packages: Vec<String>,
    /// The sum of their installed sizes.
    pub size: u64,
}

struct Draft {
    members: Vec<usize>,
    size: u64,
    tiebreaker: String,
}

/// What apko's `BuildLayers` decides from the configuration: `None` builds one layer (no
/// `layering`, or `layering: {}`); otherwise the budget for [`group_by_origin`], once the
/// strategy is `origin` and no base image is configured.
pub fn budget(configuration: &ImageConfiguration) -> Result<Option<i64>, Error> {
    let Some(layering) = &configuration.layering else {
        return Ok(None);
    };
    if layering.strategy.is_empty() && layering.budget == 0 {
        return Ok(None);
    }
    if layering.strategy != "origin" {
        return Err(Error::Strategy {
            strategy: layering.strategy.clone(),
        });
    }
    if configuration.contents.baseimage.is_some() {
        return Err(Error::WithBaseImage);
    }
    Ok(Some(layering.budget))
}

/// Groups the installed packages into at most `budget` groups (at least one when there are
/// packages) as apko's `groupByOriginAndSize` does. `packages` are the installed packages
/// (their order does not matter); the result is in layer order, bottom first, without the top
/// layer.
pub fn group_by_origin(packages: &[Package], budget: i64) -> Result<Vec<Group>, Error> {
    // Union-find over packages: same origin, or a satisfied `replaces`, joins two groups.
    let mut parent: Vec<usize> = (0..packages.len()).collect();
    let mut by_origin: BTreeMap<&str, usize> = BTreeMap::new();
    for (index, package) in packages.iter().enumerate() {
        match by_origin.get(package.origin.as_str()) {
            Some(&first) => join(&mut parent, first, index),
            None => {
                by_origin.insert(&package.origin, index);
            }
        }
    }
    // apko indexes packages by name; with duplicate names the last one wins.
    let by_name: BTreeMap<&str, usize> = packages
        .iter()
        .enumerate()
        .map(|(index, package)| (package.name.as_str(), index))
        .collect();
    for (index, package) in packages.iter().enumerate() {
        for replaced in &package.replaces {
            let constraint = Constraint::parse(replaced);
            let Some(&target) = by_name.get(constraint.name.as_str()) else {
                continue;
            };
            if replaces_group(package, replaced, &constraint, packages, &parent, target)? {
                join(&mut parent, index, target);
            }
        }
    }

    let mut drafts: BTreeMap<usize, Draft> = BTreeMap::new();
    for (index, package) in packages.iter().enumerate() {
        let draft = drafts.entry(root_of(&parent, index)).or_insert(Draft {
            members: Vec::new(),
            size: 0,
            tiebreaker: String::new(),
        });
        draft.members.push(index);
        draft.size += package.installed_size;
        if *package.name > *draft.tiebreaker {
            draft.tiebreaker = package.name.to_string();
        }
    }
    let mut drafts: Vec<Draft> = drafts.into_values().collect();
    drafts.sort_by(|a, b| {
        b.size
            .cmp(&a.size)
            .then_with(|| a.tiebreaker.cmp(&b.tiebreaker))
    });
    // Go compares the signed budget: a negative one always overflows, even with no packages.
    let overflows = usize::try_from(budget).map_or(true, |budget| drafts.len() > budget);
    if overflows {
        let cutoff = usize::try_from(budget.saturating_sub(1)).unwrap_or(0);
        let overflow = drafts.split_off(cutoff.min(drafts.len()));
        drafts.push(Draft {
            members: overflow.iter().flat_map(|d| d.members.clone()).collect(),
            size: overflow.iter().map(|d| d.size).sum(),
            tiebreaker: String::new(),
        });
    }
    Ok(drafts
        .into_iter()
        .map(|draft| {
            let mut names: Vec<String> = draft
                .members
                .iter()
                .filter_map(|&index| packages.get(index).map(|p| p.name.to_string()))
                .collect();
            names.sort();
            Group {
                packages: names,
                size: draft.size,
            }
        })
        .collect())
}

/// apko's `replacesGroup`: whether the group holding `target` has a package of the constraint's
/// name whose version satisfies it.
fn replaces_group(
    package: &Package,
    replaced: &str,
    constraint: &Constraint,
    packages: &[Package],
    parent: &[usize],
    target: usize,
) -> Result<bool, Error> {
    let target_root = root_of(parent, target);
    for (index, candidate) in packages.iter().enumerate() {
        if candidate.name != constraint.name || root_of(parent, index) != target_root {
            continue;
        }
        let parse = |text: &str| {
            Version::parse(text).map_err(|source| Error::Version {
                package: package.name.to_string(),
                replaced: replaced.to_owned(),
                version: text.to_owned(),
                source,
            })
        };
        let version = parse(&candidate.version)?;
        if constraint.version.is_empty() {
            return Ok(true);
        }
        let required = parse(&constraint.version)?;
        if constraint.operator.admits(&version, &required) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn join(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (root_of(parent, a), root_of(parent, b));
    if let Some(slot) = parent.get_mut(ra.max(rb)) {
        *slot = ra.min(rb);
    }
}

fn root_of(parent: &[usize], mut at: usize) -> usize {
    while let Some(&up) = parent.get(at) {
        if up == at {
            break;
        }
        at = up;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(name: &str, origin: &str, size: u64, replaces: &[&str]) -> Package {
        Package {
            name: name.into(),
            version: "1.0-r0".into(),
            origin: origin.into(),
            installed_size: size,
            replaces: replaces.iter().map(|r| (*r).to_owned()).collect(),
            ..Package::default()
        }
    }

    fn names(groups: &[Group]) -> Vec<Vec<&str>> {
        groups
            .iter()
            .map(|g| g.packages.iter().map(String::as_str).collect())
            .collect()
    }

    #[test]
    fn groups_by_origin_size_and_budget() -> Result<(), Error> {
        let packages = [
            package("a", "oa", 10, &[]),
            package("a-dev", "oa", 5, &[]),
            package("b", "ob", 30, &[]),
            package("c", "oc", 20, &[]),
            package("d", "od", 1, &[]),
        ];
        let groups = group_by_origin(&packages, 3)?;
        assert_eq!(
            names(&groups),
            [vec!["b"], vec!["c"], vec!["a", "a-dev", "d"]]
        );
        assert_eq!(
            groups.iter().map(|g| g.size).collect::<Vec<_>>(),
            [30, 20, 16]
        );
        assert_eq!(group_by_origin(&packages, 10)?.len(), 4);
        assert_eq!(group_by_origin(&packages, 1)?.len(), 1);
        assert_eq!(group_by_origin(&packages, 0)?.len(), 1);
        assert_eq!(group_by_origin(&[], 0)?.len(), 0);
        assert_eq!(group_by_origin(&[], -1)?.len(), 1);
        Ok(())
    }

    #[test]
    fn budget_follows_build_layers() {
        let mut configuration = ImageConfiguration::default();
        assert!(matches!(budget(&configuration), Ok(None)));
        configuration.layering = Some(crate::config::image::Layering::default());
        assert!(matches!(budget(&configuration), Ok(None)));
        configuration.layering = Some(crate::config::image::Layering {
            strategy: "origin".to_owned(),
            budget: 2,
        });
        assert!(matches!(budget(&configuration), Ok(Some(2))));
        configuration.contents.baseimage = Some(crate::config::image::BaseImage::default());
        assert!(matches!(budget(&configuration), Err(Error::WithBaseImage)));
        configuration.layering = Some(crate::config::image::Layering {
            strategy: "size".to_owned(),
            budget: 2,
        });
        assert!(matches!(
            budget(&configuration),
            Err(Error::Strategy { .. })
        ));
    }

    #[test]
    fn replaces_joins_groups_when_the_version_matches() -> Result<(), Error> {
        let packages = [
            package("new", "on", 1, &["old<2"]),
            package("old", "oo", 1, &[]),
            package("other", "ox", 1, &["new>5"]),
        ];
        let groups = group_by_origin(&packages, 10)?;
        assert_eq!(names(&groups), [vec!["new", "old"], vec!["other"]]);
        Ok(())
    }

    #[test]
    fn equal_sizes_order_by_largest_name() -> Result<(), Error> {
        let packages = [package("z", "o1", 5, &[]), package("m", "o2", 5, &[])];
        assert_eq!(
            names(&group_by_origin(&packages, 5)?),
            [vec!["m"], vec!["z"]]
        );
        Ok(())
    }
}

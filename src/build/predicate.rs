//! The image-configuration predicate: what `--locked-out` writes for a build, and which path an
//! audit rebuilds a predicate through, so that the attested configuration reproduces the image.
//!
//! apko builds every image through `LockImageConfiguration` (`pkg/build/lock.go`), and each
//! architecture's locked configuration is what its `/etc/apko.json` holds:
//!
//! * without a lock file, `unify` pins every package and **sorts** each list as strings
//!   (`sort.Strings`, the `=` taking part); the architecture's install order then comes from
//!   resolving that pinned world again (`FixateWorld`);
//! * with a lock file, `Arch2LockedPackages` takes the lock's entries **in lock order** (apko's
//!   install order at lock time), nothing is resolved and the packages are installed in that
//!   order (`installablePackagesForArch`); there is no `"index"` configuration at all.
//!
//! So `apko build PREDICATE` of a lock-file build's configuration does not give that image: it
//! sorts the list again and reorders the installation. The rule, [`rebuild_path`]:
//!
//! * a predicate whose `contents.packages` are all exact pins (`name=version[@tag]`) and **not**
//!   in unify's order (strictly increasing as bytes), or which names a base image (apko builds
//!   those only from a lock file), was written by a lock-file build: the audit installs exactly
//!   those packages in exactly that order ([`Packages::Listed`](super::pipeline::Packages)),
//!   the list is `/etc/apko.json`'s, as apko's lock-file path does;
//! * any other predicate is rebuilt as apko builds the file ([`Packages::Resolve`]): resolved,
//!   unified, sorted. `cosign-rebuild build PREDICATE` always takes this path, as apko does.
//!
//! A lock-file build writes the lock order into its predicate ([`from_lock_orders`]) when every
//! architecture installs the same packages in the same order; when they differ, one predicate
//! cannot hold both orders (apko's schema has no per-architecture packages and rejects unknown
//! fields), so no predicate is written and the caller is told to build each architecture on
//! its own ([`OrderMismatch`]). A lock whose order happens to be sorted is rebuilt by
//! resolution, which gives the same image when the sorted order is also the solver's order for
//! the pinned world (every package after its dependencies and its `install_if` triggers).
//!
//! Not for: building ([`super::pipeline`]), resolving and unifying ([`crate::apk::source`]).

use crate::apk::constraint::{Constraint, Operator};
use crate::build::image::{GoTime, SourceDate, time::Pinning};
use crate::config::{Architecture, ImageConfiguration};

use super::pipeline::{self, Built, Packages, Progress, Request};

/// A lock-file build whose architectures install different package lists (or one list in
/// different orders): apko records each order in that architecture's `/etc/apko.json`, and one
/// image-configuration predicate can hold only one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the lock file installs different packages or a different order on {first} and {other} \
     (first difference at position {position}: {first_entry} vs {other_entry}); one \
     image-configuration predicate holds one order"
)]
pub struct OrderMismatch {
    /// The first architecture.
    pub first: String,
    /// The architecture that differs from it.
    pub other: String,
    /// The first position (from 1) where the lists differ.
    pub position: usize,
    /// The first architecture's entry there (empty past its end).
    pub first_entry: String,
    /// The other architecture's entry there (empty past its end).
    pub other_entry: String,
}

/// The path an audit rebuilds `predicate` through (see the module documentation).
pub fn rebuild_path(predicate: &ImageConfiguration) -> Packages {
    if predicate.contents.baseimage.is_some() || is_lock_order(&predicate.contents.packages) {
        Packages::Listed
    } else {
        Packages::Resolve
    }
}

/// Rebuilds the image an attested `predicate` describes, as the audit does: through
/// [`rebuild_path`], with `settings` (working directory for relative repositories, `--arch`,
/// downloads) and scratch files in `temp_dir`. The creation time is not in the predicate, nor
/// whether the image was built with `SOURCE_DATE_EPOCH`: apko's rule without it picks the newest
/// package build time, and with it pins every time it writes (the creation time, and the
/// entries of `scripts.tar`) to the epoch. So the image is built first by the rule; when that
/// does not `reproduce` the published image and the published index carries its creation time
/// (`published_created`, its `org.opencontainers.image.created`), it is built again pinned to
/// that time, as `SOURCE_DATE_EPOCH` would have ([`Progress::Repinned`] says so). Comparing
/// creation times alone is not enough: an epoch equal to the newest package build time gives
/// the same `created` but other `scripts.tar` times. The pinned build is kept when it
/// reproduces the image or when the creation times differ; otherwise the first.
pub fn rebuild(
    name: &str,
    predicate: &ImageConfiguration,
    settings: pipeline::Settings,
    temp_dir: Option<std::path::PathBuf>,
    published_created: Option<GoTime>,
    reproduces: &dyn Fn(&Built) -> bool,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<Built, pipeline::Error> {
    let mut request = Request::new(name, predicate.clone());
    request.packages = rebuild_path(predicate);
    request.settings = settings;
    request.temp_dir = temp_dir;
    let built = pipeline::build(&request, progress)?;
    let Some(created) = published_created else {
        return Ok(built);
    };
    if reproduces(&built) {
        return Ok(built);
    }
    let created_differs = built.index.created.cmp_instant(&created).is_ne();
    progress(Progress::Repinned { created: &created });
    request.source_date = SourceDate {
        time: created,
        pinning: Pinning::Environment,
    };
    let pinned = pipeline::build(&request, progress)?;
    if created_differs || reproduces(&pinned) {
        Ok(pinned)
    } else {
        Ok(built)
    }
}

/// Whether `packages` can only have come from a lock file: every entry an exact pin, and the
/// list not strictly increasing (unify's `sort.Strings` of distinct pins).
pub fn is_lock_order(packages: &[String]) -> bool {
    let pinned = packages.iter().all(|entry| {
        let constraint = Constraint::parse(entry);
        !constraint.conflict && constraint.operator == Operator::Equal
    });
    let unified = packages.windows(2).all(|pair| pair[0] < pair[1]);
    pinned && !packages.is_empty() && !unified
}

/// The predicate's package list of a lock-file build: the one list every architecture
/// installs, in lock order.
pub fn from_lock_orders<'a>(
    per_arch: impl IntoIterator<Item = (&'a Architecture, &'a [String])>,
) -> Result<Vec<String>, OrderMismatch> {
    let mut per_arch = per_arch.into_iter();
    let Some((first_arch, first)) = per_arch.next() else {
        return Ok(Vec::new());
    };
    for (arch, list) in per_arch {
        if list == first {
            continue;
        }
        let position = first
            .iter()
            .zip(list)
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| first.len().min(list.len()));
        let entry = |list: &[String]| list.get(position).cloned().unwrap_or_default();
        return Err(OrderMismatch {
            first: first_arch.normalised().to_string(),
            other: arch.normalised().to_string(),
            position: position + 1,
            first_entry: entry(first),
            other_entry: entry(list),
        });
    }
    Ok(first.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> Vec<String> {
        entries.iter().map(|&s| s.to_owned()).collect()
    }

    #[test]
    fn unify_order_resolves_and_lock_order_installs_as_listed() {
        // unify's order: sorted with the `=` taking part ("foo-bar=" before "foo=").
        assert!(!is_lock_order(&list(&["foo-bar=2-r0", "foo=1-r0"])));
        assert!(is_lock_order(&list(&["foo=1-r0", "foo-bar=2-r0"])));
        // Floating requests are apko's to resolve, whatever their order.
        assert!(!is_lock_order(&list(&["busybox", "alpine-base"])));
        assert!(!is_lock_order(&list(&["zlib=1-r0", "busybox>1"])));
        assert!(!is_lock_order(&[]));
        // A repeated pin is not unify's output either.
        assert!(is_lock_order(&list(&["a=1-r0", "a=1-r0"])));
    }

    #[test]
    fn a_base_image_always_installs_as_listed() {
        let mut configuration = ImageConfiguration::default();
        configuration.contents.packages = list(&["a=1-r0"]);
        assert!(matches!(rebuild_path(&configuration), Packages::Resolve));
        configuration.contents.baseimage = Some(Default::default());
        assert!(matches!(rebuild_path(&configuration), Packages::Listed));
    }

    #[test]
    fn architectures_must_share_one_order() {
        let (amd, arm) = (Architecture::parse("amd64"), Architecture::parse("arm64"));
        let one = list(&["b=1-r0", "a=1-r0"]);
        let other = list(&["a=1-r0", "b=1-r0"]);
        assert_eq!(
            from_lock_orders([(&amd, &one[..]), (&arm, &one[..])]),
            Ok(one.clone())
        );
        let error = from_lock_orders([(&amd, &one[..]), (&arm, &other[..])]).unwrap_err();
        assert_eq!((error.position, error.other.as_str()), (1, "arm64"));
        assert_eq!(error.first_entry, "b=1-r0");
    }
}

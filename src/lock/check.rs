//! Drift: what a fresh lock of a configuration would change compared with an earlier lock file
//! or locked configuration. A release pipeline runs it to learn that a rebuild would pick up
//! new packages.
//!
//! Against an `apko.lock.json`, each architecture's fresh resolution (as the lock file would be
//! made, without fetching packages) is compared with the lock's packages of that architecture:
//! added, removed, upgraded, downgraded, or rebuilt (same version, other control checksum), and
//! the configuration checksum, repositories and keys are compared. Against a locked
//! configuration, its `contents.packages` is compared with a fresh `"index"` list, under the
//! architecture label `index`, and the rest of the configuration with a fresh locked copy.
//!
//! The JSON report (`--format json`), stable: an object with
//! * `changed`: bool, true when anything below lists a change;
//! * `settings`: list of `{"setting", "old", "new"}`, `setting` one of `checksum` (old and new
//!   configuration checksums), `keyring`, `repositories` (old and new entries joined with
//!   `", "`), `configuration` (a locked configuration differs outside `contents.packages`;
//!   old and new are the two JSON forms without packages);
//! * `architectures`: list, in lock order, of `{"arch", "changes"}`; `arch` is the APK name
//!   (`x86_64`) or `index`; `changes` lists `{"package", "change", "old", "new"}` sorted by
//!   package, `change` one of `added` (no `old`), `removed` (no `new`), `upgraded`,
//!   `downgraded`, `changed` (versions apko cannot order), `rebuilt` (`old`/`new` are the
//!   control checksums `Q1…` of one version).
//!
//! Not for: resolving ([`super::Locker`]). Versions are ordered by apko's rules
//! ([`crate::apk::version`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::Error;
use super::Scope;
use super::locker::Locker;
use crate::apk::constraint::Constraint;
use crate::apk::version::Version;
use crate::config::ImageConfiguration;
use crate::config::lock::{Lock, LockKeyring, LockRepository};

/// One package as locked or freshly resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    /// Package name.
    pub name: String,
    /// Version (may be empty for an unpinned request in a configuration).
    pub version: String,
    /// Control checksum `Q1…`, when known.
    pub checksum: Option<String>,
}

/// How one package changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// New in the fresh lock.
    Added,
    /// Gone from the fresh lock.
    Removed,
    /// A newer version.
    Upgraded,
    /// An older version.
    Downgraded,
    /// Another version that apko's rules cannot order against the old one.
    Changed,
    /// The same version with another control checksum (the package was rebuilt).
    Rebuilt,
}

impl ChangeKind {
    fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Upgraded => "upgraded",
            ChangeKind::Downgraded => "downgraded",
            ChangeKind::Changed => "changed",
            ChangeKind::Rebuilt => "rebuilt",
        }
    }
}

/// A package that would change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageChange {
    /// The package name.
    pub package: String,
    /// What happens to it.
    pub change: ChangeKind,
    /// The locked version (control checksum for `rebuilt`); absent for `added`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    /// The fresh version (control checksum for `rebuilt`); absent for `removed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
}

/// One architecture's changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchChanges {
    /// APK architecture name, or `index` for a locked configuration.
    pub arch: String,
    /// Changes sorted by package name.
    pub changes: Vec<PackageChange>,
}

/// Which setting outside the package list changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Setting {
    /// The configuration checksum recorded in a lock file.
    Checksum,
    /// The keyring entries or their content.
    Keyring,
    /// The repository entries.
    Repositories,
    /// A locked configuration outside `contents.packages`.
    Configuration,
}

/// A setting that would change, with both values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingChange {
    /// Which one.
    pub setting: Setting,
    /// As locked.
    pub old: String,
    /// As a fresh lock would have it.
    pub new: String,
}

/// Everything a fresh lock would change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// Whether anything changes.
    pub changed: bool,
    /// Settings that change.
    pub settings: Vec<SettingChange>,
    /// Per architecture, packages that change.
    pub architectures: Vec<ArchChanges>,
}

impl Drift {
    fn new(settings: Vec<SettingChange>, architectures: Vec<ArchChanges>) -> Drift {
        let changed =
            !settings.is_empty() || architectures.iter().any(|arch| !arch.changes.is_empty());
        Drift {
            changed,
            settings,
            architectures,
        }
    }

    /// One line per change (`x86_64: upgraded curl 8.0-r0 → 8.1-r0`), or `no changes`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for setting in &self.settings {
            let name = match setting.setting {
                Setting::Checksum => "configuration checksum",
                Setting::Keyring => "keyring",
                Setting::Repositories => "repositories",
                Setting::Configuration => "configuration (outside contents.packages)",
            };
            let _ = writeln!(out, "{name}: {} → {}", setting.old, setting.new);
        }
        for arch in &self.architectures {
            for change in &arch.changes {
                let kind = change.change.as_str();
                let package = &change.package;
                let _ = match (&change.old, &change.new) {
                    (Some(old), Some(new)) => {
                        writeln!(out, "{}: {kind} {package} {old} → {new}", arch.arch)
                    }
                    (None, Some(new)) => writeln!(out, "{}: {kind} {package} {new}", arch.arch),
                    (Some(old), None) => writeln!(out, "{}: {kind} {package} {old}", arch.arch),
                    (None, None) => writeln!(out, "{}: {kind} {package}", arch.arch),
                };
            }
        }
        if !self.changed {
            out.push_str("no changes\n");
        }
        out
    }

    /// The JSON report described in the module documentation, indented, with a final newline.
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        let mut bytes = crate::codec::json::to_vec_go_pretty(self).map_err(Error::EncodeReport)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

/// Compares two package lists (each at most one entry per name).
pub fn compare(old: &[Pinned], new: &[Pinned]) -> Vec<PackageChange> {
    let old: BTreeMap<&str, &Pinned> = old.iter().map(|p| (p.name.as_str(), p)).collect();
    let new: BTreeMap<&str, &Pinned> = new.iter().map(|p| (p.name.as_str(), p)).collect();
    let mut names: Vec<&str> = old.keys().chain(new.keys()).copied().collect();
    names.sort_unstable();
    names.dedup();
    let mut changes = Vec::new();
    for name in names {
        let change = |change, old: Option<&str>, new: Option<&str>| PackageChange {
            package: name.to_owned(),
            change,
            old: old.map(str::to_owned),
            new: new.map(str::to_owned),
        };
        match (old.get(name), new.get(name)) {
            (None, Some(n)) => changes.push(change(ChangeKind::Added, None, Some(&n.version))),
            (Some(o), None) => changes.push(change(ChangeKind::Removed, Some(&o.version), None)),
            (Some(o), Some(n)) if o.version != n.version => {
                let kind = match (Version::parse(&o.version), Version::parse(&n.version)) {
                    (Ok(a), Ok(b)) if b > a => ChangeKind::Upgraded,
                    (Ok(a), Ok(b)) if b < a => ChangeKind::Downgraded,
                    _ => ChangeKind::Changed,
                };
                changes.push(change(kind, Some(&o.version), Some(&n.version)));
            }
            (Some(o), Some(n)) => {
                if let (Some(a), Some(b)) = (&o.checksum, &n.checksum)
                    && a != b
                {
                    changes.push(change(ChangeKind::Rebuilt, Some(a), Some(b)));
                }
            }
            (None, None) => {}
        }
    }
    changes
}

/// What a fresh lock file of the locker's configuration would change in `old`. Packages are
/// resolved (as for a lock file: each architecture on its own, base image packages left out)
/// but not fetched; their control checksums come from the indexes.
pub fn against_lock_file(locker: &Locker, old: &Lock) -> Result<Drift, Error> {
    let resolutions = locker.resolve(Scope::Separately)?;
    let mut settings = Vec::new();
    let checksum = locker.configuration().checksum.as_str();
    if let Some(config) = &old.config
        && config.checksum != checksum
    {
        settings.push(SettingChange {
            setting: Setting::Checksum,
            old: config.checksum.clone(),
            new: checksum.to_owned(),
        });
    }
    settings.extend(keyring_change(locker, old));
    settings.extend(repositories_change(locker, old)?);

    let mut archs: Vec<String> = Vec::new();
    for arch in locker.archs() {
        let apk = arch.to_apk();
        if !archs.contains(&apk) {
            archs.push(apk);
        }
    }
    for package in &old.contents.packages {
        if !archs.contains(&package.architecture) {
            archs.push(package.architecture.clone());
        }
    }
    let architectures = archs
        .into_iter()
        .map(|apk_arch| {
            let resolution = resolutions.iter().find(|r| r.arch.to_apk() == apk_arch);
            arch_changes(locker, old, apk_arch, resolution)
        })
        .collect();
    Ok(Drift::new(settings, architectures))
}

/// The keyring entries or contents a fresh lock file would change, if any.
fn keyring_change(locker: &Locker, old: &Lock) -> Option<SettingChange> {
    let fresh_keys: Vec<LockKeyring> = locker
        .keys()
        .iter()
        .map(|(entry, key)| LockKeyring::new(entry, String::from_utf8_lossy(&key.pem).into_owned()))
        .collect();
    let key_names = |keys: &[LockKeyring]| {
        let mut names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
        names.sort_unstable();
        names.join(", ")
    };
    let mut sorted_old = old.contents.keyring.clone();
    sorted_old.sort_by(|a, b| a.name.cmp(&b.name));
    let mut sorted_new = fresh_keys.clone();
    sorted_new.sort_by(|a, b| a.name.cmp(&b.name));
    (sorted_old != sorted_new).then(|| SettingChange {
        setting: Setting::Keyring,
        old: key_names(&old.contents.keyring),
        new: key_names(&fresh_keys),
    })
}

/// The repository entries a fresh lock file would change, if any.
fn repositories_change(locker: &Locker, old: &Lock) -> Result<Option<SettingChange>, Error> {
    let fresh = fresh_repositories(locker)?;
    let locked = [
        &old.contents.build_repositories,
        &old.contents.runtime_repositories,
        &old.contents.repositories,
    ];
    if fresh
        .iter()
        .zip(locked)
        .all(|(fresh, locked)| fresh == locked)
    {
        return Ok(None);
    }
    let names = |lists: &[&Vec<LockRepository>]| {
        lists
            .iter()
            .flat_map(|list| list.iter().map(|r| r.url.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let fresh: Vec<&Vec<LockRepository>> = fresh.iter().collect();
    Ok(Some(SettingChange {
        setting: Setting::Repositories,
        old: names(&locked),
        new: names(&fresh),
    }))
}

/// One architecture's package changes: the lock's packages of `apk_arch` against its fresh
/// resolution (none when the architecture is no longer locked), base image packages left out.
fn arch_changes(
    locker: &Locker,
    old: &Lock,
    apk_arch: String,
    resolution: Option<&crate::apk::source::ArchResolution<'_>>,
) -> ArchChanges {
    let locked: Vec<Pinned> = old
        .contents
        .packages
        .iter()
        .filter(|p| p.architecture == apk_arch)
        .map(|p| Pinned {
            name: p.name.clone(),
            version: p.version.clone(),
            checksum: (!p.checksum.is_empty()).then(|| p.checksum.clone()),
        })
        .collect();
    let mut fresh = Vec::new();
    if let Some(resolution) = resolution {
        let base = locker.base_image_names(&resolution.arch);
        for resolved in &resolution.packages {
            let package = resolved.package;
            if base.is_some_and(|names| names.contains(package.name.as_str())) {
                continue;
            }
            fresh.push(Pinned {
                name: package.name.to_string(),
                version: package.version.to_string(),
                checksum: (!package.checksum.is_empty()).then(|| package.checksum_string()),
            });
        }
    }
    ArchChanges {
        arch: apk_arch,
        changes: compare(&locked, &fresh),
    }
}

/// The build, runtime and plain repository entries a fresh lock file would hold.
fn fresh_repositories(locker: &Locker) -> Result<[Vec<LockRepository>; 3], Error> {
    let contents = &locker.configuration().configuration.contents;
    let mut lists: [Vec<LockRepository>; 3] = Default::default();
    for arch in locker.archs() {
        let sources = [
            &contents.build_repositories,
            &contents.runtime_repositories,
            &contents.repositories,
        ];
        for (lines, list) in sources.into_iter().zip(lists.iter_mut()) {
            for line in lines {
                list.push(LockRepository::new(line, arch).map_err(|source| {
                    Error::LockRepository {
                        repository: line.clone(),
                        source,
                    }
                })?);
            }
        }
    }
    Ok(lists)
}

/// What a fresh lock of the locker's configuration would change in the locked configuration
/// `old`.
pub fn against_locked_configuration(
    locker: &Locker,
    old: &ImageConfiguration,
) -> Result<Drift, Error> {
    let fresh = locker.locked_configuration()?.index;
    let pins = |packages: &[String]| -> Vec<Pinned> {
        packages
            .iter()
            .map(|entry| {
                let constraint = Constraint::parse(entry);
                Pinned {
                    name: constraint.name,
                    version: constraint.version,
                    checksum: None,
                }
            })
            .collect()
    };
    let changes = compare(
        &pins(&old.contents.packages),
        &pins(&fresh.contents.packages),
    );
    let mut settings = Vec::new();
    let without_packages = |configuration: &ImageConfiguration| -> Result<String, Error> {
        let mut copy = configuration.clone();
        copy.contents.packages.clear();
        let bytes = copy.to_json().map_err(Error::Encode)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    let (old_rest, new_rest) = (without_packages(old)?, without_packages(&fresh)?);
    if old_rest != new_rest {
        settings.push(SettingChange {
            setting: Setting::Configuration,
            old: old_rest,
            new: new_rest,
        });
    }
    Ok(Drift::new(
        settings,
        vec![ArchChanges {
            arch: "index".to_owned(),
            changes,
        }],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(name: &str, version: &str, checksum: Option<&str>) -> Pinned {
        Pinned {
            name: name.to_owned(),
            version: version.to_owned(),
            checksum: checksum.map(str::to_owned),
        }
    }

    #[test]
    fn every_kind_of_change_is_named_with_both_versions() {
        let old = [
            pin("gone", "1-r0", None),
            pin("up", "1.2-r0", None),
            pin("down", "2.0-r1", None),
            pin("same", "1-r0", Some("Q1aaa")),
            pin("rebuilt", "1-r0", Some("Q1old")),
        ];
        let new = [
            pin("new", "3-r0", None),
            pin("up", "1.10-r0", None),
            pin("down", "2.0-r0", None),
            pin("same", "1-r0", Some("Q1aaa")),
            pin("rebuilt", "1-r0", Some("Q1new")),
        ];
        let changes = compare(&old, &new);
        let summary: Vec<(&str, ChangeKind, Option<&str>, Option<&str>)> = changes
            .iter()
            .map(|c| {
                (
                    c.package.as_str(),
                    c.change,
                    c.old.as_deref(),
                    c.new.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "down",
                    ChangeKind::Downgraded,
                    Some("2.0-r1"),
                    Some("2.0-r0")
                ),
                ("gone", ChangeKind::Removed, Some("1-r0"), None),
                ("new", ChangeKind::Added, None, Some("3-r0")),
                ("rebuilt", ChangeKind::Rebuilt, Some("Q1old"), Some("Q1new")),
                ("up", ChangeKind::Upgraded, Some("1.2-r0"), Some("1.10-r0")),
            ]
        );
    }
}

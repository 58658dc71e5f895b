//! What apko does to a parsed configuration: `MergeInto` (for `include` and for the defensive copy
//! the locker makes), `Validate` (defaults and checks run after locking), and the locked-copy and
//! world helpers the locker and builder need.
//!
//! Not for: reading files (`load`) or resolving packages (`apk`). Reproduces
//! reference/apko-format.md §2.6, §2.7, §3.5 and §3.6 (step 1 and the locked copy).

use std::collections::{BTreeMap, BTreeSet};

use super::Error;
use super::arch::Architecture;
use super::image::{Accounts, Contents, ImageConfiguration};

fn concat<T: Clone>(base: &[T], target: &mut Vec<T>) {
    let mut merged = base.to_vec();
    merged.append(target);
    *target = merged;
}

fn fill_missing(base: &BTreeMap<String, String>, target: &mut BTreeMap<String, String>) {
    for (key, value) in base {
        target.entry(key.clone()).or_insert_with(|| value.clone());
    }
}

impl ImageConfiguration {
    /// apko's `MergeInto`: merges `self` (the base, e.g. an included file) underneath `target`.
    ///
    /// Scalars and nullable fields of the target win when set; lists are concatenated base first;
    /// maps keep the target's keys. The entrypoint is taken whole when the target's is empty.
    /// `vcs-url`, `include` and the v0.13-era fields are not merged (apko never merged them).
    pub fn merge_into(&self, target: &mut ImageConfiguration) {
        if target.entrypoint == Default::default() {
            target.entrypoint = self.entrypoint.clone();
        }
        if target.cmd.is_empty() {
            target.cmd = self.cmd.clone();
        }
        if target.stop_signal.is_empty() {
            target.stop_signal = self.stop_signal.clone();
        }
        if target.work_dir.is_empty() {
            target.work_dir = self.work_dir.clone();
        }
        if target.layering.is_none() {
            target.layering = self.layering.clone();
        }
        if target.format.is_empty() {
            target.format = self.format.clone();
        }
        if target.certificates.is_none() {
            target.certificates = self.certificates.clone();
        }
        if target.archs.is_empty() {
            target.archs = self.archs.clone();
        }
        self.accounts.merge_into(&mut target.accounts);
        fill_missing(&self.environment, &mut target.environment);
        concat(&self.paths, &mut target.paths);
        fill_missing(&self.annotations, &mut target.annotations);
        concat(&self.volumes, &mut target.volumes);
        self.contents.merge_into(&mut target.contents);
    }

    /// The defensive copy apko's locker makes (`input.MergeInto(&empty)`): everything that
    /// [`ImageConfiguration::merge_into`] carries, so `vcs-url` and `include` are dropped.
    pub fn locked_copy(&self) -> ImageConfiguration {
        let mut copy = ImageConfiguration::default();
        self.merge_into(&mut copy);
        copy
    }

    /// The locked configuration of one architecture (or of the index when `arch` is `None`):
    /// the locked copy with `contents.packages` replaced by `pins` (`name=version[@tag]`) and,
    /// for an architecture, `archs` set to just that one.
    pub fn locked_for(&self, arch: Option<&Architecture>, pins: Vec<String>) -> ImageConfiguration {
        let mut locked = self.locked_copy();
        locked.contents.packages = pins;
        if let Some(arch) = arch {
            locked.archs = vec![arch.normalised()];
        }
        locked
    }

    /// The world apko resolves: `contents.packages` plus `extra` (`--package-append`), sorted
    /// bytewise with exact duplicates removed.
    pub fn world<S: AsRef<str>>(&self, extra: &[S]) -> Vec<String> {
        let mut world: Vec<String> = self
            .contents
            .packages
            .iter()
            .cloned()
            .chain(extra.iter().map(|s| s.as_ref().to_owned()))
            .collect();
        world.sort();
        world.dedup();
        world
    }

    /// apko's `Validate`, run by the builder after locking: applies the service-bundle
    /// entrypoint and `s6` package, defaults each user's home directory to `/home/<name>`, and
    /// rejects nameless users and groups, uid 0, unknown formats, erofs with layering, and badly
    /// named certificates or runtime keys.
    pub fn validate(&mut self) -> Result<(), Error> {
        if self.entrypoint.kind == "service-bundle" {
            self.entrypoint.command = "/bin/s6-svscan /sv".to_owned();
            // apko appends without checking for an existing entry; duplicates vanish in the world.
            self.contents.packages.push("s6".to_owned());
        }
        for (index, user) in self.accounts.users.iter_mut().enumerate() {
            if user.username.is_empty() {
                return Err(Error::UserWithoutName { index });
            }
            if user.uid == 0 {
                return Err(Error::RootUser {
                    username: user.username.clone(),
                });
            }
            if user.homedir.is_empty() {
                user.homedir = format!("/home/{}", user.username);
            }
        }
        if let Some(index) = self
            .accounts
            .groups
            .iter()
            .position(|g| g.groupname.is_empty())
        {
            return Err(Error::GroupWithoutName { index });
        }
        let format = if self.format.is_empty() {
            "tar"
        } else {
            self.format.as_str()
        };
        if format != "tar" && format != "erofs" {
            return Err(Error::LayerFormat {
                format: self.format.clone(),
            });
        }
        if format == "erofs" && self.layering.is_some() {
            return Err(Error::ErofsLayering);
        }
        if let Some(certificates) = &self.certificates {
            for entry in &certificates.additional {
                if !is_safe_file_name(&entry.name) {
                    return Err(Error::CertificateName {
                        name: entry.name.clone(),
                    });
                }
            }
        }
        let mut seen = BTreeSet::new();
        for key in &self.contents.runtime_keyring {
            if key.name.is_empty() {
                return Err(Error::RuntimeKeyName {
                    name: key.name.clone(),
                });
            }
            if key.content.is_empty() {
                return Err(Error::RuntimeKeyContent {
                    name: key.name.clone(),
                });
            }
            if !is_safe_file_name(&key.name) {
                return Err(Error::RuntimeKeyName {
                    name: key.name.clone(),
                });
            }
            if !seen.insert(key.name.as_str()) {
                return Err(Error::RuntimeKeyDuplicate {
                    name: key.name.clone(),
                });
            }
        }
        Ok(())
    }
}

/// apko's `^[a-zA-Z0-9_-]+[a-zA-Z0-9_.-]*$` for certificate and runtime key names (they become
/// file names): non-empty, no leading dot, no separators.
fn is_safe_file_name(name: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.';
    !name.is_empty() && !name.starts_with('.') && name.chars().all(allowed)
}

impl Accounts {
    /// apko's `ImageAccounts.MergeInto`: `run-as` of the target wins; users and groups are
    /// concatenated base first.
    pub fn merge_into(&self, target: &mut Accounts) {
        if target.run_as.is_empty() {
            target.run_as = self.run_as.clone();
        }
        concat(&self.users, &mut target.users);
        concat(&self.groups, &mut target.groups);
    }
}

impl Contents {
    /// apko's `ImageContents.MergeInto`: every list concatenated base first; the target's base
    /// image wins when set.
    pub fn merge_into(&self, target: &mut Contents) {
        concat(&self.keyring, &mut target.keyring);
        concat(&self.runtime_keyring, &mut target.runtime_keyring);
        concat(&self.build_repositories, &mut target.build_repositories);
        concat(&self.runtime_repositories, &mut target.runtime_repositories);
        concat(&self.repositories, &mut target.repositories);
        concat(&self.packages, &mut target.packages);
        if target.baseimage.is_none() {
            target.baseimage = self.baseimage.clone();
        }
    }
}

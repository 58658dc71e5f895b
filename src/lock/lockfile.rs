//! `apko.lock.json` from a [`Locker`]: keys with their content, repositories per architecture,
//! and every package of every architecture's separate resolution with its byte ranges and
//! checksums.
//!
//! Not for: the file format and writer ([`crate::config::lock`]). Reproduces apko
//! `internal/cli/lock.go` `LockCmd` and `repoLock`, and `pkg/build/build_implementation.go`
//! `ResolveWithBase` (base image packages left out), reference/apko-format.md §3.2–§3.4.

use super::Error;
use super::Scope;
use super::fetch::{self, Job};
use super::locker::Locker;
use crate::apk::archive::Layout;
use crate::config::lock::{Lock, LockKeyring, LockPackage, LockRepository, RangeAndChecksum};

impl Locker {
    /// apko's `lock` command: the lock file of this configuration. Every resolved package is
    /// fetched (through the cache) and verified to record its members.
    pub fn lock_file(&self) -> Result<Lock, Error> {
        let configuration = &self.configuration().configuration;
        let mut lock = Lock::new(self.name(), &self.configuration().checksum);
        for (entry, key) in self.keys() {
            lock.contents.keyring.push(LockKeyring::new(
                entry,
                String::from_utf8_lossy(&key.pem).into_owned(),
            ));
        }

        let resolutions = self.resolve(Scope::Separately)?;
        let contents = &configuration.contents;
        for arch in self.archs() {
            let (Some(resolution), Some(sources)) = (
                resolutions.iter().find(|r| &r.arch == arch),
                self.arch_sources(arch),
            ) else {
                continue;
            };
            let mut jobs = Vec::new();
            for resolved in &resolution.packages {
                if sources.base_names.contains(resolved.package.name.as_str()) {
                    continue;
                }
                // Only the base image's list has no repository, and its packages were skipped.
                let Some(repository) = sources.repository(resolved) else {
                    continue;
                };
                jobs.push(Job {
                    repository,
                    apk_arch: &sources.apk_arch,
                    package: resolved.package,
                    url: &resolved.url,
                });
            }
            let layouts = fetch::layouts(self.sources().fetcher(), &jobs)?;
            for (job, layout) in jobs.iter().zip(&layouts) {
                lock.contents.packages.push(locked_package(job, layout));
            }
            let repositories = |lines: &[String], target: &mut Vec<LockRepository>| {
                for line in lines {
                    let entry = LockRepository::new(line, arch).map_err(|source| {
                        Error::LockRepository {
                            repository: line.clone(),
                            source,
                        }
                    })?;
                    target.push(entry);
                }
                Ok::<(), Error>(())
            };
            repositories(
                &contents.build_repositories,
                &mut lock.contents.build_repositories,
            )?;
            repositories(
                &contents.runtime_repositories,
                &mut lock.contents.runtime_repositories,
            )?;
            repositories(&contents.repositories, &mut lock.contents.repositories)?;
        }
        lock.contents.sort_keyring();
        Ok(lock)
    }
}

fn locked_package(job: &Job<'_>, layout: &Layout) -> LockPackage {
    let package = job.package;
    LockPackage {
        name: package.name.to_string(),
        url: job.url.to_owned(),
        version: package.version.to_string(),
        architecture: package.arch.to_string(),
        signature: layout
            .signature
            .map(|member| RangeAndChecksum {
                range: member.range.to_string(),
                checksum: member.digest.lock_checksum(),
            })
            .unwrap_or_default(),
        control: RangeAndChecksum {
            range: layout.control.range.to_string(),
            checksum: layout.control.digest.lock_checksum(),
        },
        data: RangeAndChecksum {
            range: layout.data.range.to_string(),
            checksum: layout.data.digest.lock_checksum(),
        },
        checksum: package.checksum_string(),
    }
}

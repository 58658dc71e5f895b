//! Fetching resolved packages in parallel and reading their byte layout (member ranges and
//! digests), as apko's `CalculateWorld` does before it writes a lock file.
//!
//! Not for: which packages to fetch ([`super::lockfile`]) or the download itself
//! ([`crate::apk::repository::Fetcher`], which checks each package's control member against the
//! index). Every package is read to its end: `datahash` and each file's checksum are verified
//! ([`crate::apk::archive::PackageReader`]), as apko's expander does.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::Error;
use crate::apk::Package;
use crate::apk::archive::{Layout, Limits, PackageReader};
use crate::apk::repository::{Fetcher, Repository};

/// One package to fetch.
#[derive(Debug, Clone, Copy)]
pub(super) struct Job<'a> {
    /// Where it is.
    pub repository: &'a Repository,
    /// The APK architecture directory.
    pub apk_arch: &'a str,
    /// The index record (name, version, `C:`).
    pub package: &'a Package,
    /// Its URL as the lock file writes it.
    pub url: &'a str,
}

/// Network fetches wait more than they compute, so more workers than cores pay off; local files
/// are read by the same few.
const MOST_WORKERS: usize = 8;
const FEWEST_WORKERS: usize = 4;

/// The layout of every job's package, in job order; the first failure (in job order) wins.
pub(super) fn layouts(fetcher: &Fetcher, jobs: &[Job<'_>]) -> Result<Vec<Layout>, Error> {
    let workers = std::thread::available_parallelism()
        .map_or(FEWEST_WORKERS, usize::from)
        .clamp(FEWEST_WORKERS, MOST_WORKERS)
        .min(jobs.len());
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Layout, Error>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let at = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(at) else {
                        break;
                    };
                    let outcome = layout(fetcher, job);
                    let failed = outcome.is_err();
                    if let Ok(mut results) = results.lock()
                        && let Some(slot) = results.get_mut(at)
                    {
                        *slot = Some(outcome);
                    }
                    if failed {
                        // Later jobs are not worth starting; earlier ones still finish so the
                        // first failure in order is the one reported.
                        next.fetch_max(jobs.len(), Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let results = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut layouts = Vec::with_capacity(jobs.len());
    for (job, result) in jobs.iter().zip(results) {
        match result {
            Some(result) => layouts.push(result?),
            // Skipped after an earlier failure, which the loop has already returned; a gap
            // without one cannot happen, but is fetched here rather than trusted.
            None => layouts.push(layout(fetcher, job)?),
        }
    }
    Ok(layouts)
}

fn layout(fetcher: &Fetcher, job: &Job<'_>) -> Result<Layout, Error> {
    let bytes = fetcher
        .fetch_package(job.repository, job.apk_arch, job.package)
        .map_err(|source| Error::Package {
            url: job.url.to_owned(),
            source: Box::new(source),
        })?;
    let archive = |source| Error::Archive {
        url: job.url.to_owned(),
        source: Box::new(source),
    };
    PackageReader::open(bytes.as_slice(), &job.package.filename(), Limits::default())
        .map_err(archive)?
        .finish()
        .map_err(archive)
}

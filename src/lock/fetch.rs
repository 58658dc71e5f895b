//! Fetching resolved packages in parallel and reading their byte layout (member ranges and
//! digests), as apko's `CalculateWorld` does before it writes a lock file.
//!
//! Not for: which packages to fetch ([`super::lockfile`]) or the download itself
//! ([`crate::apk::repository::Fetcher`], which checks each package's control member against the
//! index). Every package is read to its end: `datahash` and each file's checksum are verified
//! ([`crate::apk::archive::PackageReader`]), as apko's expander does.

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
        .clamp(FEWEST_WORKERS, MOST_WORKERS);
    crate::parallel::try_map(jobs, workers, || Ok(()), |(), job| layout(fetcher, job))
}

fn layout(fetcher: &Fetcher, job: &Job<'_>) -> Result<Layout, Error> {
    let file = fetcher
        .open_package(job.repository, job.apk_arch, job.package)
        .map_err(|source| Error::Package {
            url: job.url.to_owned(),
            source: Box::new(source),
        })?;
    let archive = |source| Error::Archive {
        url: job.url.to_owned(),
        source: Box::new(source),
    };
    PackageReader::open(file, &job.package.filename(), Limits::default())
        .map_err(archive)?
        .finish()
        .map_err(archive)
}

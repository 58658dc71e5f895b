//! Fetching an architecture's packages (through the download cache) and reading them into a
//! spool, several at once, in install order, within a byte budget of memory.
//!
//! Readers are as many as cores (CPU: decompression and hashing), but what they hold is bounded
//! in bytes by a [`Budget`] every architecture shares. Before opening a package a reader is
//! charged [`READER_WINDOW`] plus the most its signature and control members may take (each
//! member and its entries at most [`Limits::control`], as apko allows); once they are read, the
//! charge drops to the window plus what they really hold, while the data member streams through
//! the window. So eight readers of ordinary packages run at once, a package with a 10 MiB
//! control member opens while the budget has room for it, and memory never depends on how
//! large the data is.
//!
//! Not for: which packages (`plan`) or the package format ([`crate::apk::archive`], read
//! through [`PackageSource::read_apk`]: every file's SHA-1 and the `datahash` verified).

use std::path::Path;

use super::Error;
use super::READER_WINDOW;
use super::plan::{Job, Origin};
use crate::apk::archive::Limits;
use crate::apk::repository::{Fetcher, PackageFile};
use crate::build::fs::Spool;
use crate::build::rootfs::PackageSource;
use crate::parallel::Budget;

/// Where package files are opened: the fetcher (its cache and network settings) and the
/// directory a lock file's relative URLs are read from.
pub(super) struct Fetch<'a> {
    pub fetcher: &'a Fetcher,
    pub working_dir: &'a Path,
}

impl Fetch<'_> {
    /// The file of `job`'s package, checked against the checksum its plan carries.
    fn open(&self, job: &Job) -> Result<PackageFile, Error> {
        let fetched = match &job.origin {
            Origin::LockUrl => {
                self.fetcher
                    .open_package_url(&job.url, self.working_dir, &job.package)
            }
            Origin::Repository {
                repository,
                apk_arch,
            } => self
                .fetcher
                .open_package(repository, apk_arch, &job.package),
            Origin::BaseImage => {
                return Err(Error::BasePackage {
                    package: job.package.name.to_string(),
                    url: job.url.clone(),
                });
            }
        };
        fetched.map_err(|source| Error::Fetch {
            package: job.package.name.to_string(),
            url: job.url.clone(),
            source: Box::new(source),
        })
    }
}

/// Fewest and most package readers: reading is decompression and hashing, so about one per
/// core, at least two to overlap a fetch with a read.
const FEWEST_READERS: usize = 2;
const MOST_READERS: usize = 8;

/// What a reader is charged before it opens a package: its window, and the signature and
/// control members raw, decoded and split into entries, each at most the control limit.
fn opening_charge(limits: Limits) -> u64 {
    READER_WINDOW.saturating_add(limits.control.saturating_mul(4))
}

/// Fetches and reads `jobs` in parallel (each reader its own spool) within `budget`, in job
/// order; the first failure in job order is returned.
pub(super) fn read_all(
    jobs: &[Job],
    fetch: &Fetch<'_>,
    temp_dir: &Path,
    readers: Option<usize>,
    budget: &Budget,
) -> Result<Vec<PackageSource>, Error> {
    let workers = readers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(FEWEST_READERS, usize::from)
            .clamp(FEWEST_READERS, MOST_READERS)
    });
    crate::parallel::try_map(
        jobs,
        workers,
        || Spool::new_in(temp_dir).map_err(Error::Spool),
        |spool, job| read(spool, job, fetch, budget),
    )
}

fn read(
    spool: &Spool,
    job: &Job,
    fetch: &Fetch<'_>,
    budget: &Budget,
) -> Result<PackageSource, Error> {
    let name = &job.package.name;
    // Fetched before charging: a download streams into the cache through its own buffers.
    let file = fetch.open(job)?;
    let file = crate::progress::task(crate::progress::Kind::Install, name, file.len()).reader(file);
    let limits = Limits::default();
    let mut charge = budget.charge(opening_charge(limits));
    // Streamed from the file: memory per reader does not grow with the package.
    let (source, _) = PackageSource::read_apk(spool, file, name, limits, |held| {
        charge.reduce_to(READER_WINDOW.saturating_add(held));
    })
    .map_err(|source| Error::Package {
        package: name.to_string(),
        url: job.url.clone(),
        source: Box::new(source),
    })?;
    Ok(source)
}

//! An ordered parallel map for batches of I/O-bound jobs (fetching and reading packages): a few
//! scoped threads take jobs in order, results come back in job order, and the first failure in
//! job order is the one returned.
//!
//! After a failure no new job starts; jobs already running finish, so an earlier job's failure
//! still wins over a later one's. A job skipped that way is run afterwards on the calling thread
//! only if every job before it succeeded, which cannot happen, but costs nothing to honour.
//!
//! [`Budget`] bounds what jobs running at once hold in memory by bytes.
//!
//! Not for: CPU-bound pipelines with bounded memory (the layer compressor has its own).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

mod budget;

pub use budget::{Budget, Charge};

/// Runs `work` on every job with up to `workers` threads, each with its own state made by
/// `init` (a spool, a buffer); returns the results in job order or the first error in job order.
pub fn try_map<J, S, T, E>(
    jobs: &[J],
    workers: usize,
    init: impl Fn() -> Result<S, E> + Sync,
    work: impl Fn(&S, &J) -> Result<T, E> + Sync,
) -> Result<Vec<T>, E>
where
    J: Sync,
    T: Send,
    E: Send,
{
    let workers = workers.clamp(1, jobs.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<T, E>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    let record = |at: usize, outcome: Result<T, E>| {
        let failed = outcome.is_err();
        if let Ok(mut results) = results.lock()
            && let Some(slot) = results.get_mut(at)
        {
            *slot = Some(outcome);
        }
        if failed {
            next.fetch_max(jobs.len(), Ordering::Relaxed);
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let state = match init() {
                    Ok(state) => state,
                    Err(e) => {
                        // Reported in the place of the job this worker would have taken.
                        record(next.fetch_add(1, Ordering::Relaxed), Err(e));
                        return;
                    }
                };
                loop {
                    let at = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(at) else {
                        break;
                    };
                    record(at, work(&state, job));
                }
            });
        }
    });
    let results = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut done = Vec::with_capacity(jobs.len());
    for (job, result) in jobs.iter().zip(results) {
        match result {
            Some(result) => done.push(result?),
            None => done.push(work(&init()?, job)?),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::try_map;

    #[test]
    fn results_keep_job_order() {
        let jobs: Vec<u32> = (0..100).collect();
        let doubled = try_map(&jobs, 4, || Ok::<_, String>(()), |(), j| Ok(j * 2));
        assert_eq!(doubled, Ok(jobs.iter().map(|j| j * 2).collect::<Vec<_>>()));
    }

    #[test]
    fn the_first_failure_in_job_order_wins() {
        let jobs: Vec<u32> = (0..50).collect();
        let result = try_map(
            &jobs,
            3,
            || Ok(()),
            |(), &j| if j == 7 || j == 30 { Err(j) } else { Ok(j) },
        );
        assert_eq!(result, Err(7));
    }

    #[test]
    fn a_failing_init_is_an_error_and_empty_input_is_fine() {
        let jobs = [1, 2, 3];
        let result: Result<Vec<i32>, &str> = try_map(&jobs, 2, || Err("no spool"), |(), &j| Ok(j));
        assert_eq!(result, Err("no spool"));
        let none: Result<Vec<i32>, &str> = try_map(&[], 2, || Ok(()), |(), &j: &i32| Ok(j));
        assert_eq!(none, Ok(vec![]));
    }
}

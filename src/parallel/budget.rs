//! [`Budget`]: a byte budget shared by jobs running at once, so that what they hold in memory
//! together is bounded by bytes rather than by how many of them run.
//!
//! A job takes a [`Charge`] for the most it may hold before it starts, waiting while the budget
//! cannot cover it, and gives back what it learns it will not need (a package reader charges the
//! largest control member apko accepts, then keeps only what the real one takes). A charge larger
//! than the whole budget waits until nothing else is charged and then runs alone, so no job
//! waits forever and the bytes in flight never exceed the larger of the budget and one charge.
//!
//! Not for: scheduling (the workers of [`super::try_map`] stay as many as asked) or memory that
//! outlives a job (what a job returns is the caller's).

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// Bytes that jobs running at once may hold together.
#[derive(Debug)]
pub struct Budget {
    limit: u64,
    state: Mutex<State>,
    freed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Bytes charged now.
    charged: u64,
    /// The most ever charged at once, for tests and benches to check the bound.
    peak: u64,
}

impl Budget {
    /// A budget of `limit` bytes.
    pub fn new(limit: u64) -> Budget {
        Budget {
            limit,
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
        }
    }

    /// The budget's size in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The most bytes ever charged at once.
    pub fn peak(&self) -> u64 {
        self.lock().peak
    }

    /// Charges `bytes`, waiting until they fit beside what is charged already (or, for a charge
    /// larger than the budget, until nothing else is charged).
    pub fn charge(&self, bytes: u64) -> Charge<'_> {
        let mut state = self.lock();
        while state.charged > 0 && state.charged.saturating_add(bytes) > self.limit {
            state = self
                .freed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.charged = state.charged.saturating_add(bytes);
        state.peak = state.peak.max(state.charged);
        Charge {
            budget: self,
            bytes,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is two counters, consistent between statements: a panic elsewhere cannot
        // leave it half-changed.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn give_back(&self, bytes: u64) {
        if bytes == 0 {
            return;
        }
        let mut state = self.lock();
        state.charged = state.charged.saturating_sub(bytes);
        drop(state);
        self.freed.notify_all();
    }
}

/// Bytes charged to a [`Budget`], given back when dropped.
#[derive(Debug)]
pub struct Charge<'a> {
    budget: &'a Budget,
    bytes: u64,
}

impl Charge<'_> {
    /// The bytes charged now.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Keeps at most `bytes` of the charge and gives the rest back (a charge never grows:
    /// growing could wait on jobs that wait on this one).
    pub fn reduce_to(&mut self, bytes: u64) {
        let returned = self.bytes.saturating_sub(bytes);
        self.bytes -= returned;
        self.budget.give_back(returned);
    }
}

impl Drop for Charge<'_> {
    fn drop(&mut self) {
        self.budget.give_back(self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::Budget;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    /// Many threads charging different amounts at once: the bytes held together, counted by the
    /// jobs themselves (not by the budget), never pass the limit, and every job runs.
    #[test]
    fn jobs_together_never_hold_more_than_the_budget() {
        let budget = Budget::new(100);
        let held = AtomicU64::new(0);
        let most = AtomicU64::new(0);
        let done = AtomicU64::new(0);
        std::thread::scope(|scope| {
            for thread in 0..8u64 {
                let (budget, held, most, done) = (&budget, &held, &most, &done);
                scope.spawn(move || {
                    for round in 0..50u64 {
                        let bytes = 10 + (thread * 7 + round * 13) % 50;
                        let _charge = budget.charge(bytes);
                        let now = held.fetch_add(bytes, Ordering::SeqCst) + bytes;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_micros(200));
                        held.fetch_sub(bytes, Ordering::SeqCst);
                        done.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
        assert_eq!(done.load(Ordering::SeqCst), 8 * 50);
        let most = most.load(Ordering::SeqCst);
        assert!(most <= 100, "jobs held {most} bytes at once, budget 100");
        assert!(budget.peak() <= 100 && budget.peak() >= most);
        assert!(most > 59, "jobs never overlapped (most at once {most})");
    }

    /// A charge larger than the whole budget runs, alone: it waits for the others to finish and
    /// nothing else starts while it holds the budget.
    #[test]
    fn a_charge_larger_than_the_budget_runs_alone() {
        let budget = Budget::new(10);
        let small = budget.charge(4);
        std::thread::scope(|scope| {
            let big = scope.spawn(|| {
                let big = budget.charge(50);
                assert_eq!(budget.peak(), 50, "the large charge ran beside another");
                big.bytes()
            });
            std::thread::sleep(Duration::from_millis(50));
            assert_eq!(budget.peak(), 4, "the large charge did not wait");
            drop(small);
            assert_eq!(big.join().ok(), Some(50));
        });
    }

    /// Giving back part of a charge lets a waiting job start before the first one ends.
    #[test]
    fn reducing_a_charge_lets_a_waiting_job_start() {
        let budget = Budget::new(10);
        let mut first = budget.charge(8);
        std::thread::scope(|scope| {
            let second = scope.spawn(|| budget.charge(6).bytes());
            std::thread::sleep(Duration::from_millis(50));
            assert_eq!(budget.peak(), 8, "the second job started over budget");
            first.reduce_to(3);
            assert_eq!(first.bytes(), 3);
            assert_eq!(second.join().ok(), Some(6));
            assert_eq!(budget.peak(), 9);
        });
        drop(first);
        let all = budget.charge(10);
        assert_eq!(all.bytes(), 10, "charges were not given back");
    }
}

//! The reporter the CLI installs into [`crate::progress`]: tasks of one kind (every package
//! download, every layer compressed) add up into one aggregate, shown as one byte bar on a
//! terminal (count, total, percentage when every total is known, rate) or summed up in plain
//! lines otherwise.
//!
//! An aggregate stays open until the command ends, so many small packages (and the several
//! architectures and builds of one command) make one bar rather than hundreds; closing it
//! leaves a summary line. Plain lines: one line per finished push,
//! pull, compression or comparison (few and large, worth a line in a CI log) and one summary
//! per aggregate of downloads and installs (many and small).
//!
//! Not for: the step spinner and warnings (the parent module), what is counted (the library).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressStyle};

use super::Style;
use crate::progress::{Kind, Meter, Reporter};

/// Aggregates by kind, drawn on `multi` (a terminal) or printed as lines.
#[derive(Debug)]
pub struct Board {
    style: Style,
    multi: Option<MultiProgress>,
    open: Mutex<BTreeMap<Kind, Arc<Aggregate>>>,
}

impl Board {
    pub(super) fn new(style: Style, multi: Option<MultiProgress>) -> Board {
        Board {
            style,
            multi,
            open: Mutex::new(BTreeMap::new()),
        }
    }

    /// Prints `line` above the bars (or as a line).
    pub(super) fn println(&self, line: &str) {
        match &self.multi {
            Some(multi) => multi.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    /// Sums up and removes every aggregate (the command's work is done).
    pub(super) fn close(&self) {
        let closing =
            std::mem::take(&mut *self.open.lock().unwrap_or_else(PoisonError::into_inner));
        for aggregate in closing.into_values() {
            let summary = aggregate.summary();
            match (&aggregate.bar, summary) {
                // Printed above the live bars rather than left as a finished bar: a finished
                // bar stays in the drawn region, which a later redraw would move over whatever
                // the command printed after it.
                (Some(bar), summary) => {
                    bar.finish_and_clear();
                    if let Some(summary) = summary {
                        self.println(&summary);
                    }
                }
                (None, Some(summary)) if !per_task_lines(aggregate.kind) => eprintln!("{summary}"),
                (None, _) => {}
            }
        }
    }

    fn aggregate(&self, kind: Kind) -> Arc<Aggregate> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.entry(kind)
            .or_insert_with(|| {
                let (bar, color) = match (&self.multi, self.style) {
                    (Some(multi), Style::Bars { color }) => {
                        (Some(multi.add(ProgressBar::new(0))), color)
                    }
                    _ => (None, false),
                };
                Arc::new(Aggregate {
                    kind,
                    bar,
                    color,
                    started: Instant::now(),
                    tasks: AtomicU64::new(0),
                    active: AtomicU64::new(0),
                    total: AtomicU64::new(0),
                    unknown: AtomicU64::new(0),
                    counted: AtomicU64::new(0),
                    percent: AtomicBool::new(false),
                    styled: AtomicBool::new(false),
                })
            })
            .clone()
    }
}

impl Reporter for Board {
    fn start(&self, kind: Kind, name: &str, total: Option<u64>) -> Box<dyn Meter> {
        let aggregate = self.aggregate(kind);
        let tasks = aggregate.tasks.fetch_add(1, Ordering::AcqRel) + 1;
        aggregate.active.fetch_add(1, Ordering::AcqRel);
        match total {
            Some(total) => aggregate.grow(total),
            None => {
                aggregate.unknown.fetch_add(1, Ordering::AcqRel);
            }
        }
        aggregate.restyle();
        if let Some(bar) = &aggregate.bar {
            let (one, many) = kind.items();
            let items = if tasks == 1 { one } else { many };
            bar.set_message(format!("{} {tasks} {items}: {}", kind.doing(), short(name)));
        }
        Box::new(Task {
            aggregate,
            name: name.to_owned(),
            total: AtomicU64::new(total.unwrap_or(0)),
            counted: AtomicU64::new(0),
            started: Instant::now(),
        })
    }
}

/// Whether plain lines report each task of `kind` rather than only a summary.
fn per_task_lines(kind: Kind) -> bool {
    !matches!(kind, Kind::Download | Kind::Install)
}

/// The tasks of one kind since the aggregate opened.
#[derive(Debug)]
struct Aggregate {
    kind: Kind,
    bar: Option<ProgressBar>,
    color: bool,
    started: Instant,
    tasks: AtomicU64,
    active: AtomicU64,
    /// Sum of the known totals (less what ended tasks did not count).
    total: AtomicU64,
    /// Tasks whose total is not known: no percentage while there are any.
    unknown: AtomicU64,
    counted: AtomicU64,
    percent: AtomicBool,
    styled: AtomicBool,
}

impl Aggregate {
    fn grow(&self, by: u64) {
        self.total.fetch_add(by, Ordering::AcqRel);
        if let Some(bar) = &self.bar {
            bar.inc_length(by);
        }
    }

    fn shrink(&self, by: u64) {
        let total = self
            .total
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                Some(t.saturating_sub(by))
            })
            .unwrap_or(0)
            .saturating_sub(by);
        if let Some(bar) = &self.bar {
            bar.set_length(total);
        }
    }

    /// A bar with a percentage once every total is known, counts and rate until then.
    fn restyle(&self) {
        let Some(bar) = &self.bar else {
            return;
        };
        let percent = self.unknown.load(Ordering::Acquire) == 0;
        let was = self.percent.swap(percent, Ordering::AcqRel);
        if self.styled.swap(true, Ordering::AcqRel) && was == percent {
            return;
        }
        let template = match (percent, self.color) {
            (true, true) => {
                "{msg:40!} {bar:30.cyan/blue} {bytes}/{total_bytes} {percent:>3}% {bytes_per_sec}"
            }
            (true, false) => {
                "{msg:40!} {bar:30} {bytes}/{total_bytes} {percent:>3}% {bytes_per_sec}"
            }
            (false, _) => "{msg:40!} {bytes} {bytes_per_sec}",
        };
        bar.set_style(
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
    }

    /// `downloaded 12 files: 3.4 MiB in 1.2 s (2.8 MiB/s)`; `None` when nothing was counted.
    fn summary(&self) -> Option<String> {
        let counted = self.counted.load(Ordering::Acquire);
        if counted == 0 {
            return None;
        }
        let tasks = self.tasks.load(Ordering::Acquire);
        let (one, many) = self.kind.items();
        let items = if tasks == 1 { one } else { many };
        Some(format!(
            "{} {tasks} {items}: {}",
            self.kind.done(),
            amount(counted, self.started.elapsed())
        ))
    }
}

/// One task's share of an aggregate.
struct Task {
    aggregate: Arc<Aggregate>,
    name: String,
    total: AtomicU64,
    counted: AtomicU64,
    started: Instant,
}

impl Meter for Task {
    fn advance(&self, bytes: u64) {
        self.counted.fetch_add(bytes, Ordering::AcqRel);
        self.aggregate.counted.fetch_add(bytes, Ordering::AcqRel);
        if let Some(bar) = &self.aggregate.bar {
            bar.inc(bytes);
        }
    }

    fn set_total(&self, total: u64) {
        // Only the first total counts: a retried pull announces the same one again.
        if self
            .total
            .compare_exchange(0, total, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.aggregate.grow(total);
            self.aggregate.unknown.fetch_sub(1, Ordering::AcqRel);
            self.aggregate.restyle();
        }
    }

    fn finish(&self) {
        let counted = self.counted.load(Ordering::Acquire);
        let total = self.total.load(Ordering::Acquire);
        // A task that ended short (a blob already present, a failure) no longer holds the
        // percentage back.
        if total > counted {
            self.aggregate.shrink(total - counted);
        }
        self.aggregate.active.fetch_sub(1, Ordering::AcqRel);
        if self.aggregate.bar.is_none() && per_task_lines(self.aggregate.kind) && counted > 0 {
            eprintln!(
                "{} {}: {}",
                self.aggregate.kind.done(),
                short(&self.name),
                amount(counted, self.started.elapsed())
            );
        }
    }
}

/// `3.4 MiB in 1.2 s (2.8 MiB/s)`.
fn amount(bytes: u64, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    if seconds <= 0.0 {
        return format!("{} in {seconds:.1} s", HumanBytes(bytes));
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "a rate for people, rounded"
    )]
    let rate = (bytes as f64 / seconds) as u64;
    format!(
        "{} in {seconds:.1} s ({}/s)",
        HumanBytes(bytes),
        HumanBytes(rate)
    )
}

/// What a person needs of a task's name: a URL's file name, a digest's first 12 hex digits.
fn short(name: &str) -> &str {
    if let Some(hex) = name.strip_prefix("sha256:") {
        return name.get(..7 + 12.min(hex.len())).unwrap_or(name);
    }
    if name.contains("://") {
        return name.rsplit('/').next().unwrap_or(name);
    }
    name
}

#[cfg(test)]
mod tests {
    use super::{amount, short};
    use std::time::Duration;

    #[test]
    fn names_are_shortened_to_what_a_person_reads() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(short(&digest), "sha256:abababababab");
        assert_eq!(
            short("http://127.0.0.1:9/repo/x86_64/busybox-1.36.1-r0.apk"),
            "busybox-1.36.1-r0.apk"
        );
        assert_eq!(short("layer"), "layer");
        assert_eq!(
            amount(3 << 20, Duration::from_secs(2)),
            "3.00 MiB in 2.0 s (1.50 MiB/s)"
        );
    }
}

//! A [`Reporter`] that keeps every task it is given, for tests and for tools that want the
//! numbers rather than bars: what ran, its total when known, the bytes counted, whether it ended.
//!
//! Not for: showing progress to a person (`cli::progress`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::{Kind, Meter, Reporter};

/// One task as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// What kind of work.
    pub kind: Kind,
    /// The name it was started with.
    pub name: String,
    /// The total given at the start or later, if any.
    pub total: Option<u64>,
    /// Bytes counted.
    pub counted: u64,
    /// Whether the task ended.
    pub finished: bool,
}

/// Records tasks; [`Recorder::records`] reads them.
#[derive(Debug, Default)]
pub struct Recorder {
    tasks: Mutex<Vec<Arc<Shared>>>,
}

#[derive(Debug)]
struct Shared {
    kind: Kind,
    name: String,
    total: AtomicU64,
    counted: AtomicU64,
    finished: AtomicBool,
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Arc<Recorder> {
        Arc::new(Recorder::default())
    }

    /// Every task so far, in start order.
    pub fn records(&self) -> Vec<Record> {
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|task| Record {
                kind: task.kind,
                name: task.name.clone(),
                total: Some(task.total.load(Ordering::Acquire)).filter(|&t| t > 0),
                counted: task.counted.load(Ordering::Acquire),
                finished: task.finished.load(Ordering::Acquire),
            })
            .collect()
    }

    /// The tasks of one kind.
    pub fn of(&self, kind: Kind) -> Vec<Record> {
        self.records()
            .into_iter()
            .filter(|record| record.kind == kind)
            .collect()
    }
}

impl Reporter for Recorder {
    fn start(&self, kind: Kind, name: &str, total: Option<u64>) -> Box<dyn Meter> {
        let shared = Arc::new(Shared {
            kind,
            name: name.to_owned(),
            total: AtomicU64::new(total.unwrap_or(0)),
            counted: AtomicU64::new(0),
            finished: AtomicBool::new(false),
        });
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(shared.clone());
        Box::new(RecordMeter(shared))
    }
}

struct RecordMeter(Arc<Shared>);

impl Meter for RecordMeter {
    fn advance(&self, bytes: u64) {
        self.0.counted.fetch_add(bytes, Ordering::AcqRel);
    }

    fn set_total(&self, total: u64) {
        self.0.total.store(total, Ordering::Release);
    }

    fn finish(&self) {
        self.0.finished.store(true, Ordering::Release);
    }
}

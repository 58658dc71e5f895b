//! A progress facade for long library work (downloads, installs, compression, pushes, pulls,
//! comparisons), in the spirit of the `log` crate: library code reports byte counts through
//! [`task`], and whoever runs the process installs a [`Reporter`] that shows them.
//!
//! Without a reporter every call is a no-op costing one atomic load, so hooks can sit on hot
//! paths. A hook is one or two lines at the call site:
//!
//! ```
//! use receipts::progress::{self, Kind};
//! let task = progress::task(Kind::Download, "example-cli-2.1.0-r1.apk", 4096);
//! task.advance(1024); // or wrap an I/O object: `task.reader(file)`, `task.writer(sink)`
//! ```
//!
//! A task ends when its last clone is dropped. The reporter is process-wide, like a logger; its
//! meters are called from whatever thread does the work, so they must be `Send + Sync`. Tests
//! that install a recording reporter run in a process of their own (see `tests/progress.rs`),
//! since parallel tests in one process would report into it too.
//!
//! Depends on nothing of ours (floor 0).
//!
//! Not for: rendering (`cli::progress` draws bars or lines), phase messages and warnings (the
//! CLI prints those), results (the library returns them).

use std::fmt::Display;
use std::io::{self, BufRead, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

pub mod record;

/// What kind of work a task counts bytes of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Fetching a package, an index or a key over the network (bytes received).
    Download,
    /// Reading a package's archive into the root filesystem (bytes of the `.apk` read).
    Install,
    /// Compressing a layer (uncompressed tar bytes in).
    Compress,
    /// Uploading a blob to a registry (bytes sent).
    Push,
    /// Fetching a blob from a registry (bytes received).
    Pull,
    /// Reading a layer to compare it with its rebuild (compressed bytes read).
    Compare,
}

impl Kind {
    /// Every kind, in the order the work usually happens.
    pub const ALL: [Kind; 6] = [
        Kind::Download,
        Kind::Install,
        Kind::Compress,
        Kind::Push,
        Kind::Pull,
        Kind::Compare,
    ];

    /// The present participle a person reads while it runs (`downloading`).
    pub fn doing(self) -> &'static str {
        match self {
            Kind::Download => "downloading",
            Kind::Install => "installing",
            Kind::Compress => "compressing",
            Kind::Push => "pushing",
            Kind::Pull => "pulling",
            Kind::Compare => "comparing",
        }
    }

    /// The past tense for a summary (`downloaded`).
    pub fn done(self) -> &'static str {
        match self {
            Kind::Download => "downloaded",
            Kind::Install => "installed",
            Kind::Compress => "compressed",
            Kind::Push => "pushed",
            Kind::Pull => "pulled",
            Kind::Compare => "compared",
        }
    }

    /// What one task of this kind is called, singular and plural (`file`, `files`).
    pub fn items(self) -> (&'static str, &'static str) {
        match self {
            Kind::Download => ("file", "files"),
            Kind::Install => ("package", "packages"),
            Kind::Compress | Kind::Compare => ("layer", "layers"),
            Kind::Push | Kind::Pull => ("blob", "blobs"),
        }
    }
}

/// Shows tasks: made by the program (the CLI), installed with [`install`].
pub trait Reporter: Send + Sync {
    /// A task begins: `total` bytes when known.
    fn start(&self, kind: Kind, name: &str, total: Option<u64>) -> Box<dyn Meter>;
}

/// One task's byte count, as a [`Reporter`] keeps it.
pub trait Meter: Send + Sync {
    /// `bytes` more are done.
    fn advance(&self, bytes: u64);
    /// The total became known after the start (a response's `Content-Length`).
    fn set_total(&self, total: u64);
    /// The task ended (successfully or not); called once.
    fn finish(&self);
}

/// Installed reporters, newest last (the one in use), each with its guard's number.
static REPORTERS: RwLock<Vec<(u64, Arc<dyn Reporter>)>> = RwLock::new(Vec::new());
/// Whether a reporter is installed: the fast path of [`task`] without one.
static INSTALLED: AtomicBool = AtomicBool::new(false);
static NEXT_GUARD: AtomicU64 = AtomicU64::new(0);

/// Makes `reporter` receive every task started from now on, until the returned guard is
/// dropped, which puts back the reporter that was in use before.
#[must_use = "the reporter is removed when the guard is dropped"]
pub fn install(reporter: Arc<dyn Reporter>) -> Installed {
    let guard = NEXT_GUARD.fetch_add(1, Ordering::Relaxed);
    let mut reporters = REPORTERS.write().unwrap_or_else(PoisonError::into_inner);
    reporters.push((guard, reporter));
    INSTALLED.store(true, Ordering::Release);
    Installed { guard }
}

/// Keeps a reporter installed; dropping it removes that reporter, whichever order guards are
/// dropped in (the newest remaining one is then in use, or none).
pub struct Installed {
    guard: u64,
}

impl Drop for Installed {
    fn drop(&mut self) {
        let mut reporters = REPORTERS.write().unwrap_or_else(PoisonError::into_inner);
        reporters.retain(|(guard, _)| *guard != self.guard);
        INSTALLED.store(!reporters.is_empty(), Ordering::Release);
    }
}

impl std::fmt::Debug for Installed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Installed").finish_non_exhaustive()
    }
}

/// Starts a task of `kind` named `name` (a package file, a digest) of `total` bytes (`None`
/// or `0`: unknown). Without a reporter this does nothing, not even format `name`.
pub fn task(kind: Kind, name: impl Display, total: impl Into<Option<u64>>) -> Task {
    if !INSTALLED.load(Ordering::Acquire) {
        return Task { meter: None };
    }
    let reporter = REPORTERS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .last()
        .map(|(_, reporter)| reporter.clone());
    let meter = reporter.map(|reporter| {
        let total = total.into().filter(|&total| total > 0);
        Arc::new(Ending(reporter.start(kind, &name.to_string(), total)))
    });
    Task { meter }
}

/// A running task: count bytes with [`Task::advance`] or an adaptor; it ends when the last
/// clone is dropped.
#[derive(Clone, Default)]
pub struct Task {
    meter: Option<Arc<Ending>>,
}

impl Task {
    /// `bytes` more are done.
    pub fn advance(&self, bytes: u64) {
        if let Some(meter) = &self.meter {
            meter.0.advance(bytes);
        }
    }

    /// The total is now known to be `total` bytes.
    pub fn set_total(&self, total: impl Into<Option<u64>>) {
        if let (Some(meter), Some(total)) = (&self.meter, total.into())
            && total > 0
        {
            meter.0.set_total(total);
        }
    }

    /// `inner`, counting every byte read through it (or consumed, as a `BufRead`).
    pub fn reader<R>(&self, inner: R) -> Counting<R> {
        Counting {
            inner,
            task: self.clone(),
        }
    }

    /// `inner`, counting every byte written through it.
    pub fn writer<W>(&self, inner: W) -> Counting<W> {
        Counting {
            inner,
            task: self.clone(),
        }
    }
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task")
            .field("reported", &self.meter.is_some())
            .finish()
    }
}

/// Calls [`Meter::finish`] once, when the last [`Task`] clone goes.
struct Ending(Box<dyn Meter>);

impl Drop for Ending {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// A reader or writer that reports the bytes through it to a [`Task`].
#[derive(Debug)]
pub struct Counting<T> {
    inner: T,
    task: Task,
}

impl<T> Counting<T> {
    /// The wrapped reader or writer.
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// The wrapped reader or writer, borrowed.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let count = self.inner.read(buffer)?;
        self.task.advance(count as u64);
        Ok(count)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, count: usize) {
        self.task.advance(count as u64);
        self.inner.consume(count);
    }
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let count = self.inner.write(bytes)?;
        self.task.advance(count as u64);
        Ok(count)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead as _, Read as _, Write as _};

    use super::record::Recorder;
    use super::{Kind, install, task};

    // Other tests in this process may start tasks while a recorder is installed: each test
    // looks only at the tasks it named. The tests here install reporters of their own, so they
    // take turns, or one's tasks could land in the other's recorder.
    static TURNS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn turn() -> std::sync::MutexGuard<'static, ()> {
        TURNS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn named<'a>(
        records: &'a [super::record::Record],
        name: &'a str,
    ) -> impl Iterator<Item = &'a super::record::Record> {
        records.iter().filter(move |record| record.name == name)
    }

    #[test]
    fn adaptors_count_exactly_the_bytes_through_them_and_the_task_ends_with_its_last_clone() {
        let _turn = turn();
        let recorder = Recorder::new();
        let installed = install(recorder.clone());
        let content: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        {
            let task = task(Kind::Download, "facade-test-reader", content.len() as u64);
            let mut copy = Vec::new();
            task.reader(content.as_slice())
                .read_to_end(&mut copy)
                .unwrap();
            assert_eq!(copy, content);
            let mut sink = task.writer(Vec::new());
            sink.write_all(&content[..10]).unwrap();
            let unfinished = recorder.records();
            let record = named(&unfinished, "facade-test-reader").next().unwrap();
            assert!(!record.finished, "a live clone keeps the task open");
        }
        {
            let task = task(Kind::Pull, "facade-test-bufread", None);
            task.set_total(Some(7));
            let mut lines = task.reader(&b"one\ntwo\n"[..]);
            let mut first = String::new();
            lines.read_line(&mut first).unwrap();
            assert_eq!(first, "one\n");
            lines.fill_buf().unwrap();
        }
        drop(installed);
        let records = recorder.records();
        let reader: Vec<_> = named(&records, "facade-test-reader").collect();
        assert_eq!(reader.len(), 1);
        assert_eq!(reader[0].counted, content.len() as u64 + 10);
        assert_eq!(reader[0].total, Some(content.len() as u64));
        assert!(reader[0].finished);
        let lines: Vec<_> = named(&records, "facade-test-bufread").collect();
        assert_eq!(lines[0].counted, 4, "only what was consumed");
        assert_eq!(lines[0].total, Some(7));
        assert!(lines[0].finished);
    }

    #[test]
    fn dropping_a_guard_removes_its_reporter_and_the_one_before_is_used_again() {
        let _turn = turn();
        let outer = Recorder::new();
        let outer_guard = install(outer.clone());
        let inner = Recorder::new();
        drop(install(inner.clone()));
        task(Kind::Compress, "facade-test-after-inner", 3).advance(3);
        drop(outer_guard);
        let outer_records = outer.records();
        let inner_records = inner.records();
        assert_eq!(named(&outer_records, "facade-test-after-inner").count(), 1);
        assert_eq!(named(&inner_records, "facade-test-after-inner").count(), 0);

        // Guards dropped out of order remove their own reporter, not the other's.
        let first = Recorder::new();
        let second = Recorder::new();
        let first_guard = install(first.clone());
        let second_guard = install(second.clone());
        drop(first_guard);
        task(Kind::Push, "facade-test-out-of-order", 1).advance(1);
        drop(second_guard);
        task(Kind::Push, "facade-test-after-both", 1).advance(1);
        let (first, second) = (first.records(), second.records());
        assert_eq!(named(&second, "facade-test-out-of-order").count(), 1);
        assert_eq!(named(&first, "facade-test-out-of-order").count(), 0);
        assert_eq!(named(&first, "facade-test-after-both").count(), 0);
        assert_eq!(named(&second, "facade-test-after-both").count(), 0);
    }
}

//! Scratch files and directories that leave nothing behind: removed when dropped, removed by a
//! SIGINT/SIGTERM/SIGHUP handler, and swept by a later run after a SIGKILL.
//!
//! Every scratch path is named `<prefix><pid>-<random><suffix>` and holds an exclusive `flock`
//! for its whole life (on a descriptor kept open beside the caller's), so a sweeper can tell a
//! live owner's file (lock held) from a dead one's (lock free and the named pid gone, or lock
//! free and older than [`GRACE`] when the pid was reused). While it exists the path is listed in
//! a process-wide registry; [`install_signal_cleanup`] starts a thread that, on a terminating
//! signal, removes every listed path and exits `128 + signal` as shells expect.
//! [`File::persist`] and [`Dir::persist`] rename under the registry's lock, so a signal never
//! removes a path half-way through being renamed into place.
//!
//! The registry is a `static`: a signal handler has no other way to find what to remove, and
//! the set is the process's by nature (one set of files per process, whatever called it).
//!
//! Not for: where a command puts its scratch area (the CLI chooses: the download cache's `tmp`
//! or beside the output), what goes into the files (their owners: `build::layer`,
//! `oci::layout`).

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime};

/// How old an unlocked scratch path of a live-looking pid must be before a sweep removes it:
/// the pid was reused (or the owner lost its lock, which ours never do).
pub const GRACE: Duration = Duration::from_secs(600);

/// Paths to remove on a terminating signal.
fn registry() -> MutexGuard<'static, BTreeSet<PathBuf>> {
    static REGISTERED: OnceLock<Mutex<BTreeSet<PathBuf>>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| Mutex::new(BTreeSet::new()))
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Installs (once per process) the handler that removes every registered scratch path on
/// SIGINT, SIGTERM or SIGHUP and exits with `128 + signal` (130, 143, 129).
pub fn install_signal_cleanup() -> io::Result<()> {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    if INSTALLED.get().is_some() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
        std::thread::Builder::new()
            .name("scratch-cleanup".into())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    let paths = registry();
                    for path in paths.iter() {
                        remove_path(path);
                    }
                    // The guard stays held: no rename into place can start after the removal.
                    std::process::exit(128 + signal);
                }
            })?;
    }
    let _ = INSTALLED.set(());
    Ok(())
}

/// Removes every registered path now (for a caller about to exit without unwinding).
pub fn remove_registered() {
    for path in registry().iter() {
        remove_path(path);
    }
}

fn remove_path(path: &Path) {
    match fs::symlink_metadata(path) {
        Ok(metadata) if metadata.is_dir() => {
            let _ = fs::remove_dir_all(path);
        }
        Ok(_) => {
            let _ = fs::remove_file(path);
        }
        Err(_) => {}
    }
}

/// A name no other scratch path of this process or any other has: prefix, pid, random part.
fn fresh_name(prefix: &str, suffix: &str) -> io::Result<String> {
    let mut random = [0u8; 6];
    getrandom::fill(&mut random).map_err(|e| io::Error::other(e.to_string()))?;
    Ok(format!(
        "{prefix}{}-{}{suffix}",
        std::process::id(),
        hex::encode(random)
    ))
}

/// A scratch file: created exclusively, locked, registered; removed when dropped unless
/// persisted.
#[derive(Debug)]
pub struct File {
    file: fs::File,
    path: Owned,
}

/// A scratch path this process owns: registered, its lock held on a descriptor of its own;
/// dropping it removes the path. What a file's writer leaves behind once the file is closed.
#[derive(Debug)]
pub struct Owned {
    path: PathBuf,
    _lock: Option<fs::File>,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
}

impl File {
    /// Creates `<dir>/<prefix><pid>-<random><suffix>` (mode 0600), locked and registered.
    pub fn create_in(dir: &Path, prefix: &str, suffix: &str) -> io::Result<File> {
        loop {
            let path = dir.join(fresh_name(prefix, suffix)?);
            let mut registered = registry();
            let file = match fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(file) => file,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            };
            registered.insert(path.clone());
            drop(registered);
            // Dropping `owned` on an error below removes the file again.
            let mut owned = Owned {
                path,
                _lock: None,
                kind: Kind::File,
            };
            let lock = file.try_clone()?;
            try_lock(&lock)?;
            owned._lock = Some(lock);
            return Ok(File { file, path: owned });
        }
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path.path
    }

    /// The open file.
    pub fn as_file(&self) -> &fs::File {
        &self.file
    }

    /// The open file, for writing.
    pub fn as_file_mut(&mut self) -> &mut fs::File {
        &mut self.file
    }

    /// The open file and the guard of its path (lock, registration, removal on drop).
    pub fn into_parts(self) -> (fs::File, Owned) {
        (self.file, self.path)
    }

    /// Renames the file to `to` (replacing what is there) and gives up ownership of it.
    pub fn persist(self, to: &Path) -> io::Result<()> {
        self.path.persist_releasing(to, &mut Provisional::default())
    }

    /// As [`File::persist`], and in the same step (no signal in between) releases
    /// `provisional`: the paths the renamed file makes permanent.
    pub fn persist_releasing(self, to: &Path, provisional: &mut Provisional) -> io::Result<()> {
        self.path.persist_releasing(to, provisional)
    }
}

/// Paths a write is about to create and that a terminating signal must remove until the write
/// commits (blobs before the `index.json` that names them). Dropping it, or committing through
/// [`File::persist_releasing`], stops that without removing anything.
#[derive(Debug, Default)]
pub struct Provisional {
    paths: Vec<PathBuf>,
}

impl Provisional {
    /// Registers `path` for removal on a terminating signal.
    pub fn add(&mut self, path: PathBuf) {
        registry().insert(path.clone());
        self.paths.push(path);
    }

    fn release(&mut self, registered: &mut BTreeSet<PathBuf>) {
        for path in self.paths.drain(..) {
            registered.remove(&path);
        }
    }
}

impl Drop for Provisional {
    fn drop(&mut self) {
        if !self.paths.is_empty() {
            let mut registered = registry();
            self.release(&mut registered);
        }
    }
}

impl Owned {
    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames to `to` under the registry's lock and forgets the path.
    pub fn persist(self, to: &Path) -> io::Result<()> {
        self.persist_releasing(to, &mut Provisional::default())
    }

    fn persist_releasing(self, to: &Path, provisional: &mut Provisional) -> io::Result<()> {
        let mut registered = registry();
        if let Err(error) = fs::rename(&self.path, to) {
            drop(registered); // before `self`, whose drop takes the registry again
            return Err(error);
        }
        registered.remove(&self.path);
        provisional.release(&mut registered);
        drop(registered);
        let mut this = self;
        // An empty path tells `Drop` there is nothing left to remove.
        this.path = PathBuf::new();
        Ok(())
    }
}

impl std::ops::Deref for Owned {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for Owned {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        if self.path.as_os_str().is_empty() {
            return;
        }
        let mut registered = registry();
        match self.kind {
            Kind::File => {
                let _ = fs::remove_file(&self.path);
            }
            Kind::Dir => {
                let _ = fs::remove_dir_all(&self.path);
            }
        }
        registered.remove(&self.path);
    }
}

/// A scratch directory: created, locked, registered; removed with its contents when dropped
/// unless persisted.
#[derive(Debug)]
pub struct Dir {
    path: Owned,
}

impl Dir {
    /// Creates `<parent>/<prefix><pid>-<random>/`, locked and registered.
    pub fn create_in(parent: &Path, prefix: &str) -> io::Result<Dir> {
        loop {
            let path = parent.join(fresh_name(prefix, "")?);
            let mut registered = registry();
            match fs::create_dir(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
            registered.insert(path.clone());
            drop(registered);
            let mut owned = Owned {
                path,
                _lock: None,
                kind: Kind::Dir,
            };
            let lock = fs::File::open(&owned.path)?;
            try_lock(&lock)?;
            owned._lock = Some(lock);
            return Ok(Dir { path: owned });
        }
    }

    /// Where the directory is.
    pub fn path(&self) -> &Path {
        &self.path.path
    }

    /// Renames the directory to `to` (which must not exist, or be empty) and gives it up.
    pub fn persist(self, to: &Path) -> io::Result<()> {
        self.path.persist(to)
    }
}

/// What a sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Swept {
    /// Paths removed (files, or directories with their contents).
    pub removed: Vec<PathBuf>,
    /// Paths of dead owners that could not be removed, with the reason.
    pub failed: Vec<(PathBuf, String)>,
}

/// Whether the scratch path `path` (named `<prefix><pid>-…`) belongs to nobody alive: its lock
/// is free, and its pid is gone or it is older than [`GRACE`].
pub fn abandoned(path: &Path, prefix: &str) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let Some(pid) = name
        .strip_prefix(prefix)
        .and_then(|rest| rest.split_once('-'))
        .and_then(|(pid, _)| pid.parse::<u32>().ok())
    else {
        return false;
    };
    let Ok(handle) = fs::File::open(path) else {
        return false;
    };
    if try_lock(&handle).is_err() {
        return false;
    }
    if !alive(pid) {
        return true;
    }
    let age = fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|modified| SystemTime::now().duration_since(modified).ok());
    age.is_some_and(|age| age > GRACE)
}

/// Removes every abandoned scratch path named `<prefix>…`, for any of `prefixes`, directly in
/// `dir` (see [`abandoned`]). A missing `dir` has nothing to sweep.
pub fn sweep(dir: &Path, prefixes: &[&str]) -> Swept {
    let mut swept = Swept::default();
    let Ok(entries) = fs::read_dir(dir) else {
        return swept;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let Some(prefix) = name
            .to_str()
            .and_then(|name| prefixes.iter().find(|p| name.starts_with(**p)))
        else {
            continue;
        };
        if !abandoned(&path, prefix) {
            continue;
        }
        let result = match entry.file_type() {
            Ok(kind) if kind.is_dir() => fs::remove_dir_all(&path),
            _ => fs::remove_file(&path),
        };
        match result {
            Ok(()) => swept.removed.push(path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => swept.failed.push((path, e.to_string())),
        }
    }
    swept
}

/// Whether a process with this pid exists (signal 0 reaches it, or it is someone else's).
#[cfg(unix)]
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks that the process exists; it touches no memory.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn alive(_pid: u32) -> bool {
    true
}

/// `flock(LOCK_EX | LOCK_NB)`: fails with `WouldBlock` when another descriptor holds it.
pub fn try_lock(file: &fs::File) -> io::Result<()> {
    flock(file, true)
}

/// `flock(LOCK_EX)`, waiting; the lock goes with the file descriptor when it is closed (or the
/// process dies), so a killed holder never wedges the others. Layouts and the package cache
/// lock through this one. (`File::lock` would do, but is newer than the crate's minimum Rust.)
pub fn lock(file: &fs::File) -> io::Result<()> {
    flock(file, false)
}

#[cfg(unix)]
fn flock(file: &fs::File, nonblocking: bool) -> io::Result<()> {
    use std::os::fd::AsRawFd as _;
    let operation = if nonblocking {
        libc::LOCK_EX | libc::LOCK_NB
    } else {
        libc::LOCK_EX
    };
    loop {
        // SAFETY: flock takes a descriptor we own for the call and an operation constant; it
        // touches no memory of ours.
        let result = unsafe { libc::flock(file.as_raw_fd(), operation) };
        if result == 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// Without `flock`, nothing is locked.
#[cfg(not(unix))]
fn flock(_file: &fs::File, _nonblocking: bool) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_owners_file_is_kept_and_a_dead_ones_is_swept() {
        let dir = tempfile::tempdir().unwrap();
        let file = File::create_in(dir.path(), ".t-", ".x").unwrap();
        assert!(!abandoned(file.path(), ".t-"), "locked by us");
        assert!(sweep(dir.path(), &[".t-"]).removed.is_empty());
        // A dead owner: a pid that cannot exist (above pid_max) and no lock.
        let dead = dir.path().join(".t-4294967-abc.x");
        fs::write(&dead, b"left").unwrap();
        let swept = sweep(dir.path(), &[".t-"]);
        assert_eq!(swept.removed, vec![dead]);
        let kept = file.path().to_owned();
        drop(file);
        assert!(!kept.exists(), "dropping removes the file");
    }

    #[test]
    fn persisting_gives_the_file_up() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = File::create_in(dir.path(), ".t-", "").unwrap();
        io::Write::write_all(file.as_file_mut(), b"kept").unwrap();
        let target = dir.path().join("final");
        file.persist(&target).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"kept");
        assert!(!registry().iter().any(|p| p.starts_with(dir.path())));
    }
}

//! APKINDEX: the text format of a repository's package list.
//!
//! Not for: fetching indexes ([`super::repository`]) or installing packages.
//! Reproduces apko `ParsePackageIndex` (reference/apko-format.md §4.2).

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

use base64::Engine as _;

use super::package::Package;

/// Why an APKINDEX cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A numeric field does not hold a number.
    #[error("APKINDEX line {line}: field {field}: {value:?} is not a number")]
    Number {
        /// 1-based line number.
        line: usize,
        /// The field letter.
        field: char,
        /// The offending value.
        value: String,
    },
    /// A line is longer than apko's scanner accepts.
    #[error("APKINDEX line {line}: longer than {MAX_LINE} bytes")]
    LineTooLong {
        /// 1-based line number.
        line: usize,
    },
    /// A line is not `X:value`.
    #[error("APKINDEX line {line}: expected `X:value`, saw {text:?}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// The start of the offending line.
        text: String,
    },
    /// A `C:Q1…` checksum is not base64.
    #[error("APKINDEX line {line}: checksum {value:?} is not base64")]
    Checksum {
        /// 1-based line number.
        line: usize,
        /// The offending value.
        value: String,
    },
    /// The text is not UTF-8.
    #[error("APKINDEX line {line}: not valid UTF-8")]
    Utf8 {
        /// 1-based line number.
        line: usize,
    },
}

/// apko's bufio.Scanner buffer: longer lines are an error.
pub const MAX_LINE: usize = 1 << 20;

/// A parsed package index (the `APKINDEX` text and its `DESCRIPTION`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Index {
    /// The `DESCRIPTION` entry, when the archive had one.
    pub description: String,
    /// Packages in file order.
    pub packages: Vec<Package>,
}

fn bytecount_newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

fn split_list(value: &str) -> Vec<String> {
    if value.is_empty() {
        Vec::new()
    } else {
        value.split(' ').map(str::to_owned).collect()
    }
}

/// Below this size an index is parsed on the calling thread alone.
const PARALLEL_MIN: usize = 256 * 1024;

/// Parses the text of an `APKINDEX` entry. Records without `P:` are dropped, as in apko.
///
/// Large indexes are cut at a blank line near the middle and the halves parsed on two threads:
/// a blank line ends a record and resets the parser, so the halves parse exactly as the whole
/// would, and the first error in file order is the one reported.
pub fn parse_text(text: &[u8]) -> Result<Vec<Package>, Error> {
    let split = (text.len() >= PARALLEL_MIN)
        .then(|| {
            let middle = text.len() / 2;
            text.get(middle..)?
                .windows(2)
                .position(|pair| pair == b"\n\n")
                .map(|at| middle + at + 2)
        })
        .flatten();
    let Some(split) = split else {
        return parse_records(text, 0);
    };
    let (first, second) = text.split_at(split);
    let first_lines = bytecount_newlines(first);
    let (head, tail) = std::thread::scope(|scope| {
        let tail = scope.spawn(|| parse_records(second, first_lines));
        (parse_records(first, 0), tail.join())
    });
    let mut packages = head?;
    match tail {
        Ok(tail) => packages.extend(tail?),
        // A panic is a bug in this parser, not bad input; parse on one thread to report it.
        Err(_) => return parse_records(text, 0),
    }
    Ok(packages)
}

/// How much decompressed text [`parse_from`] hands to its parser at a time.
const CHUNK: usize = 256 * 1024;

/// Why [`parse_from`] failed: its source, or the text.
#[derive(Debug)]
pub enum StreamError {
    /// Reading the source failed (its error, unchanged).
    Read(std::io::Error),
    /// The text is not a valid APKINDEX.
    Text(Error),
}

/// Parses `APKINDEX` text while it is being read (decompressed, typically), cut at blank lines
/// so that every piece parses as it would within the whole. Returns the packages and how many
/// bytes were read; a read error wins over a text error, as it would if the text were read first
/// and parsed after.
///
/// A helper thread parses pieces while this one reads; once reading ends, this thread parses
/// whatever the helper has not taken. It never waits for the helper to start, only for a piece
/// the helper is in the middle of, so on a busy machine, where a new thread may not run for a
/// while, this costs no more than reading and then parsing on one thread.
pub fn parse_from<R: std::io::Read>(mut source: R) -> Result<(Vec<Package>, u64), StreamError> {
    let shared = Arc::new(Pieces::default());
    let helper = Arc::clone(&shared);
    // Detached: it ends by itself once the queue is closed and empty.
    let spawned = std::thread::Builder::new()
        .name("apkindex-parse".into())
        .spawn(move || while helper.parse_next(true) {});
    let read = read_pieces(&mut source, &shared);
    shared.close();
    while shared.parse_next(false) {}
    if spawned.is_ok() {
        shared.wait_idle();
    }
    let total = read.map_err(StreamError::Read)?;
    let results = std::mem::take(&mut shared.lock().results);
    let mut packages = Vec::new();
    for result in results {
        match result {
            Some(Ok(parsed)) => packages.extend(parsed),
            Some(Err(error)) => return Err(StreamError::Text(error)),
            // Every piece was parsed by one thread or the other before the queue ran dry.
            None => {}
        }
    }
    Ok((packages, total))
}

/// The pieces of text waiting to be parsed and the results, in piece order.
#[derive(Default)]
struct Pieces {
    state: Mutex<PieceState>,
    changed: Condvar,
}

#[derive(Default)]
struct PieceState {
    /// `(piece number, lines before it, text)`.
    waiting: VecDeque<(usize, usize, Vec<u8>)>,
    results: Vec<Option<Result<Vec<Package>, Error>>>,
    closed: bool,
    /// Pieces taken and not yet parsed.
    busy: usize,
}

impl Pieces {
    fn lock(&self) -> std::sync::MutexGuard<'_, PieceState> {
        // A panic while parsing is a bug; the state itself is always consistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn push(&self, lines: usize, text: Vec<u8>) {
        let mut state = self.lock();
        let number = state.results.len();
        state.results.push(None);
        state.waiting.push_back((number, lines, text));
        self.changed.notify_all();
    }

    fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }

    /// Parses one waiting piece; `false` when there is none (and, with `wait`, none will come).
    fn parse_next(&self, wait: bool) -> bool {
        let mut state = self.lock();
        let (number, lines, text) = loop {
            if let Some(piece) = state.waiting.pop_front() {
                break piece;
            }
            if state.closed || !wait {
                return false;
            }
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        };
        state.busy += 1;
        drop(state);
        let parsed = parse_records(&text, lines);
        let mut state = self.lock();
        if let Some(slot) = state.results.get_mut(number) {
            *slot = Some(parsed);
        }
        state.busy -= 1;
        self.changed.notify_all();
        true
    }

    /// Waits until no piece is being parsed (the queue is already empty and closed).
    fn wait_idle(&self) {
        let mut state = self.lock();
        while state.busy > 0 {
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

/// Reads `source` to its end, queueing everything up to the last blank line of what has been
/// read whenever at least [`CHUNK`] bytes are waiting; returns the bytes read.
fn read_pieces<R: std::io::Read>(source: &mut R, pieces: &Pieces) -> std::io::Result<u64> {
    let mut total = 0u64;
    let mut lines = 0;
    let mut pending: Vec<u8> = Vec::with_capacity(CHUNK * 2);
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = match source.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        total += read as u64;
        pending.extend_from_slice(buffer.get(..read).unwrap_or(&[]));
        if pending.len() < CHUNK {
            continue;
        }
        let cut = pending
            .windows(2)
            .rposition(|pair| pair == b"\n\n")
            .map(|at| at + 2);
        if let Some(cut) = cut {
            let rest = pending.split_off(cut);
            let piece = std::mem::replace(&mut pending, rest);
            pending.reserve(CHUNK * 2);
            let before = lines;
            lines += bytecount_newlines(&piece);
            pieces.push(before, piece);
        }
    }
    if !pending.is_empty() {
        pieces.push(lines, pending);
    }
    Ok(total)
}

/// Parses whole lines; `line_offset` is the number of lines before `text` in the index.
fn parse_records(text: &[u8], line_offset: usize) -> Result<Vec<Package>, Error> {
    // One validation pass over the whole text is far cheaper than one per line; the error still
    // names the line, counted up to the first invalid byte.
    let text = std::str::from_utf8(text).map_err(|error| Error::Utf8 {
        line: line_offset + 1 + bytecount_newlines(text.get(..error.valid_up_to()).unwrap_or(text)),
    })?;
    // Real indexes average ~400 bytes a record; reserving avoids most regrowth.
    let mut packages = Vec::with_capacity(text.len() / 400);
    let mut current = Package::default();
    // `str::split(char)` finds newlines with memchr; the piece after a final newline is no line.
    let body = text.strip_suffix('\n').unwrap_or(text);
    for (index, raw) in body.split('\n').enumerate() {
        let line_number = line_offset + index + 1;
        if raw.len() > MAX_LINE {
            return Err(Error::LineTooLong { line: line_number });
        }
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.is_empty() {
            if !current.name.is_empty() {
                packages.push(std::mem::take(&mut current));
            } else {
                current = Package::default();
            }
            continue;
        }
        let (key, value) = match line.as_bytes() {
            // Byte 1 being ':' makes byte 0 a whole ASCII character, so slicing at 2 is safe.
            [key, b':', ..] => (*key, &line[2..]),
            _ => {
                return Err(Error::Malformed {
                    line: line_number,
                    text: line.chars().take(80).collect(),
                });
            }
        };
        let number = |field: char| Error::Number {
            line: line_number,
            field,
            value: value.to_owned(),
        };
        match key {
            b'P' => current.name = value.to_owned(),
            b'V' => current.version = value.to_owned(),
            b'A' => current.arch = value.to_owned(),
            b'L' => current.license = value.to_owned(),
            b'T' => current.description = value.to_owned(),
            b'o' => current.origin = value.to_owned(),
            b'm' => current.maintainer = value.to_owned(),
            b'U' => current.url = value.to_owned(),
            b'D' => current.dependencies = split_list(value),
            b'p' => current.provides = split_list(value),
            b'i' => current.install_if = split_list(value),
            b'c' => current.commit = value.to_owned(),
            b't' => current.build_time = value.parse().map_err(|_| number('t'))?,
            b'S' => current.size = value.parse().map_err(|_| number('S'))?,
            b'I' => current.installed_size = value.parse().map_err(|_| number('I'))?,
            b'k' => current.provider_priority = value.parse().map_err(|_| number('k'))?,
            b'C' => {
                // Only the Q1 (SHA-1) form is decoded; apko ignores any other.
                if let Some(encoded) = value.strip_prefix("Q1") {
                    current.checksum = base64::engine::general_purpose::STANDARD
                        .decode(encoded)
                        .map_err(|_| Error::Checksum {
                            line: line_number,
                            value: value.to_owned(),
                        })?;
                }
            }
            _ => {}
        }
    }
    // apko keeps a record only when a blank line ends it; a last record without one is dropped.
    Ok(packages)
}

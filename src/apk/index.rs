//! APKINDEX: the text format of a repository's package list.
//!
//! The text is parsed in pieces cut at blank lines (a blank line ends a record and resets the
//! parser, so a piece parses exactly as it would within the whole). Each piece becomes one
//! shared buffer, and every string of every record parsed from it is a [`Text`] range of that
//! buffer: a record costs a few allocations (its lists and checksum), not one per field.
//!
//! Not for: fetching indexes ([`super::repository`]), the signed archive around the text
//! ([`super::signed`]) or installing packages.
//! Reproduces apko `ParsePackageIndex` (reference/apko-format.md §4.2).

use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Condvar, Mutex};

use base64::Engine as _;

use super::package::{Package, Text};

/// Why an APKINDEX cannot be read.
#[derive(Debug, Clone, thiserror::Error)]
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

impl Error {
    /// The same error in a piece that follows `lines` lines of the index.
    fn after_lines(mut self, lines: usize) -> Error {
        match &mut self {
            Error::Number { line, .. }
            | Error::LineTooLong { line }
            | Error::Malformed { line, .. }
            | Error::Checksum { line, .. }
            | Error::Utf8 { line } => *line += lines,
        }
        self
    }
}

/// Below this size an index is parsed on the calling thread alone.
const PARALLEL_MIN: usize = 256 * 1024;

/// Parses the text of an `APKINDEX` entry. Records without `P:` are dropped, as in apko.
///
/// Large indexes are cut at a blank line near the middle and the halves parsed on two threads;
/// the first error in file order is the one reported.
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
        return parse_piece(text.to_vec()).map(|parsed| parsed.packages);
    };
    let (first, second) = text.split_at(split);
    let (head, tail) = std::thread::scope(|scope| {
        let tail = scope.spawn(|| parse_piece(second.to_vec()));
        (parse_piece(first.to_vec()), tail.join())
    });
    let head = head?;
    let tail = match tail {
        Ok(tail) => tail.map_err(|error| error.after_lines(head.lines))?,
        // A panic is a bug in this parser, not bad input; parse on one thread to report it.
        Err(_) => return parse_piece(text.to_vec()).map(|parsed| parsed.packages),
    };
    let mut packages = head.packages;
    packages.extend(tail.packages);
    Ok(packages)
}

/// How much decompressed text [`parse_from`] hands to its parser at a time.
const CHUNK: usize = 128 * 1024;

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
/// A helper thread parses pieces while this one reads, and moves each piece's records onto the
/// end of the one list the index returns as soon as the pieces before it are there: the records
/// are written once into memory the helper has already touched, not gathered from a list per
/// piece after reading ends (that copy, and the page faults of its fresh memory, cost about a
/// millisecond of the reader's time on Alpine's index). Once reading ends, this thread parses
/// and appends every piece not yet appended, including one the helper is in the middle of: it
/// never waits for the helper, so on a busy machine, where the helper may not run for a while,
/// this costs at most one piece more than reading and then parsing on one thread.
pub fn parse_from<R: Read>(mut source: R) -> Result<(Vec<Package>, u64), StreamError> {
    let shared = Arc::new(Pieces::default());
    let helper = Arc::clone(&shared);
    // Detached: it ends by itself once the queue is closed and empty, and whatever it is still
    // parsing then is no longer needed.
    let _ = std::thread::Builder::new()
        .name("apkindex-parse".into())
        .spawn(move || {
            let mut scratch = Vec::new();
            while helper.parse_next(&mut scratch) {}
        });
    let read = read_pieces(&mut source, &shared);
    let parsed = shared.finish();
    let total = read.map_err(StreamError::Read)?;
    Ok((parsed.map_err(StreamError::Text)?, total))
}

/// A piece of text: its validated buffer, or the line of its first invalid byte.
type Piece = Result<Arc<String>, Error>;

/// The pieces of text waiting to be parsed, and the records of those parsed so far, in order.
#[derive(Default)]
struct Pieces {
    state: Mutex<PieceState>,
    changed: Condvar,
}

#[derive(Default)]
struct PieceState {
    /// Every piece so far, in order.
    pieces: Vec<Piece>,
    /// Pieces not yet taken by the helper, by number.
    waiting: VecDeque<usize>,
    closed: bool,
    /// The records of pieces `0..appended`, in order.
    packages: Vec<Package>,
    appended: usize,
    /// The lines of pieces `0..appended`, to number an error in a later piece.
    lines: usize,
    /// The first error in piece order; nothing is appended after it.
    failed: Option<Error>,
}

impl PieceState {
    /// Appends the outcome of parsing piece `number` (its records in `parsed`, which is left
    /// empty) if it is the next piece to append; an outcome already appended is dropped.
    fn append(&mut self, number: usize, parsed: Result<usize, Error>, records: &mut Vec<Package>) {
        if number != self.appended || self.failed.is_some() {
            records.clear();
            return;
        }
        match parsed {
            Ok(lines) => {
                self.packages.append(records);
                self.lines += lines;
                self.appended += 1;
            }
            Err(error) => {
                records.clear();
                self.failed = Some(error.after_lines(self.lines));
            }
        }
    }
}

impl Pieces {
    fn lock(&self) -> std::sync::MutexGuard<'_, PieceState> {
        // A panic while parsing is a bug; the state itself is always consistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn push(&self, text: Vec<u8>) {
        let piece = String::from_utf8(text).map(Arc::new).map_err(|error| {
            let valid = error.utf8_error().valid_up_to();
            let before = error.as_bytes().get(..valid).unwrap_or(&[]);
            Error::Utf8 {
                line: 1 + memchr::memchr_iter(b'\n', before).count(),
            }
        });
        let mut state = self.lock();
        let number = state.pieces.len();
        state.pieces.push(piece);
        state.waiting.push_back(number);
        self.changed.notify_all();
    }

    /// The helper's loop body: parses the next waiting piece into `scratch` and appends it;
    /// `false` once there is none and none will come.
    fn parse_next(&self, scratch: &mut Vec<Package>) -> bool {
        let mut state = self.lock();
        let (number, piece) = loop {
            if let Some(number) = state.waiting.pop_front()
                && let Some(piece) = state.pieces.get(number).cloned()
            {
                break (number, piece);
            }
            if state.closed {
                return false;
            }
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        };
        drop(state);
        let parsed = piece.and_then(|buffer| parse_records(&buffer, scratch));
        self.lock().append(number, parsed, scratch);
        true
    }

    /// Closes the queue, parses and appends on this thread every piece not yet appended, and
    /// returns the records (or the first error in piece order).
    fn finish(&self) -> Result<Vec<Package>, Error> {
        let mut state = self.lock();
        state.closed = true;
        state.waiting.clear();
        self.changed.notify_all();
        let mut scratch = Vec::new();
        loop {
            let number = state.appended;
            let piece = match state.pieces.get(number).cloned() {
                Some(piece) if state.failed.is_none() => piece,
                _ => break,
            };
            drop(state);
            let parsed = piece.and_then(|buffer| parse_records(&buffer, &mut scratch));
            state = self.lock();
            state.append(number, parsed, &mut scratch);
        }
        // Later work of the helper finds the state failed or past its piece and is dropped.
        state.appended = usize::MAX;
        match state.failed.take() {
            Some(error) => Err(error),
            None => Ok(std::mem::take(&mut state.packages)),
        }
    }
}

/// How much [`read_pieces`] asks its source for at a time.
const READ_STEP: u64 = 64 * 1024;

/// Reads `source` to its end, queueing everything up to the last blank line of what has been
/// read whenever at least [`CHUNK`] bytes are waiting; returns the bytes read.
fn read_pieces<R: Read>(source: &mut R, pieces: &Pieces) -> std::io::Result<u64> {
    let mut total = 0u64;
    let mut pending: Vec<u8> = Vec::with_capacity(CHUNK * 2);
    loop {
        // Straight into the pending text: no intermediate buffer to copy from.
        let read = source.by_ref().take(READ_STEP).read_to_end(&mut pending)?;
        if read == 0 {
            break;
        }
        total += read as u64;
        if pending.len() < CHUNK {
            continue;
        }
        let cut = memchr::memmem::rfind(&pending, b"\n\n").map(|at| at + 2);
        if let Some(cut) = cut {
            let mut rest = Vec::with_capacity(CHUNK * 2);
            rest.extend_from_slice(pending.get(cut..).unwrap_or(&[]));
            pending.truncate(cut);
            pieces.push(std::mem::replace(&mut pending, rest));
        }
    }
    if !pending.is_empty() {
        pieces.push(pending);
    }
    Ok(total)
}

/// The packages of one piece of text and the number of lines it holds.
#[derive(Default)]
struct Parsed {
    packages: Vec<Package>,
    lines: usize,
}

/// Parses one piece; errors count lines from the start of the piece.
fn parse_piece(text: Vec<u8>) -> Result<Parsed, Error> {
    // One validation pass over the whole piece is far cheaper than one per line; the error still
    // names the line, counted up to the first invalid byte.
    let text = String::from_utf8(text).map_err(|error| {
        let valid = error.utf8_error().valid_up_to();
        let before = error.as_bytes().get(..valid).unwrap_or(&[]);
        Error::Utf8 {
            line: 1 + memchr::memchr_iter(b'\n', before).count(),
        }
    })?;
    let mut packages = Vec::new();
    let lines = parse_records(&Arc::new(text), &mut packages)?;
    Ok(Parsed { packages, lines })
}

/// Parses whole lines of `buffer` into `packages` (emptied first) and returns how many lines
/// ended in a newline; every string of the records is a range of `buffer`.
///
/// Lines are as apko's scanner sees them: split at `\n`, one trailing `\r` dropped, and no line
/// after a final `\n`. Positions are byte offsets; every cut is at an ASCII byte, so every range
/// is a valid string.
fn parse_records(buffer: &Arc<String>, packages: &mut Vec<Package>) -> Result<usize, Error> {
    let text = buffer.as_str();
    let bytes = text.as_bytes();
    packages.clear();
    // Real indexes average ~400 bytes a record; reserving avoids most regrowth.
    packages.reserve(text.len() / 400 + 1);
    // The record being read is built in place as the last package, so it is never moved.
    let mut open = false;
    let mut line = 0;
    let mut newlines = 0;
    let mut at = 0;
    // A text without any byte still holds one (empty) line, as `str::split` would see it.
    while at < bytes.len() || (at == 0 && line == 0) {
        line += 1;
        let end = match memchr::memchr(b'\n', bytes.get(at..).unwrap_or(&[])) {
            Some(offset) => {
                newlines += 1;
                at + offset
            }
            None => bytes.len(),
        };
        let start = at;
        at = end + 1;
        if end - start > MAX_LINE {
            return Err(Error::LineTooLong { line });
        }
        let end = if end > start && bytes.get(end - 1) == Some(&b'\r') {
            end - 1
        } else {
            end
        };
        if end == start {
            // A blank line ends the record; one without a name is dropped.
            if open && packages.last().is_some_and(|p: &Package| p.name.is_empty()) {
                packages.pop();
            }
            open = false;
            continue;
        }
        let key = match bytes.get(start..start + 2) {
            Some([key, b':']) if end >= start + 2 => *key,
            _ => {
                return Err(Error::Malformed {
                    line,
                    text: text
                        .get(start..end)
                        .unwrap_or("")
                        .chars()
                        .take(80)
                        .collect(),
                });
            }
        };
        // Byte 1 being ':' makes byte 0 a whole ASCII character, so the value starts at a
        // character boundary.
        let value_start = start + 2;
        if !open {
            packages.push(Package::default());
            open = true;
        }
        let Some(current) = packages.last_mut() else {
            continue;
        };
        set_field(current, key, buffer, value_start, end, line)?;
    }
    // apko keeps a record only when a blank line ends it; a last record without one is dropped.
    if open {
        packages.pop();
    }
    Ok(newlines)
}

/// Sets the field `key` of `current` from the value at `start..end` of `buffer` (line `line`,
/// for errors). Unknown keys are ignored, as apko ignores them.
#[inline]
fn set_field(
    current: &mut Package,
    key: u8,
    buffer: &Arc<String>,
    start: usize,
    end: usize,
    line: usize,
) -> Result<(), Error> {
    let shared = || Text::shared(buffer, start, end);
    let value = buffer.get(start..end).unwrap_or("");
    let number = |field: char| Error::Number {
        line,
        field,
        value: value.to_owned(),
    };
    match key {
        b'P' => current.name = shared(),
        b'V' => current.version = shared(),
        b'A' => current.arch = shared(),
        b'L' => current.license = shared(),
        b'T' => current.description = shared(),
        b'o' => current.origin = shared(),
        b'm' => current.maintainer = shared(),
        b'U' => current.url = shared(),
        b'D' => current.dependencies = list(buffer, start, end),
        b'p' => current.provides = list(buffer, start, end),
        b'i' => current.install_if = list(buffer, start, end),
        b'c' => current.commit = shared(),
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
                        line,
                        value: value.to_owned(),
                    })?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A space-separated list (`D:`, `p:`, `i:`) as ranges of `buffer`; empty words are kept, as
/// Go's `strings.Split` keeps them.
fn list(buffer: &Arc<String>, start: usize, end: usize) -> Vec<Text> {
    if start == end {
        return Vec::new();
    }
    let bytes = buffer.as_bytes().get(start..end).unwrap_or(&[]);
    // Most lists have a handful of words: one allocation, rarely regrown.
    let mut words = Vec::with_capacity(4);
    let mut word_start = start;
    for space in memchr::memchr_iter(b' ', bytes) {
        words.push(Text::shared(buffer, word_start, start + space));
        word_start = start + space + 1;
    }
    words.push(Text::shared(buffer, word_start, end));
    words
}

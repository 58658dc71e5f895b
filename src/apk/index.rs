//! APKINDEX: the text format of a repository's package list.
//!
//! Not for: fetching indexes ([`super::repository`]) or installing packages.
//! Reproduces apko `ParsePackageIndex` (reference/apko-format.md §4.2).

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

/// Parses `APKINDEX` text while it is being read (decompressed, typically): this thread reads,
/// another parses what has been read so far, cut at blank lines so that every piece parses as
/// it would within the whole. Returns the packages and how many bytes were read; a read error
/// wins over a text error, as it would if the text were read first and parsed after.
pub fn parse_from<R: std::io::Read>(mut source: R) -> Result<(Vec<Package>, u64), StreamError> {
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
    std::thread::scope(|scope| {
        let parser = scope.spawn(move || {
            let mut packages = Vec::new();
            let mut lines = 0;
            let mut failure = None;
            for piece in receiver {
                if failure.is_none() {
                    match parse_records(&piece, lines) {
                        Ok(parsed) => packages.extend(parsed),
                        Err(error) => failure = Some(error),
                    }
                    lines += bytecount_newlines(&piece);
                }
            }
            match failure {
                Some(error) => Err(error),
                None => Ok(packages),
            }
        });
        let read = read_pieces(&mut source, &sender);
        drop(sender);
        let parsed = parser.join();
        let total = read.map_err(StreamError::Read)?;
        match parsed {
            Ok(packages) => Ok((packages.map_err(StreamError::Text)?, total)),
            // A panic is a bug in this parser, not bad input; it surfaces as one.
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Reads `source` to its end, sending everything up to the last blank line of what has been
/// read whenever at least [`CHUNK`] bytes are waiting; returns the bytes read.
fn read_pieces<R: std::io::Read>(
    source: &mut R,
    sender: &std::sync::mpsc::SyncSender<Vec<u8>>,
) -> std::io::Result<u64> {
    let mut total = 0u64;
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
            // A closed receiver means the parser stopped; reading on still counts the bytes.
            let _ = sender.send(piece);
        }
    }
    if !pending.is_empty() {
        let _ = sender.send(pending);
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

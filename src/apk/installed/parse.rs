//! Reads an installed database back into records: apko's own and apk-tools' (which orders
//! the package lines differently and writes modes without the leading zero).
//!
//! Not for: writing records (`record`).
//! Follows apko `pkg/apk/apk/installed.go` `ParseInstalled` for what counts as a record (a
//! blank line ends it; a record without `P:` or without a final blank line is dropped), but
//! keeps what apko's parser loses: `M:`/`a:` ownership and modes and `Z:` checksums.

use super::{EntryKind, Error, FileEntry};
use crate::apk::Package;
use base64::Engine as _;

/// One package's record: its package lines and its file lines in database order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The package fields the record carries (`C:` as the raw control checksum).
    pub package: Package,
    /// Directories (`F:`) and other entries (`R:`), with paths joined to their directory.
    pub files: Vec<FileEntry>,
}

/// Parses a whole `installed` file.
pub fn parse(text: &[u8]) -> Result<Vec<Record>, Error> {
    let mut records = Vec::new();
    let mut current = Builder::default();
    // Lines as Go's bufio.ScanLines yields them: a final newline does not start another line.
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    for (index, raw_line) in text.split(|&c| c == b'\n').enumerate() {
        let line_number = index + 1;
        let line = raw_line.strip_suffix(b"\r").unwrap_or(raw_line);
        let line = std::str::from_utf8(line).map_err(|_| Error::Line {
            line: line_number,
            what: "not UTF-8",
        })?;
        if line.is_empty() {
            let finished = std::mem::take(&mut current);
            if !finished.package.name.is_empty() {
                records.push(finished.into_record());
            }
            continue;
        }
        current.line(line, line_number)?;
    }
    Ok(records)
}

#[derive(Default)]
struct Builder {
    package: Package,
    files: Vec<FileEntry>,
    /// Index in `files` of the last `F:` (None for the bare top-level `F:`), if any.
    dir: Option<Option<usize>>,
    /// Index in `files` of the last `R:` since the last `F:`.
    file: Option<usize>,
}

impl Builder {
    fn into_record(self) -> Record {
        Record {
            package: self.package,
            files: self.files,
        }
    }

    fn line(&mut self, line: &str, line_number: usize) -> Result<(), Error> {
        let malformed = |what| Error::Line {
            line: line_number,
            what,
        };
        let bytes = line.as_bytes();
        if bytes.len() < 2 {
            return Err(malformed("expected \"<token>:<value>\""));
        }
        if bytes.get(1) != Some(&b':') {
            return Err(malformed("expected \":\" after the token"));
        }
        let (Some(token), Some(value)) = (line.get(..1), line.get(2..)) else {
            return Err(malformed("expected \"<token>:<value>\""));
        };
        match token {
            "F" | "M" | "R" | "a" | "Z" => self.file_line(token, value, line_number),
            _ => self.package_line(token, value, line_number),
        }
    }

    /// A package field (`P:`, `V:`, …); lines apko neither writes nor reads are skipped.
    fn package_line(&mut self, token: &str, value: &str, line_number: usize) -> Result<(), Error> {
        let number = |field: &'static str| {
            move |source| Error::Number {
                line: line_number,
                field,
                source,
            }
        };
        let p = &mut self.package;
        match token {
            "P" => p.name = value.into(),
            "V" => p.version = value.into(),
            "A" => p.arch = value.into(),
            "L" => p.license = value.into(),
            "T" => p.description = value.into(),
            "o" => p.origin = value.into(),
            "m" => p.maintainer = value.into(),
            "U" => p.url = value.into(),
            "c" => p.commit = value.into(),
            "D" => p.dependencies = words(value).into_iter().map(Into::into).collect(),
            "p" => p.provides = words(value).into_iter().map(Into::into).collect(),
            "r" => p.replaces = words(value),
            // apko writes a Go list (`[a b]`); apk-tools writes plain words.
            "i" => {
                let inner = value
                    .strip_prefix('[')
                    .and_then(|v| v.strip_suffix(']'))
                    .unwrap_or(value);
                p.install_if = words(inner).into_iter().map(Into::into).collect();
            }
            "t" => p.build_time = value.parse().map_err(number("t:"))?,
            "S" => p.size = value.parse().map_err(number("S:"))?,
            "I" => p.installed_size = value.parse().map_err(number("I:"))?,
            "k" => p.provider_priority = value.parse().map_err(number("k:"))?,
            "C" => {
                if let Some(b64) = value.strip_prefix("Q1") {
                    p.checksum = base64::engine::general_purpose::STANDARD
                        .decode(b64)
                        .map_err(|source| Error::Base64 {
                            line: line_number,
                            source,
                        })?;
                }
            }
            // apk-tools also writes lines apko neither writes nor reads (q:, f:, …).
            _ => {}
        }
        Ok(())
    }

    /// A file line: a directory (`F:`) and its permissions (`M:`), a file (`R:`) and its
    /// permissions (`a:`) or checksum (`Z:`).
    fn file_line(&mut self, token: &str, value: &str, line_number: usize) -> Result<(), Error> {
        let malformed = |what| Error::Line {
            line: line_number,
            what,
        };
        match token {
            "F" => {
                self.file = None;
                if value.is_empty() {
                    self.dir = Some(None);
                } else {
                    self.files.push(FileEntry {
                        path: value.to_owned(),
                        kind: EntryKind::Directory,
                        mode: 0o755,
                        uid: 0,
                        gid: 0,
                        checksum: None,
                    });
                    self.dir = Some(Some(self.files.len() - 1));
                }
            }
            "M" => {
                let dir = match self.dir {
                    None => return Err(malformed("M: without a directory")),
                    Some(None) => {
                        return Err(malformed("M: cannot apply to the top-level directory"));
                    }
                    Some(Some(dir)) => dir,
                };
                let (uid, gid, mode) = perms(value, line_number)?;
                if let Some(entry) = self.files.get_mut(dir) {
                    (entry.uid, entry.gid, entry.mode) = (uid, gid, mode);
                }
            }
            "R" => {
                let dir = match self.dir {
                    Some(Some(dir)) => self.files.get(dir).map(|d| d.path.clone()),
                    _ => None,
                };
                let path = match dir {
                    Some(dir) => format!("{dir}/{value}"),
                    None => value.to_owned(),
                };
                self.files.push(FileEntry {
                    path,
                    kind: EntryKind::File,
                    mode: 0o644,
                    uid: 0,
                    gid: 0,
                    checksum: None,
                });
                self.file = Some(self.files.len() - 1);
            }
            _ => {
                let entry = self
                    .file
                    .and_then(|i| self.files.get_mut(i))
                    .ok_or(malformed("a: or Z: without a file"))?;
                if token == "a" {
                    let (uid, gid, mode) = perms(value, line_number)?;
                    (entry.uid, entry.gid, entry.mode) = (uid, gid, mode);
                } else {
                    entry.checksum = Some(value.to_owned());
                }
            }
        }
        Ok(())
    }
}

/// Space-separated words; an empty value is an empty list.
fn words(value: &str) -> Vec<String> {
    if value.is_empty() {
        Vec::new()
    } else {
        value.split(' ').map(str::to_owned).collect()
    }
}

/// `<uid>:<gid>:<octal mode>`.
fn perms(value: &str, line: usize) -> Result<(i64, i64, i64), Error> {
    let mut parts = value.split(':');
    let (Some(uid), Some(gid), Some(mode), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::Line {
            line,
            what: "permissions need three ':'-separated parts",
        });
    };
    let number = |field: &'static str| {
        move |source| Error::Number {
            line,
            field,
            source,
        }
    };
    Ok((
        uid.parse().map_err(number("uid"))?,
        gid.parse().map_err(number("gid"))?,
        i64::from_str_radix(mode, 8).map_err(number("mode"))?,
    ))
}

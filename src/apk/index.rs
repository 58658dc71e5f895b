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

fn split_list(value: &str) -> Vec<String> {
    if value.is_empty() {
        Vec::new()
    } else {
        value.split(' ').map(str::to_owned).collect()
    }
}

/// Parses the text of an `APKINDEX` entry. Records without `P:` are dropped, as in apko.
pub fn parse_text(text: &[u8]) -> Result<Vec<Package>, Error> {
    let mut packages = Vec::new();
    let mut current = Package::default();
    let mut lines = text.split(|&b| b == b'\n').enumerate().peekable();
    while let Some((index, raw)) = lines.next() {
        let line_number = index + 1;
        // A final empty piece after the last newline is not a line.
        if raw.is_empty() && lines.peek().is_none() {
            break;
        }
        if raw.len() > MAX_LINE {
            return Err(Error::LineTooLong { line: line_number });
        }
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = std::str::from_utf8(raw).map_err(|_| Error::Utf8 { line: line_number })?;
        if line.is_empty() {
            if !current.name.is_empty() {
                packages.push(std::mem::take(&mut current));
            } else {
                current = Package::default();
            }
            continue;
        }
        let (key, value) = match line.as_bytes() {
            [_, b':', ..] => (&line[..1], &line[2..]),
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
            "P" => current.name = value.to_owned(),
            "V" => current.version = value.to_owned(),
            "A" => current.arch = value.to_owned(),
            "L" => current.license = value.to_owned(),
            "T" => current.description = value.to_owned(),
            "o" => current.origin = value.to_owned(),
            "m" => current.maintainer = value.to_owned(),
            "U" => current.url = value.to_owned(),
            "D" => current.dependencies = split_list(value),
            "p" => current.provides = split_list(value),
            "i" => current.install_if = split_list(value),
            "c" => current.commit = value.to_owned(),
            "t" => current.build_time = value.parse().map_err(|_| number('t'))?,
            "S" => current.size = value.parse().map_err(|_| number('S'))?,
            "I" => current.installed_size = value.parse().map_err(|_| number('I'))?,
            "k" => current.provider_priority = value.parse().map_err(|_| number('k'))?,
            "C" => {
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

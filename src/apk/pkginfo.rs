//! `.PKGINFO`: the control file describing one package, parsed with gopkg.in/ini.v1's quirks.
//!
//! Takes the bytes of `.PKGINFO`; returns the [`Package`] record and the package's triggers. Pure.
//!
//! Not for: reading the `.apk` file around it ([`super::archive`]) or APKINDEX text
//! ([`super::index`]). Reproduces apko `pkg/apk/types/package.go` `ParsePackageInfo` =
//! `ini.ShadowLoad` + `MapTo` (gopkg.in/ini.v1 `parser.go`, `key.go`, `struct.go`, v1.67;
//! reference/apko-format.md §5.4). Quirks kept on purpose: `key: value` works like `key = value`;
//! an inline comment is cut at the first `#` or `;` anywhere in a value; repeated identical
//! values of a list key collapse into one; list values are also split at commas; `%(key)s` is
//! replaced by another key's value; numbers use Go's base-0 syntax (`010` is 8).

mod go_syntax;

use std::collections::HashMap;

use super::package::{Package, Text};

/// Why a `.PKGINFO` cannot be read (where apko's parser fails too).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The text is not UTF-8.
    #[error(".PKGINFO line {line}: not valid UTF-8")]
    Utf8 {
        /// 1-based line number.
        line: usize,
    },
    /// A line is neither a comment, a section nor `key = value` (ini's `ErrDelimiterNotFound`).
    #[error(".PKGINFO line {line}: no `=` or `:` in {text:?}")]
    MissingDelimiter {
        /// 1-based line number.
        line: usize,
        /// The offending line.
        text: String,
    },
    /// A line starts with the delimiter, or a quoted key is empty.
    #[error(".PKGINFO line {line}: empty key name")]
    EmptyKeyName {
        /// 1-based line number.
        line: usize,
    },
    /// A key starting with a quote has no closing quote.
    #[error(".PKGINFO line {line}: key quote is not closed")]
    UnclosedKeyQuote {
        /// 1-based line number.
        line: usize,
    },
    /// A `"""` or backtick value runs to the end of the file.
    #[error(".PKGINFO line {line}: multi-line value quote is not closed")]
    UnclosedValueQuote {
        /// 1-based line number of the key.
        line: usize,
    },
    /// A `[section` line has no `]`.
    #[error(".PKGINFO line {line}: section header is not closed")]
    UnclosedSection {
        /// 1-based line number.
        line: usize,
    },
    /// A `[]` line.
    #[error(".PKGINFO line {line}: empty section name")]
    EmptySectionName {
        /// 1-based line number.
        line: usize,
    },
    /// A key repeats the name of an auto-increment (`-`) key, which ini.v1 refuses.
    #[error(".PKGINFO line {line}: key {key:?} repeats an auto-increment key")]
    ShadowOfAutoIncrement {
        /// 1-based line number.
        line: usize,
        /// The key name.
        key: String,
    },
    /// `size` or `provider_priority` holds a non-zero Go duration such as `1s`: ini.v1 then
    /// assigns a `time.Duration` to a `uint64` field, and apko panics.
    #[error(".PKGINFO field {field}: {value:?} is a duration, which apko cannot map")]
    DurationValue {
        /// The field name.
        field: &'static str,
        /// The offending value.
        value: String,
    },
    /// `%(key)s` substitutions grew a value beyond [`MAX_EXPANDED`].
    #[error(".PKGINFO field {field}: `%(key)s` substitution exceeds {MAX_EXPANDED} bytes")]
    ExpansionTooLong {
        /// The field name.
        field: String,
    },
}

/// Longest value that `%(key)s` substitution may produce. ini.v1 has no limit (a self-referencing
/// value doubles 99 times); we stop instead of exhausting memory.
pub const MAX_EXPANDED: usize = 1 << 20;

/// ini.v1 stops substituting after this many rounds (`depthValues`).
const SUBSTITUTION_ROUNDS: usize = 99;

const DEFAULT_SECTION: &str = "DEFAULT";

/// The content of a `.PKGINFO` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PkgInfo {
    /// The package record; `checksum` and `size` stay empty (they describe the `.apk` file).
    pub package: Package,
    /// `triggers`: directories whose changes run the package's `.trigger` script.
    pub triggers: Vec<String>,
}

#[derive(Debug, Default)]
struct Key {
    value: String,
    shadows: Vec<String>,
    auto_increment: bool,
}

/// ini.v1's `bufio.Reader.ReadBytes('\n')` loop: lines keep their `\n`; the last may lack it.
struct Lines<'a> {
    rest: &'a str,
    eof: bool,
    number: usize,
}

impl<'a> Lines<'a> {
    fn next_line(&mut self) -> &'a str {
        match self.rest.find('\n') {
            Some(end) => {
                let (line, rest) = self.rest.split_at(end + 1);
                self.rest = rest;
                self.number += 1;
                line
            }
            None => {
                let line = self.rest;
                self.rest = "";
                self.eof = true;
                if !line.is_empty() {
                    self.number += 1;
                }
                line
            }
        }
    }
}

/// Parses `.PKGINFO` text as apko does.
pub fn parse(text: &[u8]) -> Result<PkgInfo, Error> {
    let keys = load(strip_bom(text))?;
    map(&keys)
}

fn strip_bom(text: &[u8]) -> &[u8] {
    match text {
        [0xFE, 0xFF, rest @ ..] | [0xFF, 0xFE, rest @ ..] => rest,
        [0xEF, 0xBB, 0xBF, rest @ ..] => rest,
        _ => text,
    }
}

/// `ini.ShadowLoad`: the keys of the default section (other sections are parsed and dropped,
/// because `MapTo` on apko's flat struct only reads the default section).
fn load(text: &[u8]) -> Result<HashMap<String, Key>, Error> {
    let text = std::str::from_utf8(text).map_err(|e| Error::Utf8 {
        line: text
            .get(..e.valid_up_to())
            .map_or(0, |valid| valid.iter().filter(|&&b| b == b'\n').count())
            + 1,
    })?;
    let mut sections: HashMap<String, HashMap<String, Key>> = HashMap::new();
    let mut section = DEFAULT_SECTION.to_owned();
    let mut auto_count = 1usize;
    let mut lines = Lines {
        rest: text,
        eof: false,
        number: 0,
    };
    while !lines.eof {
        let raw = lines.next_line();
        let number = lines.number;
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if line.starts_with('[') {
            let close = line
                .rfind(']')
                .ok_or(Error::UnclosedSection { line: number })?;
            let name = line.get(1..close).unwrap_or("");
            if name.is_empty() {
                return Err(Error::EmptySectionName { line: number });
            }
            section = name.to_owned();
            auto_count = 1;
            continue;
        }
        let (name, offset) = read_key_name(line, number)?;
        let (name, auto_increment) = if name == "-" {
            let name = format!("#{auto_count}");
            auto_count += 1;
            (name, true)
        } else {
            (name.to_owned(), false)
        };
        let value = read_value(line.get(offset..).unwrap_or(""), &mut lines, number)?;
        if name.is_empty() {
            return Err(Error::EmptyKeyName { line: number });
        }
        let keys = sections.entry(section.clone()).or_default();
        match keys.get_mut(&name) {
            Some(key) => {
                if key.auto_increment {
                    return Err(Error::ShadowOfAutoIncrement {
                        line: number,
                        key: name,
                    });
                }
                if key.value != value && !key.shadows.contains(&value) {
                    key.shadows.push(value);
                }
                key.auto_increment = auto_increment;
            }
            None => {
                keys.insert(
                    name,
                    Key {
                        value,
                        shadows: Vec::new(),
                        auto_increment,
                    },
                );
            }
        }
    }
    Ok(sections.remove(DEFAULT_SECTION).unwrap_or_default())
}

/// ini.v1 `readKeyName` with delimiters `=:`: the key and the offset just past the delimiter.
fn read_key_name(line: &str, number: usize) -> Result<(&str, usize), Error> {
    const DELIMITERS: [char; 2] = ['=', ':'];
    let missing = || Error::MissingDelimiter {
        line: number,
        text: line.trim_end().chars().take(80).collect(),
    };
    let quote = if line.starts_with('"') {
        if line.len() > 6 && line.starts_with(r#"""""#) {
            r#"""""#
        } else {
            "\""
        }
    } else if line.starts_with('`') {
        "`"
    } else {
        ""
    };
    if quote.is_empty() {
        let end = line.find(DELIMITERS).ok_or_else(missing)?;
        if end == 0 {
            return Err(Error::EmptyKeyName { line: number });
        }
        return Ok((line.get(..end).unwrap_or("").trim(), end + 1));
    }
    let start = quote.len();
    let close = line
        .get(start..)
        .and_then(|rest| rest.find(quote))
        .ok_or(Error::UnclosedKeyQuote { line: number })?
        + start;
    // ini.v1 searches from `close + len(quote)`: just past the closing quote.
    let delimiter = line
        .get(close + start..)
        .and_then(|rest| rest.find(DELIMITERS))
        .ok_or_else(missing)?
        + close
        + start;
    Ok((line.get(start..close).unwrap_or("").trim(), delimiter + 1))
}

/// ini.v1 `readValue` with default options: no Python multi-line values, inline comments on,
/// continuation lines on, surrounding quotes removed.
fn read_value(input: &str, lines: &mut Lines<'_>, number: usize) -> Result<String, Error> {
    let line = input.trim_start();
    if line.is_empty() {
        return Ok(String::new());
    }
    let quote = if line.len() > 3 && line.starts_with(r#"""""#) {
        r#"""""#
    } else if line.starts_with('`') {
        "`"
    } else {
        ""
    };
    if !quote.is_empty() {
        let body = line.get(quote.len()..).unwrap_or("");
        return match body.rfind(quote) {
            Some(end) => Ok(body.get(..end).unwrap_or("").to_owned()),
            None => read_multiline(body, quote, lines, number),
        };
    }
    let line = line.trim();
    if let Some(head) = line.strip_suffix('\\') {
        return Ok(read_continuation(head, lines));
    }
    let line = match line.find(['#', ';']) {
        Some(comment) => line.get(..comment).unwrap_or("").trim(),
        None => line,
    };
    if surrounded_by(line, '\'') || surrounded_by(line, '"') {
        return Ok(line.get(1..line.len() - 1).unwrap_or("").to_owned());
    }
    Ok(line.to_owned())
}

/// `hasSurroundedQuote`: quote first and last, and nowhere else.
fn surrounded_by(text: &str, quote: char) -> bool {
    text.len() >= 2
        && text.starts_with(quote)
        && text.ends_with(quote)
        && text.get(1..).and_then(|rest| rest.find(quote)) == Some(text.len() - 2)
}

/// `readMultilines`: the value runs to the last closing quote of a later line; lines keep their
/// line breaks.
fn read_multiline(
    first: &str,
    quote: &str,
    lines: &mut Lines<'_>,
    number: usize,
) -> Result<String, Error> {
    let mut value = first.to_owned();
    loop {
        let next = lines.next_line();
        if let Some(end) = next.rfind(quote) {
            value.push_str(next.get(..end).unwrap_or(""));
            return Ok(value);
        }
        value.push_str(next);
        if lines.eof {
            return Err(Error::UnclosedValueQuote { line: number });
        }
    }
}

/// `readContinuationLines`: trimmed following lines are appended while they end in `\`; an empty
/// line ends the value. The result skips comment cutting and quote removal, as in ini.v1.
fn read_continuation(head: &str, lines: &mut Lines<'_>) -> String {
    let mut value = head.to_owned();
    loop {
        let next = lines.next_line().trim();
        if next.is_empty() {
            return value;
        }
        value.push_str(next);
        if !value.ends_with('\\') {
            return value;
        }
        value.pop();
    }
}

/// `Key.transformValue`: replaces `%(name)s` with the raw value of key `name`, repeatedly; stops
/// at the first reference to a missing key.
fn substitute(value: &str, keys: &HashMap<String, Key>, field: &str) -> Result<String, Error> {
    let mut value = value.to_owned();
    if !value.contains('%') {
        return Ok(value);
    }
    for _ in 0..SUBSTITUTION_ROUNDS {
        let Some((pattern, name)) = first_reference(&value) else {
            break;
        };
        let Some(key) = keys.get(name) else {
            break;
        };
        let pattern = pattern.to_owned();
        let replaced = value.replace(&pattern, &key.value);
        if replaced.len() > MAX_EXPANDED {
            return Err(Error::ExpansionTooLong {
                field: field.to_owned(),
            });
        }
        value = replaced;
    }
    Ok(value)
}

/// The leftmost match of `%\(([^)]+)\)s`: the whole match and the name inside.
fn first_reference(value: &str) -> Option<(&str, &str)> {
    let mut from = 0;
    while let Some(found) = value.get(from..).and_then(|rest| rest.find("%(")) {
        let start = from + found;
        let inner = start + 2;
        if let Some(close) = value.get(inner..).and_then(|rest| rest.find(')')) {
            let close = inner + close;
            if close > inner && value.get(close + 1..close + 2) == Some("s") {
                return Some((value.get(start..close + 2)?, value.get(inner..close)?));
            }
        }
        from = start + 1;
    }
    None
}

/// `MapTo` onto apko's `PackageInfo` struct.
fn map(keys: &HashMap<String, Key>) -> Result<PkgInfo, Error> {
    let text = |field: &str| -> Result<String, Error> {
        keys.get(field)
            .map_or(Ok(String::new()), |key| substitute(&key.value, keys, field))
    };
    let list = |field: &str| -> Result<Vec<String>, Error> {
        let Some(key) = keys.get(field) else {
            return Ok(Vec::new());
        };
        let mut items = Vec::new();
        let values = std::iter::once(&key.value).chain(&key.shadows);
        for value in values.filter(|value| !value.is_empty()) {
            for item in value.split(',') {
                items.push(substitute(item.trim(), keys, field)?);
            }
        }
        Ok(items)
    };
    let texts = |field: &str| -> Result<Vec<Text>, Error> {
        Ok(list(field)?.into_iter().map(Text::from).collect())
    };
    let unsigned = |field: &'static str| -> Result<u64, Error> {
        let value = text(field)?;
        match go_syntax::parse_duration(&value) {
            Some(nanoseconds) if nanoseconds != 0 => Err(Error::DurationValue { field, value }),
            _ => Ok(go_syntax::parse_uint(&value).unwrap_or(0)),
        }
    };
    let package = Package {
        name: text("pkgname")?.into(),
        version: text("pkgver")?.into(),
        arch: text("arch")?.into(),
        description: text("pkgdesc")?.into(),
        license: text("license")?.into(),
        origin: text("origin")?.into(),
        maintainer: text("maintainer")?.into(),
        url: text("url")?.into(),
        dependencies: texts("depend")?,
        provides: texts("provides")?,
        install_if: texts("install_if")?,
        installed_size: unsigned("size")?,
        provider_priority: unsigned("provider_priority")?,
        build_time: go_syntax::parse_int(&text("builddate")?).unwrap_or(0),
        commit: text("commit")?.into(),
        replaces: list("replaces")?,
        data_hash: text("datahash")?,
        ..Package::default()
    };
    Ok(PkgInfo {
        package,
        triggers: list("triggers")?,
    })
}

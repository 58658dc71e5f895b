//! `/etc/passwd`, `/etc/group` and `/etc/shadow` as apko reads and writes them.
//!
//! apko's parser is strict (exactly 7, 4 or 9 colon-separated fields per line, a blank line is
//! an error) and lossy in places: a shadow entry's third field (last change) is not read back,
//! so rewriting a shadow file empties it. Fields are kept as bytes, as Go strings are.
//!
//! Not for: deciding which accounts to add (`accounts`), the uname/gname lookup of the layer
//! (`build::walk`, which uses [`parse_users`] and [`parse_groups`]).
//! Reproduces apko `pkg/passwd/passwd.go`, `group.go`, `shadow.go` (Go `bufio.Scanner` line
//! splitting, `strings.TrimSpace`, `strconv.Atoi` then `uint32`).

/// One `/etc/passwd` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    /// Login name.
    pub user_name: Vec<u8>,
    /// Password field (`x`).
    pub password: Vec<u8>,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// GECOS field.
    pub info: Vec<u8>,
    /// Home directory.
    pub home_dir: Vec<u8>,
    /// Login shell.
    pub shell: Vec<u8>,
}

/// One `/etc/group` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    /// Group name.
    pub group_name: Vec<u8>,
    /// Password field (`x`).
    pub password: Vec<u8>,
    /// Group id.
    pub gid: u32,
    /// Member names (`[""]` for an empty list, as Go's `strings.Split` gives).
    pub members: Vec<Vec<u8>>,
}

/// One `/etc/shadow` line; the last-change field is never read (apko's parser skips it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShadowEntry {
    /// Login name.
    pub user_name: Vec<u8>,
    /// Password hash (`!` for the accounts apko adds).
    pub password: Vec<u8>,
    /// Fields 4 to 9: min, max, warn, inactive, expire, flag.
    pub rest: [Vec<u8>; 6],
}

/// Why an account file does not parse.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A line has the wrong number of fields.
    #[error("line {line}: malformed line, contains {parts} parts, expecting {expected}")]
    Fields {
        /// 1-based line number.
        line: usize,
        /// Fields found.
        parts: usize,
        /// Fields required.
        expected: usize,
    },
    /// A numeric id does not parse as a Go `int`.
    #[error("line {line}: failed to parse id {value:?}")]
    Id {
        /// 1-based line number.
        line: usize,
        /// The field.
        value: String,
    },
    /// A line is longer than Go's scanner accepts (64 KiB).
    #[error("line {line}: token too long")]
    TooLong {
        /// 1-based line number.
        line: usize,
    },
}

/// Go's `bufio.MaxScanTokenSize`.
const MAX_TOKEN: usize = 64 * 1024;

/// Lines as Go's `bufio.Scanner` with `ScanLines` yields them: split at `\n`, one trailing `\r`
/// dropped, a last line without `\n` kept, no token after a final `\n`.
fn scan_lines(text: &[u8]) -> impl Iterator<Item = Result<&[u8], usize>> {
    let mut rest = text;
    let mut number = 0;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        number += 1;
        let (line, consumed) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (rest.get(..i).unwrap_or_default(), i + 1),
            None => (rest, rest.len()),
        };
        if consumed > MAX_TOKEN {
            rest = &[];
            return Some(Err(number));
        }
        rest = rest.get(consumed..).unwrap_or_default();
        Some(Ok(line.strip_suffix(b"\r").unwrap_or(line)))
    })
}

/// Go's `strings.TrimSpace`: Unicode white space trimmed at both ends; invalid UTF-8 stops
/// the trimming.
fn trim_space(line: &[u8]) -> &[u8] {
    let mut start = line;
    while let Some((c, len)) = first_char(start) {
        if !c.is_whitespace() {
            break;
        }
        start = start.get(len..).unwrap_or_default();
    }
    let mut end = start;
    while let Some((c, len)) = last_char(end) {
        if !c.is_whitespace() {
            break;
        }
        end = end.get(..end.len() - len).unwrap_or_default();
    }
    end
}

fn first_char(bytes: &[u8]) -> Option<(char, usize)> {
    (1..=4.min(bytes.len())).find_map(|n| {
        let s = std::str::from_utf8(bytes.get(..n)?).ok()?;
        s.chars().next().map(|c| (c, n))
    })
}

fn last_char(bytes: &[u8]) -> Option<(char, usize)> {
    (1..=4.min(bytes.len())).find_map(|n| {
        let s = std::str::from_utf8(bytes.get(bytes.len() - n..)?).ok()?;
        s.chars().next_back().map(|c| (c, n))
    })
}

/// `strconv.Atoi` then Go's conversion to `uint32` (wrapping, as Go does).
fn parse_id(field: &[u8], line: usize) -> Result<u32, Error> {
    let bad = || Error::Id {
        line,
        value: String::from_utf8_lossy(field).into_owned(),
    };
    let text = std::str::from_utf8(field).map_err(|_| bad())?;
    let value: i64 = text.parse().map_err(|_| bad())?;
    Ok(value as u32)
}

fn fields(line: &[u8], number: usize, expected: usize) -> Result<Vec<&[u8]>, Error> {
    let parts: Vec<&[u8]> = trim_space(line).split(|&b| b == b':').collect();
    if parts.len() != expected {
        return Err(Error::Fields {
            line: number,
            parts: parts.len(),
            expected,
        });
    }
    Ok(parts)
}

/// Parses `/etc/passwd`. On a bad line, returns the entries before it along with the error
/// (apko's layer writer uses those, its account step fails).
pub fn parse_users(text: &[u8]) -> (Vec<UserEntry>, Option<Error>) {
    let mut entries = Vec::new();
    for (index, line) in scan_lines(text).enumerate() {
        let parsed = line
            .map_err(|line| Error::TooLong { line })
            .and_then(|line| user(line, index + 1));
        match parsed {
            Ok(entry) => entries.push(entry),
            Err(e) => return (entries, Some(e)),
        }
    }
    (entries, None)
}

fn user(line: &[u8], number: usize) -> Result<UserEntry, Error> {
    let p = fields(line, number, 7)?;
    let field = |i: usize| p.get(i).map(|f| f.to_vec()).unwrap_or_default();
    Ok(UserEntry {
        user_name: field(0),
        password: field(1),
        uid: parse_id(p.get(2).copied().unwrap_or_default(), number)?,
        gid: parse_id(p.get(3).copied().unwrap_or_default(), number)?,
        info: field(4),
        home_dir: field(5),
        shell: field(6),
    })
}

/// Parses `/etc/group`, with the same partial result on error as [`parse_users`].
pub fn parse_groups(text: &[u8]) -> (Vec<GroupEntry>, Option<Error>) {
    let mut entries = Vec::new();
    for (index, line) in scan_lines(text).enumerate() {
        let parsed = line
            .map_err(|line| Error::TooLong { line })
            .and_then(|line| group(line, index + 1));
        match parsed {
            Ok(entry) => entries.push(entry),
            Err(e) => return (entries, Some(e)),
        }
    }
    (entries, None)
}

fn group(line: &[u8], number: usize) -> Result<GroupEntry, Error> {
    let p = fields(line, number, 4)?;
    let field = |i: usize| p.get(i).copied().unwrap_or_default();
    Ok(GroupEntry {
        group_name: field(0).to_vec(),
        password: field(1).to_vec(),
        gid: parse_id(field(2), number)?,
        members: field(3).split(|&b| b == b',').map(<[u8]>::to_vec).collect(),
    })
}

/// Parses `/etc/shadow` (the last-change field is dropped, as apko drops it).
pub fn parse_shadow(text: &[u8]) -> Result<Vec<ShadowEntry>, Error> {
    let mut entries = Vec::new();
    for (index, line) in scan_lines(text).enumerate() {
        let line = line.map_err(|line| Error::TooLong { line })?;
        let p = fields(line, index + 1, 9)?;
        let field = |i: usize| p.get(i).map(|f| f.to_vec()).unwrap_or_default();
        entries.push(ShadowEntry {
            user_name: field(0),
            password: field(1),
            rest: [field(3), field(4), field(5), field(6), field(7), field(8)],
        });
    }
    Ok(entries)
}

/// `name:password:uid:gid:info:home:shell\n` per entry.
pub fn write_users(entries: &[UserEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        out.extend_from_slice(&e.user_name);
        out.push(b':');
        out.extend_from_slice(&e.password);
        out.extend_from_slice(format!(":{}:{}:", e.uid, e.gid).as_bytes());
        out.extend_from_slice(&e.info);
        out.push(b':');
        out.extend_from_slice(&e.home_dir);
        out.push(b':');
        out.extend_from_slice(&e.shell);
        out.push(b'\n');
    }
    out
}

/// `name:password:gid:member1,member2\n` per entry.
pub fn write_groups(entries: &[GroupEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        out.extend_from_slice(&e.group_name);
        out.push(b':');
        out.extend_from_slice(&e.password);
        out.extend_from_slice(format!(":{}:", e.gid).as_bytes());
        out.extend_from_slice(&e.members.join(&b","[..]));
        out.push(b'\n');
    }
    out
}

/// Nine fields per entry, the third always empty.
pub fn write_shadow(entries: &[ShadowEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        out.extend_from_slice(&e.user_name);
        out.push(b':');
        out.extend_from_slice(&e.password);
        out.extend_from_slice(b"::");
        out.extend_from_slice(&e.rest.join(&b":"[..]));
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_like_go_scanner() {
        let lines: Vec<&[u8]> = scan_lines(b"a\r\nb\n\nc").map(|l| l.unwrap()).collect();
        assert_eq!(lines, vec![&b"a"[..], b"b", b"", b"c"]);
        assert_eq!(scan_lines(b"a\n").count(), 1);
        assert_eq!(scan_lines(b"").count(), 0);
    }

    #[test]
    fn strict_fields_and_partial_results() {
        let (users, err) = parse_users(b"root:x:0:0:root:/root:/bin/sh\n\nnobody:x:1:1::/:/x\n");
        assert_eq!(users.len(), 1);
        assert!(matches!(
            err,
            Some(Error::Fields {
                line: 2,
                parts: 1,
                expected: 7
            })
        ));
        let (users, err) = parse_users(b"  a:x:-1:+2:i:/h:/s  \n");
        assert!(err.is_none());
        assert_eq!((users[0].uid, users[0].gid), (u32::MAX, 2));
        assert_eq!(write_users(&users), b"a:x:4294967295:2:i:/h:/s\n");
    }

    #[test]
    fn shadow_loses_its_last_change_field() {
        let entries = parse_shadow(b"root:*:19000:0:99999:7:::\n").unwrap();
        assert_eq!(write_shadow(&entries), b"root:*::0:99999:7:::\n");
    }

    #[test]
    fn groups_round_trip() {
        let (groups, err) = parse_groups(b"wheel:x:10:root,app\nempty:x:11:\n");
        assert!(err.is_none());
        assert_eq!(groups[1].members, vec![Vec::<u8>::new()]);
        assert_eq!(write_groups(&groups), b"wheel:x:10:root,app\nempty:x:11:\n");
    }
}

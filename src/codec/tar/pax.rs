//! PAX extended-header pieces: records, times and the name of the extended header entry.
//!
//! Not for: deciding when a PAX header is needed (`writer`), merging records into headers
//! (`reader`).
//! Reproduces Go `archive/tar` `strconv.go` (`formatPAXRecord`, `parsePAXRecord`,
//! `formatPAXTime`, `parsePAXTime`, `validPAXRecord`) and the header name of `writer.go` `writePAXHeader` (apko-format.md §7.6).

use super::Timestamp;
use super::block;

/// Go's `formatPAXTime`: seconds, then up to nine fraction digits without trailing zeros.
pub(super) fn format_pax_time(ts: Timestamp) -> String {
    if ts.nanos == 0 {
        return ts.seconds.to_string();
    }
    let (sign, secs, nanos) = if ts.seconds < 0 {
        ("-", -(ts.seconds + 1), 1_000_000_000 - ts.nanos)
    } else {
        ("", ts.seconds, ts.nanos)
    };
    let text = format!("{sign}{secs}.{nanos:09}");
    text.trim_end_matches('0').to_owned()
}

/// Go's `validPAXRecord`: keys without `=` or NUL; no NUL in the string fields' values.
pub(super) fn valid_pax_record(key: &[u8], value: &[u8]) -> bool {
    if key.is_empty() || key.contains(&b'=') {
        return false;
    }
    match key {
        b"path" | b"linkpath" | b"uname" | b"gname" => !block::has_nul(value),
        _ => !block::has_nul(key),
    }
}

/// `"<len> <key>=<value>\n"`, where `<len>` counts the whole record including itself.
pub(super) fn format_pax_record(key: &[u8], value: &[u8]) -> Vec<u8> {
    let base = key.len() + value.len() + 3;
    let mut size = base + base.to_string().len();
    if size.to_string().len() + base != size {
        size = base + size.to_string().len();
    }
    let mut record = Vec::with_capacity(size);
    record.extend_from_slice(size.to_string().as_bytes());
    record.push(b' ');
    record.extend_from_slice(key);
    record.push(b'=');
    record.extend_from_slice(value);
    record.push(b'\n');
    record
}

/// `path.Join(dir, "PaxHeaders.0", file)` where `dir, file = path.Split(name)`.
pub(super) fn pax_header_name(name: &[u8]) -> Vec<u8> {
    let split = name.iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1);
    let (dir, file) = name.split_at(split);
    let mut joined = Vec::with_capacity(name.len() + 14);
    for part in [dir, b"PaxHeaders.0", file] {
        if part.is_empty() {
            continue;
        }
        if !joined.is_empty() {
            joined.push(b'/');
        }
        joined.extend_from_slice(part);
    }
    clean(&joined)
}

/// Go's `path.Clean`: lexical normalisation of `.`, `..` and repeated slashes.
fn clean(path: &[u8]) -> Vec<u8> {
    if path.is_empty() {
        return b".".to_vec();
    }
    let rooted = path.first() == Some(&b'/');
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in path.split(|&c| c == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                if parts.last().is_some_and(|p| *p != b"..") {
                    parts.pop();
                } else if !rooted {
                    parts.push(part);
                }
            }
            _ => parts.push(part),
        }
    }
    let mut out = Vec::with_capacity(path.len());
    if rooted {
        out.push(b'/');
    }
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(part);
    }
    if out.is_empty() {
        out.push(b'.');
    }
    out
}

/// Go's `parsePAXRecord`: one `"<len> <key>=<value>\n"` record and the rest.
pub(super) fn parse_pax_record(s: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let space = s.iter().position(|&c| c == b' ')?;
    let (len_text, rest) = (s.get(..space)?, s.get(space + 1..)?);
    let n: i64 = std::str::from_utf8(len_text).ok()?.parse().ok()?;
    if n < 5 || n > s.len() as i64 {
        return None;
    }
    let n = usize::try_from(n - (len_text.len() as i64 + 1)).ok()?;
    if n == 0 {
        return None;
    }
    let record = rest.get(..n - 1)?;
    if rest.get(n - 1) != Some(&b'\n') {
        return None;
    }
    let remainder = rest.get(n..)?;
    let eq = record.iter().position(|&c| c == b'=')?;
    let (key, value) = (record.get(..eq)?, record.get(eq + 1..)?);
    if !valid_pax_record(key, value) {
        return None;
    }
    Some((key, value, remainder))
}

/// Go's `parsePAXTime`: `<seconds>[.<fraction>]`, fraction cut or padded to nine digits.
pub(super) fn parse_pax_time(value: &[u8]) -> Result<Timestamp, ()> {
    let (secs_text, frac) = match value.iter().position(|&c| c == b'.') {
        Some(i) => (&value[..i], &value[i + 1..]),
        None => (value, &[][..]),
    };
    let secs = parse_decimal(secs_text)?;
    if frac.is_empty() {
        return Ok(Timestamp::from_seconds(secs));
    }
    if !frac.iter().all(u8::is_ascii_digit) {
        return Err(());
    }
    let mut nanos: i64 = 0;
    for i in 0..9 {
        nanos = nanos * 10 + frac.get(i).map_or(0, |&d| i64::from(d - b'0'));
    }
    if secs_text.first() == Some(&b'-') {
        nanos = -nanos;
    }
    Ok(Timestamp::from_parts(secs, nanos))
}

/// A decimal integer as Go's `strconv.ParseInt(s, 10, 64)` reads it.
pub(super) fn parse_decimal(value: &[u8]) -> Result<i64, ()> {
    std::str::from_utf8(value)
        .map_err(|_| ())?
        .parse()
        .map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_record_length_counts_itself() {
        assert_eq!(format_pax_record(b"path", b"a"), b"9 path=a\n");
        assert_eq!(format_pax_record(b"key", b"valu"), b"12 key=valu\n");
        // 98 bytes of text plus a two-digit length would be 100, which needs three digits.
        let record = format_pax_record(b"k", &[b'v'; 94]);
        assert_eq!(record.len(), 101);
        assert!(record.starts_with(b"101 k=v"));
    }

    #[test]
    fn pax_header_names_follow_path_join() {
        assert_eq!(pax_header_name(b"usr/bin/x"), b"usr/bin/PaxHeaders.0/x");
        assert_eq!(pax_header_name(b"x"), b"PaxHeaders.0/x");
        assert_eq!(pax_header_name(b"./a//b/"), b"a/b/PaxHeaders.0");
        assert_eq!(pax_header_name(b"/abs/f"), b"/abs/PaxHeaders.0/f");
    }

    #[test]
    fn clean_matches_go() {
        for (input, want) in [
            ("", "."),
            ("a/../..", ".."),
            ("/../a", "/a"),
            ("a/./b/", "a/b"),
            ("//", "/"),
            ("../../x/..", "../.."),
        ] {
            assert_eq!(clean(input.as_bytes()), want.as_bytes(), "{input}");
        }
    }

    #[test]
    fn pax_times_drop_trailing_zeros_and_handle_negatives() {
        assert_eq!(format_pax_time(Timestamp::from_seconds(-5)), "-5");
        assert_eq!(
            format_pax_time(Timestamp::from_parts(1, 500_000_000)),
            "1.5"
        );
        assert_eq!(
            format_pax_time(Timestamp::from_parts(-1, 250_000_000)),
            "-0.75"
        );
    }

    #[test]
    fn records_and_times_parse_back() {
        let records = b"9 path=a\n14 mtime=10.5\n";
        let (key, value, rest) = parse_pax_record(records).expect("first");
        assert_eq!((key, value), (&b"path"[..], &b"a"[..]));
        let (key, value, rest) = parse_pax_record(rest).expect("second");
        assert_eq!((key, value, rest), (&b"mtime"[..], &b"10.5"[..], &b""[..]));
        assert!(
            parse_pax_record(b"11 path=a\n").is_none(),
            "length past the end"
        );
        assert!(parse_pax_record(b"9 path_a\n").is_none(), "no '='");
        assert_eq!(
            parse_pax_time(b"10.5"),
            Ok(Timestamp::from_parts(10, 500_000_000))
        );
        assert_eq!(
            parse_pax_time(b"-0.75"),
            Ok(Timestamp::from_parts(-1, 250_000_000))
        );
        assert_eq!(
            parse_pax_time(b"1.1234567899"),
            Ok(Timestamp::from_parts(1, 123_456_789))
        );
        assert!(parse_pax_time(b"1.x").is_err());
    }
}

//! Go's number syntax as gopkg.in/ini.v1 `MapTo` applies it to `.PKGINFO` values.
//!
//! `MapTo` fills integer fields with `strconv.ParseInt(s, 0, 64)` / `ParseUint(s, 0, 64)` (base 0:
//! `0x`, `0o`, `0b` prefixes, a leading `0` means octal, `_` digit separators), and unsigned
//! fields are first tried as a `time.ParseDuration`. Pure.
//!
//! Not for: the ini line syntax ([`super`]). Reproduces Go `strconv/atoi.go` (`ParseUint`,
//! `ParseInt`, `underscoreOK`) and `time/format.go` (`ParseDuration`).

const SIGN_BIT: u64 = 1 << 63;

/// `strconv.ParseUint(s, 0, 64)`; `None` where Go returns an error.
pub fn parse_uint(s: &str) -> Option<u64> {
    let original = s;
    let bytes = s.as_bytes();
    let (base, digits): (u64, &[u8]) = match bytes {
        [] => return None,
        [b'0', prefix, _, ..] if prefix.eq_ignore_ascii_case(&b'b') => (2, bytes.get(2..)?),
        [b'0', prefix, _, ..] if prefix.eq_ignore_ascii_case(&b'o') => (8, bytes.get(2..)?),
        [b'0', prefix, _, ..] if prefix.eq_ignore_ascii_case(&b'x') => (16, bytes.get(2..)?),
        [b'0', ..] => (8, bytes.get(1..)?),
        _ => (10, bytes),
    };
    let mut value: u64 = 0;
    let mut underscores = false;
    for &c in digits {
        if c == b'_' {
            underscores = true;
            continue;
        }
        let digit = match c {
            b'0'..=b'9' => u64::from(c - b'0'),
            b'a'..=b'z' => u64::from(c - b'a') + 10,
            b'A'..=b'Z' => u64::from(c - b'A') + 10,
            _ => return None,
        };
        if digit >= base {
            return None;
        }
        value = value.checked_mul(base)?.checked_add(digit)?;
    }
    if underscores && !underscores_ok(original) {
        return None;
    }
    Some(value)
}

/// `strconv.ParseInt(s, 0, 64)`; `None` where Go returns an error.
pub fn parse_int(s: &str) -> Option<i64> {
    let (negative, magnitude) = match s.as_bytes().first()? {
        b'+' => (false, s.get(1..)?),
        b'-' => (true, s.get(1..)?),
        _ => (false, s),
    };
    let unsigned = parse_uint(magnitude)?;
    if negative {
        if unsigned > SIGN_BIT {
            return None;
        }
        Some(0i64.wrapping_sub_unsigned(unsigned))
    } else {
        i64::try_from(unsigned).ok()
    }
}

/// Go's `underscoreOK`: `_` only between digits, or between a base prefix and a digit.
fn underscores_ok(s: &str) -> bool {
    let mut bytes = s.as_bytes();
    if let [b'+' | b'-', rest @ ..] = bytes {
        bytes = rest;
    }
    // 'd' = digit or base prefix, '_' = underscore, '!' = other, '^' = start.
    let mut saw = b'^';
    let mut hex = false;
    if let [b'0', prefix, rest @ ..] = bytes {
        let prefix = prefix.to_ascii_lowercase();
        if matches!(prefix, b'b' | b'o' | b'x') {
            saw = b'd';
            hex = prefix == b'x';
            bytes = rest;
        }
    }
    for &c in bytes {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'd';
            continue;
        }
        if c == b'_' {
            if saw != b'd' {
                return false;
            }
            saw = b'_';
            continue;
        }
        if saw == b'_' {
            return false;
        }
        saw = b'!';
    }
    saw != b'_'
}

/// `time.ParseDuration(s)` in nanoseconds; `None` where Go returns an error.
pub fn parse_duration(s: &str) -> Option<i64> {
    let mut rest = s;
    let mut negative = false;
    if let Some(sign @ ('-' | '+')) = rest.chars().next() {
        negative = sign == '-';
        rest = rest.get(1..)?;
    }
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let first = rest.as_bytes().first().copied()?;
        if !(first == b'.' || first.is_ascii_digit()) {
            return None;
        }
        let before = rest.len();
        let (mut value, after_int) = leading_int(rest)?;
        rest = after_int;
        let pre = before != rest.len();
        let mut post = false;
        let mut fraction = 0u64;
        let mut scale = 1f64;
        if let Some(after_dot) = rest.strip_prefix('.') {
            let before = after_dot.len();
            let (f, s, after_fraction) = leading_fraction(after_dot);
            fraction = f;
            scale = s;
            rest = after_fraction;
            post = before != rest.len();
        }
        if !pre && !post {
            return None;
        }
        let unit_len = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        if unit_len == 0 {
            return None;
        }
        let unit: u64 = match rest.get(..unit_len)? {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        rest = rest.get(unit_len..)?;
        if value > SIGN_BIT / unit {
            return None;
        }
        value *= unit;
        if fraction > 0 {
            // Go converts through float64 here; the truncating cast is part of its semantics.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let extra = (fraction as f64 * (unit as f64 / scale)) as u64;
            value = value.checked_add(extra)?;
            if value > SIGN_BIT {
                return None;
            }
        }
        total = total.checked_add(value)?;
        if total > SIGN_BIT {
            return None;
        }
    }
    if negative {
        return Some(0i64.wrapping_sub_unsigned(total));
    }
    i64::try_from(total).ok()
}

fn leading_int(s: &str) -> Option<(u64, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let mut value: u64 = 0;
    for c in s.get(..end)?.bytes() {
        if value > SIGN_BIT / 10 {
            return None;
        }
        value = value * 10 + u64::from(c - b'0');
        if value > SIGN_BIT {
            return None;
        }
    }
    Some((value, s.get(end..)?))
}

fn leading_fraction(s: &str) -> (u64, f64, &str) {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let mut value: u64 = 0;
    let mut scale = 1f64;
    let mut overflow = false;
    for c in s.bytes().take(end) {
        if overflow {
            continue;
        }
        if value > (SIGN_BIT - 1) / 10 {
            overflow = true;
            continue;
        }
        let next = value * 10 + u64::from(c - b'0');
        if next > SIGN_BIT {
            overflow = true;
            continue;
        }
        value = next;
        scale *= 10.0;
    }
    (value, scale, s.get(end..).unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uint_follows_go_base_zero_rules() {
        assert_eq!(parse_uint("3389"), Some(3389));
        assert_eq!(parse_uint("010"), Some(8));
        assert_eq!(parse_uint("0x1F"), Some(31));
        assert_eq!(parse_uint("0b101"), Some(5));
        assert_eq!(parse_uint("0o17"), Some(15));
        assert_eq!(parse_uint("1_000"), Some(1000));
        assert_eq!(parse_uint("0"), Some(0));
        assert_eq!(parse_uint("08"), None);
        assert_eq!(parse_uint("0x"), None);
        assert_eq!(parse_uint("_1"), None);
        assert_eq!(parse_uint("1__0"), None);
        assert_eq!(parse_uint("1_"), None);
        assert_eq!(parse_uint("+1"), None);
        assert_eq!(parse_uint(""), None);
        assert_eq!(parse_uint("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_uint("18446744073709551616"), None);
        assert_eq!(parse_uint(" 1"), None);
    }

    #[test]
    fn int_follows_go_base_zero_rules() {
        assert_eq!(parse_int("1662926906"), Some(1_662_926_906));
        assert_eq!(parse_int("-5"), Some(-5));
        assert_eq!(parse_int("+0x10"), Some(16));
        assert_eq!(parse_int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int("9223372036854775808"), None);
        assert_eq!(parse_int("-0_7"), Some(-7));
        assert_eq!(parse_int("--1"), None);
        assert_eq!(parse_int(""), None);
    }

    #[test]
    fn duration_follows_go() {
        assert_eq!(parse_duration("0"), Some(0));
        assert_eq!(parse_duration("1s"), Some(1_000_000_000));
        assert_eq!(parse_duration("1h2m"), Some(3_720_000_000_000));
        assert_eq!(parse_duration("-1.5ms"), Some(-1_500_000));
        assert_eq!(parse_duration("0.1ns"), Some(0));
        assert_eq!(parse_duration("1\u{b5}s"), Some(1000));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("s"), None);
        assert_eq!(parse_duration(".s"), None);
        assert_eq!(parse_duration("1d"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("3000000h"), None);
    }
}

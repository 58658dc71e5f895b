//! Decoding rules the configuration types share, so YAML and JSON input behave as apko's Go
//! decoders (`gopkg.in/yaml.v3`, `encoding/json`) do, and the omitempty predicates for encoding.
//!
//! * `null` (or an empty YAML value) leaves a field at its zero value instead of failing.
//! * Integers accept what yaml.v3 resolves as integers but serde_yaml_ng hands over as strings:
//!   `0755` (leading zero = octal) and `1_000` (underscores). `0o`, `0x`, `0b` work either way.
//! * Booleans accept yaml.v3's YAML 1.1 spellings (`yes`, `on`, `n`, …).
//! * A repeated key in a YAML mapping is an error, as in yaml.v3 (serde would keep the last).
//! * Hostile input is refused before it is parsed ([`check_bounds`]): a document over
//!   [`MAX_DOCUMENT`] bytes, or flow collections (`[`, `{`) nested deeper than [`MAX_DEPTH`]
//!   (libyaml's scanner, under serde_yaml_ng, spends time quadratic in the flow depth; 100,000
//!   levels took 21 s). Block nesting and alias expansion are bounded by serde_yaml_ng itself
//!   (a recursion limit of 128, and alias replay limited to a multiple of the document's
//!   events), JSON nesting by serde_json's recursion limit of 128.
//!
//! Not for: which keys exist or their order (`image`, `predicate`). Reproduces
//! reference/apko-format.md §2.1.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

/// The largest configuration accepted (apko's own examples are a few kilobytes; a locked
/// configuration of a thousand packages is under 100 KiB).
pub const MAX_DOCUMENT: u64 = 8 << 20;
/// The deepest flow nesting accepted (serde's recursion limit is 128; configurations use 3).
pub const MAX_DEPTH: usize = 100;

/// Refuses a document too large or too deeply nested to parse at a bounded cost; linear time.
/// `[` and `{` count as opening a flow collection inside one, or where a block value or
/// entry may start (after `:`, `-`, `?` or at the start of a line); quoted scalars and
/// comments are skipped.
pub(crate) fn check_bounds(text: &str, source_name: &str) -> Result<(), super::Error> {
    if text.len() as u64 > MAX_DOCUMENT {
        return Err(super::Error::TooLarge {
            source_name: source_name.to_owned(),
            limit: MAX_DOCUMENT,
        });
    }
    let (mut depth, mut line) = (0usize, 1usize);
    // The last character outside whitespace on this line, if any.
    let mut previous: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => {
                line += 1;
                previous = None;
                continue;
            }
            ' ' | '\t' | '\r' => {
                if previous.is_some() && chars.peek() == Some(&'#') {
                    skip_line(&mut chars);
                }
                continue;
            }
            '#' if previous.is_none() => {
                skip_line(&mut chars);
                continue;
            }
            '"' | '\'' if depth > 0 || opens_value(previous) => {
                skip_quoted(c, &mut chars, &mut line);
            }
            '[' | '{' if depth > 0 || opens_value(previous) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(super::Error::TooDeep {
                        source_name: source_name.to_owned(),
                        line,
                        limit: MAX_DEPTH,
                    });
                }
            }
            ']' | '}' if depth > 0 => depth -= 1,
            _ => {}
        }
        previous = Some(c);
    }
    Ok(())
}

/// Whether a block value may start after `previous` (the last non-blank character on the
/// line); inside a flow collection every bracket counts.
fn opens_value(previous: Option<char>) -> bool {
    matches!(previous, None | Some(':' | '-' | '?'))
}

fn skip_line(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while chars.peek().is_some_and(|c| *c != '\n') {
        chars.next();
    }
}

/// Skips a quoted scalar after its opening quote (`''` escapes `'`, `\` escapes in `"`).
fn skip_quoted(
    quote: char,
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    line: &mut usize,
) {
    while let Some(c) = chars.next() {
        match c {
            '\n' => *line += 1,
            '\\' if quote == '"' => {
                chars.next();
            }
            '\'' if quote == '\'' && chars.peek() == Some(&'\'') => {
                chars.next();
            }
            c if c == quote => return,
            _ => {}
        }
    }
}

/// `null` → the type's zero value; anything else decodes normally.
pub(crate) use crate::codec::json::null_as_zero as nullable;

/// Parses an integer literal the way yaml.v3 does after removing `_`: Go's `ParseInt(s, 0, 64)`
/// (`0x`, `0o`, `0b` prefixes; a leading `0` means octal; optional sign).
fn parse_go_int(text: &str) -> Option<i128> {
    let plain: String = text.chars().filter(|c| *c != '_').collect();
    let (negative, digits) = match plain.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, plain.strip_prefix('+').unwrap_or(&plain)),
    };
    let lower = digits.to_ascii_lowercase();
    let (radix, body) = if let Some(hex) = lower.strip_prefix("0x") {
        (16, hex)
    } else if let Some(oct) = lower.strip_prefix("0o") {
        (8, oct)
    } else if let Some(bin) = lower.strip_prefix("0b") {
        (2, bin)
    } else if let Some(oct) = lower.strip_prefix('0').filter(|rest| !rest.is_empty()) {
        (8, oct)
    } else {
        (10, lower.as_str())
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(body, radix).ok()?;
    Some(if negative { -magnitude } else { magnitude })
}

struct GoIntVisitor<T>(PhantomData<T>);

impl<'de, T> Visitor<'de> for GoIntVisitor<T>
where
    T: TryFrom<i128>,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer in range")
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<T, E> {
        T::try_from(i128::from(value))
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(value), &self))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<T, E> {
        T::try_from(i128::from(value))
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(value), &self))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<T, E> {
        parse_go_int(value)
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| E::invalid_value(de::Unexpected::Str(value), &self))
    }
}

fn go_int<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128>,
{
    deserializer.deserialize_any(GoIntVisitor(PhantomData))
}

/// An unsigned 32-bit field (`uid`, `gid`, `permissions`); `null` is 0.
pub(crate) fn go_u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    Ok(go_optional_u32(deserializer)?.unwrap_or_default())
}

/// A nullable unsigned 32-bit field (Go `*uint32`): `null` stays absent.
pub(crate) fn go_optional_u32<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u32>, D::Error> {
    struct Wrapped(u32);
    impl<'de> Deserialize<'de> for Wrapped {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            go_int(deserializer).map(Wrapped)
        }
    }
    Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|Wrapped(n)| n))
}

/// A Go `int` field (`budget`); `null` is 0.
pub(crate) fn go_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    struct Wrapped(i64);
    impl<'de> Deserialize<'de> for Wrapped {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            go_int(deserializer).map(Wrapped)
        }
    }
    Ok(Option::<Wrapped>::deserialize(deserializer)?.map_or(0, |Wrapped(n)| n))
}

struct GoBoolVisitor;

impl Visitor<'_> for GoBoolVisitor {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a boolean")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<bool, E> {
        Ok(value)
    }

    // yaml.v3 keeps YAML 1.1's spellings for fields typed bool.
    fn visit_str<E: de::Error>(self, value: &str) -> Result<bool, E> {
        match value {
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Ok(true),
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Ok(false),
            _ => Err(E::invalid_value(de::Unexpected::Str(value), &self)),
        }
    }
}

/// A `bool` field; `null` is false.
pub(crate) fn go_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    struct Wrapped(bool);
    impl<'de> Deserialize<'de> for Wrapped {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(GoBoolVisitor).map(Wrapped)
        }
    }
    Ok(Option::<Wrapped>::deserialize(deserializer)?.is_some_and(|Wrapped(b)| b))
}

struct UniqueMapVisitor<V>(PhantomData<V>);

impl<'de, V: Deserialize<'de>> Visitor<'de> for UniqueMapVisitor<V> {
    type Value = BTreeMap<String, V>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(BTreeMap::new())
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(BTreeMap::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut map = BTreeMap::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "mapping key `{key}` already defined"
                )));
            }
            let value = access.next_value()?;
            map.insert(key, value);
        }
        Ok(map)
    }
}

/// A string-keyed map (`environment`, `annotations`, `services`); `null` is empty and a repeated
/// key is an error.
pub(crate) fn unique_map<'de, D, V>(deserializer: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    deserializer.deserialize_option(UniqueMapVisitor(PhantomData))
}

/// Go's omitempty for integers.
pub(crate) fn is_zero_u32(value: &u32) -> bool {
    *value == 0
}

/// Go's omitempty for `int`.
pub(crate) fn is_zero_i64(value: &i64) -> bool {
    *value == 0
}

/// Go's omitempty for `bool`.
pub(crate) fn is_false(value: &bool) -> bool {
    !*value
}

#[cfg(test)]
mod tests {
    use super::{MAX_DEPTH, check_bounds, parse_go_int};

    #[test]
    fn flow_nesting_is_counted_outside_quotes_and_comments() {
        let deep = |n: usize| format!("contents: {}{}\n", "[".repeat(n), "]".repeat(n));
        assert!(check_bounds(&deep(MAX_DEPTH), "x").is_ok());
        assert!(check_bounds(&deep(MAX_DEPTH + 1), "x").is_err());
        let quoted = format!(
            "cmd: \"{}\"\nother: '{}'''\n",
            "[".repeat(500),
            "{".repeat(500)
        );
        assert!(check_bounds(&quoted, "x").is_ok());
        let commented = format!("# {}\na: 1 # {}\n", "[".repeat(500), "{".repeat(500));
        assert!(check_bounds(&commented, "x").is_ok());
        let plain = format!("cmd: echo{}\n", "[".repeat(500));
        assert!(check_bounds(&plain, "x").is_ok());
        let json = format!(
            "{{\"a\": {}1{}}}",
            "[".repeat(MAX_DEPTH),
            "]".repeat(MAX_DEPTH)
        );
        assert!(check_bounds(&json, "x").is_err());
    }

    #[test]
    fn integers_parse_as_go_parse_int_base_zero() {
        for (text, want) in [
            ("0755", Some(493)),
            ("0o755", Some(493)),
            ("0x1F", Some(31)),
            ("0b101", Some(5)),
            ("1_000", Some(1000)),
            ("0", Some(0)),
            ("-12", Some(-12)),
            ("+7", Some(7)),
            ("089", None),
            ("", None),
            ("0x", None),
            ("abc", None),
        ] {
            assert_eq!(parse_go_int(text), want, "{text}");
        }
    }
}

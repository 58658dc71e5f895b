//! Go `encoding/json` output, byte for byte: the one place every hashed JSON byte comes from.
//!
//! serde_json already escapes control characters as Go does (`\b`, `\f`, `\n`, `\r`, `\t`,
//! otherwise `\u00xx` in lower-case hex); Go additionally escapes `<`, `>`, `&` (HTML safety) and
//! U+2028/U+2029 (JavaScript safety), which [`GoFormatter`] adds. Key order is the caller's:
//! declare struct fields in Go struct order and use ordered maps (`BTreeMap<String, _>` sorts
//! keys bytewise, as Go sorts map keys).
//!
//! Also Go's one rule for reading JSON that serde lacks: `null` leaves a field's zero value
//! ([`null_as_zero`]), used by apko's configurations and the OCI documents alike.
//!
//! Not for: deciding which fields exist or are omitted (the types in `config` do that).
//! Reproduces reference/apko-format.md §10.1 and §3.2 (MarshalIndent).

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

/// Errors of the Go-compatible encoder.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value refused to serialise (e.g. a map with non-string keys).
    #[error("value cannot be encoded as json")]
    Encode(#[source] serde_json::Error),
}

/// A serde_json formatter wrapping `F` (compact or pretty) that escapes strings as Go does.
#[derive(Debug, Clone)]
pub struct GoFormatter<F> {
    inner: F,
}

impl GoFormatter<CompactFormatter> {
    /// The `json.Marshal` form: no insignificant whitespace.
    pub fn compact() -> Self {
        Self {
            inner: CompactFormatter,
        }
    }
}

impl GoFormatter<PrettyFormatter<'static>> {
    /// The `json.MarshalIndent(v, "", "  ")` form. serde_json's pretty printer agrees with Go on
    /// everything but escaping: `": "` after keys, `[]` and `{}` for empty containers.
    pub fn indented() -> Self {
        Self {
            inner: PrettyFormatter::with_indent(b"  "),
        }
    }
}

/// Escapes Go adds on top of JSON's mandatory ones, as (character, escape) pairs.
const GO_EXTRA_ESCAPES: [(char, &str); 5] = [
    ('<', "\\u003c"),
    ('>', "\\u003e"),
    ('&', "\\u0026"),
    ('\u{2028}', "\\u2028"),
    ('\u{2029}', "\\u2029"),
];

fn go_escape(c: char) -> Option<&'static str> {
    GO_EXTRA_ESCAPES
        .iter()
        .find(|(extra, _)| *extra == c)
        .map(|(_, escape)| *escape)
}

impl<F: Formatter> Formatter for GoFormatter<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut utf8 = [0u8; 4];
        for c in fragment.chars() {
            match go_escape(c) {
                Some(escape) => writer.write_all(escape.as_bytes())?,
                None => writer.write_all(c.encode_utf8(&mut utf8).as_bytes())?,
            }
        }
        Ok(())
    }

    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.inner.begin_array(writer)
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.inner.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.inner.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.inner.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.inner.begin_object(writer)
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.inner.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.inner.begin_object_key(writer, first)
    }

    fn end_object_key<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.inner.end_object_key(writer)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.inner.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.inner.end_object_value(writer)
    }
}

fn encode<T: Serialize + ?Sized, F: Formatter>(value: &T, formatter: F) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    value.serialize(&mut serializer).map_err(Error::Encode)?;
    Ok(out)
}

/// `json.Marshal(value)`: compact, Go-escaped, no trailing newline.
pub fn to_vec_go<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    encode(value, GoFormatter::compact())
}

/// `json.MarshalIndent(value, "", "  ")`: two-space indent, Go-escaped, no trailing newline
/// (apko's lock writer appends one itself).
pub fn to_vec_go_pretty<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    encode(value, GoFormatter::indented())
}

/// Go decodes `null` into any field as "leave the zero value"; anything else decodes normally.
/// For `#[serde(deserialize_with = ...)]`.
pub fn null_as_zero<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de> + Default,
{
    Ok(<Option<T> as serde::Deserialize>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn escapes_like_go() -> Result<(), Error> {
        let text = "a<b>&c\u{2028}\u{2029}\"\\\n\r\t\u{8}\u{c}\u{1}\u{7f}é/";
        let out = to_vec_go(text)?;
        assert_eq!(
            String::from_utf8_lossy(&out),
            r#""a\u003cb\u003e\u0026c\u2028\u2029\"\\\n\r\t\b\f\u0001"#.to_owned() + "\u{7f}é/\""
        );
        Ok(())
    }

    #[test]
    fn escapes_map_keys_and_indents_like_marshal_indent() -> Result<(), Error> {
        let mut map = BTreeMap::new();
        map.insert("k<", vec![1, 2]);
        map.insert("e", vec![]);
        let out = to_vec_go_pretty(&map)?;
        assert_eq!(
            String::from_utf8_lossy(&out),
            "{\n  \"e\": [],\n  \"k\\u003c\": [\n    1,\n    2\n  ]\n}"
        );
        Ok(())
    }
}

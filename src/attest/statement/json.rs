//! Compact JSON exactly as Go's protojson prints a `google.protobuf.Struct`, which is how cosign
//! v3 serialises an attestation predicate.
//!
//! Not for: the statement's own field order ([`super`]) or bundles ([`super::super::bundle`]).
//! Reproduces reference/cosign-attestations.md §5.3 and Go
//! `google.golang.org/protobuf/internal/encoding/json/encode.go` (`appendFloat`, `appendString`):
//! object keys sorted bytewise, every number a float64 printed like `encoding/json` (`%f`
//! shortest form, exponent form below 1e-6 and from 1e21, `e-7` not `e-07`, `e+21`), strings
//! escaped only where JSON requires it (no HTML escaping). protojson's randomly inserted spaces
//! are not reproduced: this writer is the space-free variant cosign produces on most runs.

use serde_json::Value;

/// Appends `value` in protojson's compact form.
pub fn push_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => out.push_str(&format_float(number.as_f64().unwrap_or(0.0))),
        Value::String(text) => push_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_string(out, key);
                out.push(':');
                if let Some(item) = map.get(key) {
                    push_value(out, item);
                }
            }
            out.push('}');
        }
    }
}

/// Appends a JSON string literal: `"` and `\` escaped, control characters as `\b \f \n \r \t`
/// or `\u00xx` (lower-case hex), everything else verbatim. serde_json's escaping is exactly this.
pub fn push_string(out: &mut String, text: &str) {
    match serde_json::to_string(text) {
        Ok(literal) => out.push_str(&literal),
        // Serialising a `str` cannot fail; keep the output well-formed regardless.
        Err(_) => out.push_str("\"\""),
    }
}

/// Formats a float64 as Go's `encoding/json` and protojson do.
pub fn format_float(n: f64) -> String {
    let abs = n.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Rust's `{:e}` already gives the shortest round-trip digits with a minimal exponent
        // (`1e-7`, `1.5e21`); Go writes a sign on positive exponents.
        let text = format!("{n:e}");
        return match text.split_once('e') {
            Some((mantissa, exponent)) if !exponent.starts_with('-') => {
                format!("{mantissa}e+{exponent}")
            }
            _ => text,
        };
    }
    // Display is the shortest round-trip decimal without an exponent, like Go's 'f', -1.
    format!("{n}")
}

/// Converts every number to the float64 Go decodes it into, and lists the JSON pointers of
/// integers that float64 cannot hold exactly (cosign silently rounds them, e.g. 2^53 + 1).
pub fn to_float64(value: &mut Value, pointer: &mut String, rounded: &mut Vec<String>) {
    match value {
        Value::Number(number) => {
            let exact = match (number.as_u64(), number.as_i64()) {
                (Some(unsigned), _) => u64_is_exact(unsigned),
                (None, Some(signed)) => i64_is_exact(signed),
                (None, None) => None,
            };
            let float = number.as_f64().unwrap_or(0.0);
            if exact == Some(false) {
                rounded.push(pointer.clone());
            }
            if let Some(converted) = serde_json::Number::from_f64(float) {
                *number = converted;
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let length = pointer.len();
                pointer.push('/');
                pointer.push_str(&i.to_string());
                to_float64(item, pointer, rounded);
                pointer.truncate(length);
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let length = pointer.len();
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                to_float64(item, pointer, rounded);
                pointer.truncate(length);
            }
        }
        Value::Null | Value::Bool(_) | Value::String(_) => {}
    }
}

/// Whether float64 holds `value` exactly. The casts saturate, so 2^64 itself must be excluded.
fn u64_is_exact(value: u64) -> Option<bool> {
    let float = value as f64;
    Some(float < TWO_TO_64 && float as u64 == value)
}

fn i64_is_exact(value: i64) -> Option<bool> {
    let float = value as f64;
    Some(float < TWO_TO_63 && float as i64 == value)
}

const TWO_TO_64: f64 = 18_446_744_073_709_551_616.0;
const TWO_TO_63: f64 = 9_223_372_036_854_775_808.0;

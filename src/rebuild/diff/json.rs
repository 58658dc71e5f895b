//! Structural differences between two JSON documents, as JSON Pointer paths (RFC 6901) with
//! the value on each side.
//!
//! Objects are compared key by key (in key order), arrays index by index; a path present on
//! one side only is absent (`None`) on the other, which is not the same as `null`. Pure.
//!
//! Not for: byte-level comparison (two documents with the same values but different bytes
//! have no differences here: the caller compares digests first).

use serde_json::Value;

/// One path where the two documents disagree.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Difference {
    /// JSON Pointer to the value (`/config/Env/0`); `""` is the whole document.
    pub path: String,
    /// The value on side A; absent when only B has the path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub a: Option<Value>,
    /// The value on side B; absent when only A has the path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub b: Option<Value>,
}

/// Every leaf-most path where `a` and `b` differ, in document order.
pub fn differences(a: &Value, b: &Value) -> Vec<Difference> {
    let mut out = Vec::new();
    walk(String::new(), Some(a), Some(b), &mut out);
    out
}

fn walk(path: String, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<Difference>) {
    match (a, b) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                walk(child(&path, key), a.get(key), b.get(key), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            for i in 0..a.len().max(b.len()) {
                walk(child(&path, &i.to_string()), a.get(i), b.get(i), out);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(Difference {
            path,
            a: a.cloned(),
            b: b.cloned(),
        }),
    }
}

/// `path/key` with `~` and `/` escaped as RFC 6901 says.
fn child(path: &str, key: &str) -> String {
    format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn leaves_absences_and_escaped_keys() {
        let a = json!({"config": {"Env": ["A=1", "B=2"], "User": "0"}, "a/b": 1, "same": [1]});
        let b = json!({"config": {"Env": ["A=1"], "User": "65532", "WorkingDir": "/"}, "a/b": 2, "same": [1]});
        let got = differences(&a, &b);
        let paths: Vec<&str> = got.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/a~1b",
                "/config/Env/1",
                "/config/User",
                "/config/WorkingDir"
            ]
        );
        assert_eq!(got[1].a, Some(json!("B=2")));
        assert_eq!(got[1].b, None);
        assert_eq!(got[3].a, None);
        assert!(differences(&a, &a).is_empty());
    }

    #[test]
    fn a_type_change_is_one_difference_at_its_path() {
        let got = differences(&json!({"x": [1]}), &json!({"x": {"0": 1}}));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].path, "/x");
    }
}

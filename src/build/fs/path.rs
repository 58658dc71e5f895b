//! Go's `path` / `path/filepath` string functions (`Clean`, `Dir`, `Base`, `Join`) on Unix,
//! which apko's in-memory filesystem applies to every name it is given.
//!
//! Not for: resolving names against the tree (`ops`).
//! Reproduces Go `path/filepath` `Clean`, `Dir`, `Base`, `Join` (Unix separator).

/// Go's `filepath.Clean`: the shortest equivalent name, `.` for an empty one.
pub fn clean(path: &str) -> String {
    let bytes = path.as_bytes();
    if bytes.is_empty() {
        return ".".to_owned();
    }
    let rooted = bytes.first() == Some(&b'/');
    let n = bytes.len();
    let mut out: Vec<u8> = Vec::with_capacity(n);
    let mut r = 0;
    let mut dotdot = 0;
    if rooted {
        out.push(b'/');
        r = 1;
        dotdot = 1;
    }
    let at = |i: usize| bytes.get(i).copied();
    while r < n {
        let c = at(r);
        let next = at(r + 1);
        let empty_element = c == Some(b'/');
        let dot_element = c == Some(b'.') && (next.is_none() || next == Some(b'/'));
        if empty_element || dot_element {
            r += 1;
        } else if c == Some(b'.')
            && next == Some(b'.')
            && (at(r + 2).is_none() || at(r + 2) == Some(b'/'))
        {
            r += 2;
            if out.len() > dotdot {
                // Go steps its write index back to the previous `/` (exclusive) or `dotdot`.
                let mut w = out.len() - 1;
                while w > dotdot && out.get(w) != Some(&b'/') {
                    w -= 1;
                }
                out.truncate(w);
            } else if !rooted {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(b"..");
                dotdot = out.len();
            }
        } else {
            if (rooted && out.len() != 1) || (!rooted && !out.is_empty()) {
                out.push(b'/');
            }
            while let Some(c) = at(r) {
                if c == b'/' {
                    break;
                }
                out.push(c);
                r += 1;
            }
        }
    }
    if out.is_empty() {
        return ".".to_owned();
    }
    // Only ASCII bytes were removed or added, so the result is still UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Go's `filepath.Dir`: everything before the last `/`, cleaned.
pub fn dir(path: &str) -> String {
    match path.rfind('/') {
        Some(i) => clean(path.get(..=i).unwrap_or("")),
        None => clean(""),
    }
}

/// Go's `filepath.Base`: the last element, trailing slashes removed; `.` for an empty name and
/// `/` for a name made of slashes.
pub fn base(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_owned();
    }
    match trimmed.rfind('/') {
        Some(i) => trimmed.get(i + 1..).unwrap_or("").to_owned(),
        None => trimmed.to_owned(),
    }
}

/// Go's `filepath.Join`: the non-empty elements joined by `/` and cleaned; empty if all are.
pub fn join(elements: &[&str]) -> String {
    let parts: Vec<&str> = elements.iter().copied().filter(|e| !e.is_empty()).collect();
    if parts.is_empty() {
        return String::new();
    }
    clean(&parts.join("/"))
}

/// Go's `filepath.IsAbs` on Unix.
pub fn is_abs(path: &str) -> bool {
    path.starts_with('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_matches_go() {
        for (input, want) in [
            ("", "."),
            ("abc", "abc"),
            ("abc/def", "abc/def"),
            ("a/b/c", "a/b/c"),
            (".", "."),
            ("..", ".."),
            ("../..", "../.."),
            ("../../abc", "../../abc"),
            ("/abc", "/abc"),
            ("/", "/"),
            ("abc/", "abc"),
            ("abc/def/", "abc/def"),
            ("/abc/", "/abc"),
            ("abc//def//ghi", "abc/def/ghi"),
            ("//abc", "/abc"),
            ("///abc", "/abc"),
            ("abc/./def", "abc/def"),
            ("/./abc/def", "/abc/def"),
            ("abc/.", "abc"),
            ("abc/def/ghi/../jkl", "abc/def/jkl"),
            ("abc/def/../ghi/../jkl", "abc/jkl"),
            ("abc/def/..", "abc"),
            ("abc/def/../..", "."),
            ("/abc/def/../..", "/"),
            ("abc/def/../../..", ".."),
            ("/abc/def/../../..", "/"),
            ("abc/def/../../../ghi/jkl/../../../mno", "../../mno"),
            ("/../abc", "/abc"),
            ("abc/./../def", "def"),
            ("abc//./../def", "def"),
            ("abc/../../././../def", "../../def"),
        ] {
            assert_eq!(clean(input), want, "Clean({input:?})");
        }
    }

    #[test]
    fn dir_base_join_match_go() {
        assert_eq!(dir("usr/bin/foo"), "usr/bin");
        assert_eq!(dir("foo"), ".");
        assert_eq!(dir("/foo"), "/");
        assert_eq!(dir("usr/bin/"), "usr/bin");
        assert_eq!(dir(""), ".");
        assert_eq!(base("usr/bin/"), "bin");
        assert_eq!(base("/"), "/");
        assert_eq!(base(""), ".");
        assert_eq!(base("foo"), "foo");
        assert_eq!(join(&["", "../usr/lib"]), "../usr/lib");
        assert_eq!(join(&["usr", "../lib"]), "lib");
        assert_eq!(join(&["", ""]), "");
        assert_eq!(join(&["/", "usr/lib/x.so"]), "/usr/lib/x.so");
    }
}

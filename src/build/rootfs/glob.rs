//! Go's `io/fs.Glob` over the in-memory tree, for `include` lines of `/etc/ld.so.conf`.
//!
//! Not for: pattern matching itself ([`crate::codec::glob`]). Reproduces Go `io/fs/glob.go`
//! (`Glob` without `GlobFS`).

use crate::build::fs::{Tree, path};
pub use crate::codec::glob::BadPattern;
use crate::codec::glob::{has_meta, matches};

/// `fs.Glob` over the tree: matching names in sorted order (directory by directory).
pub fn glob(tree: &Tree, pattern: &str) -> Result<Vec<String>, BadPattern> {
    glob_depth(tree, pattern, 0)
}

fn glob_depth(tree: &Tree, pattern: &str, depth: usize) -> Result<Vec<String>, BadPattern> {
    if depth > 10_000 {
        return Err(BadPattern);
    }
    matches(pattern, "")?;
    if !has_meta(pattern) {
        return Ok(if tree.stat(pattern).is_ok() {
            vec![pattern.to_owned()]
        } else {
            Vec::new()
        });
    }
    let (dir, file) = match pattern.rfind('/') {
        Some(i) => pattern.split_at(i + 1),
        None => ("", pattern),
    };
    let dir = match dir {
        "" => ".",
        d => d.get(..d.len() - 1).unwrap_or(""),
    };
    if !has_meta(dir) {
        return glob_dir(tree, dir, file, Vec::new());
    }
    if dir == pattern {
        return Err(BadPattern);
    }
    let mut out = Vec::new();
    for d in glob_depth(tree, dir, depth + 1)? {
        out = glob_dir(tree, &d, file, out)?;
    }
    Ok(out)
}

fn glob_dir(
    tree: &Tree,
    dir: &str,
    pattern: &str,
    mut found: Vec<String>,
) -> Result<Vec<String>, BadPattern> {
    let Ok(entries) = tree.read_dir(dir) else {
        return Ok(found);
    };
    for (name, _) in entries {
        if matches(pattern, &name)? {
            found.push(path::join(&[dir, &name]));
        }
    }
    Ok(found)
}

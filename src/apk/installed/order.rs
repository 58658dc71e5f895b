//! The order of a record's file lines: apko's `pathCompare` applied with Go's stable sort,
//! then entries without their parent directories dropped.
//!
//! `pathCompare` is not a strict weak order (a directory compares equal to its own children),
//! so the result depends on the sorting algorithm: this is a port of Go's `sort.SliceStable`
//! (insertion sort in blocks of 20, then `symMerge`), not Rust's sort.
//!
//! Not for: formatting the lines (`record`).
//! Reproduces apko `pkg/apk/apk/installed.go` `cleanTarHeaders`, `pathCompare`,
//! `removeOrphanedEntries` and Go's `sort/zsortfunc.go` `stable_func`.

use super::{EntryKind, FileEntry};
use std::cmp::Ordering;
use std::collections::HashSet;

/// apko's `cleanTarHeaders`: sorted by `pathCompare`, orphans removed.
pub(super) fn clean(files: &[FileEntry]) -> Vec<FileEntry> {
    let mut sorted = files.to_vec();
    stable_sort(&mut sorted, |a, b| {
        path_compare(&a.path, a.kind, &b.path, b.kind) == Ordering::Less
    });
    remove_orphans(sorted)
}

/// apko's `pathCompare`: component by component; at the first component where the paths can
/// differ, non-directories come before directories, otherwise byte order.
pub(super) fn path_compare(a: &str, a_kind: EntryKind, b: &str, b_kind: EntryKind) -> Ordering {
    let a_clean = go_clean(a);
    let b_clean = go_clean(b);
    if a_clean == b_clean {
        return Ordering::Equal;
    }
    let a_tokens: Vec<&str> = a_clean.split('/').collect();
    let b_tokens: Vec<&str> = b_clean.split('/').collect();
    let mut n = 0;
    while n + 1 < a_tokens.len() && n + 1 < b_tokens.len() {
        let order = a_tokens[n].cmp(b_tokens[n]);
        if order != Ordering::Equal {
            return order;
        }
        n += 1;
    }
    // The component at `n` is a directory if it is not the last one, or the entry is one.
    let a_token_dir = n + 1 < a_tokens.len() || a_kind == EntryKind::Directory;
    let b_token_dir = n + 1 < b_tokens.len() || b_kind == EntryKind::Directory;
    match (a_token_dir, b_token_dir) {
        (false, true) => Ordering::Less,
        (true, false) => Ordering::Greater,
        _ => a_tokens
            .get(n)
            .unwrap_or(&"")
            .cmp(b_tokens.get(n).unwrap_or(&"")),
    }
}

/// apko's `removeOrphanedEntries`: drops entries with a missing ancestor directory entry.
fn remove_orphans(files: Vec<FileEntry>) -> Vec<FileEntry> {
    let mut dirs: HashSet<String> = HashSet::new();
    for f in files.iter().filter(|f| f.kind == EntryKind::Directory) {
        dirs.insert(f.path.strip_suffix('/').unwrap_or(&f.path).to_owned());
        dirs.insert(f.path.clone());
    }
    dirs.insert(String::new());
    dirs.insert(".".to_owned());
    files
        .into_iter()
        .filter(|f| {
            if f.path.is_empty() || f.path == "." {
                return true;
            }
            let mut parent = go_dir(f.path.strip_suffix('/').unwrap_or(&f.path));
            while !parent.is_empty() && parent != "." {
                if !dirs.contains(&parent) {
                    return false;
                }
                let up = go_dir(&parent);
                if up == parent {
                    break;
                }
                parent = up;
            }
            true
        })
        .collect()
}

/// Go's `path.Clean` (equal to `filepath.Clean` on Unix).
pub(super) fn go_clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push(part);
                }
            }
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// Go's `filepath.Dir`: everything before the last `/`, cleaned.
fn go_dir(path: &str) -> String {
    match path.rfind('/') {
        Some(i) => go_clean(&path[..=i]),
        None => ".".to_owned(),
    }
}

/// Go's `filepath.Base`: the last element, trailing slashes ignored.
pub(super) fn go_base(path: &str) -> &str {
    if path.is_empty() {
        return ".";
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/";
    }
    match trimmed.rfind('/') {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    }
}

/// Go's `sort.SliceStable` with the same sequence of comparisons and swaps.
fn stable_sort<T>(data: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let n = data.len();
    let mut block = 20;
    let (mut a, mut b) = (0, block);
    while b <= n {
        insertion_sort(data, a, b, &less);
        a = b;
        b += block;
    }
    insertion_sort(data, a, n, &less);
    while block < n {
        a = 0;
        b = 2 * block;
        while b <= n {
            sym_merge(data, a, a + block, b, &less);
            a = b;
            b += 2 * block;
        }
        let m = a + block;
        if m < n {
            sym_merge(data, a, m, n, &less);
        }
        block *= 2;
    }
}

fn insertion_sort<T>(data: &mut [T], a: usize, b: usize, less: &impl Fn(&T, &T) -> bool) {
    for i in a + 1..b {
        let mut j = i;
        while j > a && less(&data[j], &data[j - 1]) {
            data.swap(j, j - 1);
            j -= 1;
        }
    }
}

fn sym_merge<T>(data: &mut [T], a: usize, m: usize, b: usize, less: &impl Fn(&T, &T) -> bool) {
    if m - a == 1 {
        // Lowest i in m..b with data[i] >= data[a].
        let (mut i, mut j) = (m, b);
        while i < j {
            let h = (i + j) / 2;
            if less(&data[h], &data[a]) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        for k in a..i - 1 {
            data.swap(k, k + 1);
        }
        return;
    }
    if b - m == 1 {
        // Lowest i in a..m with data[i] > data[m].
        let (mut i, mut j) = (a, m);
        while i < j {
            let h = (i + j) / 2;
            if !less(&data[m], &data[h]) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        let mut k = m;
        while k > i {
            data.swap(k, k - 1);
            k -= 1;
        }
        return;
    }
    let mid = (a + b) / 2;
    let n = mid + m;
    let (mut start, mut r) = if m > mid { (n - b, mid) } else { (a, m) };
    let p = n - 1;
    while start < r {
        let c = (start + r) / 2;
        if !less(&data[p - c], &data[c]) {
            start = c + 1;
        } else {
            r = c;
        }
    }
    let end = n - start;
    if start < m && m < end {
        rotate(data, start, m, end);
    }
    if a < start && start < mid {
        sym_merge(data, a, start, mid, less);
    }
    if mid < end && end < b {
        sym_merge(data, mid, end, b, less);
    }
}

/// Go's `rotate`: swaps the blocks `data[a..m]` and `data[m..b]` with block swaps.
fn rotate<T>(data: &mut [T], a: usize, m: usize, b: usize) {
    let mut i = m - a;
    let mut j = b - m;
    while i != j {
        if i > j {
            swap_range(data, m - i, m, j);
            i -= j;
        } else {
            swap_range(data, m - i, m + j - i, i);
            j -= i;
        }
    }
    swap_range(data, m - i, m, i);
}

fn swap_range<T>(data: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        data.swap(a + i, b + i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_compare_rows_from_apko() {
        // apko pkg/apk/apk/installed_test.go TestPathCompare.
        use EntryKind::{Directory as D, File as F};
        let rows = [
            ("a.txt", F, "a.txt", F, Ordering::Equal),
            ("b.txt", F, "a.txt", F, Ordering::Greater),
            ("aDir", D, "bDir", D, Ordering::Less),
            ("a", F, "bDir", D, Ordering::Less),
            ("b", F, "aDir", D, Ordering::Less),
            ("aDir", D, "b", F, Ordering::Greater),
            ("/a/file", F, "/b/file", F, Ordering::Less),
            ("/a/b/c/d/file", F, "/a/b/c/e/file", F, Ordering::Less),
            ("/a/file", F, "/a/b/c/e/file", F, Ordering::Less),
            ("/a/b/c/e/file", F, "/a/file", F, Ordering::Greater),
            // Not a strict weak order: a directory ties with its own children.
            ("etc", D, "etc/motd", F, Ordering::Equal),
        ];
        for (a, a_kind, b, b_kind, want) in rows {
            assert_eq!(path_compare(a, a_kind, b, b_kind), want, "{a} vs {b}");
        }
    }

    #[test]
    fn stable_sort_matches_a_proper_sort_on_a_total_order() {
        let mut values: Vec<(u32, usize)> =
            (0..200).map(|i| ((i * 7919) % 13, i as usize)).collect();
        let mut expected = values.clone();
        expected.sort_by_key(|v| v.0);
        stable_sort(&mut values, |a, b| a.0 < b.0);
        assert_eq!(values, expected);
    }

    #[test]
    fn go_path_helpers() {
        assert_eq!(go_clean("usr//bin/../lib/"), "usr/lib");
        assert_eq!(go_dir("usr/bin"), "usr");
        assert_eq!(go_dir("usr"), ".");
        assert_eq!(go_dir("/usr"), "/");
        assert_eq!(go_base("usr/bin/"), "bin");
        assert_eq!(go_base("/"), "/");
    }
}

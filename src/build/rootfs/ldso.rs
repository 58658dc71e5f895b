//! `/etc/ld.so.cache`, written when the image has an `/etc/ld.so.conf`.
//!
//! Library directories are `/lib` then those of `ld.so.conf` (`include` globs followed; lines
//! after an `include` are ignored, as apko ignores them). In each directory, files named
//! `lib*`/`ld-*` with `.so` are read as ELF; a shared object gets an entry under its file name
//! when that name is one of its sonames or a soname's stem plus `.so`. Entries are sorted
//! descending by glibc's `_dl_cache_libcmp` with Go's unstable sort, and written in glibc's
//! "new" format without the old-format prefix or an extension section.
//!
//! Not for: ELF parsing details (`elf`), glob matching (`glob`), the sort (`sort`).
//! Reproduces apko `internal/ldso-cache/ldsocache.go` and `pkg/build/build_implementation.go`
//! `updateCache` (reference/apko-format.md §6.7 step 8).

use super::elf::{self, EM_AARCH64, EM_X86_64, ET_DYN};
use super::{Error, fs_error, glob, sort};
use crate::build::fs::{FileMode, Tree, path};
use std::cmp::Ordering;
use std::collections::BTreeMap;

const FLAG_ELF_LIBC6: u32 = 0x0001 | 0x0003;
const FLAG_X8664_LIB64: u32 = 0x0300;
const FLAG_AARCH64_LIB64: u32 = 0x0a00;

/// One library in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    /// `0x0303` (x86_64) or `0x0a03` (aarch64).
    pub flags: u32,
    /// The absolute path.
    pub name: String,
}

/// `updateCache`.
pub(super) fn update_cache(tree: &mut Tree) -> Result<(), Error> {
    let conf = "etc/ld.so.conf";
    if tree.stat(conf).is_err() {
        return Ok(());
    }
    let mut libdirs = vec!["/lib".to_owned()];
    libdirs.extend(library_dirs(tree, conf)?);
    let entries = cache_entries(tree, &libdirs)?;
    let cache = "etc/ld.so.cache";
    tree.write_file(cache, &write_cache(&entries), FileMode(0o644))
        .map_err(fs_error(cache))?;
    tree.chmod(cache, FileMode(0o644)).map_err(fs_error(cache))
}

/// `ParseLDSOConf`: the directories an `ld.so.conf` names, `include` globs followed (and lines
/// after the first `include` ignored); unreadable included files are skipped.
pub fn library_dirs(tree: &Tree, conf: &str) -> Result<Vec<String>, Error> {
    parse_conf(tree, conf, 0).map_err(|e| match e {
        ConfError::Fs(source) => fs_error(conf)(source),
        ConfError::Scan => Error::LdsoConf {
            path: conf.to_owned(),
        },
    })
}

enum ConfError {
    Fs(crate::build::fs::Error),
    Scan,
}

/// `ParseLDSOConf`.
fn parse_conf(tree: &Tree, file: &str, depth: usize) -> Result<Vec<String>, ConfError> {
    // Go recurses without a limit; a self-including configuration would never end there.
    if depth > 64 {
        return Err(ConfError::Scan);
    }
    let text = tree.read_file(file).map_err(ConfError::Fs)?;
    let mut paths: Vec<String> = Vec::new();
    for raw in text.split(|&b| b == b'\n') {
        if raw.len() >= 64 * 1024 {
            return Err(ConfError::Scan);
        }
        let line = String::from_utf8_lossy(raw.strip_suffix(b"\r").unwrap_or(raw)).into_owned();
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if let Some(pattern) = line.strip_prefix("include ") {
            let pattern = pattern.trim().trim_start_matches('/');
            let Ok(matches) = glob::glob(tree, pattern) else {
                continue;
            };
            for included in matches {
                if let Ok(more) = parse_conf(tree, &included, depth + 1) {
                    paths.extend(more);
                }
            }
            return Ok(paths);
        }
        if !paths.iter().any(|p| p == line) {
            paths.push(line.to_owned());
        }
    }
    Ok(paths)
}

/// `LDSOCacheEntriesForDirs`: every directory's entries, then sorted.
pub fn cache_entries(tree: &Tree, libdirs: &[String]) -> Result<Vec<CacheEntry>, Error> {
    let mut all = Vec::new();
    for dir in libdirs {
        all.extend(entries_for_dir(tree, dir)?);
    }
    sort::sort_func(&mut all, |a, b| {
        dl_cache_libcmp(&path::base(&a.name), &path::base(&b.name)).reverse()
    });
    Ok(all)
}

/// `ParseLibFilename`: `lib*`/`ld-*` names ending in `.so` or containing `.so.`; the stem.
fn lib_stem(name: &str) -> Option<&str> {
    if !name.starts_with("lib") && !name.starts_with("ld-") {
        return None;
    }
    if let Some(stem) = name.strip_suffix(".so") {
        return Some(stem);
    }
    match name.rfind(".so.") {
        Some(i) if i >= 1 => name.get(..i),
        _ => None,
    }
}

fn entries_for_dir(tree: &Tree, libdir: &str) -> Result<Vec<CacheEntry>, Error> {
    let dir = if path::is_abs(libdir) {
        path::clean(libdir.trim_start_matches('/'))
    } else {
        libdir.to_owned()
    };
    let listing = match tree.read_dir(&dir) {
        Ok(listing) => listing,
        Err(crate::build::fs::Error::NotFound { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(fs_error(&dir)(e)),
    };
    let mut by_name: BTreeMap<String, CacheEntry> = BTreeMap::new();
    for (name, id) in listing {
        if lib_stem(&name).is_none() {
            continue;
        }
        let full = path::join(&[&dir, &name]);
        let mode = tree.node(id).mode();
        let is_link = mode.has(FileMode::SYMLINK);
        if !mode.is_regular() && !is_link {
            continue;
        }
        if is_link && !tree.stat(&full).is_ok_and(|s| s.mode.is_regular()) {
            continue;
        }
        let Some(mut info) = library_info(tree, &full) else {
            continue;
        };
        if info.sonames.is_empty() && name.ends_with(".so") {
            info.sonames.push(name.clone());
        }
        let arch = match info.machine {
            EM_X86_64 => FLAG_X8664_LIB64,
            EM_AARCH64 => FLAG_AARCH64_LIB64,
            machine => {
                return Err(Error::LibraryMachine {
                    path: full,
                    machine,
                });
            }
        };
        for soname in &info.sonames {
            let Some(stem) = lib_stem(soname) else {
                continue;
            };
            if name != *soname && name != format!("{stem}.so") {
                continue;
            }
            by_name.entry(name.clone()).or_insert_with(|| CacheEntry {
                flags: FLAG_ELF_LIBC6 | arch,
                name: path::join(&["/", &full]),
            });
        }
    }
    Ok(by_name.into_values().collect())
}

/// The ELF facts of a file, when it is a shared object Go's `debug/elf` reads.
fn library_info(tree: &Tree, file: &str) -> Option<elf::ElfInfo> {
    let id = tree.open(file).ok()?;
    let content = tree.content(id).ok()?;
    let read = |offset: u64, len: usize| -> Option<Vec<u8>> {
        let mut buf = vec![0u8; len];
        let mut filled = 0;
        while filled < len {
            let n = content
                .read_at(offset + filled as u64, buf.get_mut(filled..)?)
                .ok()?;
            if n == 0 {
                return None;
            }
            filled += n;
        }
        Some(buf)
    };
    let info = elf::parse(&read)?;
    (info.file_type == ET_DYN).then_some(info)
}

/// glibc's `_dl_cache_libcmp`: digit runs compare numerically and outrank other characters.
pub fn dl_cache_libcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        match (x.is_ascii_digit(), y.is_ascii_digit()) {
            (true, true) => {
                let mut va: i64 = 0;
                while let Some(d) = a.get(i).filter(|c| c.is_ascii_digit()) {
                    va = va.wrapping_mul(10).wrapping_add(i64::from(d - b'0'));
                    i += 1;
                }
                let mut vb: i64 = 0;
                while let Some(d) = b.get(j).filter(|c| c.is_ascii_digit()) {
                    vb = vb.wrapping_mul(10).wrapping_add(i64::from(d - b'0'));
                    j += 1;
                }
                if va != vb {
                    return va.cmp(&vb);
                }
            }
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            (false, false) if x != y => return x.cmp(&y),
            (false, false) => {
                i += 1;
                j += 1;
            }
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

/// `LDSOCacheFile.Write` for apko's cache: header, entry table, string table, padding.
pub fn write_cache(entries: &[CacheEntry]) -> Vec<u8> {
    const HEADER: usize = 48;
    const ENTRY: usize = 24;
    let table = HEADER + entries.len() * ENTRY;
    let mut strings: Vec<u8> = Vec::new();
    let mut raw = Vec::with_capacity(entries.len() * ENTRY);
    for entry in entries {
        let cursor = (table + strings.len()) as u32;
        strings.extend_from_slice(entry.name.as_bytes());
        strings.push(0);
        let key = cursor + path::dir(&entry.name).len() as u32 + 1;
        raw.extend_from_slice(&entry.flags.to_le_bytes());
        raw.extend_from_slice(&key.to_le_bytes());
        raw.extend_from_slice(&cursor.to_le_bytes());
        raw.extend_from_slice(&0u32.to_le_bytes());
        raw.extend_from_slice(&0u64.to_le_bytes());
    }
    let mut out = Vec::with_capacity(table + strings.len() + 16);
    out.extend_from_slice(b"glibc-ld.so.cache1.1");
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    out.extend_from_slice(&(strings.len() as u32).to_le_bytes());
    out.extend_from_slice(&[0u8; 4]);
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&[0u8; 12]);
    out.extend_from_slice(&raw);
    out.extend_from_slice(&strings);
    let aligned = (out.len() & !0xf) + 0x10;
    out.resize(aligned, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libcmp_matches_glibc() {
        assert_eq!(dl_cache_libcmp("libc.so.6", "libc.so.10"), Ordering::Less);
        assert_eq!(dl_cache_libcmp("libz.so.1", "libz.so"), Ordering::Greater);
        assert_eq!(dl_cache_libcmp("lib1", "liba"), Ordering::Greater);
        assert_eq!(dl_cache_libcmp("libA.so", "liba.so"), Ordering::Less);
        assert_eq!(dl_cache_libcmp("libx.so.01", "libx.so.1"), Ordering::Equal);
    }

    #[test]
    fn lib_names_as_apko_parses_them() {
        assert_eq!(lib_stem("libfoo.so.1.2"), Some("libfoo"));
        assert_eq!(lib_stem("libso.so.so"), Some("libso.so"));
        assert_eq!(lib_stem("libso.so.so.7"), Some("libso.so"));
        assert_eq!(lib_stem("libfoo.so."), Some("libfoo"));
        assert_eq!(lib_stem("lib.so"), Some("lib"));
        assert_eq!(lib_stem("foo.so.1"), None);
        assert_eq!(lib_stem("libfoo.no.1"), None);
    }

    #[test]
    fn layout_offsets_and_padding() {
        let entries = vec![CacheEntry {
            flags: 0x0a03,
            name: "/lib/libz.so.1".to_owned(),
        }];
        let bytes = write_cache(&entries);
        // 48 + 24 + 15 = 87 → padded to 96.
        assert_eq!(bytes.len(), 96);
        assert_eq!(&bytes[48..52], &0x0a03u32.to_le_bytes());
        assert_eq!(&bytes[52..56], &77u32.to_le_bytes());
        assert_eq!(&bytes[56..60], &72u32.to_le_bytes());
        assert_eq!(&bytes[72..87], b"/lib/libz.so.1\0");
    }
}

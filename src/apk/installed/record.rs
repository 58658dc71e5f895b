//! Formats one package's record of the installed database.
//!
//! Not for: the order of file lines (`order`), reading records (`parse`).
//! Reproduces apko `pkg/apk/apk/installed.go` `AddInstalledPackage` and `package.go`
//! `PackageToInstalled` (apko-format.md §6.4).

use super::order::{clean, go_base};
use super::{EntryKind, Error, FileEntry};
use crate::apk::Package;
use base64::Engine as _;

/// The record apko appends for `package`: package lines, then the file lines of `files` (the
/// data tar's entries, in tar order), then a blank line.
///
/// `owned_elsewhere(path)` says whether the file at `path` was last written by another
/// package; apko drops those lines (files a later package overwrote, or identical files an
/// earlier package had already installed). Callers ask it only about what apko's owner map
/// holds: regular files.
pub fn record(
    package: &Package,
    files: &[FileEntry],
    owned_elsewhere: impl Fn(&str) -> bool,
) -> Result<String, Error> {
    if package.name.is_empty() {
        return Err(Error::NamelessPackage);
    }
    let kept: Vec<FileEntry> = files
        .iter()
        .filter(|f| !owned_elsewhere(&f.path))
        .cloned()
        .collect();
    let mut lines = package_lines(package);
    let mut top_dir_needed = true;
    for f in clean(&kept) {
        let perm = f.mode & 0o7777;
        let default_owner = f.uid == 0 && f.gid == 0;
        match f.kind {
            EntryKind::Directory => {
                let mut dir = f.path.strip_suffix('/').unwrap_or(&f.path);
                // Every spelling of the top-level directory is the bare `F:` marker.
                if dir.trim_matches('/').is_empty() {
                    dir = "";
                }
                let default_mode = perm == 0o755 && default_owner;
                if dir.is_empty() && !default_mode {
                    return Err(Error::TopLevelOwnership {
                        package: package.name.to_string(),
                        path: f.path.clone(),
                        mode: perm,
                        uid: f.uid,
                        gid: f.gid,
                    });
                }
                lines.push(format!("F:{dir}"));
                if !default_mode {
                    lines.push(format!("M:{}:{}:{perm:04o}", f.uid, f.gid));
                }
                top_dir_needed = false;
            }
            EntryKind::File => {
                if top_dir_needed {
                    lines.push("F:".to_owned());
                    top_dir_needed = false;
                }
                lines.push(format!("R:{}", go_base(&f.path)));
                if perm != 0o644 || !default_owner {
                    lines.push(format!("a:{}:{}:{perm:04o}", f.uid, f.gid));
                }
                if let Some(checksum) = f.checksum.as_deref().filter(|c| !c.is_empty()) {
                    lines.push(format!("Z:{}", q1_checksum(package, &f.path, checksum)?));
                }
            }
        }
    }
    let mut out = lines.join("\n");
    out.push_str("\n\n");
    Ok(out)
}

/// apko's `PackageToInstalled`: the package lines, in apko's order.
fn package_lines(p: &Package) -> Vec<String> {
    let mut lines = vec![
        format!("P:{}", p.name),
        format!("V:{}", p.version),
        format!("A:{}", p.arch),
        format!("L:{}", p.license),
        format!("T:{}", p.description),
        format!("o:{}", p.origin),
        format!("m:{}", p.maintainer),
        format!("U:{}", p.url),
        format!("D:{}", p.dependencies.join(" ")),
        format!("p:{}", p.provides.join(" ")),
    ];
    if !p.replaces.is_empty() {
        lines.push(format!("r:{}", p.replaces.join(" ")));
    }
    lines.push(format!("c:{}", p.commit));
    // apko formats the list with Go's %s, brackets included (apko-format.md §6.4).
    lines.push(format!("i:[{}]", p.install_if.join(" ")));
    lines.push(format!("t:{}", p.build_time));
    lines.push(format!("S:{}", p.size));
    lines.push(format!("I:{}", p.installed_size));
    lines.push(format!("k:{}", p.provider_priority));
    if !p.checksum.is_empty() {
        lines.push(format!("C:{}", p.checksum_string()));
    }
    lines
}

/// A checksum in the database's `Q1` + base64 form; package headers usually carry hex.
fn q1_checksum(package: &Package, path: &str, checksum: &str) -> Result<String, Error> {
    if checksum.starts_with("Q1") {
        return Ok(checksum.to_owned());
    }
    let bytes = hex::decode(checksum).map_err(|source| Error::Checksum {
        package: package.name.to_string(),
        path: path.to_owned(),
        source,
    })?;
    Ok(format!(
        "Q1{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

//! Busybox applet links, when `/bin/busybox` exists.
//!
//! The link list comes from `/etc/busybox-paths.d/<package>` (busybox packages ship it since
//! Alpine 1.36.0-r8 and Wolfi 1.36.0-r3). apko falls back to a built-in table of per-version
//! lists for older packages; that table is not reproduced here, so such a package is an error
//! naming its version. Each link's directory is created (0755) and given busybox's mtime, and
//! the link (to `/bin/busybox`) copies that mtime.
//!
//! Not for: package installation (`packages`).
//! Reproduces apko `pkg/build/busybox.go` `installBusyboxLinks` (reference/apko-format.md §6.7
//! step 6).

use super::{Error, fs_error};
use crate::apk::installed::Record;
use crate::build::fs::{self, FileMode, Tree, path};

const BUSYBOX: &str = "/bin/busybox";
const PATHS_DIR: &str = "/etc/busybox-paths.d";

/// `installBusyboxLinks`.
pub(super) fn install_links(tree: &mut Tree, installed: &[Record]) -> Result<(), Error> {
    let busybox = match tree.stat(BUSYBOX) {
        Ok(stat) => stat,
        Err(fs::Error::NotFound { .. }) => return Ok(()),
        Err(e) => return Err(fs_error(BUSYBOX)(e)),
    };
    // A package named busybox ends the search; a package providing something with "busybox"
    // in its name is taken but the search goes on.
    let mut provider: Option<(&str, &str)> = None;
    for record in installed {
        let package = &record.package;
        if package.name == "busybox" {
            provider = Some((&package.name, &package.version));
            break;
        }
        if package.provides.iter().any(|p| p.contains("busybox")) {
            provider = Some((&package.name, &package.version));
        }
    }
    let Some((name, version)) = provider.filter(|(_, v)| !v.is_empty()) else {
        return Err(Error::Busybox {
            reason: "busybox package not installed".to_owned(),
        });
    };
    let list = path::join(&[PATHS_DIR, name]);
    let links = match tree.read_file(&list) {
        Ok(text) => String::from_utf8_lossy(&text).into_owned(),
        Err(_) => {
            return Err(Error::Busybox {
                reason: fallback_reason(name, version),
            });
        }
    };
    for link in links.split('\n') {
        if link == BUSYBOX || link.is_empty() {
            continue;
        }
        let dir = path::dir(link);
        if dir == "." {
            continue;
        }
        tree.mkdir_all(&dir, FileMode(0o755))
            .map_err(fs_error(&dir))?;
        tree.chtimes(&dir, busybox.mtime).map_err(fs_error(&dir))?;
        match tree.symlink(BUSYBOX, link) {
            Ok(_) => {}
            Err(fs::Error::Exists { .. })
                if tree.readlink(link).is_ok()
                    || tree.stat(link).is_ok_and(|s| s.mode.is_regular()) => {}
            Err(e) => return Err(fs_error(link)(e)),
        }
    }
    Ok(())
}

fn fallback_reason(name: &str, version: &str) -> String {
    let semver = regex::Regex::new(r"^v?(([0-9]+)\.([0-9]+)\.([0-9]+))(?:-([0-9A-Za-z_]+))?$");
    match semver.ok().and_then(|re| re.captures(version)) {
        None => format!("invalid busybox version: {version}"),
        Some(_) => format!(
            "{name} {version} ships no {PATHS_DIR}/{name}, and apko's built-in busybox link \
             table is not reproduced"
        ),
    }
}

//! The skeleton apko lays down before any package: InitDB's directories, files and devices,
//! the keyring, `/etc/apk/repositories` and `/etc/apk/world`; and the character devices it
//! re-creates after the packages.
//!
//! Not for: package installation (`packages`), the installed database format (`apk::installed`).
//! Reproduces apko `pkg/apk/apk/implementation.go` (`InitDB`, `InitKeyring`), `repo.go`
//! `SetRepositories`, `world.go` `SetWorld`, `pkg/build/chardevices.go`
//! (reference/apko-format.md §6.2, §6.3).

use super::{Error, KeyFile, fs_error};
use crate::build::fs::{self, FileMode, Tree, path};

/// `/tmp` is `0o777 | ModeSticky` in Go terms (a raw 0o1777 would lose the sticky bit).
const BASE_DIRECTORIES: [(&str, u32); 7] = [
    ("/tmp", 0o777 | FileMode::STICKY),
    ("/dev", 0o755),
    ("/etc", 0o755),
    ("/opt", 0o755),
    ("/proc", 0o555),
    ("/var", 0o755),
    ("/usr", 0o755),
];

const INIT_DIRECTORIES: [&str; 9] = [
    "/etc/apk",
    "/etc/apk/keys",
    "/usr/lib",
    "/usr/lib/apk",
    "/usr/lib/apk/db",
    "/usr/lib/apk/exec",
    "/var/cache",
    "/var/cache/apk",
    "/var/cache/misc",
];

const INIT_FILES: [(&str, u32, &[u8]); 5] = [
    ("/etc/apk/world", 0o644, b"\n"),
    ("/etc/apk/repositories", 0o644, b"\n"),
    ("/usr/lib/apk/db/lock", 0o600, b""),
    ("/usr/lib/apk/db/triggers", 0o644, b""),
    ("/usr/lib/apk/db/installed", 0o644, b""),
];

/// Path, major, minor, permissions.
const DEVICES: [(&str, u32, u32, u32); 5] = [
    ("/dev/zero", 1, 5, 0o666),
    ("/dev/urandom", 1, 9, 0o666),
    ("/dev/null", 1, 3, 0o666),
    ("/dev/random", 1, 8, 0o666),
    ("/dev/console", 5, 1, 0o620),
];

const S_IFCHR: u32 = 0o020000;

/// The installed database's scripts archive.
pub(super) const SCRIPTS_TAR: &str = "usr/lib/apk/db/scripts.tar";

/// InitDB: base directories (which must not exist with other modes), database directories,
/// empty database files, `/etc/apk/arch`, devices (errors ignored, as apko asks) and a
/// `scripts.tar` holding just an end-of-archive marker.
pub(super) fn init_db(tree: &mut Tree, arch: &str) -> Result<(), Error> {
    for (dir, perms) in BASE_DIRECTORIES {
        match tree.stat(dir) {
            Err(fs::Error::NotFound { .. }) => {
                tree.mkdir(dir, FileMode(perms)).map_err(fs_error(dir))?;
            }
            Err(e) => return Err(fs_error(dir)(e)),
            Ok(stat) if !stat.is_dir || stat.mode.perm() != perms => {
                return Err(fs_error(dir)(fs::Error::Exists {
                    path: dir.to_owned(),
                }));
            }
            Ok(_) => {}
        }
    }
    for dir in INIT_DIRECTORIES {
        match tree.mkdir(dir, FileMode(0o755)) {
            Ok(_) => {}
            Err(fs::Error::Exists { .. }) if tree.stat(dir).is_ok_and(|s| s.is_dir) => {}
            Err(e) => return Err(fs_error(dir)(e)),
        }
    }
    let arch_line = format!("{arch}\n");
    let files = INIT_FILES
        .into_iter()
        .chain([("/etc/apk/arch", 0o644, arch_line.as_bytes())]);
    for (file, perms, content) in files {
        tree.write_file(file, content, FileMode(perms))
            .map_err(fs_error(file))?;
    }
    for (dev, major, minor, perms) in DEVICES {
        // apko builds with WithIgnoreMknodErrors(true).
        let _ = tree.mknod(dev, S_IFCHR | perms, major, minor);
    }
    // Opened without truncation; closing the empty tar writer writes the 1024-byte end marker
    // at offset 0.
    tree.read_or_create(SCRIPTS_TAR, FileMode(0o644))
        .map_err(fs_error(SCRIPTS_TAR))?;
    tree.edit_file(SCRIPTS_TAR, |data| {
        if data.len() < 1024 {
            data.resize(1024, 0);
        }
        if let Some(marker) = data.get_mut(..1024) {
            marker.fill(0);
        }
    })
    .map_err(fs_error(SCRIPTS_TAR))
}

/// InitKeyring: `/etc/apk/keys/<name>` for each key, mode 0644.
pub(super) fn init_keyring(tree: &mut Tree, keys: &[KeyFile]) -> Result<(), Error> {
    let dir = "/etc/apk/keys";
    tree.mkdir_all(dir, FileMode(0o755))
        .map_err(fs_error(dir))?;
    for key in keys {
        let file = path::join(&["etc", "apk", "keys", &path::base(&key.name)]);
        tree.write_file(&file, &key.content, FileMode(0o644))
            .map_err(fs_error(&file))?;
    }
    Ok(())
}

/// Sorted, deduplicated (Go's `sets.List`).
fn sorted_set(items: &[String]) -> Vec<String> {
    let mut items = items.to_vec();
    items.sort();
    items.dedup();
    items
}

/// SetRepositories: one repository per line, plus a final newline; at least one is required.
pub(super) fn set_repositories(
    tree: &mut Tree,
    repositories: &[String],
    which: &'static str,
) -> Result<(), Error> {
    let repositories = sorted_set(repositories);
    if repositories.is_empty() {
        return Err(Error::NoRepositories { which });
    }
    let file = "etc/apk/repositories";
    let data = format!("{}\n", repositories.join("\n"));
    tree.write_file(file, data.as_bytes(), FileMode(0o644))
        .map_err(fs_error(file))?;
    Ok(())
}

/// SetWorld: the sorted package strings, one per line, plus a final newline.
pub(super) fn set_world(tree: &mut Tree, world: &[String]) -> Result<(), Error> {
    let file = "etc/apk/world";
    let data = format!("{}\n", sorted_set(world).join("\n"));
    tree.write_file(file, data.as_bytes(), FileMode(0o644))
        .map_err(fs_error(file))?;
    Ok(())
}

/// `installCharDevices`: the devices again, where missing (created with mode 0, as apko's
/// `Mknod(path, S_IFCHR, …)` leaves no permission bits).
pub(super) fn install_char_devices(tree: &mut Tree) -> Result<(), Error> {
    for (dev, major, minor, _) in DEVICES {
        if tree.stat(dev).is_ok() {
            continue;
        }
        let dir = path::dir(dev);
        tree.mkdir_all(&dir, FileMode(0o755))
            .map_err(fs_error(&dir))?;
        tree.mknod(dev, S_IFCHR, major, minor)
            .map_err(fs_error(dev))?;
    }
    Ok(())
}

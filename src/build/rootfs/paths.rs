//! Path mutations from the configuration's `paths`, in order.
//!
//! Each mutation other than `permissions` is followed by a permissions step on the same path:
//! chmod to the configured bits (special bits as Go flags), and chown only when a uid or gid is
//! set (the other defaulting to 0). Like every memFS call these resolve symlinks, so the
//! permissions step after a `symlink` mutation changes the link's target. A `hardlink` is a
//! plain second name, written later as a second full file.
//!
//! Not for: the filesystem operations themselves (`build::fs`).
//! Reproduces apko `pkg/build/paths.go` (reference/apko-format.md §6.7 step 1).

use super::{Error, PathMutation, fs_error};
use crate::build::fs::{self, FileMode, Tree, path};

/// Applies `mutations` in order.
pub(super) fn mutate(tree: &mut Tree, mutations: &[PathMutation]) -> Result<(), Error> {
    for m in mutations {
        let applied = match m.kind.as_str() {
            "directory" => tree
                .mkdir_all(&m.path, FileMode::from_unix_permissions(m.permissions))
                .map(|_| ()),
            "empty-file" => {
                ensure_parent(tree, &m.path).and_then(|()| tree.create(&m.path).map(|_| ()))
            }
            "hardlink" => ensure_parent(tree, &m.path).and_then(|()| {
                if tree.stat(&m.path).is_ok() {
                    tree.remove(&m.path)?;
                }
                tree.link(&m.source, &m.path, None)
            }),
            "symlink" => ensure_parent(tree, &m.path)
                .and_then(|()| tree.symlink(&m.source, &m.path).map(|_| ())),
            "permissions" => Ok(()),
            other => {
                return Err(Error::PathMutationType {
                    path: m.path.clone(),
                    kind: other.to_owned(),
                });
            }
        };
        match applied {
            Ok(()) => {}
            Err(fs::Error::Exists { .. }) => {
                return Err(Error::PathConflict {
                    path: m.path.clone(),
                });
            }
            Err(e) => return Err(fs_error(&m.path)(e)),
        }
        permissions(tree, m)?;
    }
    Ok(())
}

fn ensure_parent(tree: &mut Tree, target: &str) -> Result<(), fs::Error> {
    tree.mkdir_all(&path::dir(target), FileMode(0o755))
        .map(|_| ())
}

/// `mutatePermissions`, recursive or not.
fn permissions(tree: &mut Tree, m: &PathMutation) -> Result<(), Error> {
    if !m.recursive {
        return permissions_direct(tree, &m.path, m);
    }
    // fs.WalkDir from the path: the path itself, then (if it is a directory) every entry
    // below it in name order, not following symlinks below the root.
    let root = tree.stat(&m.path).map_err(fs_error(&m.path))?;
    permissions_direct(tree, &m.path, m)?;
    if !root.is_dir {
        return Ok(());
    }
    let mut pending: Vec<(String, Vec<(String, bool)>)> =
        vec![(m.path.clone(), listing(tree, &m.path)?)];
    while let Some((dir, entries)) = pending.pop() {
        let mut entries = entries.into_iter();
        let Some((name, is_dir)) = entries.next() else {
            continue;
        };
        let rest: Vec<(String, bool)> = entries.collect();
        pending.push((dir.clone(), rest));
        let child = path::join(&[&dir, &name]);
        permissions_direct(tree, &child, m)?;
        if is_dir {
            let children = listing(tree, &child)?;
            pending.push((child, children));
        }
    }
    Ok(())
}

fn listing(tree: &Tree, dir: &str) -> Result<Vec<(String, bool)>, Error> {
    let entries = tree.read_dir(dir).map_err(fs_error(dir))?;
    Ok(entries
        .into_iter()
        .map(|(name, id)| (name, tree.node(id).is_dir()))
        .collect())
}

fn permissions_direct(tree: &mut Tree, target: &str, m: &PathMutation) -> Result<(), Error> {
    tree.chmod(target, FileMode::from_unix_permissions(m.permissions))
        .map_err(fs_error(target))?;
    if m.uid.is_none() && m.gid.is_none() {
        return Ok(());
    }
    tree.chown(
        target,
        i64::from(m.uid.unwrap_or(0)),
        i64::from(m.gid.unwrap_or(0)),
    )
    .map_err(fs_error(target))
}

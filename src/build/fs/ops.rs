//! memFS operations on the [`Tree`]: name resolution, directories, links, devices,
//! modes, owners, times and extended attributes.
//!
//! Every method mirrors the memFS method of the same name, quirks included (see the module
//! documentation of [`super`]).
//!
//! Not for: opening, reading and writing files (`file`), installing package entries
//! (`install`), spooled data (`content`).
//! Reproduces apko `pkg/tarfs/fs.go` (`getNode`, `Mkdir`, `MkdirAll`, `Symlink`,
//! `link`, `Mknod`, `Chmod`, `Chown`, `Chtimes`, `Readlink`, `Remove`, `SetXattr`, `ReadDir`).

use super::path;
use super::{Error, FileMode, Node, NodeId, Tree};
use crate::codec::tar::Timestamp;

/// Linux's limit on symbolic links followed while resolving one name (memFS `maxLinks`).
pub(super) const MAX_LINKS: usize = 40;

/// What `Stat` tells about a resolved name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// The node the name resolves to.
    pub id: NodeId,
    /// Its Go file mode.
    pub mode: FileMode,
    /// Whether it is a directory.
    pub is_dir: bool,
    /// memFS `Size()`.
    pub size: i64,
    /// Modification time.
    pub mtime: Timestamp,
}

pub(super) fn not_found(path: &str) -> Error {
    Error::NotFound {
        path: path.to_owned(),
    }
}

impl Tree {
    /// memFS `getNode`: resolves `path` from the root, following every symbolic link met,
    /// the last component included.
    pub fn resolve(&self, path: &str) -> Result<NodeId, Error> {
        self.resolve_counting(path, 0)
    }

    fn resolve_counting(&self, path: &str, depth: usize) -> Result<NodeId, Error> {
        let mut node = self.root();
        if path == "/" || path == "." {
            return Ok(node);
        }
        let mut traversed: Vec<&str> = Vec::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            let mut child = *self
                .node(node)
                .children
                .get(part)
                .ok_or_else(|| not_found(path))?;
            if self.node(child).mode.has(FileMode::SYMLINK) {
                if depth + 1 > MAX_LINKS {
                    return Err(Error::TooManyLinks {
                        path: path.to_owned(),
                    });
                }
                let target = self.absolute_target(child, &traversed.join("/"));
                child = self.resolve_counting(&target, depth + 1)?;
            }
            node = child;
            traversed.push(part);
        }
        Ok(node)
    }

    /// A symlink's target, joined to `dir` (the directory holding the link) when relative.
    pub(super) fn absolute_target(&self, link: NodeId, dir: &str) -> String {
        let target = &self.node(link).link_target;
        if path::is_abs(target) {
            target.clone()
        } else {
            path::join(&[dir, target])
        }
    }

    /// memFS `Stat` (and `Lstat`, which resolves the same way).
    pub fn stat(&self, path: &str) -> Result<Stat, Error> {
        let id = self.resolve(path)?;
        let node = self.node(id);
        Ok(Stat {
            id,
            mode: node.mode,
            is_dir: node.dir,
            size: node.size(),
            mtime: node.mtime,
        })
    }

    /// Whether `path` resolves.
    pub fn exists(&self, path: &str) -> bool {
        self.resolve(path).is_ok()
    }

    /// The directory that will hold `name` and the name's last element.
    pub(super) fn parent_of(&self, name: &str) -> Result<(NodeId, String), Error> {
        let parent = self.resolve(&path::dir(name))?;
        if !self.node(parent).dir {
            return Err(Error::NotADirectory {
                path: path::dir(name),
            });
        }
        Ok((parent, path::base(name)))
    }

    /// memFS `Mkdir`: one directory with mode `ModeDir | perm`; fails if the name exists.
    pub fn mkdir(&mut self, path: &str, perm: FileMode) -> Result<NodeId, Error> {
        let (parent, base) = self.parent_of(path)?;
        if self.node(parent).children.contains_key(&base) {
            return Err(Error::Exists {
                path: path.to_owned(),
            });
        }
        let id = self.add_node(Node::directory(perm));
        self.node_mut(parent).children.insert(base, id);
        Ok(id)
    }

    /// memFS `MkdirAll`: creates missing directories with `perm`, follows symlinks, and leaves
    /// existing directories (and their modes) alone.
    pub fn mkdir_all(&mut self, path: &str, perm: FileMode) -> Result<NodeId, Error> {
        let mut node = self.root();
        let mut traversed: Vec<&str> = Vec::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            let mut child = match self.node(node).children.get(part) {
                Some(id) => *id,
                None => {
                    let id = self.add_node(Node::directory(perm));
                    self.node_mut(node).children.insert(part.to_owned(), id);
                    id
                }
            };
            if self.node(child).mode.has(FileMode::SYMLINK) {
                let target = self.absolute_target(child, &traversed.join("/"));
                child = self.resolve(&target)?;
            }
            if !self.node(child).dir {
                return Err(Error::NotADirectory {
                    path: path.to_owned(),
                });
            }
            node = child;
            traversed.push(part);
        }
        Ok(node)
    }

    /// memFS `Symlink`: a new link (mode `ModeSymlink|0777`) with the parent's mtime.
    pub fn symlink(&mut self, target: &str, name: &str) -> Result<NodeId, Error> {
        let (parent, base) = self.parent_of(name)?;
        if self.node(parent).children.contains_key(&base) {
            return Err(Error::Exists {
                path: name.to_owned(),
            });
        }
        let mtime = self.node(parent).mtime;
        let id = self.add_node(Node {
            mode: FileMode(FileMode::SYMLINK | 0o777),
            link_target: target.to_owned(),
            mtime,
            ..Node::default()
        });
        self.node_mut(parent).children.insert(base, id);
        Ok(id)
    }

    /// memFS `link`: `name` becomes another name of the node `target` resolves to. A package's
    /// hard-link entry records its link name so the layer writes a hard link for `name`.
    pub fn link(
        &mut self,
        target: &str,
        name: &str,
        entry_link: Option<&str>,
    ) -> Result<(), Error> {
        let (parent, base) = self.parent_of(name)?;
        let node = self.resolve(target).map_err(|_| not_found(target))?;
        if self.node(parent).children.contains_key(&base) {
            return Err(Error::Exists {
                path: name.to_owned(),
            });
        }
        self.node_mut(parent).children.insert(base, node);
        if let Some(link) = entry_link {
            self.node_mut(node)
                .hardlinks
                .insert(name.to_owned(), link.to_owned());
        }
        Ok(())
    }

    /// memFS `Mknod` for a character device: `mode` is raw (`S_IFCHR|perm`, of which only the
    /// permission bits mean anything to Go); the device copies its parent's mtime.
    pub fn mknod(&mut self, path: &str, mode: u32, major: u32, minor: u32) -> Result<(), Error> {
        let (parent, base) = self.parent_of(path)?;
        if self.node(parent).children.contains_key(&base) {
            return Err(Error::Exists {
                path: path.to_owned(),
            });
        }
        let mtime = self.node(parent).mtime;
        let id = self.add_node(Node {
            mode: FileMode(mode | FileMode::CHAR_DEVICE | FileMode::DEVICE),
            major,
            minor,
            mtime,
            ..Node::default()
        });
        self.node_mut(parent).children.insert(base, id);
        Ok(())
    }

    /// memFS `Chmod`: `perm` replaces everything but the type bits (of the link's target).
    pub fn chmod(&mut self, path: &str, perm: FileMode) -> Result<(), Error> {
        let id = self.resolve(path)?;
        let node = self.node_mut(id);
        node.mode = FileMode(perm.0 | node.mode.file_type());
        Ok(())
    }

    /// memFS `Chown`.
    pub fn chown(&mut self, path: &str, uid: i64, gid: i64) -> Result<(), Error> {
        let id = self.resolve(path)?;
        let node = self.node_mut(id);
        node.uid = uid;
        node.gid = gid;
        Ok(())
    }

    /// memFS `Chtimes` (only the modification time is kept).
    pub fn chtimes(&mut self, path: &str, mtime: Timestamp) -> Result<(), Error> {
        let id = self.resolve(path)?;
        self.node_mut(id).mtime = mtime;
        Ok(())
    }

    /// memFS `Readlink`: the target of the link named `name` (not followed).
    pub fn readlink(&self, name: &str) -> Result<String, Error> {
        let (parent, base) = self.parent_of(name)?;
        let id = *self
            .node(parent)
            .children
            .get(&base)
            .ok_or_else(|| not_found(name))?;
        let node = self.node(id);
        if !node.mode.has(FileMode::SYMLINK) {
            return Err(Error::NotASymlink {
                path: name.to_owned(),
            });
        }
        Ok(node.link_target.clone())
    }

    /// memFS `Remove`: drops the name from its directory.
    pub fn remove(&mut self, name: &str) -> Result<(), Error> {
        let (parent, base) = self.parent_of(name)?;
        self.node_mut(parent)
            .children
            .remove(&base)
            .map(|_| ())
            .ok_or_else(|| not_found(name))
    }

    /// memFS `SetXattr` (on the node the name resolves to).
    pub fn set_xattr(&mut self, path: &str, name: &str, value: &[u8]) -> Result<(), Error> {
        let id = self.resolve(path)?;
        self.node_mut(id)
            .xattrs
            .insert(name.to_owned(), value.to_vec());
        Ok(())
    }

    /// memFS `ReadDir`: the entries of a directory in name order.
    pub fn read_dir(&self, path: &str) -> Result<Vec<(String, NodeId)>, Error> {
        let id = self.resolve(path)?;
        let node = self.node(id);
        if !node.dir {
            return Err(Error::NotADirectory {
                path: path.to_owned(),
            });
        }
        Ok(node
            .children
            .iter()
            .map(|(name, id)| (name.clone(), *id))
            .collect())
    }
}

//! memFS operations on the [`Tree`]: name resolution, directories, files, links, devices,
//! modes, owners, times and extended attributes.
//!
//! Every method mirrors the memFS method of the same name, quirks included (see the module
//! documentation of [`super`]).
//!
//! Not for: installing package entries (`install`), spooled data (`content`).
//! Reproduces apko `pkg/tarfs/fs.go` (`getNode`, `Mkdir`, `MkdirAll`, `openFile`, `Symlink`,
//! `link`, `Mknod`, `Chmod`, `Chown`, `Chtimes`, `Readlink`, `Remove`, `SetXattr`, `ReadDir`).

use super::content::Section;
use super::path;
use super::{Error, FileMode, Node, NodeId, Tree};
use crate::build::tar::Timestamp;
use std::io::{self, Read};

/// Linux's limit on symbolic links followed while resolving one name (memFS `maxLinks`).
const MAX_LINKS: usize = 40;

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

/// `os.OpenFile` flags memFS looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OpenFlags(u8);

impl OpenFlags {
    const CREATE: u8 = 1;
    const TRUNCATE: u8 = 2;
    const APPEND: u8 = 4;
    const WRITE: u8 = 8;

    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

/// The content of a regular file, read from its buffer or streamed from its package.
pub struct Content<'a> {
    source: ContentSource<'a>,
    len: u64,
}

impl Content<'_> {
    /// How many bytes reading yields. It can differ from the node's size when a package has
    /// several entries of one name (memFS reads the last, sizes come from the first written).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether reading yields nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads at `offset` without moving the read position (Go's `io.ReaderAt`).
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        match &self.source {
            ContentSource::Buffer(bytes) => {
                let start = usize::try_from(offset).unwrap_or(usize::MAX);
                let available = bytes.get(start..).unwrap_or_default();
                let n = available.len().min(buf.len());
                if let (Some(dst), Some(src)) = (buf.get_mut(..n), available.get(..n)) {
                    dst.copy_from_slice(src);
                }
                Ok(n)
            }
            ContentSource::Package(section) => section.read_at(offset, buf),
        }
    }
}

enum ContentSource<'a> {
    Buffer(&'a [u8]),
    Package(Section<'a>),
}

impl Read for Content<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.source {
            ContentSource::Buffer(bytes) => bytes.read(buf),
            ContentSource::Package(section) => section.read(buf),
        }
    }
}

fn not_found(path: &str) -> Error {
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
    fn absolute_target(&self, link: NodeId, dir: &str) -> String {
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

    /// memFS `openFile`: the node a file name opens, created with `perm` when asked and
    /// missing, symlinks followed. Opening a package file for writing loads its content into the
    /// buffer first; truncating then empties the buffer (the package reference stays).
    fn open_file(
        &mut self,
        name: &str,
        flags: OpenFlags,
        perm: FileMode,
        links: usize,
    ) -> Result<NodeId, Error> {
        let parent_name = path::dir(name);
        let base = path::base(name);
        let parent = self.resolve(&parent_name)?;
        if !self.node(parent).dir {
            return Err(Error::NotADirectory { path: parent_name });
        }
        let existing = self.node(parent).children.get(&base).copied();
        let id = match existing {
            None if !flags.has(OpenFlags::CREATE) => {
                if parent_name == name {
                    return Ok(parent);
                }
                return Err(not_found(name));
            }
            Some(id) if self.node(id).dir => {
                return Err(Error::IsADirectory {
                    path: name.to_owned(),
                });
            }
            Some(id) => id,
            None => {
                let id = self.add_node(Node {
                    mode: perm,
                    ..Node::default()
                });
                self.node_mut(parent).children.insert(base, id);
                id
            }
        };
        if self.node(id).mode.has(FileMode::SYMLINK) {
            if links + 1 > MAX_LINKS {
                return Err(Error::TooManyLinks {
                    path: name.to_owned(),
                });
            }
            let target = self.absolute_target(id, &parent_name);
            return self.open_file(&target, flags, perm, links + 1);
        }
        let writing = flags.has(OpenFlags::APPEND) || flags.has(OpenFlags::WRITE);
        if writing && self.node(id).reads_package().is_some() {
            let mut loaded = Vec::new();
            self.content(id)?
                .read_to_end(&mut loaded)
                .map_err(|source| Error::Spool { source })?;
            self.node_mut(id).data = loaded;
        }
        if flags.has(OpenFlags::TRUNCATE) {
            self.node_mut(id).data.clear();
        }
        Ok(id)
    }

    /// memFS `WriteFile`: create (with `perm`) or truncate, then write `data`.
    pub fn write_file(&mut self, name: &str, data: &[u8], perm: FileMode) -> Result<NodeId, Error> {
        let id = self.create_with(name, perm)?;
        self.node_mut(id).data.extend_from_slice(data);
        Ok(id)
    }

    /// memFS `Create`: like `os.Create` but with mode 0644 for a new file.
    pub fn create(&mut self, name: &str) -> Result<NodeId, Error> {
        self.create_with(name, FileMode(0o644))
    }

    fn create_with(&mut self, name: &str, perm: FileMode) -> Result<NodeId, Error> {
        let flags = OpenFlags(OpenFlags::CREATE | OpenFlags::TRUNCATE | OpenFlags::WRITE);
        self.open_file(name, flags, perm, 0)
    }

    /// Opening with `O_RDONLY|O_CREATE` (how apko's account files are read): creates an empty
    /// file with `perm` if missing, and returns the content.
    pub fn read_or_create(&mut self, name: &str, perm: FileMode) -> Result<Vec<u8>, Error> {
        let flags = OpenFlags(OpenFlags::CREATE);
        let id = self.open_file(name, flags, perm, 0)?;
        self.read_node(id)
    }

    /// `O_CREATE|O_APPEND|O_WRONLY`: appends `data`, creating the file with `perm` if missing.
    pub fn append_file(&mut self, name: &str, data: &[u8], perm: FileMode) -> Result<(), Error> {
        let flags = OpenFlags(OpenFlags::CREATE | OpenFlags::APPEND | OpenFlags::WRITE);
        let id = self.open_file(name, flags, perm, 0)?;
        self.node_mut(id).data.extend_from_slice(data);
        Ok(())
    }

    /// `O_WRONLY|O_APPEND` on an existing file (no creation): loads a package file's content
    /// into its buffer, as memFS does when a package file is opened for writing.
    pub fn open_for_append(&mut self, name: &str) -> Result<(), Error> {
        let flags = OpenFlags(OpenFlags::APPEND | OpenFlags::WRITE);
        self.open_file(name, flags, FileMode(0o644), 0).map(|_| ())
    }

    /// `O_RDWR` on an existing file: `edit` gets the current content to change in place.
    pub fn edit_file<T>(
        &mut self,
        name: &str,
        edit: impl FnOnce(&mut Vec<u8>) -> T,
    ) -> Result<T, Error> {
        let flags = OpenFlags(OpenFlags::WRITE);
        let id = self.open_file(name, flags, FileMode(0), 0)?;
        Ok(edit(&mut self.node_mut(id).data))
    }

    /// memFS `ReadFile`: the whole content, symlinks followed.
    pub fn read_file(&self, name: &str) -> Result<Vec<u8>, Error> {
        let id = self.lookup_file(name, 0)?;
        self.read_node(id)
    }

    /// memFS `Open` for reading: the node a file name opens, without creating anything.
    pub fn open(&self, name: &str) -> Result<NodeId, Error> {
        self.lookup_file(name, 0)
    }

    /// The read-only path of `openFile`.
    fn lookup_file(&self, name: &str, links: usize) -> Result<NodeId, Error> {
        let parent_name = path::dir(name);
        let base = path::base(name);
        let parent = self.resolve(&parent_name)?;
        if !self.node(parent).dir {
            return Err(Error::NotADirectory { path: parent_name });
        }
        let Some(id) = self.node(parent).children.get(&base).copied() else {
            if parent_name == name {
                return Ok(parent);
            }
            return Err(not_found(name));
        };
        if self.node(id).dir {
            return Err(Error::IsADirectory {
                path: name.to_owned(),
            });
        }
        if self.node(id).mode.has(FileMode::SYMLINK) {
            if links + 1 > MAX_LINKS {
                return Err(Error::TooManyLinks {
                    path: name.to_owned(),
                });
            }
            let target = self.absolute_target(id, &parent_name);
            return self.lookup_file(&target, links + 1);
        }
        Ok(id)
    }

    fn read_node(&self, id: NodeId) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.content(id)?
            .read_to_end(&mut out)
            .map_err(|source| Error::Spool { source })?;
        Ok(out)
    }

    /// The content of a regular file node: its package entry's data while nothing was written
    /// over it, else its buffer.
    pub fn content(&self, id: NodeId) -> Result<Content<'_>, Error> {
        let node = self.node(id);
        let Some(file) = node.reads_package() else {
            return Ok(Content {
                source: ContentSource::Buffer(&node.data),
                len: node.data.len() as u64,
            });
        };
        let package = self.packages.get(file.package.0);
        let entry = package.and_then(|p| p.data.open(&file.name));
        match (package, entry) {
            (Some(package), Some(entry)) => {
                let len = u64::try_from(entry.header.size).unwrap_or(0);
                Ok(Content {
                    source: ContentSource::Package(package.data.section(entry.offset, len)),
                    len,
                })
            }
            _ => Err(Error::ContentMissing {
                path: String::from_utf8_lossy(&file.name).into_owned(),
                package: package.map(|p| p.name.clone()).unwrap_or_default(),
            }),
        }
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

//! memFS file operations on the [`Tree`]: opening (with creation, truncation and the loading
//! of package content into the buffer), reading, writing, appending, and streaming a file's
//! content from its package.
//!
//! Not for: names, directories, links and metadata (`ops`), the spool (`content`).
//! Reproduces apko `pkg/tarfs/fs.go` (`openFile`, `newMemFile`, `memFile.Read`/`ReadAt`/`Write`,
//! `ReadFile`, `WriteFile`, `Create`).

use super::content::Section;
use super::ops::{MAX_LINKS, not_found};
use super::path;
use super::{Error, FileMode, Node, NodeId, Tree};
use std::io::{self, Read};

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

impl Tree {
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
}

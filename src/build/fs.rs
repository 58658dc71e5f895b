//! The in-memory root filesystem apko assembles an image in, with apko's install rules.
//!
//! A [`Tree`] is apko's `tarfs` memFS: directories, regular files, symbolic links, character
//! devices and hard links (several names for one node), each node with a Go file mode, owner,
//! modification time, extended attributes and content. Content is either a small buffer apko
//! wrote itself or a reference into a package's spooled data tar ([`Spool`], [`PackageData`]),
//! read only when the layer is written, so memory stays bounded whatever the image size.
//!
//! Operations follow memFS exactly, including its quirks: every name is resolved through
//! symbolic links (even the last component, so `Chmod` of a link changes its target), `.` and
//! `..` are ordinary names, `MkdirAll` leaves existing directories alone, new symlinks and
//! devices copy their parent's mtime, and a write to a package file keeps its package
//! reference (an empty write shows the package content again).
//!
//! [`Tree::install_package`] is `WriteHeader`: directories lose setuid/setgid/sticky, owners are
//! dropped (everything is 0:0), modification times are kept and a directory takes the mtime of
//! the last package that contains it; file conflicts are settled by checksum, `replaces` and
//! origin, and the owner map that the installed database needs is kept.
//!
//! Not for: what apko writes into the tree and in which order (`build::rootfs`), turning the
//! tree into a layer (`build::walk`).
//! Reproduces reference/apko-format.md §6.1 and §4.8 (apko `pkg/tarfs/fs.go`,
//! `pkg/apk/apk/install.go` `lazilyInstallAPKFiles`).

mod content;
mod file;
mod install;
mod mode;
mod ops;
pub mod path;

pub use content::{DataEntry, PackageData, PackageWriter, Spool};
pub use file::Content;
pub use install::{InstallPackage, Installed};
pub use mode::FileMode;
pub use ops::Stat;

use crate::codec::tar::{self, Timestamp};
use std::collections::{BTreeMap, HashMap};

/// A node of the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(usize);

/// A package installed into the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageId(usize);

/// What [`Tree::node`] returns for an id the tree did not make.
static NO_NODE: Node = Node {
    mode: FileMode(0),
    dir: false,
    uid: 0,
    gid: 0,
    mtime: Timestamp {
        seconds: 0,
        nanos: 0,
    },
    link_target: String::new(),
    major: 0,
    minor: 0,
    children: BTreeMap::new(),
    xattrs: BTreeMap::new(),
    hardlinks: BTreeMap::new(),
    data: Vec::new(),
    package: None,
};

/// The in-memory root filesystem.
#[derive(Debug, Clone)]
pub struct Tree {
    nodes: Vec<Node>,
    packages: Vec<TreePackage>,
    /// Last package to write each regular file, by the name its tar header gave (apko's
    /// `installedFiles`).
    owners: HashMap<String, PackageId>,
}

#[derive(Debug, Clone)]
struct TreePackage {
    name: String,
    origin: String,
    replaces: Vec<String>,
    data: PackageData,
}

/// One file, directory, link or device.
#[derive(Debug, Clone, Default)]
pub struct Node {
    mode: FileMode,
    dir: bool,
    uid: i64,
    gid: i64,
    mtime: Timestamp,
    link_target: String,
    major: u32,
    minor: u32,
    children: BTreeMap<String, NodeId>,
    xattrs: BTreeMap<String, Vec<u8>>,
    /// Names under which a package's hard-link entry made this node, with that entry's link
    /// name.
    hardlinks: BTreeMap<String, String>,
    data: Vec<u8>,
    package: Option<PackageFile>,
}

/// A regular file or symlink that came from a package.
#[derive(Debug, Clone)]
struct PackageFile {
    package: PackageId,
    /// The entry's name in the package's tar; data is looked up by it (tarfs `Open`).
    name: Vec<u8>,
    size: i64,
    checksum: Vec<u8>,
}

impl Node {
    fn directory(mode: FileMode) -> Node {
        Node {
            mode: FileMode(FileMode::DIR | mode.0),
            dir: true,
            ..Node::default()
        }
    }

    /// The Go file mode.
    pub fn mode(&self) -> FileMode {
        self.mode
    }

    /// Whether it is a directory.
    pub fn is_dir(&self) -> bool {
        self.dir
    }

    /// Owner user id.
    pub fn uid(&self) -> i64 {
        self.uid
    }

    /// Owner group id.
    pub fn gid(&self) -> i64 {
        self.gid
    }

    /// Modification time (0 for nodes apko created without one).
    pub fn mtime(&self) -> Timestamp {
        self.mtime
    }

    /// Target of a symbolic link.
    pub fn link_target(&self) -> &str {
        &self.link_target
    }

    /// Device major and minor numbers.
    pub fn device(&self) -> (u32, u32) {
        (self.major, self.minor)
    }

    /// Extended attributes.
    pub fn xattrs(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.xattrs
    }

    /// The link name of the hard-link entry that created the name `path`, if one did.
    pub fn hardlink(&self, path: &str) -> Option<&str> {
        self.hardlinks.get(path).map(String::as_str)
    }

    /// The children of a directory, in name order.
    pub fn children(&self) -> impl Iterator<Item = (&str, NodeId)> {
        self.children.iter().map(|(name, id)| (name.as_str(), *id))
    }

    /// memFS `Size()`: the package entry's size while nothing was written over it, else the
    /// buffer's length.
    pub fn size(&self) -> i64 {
        match &self.package {
            Some(file) if self.data.is_empty() => file.size,
            _ => self.data.len() as i64,
        }
    }

    /// Whether reading goes to the package (memFS reads the tarfs only then).
    fn reads_package(&self) -> Option<&PackageFile> {
        self.package
            .as_ref()
            .filter(|file| self.data.is_empty() && file.size != 0)
    }
}

/// Why a filesystem operation or a package installation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A name does not resolve.
    #[error("{path}: no such file or directory")]
    NotFound {
        /// The name.
        path: String,
    },
    /// A name to create already exists.
    #[error("{path}: file exists")]
    Exists {
        /// The name.
        path: String,
    },
    /// A parent, or a name to list, is not a directory.
    #[error("{path}: not a directory")]
    NotADirectory {
        /// The name.
        path: String,
    },
    /// A file operation met a directory.
    #[error("{path}: is a directory")]
    IsADirectory {
        /// The name.
        path: String,
    },
    /// `Readlink` of something that is not a symbolic link.
    #[error("{path}: not a symbolic link")]
    NotASymlink {
        /// The name.
        path: String,
    },
    /// More than 40 symbolic links while resolving a name.
    #[error("{path}: too many levels of symbolic links")]
    TooManyLinks {
        /// The name.
        path: String,
    },
    /// Two packages ship different content at one path and neither replaces the other.
    #[error(
        "file conflict at {path}: {existing} (origin {existing_origin}) and {new} (origin {new_origin})"
    )]
    FileConflict {
        /// The path.
        path: String,
        /// The package that installed the file first.
        existing: String,
        /// Its origin.
        existing_origin: String,
        /// The package that tried to overwrite it.
        new: String,
        /// Its origin.
        new_origin: String,
    },
    /// A package file collides with something apko created itself (a directory, a device, an
    /// empty file) or with a file apko wrote whose content differs.
    #[error("{package}: conflicting file at {path} was not installed by a package")]
    ForeignConflict {
        /// The package.
        package: String,
        /// The path.
        path: String,
    },
    /// A regular file or symlink without an `APK-TOOLS.checksum.SHA1` record.
    #[error("{package}: {path} has no checksum")]
    MissingChecksum {
        /// The package.
        package: String,
        /// The entry.
        path: String,
    },
    /// The checksum record is neither `Q1`+base64 nor hex.
    #[error("{package}: checksum of {path} does not decode")]
    BadChecksum {
        /// The package.
        package: String,
        /// The entry.
        path: String,
    },
    /// An entry type apko does not install (FIFOs, devices, sockets, PAX globals…).
    #[error("{package}: {path} has unsupported tar type {typeflag:?}")]
    UnsupportedEntry {
        /// The package.
        package: String,
        /// The entry.
        path: String,
        /// The typeflag byte as a character.
        typeflag: char,
    },
    /// An entry name is empty or not UTF-8.
    #[error("{package}: entry name {path:?} is empty or not UTF-8")]
    BadName {
        /// The package.
        package: String,
        /// The name, lossily decoded.
        path: String,
    },
    /// A package's data tar does not parse.
    #[error("{package}: data tar")]
    PackageTar {
        /// The package.
        package: String,
        /// The tar error.
        #[source]
        source: tar::Error,
    },
    /// A package file's content cannot be found in its package (a broken link inside it).
    #[error("{path}: content not found in package {package}")]
    ContentMissing {
        /// The file.
        path: String,
        /// The package.
        package: String,
    },
    /// The spool file cannot be created, written or read.
    #[error("package spool")]
    Spool {
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A thread panicked while holding the spool.
    #[error("package spool lock poisoned")]
    SpoolPoisoned,
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new()
    }
}

impl Tree {
    /// An empty filesystem: just the root directory (mode 0755).
    pub fn new() -> Tree {
        Tree {
            nodes: vec![Node::directory(FileMode(0o755))],
            packages: Vec::new(),
            owners: HashMap::new(),
        }
    }

    /// The root directory.
    pub fn root(&self) -> NodeId {
        NodeId(0)
    }

    /// A node by id (an id from another tree gives an empty node rather than a panic).
    pub fn node(&self, id: NodeId) -> &Node {
        self.nodes.get(id.0).unwrap_or(&NO_NODE)
    }

    /// Ids reaching here come from this tree's own lookups, so they are in range.
    fn node_mut(&mut self, id: NodeId) -> &mut Node {
        &mut self.nodes[id.0]
    }

    fn add_node(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        NodeId(self.nodes.len() - 1)
    }

    /// The package that last wrote the regular file named `path` (as its tar header named it).
    pub fn owner(&self, path: &str) -> Option<PackageId> {
        self.owners.get(path).copied()
    }

    /// The name of an installed package.
    pub fn package_name(&self, id: PackageId) -> &str {
        self.packages
            .get(id.0)
            .map(|p| p.name.as_str())
            .unwrap_or("")
    }

    /// The package a node's content comes from, if any.
    pub fn node_package(&self, id: NodeId) -> Option<PackageId> {
        self.node(id).package.as_ref().map(|f| f.package)
    }
}

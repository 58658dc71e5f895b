//! Writes the root filesystem as a layer tar, entry for entry as apko does.
//!
//! The tree is walked depth first from the root, each directory's children in byte order of
//! their names; the root itself is not written and symlinks are not followed. Each node's
//! header is what Go's `tar.FileInfoHeader` makes of it, then adjusted as apko does: the full
//! path as name (no `./`, no trailing `/`), permission and setuid/setgid/sticky bits only,
//! the node's owner and mtime, user and group names looked up in the image's final
//! `etc/passwd` and `etc/group` (a bad line ends the lookup table, it does not fail the
//! layer), device numbers for character devices, `SCHILY.xattr.*` records for regular files
//! and directories. A name that a package's hard-link entry created is written as a hard link
//! to that entry's link name; every other name of the node is a full regular file, data
//! streamed from the package's spooled tar or the node's buffer.
//!
//! [`write_layer`] writes the single layer; [`split_layers`] routes the same walk into
//! `build::layering`'s splitter, package files to their group's layer and everything else to
//! the top layer (multi-layer images).
//!
//! Not for: the tar byte format (`codec::tar`), assembling the tree (`build::rootfs`),
//! compression (`compress`).
//! Reproduces reference/apko-format.md §7.1–§7.3 (apko `pkg/build/tarball.go` `writeTar`,
//! `walkFS`; Go `archive/tar` `FileInfoHeader`).

use crate::build::fs::{self, FileMode, Node, NodeId, Tree};
use crate::build::layering::{self, Destination, Splitter};
use crate::build::rootfs::passwd;
use crate::codec::tar::{self, EntryType, Hashed, HashingWriter, Header, PaxRecords};
use std::collections::HashMap;
use std::io::{Read, Write};

/// Why the layer cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file's content cannot be opened.
    #[error("{path}: reading content")]
    Content {
        /// The path in the layer.
        path: String,
        /// The filesystem error.
        #[source]
        source: Box<fs::Error>,
    },
    /// A file yields a different number of bytes than its size (Go's writer fails then).
    #[error("{path}: content is {actual} bytes, its header says {size}")]
    ContentSize {
        /// The path in the layer.
        path: String,
        /// The size in the header.
        size: i64,
        /// The bytes available.
        actual: u64,
    },
    /// A node Go's `FileInfoHeader` refuses (a socket, or no known type).
    #[error("{path}: cannot be represented in a tar header")]
    UnknownMode {
        /// The path in the layer.
        path: String,
    },
    /// A directory contains itself through a hard-linked directory.
    #[error("{path}: directory cycle")]
    Cycle {
        /// The path in the layer.
        path: String,
    },
    /// The layer splitter failed.
    #[error("splitting layers")]
    Layering {
        /// The splitter's error.
        #[source]
        source: Box<layering::Error>,
    },
    /// A package file whose package is in no group.
    #[error("{path}: package {package} is in no layer group")]
    Ungrouped {
        /// The path in the layer.
        path: String,
        /// The package.
        package: String,
    },
    /// The tar writer failed.
    #[error("writing the layer tar")]
    Tar {
        /// The tar error.
        #[source]
        source: tar::Error,
    },
}

/// User and group names by id, from the tree's `etc/passwd` and `etc/group`.
#[derive(Debug, Clone, Default)]
pub struct Names {
    users: HashMap<i64, Vec<u8>>,
    groups: HashMap<i64, Vec<u8>>,
}

impl Names {
    /// apko's lookup tables: every entry parsed before the first bad line, later entries
    /// winning for one id; a missing file gives an empty table.
    pub fn from_tree(tree: &Tree) -> Names {
        let mut names = Names::default();
        if let Ok(text) = tree.read_file("etc/passwd") {
            for user in passwd::parse_users(&text).0 {
                names.users.insert(i64::from(user.uid), user.user_name);
            }
        }
        if let Ok(text) = tree.read_file("etc/group") {
            for group in passwd::parse_groups(&text).0 {
                names.groups.insert(i64::from(group.gid), group.group_name);
            }
        }
        names
    }
}

/// Writes `tree` as an uncompressed layer tar to `out`, returning `out` and the tar's SHA-256
/// (the diff_id) and size.
pub fn write_layer<W: Write>(tree: &Tree, out: W) -> Result<(W, Hashed), Error> {
    let mut writer = tar::Writer::new(HashingWriter::new(out));
    for_each_entry(tree, |header, node| {
        let has_data = tree.node(node).mode().is_regular() && header.size > 0;
        append(&mut writer, tree, &header, has_data.then_some(node))
    })?;
    let hashing = writer.finish().map_err(|source| Error::Tar { source })?;
    Ok(hashing.finish())
}

/// Feeds the walk of `tree` into `splitter` (apko's `splitLayers`): an entry a package wrote
/// (a regular file, symlink or hard link whose node came from a package, even if apko wrote
/// over it later) goes to the layer of the group holding that package by name, everything
/// else to the top layer. `groups` are the groups the splitter was made for, in its order.
pub fn split_layers(
    tree: &Tree,
    groups: &[layering::Group],
    splitter: &mut Splitter,
) -> Result<(), Error> {
    let by_name: HashMap<&str, usize> = groups
        .iter()
        .enumerate()
        .flat_map(|(i, g)| g.packages.iter().map(move |name| (name.as_str(), i)))
        .collect();
    for_each_entry(tree, |header, node| {
        let destination = match tree.node_package(node) {
            None => Destination::Top,
            Some(package) => {
                let name = tree.package_name(package);
                let group = by_name.get(name).ok_or_else(|| Error::Ungrouped {
                    path: String::from_utf8_lossy(&header.name).into_owned(),
                    package: name.to_owned(),
                })?;
                Destination::Group(*group)
            }
        };
        let has_data = header.typeflag == EntryType::REGULAR && header.size > 0;
        let appended = if has_data {
            splitter.append(&header, content(tree, node, &header)?, destination)
        } else {
            splitter.append(&header, std::io::empty(), destination)
        };
        appended.map_err(|source| Error::Layering {
            source: Box::new(source),
        })
    })
}

/// Appends one entry, its data read from `node` when given.
fn append<W: Write>(
    writer: &mut tar::Writer<W>,
    tree: &Tree,
    header: &Header,
    node: Option<NodeId>,
) -> Result<(), Error> {
    match node {
        Some(id) => writer.append(header, content(tree, id, header)?),
        None => writer.append(header, std::io::empty()),
    }
    .map_err(|source| Error::Tar { source })
}

/// Calls `visit` for every entry of the layer in walk order, with its header and node.
pub fn for_each_entry(
    tree: &Tree,
    mut visit: impl FnMut(Header, NodeId) -> Result<(), Error>,
) -> Result<(), Error> {
    let names = Names::from_tree(tree);
    // Depth-first with an explicit stack of the directories being listed.
    let mut stack: Vec<Listing> = Vec::new();
    let root = tree.root();
    stack.push((String::new(), root, children(tree.node(root))));
    while let Some((dir, _, iter)) = stack.last_mut() {
        let Some((name, id)) = iter.next() else {
            stack.pop();
            continue;
        };
        let path = if dir.is_empty() {
            name
        } else {
            format!("{dir}/{name}")
        };
        let node = tree.node(id);
        visit(header(&path, node, &names)?, id)?;
        if node.is_dir() {
            if stack.iter().any(|(_, ancestor, _)| *ancestor == id) {
                return Err(Error::Cycle { path });
            }
            let iter = children(node);
            stack.push((path, id, iter));
        }
    }
    Ok(())
}

/// A directory being walked: its path, its node and the children still to visit.
type Listing = (String, NodeId, std::vec::IntoIter<(String, NodeId)>);

fn children(node: &Node) -> std::vec::IntoIter<(String, NodeId)> {
    node.children()
        .map(|(name, id)| (name.to_owned(), id))
        .collect::<Vec<_>>()
        .into_iter()
}

/// Go's `tar.FileInfoHeader` for a node, with apko's adjustments.
fn header(path: &str, node: &Node, names: &Names) -> Result<Header, Error> {
    let mode = node.mode();
    let mut header = Header {
        name: path.as_bytes().to_vec(),
        mode: mode.tar_mode(),
        uid: node.uid(),
        gid: node.gid(),
        mtime: node.mtime(),
        ..Header::default()
    };
    if mode.is_regular() {
        header.typeflag = EntryType::REGULAR;
        header.size = node.size();
    } else if node.is_dir() {
        header.typeflag = EntryType::DIRECTORY;
    } else if mode.has(FileMode::SYMLINK) {
        header.typeflag = EntryType::SYMLINK;
        header.linkname = node.link_target().as_bytes().to_vec();
    } else if mode.has(FileMode::DEVICE) {
        header.typeflag = if mode.has(FileMode::CHAR_DEVICE) {
            EntryType::CHAR_DEVICE
        } else {
            EntryType::BLOCK_DEVICE
        };
    } else if mode.has(FileMode::NAMED_PIPE) {
        header.typeflag = EntryType::FIFO;
    } else {
        return Err(Error::UnknownMode {
            path: path.to_owned(),
        });
    }
    if let Some(link) = node.hardlink(path) {
        header.typeflag = EntryType::HARDLINK;
        header.size = 0;
        header.linkname = link.as_bytes().to_vec();
    }
    if mode.has(FileMode::CHAR_DEVICE) {
        let (major, minor) = node.device();
        header.devmajor = i64::from(major);
        header.devminor = i64::from(minor);
    }
    if let Some(name) = names.users.get(&header.uid) {
        header.uname = name.clone();
    }
    if let Some(name) = names.groups.get(&header.gid) {
        header.gname = name.clone();
    }
    if mode.has(FileMode::SYMLINK) {
        header.typeflag = EntryType::SYMLINK;
    }
    if header.typeflag == EntryType::REGULAR || header.typeflag == EntryType::DIRECTORY {
        header.pax_records = node
            .xattrs()
            .iter()
            .map(|(k, v)| (format!("SCHILY.xattr.{k}").into_bytes(), v.clone()))
            .collect::<PaxRecords>();
    }
    Ok(header)
}

fn content<'t>(tree: &'t Tree, id: NodeId, header: &Header) -> Result<impl Read + 't, Error> {
    let path = || String::from_utf8_lossy(&header.name).into_owned();
    let content = tree.content(id).map_err(|source| Error::Content {
        path: path(),
        source: Box::new(source),
    })?;
    if i64::try_from(content.len()).ok() != Some(header.size) {
        return Err(Error::ContentSize {
            path: path(),
            size: header.size,
            actual: content.len(),
        });
    }
    Ok(content)
}

//! A layer as a file tree, read from its tar stream in one pass, and the differences between
//! two trees: files added, removed, and changed (content SHA-256, type, size, mode, owner,
//! mtime, link target, device numbers, extended attributes, other PAX records).
//!
//! Nothing is extracted: each entry's content is hashed as it streams past, so memory holds
//! one small record per path, not file contents — except small text files (up to
//! [`TEXT_LIMIT`] bytes each, [`TEXT_BUDGET`] per tree: `/etc/apko.json`, `/etc/passwd`,
//! `/etc/os-release`, the installed database of a small image), kept so that a changed one is
//! shown as a unified diff ([`FileChange::diff`]). Entry order is remembered to explain two
//! trees with the same files but different tar bytes. Pure: a [`Read`] in, values out.
//!
//! Not for: decompressing (the caller hands in the tar stream), comparing whole images
//! ([`crate::rebuild::compare`]).

use std::collections::BTreeMap;
use std::io::Read;

use crate::codec::tar::{self, EntryType, Header, Timestamp};
use crate::oci::digest::Hasher;

/// PAX keys whose values the header fields already carry.
const FIELD_KEYS: [&str; 10] = [
    "path", "linkpath", "size", "uid", "gid", "uname", "gname", "mtime", "atime", "ctime",
];
const XATTR_PREFIX: &str = "SCHILY.xattr.";
/// The largest file whose text is kept for a unified diff.
pub const TEXT_LIMIT: u64 = 64 << 10;
/// The most text kept per tree: past it, changed files show their hashes only.
pub const TEXT_BUDGET: usize = 8 << 20;
/// Lines of context around each change in a unified diff.
const CONTEXT_LINES: usize = 3;

/// One path's metadata and content digest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    /// The path, without a leading `./` or `/` or a trailing `/`.
    pub path: String,
    /// `file`, `dir`, `symlink`, `hardlink`, `char`, `block`, `fifo` or `type <byte>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Content size in bytes (0 for entries without content).
    pub size: u64,
    /// `sha256:<hex>` of a regular file's content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Mode bits in octal (`0644`).
    pub mode: String,
    /// Owner user id.
    pub uid: i64,
    /// Owner group id.
    pub gid: i64,
    /// Owner user name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub uname: String,
    /// Owner group name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub gname: String,
    /// Modification time: Unix seconds, with `.nnnnnnnnn` when not whole.
    pub mtime: String,
    /// Link target of a symbolic or hard link.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub linkname: String,
    /// Device numbers (`major,minor`) of a device node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Extended attributes (`SCHILY.xattr.<name>`), values as text or `hex:<bytes>`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub xattrs: BTreeMap<String, String>,
    /// Other PAX records (e.g. `APK-TOOLS.checksum.SHA1`), values as text or `hex:<bytes>`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub pax: BTreeMap<String, String>,
}

/// A layer's entries by path (the last entry for a path wins, as when extracting), and the
/// order the paths first appeared in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    /// Entries by path.
    pub entries: BTreeMap<String, Entry>,
    /// Paths in stream order.
    pub order: Vec<String>,
    /// The content of small text files (UTF-8, no NUL), by path, within [`TEXT_BUDGET`].
    pub texts: BTreeMap<String, String>,
}

/// One field that differs between two entries for the same path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldChange {
    /// `sha256`, `type`, `size`, `mode`, `uid`, `gid`, `uname`, `gname`, `mtime`, `linkname`,
    /// `device`, `xattr.<name>` or `pax.<key>`.
    pub field: String,
    /// The value on side A (absent: the field is not set there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub a: Option<String>,
    /// The value on side B.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub b: Option<String>,
}

/// A path present on both sides with different metadata or content.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileChange {
    /// The path.
    pub path: String,
    /// What differs.
    pub fields: Vec<FieldChange>,
    /// A unified diff (`--- a/PATH`, `+++ b/PATH`, hunks with 3 lines of context) when the
    /// contents differ and both sides are small text files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// How two trees differ. Paths are sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FileDiff {
    /// Entries only on side B.
    pub added: Vec<Entry>,
    /// Entries only on side A.
    pub removed: Vec<Entry>,
    /// Paths on both sides that differ.
    pub changed: Vec<FileChange>,
    /// Whether the paths appear in a different order (only meaningful when nothing else
    /// differs: it then explains different tar bytes).
    #[serde(rename = "orderDiffers")]
    pub order_differs: bool,
}

impl FileDiff {
    /// Whether no file differs (order aside).
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

impl Tree {
    /// Reads a whole tar stream, hashing each regular file's content on the way.
    pub fn read(stream: impl Read) -> Result<Tree, tar::Error> {
        let mut reader = tar::Reader::new(stream);
        let mut tree = Tree::default();
        let mut buffer = vec![0u8; 1 << 16];
        let mut kept = 0usize;
        while let Some(header) = reader.next_header()? {
            if header.typeflag == EntryType::PAX_GLOBAL {
                continue;
            }
            let small = u64::try_from(header.size).is_ok_and(|size| size <= TEXT_LIMIT);
            let mut content: Option<Vec<u8>> = None;
            let sha256 = if header.typeflag == EntryType::REGULAR {
                let mut hasher = Hasher::new();
                if small && kept < TEXT_BUDGET {
                    content = Some(Vec::new());
                }
                loop {
                    let n = reader
                        .read(&mut buffer)
                        .map_err(|source| tar::Error::Read {
                            offset: reader.offset(),
                            source,
                        })?;
                    if n == 0 {
                        break;
                    }
                    hasher.update(&buffer[..n]);
                    if let Some(content) = &mut content {
                        content.extend_from_slice(&buffer[..n]);
                    }
                }
                Some(hasher.finish().to_string())
            } else {
                None
            };
            let entry = Entry::from_header(&header, sha256);
            if !tree.entries.contains_key(&entry.path) {
                tree.order.push(entry.path.clone());
            }
            match content.and_then(|bytes| String::from_utf8(bytes).ok()) {
                Some(text) if !text.contains('\0') && kept + text.len() <= TEXT_BUDGET => {
                    kept += text.len();
                    tree.texts.insert(entry.path.clone(), text);
                }
                _ => {
                    tree.texts.remove(&entry.path);
                }
            }
            tree.entries.insert(entry.path.clone(), entry);
        }
        Ok(tree)
    }

    /// What changed from `self` (side A) to `other` (side B).
    pub fn diff(&self, other: &Tree) -> FileDiff {
        let mut diff = FileDiff::default();
        for (path, a) in &self.entries {
            match other.entries.get(path) {
                None => diff.removed.push(a.clone()),
                Some(b) => {
                    let fields = a.changes(b);
                    if !fields.is_empty() {
                        let contents_differ = fields.iter().any(|f| f.field == "sha256");
                        let text = match (self.texts.get(path), other.texts.get(path)) {
                            (Some(a), Some(b)) if contents_differ => Some(unified_diff(path, a, b)),
                            _ => None,
                        };
                        diff.changed.push(FileChange {
                            path: path.clone(),
                            fields,
                            diff: text,
                        });
                    }
                }
            }
        }
        for (path, b) in &other.entries {
            if !self.entries.contains_key(path) {
                diff.added.push(b.clone());
            }
        }
        diff.order_differs = self.order != other.order;
        diff
    }
}

impl Entry {
    fn from_header(header: &Header, sha256: Option<String>) -> Entry {
        let mut xattrs = BTreeMap::new();
        let mut pax = BTreeMap::new();
        for (key, value) in header.pax_records.iter() {
            let key = String::from_utf8_lossy(key).into_owned();
            if let Some(name) = key.strip_prefix(XATTR_PREFIX) {
                xattrs.insert(name.to_owned(), text(value));
            } else if !FIELD_KEYS.contains(&key.as_str()) {
                pax.insert(key, text(value));
            }
        }
        let device = matches!(
            header.typeflag,
            EntryType::CHAR_DEVICE | EntryType::BLOCK_DEVICE
        )
        .then(|| format!("{},{}", header.devmajor, header.devminor));
        Entry {
            path: normalise(&header.name),
            kind: kind(header.typeflag),
            size: if header.typeflag.is_header_only() {
                0
            } else {
                u64::try_from(header.size).unwrap_or(0)
            },
            sha256,
            mode: format!("{:04o}", header.mode),
            uid: header.uid,
            gid: header.gid,
            uname: String::from_utf8_lossy(&header.uname).into_owned(),
            gname: String::from_utf8_lossy(&header.gname).into_owned(),
            mtime: time(header.mtime),
            linkname: String::from_utf8_lossy(&header.linkname).into_owned(),
            device,
            xattrs,
            pax,
        }
    }

    /// The fields that differ from `other`, in a fixed order.
    fn changes(&self, other: &Entry) -> Vec<FieldChange> {
        let mut out = Vec::new();
        let mut field = |name: &str, a: Option<String>, b: Option<String>| {
            if a != b {
                out.push(FieldChange {
                    field: name.to_owned(),
                    a,
                    b,
                });
            }
        };
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        field("type", Some(self.kind.clone()), Some(other.kind.clone()));
        field("sha256", self.sha256.clone(), other.sha256.clone());
        field(
            "size",
            Some(self.size.to_string()),
            Some(other.size.to_string()),
        );
        field("mode", Some(self.mode.clone()), Some(other.mode.clone()));
        field(
            "uid",
            Some(self.uid.to_string()),
            Some(other.uid.to_string()),
        );
        field(
            "gid",
            Some(self.gid.to_string()),
            Some(other.gid.to_string()),
        );
        field("uname", some(&self.uname), some(&other.uname));
        field("gname", some(&self.gname), some(&other.gname));
        field("mtime", Some(self.mtime.clone()), Some(other.mtime.clone()));
        field("linkname", some(&self.linkname), some(&other.linkname));
        field("device", self.device.clone(), other.device.clone());
        for (prefix, a, b) in [
            ("xattr.", &self.xattrs, &other.xattrs),
            ("pax.", &self.pax, &other.pax),
        ] {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                field(
                    &format!("{prefix}{key}"),
                    a.get(key).cloned(),
                    b.get(key).cloned(),
                );
            }
        }
        out
    }
}

/// `a` and `b`, the contents of `path` on each side, as a unified diff.
fn unified_diff(path: &str, a: &str, b: &str) -> String {
    similar::TextDiff::from_lines(a, b)
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

fn normalise(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    let mut path: &str = &name;
    while let Some(rest) = path.strip_prefix("./").or_else(|| path.strip_prefix('/')) {
        path = rest;
    }
    let path = path.trim_end_matches('/');
    if path.is_empty() || path == "." {
        ".".to_owned()
    } else {
        path.to_owned()
    }
}

fn kind(typeflag: EntryType) -> String {
    match typeflag {
        EntryType::REGULAR | EntryType::REGULAR_LEGACY => "file".to_owned(),
        EntryType::DIRECTORY => "dir".to_owned(),
        EntryType::SYMLINK => "symlink".to_owned(),
        EntryType::HARDLINK => "hardlink".to_owned(),
        EntryType::CHAR_DEVICE => "char".to_owned(),
        EntryType::BLOCK_DEVICE => "block".to_owned(),
        EntryType::FIFO => "fifo".to_owned(),
        EntryType(other) => format!("type {:?}", char::from(other)),
    }
}

fn time(t: Timestamp) -> String {
    if t.nanos == 0 {
        t.seconds.to_string()
    } else {
        format!("{}.{:09}", t.seconds, t.nanos)
    }
}

/// Bytes as text when they are printable UTF-8, else `hex:<bytes>`.
fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) if !s.chars().any(char::is_control) => s.to_owned(),
        _ => format!("hex:{}", hex::encode(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::tar::Writer;

    fn header(name: &str, typeflag: EntryType, size: i64, mode: i64) -> Header {
        Header {
            typeflag,
            name: name.as_bytes().to_vec(),
            size,
            mode,
            ..Header::default()
        }
    }

    fn archive(entries: &[(Header, &[u8])]) -> Vec<u8> {
        let mut writer = Writer::new(Vec::new());
        for (header, content) in entries {
            writer.append(header, *content).unwrap();
        }
        writer.finish().unwrap()
    }

    #[test]
    fn added_removed_and_changed_files_with_their_fields() {
        let mut xattr = header("usr/bin/ping", EntryType::REGULAR, 4, 0o755);
        xattr
            .pax_records
            .insert("SCHILY.xattr.security.capability", vec![1u8, 0, 0, 2]);
        let a = archive(&[
            (header("etc/", EntryType::DIRECTORY, 0, 0o755), b""),
            (header("etc/motd", EntryType::REGULAR, 2, 0o644), b"hi"),
            (header("etc/gone", EntryType::REGULAR, 0, 0o644), b""),
            (
                header("usr/bin/ping", EntryType::REGULAR, 4, 0o755),
                b"ping",
            ),
        ]);
        let mut link = header("etc/link", EntryType::SYMLINK, 0, 0o777);
        link.linkname = b"motd".to_vec();
        let b = archive(&[
            (header("etc/", EntryType::DIRECTORY, 0, 0o755), b""),
            (header("etc/motd", EntryType::REGULAR, 3, 0o600), b"hey"),
            (link, b""),
            (xattr, b"ping"),
        ]);
        let a = Tree::read(&a[..]).unwrap();
        let b = Tree::read(&b[..]).unwrap();
        let diff = a.diff(&b);
        assert_eq!(diff.removed.len(), 1);
        assert_eq!(diff.removed[0].path, "etc/gone");
        assert_eq!(diff.added.len(), 1);
        assert_eq!(diff.added[0].linkname, "motd");
        let changed: Vec<(&str, Vec<&str>)> = diff
            .changed
            .iter()
            .map(|c| {
                (
                    c.path.as_str(),
                    c.fields.iter().map(|f| f.field.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            changed,
            [
                ("etc/motd", vec!["sha256", "size", "mode"]),
                ("usr/bin/ping", vec!["xattr.security.capability"]),
            ]
        );
        assert_eq!(diff.changed[1].fields[0].b.as_deref(), Some("hex:01000002"));
        assert!(a.diff(&a).is_empty());
    }

    #[test]
    fn a_changed_small_text_file_comes_with_a_unified_diff() {
        let passwd_a = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/sbin/nologin\n";
        let passwd_b = b"root:x:0:0:root:/root:/bin/ash\nnobody:x:65534:65534::/:/sbin/nologin\n";
        let big = vec![b'x'; usize::try_from(TEXT_LIMIT).unwrap() + 1];
        let mut big_b = big.clone();
        big_b[0] = b'y';
        let binary_a = [0u8, 1, 2];
        let binary_b = [0u8, 1, 3];
        let tar = |passwd: &[u8], big: &[u8], binary: &[u8]| {
            archive(&[
                (
                    header("etc/passwd", EntryType::REGULAR, passwd.len() as i64, 0o644),
                    passwd,
                ),
                (
                    header("big", EntryType::REGULAR, big.len() as i64, 0o644),
                    big,
                ),
                (
                    header("bin", EntryType::REGULAR, binary.len() as i64, 0o644),
                    binary,
                ),
            ])
        };
        let a = Tree::read(&tar(passwd_a, &big, &binary_a)[..]).unwrap();
        let b = Tree::read(&tar(passwd_b, &big_b, &binary_b)[..]).unwrap();
        let diff = a.diff(&b);
        let by_path = |p: &str| diff.changed.iter().find(|c| c.path == p).unwrap();
        assert_eq!(
            by_path("etc/passwd").diff.as_deref(),
            Some(
                "--- a/etc/passwd\n+++ b/etc/passwd\n@@ -1,2 +1,2 @@\n\
                 -root:x:0:0:root:/root:/bin/sh\n+root:x:0:0:root:/root:/bin/ash\n \
                 nobody:x:65534:65534::/:/sbin/nologin\n"
            )
        );
        assert_eq!(by_path("big").diff, None, "over the size limit");
        assert_eq!(by_path("bin").diff, None, "not text");
    }

    #[test]
    fn same_files_in_another_order() {
        let x = (header("x", EntryType::REGULAR, 1, 0o644), &b"x"[..]);
        let y = (header("y", EntryType::REGULAR, 1, 0o644), &b"y"[..]);
        let a = Tree::read(&archive(&[x.clone(), y.clone()])[..]).unwrap();
        let b = Tree::read(&archive(&[y, x])[..]).unwrap();
        let diff = a.diff(&b);
        assert!(diff.is_empty());
        assert!(diff.order_differs);
    }
}

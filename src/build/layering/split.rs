//! Splits one walk of the root filesystem into the group layers and the top layer.
//!
//! The walk's directory stack is kept as apko keeps it: only directory entries change it (a
//! directory pops every stacked directory that is not its parent, then is pushed), so after a
//! subdirectory the stack still holds it while later files of the parent pass. Each layer
//! remembers the stack it last saw; before an entry is written to a layer, the stacked
//! directories the layer has not seen since they were pushed are written there first, with
//! the entry's mtime. When `usr/lib/apk/db/installed` passes, every group layer also gets the
//! missing directories (with that file's mtime) and an `installed` entry with the same header
//! but the size of the group's own records.
//!
//! Not for: deciding the destination of an entry (`build::walk`), grouping (`layering`).
//! Reproduces reference/apko-format.md §11 steps 4–6 (apko `pkg/build/layers.go`
//! `splitLayers`, `alignStacks`).

use std::io::Read;
use std::path::Path;

use super::Error;
use crate::build::layer::{BuiltLayer, LayerWriter};
use crate::codec::tar::{EntryType, Header};
use crate::compress;

/// The installed database's path in a layer; its passing triggers the partial databases.
const INSTALLED: &[u8] = b"usr/lib/apk/db/installed";

/// Which layer an entry of the walk goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// The layer of the group (index into the groups) whose package wrote the entry.
    Group(usize),
    /// The top layer: directories, devices, apko's own files, anything no package owns.
    Top,
}

/// A directory on the walk's stack: an identity (apko compares pointers) and its header.
#[derive(Debug, Clone)]
struct Stacked {
    id: u64,
    header: Header,
}

#[derive(Debug)]
struct Layer {
    writer: LayerWriter,
    /// Identities of the stacked directories this layer has.
    stack: Vec<u64>,
}

impl Layer {
    /// apko's `alignStacks`: brings this layer's stack in line with `main` and returns where
    /// the directories it has not yet written start.
    fn align(&mut self, main: &[Stacked]) -> usize {
        let mut i = 0;
        loop {
            if i >= self.stack.len().max(main.len()) {
                return main.len();
            }
            if i >= main.len() {
                self.stack.truncate(i);
                return main.len();
            }
            let same = matches!((self.stack.get(i), main.get(i)), (Some(a), Some(b)) if *a == b.id);
            if !same {
                self.stack.truncate(i);
                self.stack
                    .extend(main.iter().skip(i).map(|stacked| stacked.id));
                return i;
            }
            i += 1;
        }
    }

    /// Writes the directories `main[from..]` (except `skip`) with `mtime` taken from `entry`.
    fn write_parents(
        &mut self,
        main: &[Stacked],
        from: usize,
        skip: Option<u64>,
        entry: &Header,
    ) -> Result<(), Error> {
        for stacked in main.iter().skip(from) {
            if Some(stacked.id) == skip {
                continue;
            }
            let mut header = stacked.header.clone();
            header.mtime = entry.mtime;
            self.append(&header, std::io::empty())?;
        }
        Ok(())
    }

    fn append(&mut self, header: &Header, content: impl Read) -> Result<(), Error> {
        self.writer
            .append(header, content)
            .map_err(|source| Error::Layer { source })
    }
}

/// Writes the layers of a multi-layer image from one walk of the root filesystem.
#[derive(Debug)]
pub struct Splitter {
    groups: Vec<Layer>,
    /// Each group's installed-database records, concatenated in package-name order.
    installed: Vec<Vec<u8>>,
    top: Layer,
    stack: Vec<Stacked>,
    next_id: u64,
}

impl Splitter {
    /// A splitter with one layer per entry of `installed` (each group's installed-database
    /// records, in group order) plus the top layer, their blobs in temporary files in `dir`.
    pub fn create_in(
        dir: &Path,
        options: compress::Options,
        installed: Vec<Vec<u8>>,
    ) -> Result<Splitter, Error> {
        let layer = || -> Result<Layer, Error> {
            Ok(Layer {
                writer: LayerWriter::create_in(dir, options.clone())
                    .map_err(|source| Error::Layer { source })?,
                stack: Vec::new(),
            })
        };
        let groups = installed
            .iter()
            .map(|_| layer())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Splitter {
            groups,
            installed,
            top: layer()?,
            stack: Vec::new(),
            next_id: 0,
        })
    }

    /// Takes the walk's next entry (in walk order) with its content and destination.
    pub fn append(
        &mut self,
        header: &Header,
        content: impl Read,
        destination: Destination,
    ) -> Result<(), Error> {
        let mut pushed = None;
        if header.typeflag == EntryType::DIRECTORY {
            let parent = parent_of(&header.name);
            while let Some(last) = self.stack.last() {
                if last.header.name == parent {
                    break;
                }
                self.stack.pop();
            }
            let id = self.next_id;
            self.next_id += 1;
            self.stack.push(Stacked {
                id,
                header: header.clone(),
            });
            pushed = Some(id);
        }

        let groups = self.groups.len();
        let layer = match destination {
            Destination::Top => &mut self.top,
            Destination::Group(group) => {
                self.groups
                    .get_mut(group)
                    .ok_or_else(|| Error::NoSuchGroup {
                        entry: String::from_utf8_lossy(&header.name).into_owned(),
                        group,
                        groups,
                    })?
            }
        };
        let from = layer.align(&self.stack);
        layer.write_parents(&self.stack, from, pushed, header)?;
        layer.append(header, content)?;

        if header.name == INSTALLED {
            for (layer, records) in self.groups.iter_mut().zip(&self.installed) {
                let from = layer.align(&self.stack);
                layer.write_parents(&self.stack, from, None, header)?;
                let mut partial = header.clone();
                partial.size = i64::try_from(records.len()).unwrap_or(i64::MAX);
                layer.append(&partial, records.as_slice())?;
            }
        }
        Ok(())
    }

    /// Finishes every layer: the group layers in order, then the top layer.
    pub fn finish(self) -> Result<Vec<BuiltLayer>, Error> {
        self.groups
            .into_iter()
            .chain(std::iter::once(self.top))
            .map(|layer| {
                layer
                    .writer
                    .finish()
                    .map_err(|source| Error::Layer { source })
            })
            .collect()
    }
}

/// Go's `path.Dir` for the clean relative names of a walk: `.` for top-level names.
fn parent_of(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b'/') {
        Some(slash) => name.get(..slash).unwrap_or(b"."),
        None => b".",
    }
}

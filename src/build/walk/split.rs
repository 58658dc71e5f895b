//! One walk, several layers: package files to their group's layer, everything else to the top
//! layer, as apko's multi-layer images are written.
//!
//! Each layer keeps its own directory stack. Before an entry is written to a layer, the
//! directories of the walk's current stack that the layer has not written yet are written
//! there with the entry's mtime. The walk's stack only changes at directories, so a file that
//! follows a subdirectory can bring that subdirectory into its layer (apko does the same).
//! After `usr/lib/apk/db/installed`, each group layer gets its own `installed` holding its
//! packages' records.
//!
//! Not for: grouping packages (`build::rootfs::group_by_origin`).
//! Reproduces apko `pkg/build/layers.go` `splitLayers`, `alignStacks` (reference/apko-format.md
//! §11 steps 4–6).

use super::{Error, append, for_each_entry};
use crate::build::fs::{PackageId, Tree, path};
use crate::build::rootfs::LayerGroup;
use crate::build::tar::{self, EntryType, Hashed, HashingWriter, Header};
use std::collections::HashMap;
use std::io::Write;

const INSTALLED: &[u8] = b"usr/lib/apk/db/installed";

struct Layer<W: Write> {
    writer: tar::Writer<HashingWriter<W>>,
    /// Indexes into the walk's directory list.
    stack: Vec<usize>,
}

/// `alignStacks`: brings `layer` in line with `main`, returning the directories to write.
fn align(layer: &mut Vec<usize>, main: &[usize]) -> Vec<usize> {
    for i in 0..layer.len().max(main.len()) {
        if i >= main.len() {
            layer.truncate(i);
            return Vec::new();
        }
        if layer.get(i).is_some() && layer.get(i) == main.get(i) {
            continue;
        }
        layer.truncate(i);
        layer.extend_from_slice(main.get(i..).unwrap_or_default());
        return layer.get(i..).unwrap_or_default().to_vec();
    }
    Vec::new()
}

/// Writes `tree` as one layer per group (in order) and a top layer, into `outputs` (one more
/// than `groups`, the top layer's last); returns each output with its tar's digest and size.
pub fn write_layers<W: Write>(
    tree: &Tree,
    groups: &[LayerGroup],
    outputs: Vec<W>,
) -> Result<Vec<(W, Hashed)>, Error> {
    if outputs.len() != groups.len() + 1 {
        return Err(Error::LayerCount {
            groups: groups.len(),
            outputs: outputs.len(),
        });
    }
    let top = groups.len();
    let mut layers: Vec<Layer<W>> = outputs
        .into_iter()
        .map(|out| Layer {
            writer: tar::Writer::new(HashingWriter::new(out)),
            stack: Vec::new(),
        })
        .collect();
    let by_package: HashMap<PackageId, usize> = groups
        .iter()
        .enumerate()
        .flat_map(|(i, g)| g.packages.iter().map(move |p| (*p, i)))
        .collect();
    // Every directory seen, with its path and header; the walk's stack indexes into it.
    let mut dirs: Vec<(String, Header)> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    for_each_entry(tree, |header, node| {
        let path = String::from_utf8_lossy(&header.name).into_owned();
        let mut this_dir = None;
        if header.typeflag == EntryType::DIRECTORY {
            let parent = path::dir(&path);
            while let Some(&last) = stack.last() {
                if dirs.get(last).is_some_and(|(p, _)| *p == parent) {
                    break;
                }
                stack.pop();
            }
            dirs.push((path.clone(), header.clone()));
            let index = dirs.len() - 1;
            this_dir = Some(index);
            stack.push(index);
        }
        let index = match tree.node_package(node) {
            Some(package) => *by_package.get(&package).ok_or_else(|| Error::Ungrouped {
                path: path.clone(),
                package: tree.package_name(package).to_owned(),
            })?,
            None => top,
        };
        let Some(layer) = layers.get_mut(index) else {
            return Err(Error::LayerCount {
                groups: groups.len(),
                outputs: index,
            });
        };
        for d in align(&mut layer.stack, &stack) {
            if Some(d) != this_dir {
                write_dir(layer, &dirs, d, &header)?;
            }
        }
        let has_data = header.typeflag == EntryType::REGULAR && header.size > 0;
        append(&mut layer.writer, tree, &header, has_data.then_some(node))?;
        if header.name == INSTALLED {
            for (group, layer) in groups.iter().zip(layers.iter_mut()) {
                for d in align(&mut layer.stack, &stack) {
                    write_dir(layer, &dirs, d, &header)?;
                }
                let mut idb = header.clone();
                idb.size = group.installed_db.len() as i64;
                layer
                    .writer
                    .append(&idb, group.installed_db.as_slice())
                    .map_err(|source| Error::Tar { source })?;
            }
        }
        Ok(())
    })?;
    layers
        .into_iter()
        .map(|layer| {
            let hashing = layer
                .writer
                .finish()
                .map_err(|source| Error::Tar { source })?;
            Ok(hashing.finish())
        })
        .collect()
}

/// A directory the layer has not written yet, with the mtime of the entry that needs it.
fn write_dir<W: Write>(
    layer: &mut Layer<W>,
    dirs: &[(String, Header)],
    index: usize,
    entry: &Header,
) -> Result<(), Error> {
    let Some((_, dir)) = dirs.get(index) else {
        return Ok(());
    };
    let mut dir = dir.clone();
    dir.mtime = entry.mtime;
    layer
        .writer
        .append(&dir, std::io::empty())
        .map_err(|source| Error::Tar { source })
}

//! Garbage in a layout: blobs nothing reachable from `index.json` names, and the scratch files
//! of writers that died.
//!
//! Reachable means: every entry of `index.json` (in an image-shaped layout, the image index's
//! own children), and from each manifest its config, layers and `subject`, from each index its
//! manifests and `subject`; then, until nothing changes, every stored manifest or index whose
//! `subject` is reachable (a referrer, such as an attestation bundle, stays with its image
//! even when no index lists it). This is the graph oras-go's `oci.Store.GC` walks
//! (`content.Successors` includes `subject`). A reachable document that does not parse stops
//! the collection rather than losing what it names.
//!
//! Not for: writing (the parent module and `publish`); deciding when to collect (the CLI's
//! `gc`, and `publish` after a failed write).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use super::{Error, Layout};
use crate::oci::descriptor::Descriptor;
use crate::oci::digest::Digest;
use crate::oci::manifest::{self, Index, Manifest, media_type};
use crate::scratch;

/// Larger blobs are never read as possible referrers: manifests are small (registries cap
/// them at 4 MiB), layers are not.
const LARGEST_MANIFEST: u64 = 4 << 20;

/// Prefix of a layout writer's scratch files (`.tmp-<pid>-<random>`) in the root and in
/// `blobs/sha256`.
pub const SCRATCH_PREFIX: &str = ".tmp-";

/// What a collection found (and, unless it was a dry run, removed).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Garbage {
    /// Unreachable blobs and their sizes.
    pub blobs: Vec<(Digest, u64)>,
    /// Scratch files of writers that are gone.
    pub scratch: Vec<std::path::PathBuf>,
}

impl Garbage {
    /// Bytes the unreachable blobs take.
    pub fn blob_bytes(&self) -> u64 {
        self.blobs.iter().map(|(_, size)| size).sum()
    }
}

/// Whether a collection removes what it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Report only.
    DryRun,
    /// Remove.
    Remove,
}

impl Layout {
    /// Finds (and with [`Mode::Remove`] removes) unreachable blobs and abandoned scratch files,
    /// holding the layout's lock so that no writer is between its blobs and its `index.json`.
    pub fn collect_garbage(&self, mode: Mode) -> Result<Garbage, Error> {
        let _lock = self.lock_only()?;
        let stored = self.stored_blobs()?;
        let reachable = self.reachable(&stored)?;
        let mut garbage = Garbage::default();
        for (digest, size) in stored {
            if reachable.contains(&digest) {
                continue;
            }
            if mode == Mode::Remove {
                let path = self.blob_path(&digest);
                fs::remove_file(&path).map_err(|source| Error::Io { path, source })?;
            }
            garbage.blobs.push((digest, size));
        }
        garbage.scratch = self.abandoned_scratch(mode);
        Ok(garbage)
    }

    /// Removes those of `created` that nothing reachable names: the blobs of a write that
    /// failed before its `index.json`. The caller holds the lock.
    pub(super) fn remove_unreachable(&self, created: &BTreeSet<Digest>) -> Result<(), Error> {
        let stored = self.stored_blobs()?;
        let reachable = self.reachable(&stored)?;
        for digest in created.iter().filter(|d| !reachable.contains(d)) {
            let path = self.blob_path(digest);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(Error::Io { path, source }),
            }
        }
        Ok(())
    }

    /// Scratch files of dead writers in the root and `blobs/sha256`, removed unless `mode` is
    /// a dry run.
    pub(super) fn abandoned_scratch(&self, mode: Mode) -> Vec<std::path::PathBuf> {
        let dirs = [self.dir.clone(), self.dir.join("blobs").join("sha256")];
        match mode {
            Mode::Remove => dirs
                .iter()
                .flat_map(|dir| scratch::sweep(dir, &[SCRATCH_PREFIX]).removed)
                .collect(),
            Mode::DryRun => dirs
                .iter()
                .filter_map(|dir| fs::read_dir(dir).ok())
                .flat_map(|entries| entries.flatten().map(|e| e.path()))
                .filter(|path| scratch::abandoned(path, SCRATCH_PREFIX))
                .collect(),
        }
    }

    /// Every file in `blobs/sha256` named by a digest, with its size.
    fn stored_blobs(&self) -> Result<BTreeMap<Digest, u64>, Error> {
        let dir = self.dir.join("blobs").join("sha256");
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(source) => return Err(Error::Io { path: dir, source }),
        };
        let mut stored = BTreeMap::new();
        for entry in entries {
            let entry = entry.map_err(|source| Error::Io {
                path: dir.clone(),
                source,
            })?;
            let Some(digest) = entry
                .file_name()
                .to_str()
                .and_then(|hex| format!("sha256:{hex}").parse::<Digest>().ok())
            else {
                continue;
            };
            let metadata = entry.metadata().map_err(|source| Error::Io {
                path: entry.path(),
                source,
            })?;
            if metadata.is_file() {
                stored.insert(digest, metadata.len());
            }
        }
        Ok(stored)
    }

    /// The digests reachable from `index.json`, referrers of reachable subjects included.
    fn reachable(&self, stored: &BTreeMap<Digest, u64>) -> Result<BTreeSet<Digest>, Error> {
        let index = self.index()?;
        let mut reachable = BTreeSet::new();
        let mut pending: Vec<Descriptor> = index.manifests.clone();
        if let Some(subject) = &index.subject {
            pending.push(subject.clone());
        }
        loop {
            while let Some(descriptor) = pending.pop() {
                if reachable.insert(descriptor.digest) {
                    self.successors(&descriptor, &mut pending)?;
                }
            }
            // Referrers of what is reachable, found among the small blobs left over.
            for (digest, size) in stored {
                if reachable.contains(digest) || *size > LARGEST_MANIFEST {
                    continue;
                }
                let Ok(bytes) = self.read_blob(digest) else {
                    continue;
                };
                if let Some(subject) = subject_of(&bytes)
                    && reachable.contains(&subject)
                {
                    let media_type = manifest::media_type_of(&bytes).unwrap_or_default();
                    pending.push(Descriptor::new(media_type, *size, *digest));
                }
            }
            if pending.is_empty() {
                return Ok(reachable);
            }
        }
    }

    /// Pushes what a manifest or index names onto `pending`; blobs of other kinds name nothing.
    fn successors(
        &self,
        descriptor: &Descriptor,
        pending: &mut Vec<Descriptor>,
    ) -> Result<(), Error> {
        let is_index = media_type::is_index(&descriptor.media_type);
        let is_manifest = media_type::is_manifest(&descriptor.media_type);
        if !is_index && !is_manifest {
            return Ok(());
        }
        let bytes = match self.read_manifest(descriptor) {
            Ok(bytes) => bytes,
            // A partial layout (a cosign attachment whose subject lives elsewhere) is allowed.
            Err(Error::MissingBlob { .. }) => return Ok(()),
            Err(other) => return Err(other),
        };
        let malformed = |source| Error::Document {
            path: self.blob_path(&descriptor.digest),
            source,
        };
        if is_index {
            let index = Index::parse(&bytes).map_err(malformed)?;
            pending.extend(index.manifests);
            pending.extend(index.subject);
        } else {
            let manifest = Manifest::parse(&bytes).map_err(malformed)?;
            pending.push(manifest.config);
            pending.extend(manifest.layers);
            pending.extend(manifest.subject);
        }
        Ok(())
    }
}

/// The `subject` digest of a manifest or index, if the bytes are one and have a subject.
fn subject_of(bytes: &[u8]) -> Option<Digest> {
    #[derive(serde::Deserialize)]
    struct WithSubject {
        subject: Option<Descriptor>,
    }
    manifest::media_type_of(bytes)?;
    serde_json::from_slice::<WithSubject>(bytes)
        .ok()?
        .subject
        .map(|s| s.digest)
}

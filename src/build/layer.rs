//! A layer on disk: its tar streamed through the diff_id hash into apko's gzip compressor and
//! a temporary file, so both digests are known when the last entry is written.
//!
//! apko writes the tar to a temporary file and compresses it afterwards; the bytes only depend
//! on the tar, so this writes both in one pass (tar → SHA-256 → pgzip → SHA-256 → file) and
//! never keeps more than the compressor's blocks in memory. The blob is a [`scratch::File`] in
//! the directory the caller names (the CLI's scratch area, never a shared `/tmp` by default
//! here): locked while the process lives, removed when the layer is dropped or a terminating
//! signal arrives, and swept by a later run after a kill. [`LayerSink`] is the compressed
//! side for callers that drive their own tar writer (`build::walk::write_layer`);
//! [`LayerWriter`] adds the tar writer for callers that hand in entries (`build::layering`).
//!
//! Not for: what goes into a layer (`build::walk`, `build::layering`), the tar and gzip byte
//! formats (`codec::tar`, `compress`), the config and manifest (`build::image`).
//! Reproduces reference/apko-format.md §9.1 (apko `pkg/build/build_implementation.go`
//! `newLayerWriter`, `pkg/build/build.go` `layer.compress`).

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::codec::tar::{self, Hashed, HashingWriter, Header};
use crate::compress;
use crate::oci::Descriptor;
use crate::oci::{Digest, media_type};
use crate::scratch;

/// Why a layer cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The temporary file cannot be created in the directory.
    #[error("{dir}: creating a temporary layer file")]
    Create {
        /// The directory.
        dir: PathBuf,
        /// The filesystem error.
        #[source]
        source: io::Error,
    },
    /// Writing or compressing the layer failed.
    #[error("{path}: writing the compressed layer")]
    Write {
        /// The temporary file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The tar writer refused an entry.
    #[error("{path}: writing the layer tar")]
    Tar {
        /// The temporary file.
        path: PathBuf,
        /// The tar error.
        #[source]
        source: tar::Error,
    },
    /// The tar writer's count and the compressor's count of the same bytes disagree.
    #[error("{path}: {hashed} tar bytes hashed but {compressed} compressed")]
    SizeMismatch {
        /// The temporary file.
        path: PathBuf,
        /// Bytes through the diff_id hash.
        hashed: u64,
        /// Bytes into the compressor.
        compressed: u64,
    },
}

/// A finished layer: the compressed blob in a temporary file (removed when this is dropped),
/// its digest and size, and the uncompressed tar's diff_id and size.
#[derive(Debug)]
pub struct BuiltLayer {
    diff_id: Digest,
    uncompressed_size: u64,
    digest: Digest,
    size: u64,
    blob: scratch::Owned,
}

impl BuiltLayer {
    /// SHA-256 of the uncompressed tar (the config's `rootfs.diff_ids` entry).
    pub fn diff_id(&self) -> Digest {
        self.diff_id
    }

    /// Bytes in the uncompressed tar.
    pub fn uncompressed_size(&self) -> u64 {
        self.uncompressed_size
    }

    /// SHA-256 of the gzip blob (the manifest's layer digest).
    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// Bytes in the gzip blob.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Where the gzip blob is, until this value is dropped.
    pub fn path(&self) -> &Path {
        &self.blob
    }

    /// The manifest's layer descriptor (OCI gzip layer media type, size, digest).
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(media_type::OCI_LAYER_GZIP, self.size, self.digest)
    }
}

/// The compressed side of a layer: tar bytes written here are compressed into a temporary
/// file while the compressed stream is hashed.
pub struct LayerSink {
    compressor: compress::Writer<BufWriter<File>>,
    path: scratch::Owned,
    progress: crate::progress::Task,
}

/// How layer blobs are named in a scratch directory (`layer-<pid>-<random>.tar.gz`), for
/// sweeping what a killed run left.
pub const SCRATCH_PREFIX: &str = "layer-";

/// Output buffer in front of the file: the compressor hands over whole blocks anyway.
const FILE_BUFFER: usize = 1 << 20;

impl LayerSink {
    /// A sink writing into a new temporary file in `dir`.
    pub fn create_in(dir: &Path, options: compress::Options) -> Result<LayerSink, Error> {
        let file = scratch::File::create_in(dir, SCRATCH_PREFIX, ".tar.gz").map_err(|source| {
            Error::Create {
                dir: dir.to_path_buf(),
                source,
            }
        })?;
        let (file, path) = file.into_parts();
        Ok(LayerSink {
            compressor: compress::Writer::new(BufWriter::with_capacity(FILE_BUFFER, file), options),
            path,
            progress: crate::progress::task(crate::progress::Kind::Compress, "layer", None),
        })
    }

    /// Ends the gzip stream; `tar` is what the tar writer's [`HashingWriter`] counted.
    pub fn finish(self, tar: Hashed) -> Result<BuiltLayer, Error> {
        let path = self.path;
        let failed = |source| Error::Write {
            path: path.to_path_buf(),
            source,
        };
        let compressed = match self.compressor.finish() {
            Ok(compressed) => compressed,
            Err(source) => return Err(failed(source)),
        };
        if compressed.uncompressed_size != tar.size {
            return Err(Error::SizeMismatch {
                path: path.to_path_buf(),
                hashed: tar.size,
                compressed: compressed.uncompressed_size,
            });
        }
        let digest = Digest::from_bytes(compressed.digest_sha256);
        let size = compressed.size;
        if let Err(source) = compressed.sink.into_inner().map_err(|e| e.into_error()) {
            return Err(failed(source));
        }
        Ok(BuiltLayer {
            diff_id: Digest::from_bytes(tar.sha256),
            uncompressed_size: tar.size,
            digest,
            size,
            blob: path,
        })
    }
}

impl Write for LayerSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.compressor.write(buf)?;
        self.progress.advance(written as u64);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.compressor.flush()
    }
}

impl std::fmt::Debug for LayerSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LayerSink")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Writes a layer entry by entry: tar, diff_id, compression and blob digest in one pass.
#[derive(Debug)]
pub struct LayerWriter {
    tar: tar::Writer<HashingWriter<LayerSink>>,
    path: PathBuf,
}

impl LayerWriter {
    /// A layer writer whose blob goes to a temporary file in `dir`.
    pub fn create_in(dir: &Path, options: compress::Options) -> Result<LayerWriter, Error> {
        let sink = LayerSink::create_in(dir, options)?;
        let path = sink.path.to_path_buf();
        Ok(LayerWriter {
            tar: tar::Writer::new(HashingWriter::new(sink)),
            path,
        })
    }

    /// Appends one entry, reading exactly `header.size` bytes of `content` for regular files.
    pub fn append(&mut self, header: &Header, content: impl Read) -> Result<(), Error> {
        self.tar
            .append(header, content)
            .map_err(|source| Error::Tar {
                path: self.path.clone(),
                source,
            })
    }

    /// Ends the tar (two zero blocks) and the gzip stream.
    pub fn finish(self) -> Result<BuiltLayer, Error> {
        let path = self.path;
        let hashing = self
            .tar
            .finish()
            .map_err(|source| Error::Tar { path, source })?;
        let (sink, hashed) = hashing.finish();
        sink.finish(hashed)
    }
}

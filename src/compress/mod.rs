//! Layer compression that reproduces apko's gzip bytes (pgzip over klauspost flate level 5),
//! and a strict gzip reader to verify layers.
//!
//! Not for: building the tar (the builder feeds it here) or OCI descriptors.
//! Reproduces reference/apko-format.md §9 (Compression) and the framing of §13.7; the
//! algorithms are reimplemented from klauspost/pgzip v1.2.6 and klauspost/compress v1.19.1
//! `flate` (see NOTICE).
//!
//! One entry point for the builder: [`Writer`], an [`std::io::Write`] that takes the tar and
//! writes the gzip stream, and whose [`Writer::finish`] returns the stream's SHA-256 and size.
//! The bytes do not depend on the thread count or on how the input is split into writes.
//!
//! ```
//! use std::io::Write;
//! use receipts::compress::{Options, Writer};
//!
//! let mut writer = Writer::new(Vec::new(), Options::apko());
//! writer.write_all(b"a tar stream")?;
//! let layer = writer.finish()?;
//! assert_eq!(layer.size, layer.sink.len() as u64);
//! assert_eq!(&layer.sink[..10], &receipts::compress::HEADER);
//! # Ok::<(), std::io::Error>(())
//! ```

mod deflate;
mod pgzip;
pub mod strict;

pub use pgzip::{BLOCK_SIZE, Compressed, HEADER, Options, TAIL_SIZE, Writer, gzip};

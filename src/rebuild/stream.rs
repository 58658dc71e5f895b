//! Reads a blob from a [`Store`] as a pull stream ([`Read`]) while the store pushes it
//! ([`Store::copy_blob`] writes into a sink and checks the digest at the end).
//!
//! The store runs on a helper thread and hands over chunks through a bounded channel, so a
//! layer is decompressed and parsed as it arrives: memory stays at a few chunks whatever the
//! layer's size, and nothing is written to disk. After the consumer is done, the rest of the
//! blob is drained so the store always finishes its digest check; a blob whose bytes do not
//! hash to its digest is an error even if the consumer was satisfied.
//!
//! A stream can be stopped from outside ([`with_blob_until`]): the store's side fails at its
//! next chunk, so the blob is an error (never a short read taken for the whole).
//!
//! Not for: decompressing or parsing (the caller's closure does that).

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::Error;
use crate::oci::{Digest, Store};

/// Chunks in flight between the store's thread and the consumer.
const CHUNKS_IN_FLIGHT: usize = 8;

/// Runs `consume` on the bytes of blob `digest`, streamed from `store`; returns its result
/// once the store has checked the digest.
pub fn with_blob<T>(
    store: &Store,
    digest: &Digest,
    consume: impl FnOnce(&mut dyn Read) -> T,
) -> Result<T, Error> {
    with_blob_until(store, digest, &AtomicBool::new(false), consume)
}

/// [`with_blob`], stopped (an error) as soon as `stop` is set.
pub fn with_blob_until<T>(
    store: &Store,
    digest: &Digest,
    stop: &AtomicBool,
    consume: impl FnOnce(&mut dyn Read) -> T,
) -> Result<T, Error> {
    let (sender, receiver) = sync_channel(CHUNKS_IN_FLIGHT);
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || {
            let mut sink = ChannelWriter { sender, stop };
            store.copy_blob(digest, &mut sink)
        });
        let mut reader = ChannelReader {
            receiver,
            chunk: Vec::new(),
            at: 0,
        };
        let value = consume(&mut reader);
        // Drain so the producer reaches the end of the blob and checks its digest.
        let _ = io::copy(&mut reader, &mut io::sink());
        drop(reader);
        match producer.join() {
            Ok(Ok(_)) => Ok(value),
            Ok(Err(source)) => Err(Error::Blob {
                store: store.name(),
                digest: *digest,
                source: Box::new(source),
            }),
            Err(_) => Err(Error::BlobThread {
                store: store.name(),
                digest: *digest,
            }),
        }
    })
}

struct ChannelWriter<'s> {
    sender: SyncSender<Vec<u8>>,
    stop: &'s AtomicBool,
}

impl Write for ChannelWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if bytes.is_empty() {
            return Ok(0);
        }
        if self.stop.load(Ordering::Relaxed) {
            // Not `Interrupted`: `write_all` retries that kind forever.
            return Err(io::Error::other("the blob's stream was stopped"));
        }
        self.sender
            .send(bytes.to_vec())
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the blob's reader stopped"))?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct ChannelReader {
    receiver: Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    at: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        while self.at == self.chunk.len() {
            match self.receiver.recv() {
                Ok(chunk) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                // The producer finished (or failed: its result says which).
                Err(_) => return Ok(0),
            }
        }
        let available = &self.chunk[self.at..];
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::layout::Layout;

    /// A layout holding one blob of `size` bytes, and its digest.
    fn layout_with_blob(size: usize) -> (tempfile::TempDir, Store, Digest) {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::create(dir.path()).unwrap();
        let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let digest = layout.write_blob(&bytes).unwrap();
        (dir, Store::from(layout), digest)
    }

    #[test]
    fn a_whole_blob_is_read_and_its_digest_checked() {
        let (_dir, store, digest) = layout_with_blob(3 << 20);
        let read = with_blob(&store, &digest, |reader| {
            let mut bytes = Vec::new();
            reader.read_to_end(&mut bytes).map(|_| bytes)
        })
        .unwrap()
        .unwrap();
        assert_eq!(Digest::of(&read), digest);
    }

    #[test]
    fn a_stopped_stream_is_an_error_never_a_short_blob() {
        let (_dir, store, digest) = layout_with_blob(3 << 20);
        let stop = AtomicBool::new(false);
        let result = with_blob_until(&store, &digest, &stop, |reader| {
            let mut first = [0; 1024];
            reader.read_exact(&mut first).unwrap();
            stop.store(true, Ordering::Relaxed);
            // What the consumer sees after the stop is an early end, which the result refuses.
            io::copy(reader, &mut io::sink()).unwrap()
        });
        assert!(matches!(result, Err(Error::Blob { .. })), "{result:?}");
        let stopped = AtomicBool::new(true);
        let result = with_blob_until(&store, &digest, &stopped, |reader| {
            io::copy(reader, &mut io::sink()).unwrap()
        });
        assert!(matches!(result, Err(Error::Blob { .. })), "{result:?}");
    }
}

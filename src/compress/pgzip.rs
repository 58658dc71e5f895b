//! The layer compressor: a gzip stream cut into 1 MiB blocks, each compressed independently
//! (primed with the previous block's last 16 KiB) on a small pool of threads, written in order.
//!
//! Not for: decompression or verification (`strict`); the DEFLATE coding itself (`deflate`).
//! Reproduces reference/apko-format.md §9.1–§9.3; reimplements klauspost/pgzip v1.2.6
//! `gzip.go` (`Write`, `compressCurrent`, `compressBlock`, `Close`) with apko's settings.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

use super::deflate::BlockEncoder;

/// Input bytes per block (pgzip `SetConcurrency(1<<20, …)`, as apko configures it).
pub const BLOCK_SIZE: usize = 1 << 20;
/// Bytes of the previous block used as the next block's dictionary (pgzip `tailSize`).
pub const TAIL_SIZE: usize = 16 * 1024;
/// Go's gzip header for a zero `ModTime`, no name/comment/extra, XFL 0, OS 255 (§9.2).
pub const HEADER: [u8; 10] = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x09, 0x6e, 0x88, 0x00, 0xff];

/// How to run the compressor. The output never depends on it.
#[derive(Clone, Debug)]
pub struct Options {
    threads: usize,
}

impl Options {
    /// apko's settings, compressing on every available core.
    pub fn apko() -> Self {
        Options {
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
        }
    }

    /// Uses `threads` worker threads (at least 1; 1 compresses on the calling thread).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }
}

/// What a finished compression produced: the sink back, plus the SHA-256 and size of every
/// byte written to it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Compressed<W> {
    /// SHA-256 of the gzip stream (the layer's OCI digest).
    pub digest_sha256: [u8; 32],
    /// Bytes of the gzip stream.
    pub size: u64,
    /// Bytes that went in (the tar's size).
    pub uncompressed_size: u64,
    /// The sink, after everything was written to it.
    pub sink: W,
}

/// One block handed to a worker: `buf` holds the dictionary (`dict_len` bytes) then the data.
struct Job {
    seq: u64,
    buf: Vec<u8>,
    dict_len: usize,
    last: bool,
    out: Vec<u8>,
}

/// A compressed block coming back; `buf` returns for reuse.
struct Done {
    seq: u64,
    out: io::Result<Vec<u8>>,
    buf: Vec<u8>,
}

/// Worker threads fed through one bounded queue.
struct Pool {
    jobs: Option<SyncSender<Job>>,
    results: Receiver<Done>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    fn spawn(threads: usize, queue: usize) -> io::Result<Pool> {
        let (job_tx, job_rx) = mpsc::sync_channel::<Job>(queue);
        let (done_tx, done_rx) = mpsc::channel::<Done>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let mut pool = Pool {
            jobs: Some(job_tx),
            results: done_rx,
            workers: Vec::with_capacity(threads),
        };
        for i in 0..threads {
            let job_rx = Arc::clone(&job_rx);
            let done_tx = done_tx.clone();
            let handle = std::thread::Builder::new()
                .name(format!("pgzip-{i}"))
                .spawn(move || worker(job_rx, done_tx))?;
            pool.workers.push(handle);
        }
        Ok(pool)
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Closing the queue ends each worker once it has drained what is queued.
        self.jobs.take();
        for handle in self.workers.drain(..) {
            let _ = handle.join();
        }
    }
}

fn worker(jobs: Arc<Mutex<Receiver<Job>>>, done: mpsc::Sender<Done>) {
    let mut encoder = Box::new(BlockEncoder::new());
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(mut job) = job else { return };
        let (dict, data) = job.buf.split_at(job.dict_len);
        let out = match catch_unwind(AssertUnwindSafe(|| {
            encoder.encode(dict, data, job.last, &mut job.out);
        })) {
            Ok(()) => Ok(job.out),
            Err(_) => {
                // The encoder may be half-updated; start the next block from a fresh one.
                *encoder = BlockEncoder::new();
                Err(io::Error::other("pgzip: a compression worker panicked"))
            }
        };
        let sent = done.send(Done {
            seq: job.seq,
            out,
            buf: job.buf,
        });
        if sent.is_err() {
            return;
        }
    }
}

/// Streams a tar (or anything) in, writes apko's exact gzip bytes to `sink`.
///
/// Blocks are compressed in parallel and written in order; at most two blocks per thread are
/// in flight, so memory stays at a few MiB whatever the input size.
pub struct Writer<W: Write> {
    sink: W,
    threads: usize,
    /// The block being filled: the previous block's tail (`dict_len` bytes) then new data.
    block: Vec<u8>,
    dict_len: usize,
    /// Blocks handed out, and blocks written to the sink.
    dispatched: u64,
    written: u64,
    crc: crc32fast::Hasher,
    in_size: u64,
    digest: Sha256,
    out_size: u64,
    header_written: bool,
    inline: Option<Box<BlockEncoder>>,
    pool: Option<Pool>,
    pending: BTreeMap<u64, Vec<u8>>,
    spare_blocks: Vec<Vec<u8>>,
    spare_outs: Vec<Vec<u8>>,
    failed: bool,
}

impl<W: Write> Writer<W> {
    /// A compressor writing to `sink`. Nothing is written until data or `finish` arrives.
    pub fn new(sink: W, options: Options) -> Self {
        Writer {
            sink,
            threads: options.threads.max(1),
            block: Vec::with_capacity(TAIL_SIZE + BLOCK_SIZE),
            dict_len: 0,
            dispatched: 0,
            written: 0,
            crc: crc32fast::Hasher::new(),
            in_size: 0,
            digest: Sha256::new(),
            out_size: 0,
            header_written: false,
            inline: None,
            pool: None,
            pending: BTreeMap::new(),
            spare_blocks: Vec::new(),
            spare_outs: Vec::new(),
            failed: false,
        }
    }

    fn max_in_flight(&self) -> u64 {
        2 * self.threads as u64
    }

    /// Writes `bytes` to the sink and into the digest.
    fn emit(&mut self, bytes: &[u8]) -> io::Result<()> {
        if !self.header_written {
            self.header_written = true;
            self.emit_raw(&HEADER)?;
        }
        self.emit_raw(bytes)
    }

    fn emit_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.digest.update(bytes);
        self.out_size += bytes.len() as u64;
        if let Err(e) = self.sink.write_all(bytes) {
            self.failed = true;
            return Err(e);
        }
        Ok(())
    }

    /// Takes a finished block; writes it and any that were waiting for it.
    fn accept(&mut self, done: Done) -> io::Result<()> {
        let mut buf = done.buf;
        buf.clear();
        self.spare_blocks.push(buf);
        let out = match done.out {
            Ok(out) => out,
            Err(e) => {
                self.failed = true;
                return Err(e);
            }
        };
        self.pending.insert(done.seq, out);
        while let Some(out) = self.pending.remove(&self.written) {
            self.emit(&out)?;
            self.written += 1;
            let mut out = out;
            out.clear();
            self.spare_outs.push(out);
        }
        Ok(())
    }

    fn wait_one(&mut self) -> io::Result<()> {
        let done = match &self.pool {
            Some(pool) => pool.results.recv().map_err(|_| {
                self.failed = true;
                io::Error::other("pgzip: compression workers stopped")
            })?,
            None => return Ok(()),
        };
        self.accept(done)
    }

    /// Sends the current block off (or compresses it here) and starts the next one with
    /// this block's tail as its dictionary.
    fn dispatch(&mut self, last: bool) -> io::Result<()> {
        let data_len = self.block.len() - self.dict_len;
        let mut next = self
            .spare_blocks
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(TAIL_SIZE + BLOCK_SIZE));
        next.clear();
        let next_dict_len = if data_len > TAIL_SIZE {
            next.extend_from_slice(&self.block[self.block.len() - TAIL_SIZE..]);
            TAIL_SIZE
        } else {
            0
        };
        let job = Job {
            seq: self.dispatched,
            buf: std::mem::replace(&mut self.block, next),
            dict_len: std::mem::replace(&mut self.dict_len, next_dict_len),
            last,
            out: self.spare_outs.pop().unwrap_or_default(),
        };
        self.dispatched += 1;

        // Single-threaded, or a stream that ends within its first block: no threads needed.
        if self.threads == 1 || (last && self.pool.is_none()) {
            let encoder = self
                .inline
                .get_or_insert_with(|| Box::new(BlockEncoder::new()));
            let mut out = job.out;
            let (dict, data) = job.buf.split_at(job.dict_len);
            encoder.encode(dict, data, last, &mut out);
            return self.accept(Done {
                seq: job.seq,
                out: Ok(out),
                buf: job.buf,
            });
        }

        if self.pool.is_none() {
            self.pool = Some(Pool::spawn(self.threads, self.max_in_flight() as usize)?);
        }
        while self.dispatched - 1 - self.written >= self.max_in_flight() {
            self.wait_one()?;
        }
        let sent = match self.pool.as_ref().and_then(|p| p.jobs.as_ref()) {
            Some(jobs) => jobs.send(job).is_ok(),
            None => false,
        };
        if !sent {
            self.failed = true;
            return Err(io::Error::other("pgzip: compression workers stopped"));
        }
        // Write whatever is already done without waiting.
        loop {
            let polled = match &self.pool {
                Some(pool) => pool.results.try_recv(),
                None => Err(TryRecvError::Disconnected),
            };
            match polled {
                Ok(done) => self.accept(done)?,
                Err(_) => break,
            }
        }
        Ok(())
    }

    fn check(&self) -> io::Result<()> {
        if self.failed {
            return Err(io::Error::other("pgzip: the writer failed earlier"));
        }
        Ok(())
    }

    /// Compresses what is left, writes the trailer (CRC-32 and size mod 2^32) and returns the
    /// sink with the stream's SHA-256 and size.
    pub fn finish(mut self) -> io::Result<Compressed<W>> {
        self.check()?;
        self.dispatch(true)?;
        while self.written < self.dispatched {
            self.wait_one()?;
        }
        let mut trailer = [0u8; 8];
        trailer[..4].copy_from_slice(&self.crc.clone().finalize().to_le_bytes());
        trailer[4..].copy_from_slice(&(self.in_size as u32).to_le_bytes());
        self.emit(&trailer)?;
        self.sink.flush()?;
        self.pool = None;
        Ok(Compressed {
            digest_sha256: self.digest.finalize().into(),
            size: self.out_size,
            uncompressed_size: self.in_size,
            sink: self.sink,
        })
    }
}

impl<W: Write> Write for Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check()?;
        let mut rest = buf;
        while !rest.is_empty() {
            let room = BLOCK_SIZE - (self.block.len() - self.dict_len);
            let (now, later) = rest.split_at(room.min(rest.len()));
            self.crc.update(now);
            self.in_size += now.len() as u64;
            self.block.extend_from_slice(now);
            rest = later;
            if self.block.len() - self.dict_len == BLOCK_SIZE {
                self.dispatch(false)?;
            }
        }
        Ok(buf.len())
    }

    /// Blocks are only cut at 1 MiB boundaries (a flush would change the bytes), so this
    /// flushes the sink and nothing else.
    fn flush(&mut self) -> io::Result<()> {
        self.sink.flush()
    }
}

/// Compresses `data` in memory on the calling thread; the same bytes as [`Writer`].
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    out.extend_from_slice(&HEADER);
    let mut encoder = BlockEncoder::new();
    let mut block_out = Vec::new();
    let mut dict: &[u8] = &[];
    let mut blocks = data.chunks(BLOCK_SIZE).peekable();
    if blocks.peek().is_none() {
        encoder.encode(dict, &[], true, &mut block_out);
        out.extend_from_slice(&block_out);
    }
    while let Some(block) = blocks.next() {
        // A full final block is followed by an empty closing block, as pgzip's Close does.
        let last = blocks.peek().is_none() && block.len() < BLOCK_SIZE;
        block_out.clear();
        encoder.encode(dict, block, last, &mut block_out);
        out.extend_from_slice(&block_out);
        dict = if block.len() > TAIL_SIZE {
            &block[block.len() - TAIL_SIZE..]
        } else {
            &[]
        };
        if blocks.peek().is_none() && !last {
            block_out.clear();
            encoder.encode(dict, &[], true, &mut block_out);
            out.extend_from_slice(&block_out);
        }
    }
    out.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

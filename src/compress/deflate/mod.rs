//! One pgzip block as klauspost's level-5 `flate.Writer` compresses it: reset with a preset
//! dictionary, one `Write`, a sync flush, and on the last block a close.
//!
//! Not for: splitting the input into blocks, threads or the gzip framing (`pgzip`).
//! Reproduces reference/apko-format.md §9.3–§9.4; reimplements the level 1–6 path of
//! klauspost/compress v1.19.1 `flate/deflate.go` (`fillWindow`, `storeFast`, `syncFlush`,
//! `close`, `ResetDict`). The submodules port `level5.go`/`fast_encoder.go`, `token.go`,
//! `huffman_code.go` and `huffman_bit_writer.go`. As faithful ports of klauspost they keep
//! upstream's shape (`level5`'s encoder is one long function, as `fastEncL5.Encode` is), so
//! they are exempt from the project's size limits (`tests/depcheck.rs` `PORTS`).

mod bits;
mod bitwriter;
mod huffman;
mod level5;
mod tokens;

use bitwriter::BitWriter;
use level5::FastL5;
use tokens::{MAX_STORE_BLOCK_SIZE, Tokens};

/// Upstream trims a preset dictionary to the longest distance a match can reach.
const MAX_DICT: usize = 1 << 15;

/// Reusable compressor state for one block at a time (about 1.3 MiB of tables and buffers).
pub(crate) struct BlockEncoder {
    fast: FastL5,
    tokens: Tokens,
    w: BitWriter,
}

impl BlockEncoder {
    pub(crate) fn new() -> Self {
        BlockEncoder {
            fast: FastL5::new(),
            tokens: Tokens::new(),
            w: BitWriter::new(),
        }
    }

    /// Appends to `out` the raw DEFLATE bytes of `data` compressed as a fresh stream primed
    /// with `dict`, ending with a sync flush (`00 00 ff ff` after the empty stored block's
    /// header bits) and, when `last`, the empty final fixed block `03 00`.
    pub(crate) fn encode(&mut self, dict: &[u8], data: &[u8], last: bool, out: &mut Vec<u8>) {
        // ResetDict: forget the previous stream, then run the dictionary through the matcher
        // and discard the tokens, which leaves it in the history and hash tables.
        self.w.reset();
        self.w.bits.out = std::mem::take(out);
        self.fast.reset();
        self.tokens.reset();
        let dict = &dict[dict.len().saturating_sub(MAX_DICT)..];
        self.fast.encode(&mut self.tokens, dict);
        self.tokens.reset();

        // Write fills 65535-byte windows and compresses a full one only when more input
        // arrives, so every window but the last is coded without sync; Flush codes the last.
        let mut windows = data.chunks(MAX_STORE_BLOCK_SIZE).peekable();
        while let Some(window) = windows.next() {
            self.store_fast(window, windows.peek().is_none());
        }

        // syncFlush: an empty stored block, byte aligned.
        self.w.write_stored_header(0, false);
        self.w.flush();
        if last {
            self.w.write_stored_header(0, true);
            self.w.flush();
        }
        *out = std::mem::take(&mut self.w.bits.out);
    }

    /// Codes one window (`storeFast`): tiny final windows are stored or Huffman-coded
    /// directly; otherwise matches decide between stored, literals-only and dynamic coding.
    fn store_fast(&mut self, window: &[u8], sync: bool) {
        if window.len() < MAX_STORE_BLOCK_SIZE {
            if !sync {
                return;
            }
            if window.len() < 128 {
                if window.is_empty() {
                    return;
                }
                if window.len() <= 32 {
                    self.write_stored_block(window);
                } else {
                    self.w.write_block_huff(false, window, true);
                }
                self.tokens.reset();
                self.fast.reset();
                return;
            }
        }

        self.fast.encode(&mut self.tokens, window);
        if self.tokens.n == 0 {
            // No match at all: store.
            self.write_stored_block(window);
        } else if self.tokens.n > window.len() - (window.len() >> 4) {
            // Matches removed less than 1/16 of the bytes: literals only.
            self.w.write_block_huff(false, window, sync);
        } else {
            self.w
                .write_block_dynamic(&mut self.tokens, false, window, sync);
        }
        self.tokens.reset();
    }

    fn write_stored_block(&mut self, window: &[u8]) {
        self.w.write_stored_header(window.len(), false);
        self.w.write_bytes(window);
    }
}

#[cfg(test)]
mod tests {
    use super::BlockEncoder;
    use super::level5::BUFFER_RESET;

    /// Upstream keeps one encoder per pooled writer, so after about 2 GB its positions are
    /// rebased (at a block start, or in the middle of a block). Not reachable through the
    /// public API in a test's time budget; the output must equal a fresh encoder's.
    #[test]
    fn an_aged_encoder_writes_the_same_bytes_as_a_fresh_one() {
        let mut state = 0x1234_5678_u64;
        let data: Vec<u8> = (0..3 * (1 << 20) + 999)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                b"abcdefgh ,.\n0123"[(state >> 60) as usize]
            })
            .collect();
        let blocks: Vec<&[u8]> = data.chunks(1 << 20).collect();
        for start in [
            BUFFER_RESET - 2_000_000,
            BUFFER_RESET - 300_000,
            BUFFER_RESET - 40_000,
            BUFFER_RESET - 1,
            BUFFER_RESET,
        ] {
            let mut aged = BlockEncoder::new();
            aged.fast.set_cur(start);
            let mut dict: &[u8] = &[];
            for (i, block) in blocks.iter().enumerate() {
                let last = i + 1 == blocks.len();
                let (mut ours, mut fresh) = (Vec::new(), Vec::new());
                aged.encode(dict, block, last, &mut ours);
                BlockEncoder::new().encode(dict, block, last, &mut fresh);
                assert!(ours == fresh, "block {i} from position {start}");
                dict = &block[block.len().saturating_sub(16 << 10)..];
            }
        }
    }
}

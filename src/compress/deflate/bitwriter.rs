//! The DEFLATE block writer: picks stored, fixed, fresh dynamic or reused dynamic coding for
//! each window of tokens and emits the bits.
//!
//! Not for: finding matches (`level5`) or the per-window control flow (`mod.rs`).
//! Reproduces reference/apko-format.md §9.3–§9.4; reimplements klauspost/compress v1.19.1
//! `flate/huffman_bit_writer.go` (`writeBlockDynamic` with its table reuse and
//! `logNewTablePenalty`, `writeBlockHuff`, stored and fixed headers, `generateCodegen`); the
//! bit packing itself lives in `bits`.

use super::bits::Bits;
use super::huffman::{
    FIXED_LITERAL_CODES, FIXED_OFFSET_CODES, HCode, HuffmanEncoder, code_len, codes_bit_length,
};
use super::tokens::{
    END_BLOCK_MARKER, LENGTH_EXTRA_BITS, LITERAL_COUNT, MAX_STORE_BLOCK_SIZE, OFFSET_CODE_COUNT,
    OFFSET_EXTRA_BITS, Tokens,
};

/// Symbols of the code-length alphabet.
const CODEGEN_CODE_COUNT: usize = 19;
/// Marks the end of the run-length coded code lengths.
const BAD_CODE: u8 = 255;
/// Blocks with fewer tokens are also sized with the fixed table.
const MAX_PREDEFINED_TOKENS: usize = 250;
/// First length symbol.
const LENGTH_CODES_START: usize = 257;
/// Header size guess for a fresh Huffman-only table, in bits.
const GUESS_HEADER_SIZE_BITS: i64 = 70 * 8;

/// The order code-length code lengths are sent in (RFC 1951 §3.2.7).
const CODEGEN_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// The distance table a Huffman-only block declares: one 1-bit code for distance 0.
const HUFF_OFFSET_CODES: [HCode; 1] = [1];

/// Bit writer plus the table state that lets consecutive windows share one dynamic block.
pub(crate) struct BitWriter {
    /// The bit sink; its `out` holds the finished bytes.
    pub bits: Bits,
    /// The open table is a literals-only table (its distance codes are meaningless).
    last_huffman: bool,
    literal_encoding: HuffmanEncoder,
    tmp_lit_encoding: HuffmanEncoder,
    offset_encoding: HuffmanEncoder,
    codegen_encoding: HuffmanEncoder,
    /// Header size in bits of the still-open dynamic block; 0 when no block is open. While a
    /// block is open its end-of-block code is owed.
    last_header: i64,
    log_new_table_penalty: u32,
    literal_freq: [u16; LENGTH_CODES_START + 32],
    offset_freq: [u16; 32],
    codegen_freq: [u16; CODEGEN_CODE_COUNT],
    codegen: [u8; LITERAL_COUNT + OFFSET_CODE_COUNT + 1],
}

impl BitWriter {
    /// A writer with level 5's new-table penalty (1/128).
    pub(crate) fn new() -> Self {
        BitWriter {
            bits: Bits::new(),
            last_huffman: false,
            literal_encoding: HuffmanEncoder::new(LITERAL_COUNT),
            tmp_lit_encoding: HuffmanEncoder::new(LITERAL_COUNT),
            offset_encoding: HuffmanEncoder::new(OFFSET_CODE_COUNT),
            codegen_encoding: HuffmanEncoder::new(CODEGEN_CODE_COUNT),
            last_header: 0,
            log_new_table_penalty: 7,
            literal_freq: [0; LENGTH_CODES_START + 32],
            offset_freq: [0; 32],
            codegen_freq: [0; CODEGEN_CODE_COUNT],
            codegen: [0; LITERAL_COUNT + OFFSET_CODE_COUNT + 1],
        }
    }

    /// Starts a new stream. The tables keep their contents, as upstream's do, but with no open
    /// block none of them is consulted before being regenerated.
    pub(crate) fn reset(&mut self) {
        self.bits.reset();
        self.last_header = 0;
        self.last_huffman = false;
    }

    /// Writes the end-of-block code of the open block.
    fn write_owed_eob(&mut self) {
        self.bits
            .write_code(self.literal_encoding.codes[END_BLOCK_MARKER as usize]);
        self.last_header = 0;
    }

    /// Closes any open block and pads to a byte boundary.
    pub(crate) fn flush(&mut self) {
        if self.last_header > 0 {
            self.write_owed_eob();
        }
        self.bits.align();
    }

    /// Raw bytes of a stored block, after its header.
    pub(crate) fn write_bytes(&mut self, bytes: &[u8]) {
        self.bits.write_bytes(bytes);
    }

    /// A stored block header; an empty final stored block becomes an empty fixed block
    /// (10 bits instead of 5 bytes), which is where the closing `03 00` comes from.
    pub(crate) fn write_stored_header(&mut self, length: usize, is_eof: bool) {
        if self.last_header > 0 {
            self.write_owed_eob();
        }
        if length == 0 && is_eof {
            self.write_fixed_header(is_eof);
            self.bits.write_bits(0, 7);
            self.flush();
            return;
        }
        self.bits.write_bits(is_eof as u32, 3);
        self.flush();
        self.bits.write_bits(length as u32, 16);
        self.bits.write_bits(!(length as u16) as u32, 16);
    }

    fn write_stored(&mut self, input: &[u8], eof: bool) {
        self.write_stored_header(input.len(), eof);
        self.write_bytes(input);
    }

    fn write_fixed_header(&mut self, is_eof: bool) {
        if self.last_header > 0 {
            self.write_owed_eob();
        }
        self.bits.write_bits(if is_eof { 3 } else { 2 }, 3);
    }

    /// Whether every symbol the tokens use has a code in the open table.
    fn can_reuse(&self, t: &Tokens) -> bool {
        let off = &self.offset_encoding.codes;
        if t.off_hist[..OFFSET_CODE_COUNT]
            .iter()
            .zip(off.iter())
            .any(|(&v, &c)| v != 0 && c == 0)
        {
            return false;
        }
        let lit = &self.literal_encoding.codes;
        if t.extra_hist[..LITERAL_COUNT - 256]
            .iter()
            .zip(lit[256..LITERAL_COUNT].iter())
            .any(|(&v, &c)| v != 0 && c == 0)
        {
            return false;
        }
        !t.lit_hist
            .iter()
            .zip(lit[..256].iter())
            .any(|(&v, &c)| v != 0 && c == 0)
    }

    /// Copies the token histograms into the writer's frequency tables; returns how many
    /// literal/length and distance symbols the header must describe.
    fn index_tokens(&mut self, t: &Tokens, always_eob: bool) -> (usize, usize) {
        self.literal_freq[..256].copy_from_slice(&t.lit_hist);
        self.literal_freq[256..288].copy_from_slice(&t.extra_hist);
        self.offset_freq = t.off_hist;
        if t.n == 0 {
            return (0, 0);
        }
        if always_eob {
            self.literal_freq[END_BLOCK_MARKER as usize] = 1;
        }
        let mut num_literals = self.literal_freq.len();
        while num_literals > 0 && self.literal_freq[num_literals - 1] == 0 {
            num_literals -= 1;
        }
        let mut num_offsets = self.offset_freq.len();
        while num_offsets > 0 && self.offset_freq[num_offsets - 1] == 0 {
            num_offsets -= 1;
        }
        if num_offsets == 0 {
            // A dynamic header needs at least one distance code.
            self.offset_freq[0] = 1;
            num_offsets = 1;
        }
        (num_literals, num_offsets)
    }

    fn generate(&mut self) {
        self.literal_encoding
            .generate(&self.literal_freq[..LITERAL_COUNT], 15);
        self.offset_encoding
            .generate(&self.offset_freq[..OFFSET_CODE_COUNT], 15);
    }

    fn extra_bit_size(&self) -> i64 {
        let mut total = 0i64;
        for (i, &n) in self.literal_freq[257..LITERAL_COUNT].iter().enumerate() {
            total += n as i64 * LENGTH_EXTRA_BITS[i & 31] as i64;
        }
        for (i, &n) in self.offset_freq[..OFFSET_CODE_COUNT].iter().enumerate() {
            total += n as i64 * OFFSET_EXTRA_BITS[i & 31] as i64;
        }
        total
    }

    fn fixed_size(&self, extra_bits: i64) -> i64 {
        3 + codes_bit_length(&FIXED_LITERAL_CODES, &self.literal_freq)
            + codes_bit_length(&FIXED_OFFSET_CODES, &self.offset_freq)
            + extra_bits
    }

    fn dynamic_reuse_size(&self) -> i64 {
        self.literal_encoding
            .bit_length(&self.literal_freq[..LITERAL_COUNT])
            + self
                .offset_encoding
                .bit_length(&self.offset_freq[..OFFSET_CODE_COUNT])
    }

    fn num_codegens(&self) -> usize {
        let mut num = CODEGEN_CODE_COUNT;
        while num > 4 && self.codegen_freq[CODEGEN_ORDER[num - 1]] == 0 {
            num -= 1;
        }
        num
    }

    fn header_size(&self) -> (i64, usize) {
        let num = self.num_codegens();
        let size = 3
            + 5
            + 5
            + 4
            + 3 * num as i64
            + self.codegen_encoding.bit_length(&self.codegen_freq)
            + self.codegen_freq[16] as i64 * 2
            + self.codegen_freq[17] as i64 * 3
            + self.codegen_freq[18] as i64 * 7;
        (size, num)
    }

    fn dynamic_size(&self, extra_bits: i64) -> (i64, usize) {
        let (header, num) = self.header_size();
        (header + self.dynamic_reuse_size() + extra_bits, num)
    }

    /// Builds the run-length coded code lengths (RFC 1951 §3.2.7) for the current literal and
    /// distance tables into `codegen`, counting symbol use in `codegen_freq`.
    fn generate_codegen(&mut self, num_literals: usize, num_offsets: usize, huff_only: bool) {
        self.codegen_freq = [0; CODEGEN_CODE_COUNT];
        let lit = &self.literal_encoding.codes;
        let off: &[HCode] = if huff_only {
            &HUFF_OFFSET_CODES
        } else {
            &self.offset_encoding.codes
        };
        let codegen = &mut self.codegen;
        let freq = &mut self.codegen_freq;
        for i in 0..num_literals {
            codegen[i] = code_len(lit[i]) as u8;
        }
        for i in 0..num_offsets {
            codegen[num_literals + i] = code_len(off[i]) as u8;
        }
        codegen[num_literals + num_offsets] = BAD_CODE;

        let mut size = codegen[0];
        let mut count: i32 = 1;
        let mut out = 0usize;
        let mut in_index = 1usize;
        while size != BAD_CODE {
            let next_size = codegen[in_index];
            in_index += 1;
            if next_size == size {
                count += 1;
                continue;
            }
            if size != 0 {
                codegen[out] = size;
                out += 1;
                freq[size as usize] += 1;
                count -= 1;
                while count >= 3 {
                    let n = count.min(6);
                    codegen[out] = 16;
                    codegen[out + 1] = (n - 3) as u8;
                    out += 2;
                    freq[16] += 1;
                    count -= n;
                }
            } else {
                while count >= 11 {
                    let n = count.min(138);
                    codegen[out] = 18;
                    codegen[out + 1] = (n - 11) as u8;
                    out += 2;
                    freq[18] += 1;
                    count -= n;
                }
                if count >= 3 {
                    codegen[out] = 17;
                    codegen[out + 1] = (count - 3) as u8;
                    out += 2;
                    freq[17] += 1;
                    count = 0;
                }
            }
            count -= 1;
            while count >= 0 {
                codegen[out] = size;
                out += 1;
                freq[size as usize] += 1;
                count -= 1;
            }
            size = next_size;
            count = 1;
        }
        codegen[out] = BAD_CODE;
    }

    fn write_dynamic_header(
        &mut self,
        num_literals: usize,
        num_offsets: usize,
        num_codegens: usize,
        is_eof: bool,
    ) {
        self.bits.write_bits(if is_eof { 5 } else { 4 }, 3);
        self.bits.write_bits((num_literals - 257) as u32, 5);
        self.bits.write_bits((num_offsets - 1) as u32, 5);
        self.bits.write_bits((num_codegens - 4) as u32, 4);
        for &symbol in &CODEGEN_ORDER[..num_codegens] {
            let len = code_len(self.codegen_encoding.codes[symbol]);
            self.bits.write_bits(len, 3);
        }
        let mut i = 0usize;
        loop {
            let word = self.codegen[i];
            i += 1;
            if word == BAD_CODE {
                break;
            }
            self.bits
                .write_code(self.codegen_encoding.codes[word as usize]);
            let extra = match word {
                16 => 2,
                17 => 3,
                18 => 7,
                _ => 0,
            };
            if extra > 0 {
                self.bits.write_bits(self.codegen[i] as u32, extra);
                i += 1;
            }
        }
    }

    /// Writes a window's tokens as a dynamic block, or continues the open one, or falls back
    /// to fixed or stored coding, with upstream's size estimates deciding each step.
    pub(crate) fn write_block_dynamic(
        &mut self,
        tokens: &mut Tokens,
        eof: bool,
        input: &[u8],
        sync: bool,
    ) {
        let sync = sync || eof;
        if sync {
            tokens.add_eob();
        }

        // A literals-only table cannot carry matches; the final block is never continued.
        if (self.last_huffman || eof) && self.last_header > 0 {
            self.write_owed_eob();
            self.last_huffman = false;
        }
        if self.last_header > 0 && !self.can_reuse(tokens) {
            self.write_owed_eob();
        }

        let (num_literals, num_offsets) = self.index_tokens(tokens, true);
        let storable = input.len() <= MAX_STORE_BLOCK_SIZE;
        let stored_size = (input.len() as i64 + 5) * 8;
        let mut extra_bits = 0;
        if storable || self.last_header > 0 {
            extra_bits = self.extra_bit_size();
        }

        if self.last_header > 0 {
            // Estimate a fresh table from the previous header size plus an optimal coding,
            // with the penalty that makes reuse a little more attractive.
            let mut new_size = self.last_header + tokens.estimated_bits();
            new_size += code_len(self.literal_encoding.codes[END_BLOCK_MARKER as usize]) as i64
                + (new_size >> self.log_new_table_penalty);
            let reuse_size = self.dynamic_reuse_size() + extra_bits;

            let size = if new_size < reuse_size {
                self.write_owed_eob();
                new_size
            } else {
                reuse_size
            };

            if tokens.n < MAX_PREDEFINED_TOKENS {
                let pre_size = self.fixed_size(extra_bits) + 7;
                if pre_size < size {
                    if storable && stored_size <= size {
                        self.write_stored(input, eof);
                        return;
                    }
                    self.write_fixed_block(tokens, eof, sync);
                    return;
                }
            }
            if storable && stored_size <= size {
                self.write_stored(input, eof);
                return;
            }
        }

        if self.last_header == 0 {
            self.literal_freq[END_BLOCK_MARKER as usize] = 1;
            self.generate();
            self.generate_codegen(num_literals, num_offsets, false);
            self.codegen_encoding.generate(&self.codegen_freq, 7);
            let (size, num_codegens) = self.dynamic_size(extra_bits);

            if tokens.n < MAX_PREDEFINED_TOKENS {
                let pre_size = self.fixed_size(extra_bits);
                if pre_size <= size {
                    if storable && stored_size <= pre_size {
                        self.write_stored(input, eof);
                        return;
                    }
                    self.write_fixed_block(tokens, eof, sync);
                    return;
                }
            }
            if storable && stored_size <= size {
                self.write_stored(input, eof);
                return;
            }

            self.write_dynamic_header(num_literals, num_offsets, num_codegens, eof);
            if !sync {
                self.last_header = self.header_size().0;
            }
            self.last_huffman = false;
        }

        if sync {
            self.last_header = 0;
        }
        self.bits.write_tokens(
            tokens.slice(),
            &self.literal_encoding.codes,
            &self.offset_encoding.codes,
        );
    }

    fn write_fixed_block(&mut self, tokens: &mut Tokens, eof: bool, sync: bool) {
        self.write_fixed_header(eof);
        if !sync {
            tokens.add_eob();
        }
        self.bits
            .write_tokens(tokens.slice(), &FIXED_LITERAL_CODES, &FIXED_OFFSET_CODES);
    }

    /// Writes a window as Huffman-coded literals only (or stored when that cannot pay off),
    /// continuing the open table when it codes the window well enough.
    pub(crate) fn write_block_huff(&mut self, eof: bool, input: &[u8], sync: bool) {
        self.literal_freq = [0; LENGTH_CODES_START + 32];
        if !self.last_huffman {
            self.offset_freq = [0; 32];
        }
        const NUM_LITERALS: usize = END_BLOCK_MARKER as usize + 1;
        for &b in input {
            let f = &mut self.literal_freq[b as usize];
            *f = f.wrapping_add(1);
        }
        let storable = input.len() <= MAX_STORE_BLOCK_SIZE;
        let stored_size = (input.len() as i64 + 5) * 8;
        if storable && input.len() > 1024 {
            // Quick check for incompressible content: a flat histogram stores.
            let mut abs = 0f64;
            let avg = input.len() as f64 / 256.0;
            let max = (input.len() * 2) as f64;
            for &v in &self.literal_freq[..256] {
                let diff = v as f64 - avg;
                abs += diff * diff;
                if abs > max {
                    break;
                }
            }
            if abs < max {
                self.write_stored(input, eof);
                return;
            }
        }
        self.literal_freq[END_BLOCK_MARKER as usize] = 1;
        self.tmp_lit_encoding
            .generate(&self.literal_freq[..NUM_LITERALS], 15);
        let mut est_bits = self
            .tmp_lit_encoding
            .can_reuse_bits(&self.literal_freq[..NUM_LITERALS]);
        if est_bits < i32::MAX as i64 {
            est_bits += self.last_header;
            if self.last_header == 0 {
                est_bits += GUESS_HEADER_SIZE_BITS;
            }
            est_bits += est_bits >> self.log_new_table_penalty;
        }
        if storable && stored_size <= est_bits {
            self.write_stored(input, eof);
            return;
        }

        if self.last_header > 0 {
            let reuse_size = self
                .literal_encoding
                .can_reuse_bits(&self.literal_freq[..256]);
            if est_bits < reuse_size {
                self.write_owed_eob();
            }
        }

        if self.last_header == 0 {
            std::mem::swap(&mut self.literal_encoding, &mut self.tmp_lit_encoding);
            self.generate_codegen(NUM_LITERALS, 1, true);
            self.codegen_encoding.generate(&self.codegen_freq, 7);
            let num_codegens = self.num_codegens();
            self.write_dynamic_header(NUM_LITERALS, 1, num_codegens, eof);
            self.last_huffman = true;
            self.last_header = self.header_size().0;
        }

        self.bits
            .write_literals(input, &self.literal_encoding.codes);

        if eof || sync {
            self.write_owed_eob();
            self.last_huffman = false;
        }
    }
}

//! The bit sink under the block writer: LSB-first bit packing into a byte vector, and the two
//! hot loops that emit a window's tokens or literals.
//!
//! Not for: choosing codes or block types (`bitwriter`).
//! Reproduces reference/apko-format.md §9.4 (RFC 1951 §3.1.1 bit order); reimplements the
//! output half of klauspost/compress v1.19.1 `flate/huffman_bit_writer.go` (`writeBits`,
//! `writeCode`, `flush`, `writeBytes`, `writeTokens`, the literal loop of `writeBlockHuff`).
//! Bytes go straight into the vector, so upstream's 246-byte staging buffer (which never
//! changes the bytes) is not reproduced.

use super::huffman::{HCode, code_bits, code_len};
use super::tokens::{
    END_BLOCK_MARKER, LENGTH_BASE, LENGTH_CODES, LENGTH_EXTRA_BITS, LENGTH_SHIFT, LITERAL_COUNT,
    OFFSET_BASE, OFFSET_EXTRA_BITS, OFFSET_MASK,
};

/// First length symbol.
const LENGTH_CODES_START: usize = 257;

/// Pending bits (fewer than 48 between calls) over the finished bytes.
pub(crate) struct Bits {
    /// Finished bytes.
    pub out: Vec<u8>,
    bits: u64,
    nbits: u32,
}

/// Adds `$len` bits to the local accumulator, spilling six bytes once 48 are pending.
macro_rules! put {
    ($out:expr, $bits:ident, $nbits:ident, $value:expr, $len:expr) => {
        $bits |= ($value) << ($nbits & 63);
        $nbits += $len;
        if $nbits >= 48 {
            $out.extend_from_slice(&$bits.to_le_bytes()[..6]);
            $bits >>= 48;
            $nbits -= 48;
        }
    };
}

impl Bits {
    pub(crate) fn new() -> Self {
        Bits {
            out: Vec::new(),
            bits: 0,
            nbits: 0,
        }
    }

    /// Drops pending bits (a new stream starts byte aligned).
    pub(crate) fn reset(&mut self) {
        self.bits = 0;
        self.nbits = 0;
    }

    #[inline(always)]
    pub(crate) fn write_bits(&mut self, value: u32, nb: u32) {
        let (mut bits, mut nbits) = (self.bits, self.nbits);
        put!(self.out, bits, nbits, value as u64, nb);
        (self.bits, self.nbits) = (bits, nbits);
    }

    #[inline(always)]
    pub(crate) fn write_code(&mut self, c: HCode) {
        let (mut bits, mut nbits) = (self.bits, self.nbits);
        put!(self.out, bits, nbits, code_bits(c), code_len(c));
        (self.bits, self.nbits) = (bits, nbits);
    }

    /// Pads with zero bits to a byte boundary and moves everything to `out`.
    pub(crate) fn align(&mut self) {
        while self.nbits != 0 {
            self.out.push(self.bits as u8);
            self.bits >>= 8;
            self.nbits = self.nbits.saturating_sub(8);
        }
        self.bits = 0;
    }

    /// Raw bytes after a stored block header (which leaves the bits byte aligned).
    pub(crate) fn write_bytes(&mut self, bytes: &[u8]) {
        debug_assert_eq!(self.nbits & 7, 0);
        self.align();
        self.out.extend_from_slice(bytes);
    }

    /// Emits tokens with the given tables; a trailing end-of-block token is written last.
    pub(crate) fn write_tokens(&mut self, tokens: &[u32], lit: &[HCode], off: &[HCode]) {
        let (tokens, defer_eob) = match tokens.split_last() {
            Some((&END_BLOCK_MARKER, rest)) => (rest, true),
            Some(_) => (tokens, false),
            None => return,
        };
        let Ok(lits) = <&[HCode; 256]>::try_from(&lit[..256]) else {
            return;
        };
        let lengths = &lit[LENGTH_CODES_START..LITERAL_COUNT];
        let (mut bits, mut nbits) = (self.bits, self.nbits);
        self.out.reserve(tokens.len() * 4 + 16);
        let out = &mut self.out;
        for &t in tokens {
            if t < 256 {
                let c = lits[t as usize];
                put!(out, bits, nbits, code_bits(c), code_len(c));
                continue;
            }
            let length = ((t >> LENGTH_SHIFT) & 0xff) as usize;
            let length_code = (LENGTH_CODES[length] & 31) as usize;
            let c = lengths[length_code];
            put!(out, bits, nbits, code_bits(c), code_len(c));
            if length_code >= 8 {
                let extra = (length - LENGTH_BASE[length_code] as usize) as u64;
                put!(
                    out,
                    bits,
                    nbits,
                    extra,
                    LENGTH_EXTRA_BITS[length_code] as u32
                );
            }
            let offset = t & OFFSET_MASK;
            let offset_code = ((offset >> 16) & 31) as usize;
            let c = off[offset_code];
            put!(out, bits, nbits, code_bits(c), code_len(c));
            if offset_code >= 4 {
                // The code sits in bits 16.. of `offset`; the mask drops it after the subtraction.
                let extra = (offset.wrapping_sub(OFFSET_BASE[offset_code]) & 0xffff) as u64;
                put!(
                    out,
                    bits,
                    nbits,
                    extra,
                    OFFSET_EXTRA_BITS[offset_code] as u32
                );
            }
        }
        (self.bits, self.nbits) = (bits, nbits);
        if defer_eob {
            self.write_code(lit[END_BLOCK_MARKER as usize]);
        }
    }

    /// Emits each byte of `input` as a literal code.
    pub(crate) fn write_literals(&mut self, input: &[u8], codes: &[HCode]) {
        let Ok(codes) = <&[HCode; 256]>::try_from(&codes[..256]) else {
            return;
        };
        let (mut bits, mut nbits) = (self.bits, self.nbits);
        self.out.reserve(input.len() * 2 + 16);
        let out = &mut self.out;
        for &b in input {
            let c = codes[b as usize];
            put!(out, bits, nbits, code_bits(c), code_len(c));
        }
        (self.bits, self.nbits) = (bits, nbits);
    }
}

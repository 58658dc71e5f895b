//! The token buffer the level-5 matcher fills and the block writer drains, with its histograms.
//!
//! Not for: choosing matches (`level5`) or writing bits (`bitwriter`).
//! Reproduces reference/apko-format.md §9.4; reimplements klauspost/compress v1.19.1
//! `flate/token.go` (token packing, `AddMatchLong` splitting, `EstimatedBits`).

/// Match tokens carry this tag in the top two bits; literals are the bare byte value.
pub(crate) const MATCH_TYPE: u32 = 1 << 30;
/// A token holding the end-of-block symbol (only ever the last token of a block).
pub(crate) const END_BLOCK_MARKER: u32 = 256;
/// Bits 22..30 of a match token hold `length - 3`.
pub(crate) const LENGTH_SHIFT: u32 = 22;
/// Bits 0..22 of a match token hold `offset - 1` (bits 0..16) and the offset code (bits 16..22).
pub(crate) const OFFSET_MASK: u32 = (1 << LENGTH_SHIFT) - 1;

/// The largest stored block, and so the largest window the fast encoder sees at once.
pub(crate) const MAX_STORE_BLOCK_SIZE: usize = 65535;
/// Literal/length symbols a block can use (0..=285).
pub(crate) const LITERAL_COUNT: usize = 286;
/// Distance symbols a block can use (0..=29).
pub(crate) const OFFSET_CODE_COUNT: usize = 30;

/// Extra bits per length code (code 257 is index 0).
pub(crate) const LENGTH_EXTRA_BITS: [u8; 32] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0, 0, 0, 0,
];
/// `length - 3` at the start of each length code.
pub(crate) const LENGTH_BASE: [u8; 32] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128,
    160, 192, 224, 255, 0, 0, 0,
];
/// Extra bits per distance code; entries 30 and 31 only exist for table shape.
pub(crate) const OFFSET_EXTRA_BITS: [u8; 32] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13, 14, 14,
];
/// `offset - 1` at the start of each distance code.
pub(crate) const OFFSET_BASE: [u32; 32] = [
    0x000000, 0x000001, 0x000002, 0x000003, 0x000004, 0x000006, 0x000008, 0x00000c, 0x000010,
    0x000018, 0x000020, 0x000030, 0x000040, 0x000060, 0x000080, 0x0000c0, 0x000100, 0x000180,
    0x000200, 0x000300, 0x000400, 0x000600, 0x000800, 0x000c00, 0x001000, 0x001800, 0x002000,
    0x003000, 0x004000, 0x006000, 0x008000, 0x00c000,
];

const fn build_length_codes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut code = 0usize;
    let mut xlength = 0usize;
    while xlength < 256 {
        while code < 28 && LENGTH_BASE[code + 1] as usize <= xlength {
            code += 1;
        }
        table[xlength] = code as u8;
        xlength += 1;
    }
    table
}

const fn build_offset_codes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut code = 0usize;
    let mut offset = 0usize;
    while offset < 256 {
        while code < 15 && OFFSET_BASE[code + 1] as usize <= offset {
            code += 1;
        }
        table[offset] = code as u8;
        offset += 1;
    }
    table
}

/// Length code (0..=28, i.e. symbol - 257) for `length - 3`.
pub(crate) const LENGTH_CODES: [u8; 256] = build_length_codes();
/// Distance code for `offset - 1` below 256; above, index by `(offset - 1) >> 7` and add 14.
const OFFSET_CODES: [u8; 256] = build_offset_codes();

/// The distance code of `xoffset` (= distance - 1, below 32768).
#[inline(always)]
pub(crate) fn offset_code(xoffset: u32) -> u32 {
    if xoffset < 256 {
        OFFSET_CODES[xoffset as usize] as u32
    } else {
        OFFSET_CODES[((xoffset >> 7) & 0xff) as usize] as u32 + 14
    }
}

/// Tokens of one window plus the histograms the block writer sizes its tables from.
pub(crate) struct Tokens {
    /// Literal byte counts.
    pub lit_hist: [u16; 256],
    /// Counts of symbols 256.. (index 0 is end-of-block, 1.. the length codes).
    pub extra_hist: [u16; 32],
    /// Distance code counts.
    pub off_hist: [u16; 32],
    /// Number of tokens in use (upstream keeps it in a u16).
    pub n: usize,
    /// Room for a full window of literals plus an end-of-block marker.
    pub tokens: Box<[u32]>,
}

impl Tokens {
    pub(crate) fn new() -> Self {
        Tokens {
            lit_hist: [0; 256],
            extra_hist: [0; 32],
            off_hist: [0; 32],
            n: 0,
            tokens: vec![0; MAX_STORE_BLOCK_SIZE + 1].into_boxed_slice(),
        }
    }

    /// Upstream skips the clearing when no token was added; a window shorter than the
    /// matcher's minimum sets `n` without touching the histograms, so this stays equivalent.
    pub(crate) fn reset(&mut self) {
        if self.n == 0 {
            return;
        }
        self.n = 0;
        self.lit_hist = [0; 256];
        self.extra_hist = [0; 32];
        self.off_hist = [0; 32];
    }

    pub(crate) fn slice(&self) -> &[u32] {
        &self.tokens[..self.n]
    }

    #[inline(always)]
    pub(crate) fn add_literals(&mut self, lits: &[u8]) {
        let n = self.n;
        let dst = &mut self.tokens[n..n + lits.len()];
        for (d, &v) in dst.iter_mut().zip(lits) {
            *d = v as u32;
            self.lit_hist[v as usize] = self.lit_hist[v as usize].wrapping_add(1);
        }
        self.n = n + lits.len();
    }

    /// Adds a match of `length` bytes (no base subtracted) at `xoffset` (= distance - 1),
    /// splitting lengths over 258 the way upstream does so every piece stays >= 3.
    #[inline(always)]
    pub(crate) fn add_match_long(&mut self, mut length: i32, xoffset: u32) {
        let oc = offset_code(xoffset);
        let packed_offset = xoffset | (oc << 16);
        while length > 0 {
            let mut xl = length;
            if xl > 258 {
                xl = if xl > 258 + 3 { 258 } else { 258 - 3 };
            }
            length -= xl;
            let xl = (xl - 3) as u32;
            let code = LENGTH_CODES[(xl & 0xff) as usize] as usize + 1;
            self.extra_hist[code] = self.extra_hist[code].wrapping_add(1);
            let o = (oc & 31) as usize;
            self.off_hist[o] = self.off_hist[o].wrapping_add(1);
            self.tokens[self.n] = MATCH_TYPE | (xl << LENGTH_SHIFT) | packed_offset;
            self.n += 1;
        }
    }

    pub(crate) fn add_eob(&mut self) {
        self.tokens[self.n] = END_BLOCK_MARKER;
        self.extra_hist[0] = self.extra_hist[0].wrapping_add(1);
        self.n += 1;
    }

    /// Upstream's estimate of an optimally coded block, in bits. The float32 steps are kept
    /// one by one (no fused multiply-add) because the result feeds the table-reuse decision.
    pub(crate) fn estimated_bits(&self) -> i64 {
        let mut shannon = 0f32;
        let mut bits: i64 = 0;
        let mut n_matches: i64 = 0;
        let total = self.n;
        if total > 0 {
            let inv_total = 1.0f32 / total as f32;
            for &v in &self.lit_hist {
                if v > 0 {
                    let n = v as f32;
                    shannon += at_least_one(-fast_log2(n * inv_total)) * n;
                }
            }
            // Just add 15 for EOB.
            shannon += 15.0;
            for (i, &v) in self.extra_hist[1..LITERAL_COUNT - 256].iter().enumerate() {
                if v > 0 {
                    let n = v as f32;
                    shannon += at_least_one(-fast_log2(n * inv_total)) * n;
                    bits += LENGTH_EXTRA_BITS[i & 31] as i64 * v as i64;
                    n_matches += v as i64;
                }
            }
        }
        if n_matches > 0 {
            let inv_total = 1.0f32 / n_matches as f32;
            for (i, &v) in self.off_hist[..OFFSET_CODE_COUNT].iter().enumerate() {
                if v > 0 {
                    let n = v as f32;
                    shannon += at_least_one(-fast_log2(n * inv_total)) * n;
                    bits += OFFSET_EXTRA_BITS[i & 31] as i64 * v as i64;
                }
            }
        }
        shannon as i64 + bits
    }
}

/// Clamps a per-symbol cost to 1..=15 bits.
fn at_least_one(v: f32) -> f32 {
    v.clamp(1.0, 15.0)
}

/// The polynomial log2 approximation upstream uses, bit for bit in float32 (its constants are
/// written with upstream's digits, then rounded to float32 like Go's untyped constants).
#[allow(clippy::excessive_precision)]
fn fast_log2(val: f32) -> f32 {
    let mut ux = val.to_bits() as i32;
    let mut log2 = (((ux >> 23) & 255) - 128) as f32;
    ux &= -0x7f80_0001;
    ux = ux.wrapping_add(127 << 23);
    let uval = f32::from_bits(ux as u32);
    let a = -0.344_848_43f32 * uval;
    let b = a + 2.024_665_78f32;
    let c = b * uval;
    let d = c - 0.674_877_59f32;
    log2 += d;
    log2
}

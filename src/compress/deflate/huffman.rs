//! Length-limited Huffman code construction, exactly as klauspost/compress builds it.
//!
//! Not for: deciding which table a block uses (`bitwriter`).
//! Reproduces reference/apko-format.md §9.4; reimplements klauspost/compress v1.19.1
//! `flate/huffman_code.go` (the package-merge style `bitCounts`, literal-ordered code
//! assignment, fixed tables) and the orderings of `huffman_sortByFreq.go` /
//! `huffman_sortByLiteral.go` (both sort by a total order, so any correct sort agrees).

/// A code packed as upstream's `hcode`: bit length in the low byte, the bit-reversed code above.
pub(crate) type HCode = u32;

/// The bit length of a packed code.
#[inline(always)]
pub(crate) fn code_len(c: HCode) -> u32 {
    c & 0xff
}

/// The (already bit-reversed) code bits of a packed code.
#[inline(always)]
pub(crate) fn code_bits(c: HCode) -> u64 {
    (c >> 8) as u64
}

const fn new_code(code: u16, length: u8) -> HCode {
    length as u32 | ((code as u32) << 8)
}

const fn reverse_bits(number: u16, bit_length: u8) -> u16 {
    (number << ((16 - bit_length as u32) & 15)).reverse_bits()
}

const MAX_BITS_LIMIT: usize = 16;

#[derive(Clone, Copy, Default)]
struct LiteralNode {
    literal: u16,
    freq: u16,
}

/// Sentinel closing the sorted leaf list.
const MAX_NODE: LiteralNode = LiteralNode {
    literal: u16::MAX,
    freq: u16::MAX,
};

#[derive(Clone, Copy, Default)]
struct LevelInfo {
    level: i32,
    last_freq: i32,
    next_char_freq: i32,
    next_pair_freq: i32,
    needed: i32,
}

/// One Huffman table and the scratch space to rebuild it.
pub(crate) struct HuffmanEncoder {
    /// Codes indexed by symbol; zero for symbols absent from the last generation.
    pub codes: Vec<HCode>,
    bit_count: [i32; 17],
    freqcache: Vec<LiteralNode>,
}

impl HuffmanEncoder {
    pub(crate) fn new(size: usize) -> Self {
        HuffmanEncoder {
            codes: vec![0; size],
            bit_count: [0; 17],
            freqcache: vec![LiteralNode::default(); 287],
        }
    }

    /// Total bits to code `freq` with this table.
    pub(crate) fn bit_length(&self, freq: &[u16]) -> i64 {
        let mut total = 0i64;
        for (i, &f) in freq.iter().enumerate() {
            if f != 0 {
                total += f as i64 * code_len(self.codes[i]) as i64;
            }
        }
        total
    }

    /// Total bits to code `freq` with this table, or `i32::MAX` when a used symbol has no code.
    pub(crate) fn can_reuse_bits(&self, freq: &[u16]) -> i64 {
        let mut total = 0i64;
        for (i, &f) in freq.iter().enumerate() {
            if f != 0 {
                let code = self.codes[i];
                if code == 0 {
                    return i32::MAX as i64;
                }
                total += f as i64 * code_len(code) as i64;
            }
        }
        total
    }

    /// Rebuilds the table as the length-limited code for `freq` (at most `max_bits` bits).
    pub(crate) fn generate(&mut self, freq: &[u16], max_bits: i32) {
        let mut count = 0usize;
        for (i, &f) in freq.iter().enumerate() {
            if f != 0 {
                self.freqcache[count] = LiteralNode {
                    literal: i as u16,
                    freq: f,
                };
                count += 1;
            } else {
                self.codes[i] = 0;
            }
        }
        if count <= 2 {
            // With two or fewer symbols every used symbol gets one bit, in symbol order.
            for i in 0..count {
                let node = self.freqcache[i];
                self.codes[node.literal as usize] = new_code(i as u16, 1);
            }
            return;
        }
        self.freqcache[..count].sort_unstable_by_key(|n| (n.freq, n.literal));
        let max_bits = self.bit_counts(count, max_bits);
        self.assign_encoding_and_size(count, max_bits);
    }

    /// Fills `bit_count[1..=max_bits]` with how many symbols get each length; returns the
    /// effective `max_bits`. A direct port of upstream's level-by-level chain construction.
    fn bit_counts(&mut self, n: usize, mut max_bits: i32) -> i32 {
        let list = &mut self.freqcache;
        list[n] = MAX_NODE;
        let n = n as i32;
        if max_bits > n - 1 {
            max_bits = n - 1;
        }
        let mut levels = [LevelInfo::default(); MAX_BITS_LIMIT + 1];
        let mut leaf_counts = [[0i32; MAX_BITS_LIMIT]; MAX_BITS_LIMIT];

        let l2f = list[2].freq as i32;
        let l1f = list[1].freq as i32;
        let l0f = list[0].freq as i32 + list[1].freq as i32;
        for level in 1..=max_bits as usize {
            levels[level] = LevelInfo {
                level: level as i32,
                last_freq: l1f,
                next_char_freq: l2f,
                next_pair_freq: l0f,
                needed: 0,
            };
            leaf_counts[level][level] = 2;
            if level == 1 {
                levels[level].next_pair_freq = i32::MAX;
            }
        }
        levels[max_bits as usize].needed = 2 * n - 4;

        let mut level = max_bits as usize;
        while level < 16 {
            if levels[level].next_pair_freq == i32::MAX && levels[level].next_char_freq == i32::MAX
            {
                // Out of leaves and pairs: close this level for good.
                levels[level].needed = 0;
                levels[level + 1].next_pair_freq = i32::MAX;
                level += 1;
                continue;
            }
            let prev_freq = levels[level].last_freq;
            if levels[level].next_char_freq < levels[level].next_pair_freq {
                // The next item on this row is a leaf.
                let next = leaf_counts[level][level] + 1;
                levels[level].last_freq = levels[level].next_char_freq;
                leaf_counts[level][level] = next;
                let e = list[next as usize];
                levels[level].next_char_freq = if e.literal < u16::MAX {
                    e.freq as i32
                } else {
                    i32::MAX
                };
            } else {
                // The next item is a pair from the row below.
                levels[level].last_freq = levels[level].next_pair_freq;
                let save = leaf_counts[level][level];
                leaf_counts[level] = leaf_counts[level - 1];
                leaf_counts[level][level] = save;
                let below = (levels[level].level - 1) as usize;
                levels[below].needed = 2;
            }
            levels[level].needed -= 1;
            if levels[level].needed == 0 {
                if levels[level].level == max_bits {
                    break;
                }
                let above = (levels[level].level + 1) as usize;
                levels[above].next_pair_freq = prev_freq + levels[level].last_freq;
                level += 1;
            } else {
                while levels[level - 1].needed > 0 {
                    level -= 1;
                }
            }
        }
        debug_assert_eq!(leaf_counts[max_bits as usize][max_bits as usize], n);

        let counts = &leaf_counts[max_bits as usize];
        // Level k of the chains holds the symbols that need at least max_bits - k + 1 bits.
        for (bits, level) in (1usize..).zip((1..=max_bits as usize).rev()) {
            self.bit_count[bits] = counts[level] - counts[level - 1];
        }
        max_bits
    }

    /// Gives the least frequent symbols the longest codes; within one length, codes are
    /// assigned in symbol order (RFC 1951 §3.2.2).
    fn assign_encoding_and_size(&mut self, count: usize, max_bits: i32) {
        let mut code: u16 = 0;
        let mut end = count;
        for n in 0..=max_bits as usize {
            code = code.wrapping_shl(1);
            let bits = self.bit_count[n];
            if n == 0 || bits == 0 {
                continue;
            }
            let start = end - bits as usize;
            let chunk = &mut self.freqcache[start..end];
            chunk.sort_unstable_by_key(|node| node.literal);
            for node in chunk.iter() {
                self.codes[node.literal as usize] = new_code(reverse_bits(code, n as u8), n as u8);
                code = code.wrapping_add(1);
            }
            end = start;
        }
    }
}

const fn fixed_literal_codes() -> [HCode; 286] {
    let mut codes = [0; 286];
    let mut ch = 0u16;
    while ch < 286 {
        let (bits, size) = if ch < 144 {
            (ch + 48, 8)
        } else if ch < 256 {
            (ch + 400 - 144, 9)
        } else if ch < 280 {
            (ch - 256, 7)
        } else {
            (ch + 192 - 280, 8)
        };
        codes[ch as usize] = new_code(reverse_bits(bits, size), size);
        ch += 1;
    }
    codes
}

const fn fixed_offset_codes() -> [HCode; 30] {
    let mut codes = [0; 30];
    let mut ch = 0u16;
    while ch < 30 {
        codes[ch as usize] = new_code(reverse_bits(ch, 5), 5);
        ch += 1;
    }
    codes
}

/// The fixed literal/length table of RFC 1951 §3.2.6.
pub(crate) static FIXED_LITERAL_CODES: [HCode; 286] = fixed_literal_codes();
/// The fixed distance table (5 bits each).
pub(crate) static FIXED_OFFSET_CODES: [HCode; 30] = fixed_offset_codes();

/// Bits to code `freq` with the table `codes` (symbols past the table never occur).
pub(crate) fn codes_bit_length(codes: &[HCode], freq: &[u16]) -> i64 {
    let mut total = 0i64;
    for (&f, &c) in freq.iter().zip(codes) {
        if f != 0 {
            total += f as i64 * code_len(c) as i64;
        }
    }
    total
}

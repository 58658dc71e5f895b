//! The level-5 match finder: a short (4-byte) and a long (7-byte, two-deep) hash table over a
//! sliding history, with the skip heuristic, end-of-match recheck and backward extension that
//! decide which matches klauspost's default level emits.
//!
//! Not for: coding the tokens (`bitwriter`).
//! Reproduces reference/apko-format.md §9.4; reimplements klauspost/compress v1.19.1
//! `flate/level5.go` (`fastEncL5.Encode`), `flate/fast_encoder.go` (`fastGen` history,
//! hashes, `Reset`) and `flate/matchlen_generic.go`.

use super::tokens::{MAX_STORE_BLOCK_SIZE, Tokens};

const TABLE_BITS: u32 = 15;
const TABLE_SIZE: usize = 1 << TABLE_BITS;
/// Farthest back a match may start (exclusive bound in the checks below).
const MAX_MATCH_OFFSET: i32 = 1 << 15;
const MAX_MATCH_LENGTH: i32 = 258;
/// Upstream's fixed history capacity; when a window would not fit, the history slides down to
/// its last 32 KiB. The sliding point changes which bytes backward extension can reach, so
/// the capacity is part of the output format.
const ALLOC_HISTORY: usize = MAX_STORE_BLOCK_SIZE * 5;
/// When `cur` passes this, table positions are rebased to avoid i32 overflow.
pub(super) const BUFFER_RESET: i32 = i32::MAX - ALLOC_HISTORY as i32 - MAX_STORE_BLOCK_SIZE as i32;

const PRIME_4_BYTES: u32 = 2_654_435_761;
const PRIME_7_BYTES: u64 = 58_295_818_150_454_627;

/// Encoder state that survives between windows of one stream.
pub(crate) struct FastL5 {
    /// Previous windows (up to 32 KiB kept when sliding) followed by the current one.
    hist: Vec<u8>,
    /// Bytes of `hist` in use.
    hist_len: usize,
    /// Absolute position of `hist[0]`; table entries hold absolute positions.
    cur: i32,
    table: Box<[i32; TABLE_SIZE]>,
    /// Long-hash buckets: the most recent and the previous position.
    btable: Box<[[i32; 2]; TABLE_SIZE]>,
}

#[inline(always)]
fn hash4(u: u64) -> usize {
    ((u as u32).wrapping_mul(PRIME_4_BYTES) >> (32 - TABLE_BITS)) as usize
}

#[inline(always)]
fn hash7(u: u64) -> usize {
    ((u << 8).wrapping_mul(PRIME_7_BYTES) >> (64 - TABLE_BITS)) as usize
}

#[inline(always)]
fn load64(b: &[u8], i: i32) -> u64 {
    let i = i as usize;
    match b.get(i..i + 8) {
        Some(s) => u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]),
        None => 0,
    }
}

#[inline(always)]
fn load32(b: &[u8], i: i32) -> u32 {
    let i = i as usize;
    match b.get(i..i + 4) {
        Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

/// Length of the common prefix of `a` and `b`; `a` is the shorter.
#[inline(always)]
fn match_len(a: &[u8], b: &[u8]) -> i32 {
    let b = &b[..a.len()];
    let mut n = 0usize;
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        let x = u64::from_le_bytes([x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]]);
        let y = u64::from_le_bytes([y[0], y[1], y[2], y[3], y[4], y[5], y[6], y[7]]);
        let diff = x ^ y;
        if diff != 0 {
            return (n + (diff.trailing_zeros() >> 3) as usize) as i32;
        }
        n += 8;
    }
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        if x != y {
            break;
        }
        n += 1;
    }
    n as i32
}

/// Match length from `s` against `t`, capped so the total with the 4 already-checked bytes
/// stays within one DEFLATE match.
#[inline(always)]
fn matchlen(src: &[u8], s: i32, t: i32) -> i32 {
    let s = s as usize;
    let end = (s + MAX_MATCH_LENGTH as usize - 4).min(src.len());
    match_len(&src[s..end], &src[t as usize..])
}

/// Match length from `s` against `t`, uncapped (long matches are split into several tokens).
#[inline(always)]
fn matchlen_long(src: &[u8], s: i32, t: i32) -> i32 {
    match_len(&src[s as usize..], &src[t as usize..])
}

/// A table allocated directly on the heap (a 256 KiB array must not pass through the stack).
fn zeroed_table<T: Copy>(zero: T) -> Box<[T; TABLE_SIZE]> {
    let table = vec![zero; TABLE_SIZE].into_boxed_slice();
    match table.try_into() {
        Ok(table) => table,
        Err(_) => unreachable!("the vector has TABLE_SIZE entries"),
    }
}

impl FastL5 {
    pub(crate) fn new() -> Self {
        FastL5 {
            hist: vec![0; ALLOC_HISTORY],
            hist_len: 0,
            cur: MAX_STORE_BLOCK_SIZE as i32,
            table: zeroed_table(0),
            btable: zeroed_table([0; 2]),
        }
    }

    /// Ages the encoder as if it had compressed a long stream (positions near the rebase point).
    #[cfg(test)]
    pub(super) fn set_cur(&mut self, cur: i32) {
        self.cur = cur;
    }

    /// Starts a new stream: moves `cur` past everything in the tables so no old entry is
    /// within reach, without clearing them.
    pub(crate) fn reset(&mut self) {
        if self.cur <= BUFFER_RESET {
            self.cur += MAX_MATCH_OFFSET + self.hist_len as i32;
        }
        self.hist_len = 0;
    }

    /// Appends `src` to the history, sliding it down to its last 32 KiB when full; returns
    /// where `src` starts.
    fn add_block(&mut self, src: &[u8]) -> i32 {
        if self.hist_len + src.len() > ALLOC_HISTORY {
            let offset = self.hist_len - MAX_MATCH_OFFSET as usize;
            self.hist.copy_within(offset..self.hist_len, 0);
            self.cur += offset as i32;
            self.hist_len = MAX_MATCH_OFFSET as usize;
        }
        let s = self.hist_len;
        self.hist[s..s + src.len()].copy_from_slice(src);
        self.hist_len += src.len();
        s as i32
    }

    /// Rebases table positions before `cur` can overflow; entries out of reach become 0.
    fn protect_wraparound(&mut self) {
        while self.cur >= BUFFER_RESET {
            if self.hist_len == 0 {
                self.table.fill(0);
                self.btable.fill([0; 2]);
                self.cur = MAX_MATCH_OFFSET;
                break;
            }
            let cur = self.cur;
            let min_off = cur + self.hist_len as i32 - MAX_MATCH_OFFSET;
            for v in self.table.iter_mut() {
                *v = if *v <= min_off {
                    0
                } else {
                    *v - cur + MAX_MATCH_OFFSET
                };
            }
            for e in self.btable.iter_mut() {
                if e[0] <= min_off {
                    *e = [0, 0];
                } else {
                    e[0] = e[0] - cur + MAX_MATCH_OFFSET;
                    e[1] = if e[1] <= min_off {
                        0
                    } else {
                        e[1] - cur + MAX_MATCH_OFFSET
                    };
                }
            }
            self.cur = MAX_MATCH_OFFSET;
        }
    }

    /// Finds matches in `src` (one window, at most 65535 bytes) against itself and the
    /// history, appending tokens to `dst`. Leaves `dst` empty when nothing matched, so the
    /// caller stores the window; a window under 13 bytes only sets `dst.n`.
    pub(crate) fn encode(&mut self, dst: &mut Tokens, src: &[u8]) {
        const INPUT_MARGIN: i32 = 12 - 1;
        const MIN_NON_LITERAL_BLOCK_SIZE: usize = 1 + 1 + INPUT_MARGIN as usize;

        self.protect_wraparound();
        let mut s = self.add_block(src);
        if src.len() < MIN_NON_LITERAL_BLOCK_SIZE {
            dst.n = src.len();
            return;
        }

        let cur = self.cur;
        let src = &self.hist[..self.hist_len];
        let table = &mut *self.table;
        let btable = &mut *self.btable;
        let mut next_emit = s;
        let s_limit = src.len() as i32 - INPUT_MARGIN;
        let mut cv = load64(src, s);

        'outer: loop {
            const SKIP_LOG: i32 = 6;
            let mut next_s = s;
            let mut l: i32 = 0;
            let mut t: i32;
            loop {
                let hs = hash4(cv);
                let hl = hash7(cv);
                s = next_s;
                next_s = s + 1 + ((s - next_emit) >> SKIP_LOG);
                if next_s > s_limit {
                    break 'outer;
                }
                let s_candidate = table[hs];
                let l_candidate = btable[hl];
                let next = load64(src, next_s);
                let entry = s + cur;
                table[hs] = entry;
                btable[hl] = [entry, btable[hl][0]];

                let nhs = hash4(next);
                let nhl = hash7(next);
                let next_entry = next_s + cur;

                t = l_candidate[0] - cur;
                if s - t < MAX_MATCH_OFFSET {
                    if cv as u32 == load32(src, t) {
                        table[nhs] = next_entry;
                        btable[nhl] = [next_entry, btable[nhl][0]];
                        let t2 = l_candidate[1] - cur;
                        if s - t2 < MAX_MATCH_OFFSET && cv as u32 == load32(src, t2) {
                            l = matchlen(src, s + 4, t + 4) + 4;
                            let ml1 = matchlen(src, s + 4, t2 + 4) + 4;
                            if ml1 > l {
                                t = t2;
                                l = ml1;
                            }
                        }
                        break;
                    }
                    t = l_candidate[1] - cur;
                    if s - t < MAX_MATCH_OFFSET && cv as u32 == load32(src, t) {
                        table[nhs] = next_entry;
                        btable[nhl] = [next_entry, btable[nhl][0]];
                        break;
                    }
                }

                t = s_candidate - cur;
                if s - t < MAX_MATCH_OFFSET && cv as u32 == load32(src, t) {
                    // A short match; see whether the long table has a better one at next_s.
                    l = matchlen(src, s + 4, t + 4) + 4;
                    let l_candidate = btable[nhl];
                    table[nhs] = next_entry;
                    btable[nhl] = [next_entry, l_candidate[0]];

                    let t2 = l_candidate[0] - cur;
                    if next_s - t2 < MAX_MATCH_OFFSET {
                        if load32(src, t2) == next as u32 {
                            let ml = matchlen(src, next_s + 4, t2 + 4) + 4;
                            if ml > l {
                                t = t2;
                                s = next_s;
                                l = ml;
                                break;
                            }
                        }
                        let t2 = l_candidate[1] - cur;
                        if next_s - t2 < MAX_MATCH_OFFSET && load32(src, t2) == next as u32 {
                            let ml = matchlen(src, next_s + 4, t2 + 4) + 4;
                            if ml > l {
                                t = t2;
                                s = next_s;
                                l = ml;
                                break;
                            }
                        }
                    }
                    break;
                }
                cv = next;
            }

            if l == 0 {
                l = matchlen_long(src, s + 4, t + 4) + 4;
            } else if l == MAX_MATCH_LENGTH {
                l += matchlen_long(src, s + l, t + l);
            }

            // Try a match that ends where the long table says this one's end continues.
            let s_at = s + l;
            if l < 30 && s_at < s_limit {
                const SKIP_BEGINNING: i32 = 2;
                let e_long = btable[hash7(load64(src, s_at))][0];
                let t2 = e_long - cur - l + SKIP_BEGINNING;
                let s2 = s + SKIP_BEGINNING;
                let off = s2 - t2;
                if t2 >= 0 && off < MAX_MATCH_OFFSET && off > 0 {
                    let l2 = matchlen_long(src, s2, t2);
                    if l2 > l {
                        t = t2;
                        l = l2;
                        s = s2;
                    }
                }
            }

            // Extend backwards.
            while t > 0 && s > next_emit && src[(t - 1) as usize] == src[(s - 1) as usize] {
                s -= 1;
                t -= 1;
                l += 1;
            }
            if next_emit < s {
                dst.add_literals(&src[next_emit as usize..s as usize]);
            }
            dst.add_match_long(l, (s - t - 1) as u32);
            s += l;
            next_emit = s;
            if next_s >= s {
                s = next_s + 1;
            }
            if s >= s_limit {
                break 'outer;
            }

            // Index positions inside the match: every third gets long and short entries.
            let mut i = s - l + 1;
            if i < s - 1 {
                let mut cv = load64(src, i);
                let te = i + cur;
                table[hash4(cv)] = te;
                let h = hash7(cv);
                btable[h] = [te, btable[h][0]];

                cv >>= 8;
                let h = hash7(cv);
                btable[h] = [te + 1, btable[h][0]];

                cv >>= 8;
                table[hash4(cv)] = te + 2;

                i += 4;
                while i < s - 1 {
                    let cv = load64(src, i);
                    let te = i + cur;
                    let h = hash7(cv);
                    btable[h] = [te, btable[h][0]];
                    table[hash4(cv >> 8)] = te + 1;
                    i += 3;
                }
            }

            // Index s-1 and s before searching on from s.
            let x = load64(src, s - 1);
            let o = cur + s - 1;
            table[hash4(x)] = o;
            let h = hash7(x);
            btable[h] = [o, btable[h][0]];
            cv = x >> 8;
        }

        // Emit the remainder, unless nothing matched at all (then the window is stored).
        if (next_emit as usize) < src.len() && dst.n != 0 {
            dst.add_literals(&src[next_emit as usize..]);
        }
    }
}

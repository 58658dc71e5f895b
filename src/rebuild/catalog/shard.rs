//! Splitting a catalogue across N workers with no coordinator: `INDEX/COUNT` and rendezvous
//! (highest random weight) hashing of each image reference.
//!
//! Every worker computes, for each image, a weight per shard — the first 8 bytes of
//! SHA-256(shard index ‖ reference) — and keeps the images whose heaviest shard is its own. The
//! owner of an image depends only on the image and COUNT: adding or removing images moves no
//! other image, and going from N to N+1 shards moves only the images the new shard now wins
//! (about 1/(N+1) of them). Pure: no I/O, no environment (the CLI reads `JOB_COMPLETION_INDEX`).
//!
//! Not for: reading the catalogue ([`super::file`]) or running audits ([`super::run`]).

use sha2::{Digest as _, Sha256};

/// This worker's share: shard `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

/// Why a shard is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// Not `INDEX/COUNT` with two unsigned integers.
    #[error("shard {text:?}: expected INDEX/COUNT, e.g. 0/4")]
    Syntax {
        /// The value.
        text: String,
    },
    /// COUNT is zero.
    #[error("shard {index}/0: the shard count must be at least 1")]
    NoShards {
        /// The index given.
        index: u32,
    },
    /// INDEX is not below COUNT.
    #[error("shard {index}/{count} is out of range: INDEX must be 0 to {last}", last = count - 1)]
    OutOfRange {
        /// The index given.
        index: u32,
        /// The count given.
        count: u32,
    },
}

impl Shard {
    /// The whole catalogue.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` of `count`.
    pub fn new(index: u32, count: u32) -> Result<Shard, Error> {
        if count == 0 {
            return Err(Error::NoShards { index });
        }
        if index >= count {
            return Err(Error::OutOfRange { index, count });
        }
        Ok(Shard { index, count })
    }

    /// Parses `INDEX/COUNT`.
    pub fn parse(text: &str) -> Result<Shard, Error> {
        let syntax = || Error::Syntax {
            text: text.to_owned(),
        };
        let (index, count) = text.trim().split_once('/').ok_or_else(syntax)?;
        let index = index.parse().map_err(|_| syntax())?;
        let count = count.parse().map_err(|_| syntax())?;
        Shard::new(index, count)
    }

    /// This shard's index.
    pub fn index(self) -> u32 {
        self.index
    }

    /// The number of shards.
    pub fn count(self) -> u32 {
        self.count
    }

    /// The shard (of [`Shard::count`]) that owns `image`: the one of highest weight, ties to
    /// the lower index.
    pub fn owner(self, image: &str) -> u32 {
        let mut best = (0u64, 0u32);
        for shard in 0..self.count {
            let weight = weight(shard, image);
            if shard == 0 || weight > best.0 {
                best = (weight, shard);
            }
        }
        best.1
    }

    /// Whether this shard audits `image`.
    pub fn owns(self, image: &str) -> bool {
        self.owner(image) == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

fn weight(shard: u32, image: &str) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(shard.to_be_bytes());
    hasher.update(image.as_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(range: std::ops::Range<usize>) -> Vec<String> {
        range
            .map(|i| format!("registry.example/team-{}/image-{i}:v{}", i % 7, i % 3))
            .collect()
    }

    #[test]
    fn every_image_has_exactly_one_owner_and_shares_are_balanced() {
        let all = images(0..2000);
        for count in 1..=8u32 {
            let mut sizes = vec![0usize; count as usize];
            for image in &all {
                let owners: Vec<u32> = (0..count)
                    .filter(|&i| Shard::new(i, count).unwrap().owns(image))
                    .collect();
                assert_eq!(owners.len(), 1, "{image} at count {count}: {owners:?}");
                sizes[owners[0] as usize] += 1;
            }
            let fair = all.len() / count as usize;
            for size in sizes {
                // Within 25% of a fair share for 2000 images: hashing, not a round robin.
                assert!(
                    size * 4 > fair * 3 && size * 4 < fair * 5,
                    "{count}: {size}"
                );
            }
        }
    }

    #[test]
    fn adding_images_moves_none_and_adding_a_shard_moves_only_to_it() {
        let before = images(0..1000);
        let after = images(0..1100);
        for count in 1..=8u32 {
            let shard = Shard::new(0, count).unwrap();
            // Each shard's share of the grown catalogue, restricted to the old images, is its
            // old share: adding images moved none.
            for index in 0..count {
                let worker = Shard::new(index, count).unwrap();
                let old: Vec<&String> = before.iter().filter(|i| worker.owns(i)).collect();
                let new: Vec<&String> = after
                    .iter()
                    .filter(|i| worker.owns(i) && before.contains(i))
                    .collect();
                assert_eq!(old, new, "shard {worker}");
            }
            let grown = Shard::new(0, count + 1).unwrap();
            let moved: Vec<&String> = after
                .iter()
                .filter(|image| shard.owner(image) != grown.owner(image))
                .collect();
            // Every moved image moved to the new shard, and about 1/(count+1) of them moved.
            assert!(moved.iter().all(|image| grown.owner(image) == count));
            let expected = after.len() / (count as usize + 1);
            assert!(
                moved.len() * 4 > expected * 3 && moved.len() * 4 < expected * 5,
                "{count} → {}: {} moved, about {expected} expected",
                count + 1,
                moved.len()
            );
        }
    }

    #[test]
    fn shard_specs_parse_or_say_why_not() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(
            Shard::parse("4/4"),
            Err(Error::OutOfRange { index: 4, count: 4 })
        );
        assert_eq!(Shard::parse("0/0"), Err(Error::NoShards { index: 0 }));
        assert!(matches!(Shard::parse("2"), Err(Error::Syntax { .. })));
        assert!(matches!(Shard::parse("-1/4"), Err(Error::Syntax { .. })));
        assert_eq!(
            Shard::parse("4/4").unwrap_err().to_string(),
            "shard 4/4 is out of range: INDEX must be 0 to 3"
        );
    }
}

//! A map that can take back what one world entry's walk wrote into it.
//!
//! apko gives every world entry's dependency walk its own copy of the packages and origins
//! chosen so far (`maps.Clone(dependenciesMap)`, then `existingOrigins` rebuilt from it), so the
//! walk's writes never outlive it. Copying is linear in what has been chosen, which makes a world
//! of n names cost n²; this map keeps one copy instead, logs each write made during a walk with
//! the value it replaced, and undoes the log afterwards, so a walk costs what it writes.
//!
//! Not for: what the maps mean ([`super::prefer`]) or when walks happen ([`super::walk`]).

use std::borrow::Borrow;
use std::hash::Hash;

use super::table::FastMap;

/// A [`FastMap`] with an undo log of the writes since [`Journaled::record`].
#[derive(Clone)]
pub(super) struct Journaled<K, V> {
    map: FastMap<K, V>,
    /// `(key, previous value)` per write while recording.
    log: Vec<(K, Option<V>)>,
    recording: bool,
}

impl<K, V> Default for Journaled<K, V> {
    fn default() -> Self {
        Journaled {
            map: FastMap::default(),
            log: Vec::new(),
            recording: false,
        }
    }
}

impl<K: Eq + Hash + Copy, V: Copy> Journaled<K, V> {
    pub(super) fn get<Q: ?Sized + Hash + Eq>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.map.get(key)
    }

    pub(super) fn contains_key<Q: ?Sized + Hash + Eq>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.map.contains_key(key)
    }

    /// Sets `key`; while recording, remembers what it replaced. Returns the replaced value.
    pub(super) fn insert(&mut self, key: K, value: V) -> Option<V> {
        let previous = self.map.insert(key, value);
        if self.recording {
            self.log.push((key, previous));
        }
        previous
    }

    /// Starts logging writes, to be undone by [`Journaled::undo`].
    pub(super) fn record(&mut self) {
        self.log.clear();
        self.recording = true;
    }

    /// Undoes every write since [`Journaled::record`], newest first, and stops logging.
    pub(super) fn undo(&mut self) {
        self.recording = false;
        while let Some((key, previous)) = self.log.pop() {
            match previous {
                Some(value) => {
                    self.map.insert(key, value);
                }
                None => {
                    self.map.remove(&key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Journaled;

    #[test]
    fn undo_restores_the_map_as_it_was_before_recording() {
        let mut map: Journaled<u32, u32> = Journaled::default();
        map.insert(1, 10);
        map.insert(2, 20);
        map.record();
        map.insert(1, 11);
        map.insert(3, 30);
        map.insert(1, 12);
        assert_eq!(map.get(&1), Some(&12));
        map.undo();
        assert_eq!(map.get(&1), Some(&10));
        assert_eq!(map.get(&2), Some(&20));
        assert_eq!(map.get(&3), None);
        // Writes after undo are kept.
        map.insert(3, 31);
        map.undo();
        assert_eq!(map.get(&3), Some(&31));
    }
}

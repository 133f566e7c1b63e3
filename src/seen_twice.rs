//! A bounded cache for work that repeats across the letters of a run: encoded blocks, encoded
//! lines, encoded header values.
//!
//! Much of what a letter needs encoded is the same in every letter, and much is new in each (a
//! name, an address). Keeping everything would copy every new value only to throw it away, so a
//! value is kept only once its key has been seen twice; a key seen once is remembered by its hash
//! alone. Both sets start over when full, so memory is bounded by the sizes, not by the number of
//! recipients. Callers key by a hash and check the value they find against what they hashed, so
//! two inputs sharing a hash only cost an encoding, never a wrong result.

use rustc_hash::{FxHashMap, FxHashSet};

/// At most `KEPT` values and `SEEN` hashes of values seen once.
pub(crate) struct SeenTwice<V, const KEPT: usize, const SEEN: usize> {
    kept: FxHashMap<u64, V>,
    seen: FxHashSet<u64>,
}

impl<V, const KEPT: usize, const SEEN: usize> Default for SeenTwice<V, KEPT, SEEN> {
    fn default() -> Self {
        SeenTwice {
            kept: FxHashMap::default(),
            seen: FxHashSet::default(),
        }
    }
}

impl<V, const KEPT: usize, const SEEN: usize> SeenTwice<V, KEPT, SEEN> {
    /// The value kept for `hash`, if `is_it` confirms it stands for the same input.
    pub(crate) fn get(&self, hash: u64, is_it: impl FnOnce(&V) -> bool) -> Option<&V> {
        self.kept.get(&hash).filter(|v| is_it(v))
    }

    /// `get`, to change what is kept.
    pub(crate) fn get_mut(&mut self, hash: u64, is_it: impl FnOnce(&V) -> bool) -> Option<&mut V> {
        self.kept.get_mut(&hash).filter(|v| is_it(v))
    }

    /// After a miss: keeps what `make` gives if `hash` was seen before, else remembers the hash.
    pub(crate) fn missed(&mut self, hash: u64, make: impl FnOnce() -> V) {
        if self.seen.len() >= SEEN {
            self.seen.clear();
        }
        if self.seen.insert(hash) {
            return;
        }
        if self.kept.len() >= KEPT {
            self.kept.clear();
        }
        self.kept.insert(hash, make());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_value_from_its_second_miss_and_stays_within_bounds() {
        let mut cache: SeenTwice<u32, 2, 3> = SeenTwice::default();
        cache.missed(1, || 10);
        assert!(cache.get(1, |_| true).is_none(), "seen once: not kept");
        cache.missed(1, || 10);
        assert_eq!(cache.get(1, |&v| v == 10), Some(&10));
        assert!(
            cache.get(1, |&v| v == 11).is_none(),
            "the check rejects another input"
        );
        for h in 2..=4 {
            cache.missed(h, || 0);
            cache.missed(h, || h as u32);
        }
        assert!(cache.kept.len() <= 2 && cache.seen.len() <= 3);
        assert_eq!(cache.get(4, |_| true), Some(&4));
    }
}

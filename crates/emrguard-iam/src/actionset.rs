//! Sets of catalogue actions (by [`ActionId`]): sparse sorted ids for small sets, a bitset for
//! large ones. Cloning is cheap (reference-counted); set operations allocate only the result.

use std::ops::Range;
use std::sync::Arc;

/// Index of an action in the [`crate::Catalogue`]. Ids of one service are contiguous.
pub type ActionId = u32;

#[derive(Clone, Debug, Default)]
enum Repr {
    #[default]
    Empty,
    Sparse(Arc<[u32]>),
    /// Bitset over the whole catalogue; bits past the catalogue's length are zero.
    Dense(Arc<[u64]>),
}

/// An immutable set of catalogue actions.
#[derive(Clone, Debug, Default)]
pub struct ActionSet {
    repr: Repr,
    universe: u32,
}

fn words(universe: u32) -> usize {
    (universe as usize).div_ceil(64)
}

impl ActionSet {
    /// The empty set over a catalogue of `universe` actions.
    pub fn empty(universe: u32) -> Self {
        ActionSet {
            repr: Repr::Empty,
            universe,
        }
    }

    /// Every action of the catalogue.
    pub fn full(universe: u32) -> Self {
        Self::from_range(0..universe, universe)
    }

    /// A contiguous range of ids (one service's actions).
    pub fn from_range(r: Range<u32>, universe: u32) -> Self {
        let end = r.end.min(universe);
        let start = r.start.min(end);
        Self::from_sorted((start..end).collect(), universe)
    }

    /// From ids in ascending order without duplicates.
    pub(crate) fn from_sorted(ids: Vec<u32>, universe: u32) -> Self {
        if ids.is_empty() {
            return Self::empty(universe);
        }
        // Sparse costs 4 bytes an id, dense 8 bytes a word.
        if ids.len() * 4 > words(universe) * 8 {
            let mut bits = vec![0u64; words(universe)];
            for id in ids {
                if let Some(w) = bits.get_mut((id / 64) as usize) {
                    *w |= 1u64 << (id % 64);
                }
            }
            ActionSet {
                repr: Repr::Dense(bits.into()),
                universe,
            }
        } else {
            ActionSet {
                repr: Repr::Sparse(ids.into()),
                universe,
            }
        }
    }

    /// From ids in ascending order without duplicates (public form of `from_sorted`).
    pub fn from_sorted_ids(ids: Vec<u32>, universe: u32) -> Self {
        Self::from_ids(ids, universe)
    }

    /// From ids in any order (duplicates allowed).
    pub fn from_ids(mut ids: Vec<u32>, universe: u32) -> Self {
        ids.retain(|&i| i < universe);
        ids.sort_unstable();
        ids.dedup();
        Self::from_sorted(ids, universe)
    }

    fn from_bits(bits: Vec<u64>, universe: u32) -> Self {
        let count: u32 = bits.iter().map(|w| w.count_ones()).sum();
        if count == 0 {
            return Self::empty(universe);
        }
        if (count as usize) * 4 > words(universe) * 8 {
            ActionSet {
                repr: Repr::Dense(bits.into()),
                universe,
            }
        } else {
            Self::from_sorted(bits_to_ids(&bits), universe)
        }
    }

    fn to_bits(&self) -> Vec<u64> {
        match &self.repr {
            Repr::Empty => vec![0u64; words(self.universe)],
            Repr::Dense(b) => b.to_vec(),
            Repr::Sparse(ids) => {
                let mut bits = vec![0u64; words(self.universe)];
                for &id in ids.iter() {
                    if let Some(w) = bits.get_mut((id / 64) as usize) {
                        *w |= 1u64 << (id % 64);
                    }
                }
                bits
            }
        }
    }

    /// A zeroed bitset buffer over `universe` actions (for [`ActionSet::or_into`] and friends).
    pub fn buffer(universe: u32) -> Vec<u64> {
        vec![0u64; words(universe)]
    }

    /// Build from a bitset buffer.
    pub fn from_buffer(bits: Vec<u64>, universe: u32) -> Self {
        Self::from_bits(bits, universe)
    }

    /// `buf |= self`
    pub fn or_into(&self, buf: &mut [u64]) {
        match &self.repr {
            Repr::Empty => {}
            Repr::Sparse(ids) => {
                for &id in ids.iter() {
                    if let Some(w) = buf.get_mut((id / 64) as usize) {
                        *w |= 1u64 << (id % 64);
                    }
                }
            }
            Repr::Dense(b) => {
                for (w, o) in buf.iter_mut().zip(b.iter()) {
                    *w |= *o;
                }
            }
        }
    }

    /// `buf &= self`
    pub fn and_into(&self, buf: &mut [u64]) {
        match &self.repr {
            Repr::Empty => buf.iter_mut().for_each(|w| *w = 0),
            Repr::Sparse(ids) => {
                let mut keep = vec![0u64; buf.len()];
                for &id in ids.iter() {
                    if let Some(w) = keep.get_mut((id / 64) as usize) {
                        *w |= 1u64 << (id % 64);
                    }
                }
                for (w, k) in buf.iter_mut().zip(keep.iter()) {
                    *w &= *k;
                }
            }
            Repr::Dense(b) => {
                for (w, o) in buf.iter_mut().zip(b.iter()) {
                    *w &= *o;
                }
            }
        }
    }

    /// `buf &= !self`
    pub fn andnot_into(&self, buf: &mut [u64]) {
        match &self.repr {
            Repr::Empty => {}
            Repr::Sparse(ids) => {
                for &id in ids.iter() {
                    if let Some(w) = buf.get_mut((id / 64) as usize) {
                        *w &= !(1u64 << (id % 64));
                    }
                }
            }
            Repr::Dense(b) => {
                for (w, o) in buf.iter_mut().zip(b.iter()) {
                    *w &= !*o;
                }
            }
        }
    }

    pub fn universe(&self) -> u32 {
        self.universe
    }

    pub fn is_empty(&self) -> bool {
        match &self.repr {
            Repr::Empty => true,
            Repr::Sparse(ids) => ids.is_empty(),
            Repr::Dense(b) => b.iter().all(|w| *w == 0),
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Empty => 0,
            Repr::Sparse(ids) => ids.len(),
            Repr::Dense(b) => b.iter().map(|w| w.count_ones() as usize).sum(),
        }
    }

    pub fn contains(&self, id: ActionId) -> bool {
        match &self.repr {
            Repr::Empty => false,
            Repr::Sparse(ids) => ids.binary_search(&id).is_ok(),
            Repr::Dense(b) => b
                .get((id / 64) as usize)
                .is_some_and(|w| w & (1u64 << (id % 64)) != 0),
        }
    }

    /// Ids in ascending order.
    pub fn iter(&self) -> ActionSetIter<'_> {
        ActionSetIter {
            set: self,
            pos: 0,
            word: 0,
            bits: match &self.repr {
                Repr::Dense(b) => b.first().copied().unwrap_or(0),
                _ => 0,
            },
        }
    }

    pub fn to_vec(&self) -> Vec<ActionId> {
        self.iter().collect()
    }

    /// Number of members in the id range `r`.
    pub fn count_in(&self, r: Range<u32>) -> usize {
        match &self.repr {
            Repr::Empty => 0,
            Repr::Sparse(ids) => {
                let lo = ids.partition_point(|&i| i < r.start);
                let hi = ids.partition_point(|&i| i < r.end);
                hi.saturating_sub(lo)
            }
            Repr::Dense(b) => {
                let (start, end) = (r.start.min(self.universe), r.end.min(self.universe));
                if start >= end {
                    return 0;
                }
                let (sw, ew) = ((start / 64) as usize, ((end - 1) / 64) as usize);
                let mut n = 0usize;
                for wi in sw..=ew {
                    let mut w = b.get(wi).copied().unwrap_or(0);
                    if wi == sw {
                        w &= u64::MAX << (start % 64);
                    }
                    if wi == ew {
                        let hi = (end - 1) % 64;
                        w &= if hi == 63 {
                            u64::MAX
                        } else {
                            (1u64 << (hi + 1)) - 1
                        };
                    }
                    n += w.count_ones() as usize;
                }
                n
            }
        }
    }

    /// `true` when every id of `r` is a member.
    pub fn contains_range(&self, r: Range<u32>) -> bool {
        let n = r.end.saturating_sub(r.start) as usize;
        self.count_in(r) == n
    }

    pub fn union(&self, other: &ActionSet) -> ActionSet {
        let universe = self.universe.max(other.universe);
        match (&self.repr, &other.repr) {
            (Repr::Empty, _) => other.clone(),
            (_, Repr::Empty) => self.clone(),
            (Repr::Sparse(a), Repr::Sparse(b)) => {
                let mut out = Vec::with_capacity(a.len() + b.len());
                let (mut i, mut j) = (a.iter().peekable(), b.iter().peekable());
                loop {
                    match (i.peek(), j.peek()) {
                        (Some(&&x), Some(&&y)) => {
                            if x < y {
                                out.push(x);
                                i.next();
                            } else if y < x {
                                out.push(y);
                                j.next();
                            } else {
                                out.push(x);
                                i.next();
                                j.next();
                            }
                        }
                        (Some(&&x), None) => {
                            out.push(x);
                            i.next();
                        }
                        (None, Some(&&y)) => {
                            out.push(y);
                            j.next();
                        }
                        (None, None) => break,
                    }
                }
                ActionSet::from_sorted(out, universe)
            }
            (Repr::Dense(a), Repr::Dense(b)) if Arc::ptr_eq(a, b) => self.clone(),
            _ => {
                let mut bits = self.to_bits();
                let ob = other.to_bits();
                for (w, o) in bits.iter_mut().zip(ob.iter()) {
                    *w |= *o;
                }
                ActionSet::from_bits(bits, universe)
            }
        }
    }

    pub fn intersection(&self, other: &ActionSet) -> ActionSet {
        let universe = self.universe.max(other.universe);
        match (&self.repr, &other.repr) {
            (Repr::Empty, _) | (_, Repr::Empty) => ActionSet::empty(universe),
            (Repr::Sparse(a), _) => ActionSet::from_sorted(
                a.iter().copied().filter(|&x| other.contains(x)).collect(),
                universe,
            ),
            (_, Repr::Sparse(b)) => ActionSet::from_sorted(
                b.iter().copied().filter(|&x| self.contains(x)).collect(),
                universe,
            ),
            (Repr::Dense(a), Repr::Dense(b)) => {
                if Arc::ptr_eq(a, b) {
                    return self.clone();
                }
                let bits: Vec<u64> = a.iter().zip(b.iter()).map(|(x, y)| x & y).collect();
                ActionSet::from_bits(bits, universe)
            }
        }
    }

    pub fn difference(&self, other: &ActionSet) -> ActionSet {
        let universe = self.universe.max(other.universe);
        match (&self.repr, &other.repr) {
            (Repr::Empty, _) => ActionSet::empty(universe),
            (_, Repr::Empty) => self.clone(),
            (Repr::Sparse(a), _) => ActionSet::from_sorted(
                a.iter().copied().filter(|&x| !other.contains(x)).collect(),
                universe,
            ),
            (Repr::Dense(a), _) => {
                let ob = other.to_bits();
                let bits: Vec<u64> = a.iter().zip(ob.iter()).map(|(x, y)| x & !y).collect();
                ActionSet::from_bits(bits, universe)
            }
        }
    }

    /// `true` when the sets share a member.
    pub fn intersects(&self, other: &ActionSet) -> bool {
        match (&self.repr, &other.repr) {
            (Repr::Empty, _) | (_, Repr::Empty) => false,
            (Repr::Sparse(a), _) => a.iter().any(|&x| other.contains(x)),
            (_, Repr::Sparse(b)) => b.iter().any(|&x| self.contains(x)),
            (Repr::Dense(a), Repr::Dense(b)) => a.iter().zip(b.iter()).any(|(x, y)| x & y != 0),
        }
    }

    /// `true` when every member of `other` is a member of `self`.
    pub fn is_superset(&self, other: &ActionSet) -> bool {
        other.difference(self).is_empty()
    }
}

impl PartialEq for ActionSet {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.is_superset(other)
    }
}

fn bits_to_ids(bits: &[u64]) -> Vec<u32> {
    let mut out = Vec::new();
    for (wi, &w) in bits.iter().enumerate() {
        let mut w = w;
        while w != 0 {
            let b = w.trailing_zeros();
            out.push((wi as u32) * 64 + b);
            w &= w - 1;
        }
    }
    out
}

/// Iterator over an [`ActionSet`] in ascending id order.
pub struct ActionSetIter<'a> {
    set: &'a ActionSet,
    pos: usize,
    word: usize,
    bits: u64,
}

impl Iterator for ActionSetIter<'_> {
    type Item = ActionId;
    fn next(&mut self) -> Option<ActionId> {
        match &self.set.repr {
            Repr::Empty => None,
            Repr::Sparse(ids) => {
                let v = ids.get(self.pos).copied();
                self.pos += 1;
                v
            }
            Repr::Dense(b) => loop {
                if self.bits != 0 {
                    let t = self.bits.trailing_zeros();
                    self.bits &= self.bits - 1;
                    return Some((self.word as u32) * 64 + t);
                }
                self.word += 1;
                self.bits = *b.get(self.word)?;
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_agree_between_representations() {
        let u = 5000;
        let small = ActionSet::from_ids(vec![1, 5, 70, 4000], u);
        let big = ActionSet::from_range(0..3000, u);
        assert_eq!(small.len(), 4);
        assert_eq!(big.len(), 3000);
        let un = small.union(&big);
        assert_eq!(un.len(), 3001);
        assert!(un.contains(4000) && un.contains(2999) && !un.contains(3000));
        let inter = small.intersection(&big);
        assert_eq!(inter.to_vec(), vec![1, 5, 70]);
        let diff = big.difference(&small);
        assert_eq!(diff.len(), 2997);
        assert!(!diff.contains(5));
        assert!(small.intersects(&big));
        assert!(big.is_superset(&ActionSet::from_ids(vec![0, 2999], u)));
        assert!(!big.is_superset(&small));
        assert!(big.contains_range(100..200));
        assert!(!un.contains_range(2990..3010));
        assert_eq!(un.count_in(2990..4001), 11);
        assert_eq!(big.iter().take(3).collect::<Vec<_>>(), vec![0, 1, 2]);
        assert!(ActionSet::empty(u).is_empty());
        assert_eq!(ActionSet::full(u).len(), 5000);
    }
}

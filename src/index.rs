//! The spatial index of a layer: an R-tree (rstar, bulk-loaded) from each
//! feature's envelope to the byte offset of the feature in its file.
//!
//! Envelopes are stored as f32 degrees, rounded outwards, so an entry is
//! 24 bytes and the tree about 42 bytes a feature; the rounding (at most
//! a metre at Vietnam's longitudes) only ever adds candidates, which the
//! exact geometry then rejects. Bulk loading costs O(n log n); a query
//! costs O(log n + k) for k hits, degrading only when envelopes overlap
//! heavily (a layer of huge, overlapping features).

use rstar::{RTree, RTreeObject, RTreeParams, AABB};

use crate::geometry::Bbox;

/// Wide nodes: fewer parent nodes per leaf, so less memory per feature,
/// and bulk loading keeps queries fast.
pub struct Params;

impl RTreeParams for Params {
    const MIN_SIZE: usize = 8;
    const MAX_SIZE: usize = 16;
    const REINSERTION_COUNT: usize = 4;
    type DefaultInsertionStrategy = rstar::RStarInsertionStrategy;
}

/// One indexed feature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    envelope: AABB<[f32; 2]>,
    /// Byte offset of the feature's size prefix in its file.
    pub offset: u64,
}

/// f64 to f32, rounded down (`up` false) or up.
fn round_f32(v: f64, up: bool) -> f32 {
    let f = v as f32;
    match (up, (f as f64).partial_cmp(&v)) {
        (false, Some(std::cmp::Ordering::Greater)) => f.next_down(),
        (true, Some(std::cmp::Ordering::Less)) => f.next_up(),
        _ => f,
    }
}

fn aabb(b: &Bbox) -> AABB<[f32; 2]> {
    AABB::from_corners(
        [round_f32(b.min_x, false), round_f32(b.min_y, false)],
        [round_f32(b.max_x, true), round_f32(b.max_y, true)],
    )
}

impl Entry {
    pub fn new(bbox: Bbox, offset: u64) -> Entry {
        Entry {
            envelope: aabb(&bbox),
            offset,
        }
    }

    /// The stored (outward-rounded) envelope.
    pub fn bbox(&self) -> Bbox {
        let (lo, hi) = (self.envelope.lower(), self.envelope.upper());
        Bbox::new(lo[0] as f64, lo[1] as f64, hi[0] as f64, hi[1] as f64)
    }
}

impl RTreeObject for Entry {
    type Envelope = AABB<[f32; 2]>;

    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

/// The R-tree of one layer.
pub struct Index {
    tree: RTree<Entry, Params>,
}

impl Default for Index {
    fn default() -> Index {
        Index {
            tree: RTree::new_with_params(),
        }
    }
}

impl Index {
    pub fn bulk_load(entries: Vec<Entry>) -> Index {
        Index {
            tree: RTree::bulk_load_with_params(entries),
        }
    }

    pub fn len(&self) -> usize {
        self.tree.size()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }

    /// Calls `found` with every entry whose envelope intersects `bbox`,
    /// in no particular order.
    pub fn intersecting(&self, bbox: &Bbox, mut found: impl FnMut(&Entry)) {
        let envelope = aabb(bbox);
        for entry in self.tree.locate_in_envelope_intersecting(&envelope) {
            found(entry);
        }
    }

    /// Approximate heap bytes: the leaves plus one parent per
    /// `MIN_SIZE..MAX_SIZE` children.
    pub fn memory_bytes(&self) -> usize {
        // A child slot is an enum of a leaf and a parent node; it is as
        // large as the larger of the two.
        let slot = std::mem::size_of::<rstar::RTreeNode<Entry>>();
        let leaves = self.len() * slot;
        leaves + leaves / ((Params::MIN_SIZE + Params::MAX_SIZE) / 2)
    }
}

/// Sorts entries by offset (file order), as `sort_unstable_by_key`
/// does, for the few thousand hits of a tile: a least-significant-digit
/// radix sort of the offsets less the smallest, in as many passes of 11
/// bits as their spread needs (three for a file under 8 GB), with
/// `scratch` as the second buffer. Offsets are unique, so the order is
/// the same as any other sort's.
pub fn sort_by_offset(entries: &mut Vec<Entry>, scratch: &mut Vec<Entry>) {
    const DIGIT: u32 = 11;
    const MASK: u64 = (1 << DIGIT) - 1;
    if entries.len() < 256 {
        entries.sort_unstable_by_key(|e| e.offset);
        return;
    }
    let (min, max) = entries.iter().fold((u64::MAX, 0), |(lo, hi), e| {
        (lo.min(e.offset), hi.max(e.offset))
    });
    let bits = 64 - (max - min).leading_zeros();
    let passes = bits.div_ceil(DIGIT) as usize;
    // Every pass's counts in one read of the entries.
    let mut counts = vec![[0u32; 1 << DIGIT]; passes];
    for e in entries.iter() {
        let v = e.offset - min;
        for (p, c) in counts.iter_mut().enumerate() {
            c[(v >> (p as u32 * DIGIT) & MASK) as usize] += 1;
        }
    }
    scratch.clear();
    scratch.resize(entries.len(), entries[0]);
    for (p, c) in counts.iter_mut().enumerate() {
        let mut at = 0;
        for slot in c.iter_mut() {
            let n = *slot;
            *slot = at;
            at += n;
        }
        let shift = p as u32 * DIGIT;
        for e in entries.iter() {
            let d = ((e.offset - min) >> shift & MASK) as usize;
            scratch[c[d] as usize] = *e;
            c[d] += 1;
        }
        std::mem::swap(entries, scratch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seeded LCG, so a failure can be replayed.
    fn lcg(state: &mut u64) -> f64 {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*state >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn queries_equal_brute_force() {
        let mut s = 17u64;
        let boxes: Vec<Bbox> = (0..5_000)
            .map(|_| {
                let (x, y) = (100.0 + lcg(&mut s) * 10.0, 10.0 + lcg(&mut s) * 10.0);
                let (w, h) = (lcg(&mut s) * 0.05, lcg(&mut s) * 0.05);
                Bbox::new(x, y, x + w, y + h)
            })
            .collect();
        let index = Index::bulk_load(
            boxes
                .iter()
                .enumerate()
                .map(|(i, b)| Entry::new(*b, i as u64))
                .collect(),
        );
        for _ in 0..300 {
            let (x, y) = (100.0 + lcg(&mut s) * 10.0, 10.0 + lcg(&mut s) * 10.0);
            let q = Bbox::new(x, y, x + lcg(&mut s) * 0.5, y + lcg(&mut s) * 0.5);
            let mut got = Vec::new();
            index.intersecting(&q, |e| got.push(e.offset));
            got.sort_unstable();
            // f32 rounding may add candidates that touch within a rounding
            // step, never lose one: the exact hits must all be there.
            let exact: Vec<u64> = (0..boxes.len() as u64)
                .filter(|&i| boxes[i as usize].intersects(&q))
                .collect();
            let loose: Vec<u64> = (0..boxes.len() as u64)
                .filter(|&i| {
                    Entry::new(boxes[i as usize], i)
                        .bbox()
                        .intersects(&Entry::new(q, 0).bbox())
                })
                .collect();
            assert!(
                exact.iter().all(|i| got.binary_search(i).is_ok()),
                "query {q:?} lost a hit"
            );
            assert_eq!(got, loose, "query {q:?}");
        }
    }

    #[test]
    fn rounding_is_outward() {
        let b = Bbox::new(105.123_456_789, 21.000_000_1, 105.123_456_789, 21.000_000_1);
        let e = Entry::new(b, 0).bbox();
        assert!(e.min_x <= b.min_x && e.max_x >= b.max_x);
        assert!(e.min_y <= b.min_y && e.max_y >= b.max_y);
    }

    #[test]
    fn radix_sort_matches_the_library_sort() {
        let mut state = 17u64;
        for (n, spread) in [
            (0, 1),
            (5, 100),
            (255, 1 << 40),
            (256, 1000),
            (3000, 1 << 30),
            (5000, u64::MAX / 2),
        ] {
            let mut entries: Vec<Entry> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            while entries.len() < n {
                let offset = (lcg(&mut state) * spread as f64) as u64 + 7;
                if seen.insert(offset) {
                    let b = Bbox::new(0.0, 0.0, 1.0, 1.0);
                    entries.push(Entry {
                        envelope: aabb(&b),
                        offset,
                    });
                }
            }
            let mut expected = entries.clone();
            expected.sort_unstable_by_key(|e| e.offset);
            sort_by_offset(&mut entries, &mut Vec::new());
            let offsets = |v: &[Entry]| v.iter().map(|e| e.offset).collect::<Vec<_>>();
            assert_eq!(
                offsets(&entries),
                offsets(&expected),
                "{n} entries over {spread}"
            );
        }
    }
}

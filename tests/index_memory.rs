//! The R-tree's heap, counted by a global allocator rather than
//! estimated: the serving budget is under 48 bytes a feature, and
//! `Index::memory_bytes` (what `plantiles info` reports) must agree with
//! the count.
//!
//! One test in its own binary, so no other test allocates while it
//! counts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use plantiles::geometry::Bbox;
use plantiles::index::{Entry, Index};

/// Live heap bytes of the process.
static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// SAFETY: every call is forwarded to the system allocator unchanged;
// the counter only observes sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Parcel-sized boxes (20-80 m) scattered over a province, from a fixed
/// seed.
fn parcels(n: usize) -> Vec<Entry> {
    let mut s = 7u64;
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|i| {
            let (x, y) = (105.4 + next() * 0.4, 20.6 + next() * 0.3);
            let (w, h) = (0.0002 + next() * 0.0006, 0.0002 + next() * 0.0006);
            Entry::new(Bbox::new(x, y, x + w, y + h), i as u64 * 400)
        })
        .collect()
}

#[test]
fn the_index_costs_under_48_bytes_a_feature() {
    for n in [10_000, 1_000_000] {
        let before = LIVE.load(Ordering::Relaxed);
        let index = Index::bulk_load(parcels(n));
        let counted = (LIVE.load(Ordering::Relaxed) - before) as f64;
        let per_feature = counted / n as f64;
        let estimated = index.memory_bytes() as f64;
        println!(
            "{n} features: {counted} bytes counted ({per_feature:.1} B/feature), \
             {estimated} estimated"
        );
        assert_eq!(index.len(), n);
        assert!(
            per_feature < 48.0,
            "{n} features: {per_feature:.1} B/feature counted, budget 48"
        );
        assert!(
            (estimated - counted).abs() / counted < 0.05,
            "{n} features: estimate {estimated} is more than 5% from the count {counted}"
        );
    }
}

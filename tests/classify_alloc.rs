//! The hot path allocates nothing once a lane has seen a page's pod: a
//! counting global allocator watches `Classifier::classify` over every
//! fixture, many times.

mod classify_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use meshdrill::classify::{Classifier, ClassifyConfig};

struct Counting;

thread_local! {
    /// Per thread, so the test harness's own threads do not count.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn classifying_seen_pods_allocates_nothing() {
    let fixtures = classify_support::fixtures();
    let requests: Vec<_> = fixtures
        .iter()
        .map(|f| (f.status, f.header_map(), &f.body))
        .collect();
    let mut c = Classifier::new(&ClassifyConfig::default());
    // First sight of each pod and cluster name (and the finders) may allocate.
    for (status, headers, body) in &requests {
        c.classify(*status, headers, body);
    }
    let before = allocations();
    for _ in 0..50 {
        for (status, headers, body) in &requests {
            std::hint::black_box(c.classify(*status, headers, body));
        }
    }
    let after = allocations();
    assert_eq!(after - before, 0, "allocations while classifying");
}

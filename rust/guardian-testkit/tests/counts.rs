//! The counting allocator sees allocations, so a zero count in another test means something.

use guardian_testkit::{allocations, CountingAllocator};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

#[test]
fn allocations_and_reallocations_are_counted() {
    let before = allocations();
    let mut v: Vec<u64> = Vec::with_capacity(4);
    v.extend(0..1000);
    std::hint::black_box(&v);
    assert!(allocations() - before >= 2, "{}", allocations() - before);
}

//! `invoke_raw` allocates nothing on the Rust side (LiteRT's own C++ allocations, if any, do
//! not go through Rust's allocator and are not counted here).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{card, lib, model_path, windows};
use guardian_litert::LiteRtScorer;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn invoke_raw_does_not_allocate() {
    let card = card();
    let spec = &card.models.full;
    let mut s = LiteRtScorer::from_file(&lib(), model_path(spec), spec, card.window_frames)
        .expect("scorer");
    let ws = windows(s.input_len(), 8);
    for w in &ws {
        s.invoke_raw(w).expect("warm-up");
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..100 {
        for w in &ws {
            s.invoke_raw(w).expect("invoke");
        }
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(
        after - before,
        0,
        "invoke_raw allocated {} times",
        after - before
    );
}

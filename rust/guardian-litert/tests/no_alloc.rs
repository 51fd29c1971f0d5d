//! `invoke_raw` allocates nothing on the Rust side (LiteRT's own C++ allocations, if any, do
//! not go through Rust's allocator and are not counted here).

mod common;

use common::{card, lib, model_path, windows};
use guardian_litert::LiteRtScorer;
use guardian_testkit::{allocations, CountingAllocator};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

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
    let before = allocations();
    for _ in 0..100 {
        for w in &ws {
            s.invoke_raw(w).expect("invoke");
        }
    }
    let after = allocations();
    assert_eq!(
        after - before,
        0,
        "invoke_raw allocated {} times",
        after - before
    );
}

//! Shared helpers for the integration tests: the real library, the shipped models and card.
#![allow(dead_code)]

use std::path::PathBuf;

use guardian_core::{ModelCard, ModelSpec};
use guardian_litert::LiteRtLibrary;

/// Repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Folder with `model_card.json` and the `.tflite` files: the shipped `models/`, unless
/// `GUARDIAN_TEST_MODELS_DIR` points elsewhere (for experiments only).
pub fn models_dir() -> PathBuf {
    std::env::var_os("GUARDIAN_TEST_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("models"))
}

/// The real LiteRT library. A missing library fails the test with the how-to message.
pub fn lib() -> LiteRtLibrary {
    match LiteRtLibrary::locate() {
        Ok(lib) => lib,
        Err(e) => panic!("{e}"),
    }
}

/// The shipped model card.
pub fn card() -> ModelCard {
    let path = models_dir().join("model_card.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    ModelCard::from_json(&text).unwrap_or_else(|e| panic!("bad {}: {e}", path.display()))
}

/// Path of a model of the card.
pub fn model_path(spec: &ModelSpec) -> PathBuf {
    models_dir().join(&spec.file)
}

/// Bytes of a model of the card.
pub fn model_bytes(spec: &ModelSpec) -> Vec<u8> {
    let path = model_path(spec);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Deterministic int8 windows: zeros, extremes, and pseudo-random ones (xorshift).
pub fn windows(len: usize, random: usize) -> Vec<Vec<i8>> {
    let mut out = vec![vec![0i8; len], vec![127i8; len], vec![-128i8; len]];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for k in 0..random {
        let spread = [8i64, 32, 64, 128][k % 4];
        out.push(
            (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let v = (state % (2 * spread as u64)) as i64 - spread;
                    v.clamp(-128, 127) as i8
                })
                .collect(),
        );
    }
    out
}

//! Corrupted model bytes (a valid header, damaged body) must give an error or a working
//! scorer, never a crash. Deterministic: a fixed xorshift seed picks the damage.

mod common;

use common::{card, lib, model_bytes};
use guardian_litert::{LiteRtScorer, RuntimeError};

#[test]
fn damaged_models_never_crash() {
    let card = card();
    let lib = lib();
    let good = model_bytes(&card.models.full);
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let cases: usize = std::env::var("GUARDIAN_CORRUPTION_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(80);
    let (mut ok, mut rejected, mut prechecked, mut exceptions) = (0usize, 0usize, 0usize, 0usize);
    for case in 0..cases {
        let mut bytes = good.clone();
        let flips = 1 + (next() % 8) as usize;
        for _ in 0..flips {
            // Keep the 8-byte header intact so the damage reaches LiteRT.
            let at = 8 + (next() as usize) % (bytes.len() - 8);
            bytes[at] ^= 1 << (next() % 8);
        }
        if std::env::var_os("GUARDIAN_CORRUPTION_TRACE").is_some() {
            eprintln!("case {case}");
            let path = std::env::temp_dir().join("guardian-corrupt-case.tflite");
            std::fs::write(path, &bytes).expect("write");
        }
        // The checksum rewritten, else it would refuse every case before the pre-check and LiteRT.
        let spec = &guardian_core::ModelSpec {
            sha256: guardian_litert::sha256_hex(&bytes),
            ..card.models.full.clone()
        };
        match LiteRtScorer::from_bytes(&lib, &bytes, spec, card.window_frames) {
            Ok(mut s) => {
                let w = vec![3i8; s.input_len()];
                let _ = s.invoke_raw(&w);
                ok += 1;
            }
            Err(RuntimeError::LibraryNotFound { .. }) => unreachable!(),
            Err(e) => {
                let msg = e.to_string();
                assert!(!msg.is_empty());
                if msg.contains("C++ exception") {
                    exceptions += 1;
                }
                if matches!(e, RuntimeError::CorruptModel { status: None, .. })
                    && !msg.contains("C++ exception")
                {
                    prechecked += 1;
                }
                rejected += 1;
            }
        }
    }
    eprintln!(
        "{cases} damaged models: {ok} still loaded, {rejected} rejected with an error \
         ({prechecked} by the Rust pre-check, {exceptions} as caught C++ exceptions)"
    );
}

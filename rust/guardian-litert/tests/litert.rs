//! Integration tests on the real LiteRT 2.1.4 library and the shipped models.
//!
//! The library must be present (`make litert` or `scripts/fetch_litert.sh`): a missing library
//! fails these tests with the how-to message, it does not skip them.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{card, lib, model_bytes, model_path, models_dir, repo_root, windows};
use guardian_core::{ModelSpec, Scorer};
use guardian_litert::{LiteRtLibrary, LiteRtScorer, RuntimeError, ScorerOptions};

fn specs() -> Vec<(&'static str, ModelSpec)> {
    let card = card();
    vec![
        ("full", card.models.full.clone()),
        ("acc_only", card.models.acc_only.clone()),
    ]
}

fn scorer(spec: &ModelSpec) -> LiteRtScorer {
    let card = card();
    LiteRtScorer::from_file(&lib(), model_path(spec), spec, card.window_frames)
        .unwrap_or_else(|e| panic!("{}: {e}", spec.file))
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("guardian-litert-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

#[test]
fn loads_both_shipped_models_and_validates_against_card() {
    let card = card();
    for (name, spec) in specs() {
        let s = scorer(&spec);
        assert_eq!(
            s.input_len(),
            card.window_frames * spec.channels.len(),
            "{name}"
        );
        assert_eq!(s.input_quant().zero_point, spec.input.zero_point, "{name}");
        assert!((s.input_quant().scale - spec.input.scale).abs() <= 1e-6 * spec.input.scale);
        assert_eq!(
            s.output_quant().zero_point,
            spec.output.zero_point,
            "{name}"
        );
        assert!((s.output_quant().scale - spec.output.scale).abs() <= 1e-6 * spec.output.scale);
        assert_eq!(s.num_threads(), 1);
        assert!(
            s.fully_accelerated(),
            "{name}: LiteRT reports the model as not fully accelerated by XNNPACK"
        );
        eprintln!("{name}: {s:?}");
    }
}

#[test]
fn from_bytes_equals_from_file_and_owns_its_buffer() {
    let card = card();
    let lib = lib();
    for (name, spec) in specs() {
        let mut from_file = scorer(&spec);
        let bytes = model_bytes(&spec);
        let mut from_bytes =
            LiteRtScorer::from_bytes(&lib, &bytes, &spec, card.window_frames).expect("from_bytes");
        // The caller's buffer may go away (and its memory be reused) right after construction.
        drop(bytes);
        let _reuse = vec![0xA5u8; 1 << 20];
        for w in windows(from_file.input_len(), 6) {
            let a = from_file.invoke_raw(&w).expect("invoke");
            let b = from_bytes.invoke_raw(&w).expect("invoke");
            assert_eq!(a, b, "{name}");
        }
    }
}

#[test]
fn invoke_is_deterministic_and_repeatable() {
    for (name, spec) in specs() {
        let mut s = scorer(&spec);
        let ws = windows(s.input_len(), 8);
        let first: Vec<i8> = ws
            .iter()
            .map(|w| s.invoke_raw(w).expect("invoke"))
            .collect();
        let second: Vec<i8> = ws.iter().map(|w| s.score(w).expect("score")).collect();
        assert_eq!(first, second, "{name}");
        let zero = s.invoke_raw(&vec![0; s.input_len()]).expect("zero window");
        eprintln!("{name}: zero window -> {zero}, windows -> {first:?}");
    }
}

/// Bit-identical outputs with `ai_edge_litert.interpreter.Interpreter` (the venv the Makefile
/// creates) in its default configuration (XNNPACK) on the same int8 windows. Its builtin
/// kernels without XNNPACK are compared too, with a loose bound (they round differently).
#[test]
fn outputs_match_python_interpreter_bit_identical() {
    let python = repo_root().join(".venv/bin/python");
    if !python.exists() {
        eprintln!(
            "SKIPPED: {} does not exist (the Makefile creates it)",
            python.display()
        );
        return;
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference.py");
    let dir = temp_dir();
    for (name, spec) in specs() {
        let mut s = scorer(&spec);
        let ws = windows(s.input_len(), 29);
        let ours: Vec<i64> = ws
            .iter()
            .map(|w| i64::from(s.invoke_raw(w).expect("invoke")))
            .collect();
        let bin = dir.join(format!("{name}-windows.bin"));
        let flat: Vec<u8> = ws.iter().flatten().map(|&v| v as u8).collect();
        std::fs::write(&bin, flat).expect("write windows");
        let out = Command::new(&python)
            .arg(&script)
            .arg(model_path(&spec))
            .arg(&bin)
            .arg(ws.len().to_string())
            .output()
            .expect("run the venv python");
        assert!(
            out.status.success(),
            "reference.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("reference.py prints JSON");
        let get = |key: &str| -> Vec<i64> {
            json[key]
                .as_array()
                .expect("list")
                .iter()
                .map(|v| v.as_i64().expect("int"))
                .collect()
        };
        assert_eq!(
            ours,
            get("default"),
            "{name}: Rust/LiteRT vs Python Interpreter (default)"
        );
        // LiteRT's builtin (non-XNNPACK) kernels round some ops differently (mean, logistic):
        // not bit-identical, but within a few output steps. Reported, loosely bounded.
        let builtin = get("builtin");
        let max_diff = ours
            .iter()
            .zip(&builtin)
            .map(|(a, b)| (a - b).abs())
            .max()
            .unwrap_or(0);
        let differing = ours.iter().zip(&builtin).filter(|(a, b)| a != b).count();
        eprintln!(
            "{name}: vs builtin kernels without XNNPACK: {differing}/{} windows differ, \
             max {max_diff} output steps",
            ours.len()
        );
        assert!(
            max_diff <= 16,
            "{name}: builtin kernels differ by {max_diff} steps"
        );
        eprintln!("{name}: {} windows bit-identical: {ours:?}", ws.len());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn more_threads_give_the_same_outputs() {
    let card = card();
    let spec = card.models.full.clone();
    let mut one = scorer(&spec);
    let mut two = LiteRtScorer::from_file_with_options(
        &lib(),
        model_path(&spec),
        &spec,
        card.window_frames,
        &ScorerOptions { num_threads: 2 },
    )
    .expect("two threads");
    assert_eq!(two.num_threads(), 2);
    for w in windows(one.input_len(), 4) {
        assert_eq!(
            one.invoke_raw(&w).expect("invoke"),
            two.invoke_raw(&w).expect("invoke")
        );
    }
    let zero = LiteRtScorer::from_file_with_options(
        &lib(),
        model_path(&spec),
        &spec,
        card.window_frames,
        &ScorerOptions { num_threads: 0 },
    );
    assert!(
        matches!(zero, Err(RuntimeError::InvalidSpec(_))),
        "{zero:?}"
    );
}

#[test]
fn wrong_input_length_is_an_error() {
    let mut s = scorer(&card().models.full);
    let n = s.input_len();
    for len in [0, 1, n - 1, n + 1] {
        match s.invoke_raw(&vec![0; len]) {
            Err(RuntimeError::InputLength { expected, found }) => {
                assert_eq!((expected, found), (n, len));
            }
            other => panic!("length {len}: {other:?}"),
        }
    }
    let err = s.score(&[0; 3]).expect_err("score with 3 values");
    assert_eq!(
        err,
        guardian_core::ScoreError::InputLength {
            expected: n,
            found: 3
        }
    );
}

/// `spec` with its checksum rewritten to match `bytes`, so damaged bytes reach the structural
/// pre-check and LiteRT (else the checksum refuses them first, see `a_changed_byte_fails_the_checksum`).
fn rechecked(spec: &ModelSpec, bytes: &[u8]) -> ModelSpec {
    ModelSpec {
        sha256: guardian_litert::sha256_hex(bytes),
        ..spec.clone()
    }
}

fn expect_corrupt(bytes: &[u8], what: &str) {
    let card = card();
    let spec = &rechecked(&card.models.full, bytes);
    match LiteRtScorer::from_bytes(&lib(), bytes, spec, card.window_frames) {
        Err(RuntimeError::CorruptModel { .. }) => {}
        other => panic!("{what}: expected CorruptModel, got {other:?}"),
    }
}

#[test]
fn empty_and_random_bytes_are_corrupt_models() {
    expect_corrupt(&[], "empty");
    let mut state = 12345u32;
    let random: Vec<u8> = (0..5000)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (state >> 16) as u8
        })
        .collect();
    expect_corrupt(&random, "random bytes");
    // Random bytes behind a plausible header get past the pre-check: LiteRT must reject them.
    let mut fake = random.clone();
    fake[0..4].copy_from_slice(&16u32.to_le_bytes());
    fake[4..8].copy_from_slice(b"TFL3");
    expect_corrupt(&fake, "random bytes with a TFL3 header");

    // The same through files, including an empty file.
    let dir = temp_dir();
    let card = card();
    for (name, bytes) in [("empty.tflite", &[][..]), ("random.tflite", &random[..])] {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("write");
        let spec = rechecked(&card.models.full, bytes);
        let r = LiteRtScorer::from_file(&lib(), &path, &spec, card.window_frames);
        assert!(
            matches!(r, Err(RuntimeError::CorruptModel { .. })),
            "{name}: {r:?}"
        );
    }
    let missing = LiteRtScorer::from_file(
        &lib(),
        dir.join("does-not-exist.tflite"),
        &card.models.full,
        card.window_frames,
    );
    assert!(
        matches!(missing, Err(RuntimeError::ModelIo { .. })),
        "{missing:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn truncated_models_are_corrupt_models() {
    let bytes = model_bytes(&card().models.full);
    let n = bytes.len();
    let mut cuts: Vec<usize> = vec![
        0,
        4,
        7,
        8,
        63,
        64,
        100,
        n / 4,
        n / 2,
        3 * n / 4,
        n - 100,
        n - 1,
    ];
    cuts.extend((1..40).map(|k| k * n / 40));
    cuts.sort_unstable();
    cuts.dedup();
    for cut in cuts.into_iter().filter(|&c| c < n) {
        expect_corrupt(&bytes[..cut], &format!("truncated to {cut} of {n} bytes"));
    }
}

#[test]
fn acc_model_with_full_spec_is_a_shape_mismatch() {
    let card = card();
    let bytes = model_bytes(&card.models.acc_only);
    // The acc-only bytes checked against the full model's spec (8 channels), checksum left out.
    let spec = rechecked(&card.models.full, &bytes);
    match LiteRtScorer::from_bytes(&lib(), &bytes, &spec, card.window_frames) {
        Err(RuntimeError::ShapeMismatch {
            tensor,
            expected,
            found,
        }) => {
            assert_eq!(tensor, "input");
            assert_eq!(expected, vec![1, card.window_frames, 1, 8]);
            assert_eq!(found, vec![1, card.window_frames as i64, 1, 4]);
        }
        other => panic!("expected ShapeMismatch, got {other:?}"),
    }
}

#[test]
fn card_with_wrong_window_is_rejected() {
    let card = card();
    let mut spec = card.models.full.clone();
    // A card whose window disagrees with the model: consistent spec, wrong model.
    let w = card.window_frames + 1;
    spec.input.shape = vec![1, w, 1, spec.channels.len()];
    let r = LiteRtScorer::from_file(&lib(), model_path(&card.models.full), &spec, w);
    assert!(
        matches!(
            r,
            Err(RuntimeError::ShapeMismatch {
                tensor: "input",
                ..
            })
        ),
        "{r:?}"
    );
    // A spec inconsistent with window_frames is rejected before the model is read.
    let r = LiteRtScorer::from_file(
        &lib(),
        model_path(&card.models.full),
        &spec,
        card.window_frames,
    );
    assert!(matches!(r, Err(RuntimeError::InvalidSpec(_))), "{r:?}");
}

#[test]
fn card_with_wrong_quantization_is_a_quant_mismatch() {
    let card = card();
    let lib = lib();
    let path = model_path(&card.models.full);
    type Change = Box<dyn Fn(&mut ModelSpec)>;
    let cases: Vec<(&str, Change)> = vec![
        (
            "input scale x1.001",
            Box::new(|s: &mut ModelSpec| s.input.scale *= 1.001),
        ),
        (
            "input scale +1e-5 rel",
            Box::new(|s: &mut ModelSpec| s.input.scale *= 1.0 + 1e-5),
        ),
        (
            "input zero point",
            Box::new(|s: &mut ModelSpec| {
                s.input.zero_point = if s.input.zero_point == 0 { 1 } else { 0 }
            }),
        ),
        (
            "output scale",
            Box::new(|s: &mut ModelSpec| s.output.scale *= 2.0),
        ),
        (
            "output zero point",
            Box::new(|s: &mut ModelSpec| {
                s.output.zero_point = if s.output.zero_point == -128 {
                    -127
                } else {
                    -128
                }
            }),
        ),
    ];
    for (what, change) in cases {
        let mut spec = card.models.full.clone();
        change(&mut spec);
        match LiteRtScorer::from_file(&lib, &path, &spec, card.window_frames) {
            Err(RuntimeError::QuantMismatch { tensor, .. }) => {
                assert_eq!(
                    tensor,
                    if what.starts_with("input") {
                        "input"
                    } else {
                        "output"
                    }
                );
            }
            other => panic!("{what}: expected QuantMismatch, got {other:?}"),
        }
    }
    // Within the 1e-6 relative tolerance: accepted.
    let mut spec = card.models.full.clone();
    spec.input.scale *= 1.0 + 2e-7;
    LiteRtScorer::from_file(&lib, &path, &spec, card.window_frames).expect("within tolerance");
    // Nonsense scales are a spec error.
    let mut spec = card.models.full.clone();
    spec.output.scale = -1.0;
    let r = LiteRtScorer::from_file(&lib, &path, &spec, card.window_frames);
    assert!(matches!(r, Err(RuntimeError::InvalidSpec(_))), "{r:?}");
}

#[test]
fn card_with_wrong_dtype_is_rejected() {
    let card = card();
    let mut spec = card.models.full.clone();
    spec.input.dtype = "float32".into();
    let r = LiteRtScorer::from_file(&lib(), model_path(&spec), &spec, card.window_frames);
    assert!(matches!(r, Err(RuntimeError::InvalidSpec(_))), "{r:?}");
}

#[test]
fn missing_library_is_library_not_found_with_how_to() {
    let dir = temp_dir();
    let missing = dir.join("nowhere/libLiteRt.so");
    let err = LiteRtLibrary::load(&missing).expect_err("missing library");
    assert!(
        matches!(err, RuntimeError::LibraryNotFound { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    for needle in [
        "make litert",
        "scripts/fetch_litert.sh",
        "GUARDIAN_LITERT_LIB",
        "nowhere",
    ] {
        assert!(msg.contains(needle), "message lacks {needle:?}: {msg}");
    }
    // A file that is not a shared library.
    let junk = dir.join("libjunk.so");
    std::fs::write(&junk, b"not an ELF file").expect("write");
    let err = LiteRtLibrary::load(&junk).expect_err("junk library");
    assert!(matches!(err, RuntimeError::LibraryLoad { .. }), "{err:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(target_os = "linux")]
#[test]
fn a_library_that_is_not_litert_2_1_4_is_refused() {
    // libm is a real shared library without any LiteRT symbol.
    let err = LiteRtLibrary::load("libm.so.6").expect_err("libm is not LiteRT");
    assert!(
        matches!(err, RuntimeError::VersionMismatch { .. }),
        "{err:?}"
    );
}

#[test]
fn locate_finds_the_fetched_library() {
    let lib = lib();
    assert!(
        lib.path().exists() || lib.path().components().count() == 1,
        "{lib:?}"
    );
}

#[test]
fn scorer_is_send_and_works_on_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<LiteRtScorer>();
    assert_send::<LiteRtLibrary>();

    let spec = card().models.full.clone();
    let mut s = scorer(&spec);
    let ws = windows(s.input_len(), 3);
    let here: Vec<i8> = ws
        .iter()
        .map(|w| s.invoke_raw(w).expect("invoke"))
        .collect();
    let mut boxed: Box<dyn Scorer> = Box::new(s);
    let there = std::thread::spawn(move || {
        ws.iter()
            .map(|w| boxed.score(w).expect("score"))
            .collect::<Vec<i8>>()
    })
    .join()
    .expect("thread");
    assert_eq!(here, there);
}

#[test]
fn creating_and_dropping_many_scorers_is_clean() {
    let card = card();
    let lib = lib();
    let bytes = model_bytes(&card.models.acc_only);
    for _ in 0..25 {
        let mut s =
            LiteRtScorer::from_bytes(&lib, &bytes, &card.models.acc_only, card.window_frames)
                .expect("scorer");
        s.invoke_raw(&vec![1; s.input_len()]).expect("invoke");
        // A failed construction must release what it created, too.
        let _ = LiteRtScorer::from_bytes(&lib, &bytes, &card.models.full, card.window_frames)
            .expect_err("wrong spec");
    }
}

#[test]
fn models_dir_has_the_shipped_files() {
    let card = card();
    for spec in [&card.models.full, &card.models.acc_only] {
        assert!(
            model_path(spec).is_file(),
            "{} missing in {}",
            spec.file,
            models_dir().display()
        );
    }
}

#[test]
fn a_changed_byte_fails_the_checksum() {
    let card = card();
    let spec = &card.models.full;
    let mut bytes = model_bytes(spec);
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    match LiteRtScorer::from_bytes(&lib(), &bytes, spec, card.window_frames) {
        Err(RuntimeError::ChecksumMismatch { expected, found }) => assert_ne!(expected, found),
        other => panic!("expected ChecksumMismatch, got {other:?}"),
    }
}

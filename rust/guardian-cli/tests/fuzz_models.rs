//! Every byte of both shipped models, one bit flipped at a time with the card's checksum
//! rewritten to match, loaded by `guardian check-model` in a child process: the damage must
//! give an error message or a working model, never a signal or a hang.
//!
//! Which bytes: every byte of both models outside the large constant buffers (flatbuffer
//! structure, tensor and quantization tables, names, small constants such as RESHAPE's
//! shape), and a fixed-seed 1 in 8 of the bytes inside buffers of 64 bytes or more (weights
//! and biases, where a flip only changes a value); always the RESHAPE flip and two
//! flips this test found (a shared vtable losing its name fields, an int8 conv losing its
//! bias). `GUARDIAN_FUZZ_MODELS=all` flips every byte of both models (33,075 child
//! processes, 142 s on 2 busy cores).

mod child;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use child::{Outcome, Rng};

/// One damaged model: which model (card key and file), byte, bit.
#[derive(Debug, Clone)]
struct Case {
    key: &'static str,
    offset: usize,
    bit: u8,
}

#[derive(Debug, Default)]
struct Tally {
    loaded: usize,
    refused: usize,
    signals: Vec<(Case, i32)>,
    hangs: Vec<Case>,
    bad_messages: Vec<(Case, String)>,
    max_rss_kib: i64,
}

impl Tally {
    fn add(&mut self, case: &Case, out: Outcome, stderr: &str) {
        self.max_rss_kib = self.max_rss_kib.max(out.max_rss_kib);
        if let Some(sig) = out.signal {
            self.signals.push((case.clone(), sig));
        } else if out.hung {
            self.hangs.push(case.clone());
        } else if out.code == Some(0) {
            self.loaded += 1;
        } else {
            self.refused += 1;
            // Guardian's message comes first, no LiteRT log line before it.
            if !stderr.starts_with("error: ") {
                self.bad_messages
                    .push((case.clone(), stderr.chars().take(300).collect()));
            }
        }
    }

    fn merge(&mut self, other: Tally) {
        self.loaded += other.loaded;
        self.refused += other.refused;
        self.signals.extend(other.signals);
        self.hangs.extend(other.hangs);
        self.bad_messages.extend(other.bad_messages);
        self.max_rss_kib = self.max_rss_kib.max(other.max_rss_kib);
    }
}

fn models_dir() -> PathBuf {
    child::repo_root().join("models")
}

fn card() -> serde_json::Value {
    let text = std::fs::read_to_string(models_dir().join("model_card.json")).expect("card");
    serde_json::from_str(&text).expect("card json")
}

fn model_file(card: &serde_json::Value, key: &str) -> String {
    card["models"][key]["file"]
        .as_str()
        .expect("file")
        .to_string()
}

/// Byte ranges of the data of the model's buffers of 64 bytes or more (the model is the
/// shipped, well-formed one: plain reads).
fn weight_ranges(b: &[u8]) -> Vec<std::ops::Range<usize>> {
    let u32_at = |p: usize| u32::from_le_bytes(b[p..p + 4].try_into().expect("4 bytes")) as usize;
    let u16_at = |p: usize| usize::from(u16::from_le_bytes([b[p], b[p + 1]]));
    // Position of field `id` of the table at `t`, if present.
    let field = |t: usize, id: usize| {
        let vt = (t as i64 - i64::from(u32_at(t) as i32)) as usize;
        let entry = 4 + 2 * id;
        (entry < u16_at(vt))
            .then(|| u16_at(vt + entry))
            .filter(|&o| o != 0)
            .map(|o| t + o)
    };
    let deref = |p: usize| p + u32_at(p);
    let root = u32_at(0);
    let buffers = deref(field(root, 4).expect("Model.buffers"));
    let mut out = Vec::new();
    for i in 0..u32_at(buffers) {
        let buffer = deref(buffers + 4 + 4 * i);
        if let Some(data) = field(buffer, 0).map(deref) {
            let len = u32_at(data);
            if len >= 64 {
                out.push(data + 4..data + 4 + len);
            }
        }
    }
    out
}

/// One case per byte (bit chosen by a fixed-seed generator): every byte with `all`, else the
/// bytes outside [`weight_ranges`] and 1 in 8 of those inside; plus the known regressions.
fn cases(card: &serde_json::Value, all: bool) -> Vec<Case> {
    let mut rng = Rng(0x5eed_f11b_0000_0016);
    let mut out = vec![
        // The flip: RESHAPE reads its shape from the int32[32] conv bias.
        Case {
            key: "full",
            offset: 10624,
            bit: 1,
        },
        // Metadata and signature tensor maps lose their names (a shared vtable).
        Case {
            key: "full",
            offset: 228,
            bit: 3,
        },
        // An int8 CONV_2D loses its bias (LiteRT failed at the first inference, logging).
        Case {
            key: "acc_only",
            offset: 10292,
            bit: 0,
        },
    ];
    for key in ["full", "acc_only"] {
        let bytes = std::fs::read(models_dir().join(model_file(card, key))).expect("model");
        let weights = weight_ranges(&bytes);
        for offset in 0..bytes.len() {
            let bit = rng.below(8) as u8;
            let in_weights = weights.iter().any(|r| r.contains(&offset));
            if all || !in_weights || rng.below(8) == 0 {
                out.push(Case { key, offset, bit });
            }
        }
    }
    out
}

/// Runs `cases` one child process each, in the scratch folder `dir`.
fn run_worker(dir: &Path, card: &serde_json::Value, cases: &[Case]) -> Tally {
    for key in ["full", "acc_only"] {
        let file = model_file(card, key);
        std::fs::copy(models_dir().join(&file), dir.join(&file)).expect("copy model");
    }
    let stderr_file = dir.join("stderr.txt");
    let mut tally = Tally::default();
    for case in cases {
        let file = model_file(card, case.key);
        let mut bytes = std::fs::read(models_dir().join(&file)).expect("model");
        bytes[case.offset] ^= 1 << case.bit;
        std::fs::write(dir.join(&file), &bytes).expect("write model");
        let mut damaged = card.clone();
        damaged["models"][case.key]["sha256"] = guardian_litert::sha256_hex(&bytes).into();
        std::fs::write(dir.join("model_card.json"), damaged.to_string()).expect("write card");
        let args = ["check-model", "--model", dir.to_str().expect("utf8")];
        let out = child::guardian(&args, &stderr_file, Duration::from_secs(30));
        let stderr = std::fs::read_to_string(&stderr_file).unwrap_or_default();
        tally.add(case, out, &stderr);
        // Restore this model for the next case.
        std::fs::copy(models_dir().join(&file), dir.join(&file)).expect("copy model");
    }
    tally
}

#[test]
fn single_bit_flips_of_both_models_never_kill_the_process() {
    let all = std::env::var("GUARDIAN_FUZZ_MODELS").is_ok_and(|v| v == "all");
    let card = card();
    let cases = cases(&card, all);
    let workers = 2;
    let start = Instant::now();
    let chunk = cases.len().div_ceil(workers);
    let tally = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .chunks(chunk)
            .enumerate()
            .map(|(w, part)| {
                let dir = child::scratch(&format!("fuzz-models-{w}"));
                let card = &card;
                s.spawn(move || run_worker(&dir, card, part))
            })
            .collect();
        let mut total = Tally::default();
        for h in handles {
            total.merge(h.join().expect("worker"));
        }
        total
    });
    eprintln!(
        "fuzz_models: {} single-bit flips of both models ({}, checksum rewritten) \
         by `guardian check-model` in child processes in {:.1} s: {} loaded and ran, \
         {} refused with an error, {} signals, {} hangs; peak child memory {:.1} MiB",
        cases.len(),
        if all {
            "every byte"
        } else {
            "every structural byte, 1 in 8 weight bytes"
        },
        start.elapsed().as_secs_f64(),
        tally.loaded,
        tally.refused,
        tally.signals.len(),
        tally.hangs.len(),
        tally.max_rss_kib as f64 / 1024.0
    );
    assert!(tally.signals.is_empty(), "signals: {:?}", tally.signals);
    assert!(tally.hangs.is_empty(), "hangs: {:?}", tally.hangs);
    assert!(
        tally.bad_messages.is_empty(),
        "{} refusals without Guardian's message first, e.g. {:?}",
        tally.bad_messages.len(),
        tally.bad_messages.first()
    );
}

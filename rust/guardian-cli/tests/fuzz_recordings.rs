//! Mutated recordings through `guardian replay` in child processes (fixed seed): byte flips,
//! truncation, duplicated lines, huge numbers, NaN and infinities, inserted garbage, CR line
//! endings, a BOM, very long lines. Each must end with an exit code (never a signal), within a
//! timeout, in bounded memory; and a clean exit means the recording gave samples (a recording
//! that yields none is an error, never a clean success).
//!
//! `GUARDIAN_FUZZ_RECORDINGS=n` changes the number of cases (default 2,000).

mod child;

use std::time::{Duration, Instant};

use child::Rng;
use guardian_synth::{FallKind, Scenario};

/// Peak memory allowed to one replay child, MiB.
const MAX_RSS_MIB: f64 = 64.0;
/// Time allowed to one replay child.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A short recording with a fall: walking, the fall, lying, getting up.
fn base_recording() -> Vec<u8> {
    let mut s = Scenario::new(16, 1_000_000_000);
    s.walk(8.0).fall(FallKind::Forward, 6.0).get_up().walk(3.0);
    let rec = s.render();
    let mut out = Vec::new();
    guardian_cli::recording::write_recording(&mut out, &rec.acc, &rec.gyro).expect("write");
    out
}

const HUGE: [&str; 8] = [
    "1e308",
    "-1e308",
    "1e39",
    "99999999999999999999999999",
    "-9223372036854775809",
    "9223372036854775807",
    "4611686018427387905",
    "0x7fffffff",
];
const NON_FINITE: [&str; 6] = ["NaN", "nan", "inf", "-inf", "Infinity", "-NaN"];

/// Byte ranges of the lines of `b` (without their `\n`).
fn lines(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' {
            out.push((start, i));
            start = i + 1;
        }
    }
    if start < b.len() {
        out.push((start, b.len()));
    }
    out
}

/// Replaces comma-separated field `f` of a random line with `with`.
fn replace_field(b: &mut Vec<u8>, rng: &mut Rng, with: &str) {
    let ls = lines(b);
    if ls.is_empty() {
        return;
    }
    let (s, e) = ls[rng.below(ls.len())];
    let line = &b[s..e];
    let fields: Vec<&[u8]> = line.split(|&c| c == b',').collect();
    let f = rng.below(fields.len());
    let mut new_line = Vec::new();
    for (k, field) in fields.iter().enumerate() {
        if k > 0 {
            new_line.push(b',');
        }
        new_line.extend_from_slice(if k == f { with.as_bytes() } else { field });
    }
    b.splice(s..e, new_line);
}

/// One mutation, chosen by `kind`.
fn mutate(b: &mut Vec<u8>, rng: &mut Rng, kind: usize) {
    match kind {
        0 => {
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(b.len());
                if let Some(c) = b.get_mut(at) {
                    *c ^= 1 << rng.below(8);
                }
            }
        }
        1 => b.truncate(rng.below(b.len() + 1)),
        2 => {
            let ls = lines(b);
            if let Some(&(s, _)) = ls.get(rng.below(ls.len())) {
                let n = 1 + rng.below(50);
                let e = ls
                    .get(ls.partition_point(|l| l.0 < s) + n)
                    .map_or(b.len(), |l| l.0);
                let copy = b[s..e].to_vec();
                let at = ls[rng.below(ls.len())].0;
                b.splice(at..at, copy);
            }
        }
        3 => {
            let with = HUGE[rng.below(HUGE.len())];
            replace_field(b, rng, with);
        }
        4 => {
            let with = NON_FINITE[rng.below(NON_FINITE.len())];
            replace_field(b, rng, with);
        }
        5 => {
            let garbage: Vec<u8> = (0..1 + rng.below(64)).map(|_| rng.next() as u8).collect();
            let at = rng.below(b.len() + 1);
            b.splice(at..at, garbage);
        }
        6 => {
            let with: &[u8] = if rng.below(2) == 0 { b"\r" } else { b"\r\n" };
            let mut out = Vec::with_capacity(b.len() * 2);
            for &c in b.iter() {
                if c == b'\n' {
                    out.extend_from_slice(with);
                } else {
                    out.push(c);
                }
            }
            *b = out;
        }
        7 => {
            b.splice(0..0, [0xef, 0xbb, 0xbf]);
        }
        8 => {
            // A very long line (no newline for 3 MB).
            let at = rng.below(b.len() + 1);
            b.splice(at..at, std::iter::repeat_n(b'7', 3 << 20));
        }
        _ => {
            // Header only, or nothing.
            let keep = if rng.below(2) == 0 { 0 } else { 18 };
            b.truncate(keep);
        }
    }
}

/// Mutation kinds, weighted: the rare ones (long line, empty) once in a while.
fn pick_kind(rng: &mut Rng) -> usize {
    match rng.below(100) {
        0..=1 => 8,
        2..=3 => 9,
        r => r % 8,
    }
}

#[derive(Debug, Default)]
struct Tally {
    cases: usize,
    ok: usize,
    refused: usize,
    signals: Vec<(usize, i32)>,
    hangs: Vec<usize>,
    empty_successes: Vec<usize>,
    max_rss_kib: i64,
}

/// Runs cases `ids` (each its own seed) in the scratch folder `dir`.
fn run_worker(dir: &std::path::Path, base: &[u8], ids: &[usize]) -> Tally {
    let file = dir.join("rec.csv");
    let stderr_file = dir.join("stderr.txt");
    let mut t = Tally::default();
    for &id in ids {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (id as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
        let mut b = base.to_vec();
        for _ in 0..1 + rng.below(3) {
            let kind = pick_kind(&mut rng);
            mutate(&mut b, &mut rng, kind);
        }
        std::fs::write(&file, &b).expect("write recording");
        let args = ["replay", file.to_str().expect("utf8"), "--json-summary"];
        let out = child::guardian(&args, &stderr_file, TIMEOUT);
        t.cases += 1;
        t.max_rss_kib = t.max_rss_kib.max(out.max_rss_kib);
        if let Some(sig) = out.signal {
            t.signals.push((id, sig));
        } else if out.hung {
            t.hangs.push(id);
        } else if out.code == Some(0) {
            t.ok += 1;
            let err = std::fs::read_to_string(&stderr_file).unwrap_or_default();
            if !gave_samples(&err) {
                t.empty_successes.push(id);
            }
        } else {
            t.refused += 1;
        }
    }
    t
}

/// The JSON summary (last stderr line) counts samples and accepted accelerometer samples.
fn gave_samples(stderr: &str) -> bool {
    let Some(line) = stderr.lines().last() else {
        return false;
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
        return false;
    };
    v["samples"].as_u64().unwrap_or(0) > 0
        && v["stats"]["acc"]["accepted"].as_u64().unwrap_or(0) > 0
}

#[test]
fn mutated_recordings_never_crash_hang_or_succeed_empty() {
    let n: usize = std::env::var("GUARDIAN_FUZZ_RECORDINGS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let base = base_recording();
    let start = Instant::now();
    let ids: Vec<usize> = (0..n).collect();
    let workers = 2;
    let parts: Vec<Vec<usize>> = (0..workers)
        .map(|w| ids.iter().copied().filter(|i| i % workers == w).collect())
        .collect();
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .iter()
            .enumerate()
            .map(|(w, part)| {
                let dir = child::scratch(&format!("fuzz-recordings-{w}"));
                let base = &base;
                s.spawn(move || run_worker(&dir, base, part))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker"))
            .collect()
    });
    let mut t = Tally::default();
    for p in tallies {
        t.cases += p.cases;
        t.ok += p.ok;
        t.refused += p.refused;
        t.signals.extend(p.signals);
        t.hangs.extend(p.hangs);
        t.empty_successes.extend(p.empty_successes);
        t.max_rss_kib = t.max_rss_kib.max(p.max_rss_kib);
    }
    let peak_mib = t.max_rss_kib as f64 / 1024.0;
    eprintln!(
        "fuzz_recordings: {} mutated recordings ({} bytes unmutated) through `guardian replay` \
         in child processes in {:.1} s: {} replayed, {} refused with an error, {} signals, \
         {} hangs (timeout {} s), {} clean exits without samples; peak child memory {peak_mib:.1} MiB",
        t.cases,
        base.len(),
        start.elapsed().as_secs_f64(),
        t.ok,
        t.refused,
        t.signals.len(),
        t.hangs.len(),
        TIMEOUT.as_secs(),
        t.empty_successes.len(),
    );
    assert!(
        t.signals.is_empty(),
        "signals (case, signal): {:?}",
        t.signals
    );
    assert!(t.hangs.is_empty(), "hangs (case): {:?}", t.hangs);
    assert!(
        t.empty_successes.is_empty(),
        "clean exits without samples: {:?}",
        t.empty_successes
    );
    assert!(peak_mib < MAX_RSS_MIB, "peak memory {peak_mib:.1} MiB");
}

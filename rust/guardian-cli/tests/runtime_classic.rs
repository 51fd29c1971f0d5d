//! `guardian replay --runtime classic` against `--runtime litert` on whole recordings: the
//! classic TensorFlow Lite backend (the phones' runtime) gives the same events, apart from falls
//! whose score lies within the runtimes' few output steps of the threshold.
//!
//! Needs the classic host library (`scripts/fetch_tflite_classic.sh`, or GUARDIAN_TFLITE_LIB)
//! and LiteRT, like the other tests on the real runtimes.

use std::path::Path;
use std::process::Command;

fn guardian(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_guardian"))
        .args(args)
        .output()
        .expect("run guardian")
}

fn replay(rec: &Path, runtime: &str, sensors: &str) -> (String, String) {
    let out = guardian(&[
        "replay",
        rec.to_str().expect("utf8"),
        "--runtime",
        runtime,
        "--sensors",
        sensors,
    ]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "replay --runtime {runtime}: {stderr}");
    (stdout, stderr)
}

/// The events of `replay`'s stdout, each without its `score` (returned beside it; 0 if none).
fn events(stdout: &str) -> Vec<(serde_json::Value, f64)> {
    stdout
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).expect("event JSON");
            let score = v
                .as_object_mut()
                .and_then(|o| o.remove("score"))
                .and_then(|s| s.as_f64())
                .unwrap_or(0.0);
            (v, score)
        })
        .collect()
}

/// The largest score difference between the two runtimes, in int8 output steps (1/256).
const SCORE_STEPS: f64 = 16.0;

/// The shipped card's threshold for the model `sensors` runs.
fn card_threshold(sensors: &str) -> f64 {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/model_card.json");
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("card")).expect("card JSON");
    let model = if sensors == "full" {
        "full"
    } else {
        "acc_only"
    };
    card["models"][model]["threshold"]
        .as_f64()
        .expect("threshold")
}

/// The falls (impact instant, score) that only one of `a` and `b` raised.
fn falls_on_one_side(
    a: &[(serde_json::Value, f64)],
    b: &[(serde_json::Value, f64)],
) -> Vec<(serde_json::Value, f64)> {
    let falls = |v: &[(serde_json::Value, f64)]| -> Vec<(serde_json::Value, f64)> {
        v.iter()
            .filter(|(e, _)| e["kind"] == "fall")
            .map(|(e, s)| (e["impact_t_ns"].clone(), *s))
            .collect()
    };
    let (fa, fb) = (falls(a), falls(b));
    let missing_from = |x: &[(serde_json::Value, f64)], y: &[(serde_json::Value, f64)]| {
        x.iter()
            .filter(|(t, _)| !y.iter().any(|(u, _)| u == t))
            .cloned()
            .collect::<Vec<_>>()
    };
    let mut one = missing_from(&fa, &fb);
    one.extend(missing_from(&fb, &fa));
    one
}

#[test]
fn replay_gives_the_same_events_on_classic_and_litert() {
    let dir = std::env::temp_dir().join(format!("guardian-classic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    // Two synthetic days (22 h each, falls, hard sit-downs, phone drops, jogging, stairs).
    for (seed, falls) in [("42", "4"), ("7", "6")] {
        let rec = dir.join(format!("day-{seed}.csv"));
        let out = guardian(&[
            "demo",
            "--seed",
            seed,
            "--falls",
            falls,
            "--json",
            "--write",
            rec.to_str().expect("utf8"),
        ]);
        assert!(
            out.status.success(),
            "demo: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for sensors in ["full", "acc-only"] {
            let (litert, _) = replay(&rec, "litert", sensors);
            let (classic, summary) = replay(&rec, "classic", sensors);
            let falls_seen = litert.lines().filter(|l| l.contains("\"fall\"")).count();
            let (a, b) = (events(&litert), events(&classic));
            // The scores of the falls both raised (same event apart from the score), where
            // they differ.
            let score_diffs: Vec<(f64, f64)> = a
                .iter()
                .filter(|(e, _)| e["kind"] == "fall")
                .filter_map(|(e, x)| b.iter().find(|(f, _)| f == e).map(|(_, y)| (*x, *y)))
                .filter(|(x, y)| x != y)
                .collect();
            eprintln!(
                "seed {seed}, {sensors}: {} events ({falls_seen} falls) with litert, {} with \
                 classic; byte-identical output: {}; scores that differ: {score_diffs:?}",
                a.len(),
                b.len(),
                litert == classic
            );
            assert!(falls_seen > 0, "seed {seed} {sensors}: no fall detected");
            // Every event the same: kind, instants, peak, order. The score reported with a
            // fall may differ by a few output steps: the host's classic library runs int8 on
            // TF Lite's builtin kernels, LiteRT on XNNPACK's (see guardian-tflite's tests). So
            // a window scoring within those steps of the threshold may confirm on one runtime
            // only: such a fall (with the events of its alert) is set aside, and only such.
            let threshold = card_threshold(sensors);
            let only_one = falls_on_one_side(&a, &b);
            for (impact, score) in &only_one {
                assert!(
                    (score - threshold).abs() <= SCORE_STEPS / 256.0,
                    "seed {seed} {sensors}: the fall at {impact} on one runtime only scored \
                     {score}, not near the threshold {threshold} (classic summary: {summary})"
                );
            }
            eprintln!(
                "seed {seed}, {sensors}: falls on one runtime only (threshold {threshold}): \
                 {only_one:?}"
            );
            let rest = |v: &[(serde_json::Value, f64)]| -> Vec<serde_json::Value> {
                v.iter()
                    .filter(|(e, _)| !only_one.iter().any(|(t, _)| e["impact_t_ns"] == *t))
                    .map(|(e, _)| e.clone())
                    .collect()
            };
            assert_eq!(
                rest(&a),
                rest(&b),
                "seed {seed} {sensors}: events differ (classic summary: {summary})"
            );
            for (x, y) in &score_diffs {
                assert!((x - y).abs() <= SCORE_STEPS / 256.0, "scores {x} and {y}");
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn runtime_options_are_checked() {
    let out = guardian(&["replay", "x.csv", "--runtime", "tpu"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("litert or classic"), "{err}");

    let dir = std::env::temp_dir().join(format!("guardian-classic-opt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let rec = dir.join("r.csv");
    std::fs::write(&rec, "t_ns,sensor,x,y,z\n1,acc,0,0,9.8\n").expect("write");
    let rec = rec.to_str().expect("utf8");

    // A missing classic library is a "library not found" error that says how to get it.
    let out = guardian(&[
        "replay",
        rec,
        "--runtime",
        "classic",
        "--tflite",
        "/nonexistent/libtensorflowlite_c.so",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("TensorFlow Lite C library not found") && err.contains("fetch_tflite_classic"),
        "{err}"
    );

    let out = guardian(&["replay", rec, "--tflite", "/x/libtensorflowlite_c.so"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tflite needs --runtime classic"));

    let out = guardian(&["bench", "--runtime", "classic"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("runs LiteRT only"));
    std::fs::remove_dir_all(&dir).ok();
}

//! What `guardian` says about a damaged model or a wrong `--litert`: Guardian's own message,
//! first on stderr, and an exit code (the issue-16 RESHAPE flip used to segfault LiteRT).

mod child;

use std::path::Path;
use std::process::Command;

/// A copy of the shipped models and card in `dir`, the full model with `mask` XORed into byte
/// `offset` and the card's checksum rewritten to match.
fn damaged_bundle(dir: &Path, offset: usize, mask: u8) {
    let models = child::repo_root().join("models");
    let text = std::fs::read_to_string(models.join("model_card.json")).expect("card");
    let mut card: serde_json::Value = serde_json::from_str(&text).expect("card json");
    for key in ["full", "acc_only"] {
        let file = card["models"][key]["file"]
            .as_str()
            .expect("file")
            .to_string();
        let mut bytes = std::fs::read(models.join(&file)).expect("model");
        if key == "full" {
            bytes[offset] ^= mask;
            card["models"][key]["sha256"] = guardian_litert::sha256_hex(&bytes).into();
        }
        std::fs::write(dir.join(&file), bytes).expect("write model");
    }
    std::fs::write(dir.join("model_card.json"), card.to_string()).expect("write card");
}

fn guardian(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_guardian"))
        .args(args)
        .env_remove("GUARDIAN_LITERT_LOG")
        .output()
        .expect("run guardian")
}

/// Exit code 1 (no signal) and stderr is Guardian's message alone, containing `needle`.
fn refused_with(out: &std::process::Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{:?}: {err}", out.status);
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(needle), "{err}");
}

#[test]
fn damaged_models_are_refused_by_check_model_and_replay() {
    let recording = child::scratch("damaged-model-recording").join("rec.csv");
    std::fs::write(
        &recording,
        "t_ns,sensor,x,y,z\n0,acc,0,0,9.8\n20000000,acc,0,0,9.8\n",
    )
    .expect("write recording");
    // (byte, mask, what the pre-check names): the RESHAPE flip, and the shared
    // vtable of metadata and signature tensor maps losing its name field.
    for (offset, mask, needle) in [(10624, 0x02, "RESHAPE"), (228, 0x08, "name is missing")] {
        let dir = child::scratch(&format!("damaged-model-{offset}"));
        damaged_bundle(&dir, offset, mask);
        let d = dir.to_str().expect("utf8");
        refused_with(&guardian(&["check-model", "--model", d]), needle);
        let rec = recording.to_str().expect("utf8");
        refused_with(
            &guardian(&["replay", rec, "--model", d, "--sensors", "full"]),
            needle,
        );
    }
}

#[test]
fn litert_pointing_at_a_directory_says_so() {
    let dir = child::scratch("litert-dir");
    let out = guardian(&["check-model", "--litert", dir.to_str().expect("utf8")]);
    refused_with(&out, "is a directory");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("not found"));
}

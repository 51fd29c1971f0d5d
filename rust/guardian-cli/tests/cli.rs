//! The `guardian` binary's behaviour on bad input.

use std::process::Command;

fn guardian(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_guardian"))
        .args(args)
        .output()
        .expect("run guardian")
}

#[test]
fn a_malformed_recording_fails_with_its_line_number() {
    let dir = std::env::temp_dir().join(format!("guardian-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let file = dir.join("bad.csv");
    std::fs::write(
        &file,
        "t_ns,sensor,x,y,z\n1,acc,0,0,9.8\n2,acc,0,oops,9.8\n",
    )
    .expect("write");
    let out = guardian(&["replay", file.to_str().expect("utf8")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3") && err.contains("oops"), "{err}");
}

#[test]
fn a_missing_library_says_how_to_get_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_guardian"))
        .args(["check-model"])
        .env("GUARDIAN_LITERT_LIB", "/nonexistent/libLiteRt.so")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("make litert") || err.contains("fetch_litert"),
        "{err}"
    );
}

#[test]
fn a_corrupt_model_is_an_error_not_a_crash() {
    let dir = std::env::temp_dir().join(format!("guardian-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models");
    std::fs::copy(
        format!("{root}/model_card.json"),
        dir.join("model_card.json"),
    )
    .expect("card");
    let full = std::fs::read(format!("{root}/guardian-full-qat-int8.tflite")).expect("model");
    std::fs::write(
        dir.join("guardian-full-qat-int8.tflite"),
        &full[..full.len() / 2],
    )
    .expect("w");
    std::fs::copy(
        format!("{root}/guardian-acc-qat-int8.tflite"),
        dir.join("guardian-acc-qat-int8.tflite"),
    )
    .expect("acc");
    let out = guardian(&["check-model", "--model", dir.to_str().expect("utf8")]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("guardian-full-qat-int8.tflite"), "{err}");
}

/// A card folder holding the shipped models and the shipped card with `edit` applied.
fn card_dir(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("guardian-card-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models");
    for f in [
        "guardian-full-qat-int8.tflite",
        "guardian-acc-qat-int8.tflite",
    ] {
        std::fs::copy(format!("{root}/{f}"), dir.join(f)).expect("model");
    }
    let text = std::fs::read_to_string(format!("{root}/model_card.json")).expect("card");
    let mut card: serde_json::Value = serde_json::from_str(&text).expect("json");
    edit(&mut card);
    std::fs::write(dir.join("model_card.json"), card.to_string()).expect("write");
    dir
}

/// A short valid recording (2 s of a phone lying still, both sensors).
fn still_recording(dir: &std::path::Path) -> std::path::PathBuf {
    let mut text = String::from("t_ns,sensor,x,y,z\n");
    for i in 0..100 {
        let t = i * 20_000_000;
        text.push_str(&format!("{t},acc,0,0,9.81\n{t},gyro,0,0,0\n"));
    }
    let file = dir.join("still.csv");
    std::fs::write(&file, text).expect("write");
    file
}

/// `check-model` and `replay` share one validation: every card or config one refuses, the
/// other refuses too, naming the field.
#[test]
fn check_model_refuses_what_replay_refuses() {
    use serde_json::json;
    type Edit = fn(&mut serde_json::Value);
    let cards: [(&str, &str, Edit); 9] = [
        ("reversed", "band", |c| c["band"] = json!([80, 40])),
        ("hugeband", "band", |c| c["band"] = json!([40, 100_000_000])),
        ("hop0", "hop_frames", |c| c["hop_frames"] = json!(0)),
        ("hop1e18", "hop_frames", |c| {
            c["hop_frames"] = json!(1_000_000_000_000_000_000u64)
        }),
        ("thr5", "threshold", |c| {
            c["models"]["full"]["threshold"] = json!(5)
        }),
        ("thrneg", "threshold", |c| {
            c["models"]["acc_only"]["threshold"] = json!(-0.5)
        }),
        ("trigneg", "trigger_g", |c| c["trigger_g"] = json!(-1)),
        ("trig1e39", "trigger_g", |c| c["trigger_g"] = json!(1e39)),
        ("nosha", "sha256", |c| {
            c["models"]["full"]["sha256"] = serde_json::Value::Null
        }),
    ];
    let tmp = std::env::temp_dir().join(format!("guardian-same-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let rec = still_recording(&tmp);
    let rec = rec.to_str().expect("utf8");
    for (name, field, edit) in cards {
        let dir = card_dir(name, edit);
        let dir = dir.to_str().expect("utf8");
        for args in [
            vec!["check-model", "--model", dir],
            vec!["replay", rec, "--model", dir],
        ] {
            let out = guardian(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{name} {args:?}: {err}");
            assert!(err.contains(field), "{name} {args:?}: {err}");
        }
    }
    let config = tmp.join("threshold2.json");
    std::fs::write(&config, r#"{"threshold": 2}"#).expect("write");
    let config = config.to_str().expect("utf8");
    for args in [
        vec!["check-model", "--config", config],
        vec!["replay", rec, "--config", config],
    ] {
        let out = guardian(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("threshold must be in (0, 0.99609375], got 2.0"),
            "{args:?}: {err}"
        );
    }
    let out = guardian(&["check-model"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

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

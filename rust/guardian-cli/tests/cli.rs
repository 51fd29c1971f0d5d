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

/// A fresh temporary folder for one test.
fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("guardian-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    dir
}

/// `replay` with `input` on stdin (`/dev/stdin` as the file); returns the output.
fn replay_stdin(input: &[u8], extra: &[&str]) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_guardian"))
        .args(["replay", "/dev/stdin"])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("writer");
    out
}

/// Samples `(acc, gyro)` counted by a JSON summary on stderr.
fn summary(out: &std::process::Output) -> serde_json::Value {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    serde_json::from_str(err.trim()).unwrap_or_else(|e| panic!("{e}: {err}"))
}

/// 2 s of both sensors (LF line ends), after `gyro_after_s` s of accelerometer alone.
fn rows(acc_alone_s: i64) -> String {
    let mut text = String::from("t_ns,sensor,x,y,z\n");
    let acc_only = acc_alone_s * 50;
    for i in 0..(acc_only + 100) {
        let t = i * 20_000_000;
        text.push_str(&format!("{t},acc,0,0,9.81\n"));
        if i >= acc_only {
            text.push_str(&format!("{t},gyro,0,0,0\n"));
        }
    }
    text
}

#[test]
fn sensors_auto_reads_a_pipe_once() {
    let text = rows(0);
    let out = replay_stdin(text.as_bytes(), &["--json-summary"]);
    let s = summary(&out);
    assert_eq!(s["sensors"], "full");
    assert_eq!(s["samples"], 200);
    // Gyroscope rows starting later than the decision window: acc-only, and said so.
    let text = rows(30);
    let out = replay_stdin(text.as_bytes(), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("AccOnly") && err.contains("100 gyroscope rows ignored"),
        "{err}"
    );
}

#[test]
fn sensors_auto_reads_a_fifo() {
    use std::io::Write;
    let dir = tmp("fifo");
    let fifo = dir.join("rec.fifo");
    let _ = std::fs::remove_file(&fifo);
    let c = std::ffi::CString::new(fifo.to_str().expect("utf8")).expect("c");
    // SAFETY: a plain libc call on a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(fifo)
                .expect("open fifo");
            let _ = f.write_all(rows(0).as_bytes());
        })
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_guardian"))
        .args(["replay", fifo.to_str().expect("utf8"), "--json-summary"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed().as_secs() > 60 {
            let _ = child.kill();
            panic!("replay hangs on a FIFO");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    writer.join().expect("writer");
    let s = summary(&out);
    assert_eq!(
        (s["sensors"].as_str(), s["samples"].as_u64()),
        (Some("full"), Some(200))
    );
}

/// Inputs that used to exit 0 with nothing read, or confused the reader.
#[test]
fn recordings_without_samples_or_with_bad_lines_are_errors() {
    let long = format!("t_ns,sensor,x,y,z\n1,acc,0,0,{}\n", "9".repeat(5000));
    let cases: [(&[u8], &str); 8] = [
        (b"", "no samples"),
        (b"t_ns,sensor,x,y,z\n", "no samples"),
        (b"# only a comment\n\n", "no samples"),
        (
            b"t_ns,sensor,x,y,z\r1,acc,0,0,9.8\r2,acc,0,0,9.8\r",
            "CR-only",
        ),
        (b"t_ns,sensor,x,y,z,GARBAGE\n1,acc,0,0,9.8\n", "not exactly"),
        (long.as_bytes(), "line 2: longer than 4096 bytes"),
        (b"99999999999999999999,acc,0,0,9.8\n", "out of range"),
        (b"1,acc,nan,0,0\n2,acc,0,inf,0\n", "none of the 2 rows"),
    ];
    for (input, what) in cases {
        let out = replay_stdin(input, &["--sensors", "full"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(err.contains(what), "{what}: {err}");
    }
    // A BOM before the header is skipped.
    let mut bom = "\u{feff}".as_bytes().to_vec();
    bom.extend_from_slice(rows(0).as_bytes());
    assert_eq!(
        summary(&replay_stdin(&bom, &["--json-summary"]))["samples"],
        200
    );
}

#[test]
fn messages_name_the_path_once_and_escape_control_characters() {
    let dir = tmp("dir");
    let path = dir.to_str().expect("utf8");
    let out = guardian(&["replay", path]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.matches(path).count(), 1, "{err}");
    assert!(err.contains("directory"), "{err}");
    let out = replay_stdin(b"1,acc\x1b[2J\x07,0,0,9.8\n", &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains('\x1b') && !err.contains('\x07'), "{err:?}");
    assert!(err.contains(r"acc\x1b[2J\x07"), "{err}");
}

#[test]
fn replay_into_a_closed_pipe_stops_quietly() {
    use guardian_synth::{FallKind, Scenario};
    let dir = tmp("pipe");
    let mut s = Scenario::new(3, 0);
    s.walk(30.0)
        .fall(FallKind::Forward, 60.0)
        .get_up()
        .walk(10.0);
    let rec = s.render();
    let file = dir.join("fall.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).expect("create"));
    guardian_cli::recording::write_recording(&mut out, &rec.acc, &rec.gyro).expect("write");
    drop(out);
    let mut child = Command::new(env!("CARGO_BIN_EXE_guardian"))
        .args(["replay", file.to_str().expect("utf8")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Close the reading end at once, like `| head` that has had its lines.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        !err.contains("error") && !err.contains("Broken pipe"),
        "{err}"
    );
}

#[test]
fn demo_and_frames_refuse_bad_arguments_up_front() {
    let missing = tmp("demo").join("no-such-folder").join("day.csv");
    let missing = missing.to_str().expect("utf8");
    for (args, what) in [
        (vec!["demo", "--write", missing], missing),
        (vec!["demo", "--falls", "100000"], "at most 6"),
    ] {
        let start = std::time::Instant::now();
        let out = guardian(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(what), "{args:?}: {err}");
        assert!(
            start.elapsed().as_secs() < 3,
            "{args:?} generated the day first"
        );
    }
    let dir = tmp("frames");
    let rec = still_recording(&dir);
    let rec = rec.to_str().expect("utf8");
    for (extra, what) in [
        (vec!["--hop", "0"], "--hop"),
        (vec!["--scale", "0"], "--scale"),
        (vec!["--scale", "NaN"], "--scale"),
        (
            vec!["--scale", "0.01", "--zero-point", "300"],
            "--zero-point",
        ),
    ] {
        let mut args = vec!["frames", rec];
        args.extend(&extra);
        let out = guardian(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {err}");
        assert!(err.contains(what), "{extra:?}: {err}");
    }
}

//! `guardian eval` end to end: generated recordings with known truth through the real engine
//! and the shipped models; the metrics must equal what is recomputed by hand from results.jsonl.

use std::path::Path;
use std::process::Command;

use guardian_cli::eval::{read_results, EvalOutput, RecordingResult, MATCH_TOLERANCE_NS};
use guardian_cli::recording::write_recording;
use guardian_core::{Event, SensorSet};
use guardian_synth::{FallKind, Scenario};

/// Writes a scenario as a recording; returns (impact of its fall, duration s).
fn write(dir: &Path, name: &str, s: &Scenario) -> (Option<i64>, f64) {
    let rec = s.render();
    let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join(name)).expect("create"));
    write_recording(&mut out, &rec.acc, &rec.gyro).expect("write");
    let impact = rec.falls().next().and_then(|f| f.impact_ns);
    (impact, rec.duration_s())
}

fn hand_metrics(results: &[RecordingResult], model: SensorSet) -> (usize, usize, usize, f64) {
    let (mut falls, mut caught, mut adl_alarms, mut adl_s) = (0, 0, 0, 0.0);
    for r in results.iter().filter(|r| r.model == model) {
        let alarms: Vec<i64> = r
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Fall(f) => Some(f.impact_t_ns),
                _ => None,
            })
            .collect();
        match r.label.impact_t_ns {
            Some(t) => {
                falls += 1;
                if alarms.iter().any(|a| (a - t).abs() <= MATCH_TOLERANCE_NS) {
                    caught += 1;
                }
            }
            None => {
                adl_alarms += alarms.len();
                adl_s += r.label.duration_s;
            }
        }
    }
    (falls, caught, adl_alarms, adl_s / 3600.0)
}

#[test]
fn eval_metrics_match_results_recomputed_by_hand() {
    let dir = std::env::temp_dir().join(format!("guardian-eval-it-{}", std::process::id()));
    let rec_dir = dir.join("recs");
    std::fs::create_dir_all(rec_dir.join("synth")).expect("tmp");
    let mut labels =
        String::from("file,dataset,subject,age_group,activity,is_fall,impact_t_ns,duration_s\n");
    let kinds = [FallKind::Forward, FallKind::Backward, FallKind::Sideways];
    let mut fall_s = 0.0;
    for (i, kind) in kinds.iter().enumerate() {
        let mut s = Scenario::new(100 + i as u64, 3_000_000_000);
        s.still(5.0).walk(10.0).fall(*kind, 20.0);
        let name = format!("synth/fall{i}.csv");
        let (impact, dur) = write(&rec_dir, &name, &s);
        let impact = impact.expect("a fall has an impact");
        fall_s += dur;
        let age = if i == 0 { "elderly" } else { "adult" };
        labels += &format!("{name},synth,synth:p{i},{age},FALL_{kind:?},1,{impact},{dur:.3}\n");
    }
    let mut adl_s = 0.0;
    for (i, secs) in [120.0, 60.0].iter().enumerate() {
        let mut s = Scenario::new(200 + i as u64, 3_000_000_000);
        s.still(5.0).walk(*secs).stairs(20.0).walk(10.0);
        let name = format!("synth/adl{i}.csv");
        let (_, dur) = write(&rec_dir, &name, &s);
        adl_s += dur;
        labels += &format!("{name},synth,synth:p{i},adult,WALK,0,,{dur:.3}\n");
    }
    // one recording the engine cannot read, one the export could not read
    std::fs::write(
        rec_dir.join("synth/bad.csv"),
        "t_ns,sensor,x,y,z\n1,acc,0,zz,9\n",
    )
    .expect("bad");
    labels += "synth/bad.csv,synth,synth:p9,adult,WALK,0,,1.0\n";
    std::fs::write(rec_dir.join("labels.csv"), &labels).expect("labels");
    std::fs::write(
        rec_dir.join("unreadable.csv"),
        "file,dataset,subject,activity,trial,paths,error\nsynth/x.csv,synth,synth:p8,WALK,1,/x.txt,RecordingFormatError: x.txt:3: bad, really\n",
    )
    .expect("unreadable");

    let out = dir.join("out");
    let status = Command::new(env!("CARGO_BIN_EXE_guardian"))
        .args(["eval", "--sensors", "both", "--labels"])
        .arg(rec_dir.join("labels.csv"))
        .arg("--out")
        .arg(&out)
        .status()
        .expect("run guardian eval");
    assert!(status.success());

    let metrics: EvalOutput = serde_json::from_str(
        &std::fs::read_to_string(out.join("metrics.json")).expect("metrics.json"),
    )
    .expect("parse metrics");
    let results = read_results(&out.join("results.jsonl")).expect("results.jsonl");
    assert_eq!(results.len(), 10, "5 readable recordings x 2 models");
    for (name, model) in [("full", SensorSet::Full), ("acc_only", SensorSet::AccOnly)] {
        let m = &metrics.models[name];
        let g = &m.groups["overall"];
        let (falls, caught, adl_alarms, adl_h) = hand_metrics(&results, model);
        // what the generator guarantees
        assert_eq!(falls, 3);
        assert_eq!(g.fall_trials, 3);
        assert_eq!(g.recordings, 5);
        assert!((g.adl.hours - adl_s / 3600.0).abs() < 1e-6);
        assert!((adl_h - adl_s / 3600.0).abs() < 1e-6);
        assert!(fall_s > 3.0 * 30.0);
        // the metrics equal the hand recomputation from results.jsonl
        assert_eq!(g.falls_caught, caught, "{name}");
        assert_eq!(g.adl.false_alarms, adl_alarms, "{name}");
        assert_eq!(g.latency.n, caught);
        let sens = g.sensitivity.expect("falls present");
        assert!((sens - caught as f64 / 3.0).abs() < 1e-12);
        let fph = g.adl.false_alarms_per_hour.expect("ADL present");
        assert!((fph - adl_alarms as f64 / adl_h).abs() < 1e-9);
        assert_eq!(m.groups["synth_elderly"].fall_trials, 1);
        // every window of every recording is logged
        for r in results.iter().filter(|r| r.model == model) {
            let windows = r.stats.as_ref().expect("stats").detector.windows as usize;
            assert_eq!(r.windows.len(), windows);
            assert!(windows > 0);
        }
        // unreadable recordings are listed, not dropped
        let bad: Vec<(&str, &str)> = m
            .unreadable
            .iter()
            .map(|u| (u.file.as_str(), u.stage.as_str()))
            .collect();
        assert!(bad.contains(&("synth/bad.csv", "engine")), "{bad:?}");
        assert!(bad.contains(&("synth/x.csv", "export")), "{bad:?}");
        let engine_err = &m
            .unreadable
            .iter()
            .find(|u| u.stage == "engine")
            .expect("bad")
            .error;
        assert!(engine_err.contains("line 2"), "{engine_err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

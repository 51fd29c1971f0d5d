//! `guardian demo`: a synthetic day through the shipped model, compared with the truth.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use guardian_core::{Engine, Event, SensorSet};
use guardian_synth::{synthetic_day, Recording, MAX_DAY_FALLS};
use serde::Serialize;

use crate::bundle::{load_config, load_runtime, quiet_engine, ModelBundle};
use crate::feed::Hops;
use crate::matching::{fall_alarms, match_alarms};
use crate::EngineArgs;

/// Phones deliver sensor events in batches; the demo pushes this much at a time, ns.
const BATCH_NS: i64 = 200_000_000;

/// A detection compared with the truth.
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    /// Impact instant, s from the start of the day.
    pub impact_s: f64,
    /// Alert latency after the true (or detected) impact, s.
    pub latency_s: f64,
    /// Model score.
    pub score: f32,
    /// The activity the truth has at the detected impact.
    pub activity: String,
    /// Whether it matches a true fall.
    pub true_fall: bool,
}

/// Per-activity truth and false alarms.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ActivityRow {
    /// Times the activity occurs.
    pub count: usize,
    /// Total time, s.
    pub seconds: f64,
    /// Falls of this kind detected (falls only).
    pub detected: usize,
    /// False alarms during this activity.
    pub false_alarms: usize,
}

/// The outcome of matching events against the truth.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Hours of recording.
    pub hours: f64,
    /// True falls.
    pub falls: usize,
    /// True falls detected.
    pub falls_detected: usize,
    /// Detections that match no fall.
    pub false_alarms: usize,
    /// False alarms per hour of non-fall time.
    pub false_alarms_per_hour: f64,
    /// Per activity.
    pub activities: BTreeMap<String, ActivityRow>,
    /// Every detection.
    pub detections: Vec<Detection>,
}

/// Feeds a recording to an engine the way a phone would: interleaved batches of `BATCH_NS` in
/// time order, through the one feeder ([`crate::feed::feed`]).
pub fn feed(engine: &mut Engine, rec: &Recording, mut on_event: impl FnMut(Event)) -> Result<()> {
    crate::feed::feed(engine, &mut Hops::from_start(rec, BATCH_NS), |e| {
        on_event(e);
        Ok(())
    })
}

/// Matches fall events against the truth of `rec`.
pub fn compare(rec: &Recording, events: &[Event]) -> Comparison {
    let start = rec.truth.first().map_or(0, |t| t.start_ns);
    let mut activities: BTreeMap<String, ActivityRow> = BTreeMap::new();
    let mut fall_time = 0.0;
    for span in &rec.truth {
        let row = activities
            .entry(span.activity.name().to_string())
            .or_default();
        row.count += 1;
        let secs = (span.end_ns - span.start_ns) as f64 * 1e-9;
        row.seconds += secs;
        if span.activity.is_fall() {
            fall_time += secs;
        }
    }
    let alarms = fall_alarms(events);
    let impacts: Vec<Option<i64>> = rec.truth.iter().map(|s| s.impact_ns).collect();
    let hits = match_alarms(&impacts, alarms.iter().map(|a| a.impact_t_ns));
    let mut detections = Vec::new();
    for (a, hit) in alarms.iter().zip(hits) {
        let (impact_t_ns, confirmed_t_ns, score) = (a.impact_t_ns, a.confirmed_t_ns, a.score);
        let (activity, true_fall, impact) = match hit.map(|i| &rec.truth[i]) {
            Some(s) => (s.activity.name(), true, s.impact_ns.unwrap_or(impact_t_ns)),
            None => {
                let name = rec
                    .span_at(impact_t_ns)
                    .map_or("unknown", |s| s.activity.name());
                (name, false, impact_t_ns)
            }
        };
        let row = activities.entry(activity.to_string()).or_default();
        if true_fall {
            row.detected += 1;
        } else {
            row.false_alarms += 1;
        }
        detections.push(Detection {
            impact_s: (impact_t_ns - start) as f64 * 1e-9,
            latency_s: (confirmed_t_ns - impact) as f64 * 1e-9,
            score,
            activity: activity.to_string(),
            true_fall,
        });
    }
    let hours = rec.duration_s() / 3600.0;
    let false_alarms = detections.iter().filter(|d| !d.true_fall).count();
    Comparison {
        hours,
        falls: rec.falls().count(),
        falls_detected: detections.iter().filter(|d| d.true_fall).count(),
        false_alarms,
        false_alarms_per_hour: false_alarms as f64 / (hours - fall_time / 3600.0).max(1e-9),
        activities,
        detections,
    }
}

/// Creates the file `--write` names, before the day is generated, so that a bad path fails at
/// once.
fn create_output(write: Option<&Path>) -> Result<Option<(&Path, BufWriter<File>)>> {
    write
        .map(|path| {
            File::create(path)
                .map(|f| (path, BufWriter::new(f)))
                .with_context(|| format!("cannot create {}", path.display()))
        })
        .transpose()
}

/// Writes `rec` as a recording to `out`, the file at `path`.
fn write_day(path: &Path, mut out: BufWriter<File>, rec: &Recording) -> Result<()> {
    crate::recording::write_recording(&mut out, &rec.acc, &rec.gyro)
        .and_then(|()| out.flush())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Runs `guardian demo`.
pub fn run(
    args: &EngineArgs,
    seed: u64,
    falls: usize,
    sensors: SensorSet,
    json: bool,
    write: Option<&Path>,
) -> Result<()> {
    anyhow::ensure!(
        falls <= MAX_DAY_FALLS,
        "--falls must be at most {MAX_DAY_FALLS} (the synthetic day has room for no more), got {falls}"
    );
    let out = create_output(write)?;
    let bundle = ModelBundle::load(args.model.as_deref())?;
    let config = load_config(args.config.as_deref())?;
    let runtime = load_runtime(args)?;
    let mut engine = quiet_engine(&bundle, &runtime, sensors, &config)?;
    let t0 = Instant::now();
    let rec = synthetic_day(seed, falls).render();
    let gen_s = t0.elapsed().as_secs_f64();
    if let Some((path, out)) = out {
        write_day(path, out, &rec)?;
    }
    let mut events = Vec::new();
    let t1 = Instant::now();
    feed(&mut engine, &rec, |e| events.push(e))?;
    let run_s = t1.elapsed().as_secs_f64();
    let cmp = compare(&rec, &events);
    if json {
        println!("{}", serde_json::to_string_pretty(&cmp)?);
        return Ok(());
    }
    let stats = engine.stats();
    println!(
        "Synthetic day (seed {seed}): {:.1} h, {} accelerometer + {} gyroscope samples at ~100 Hz, generated in {gen_s:.1} s",
        cmp.hours,
        rec.acc.len(),
        rec.gyro.len()
    );
    println!(
        "Engine ({} model, {}): {:.2} s for the day ({:.0}x real time); {} windows, {} passed the impact trigger, {} model runs",
        match sensors { SensorSet::Full => "acc+gyro", SensorSet::AccOnly => "acc-only" },
        bundle.origin,
        run_s,
        cmp.hours * 3600.0 / run_s,
        stats.detector.windows,
        stats.detector.triggered,
        stats.detector.scored
    );
    print_comparison(&cmp);
    Ok(())
}

/// Prints the per-activity table, every detection and the totals.
fn print_comparison(cmp: &Comparison) {
    println!();
    println!(
        "{:<18} {:>6} {:>10} {:>9} {:>13}",
        "activity", "times", "minutes", "detected", "false alarms"
    );
    for (name, row) in &cmp.activities {
        let detected = if name.starts_with("fall_") {
            format!("{}/{}", row.detected, row.count)
        } else {
            "-".into()
        };
        println!(
            "{name:<18} {:>6} {:>10.1} {detected:>9} {:>13}",
            row.count,
            row.seconds / 60.0,
            row.false_alarms
        );
    }
    println!();
    for d in &cmp.detections {
        println!(
            "  {} at {:>8.1} s: score {:.2}, alert {:.1} s after impact, during {}",
            if d.true_fall {
                "FALL caught "
            } else {
                "FALSE ALARM "
            },
            d.impact_s,
            d.score,
            d.latency_s,
            d.activity
        );
    }
    println!();
    println!(
        "Falls detected: {}/{}; false alarms: {} ({:.2} per hour)",
        cmp.falls_detected, cmp.falls, cmp.false_alarms, cmp.false_alarms_per_hour
    );
}

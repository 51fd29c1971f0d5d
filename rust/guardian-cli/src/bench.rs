//! `guardian bench`: the performance figures the README publishes.

use std::io::BufReader;
use std::time::Instant;

use anyhow::Result;
use guardian_core::{DetectorConfig, SensorSet};
use guardian_synth::{synthetic_day, Scenario};
use serde::Serialize;

use crate::bundle::{load_config, load_litert, ModelBundle};
use crate::demo::feed;
use crate::recording::{write_recording, RecordingReader};
use crate::EngineArgs;

/// The measured figures.
#[derive(Debug, Serialize)]
pub struct BenchReport {
    /// Bare LiteRT invoke of the full model (copy in, run, read out), median, microseconds.
    pub invoke_us_median: f64,
    /// Same, mean.
    pub invoke_us_mean: f64,
    /// Full per-window cost with the trigger off (resample, fuse, window, quantize, invoke,
    /// decide), microseconds per scored window, including all ingest between windows.
    pub window_us: f64,
    /// `window_us / invoke_us_median`.
    pub window_to_invoke_ratio: f64,
    /// Hours of 100 Hz accelerometer + gyroscope input pushed with the trigger on.
    pub engine_hours: f64,
    /// Wall time for that input, s (one core; parsing excluded).
    pub engine_s: f64,
    /// Model runs during it.
    pub engine_model_runs: u64,
    /// Recording replayed from a CSV file, hours.
    pub replay_hours: f64,
    /// Wall time of the replay including parsing, s.
    pub replay_s: f64,
    /// Replay speed as a multiple of real time.
    pub replay_x_real_time: f64,
    /// Whether XNNPACK fully accelerates the model.
    pub fully_accelerated: bool,
}

/// Runs `guardian bench`.
pub fn run(args: &EngineArgs, json: bool, invokes: usize, hours: f64) -> Result<()> {
    let bundle = ModelBundle::load(args.model.as_deref())?;
    let config = load_config(args.config.as_deref())?;
    let lib = load_litert(args.litert.as_deref())?;
    let sensors = SensorSet::Full;

    // 1. Bare invoke on a realistic window (standing still, quantized like the engine does).
    let mut scorer = bundle.scorer(&lib, sensors)?;
    let q = scorer.input_quant();
    let mut input = vec![0i8; scorer.input_len()];
    for (i, v) in input.iter_mut().enumerate() {
        let x = if i % 8 == 1 || i % 8 == 3 { 0.25 } else { 0.0 };
        *v = ((x / q.scale).round() as i32 + q.zero_point).clamp(-128, 127) as i8;
    }
    for _ in 0..200 {
        scorer.invoke_raw(&input)?;
    }
    let mut times = Vec::with_capacity(invokes);
    for _ in 0..invokes {
        let t = Instant::now();
        std::hint::black_box(scorer.invoke_raw(std::hint::black_box(&input))?);
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    let invoke_us_median = times[times.len() / 2];
    let invoke_us_mean = times.iter().sum::<f64>() / times.len() as f64;

    // 2. Full per-window cost: the model on every window of an hour of walking.
    let mut walking = Scenario::new(3, 0);
    walking.walk(3600.0);
    let walk = walking.render();
    let no_trigger = DetectorConfig {
        impact_trigger: false,
        ..config.clone()
    };
    let mut engine = bundle.engine(&lib, sensors, &no_trigger)?;
    let t = Instant::now();
    feed(&mut engine, &walk, |_| {})?;
    let elapsed = t.elapsed().as_secs_f64();
    let scored = engine.stats().detector.scored.max(1);
    let window_us = elapsed * 1e6 / scored as f64;

    // 3. Engine throughput with the trigger on: a synthetic day (or `hours` of it).
    let day = synthetic_day(42, 4).render();
    let day_hours = day.duration_s() / 3600.0;
    let mut engine = bundle.engine(&lib, sensors, &config)?;
    let t = Instant::now();
    feed(&mut engine, &day, |_| {})?;
    let engine_s = t.elapsed().as_secs_f64() * hours / day_hours;
    let engine_model_runs = engine.stats().detector.scored;

    // 4. Replay from a CSV file, parsing included.
    let replay_hours = (hours / 12.0).clamp(0.1, 2.0);
    let n = (day.acc.len() as f64 * replay_hours / day_hours) as usize;
    let cut = day.acc.get(n).map_or(i64::MAX, |s| s.t_ns);
    let gyro_n = day.gyro.partition_point(|s| s.t_ns < cut);
    let path = std::env::temp_dir().join(format!("guardian-bench-{}.csv", std::process::id()));
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
        write_recording(&mut out, &day.acc[..n], &day.gyro[..gyro_n])?;
    }
    let mut engine = bundle.engine(&lib, sensors, &config)?;
    let t = Instant::now();
    let file = std::fs::File::open(&path)?;
    let mut reader = RecordingReader::new(BufReader::with_capacity(1 << 20, file));
    crate::replay::stream(&mut reader, &mut engine, |_| {}, |_| Ok(()))?;
    let replay_s = t.elapsed().as_secs_f64();
    std::fs::remove_file(&path).ok();
    let replay_rec_s = engine.stats().frames as f64 / 50.0;

    let report = BenchReport {
        invoke_us_median,
        invoke_us_mean,
        window_us,
        window_to_invoke_ratio: window_us / invoke_us_median,
        engine_hours: hours,
        engine_s,
        engine_model_runs,
        replay_hours: replay_rec_s / 3600.0,
        replay_s,
        replay_x_real_time: replay_rec_s / replay_s,
        fully_accelerated: scorer.fully_accelerated(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{:<52} {:>14}", "measure", "value");
        println!(
            "{:<52} {:>11.1} us",
            "bare LiteRT invoke (median)", report.invoke_us_median
        );
        println!(
            "{:<52} {:>11.1} us",
            "bare LiteRT invoke (mean)", report.invoke_us_mean
        );
        println!(
            "{:<52} {:>11.1} us",
            "full per-window cost (trigger off)", report.window_us
        );
        println!(
            "{:<52} {:>14.2}",
            "per-window / bare invoke", report.window_to_invoke_ratio
        );
        println!(
            "{:<52} {:>12.3} s",
            format!("engine, {hours:.0} h of 100 Hz acc+gyro, trigger on"),
            report.engine_s
        );
        println!(
            "{:<52} {:>14}",
            "  model runs in the synthetic day", report.engine_model_runs
        );
        println!(
            "{:<52} {:>12.0} x",
            format!(
                "replay incl. CSV parsing ({:.1} h file)",
                report.replay_hours
            ),
            report.replay_x_real_time
        );
        println!(
            "{:<52} {:>14}",
            "XNNPACK fully accelerated", report.fully_accelerated
        );
    }
    Ok(())
}

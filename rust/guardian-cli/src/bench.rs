//! `guardian bench`: the performance figures the README publishes.

use std::io::BufReader;
use std::time::Instant;

use anyhow::Result;
use guardian_core::input::quantize;
use guardian_core::{DetectorConfig, Engine, Scoring, SensorSet};
use guardian_synth::{synthetic_day, Recording, Scenario, SensorModel};
use serde::Serialize;

use crate::bundle::{
    load_config, load_litert, quiet_engine, quiet_scorer, ModelBundle, QuietScorer, Runtime,
};
use crate::demo::feed;
use crate::feed::{feed_hops, Hops};
use crate::recording::{write_recording, RecordingReader};
use crate::EngineArgs;

/// One hop: 25 frames of the 50 Hz grid, ns.
const HOP_NS: i64 = 500_000_000;
/// Timed passes over the hour of walking for the per-window figures (after a warm-up pass).
const PASSES: usize = 3;
/// Bare invokes timed before each pass.
const BARE_PER_PASS: usize = 7200;
/// The model the figures are for.
const SENSORS: SensorSet = SensorSet::Full;

/// The measured figures.
#[derive(Debug, Serialize)]
pub struct BenchReport {
    /// Bare LiteRT invoke of the full model (copy in, run, read out), median, microseconds.
    pub invoke_us_median: f64,
    /// Same, mean.
    pub invoke_us_mean: f64,
    /// Full per-window cost at 100 Hz input (`per_window[0].window_us_median`), us.
    pub window_us: f64,
    /// Its ratio to the bare invoke (`per_window[0].window_to_invoke_ratio`).
    pub window_to_invoke_ratio: f64,
    /// The per-window figures at 100 Hz and at 50 Hz input.
    pub per_window: Vec<PerWindow>,
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
    /// How the card scores the accelerometer-only model's windows (`window`, `cube_rotations`).
    pub acc_only_scoring: Scoring,
    /// Median time of one hop that scored one window with the accelerometer-only model as its
    /// card says (24 invokes for `cube_rotations`), trigger off, 50 Hz input, us.
    pub acc_only_window_us_median: f64,
}

/// Full per-window cost at one input rate.
///
/// The engine gets the input one hop (0.5 s of both sensors) per call pair, as a phone's batched
/// sensor delivery would; each hop's pushes are timed, and the hops that completed exactly one
/// window are kept. The bare invoke is timed in the same passes (a block of invokes before each),
/// so both sides of the ratio see the machine in the same state, and both sides use the same
/// statistic.
#[derive(Debug, Serialize)]
pub struct PerWindow {
    /// Accelerometer and gyroscope rate of the input, Hz (the grid is 50 Hz).
    pub input_hz: f64,
    /// Median time of one hop with the trigger off: everything the engine does per window
    /// (resample, fuse, window, quantize, invoke, decide) including all the hop's ingest, us.
    pub window_us_median: f64,
    /// Mean of the same, us.
    pub window_us_mean: f64,
    /// Median of the bare invokes timed in these passes, us.
    pub invoke_us_median: f64,
    /// Mean of the same, us.
    pub invoke_us_mean: f64,
    /// `window_us_median / invoke_us_median`: the target is at most 1.3.
    pub window_to_invoke_ratio: f64,
    /// `window_us_mean / invoke_us_mean`.
    pub window_to_invoke_ratio_of_means: f64,
    /// Hops timed (one window each), over all passes.
    pub hops_timed: usize,
    /// Hops streamed with the trigger off, over all passes (the first of each pass and any
    /// hop without exactly one window are not timed).
    pub hops: usize,
    /// Median time of one hop with the trigger on, where the model never runs on walking:
    /// ingest, resampling, fusion, windowing and the trigger alone, us.
    pub ingest_us_median: f64,
}

/// Streams `rec` into `engine` through the one feeder ([`feed_hops`]), one hop per delivery, the
/// first ending at `first_until` (ns), and appends the time of every hop that completed exactly
/// one window to `out` (us). Returns the number of hops.
fn timed_hops(
    engine: &mut Engine,
    rec: &Recording,
    first_until: i64,
    out: &mut Vec<f64>,
) -> Result<usize> {
    let mut hops = Hops::new(rec, first_until, HOP_NS);
    feed_hops(
        engine,
        &mut hops,
        |_| Ok(()),
        |engine, push| {
            let before = engine.stats().detector.windows;
            let t = Instant::now();
            push(engine)?;
            let us = t.elapsed().as_secs_f64() * 1e6;
            if engine.stats().detector.windows == before + 1 {
                out.push(us);
            }
            Ok(())
        },
    )?;
    Ok(hops.hops)
}

/// What every measurement runs: the full model of `--model` in LiteRT, with `--config`.
struct Setup {
    bundle: ModelBundle,
    config: DetectorConfig,
    runtime: Runtime,
}

impl Setup {
    /// A fresh engine with `--config` as given.
    fn engine(&self) -> Result<Engine> {
        quiet_engine(&self.bundle, &self.runtime, SENSORS, &self.config)
    }

    /// A fresh engine with `--config` and the impact trigger on or off.
    fn engine_with_trigger(&self, impact_trigger: bool) -> Result<Engine> {
        let config = DetectorConfig {
            impact_trigger,
            ..self.config.clone()
        };
        quiet_engine(&self.bundle, &self.runtime, SENSORS, &config)
    }
}

/// Bare invokes of the model on a realistic window: standing still, quantized as the engine
/// does.
struct BareInvoke {
    scorer: QuietScorer,
    input: Vec<i8>,
}

impl BareInvoke {
    fn new(scorer: QuietScorer) -> Self {
        let q = scorer.input_quant();
        let input = (0..scorer.input_len())
            .map(|i| quantize(if i % 8 == 1 || i % 8 == 3 { 0.25 } else { 0.0 }, q))
            .collect();
        Self { scorer, input }
    }

    /// Times `n` invokes (copy in, run, read out) after 200 untimed ones; ascending, us.
    fn time(&mut self, n: usize) -> Result<Vec<f64>> {
        for _ in 0..200 {
            self.scorer.invoke_raw(&self.input)?;
        }
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            std::hint::black_box(self.scorer.invoke_raw(std::hint::black_box(&self.input))?);
            times.push(t.elapsed().as_secs_f64() * 1e6);
        }
        times.sort_by(f64::total_cmp);
        Ok(times)
    }
}

/// `seconds` of synthetic walking, both sensors at `hz` (seed 3).
fn walking(hz: f64, seconds: f64) -> Recording {
    let mut s = Scenario::new(3, 0).with_sensors(SensorModel {
        acc_hz: hz,
        gyro_hz: hz,
        ..SensorModel::default()
    });
    s.walk(seconds);
    s.render()
}

/// Measures [`PerWindow`] on an hour of walking at `hz`: a warm-up pass, then [`PASSES`] passes,
/// each after a block of [`BARE_PER_PASS`] bare invokes.
fn per_window_cost(hz: f64, bare: &mut BareInvoke, setup: &Setup) -> Result<PerWindow> {
    let walk = walking(hz, 3600.0);
    let engine = |trigger| setup.engine_with_trigger(trigger);
    // Warm-up pass, which also finds where windows end: hops then end 250 ms after a window's
    // end, far from the next one, so that each hop completes exactly one window.
    let mut warm_up = engine(false)?;
    warm_up.record_windows(true);
    let start = walk.acc.first().map_or(0, |s| s.t_ns);
    timed_hops(&mut warm_up, &walk, start + HOP_NS, &mut Vec::new())?;
    let first_end = warm_up
        .take_window_log()
        .first()
        .map_or(start, |w| w.end_t_ns);
    let first_until = first_end + HOP_NS / 2;
    let (mut window, mut invoke, mut ingest) = (Vec::new(), Vec::new(), Vec::new());
    let mut hops = 0;
    for _ in 0..PASSES {
        invoke.extend(bare.time(BARE_PER_PASS)?);
        hops += timed_hops(&mut engine(false)?, &walk, first_until, &mut window)?;
        timed_hops(&mut engine(true)?, &walk, first_until, &mut ingest)?;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    for v in [&mut window, &mut invoke, &mut ingest] {
        v.sort_by(f64::total_cmp);
    }
    let (window_us_median, invoke_us_median) = (median(&window), median(&invoke));
    Ok(PerWindow {
        input_hz: hz,
        window_us_median,
        window_us_mean: mean(&window),
        invoke_us_median,
        invoke_us_mean: mean(&invoke),
        window_to_invoke_ratio: window_us_median / invoke_us_median,
        window_to_invoke_ratio_of_means: mean(&window) / mean(&invoke),
        hops_timed: window.len(),
        hops,
        ingest_us_median: median(&ingest),
    })
}

/// [`BenchReport::acc_only_window_us_median`], on ten minutes of walking.
fn acc_only_window_cost(setup: &Setup) -> Result<f64> {
    let walk = walking(50.0, 600.0);
    let config = DetectorConfig {
        impact_trigger: false,
        ..setup.config.clone()
    };
    let mut engine = quiet_engine(&setup.bundle, &setup.runtime, SensorSet::AccOnly, &config)?;
    let start = walk.acc.first().map_or(0, |s| s.t_ns);
    let mut times = Vec::new();
    timed_hops(&mut engine, &walk, start + HOP_NS, &mut times)?;
    times.sort_by(f64::total_cmp);
    Ok(median(&times))
}

/// Engine throughput with the trigger on: `day` fed as a phone would. Returns the wall time
/// scaled to `hours` of input (s) and the model runs over the day.
fn engine_throughput(setup: &Setup, day: &Recording, hours: f64) -> Result<(f64, u64)> {
    let day_hours = day.duration_s() / 3600.0;
    let mut engine = setup.engine()?;
    let t = Instant::now();
    feed(&mut engine, day, |_| {})?;
    let engine_s = t.elapsed().as_secs_f64() * hours / day_hours;
    Ok((engine_s, engine.stats().detector.scored))
}

/// Replays the first `hours / 12` (0.1 to 2) hours of `day` from a CSV file, parsing included.
/// Returns the recording time replayed and the wall time, s.
fn replay_throughput(setup: &Setup, day: &Recording, hours: f64) -> Result<(f64, f64)> {
    let day_hours = day.duration_s() / 3600.0;
    let replay_hours = (hours / 12.0).clamp(0.1, 2.0);
    let n = (day.acc.len() as f64 * replay_hours / day_hours) as usize;
    let cut = day.acc.get(n).map_or(i64::MAX, |s| s.t_ns);
    let gyro_n = day.gyro.partition_point(|s| s.t_ns < cut);
    let path = std::env::temp_dir().join(format!("guardian-bench-{}.csv", std::process::id()));
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
        write_recording(&mut out, &day.acc[..n], &day.gyro[..gyro_n])?;
    }
    let mut engine = setup.engine()?;
    let t = Instant::now();
    let file = std::fs::File::open(&path)?;
    let mut reader = RecordingReader::new(BufReader::with_capacity(1 << 20, file));
    crate::replay::stream(&mut reader, &mut engine, |_| {}, |_| Ok(()))?;
    let replay_s = t.elapsed().as_secs_f64();
    std::fs::remove_file(&path).ok();
    Ok((crate::grid_seconds(engine.stats().frames), replay_s))
}

/// Runs `guardian bench`.
pub fn run(args: &EngineArgs, json: bool, invokes: usize, hours: f64) -> Result<()> {
    let bundle = ModelBundle::load(args.model.as_deref())?;
    let config = load_config(args.config.as_deref())?;
    args.require_litert("bench")?;
    let lib = load_litert(args.litert.as_deref())?;
    let mut bare = BareInvoke::new(quiet_scorer(&bundle, &lib, SENSORS)?);
    let setup = Setup {
        bundle,
        config,
        runtime: Runtime::LiteRt(lib),
    };

    // 1. Bare invoke.
    let times = bare.time(invokes)?;
    let invoke_us_median = median(&times);
    let invoke_us_mean = times.iter().sum::<f64>() / times.len() as f64;

    // 2. Full per-window cost: the model on every window of an hour of walking, at 100 Hz (the
    //    headline, what the SDK asks phones for) and at the model's own 50 Hz.
    let per_window = [100.0, 50.0]
        .into_iter()
        .map(|hz| per_window_cost(hz, &mut bare, &setup))
        .collect::<Result<Vec<_>>>()?;

    // 3. Engine throughput with the trigger on: a synthetic day (or `hours` of it).
    let day = synthetic_day(42, 4).render();
    let (engine_s, engine_model_runs) = engine_throughput(&setup, &day, hours)?;

    // 4. Replay from a CSV file, parsing included.
    let (replay_rec_s, replay_s) = replay_throughput(&setup, &day, hours)?;

    // 5. The accelerometer-only model's per-window cost, scored as its card says.
    let acc_only_window_us_median = acc_only_window_cost(&setup)?;

    let report = BenchReport {
        invoke_us_median,
        invoke_us_mean,
        window_us: per_window[0].window_us_median,
        window_to_invoke_ratio: per_window[0].window_to_invoke_ratio,
        per_window,
        engine_hours: hours,
        engine_s,
        engine_model_runs,
        replay_hours: replay_rec_s / 3600.0,
        replay_s,
        replay_x_real_time: replay_rec_s / replay_s,
        fully_accelerated: bare.scorer.fully_accelerated(),
        acc_only_scoring: setup.bundle.card.model(SensorSet::AccOnly).scoring,
        acc_only_window_us_median,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

/// Prints `report` as the README's table.
fn print_table(report: &BenchReport) {
    println!("{:<52} {:>14}", "measure", "value");
    println!(
        "{:<52} {:>11.1} us",
        "bare LiteRT invoke (median)", report.invoke_us_median
    );
    println!(
        "{:<52} {:>11.1} us",
        "bare LiteRT invoke (mean)", report.invoke_us_mean
    );
    for w in &report.per_window {
        println!(
            "{:<52} {:>11.1} us",
            format!("full per-window cost, {:.0} Hz input (median)", w.input_hz),
            w.window_us_median
        );
        println!(
            "{:<52} {:>11.1} us",
            "  bare invoke in the same passes (median)", w.invoke_us_median
        );
        println!(
            "{:<52} {:>14.2}",
            "  per-window / bare invoke (medians)", w.window_to_invoke_ratio
        );
        println!(
            "{:<52} {:>14.2}",
            "  per-window / bare invoke (means)", w.window_to_invoke_ratio_of_means
        );
        println!(
            "{:<52} {:>11.1} us",
            "  of which ingest alone (trigger on; median)", w.ingest_us_median
        );
    }
    println!(
        "{:<52} {:>12.3} s",
        format!(
            "engine, {:.0} h of 100 Hz acc+gyro, trigger on",
            report.engine_hours
        ),
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
    println!(
        "{:<52} {:>11.1} us",
        format!(
            "acc_only per-window cost, 50 Hz, {} (median)",
            report.acc_only_scoring.as_str()
        ),
        report.acc_only_window_us_median
    );
}

/// Median of sorted values.
fn median(sorted: &[f64]) -> f64 {
    sorted[sorted.len() / 2]
}

//! `guardian replay`: a recording through the engine at full speed.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use guardian_core::{Engine, EngineStats, Event, Sensor, SensorSet};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::bundle::{load_config, load_runtime, quiet_engine, ModelBundle};
use crate::feed::{feed, Batches};
use crate::recording::{RecordingError, RecordingReader};
use crate::EngineArgs;

/// `--sensors auto` runs the full model when a gyroscope row comes within this much recording
/// time of the first row, ns.
pub const AUTO_WINDOW_NS: u64 = 10_000_000_000;
/// Most rows `--sensors auto` holds back while it decides (10 s of both sensors at 500 Hz).
pub const AUTO_MAX_ROWS: usize = 10_000;

/// What a replay did, printed on stderr.
#[derive(Debug, Serialize)]
pub struct ReplaySummary {
    /// Model that ran.
    pub sensors: SensorSet,
    /// Rows read.
    pub samples: u64,
    /// Recording time covered, s (first to last frame).
    pub recording_s: f64,
    /// Wall time, s.
    pub wall_s: f64,
    /// Recording time / wall time.
    pub speed_x_real_time: f64,
    /// Events emitted.
    pub events: usize,
    /// Falls detected.
    pub falls: usize,
    /// Engine counters.
    pub stats: EngineStats,
}

/// Chooses the model: `fixed`, or full if a gyroscope row comes within [`AUTO_WINDOW_NS`] of
/// the first row (at most [`AUTO_MAX_ROWS`] rows). Reads the stream once: the rows looked at
/// stay in `reader` for the engine, so a pipe or FIFO works.
pub fn choose_sensors<R: BufRead>(
    reader: &mut RecordingReader<R>,
    fixed: Option<SensorSet>,
) -> Result<SensorSet, RecordingError> {
    if let Some(s) = fixed {
        return Ok(s);
    }
    let mut first = None;
    let held = reader.read_ahead(AUTO_MAX_ROWS, |sensor, s| {
        let t0 = *first.get_or_insert(s.t_ns);
        sensor == Sensor::Gyro || s.t_ns.abs_diff(t0) > AUTO_WINDOW_NS
    })?;
    Ok(if held.iter().any(|(s, _)| *s == Sensor::Gyro) {
        SensorSet::Full
    } else {
        SensorSet::AccOnly
    })
}

/// Pushes every batch of `reader` into `engine` (the one [`feed`]), calling `on_event` for
/// each event and `progress` with the bytes read after each batch, then finishes the engine.
/// Returns the number of samples read.
pub fn stream<R: BufRead>(
    reader: &mut RecordingReader<R>,
    engine: &mut Engine,
    progress: impl FnMut(u64),
    on_event: impl FnMut(Event) -> Result<()>,
) -> Result<u64> {
    let mut batches = Batches::new(reader, progress);
    feed(engine, &mut batches, on_event)?;
    Ok(batches.samples)
}

/// Runs `guardian replay`.
pub fn run(file: &Path, args: &EngineArgs, sensors: Option<SensorSet>, json: bool) -> Result<()> {
    let bundle = ModelBundle::load(args.model.as_deref())?;
    let config = load_config(args.config.as_deref())?;
    let input = crate::recording::open(file)?;
    let size = input.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reader = RecordingReader::new(BufReader::with_capacity(1 << 20, input));
    let sensors = choose_sensors(&mut reader, sensors)
        .with_context(|| format!("reading {}", file.display()))?;
    Engine::check(&bundle.card, sensors, &config)
        .with_context(|| format!("{} with this config", bundle.origin))?;
    let runtime = load_runtime(args)?;
    let mut engine = quiet_engine(&bundle, &runtime, sensors, &config)?;
    let bar = ProgressBar::new(size).with_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut out = std::io::stdout().lock();
    let (mut events, mut falls) = (0, 0);
    let start = Instant::now();
    let mut last_tick = 0u64;
    let samples = stream(
        &mut reader,
        &mut engine,
        |pos| {
            if pos - last_tick > 1 << 22 {
                bar.set_position(pos);
                last_tick = pos;
            }
        },
        |e| {
            events += 1;
            falls += usize::from(matches!(e, Event::Fall(_)));
            writeln!(out, "{}", serde_json::to_string(&e)?)?;
            Ok(())
        },
    )
    .with_context(|| format!("replaying {}", file.display()))?;
    bar.finish_and_clear();
    let wall_s = start.elapsed().as_secs_f64();
    let stats = engine.stats();
    check_usable(file, samples, &stats)?;
    let recording_s = crate::grid_seconds(stats.frames);
    let summary = ReplaySummary {
        sensors,
        samples,
        recording_s,
        wall_s,
        speed_x_real_time: recording_s / wall_s.max(1e-9),
        events,
        falls,
        stats,
    };
    if json {
        eprintln!("{}", serde_json::to_string(&summary)?);
    } else {
        print_summary(&summary);
    }
    Ok(())
}

/// A recording that gave no samples, or no usable accelerometer sample, is an error.
fn check_usable(file: &Path, samples: u64, stats: &EngineStats) -> Result<()> {
    if samples == 0 {
        bail!(
            "{} holds no samples (rows `t_ns,sensor,x,y,z` with sensor acc or gyro)",
            file.display()
        );
    }
    if stats.acc.accepted == 0 {
        bail!(
            "none of the {samples} rows of {} gave a usable accelerometer sample (non-finite {}, timestamps out of range {}, duplicates {}, reordered {})",
            file.display(),
            stats.acc.non_finite,
            stats.acc.out_of_range,
            stats.acc.duplicates,
            stats.acc.reordered
        );
    }
    Ok(())
}

/// The human-readable summary on stderr.
fn print_summary(summary: &ReplaySummary) {
    let ReplaySummary {
        sensors,
        samples,
        recording_s,
        wall_s,
        falls,
        stats,
        ..
    } = summary;
    let d = &stats.detector;
    eprintln!(
        "{samples} samples, {:.1} h of recording in {wall_s:.2} s ({:.0}x real time), model {:?}",
        recording_s / 3600.0,
        summary.speed_x_real_time,
        sensors
    );
    eprintln!(
        "windows {}, triggered {}, model runs {}, candidates {}, rejected by post-impact check {}, alerts {}",
        d.windows, d.triggered, d.scored, d.candidates, d.rejected_post_check, d.alerts
    );
    let (a, g) = (&stats.acc, &stats.gyro);
    eprintln!(
        "ingest acc/gyro: non-finite {}/{}, out-of-range time {}/{}, duplicates {}/{}, reordered {}/{}, gaps {}/{}, resets {}/{}; unpaired {}, sensor stalls {}",
        a.non_finite, g.non_finite, a.out_of_range, g.out_of_range, a.duplicates,
        g.duplicates, a.reordered, g.reordered, a.gaps, g.gaps, a.resets, g.resets,
        stats.unpaired, stats.stalls
    );
    if stats.gyro_ignored > 0 {
        eprintln!(
            "{} gyroscope rows ignored: the acc-only model ran (--sensors full uses them)",
            stats.gyro_ignored
        );
    }
    eprintln!("{falls} fall(s) detected");
}

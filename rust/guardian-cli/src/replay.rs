//! `guardian replay`: a recording through the engine at full speed.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use guardian_core::{Engine, EngineStats, Event, SensorSet};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::bundle::{load_config, load_litert, quiet_engine, ModelBundle};
use crate::recording::RecordingReader;
use crate::EngineArgs;

/// Bytes looked at to decide whether a recording has gyroscope rows (`--sensors auto`).
const SNIFF_BYTES: u64 = 4 << 20;

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

/// Chooses the model: `fixed`, or full if the first 4 MB hold a gyroscope row.
pub fn choose_sensors(file: &Path, fixed: Option<SensorSet>) -> Result<SensorSet> {
    if let Some(s) = fixed {
        return Ok(s);
    }
    let mut head = Vec::new();
    File::open(file)
        .with_context(|| format!("cannot open {}", file.display()))?
        .take(SNIFF_BYTES)
        .read_to_end(&mut head)?;
    let has_gyro = head
        .split(|&b| b == b'\n')
        .any(|l| l.windows(6).any(|w| w == b",gyro,"));
    Ok(if has_gyro {
        SensorSet::Full
    } else {
        SensorSet::AccOnly
    })
}

/// Pushes every batch of `reader` into `engine`, calling `on_event` for each event, then
/// finishes the engine. Returns the number of samples read.
pub fn stream<R: BufRead>(
    reader: &mut RecordingReader<R>,
    engine: &mut Engine,
    mut progress: impl FnMut(u64),
    mut on_event: impl FnMut(Event) -> Result<()>,
) -> Result<u64> {
    let mut batch = Vec::with_capacity(crate::recording::MAX_BATCH);
    let mut samples = 0u64;
    while let Some(sensor) = reader.next_batch(&mut batch)? {
        samples += batch.len() as u64;
        engine.push(sensor, &batch)?;
        for e in engine.drain_events() {
            on_event(e)?;
        }
        progress(reader.bytes_read());
    }
    engine.finish()?;
    for e in engine.drain_events() {
        on_event(e)?;
    }
    Ok(samples)
}

/// Runs `guardian replay`.
pub fn run(file: &Path, args: &EngineArgs, sensors: Option<SensorSet>, json: bool) -> Result<()> {
    let bundle = ModelBundle::load(args.model.as_deref())?;
    let config = load_config(args.config.as_deref())?;
    let lib = load_litert(args.litert.as_deref())?;
    let sensors = choose_sensors(file, sensors)?;
    let mut engine = quiet_engine(&bundle, &lib, sensors, &config)?;
    let input = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let size = input.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reader = RecordingReader::new(BufReader::with_capacity(1 << 20, input));
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
            falls += usize::from(matches!(e, Event::Fall { .. }));
            writeln!(out, "{}", serde_json::to_string(&e)?)?;
            Ok(())
        },
    )
    .with_context(|| format!("replaying {}", file.display()))?;
    bar.finish_and_clear();
    let wall_s = start.elapsed().as_secs_f64();
    let stats = engine.stats();
    let recording_s = stats.frames as f64 / 50.0;
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
        eprintln!("{falls} fall(s) detected");
    }
    Ok(())
}

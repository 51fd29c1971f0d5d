//! `guardian frames`: the engine's frames and window starts, for the parity test.

use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::{ensure, Result};
use guardian_core::frame::CHANNEL_NAMES;
use guardian_core::input::quantize;
use guardian_core::{Frame, Ingest, QuantParams, SensorSet, GRID_PERIOD_NS};

use crate::bundle::ModelBundle;
use crate::recording::RecordingReader;

/// Prints `k,t_ns,window_start,<channels>` for every frame, in increasing `k` within each
/// segment (the order the engine sees them), features with 17 significant digits (exact f64);
/// with `quant`, the quantized features follow as `q_<channels>`. The frames and windows are
/// the engine's own ([`Ingest`]), with the shipped card's window length; `hop` must be in
/// 1..=that length, `quant` a finite scale > 0 and a zero point in [-128, 127].
pub fn run(file: &Path, sensors: SensorSet, hop: usize, quant: Option<QuantParams>) -> Result<()> {
    let window = ModelBundle::embedded()?.card.window_frames;
    ensure!(
        (1..=window).contains(&hop),
        "--hop must be in 1..={window}, got {hop}"
    );
    if let Some(q) = quant {
        ensure!(
            q.scale.is_finite() && q.scale > 0.0,
            "--scale must be finite and > 0, got {:?}",
            q.scale
        );
        ensure!(
            (-128..=127).contains(&q.zero_point),
            "--zero-point must be in [-128, 127], got {}",
            q.zero_point
        );
    }
    let mut reader = RecordingReader::new(BufReader::new(crate::recording::open(file)?));
    let mut ingest = Ingest::new(sensors, window, hop);
    // Every frame, and whether a window starts at it.
    let mut frames: Vec<(Frame, bool)> = Vec::new();
    let mut batch = Vec::new();
    let mut samples = 0usize;
    while let Some(sensor) = reader.next_batch(&mut batch)? {
        samples += batch.len();
        ingest.push(sensor, &batch, |w, f, step| {
            frames.push((f, false));
            if step.complete {
                let start = frames.len() - w.window();
                frames[start].1 = true;
            }
        });
    }
    ensure!(samples > 0, "{} holds no samples", file.display());
    let c = sensors.channels();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let names = &CHANNEL_NAMES[..c];
    write!(out, "k,t_ns,window_start,{}", names.join(","))?;
    if quant.is_some() {
        for n in names {
            write!(out, ",q_{n}")?;
        }
    }
    writeln!(out)?;
    for (f, start) in &frames {
        write!(out, "{},{},{}", f.k, f.k * GRID_PERIOD_NS, u8::from(*start))?;
        let features = f.features();
        for x in &features[..c] {
            write!(out, ",{x:.16e}")?;
        }
        if let Some(q) = quant {
            for &x in &features[..c] {
                write!(out, ",{}", quantize(x, q))?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

//! `guardian frames`: the core's frames and window starts, for the parity test.

use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::{ensure, Result};
use guardian_core::frame::CHANNEL_NAMES;
use guardian_core::input::quantize;
use guardian_core::{
    FrameFusion, QuantParams, Resampler, Sensor, SensorSet, Windower, GRID_PERIOD_NS,
};

use crate::recording::RecordingReader;

/// Window length of the shipped card, frames.
const WINDOW: usize = 100;

/// Prints `k,t_ns,window_start,<channels>` for every frame, in increasing `k` within each
/// segment (the order the engine sees them), features with 17 significant digits (exact f64);
/// with `quant`, the quantized features follow as `q_<channels>`. Windows are 100 frames;
/// `hop` must be in 1..=100, `quant` a finite scale > 0 and a zero point in [-128, 127].
pub fn run(file: &Path, sensors: SensorSet, hop: usize, quant: Option<QuantParams>) -> Result<()> {
    ensure!(
        (1..=WINDOW).contains(&hop),
        "--hop must be in 1..={WINDOW}, got {hop}"
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
    let (mut acc, mut gyro) = (Resampler::new(), Resampler::new());
    let mut fusion = FrameFusion::new(sensors);
    let mut windower = Windower::new(WINDOW, hop);
    let mut frames: Vec<(guardian_core::Frame, bool)> = Vec::new();
    let mut on_frame = |f: guardian_core::Frame| {
        let (_, complete) = windower.push(&f);
        frames.push((f, false));
        if complete {
            let start = frames.len() - windower.window();
            frames[start].1 = true;
        }
    };
    let mut batch = Vec::new();
    let mut samples = 0usize;
    while let Some(sensor) = reader.next_batch(&mut batch)? {
        samples += batch.len();
        for &s in &batch {
            match sensor {
                Sensor::Acc => acc.push(s, |k, v| fusion.push_acc(k, v, &mut on_frame)),
                Sensor::Gyro => gyro.push(s, |k, v| fusion.push_gyro(k, v, &mut on_frame)),
            };
        }
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

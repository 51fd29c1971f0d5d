//! `guardian frames`: the core's frames and window starts, for the parity test.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use guardian_core::frame::CHANNEL_NAMES;
use guardian_core::input::quantize;
use guardian_core::{
    FrameFusion, QuantParams, Resampler, Sensor, SensorSet, Windower, GRID_PERIOD_NS,
};

use crate::recording::RecordingReader;

/// Prints `k,t_ns,window_start,<channels>` for every frame, in increasing `k` within each
/// segment (the order the engine sees them), features with 17 significant digits (exact f64);
/// with `quant`, the quantized features follow as `q_<channels>`.
pub fn run(file: &Path, sensors: SensorSet, hop: usize, quant: Option<QuantParams>) -> Result<()> {
    let input = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut reader = RecordingReader::new(BufReader::new(input));
    let (mut acc, mut gyro) = (Resampler::new(), Resampler::new());
    let mut fusion = FrameFusion::new(sensors);
    let mut windower = Windower::new(100, hop);
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
    while let Some(sensor) = reader.next_batch(&mut batch)? {
        for &s in &batch {
            match sensor {
                Sensor::Acc => acc.push(s, |k, v| fusion.push_acc(k, v, &mut on_frame)),
                Sensor::Gyro => gyro.push(s, |k, v| fusion.push_gyro(k, v, &mut on_frame)),
            };
        }
    }
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

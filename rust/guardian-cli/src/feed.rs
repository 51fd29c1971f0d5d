//! The one feeder: a recording into an engine, one delivery at a time, the way a phone would.
//!
//! A [`Source`] cuts a recording into deliveries (the batches a phone hands over together);
//! [`feed_hops`] pushes each into the engine, hands its events on, and finishes the engine at
//! the end. `demo` and `bench` feed a rendered recording ([`Hops`]), `replay` and `eval` a CSV
//! file ([`Batches`]).

use std::io::BufRead;

use anyhow::Result;
use guardian_core::{Engine, Event, Sample, Sensor};
use guardian_synth::Recording;

use crate::recording::RecordingReader;

/// Batches a phone hands over together, in order.
pub type Delivery<'a> = &'a [(Sensor, &'a [Sample])];

/// Cuts a recording into deliveries.
pub trait Source {
    /// Calls `hop` with the next delivery; returns false (without calling it) when none is left.
    fn next_delivery(&mut self, hop: &mut dyn FnMut(Delivery<'_>) -> Result<()>) -> Result<bool>;
}

/// Pushes every delivery of `source` into `engine`, handing each event to `on_event`, then
/// finishes the engine and hands on the last events. `around_hop(engine, push)` is called once
/// per delivery and must call `push(engine)` once (`bench` times it).
pub fn feed_hops(
    engine: &mut Engine,
    source: &mut dyn Source,
    mut on_event: impl FnMut(Event) -> Result<()>,
    mut around_hop: impl FnMut(&mut Engine, &mut dyn FnMut(&mut Engine) -> Result<()>) -> Result<()>,
) -> Result<()> {
    while source.next_delivery(&mut |batches| {
        around_hop(engine, &mut |engine: &mut Engine| {
            for &(sensor, batch) in batches {
                engine.push(sensor, batch)?;
            }
            for e in engine.drain_events() {
                on_event(e)?;
            }
            Ok(())
        })
    })? {}
    engine.finish()?;
    for e in engine.drain_events() {
        on_event(e)?;
    }
    Ok(())
}

/// [`feed_hops`] with nothing around the hops.
pub fn feed(
    engine: &mut Engine,
    source: &mut dyn Source,
    on_event: impl FnMut(Event) -> Result<()>,
) -> Result<()> {
    feed_hops(engine, source, on_event, |engine, push| push(engine))
}

/// A rendered recording as interleaved deliveries: the samples of both sensors before the
/// first instant, then each `period_ns` after it, until both sensors are used up.
pub struct Hops<'a> {
    rec: &'a Recording,
    acc: usize,
    gyro: usize,
    until: i64,
    period_ns: i64,
    /// Deliveries made.
    pub hops: usize,
}

impl<'a> Hops<'a> {
    /// Deliveries of `rec` every `period_ns`, the first ending at `first_until_ns`.
    pub fn new(rec: &'a Recording, first_until_ns: i64, period_ns: i64) -> Self {
        Self {
            rec,
            acc: 0,
            gyro: 0,
            until: first_until_ns - period_ns,
            period_ns,
            hops: 0,
        }
    }

    /// Deliveries of `rec` every `period_ns`, the first ending `period_ns` after its first
    /// accelerometer sample.
    pub fn from_start(rec: &'a Recording, period_ns: i64) -> Self {
        let start = rec.acc.first().map_or(0, |s| s.t_ns);
        Self::new(rec, start + period_ns, period_ns)
    }
}

impl Source for Hops<'_> {
    fn next_delivery(&mut self, hop: &mut dyn FnMut(Delivery<'_>) -> Result<()>) -> Result<bool> {
        let rec = self.rec;
        if self.acc >= rec.acc.len() && self.gyro >= rec.gyro.len() {
            return Ok(false);
        }
        self.until += self.period_ns;
        // A forward scan, not a binary search over the rest of the recording: it touches only
        // the samples of the delivery, so the harness adds nothing measurable to the engine's
        // time.
        let take = |v: &[Sample], from: usize, until: i64| {
            from + v[from..]
                .iter()
                .position(|s| s.t_ns >= until)
                .unwrap_or(v.len() - from)
        };
        let (a, g) = (
            take(&rec.acc, self.acc, self.until),
            take(&rec.gyro, self.gyro, self.until),
        );
        let batches = [
            (Sensor::Acc, &rec.acc[self.acc..a]),
            (Sensor::Gyro, &rec.gyro[self.gyro..g]),
        ];
        (self.acc, self.gyro) = (a, g);
        self.hops += 1;
        hop(&batches)?;
        Ok(true)
    }
}

/// The batches of a CSV recording, one delivery each; `progress` gets the bytes read after
/// every delivery.
pub struct Batches<'r, R, P> {
    reader: &'r mut RecordingReader<R>,
    batch: Vec<Sample>,
    progress: P,
    /// Samples read.
    pub samples: u64,
}

impl<'r, R: BufRead, P: FnMut(u64)> Batches<'r, R, P> {
    /// The batches of `reader`.
    pub fn new(reader: &'r mut RecordingReader<R>, progress: P) -> Self {
        Self {
            reader,
            batch: Vec::with_capacity(crate::recording::MAX_BATCH),
            progress,
            samples: 0,
        }
    }
}

impl<R: BufRead, P: FnMut(u64)> Source for Batches<'_, R, P> {
    fn next_delivery(&mut self, hop: &mut dyn FnMut(Delivery<'_>) -> Result<()>) -> Result<bool> {
        let Some(sensor) = self.reader.next_batch(&mut self.batch)? else {
            return Ok(false);
        };
        self.samples += self.batch.len() as u64;
        hop(&[(sensor, &self.batch)])?;
        (self.progress)(self.reader.bytes_read());
        Ok(true)
    }
}

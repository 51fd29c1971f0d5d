//! The engine's ingest path, without a model: samples are resampled onto the grid, fused into
//! frames and cut into windows (`docs/PREPROCESSING.md` sections 2-7).
//!
//! [`crate::Engine`] runs every sample through an [`Ingest`] and scores the windows it reports;
//! a tool that needs the engine's frames and windows without a model (the preprocessing parity
//! test's `guardian frames`) runs the same [`Ingest`].

use crate::card::SensorSet;
use crate::frame::{Frame, FrameFusion};
use crate::resampler::{IngestCounters, Resampler};
use crate::sample::{Sample, Sensor};
use crate::window::{WindowStep, Windower};

/// Resamplers, frame fusion and windower of one sensor set: samples in, frames and window
/// completions out.
#[derive(Debug)]
pub struct Ingest {
    sensors: SensorSet,
    acc: Resampler,
    gyro: Resampler,
    gyro_ignored: u64,
    fusion: FrameFusion,
    windower: Windower,
}

impl Ingest {
    /// An ingest path for `sensors` with windows of `window` frames every `hop` frames (both
    /// at least 1, `window <= HISTORY_FRAMES`). The engine passes the card's `window_frames`
    /// and the configured hop.
    pub fn new(sensors: SensorSet, window: usize, hop: usize) -> Self {
        Self {
            sensors,
            acc: Resampler::new(),
            gyro: Resampler::new(),
            gyro_ignored: 0,
            fusion: FrameFusion::new(sensors),
            windower: Windower::new(window, hop),
        }
    }

    /// Pushes a batch of samples of one sensor, in arrival order, and calls
    /// `on_frame(windower, frame, step)` for every frame it makes, once the frame is stored
    /// (the windower's newest frame is `frame`; `step` says whether it restarted the segment
    /// or completed a window). Gyroscope samples are counted and ignored in acc_only mode.
    /// Never allocates.
    ///
    /// Returns the other sensor when the frame fusion found it silent during the batch (full
    /// mode: `sensor`'s values ran [`crate::frame::MAX_PENDING`] ahead of it, and the oldest
    /// were discarded).
    pub fn push(
        &mut self,
        sensor: Sensor,
        samples: &[Sample],
        mut on_frame: impl FnMut(&Windower, Frame, WindowStep),
    ) -> Option<Sensor> {
        let Self {
            sensors,
            acc,
            gyro,
            gyro_ignored,
            fusion,
            windower,
        } = self;
        let mut store = |f: Frame| {
            let step = windower.push(&f);
            on_frame(windower, f, step);
        };
        match sensor {
            Sensor::Acc => {
                for &s in samples {
                    acc.push(s, |k, v| fusion.push_acc(k, v, &mut store));
                }
            }
            Sensor::Gyro if *sensors == SensorSet::AccOnly => {
                *gyro_ignored += samples.len() as u64;
            }
            Sensor::Gyro => {
                for &s in samples {
                    gyro.push(s, |k, v| fusion.push_gyro(k, v, &mut store));
                }
            }
        }
        fusion.take_silent()
    }

    /// The windows: the recent frames of the current segment.
    pub fn windower(&self) -> &Windower {
        &self.windower
    }

    /// What the ingest rules did with the samples of `sensor` so far.
    pub fn counters(&self, sensor: Sensor) -> &IngestCounters {
        match sensor {
            Sensor::Acc => self.acc.counters(),
            Sensor::Gyro => self.gyro.counters(),
        }
    }

    /// Gyroscope samples ignored because the sensor set is acc_only.
    pub fn gyro_ignored(&self) -> u64 {
        self.gyro_ignored
    }

    /// Grid values discarded because the other sensor lacked their instant.
    pub fn unpaired(&self) -> u64 {
        self.fusion.unpaired()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::GRID_PERIOD_NS;

    fn samples(from_k: i64, to_k: i64) -> Vec<Sample> {
        (from_k..to_k)
            .map(|k| Sample::new(k * GRID_PERIOD_NS, 0.0, 0.0, 9.8))
            .collect()
    }

    #[test]
    fn frames_are_reported_once_stored_with_their_window_steps() {
        let mut ingest = Ingest::new(SensorSet::Full, 4, 2);
        let mut seen = Vec::new();
        let mut record = |w: &Windower, f: Frame, step: WindowStep| {
            assert_eq!(w.last_k(), Some(f.k));
            seen.push((f.k, step.restarted, step.complete));
        };
        ingest.push(Sensor::Acc, &samples(0, 6), &mut record);
        ingest.push(Sensor::Gyro, &samples(0, 6), &mut record);
        // A gap of more than a second restarts both sensors' streams and the segment.
        ingest.push(Sensor::Acc, &samples(100, 103), &mut record);
        ingest.push(Sensor::Gyro, &samples(100, 103), &mut record);
        assert_eq!(
            seen,
            vec![
                (0, false, false),
                (1, false, false),
                (2, false, false),
                (3, false, true),
                (4, false, false),
                (5, false, true),
                (100, true, false),
                (101, false, false),
                (102, false, false),
            ]
        );
    }

    #[test]
    fn a_sensor_is_found_silent_once_the_other_runs_too_far_ahead() {
        let mut ingest = Ingest::new(SensorSet::Full, 4, 1);
        let pending = crate::frame::MAX_PENDING as i64;
        assert_eq!(
            ingest.push(Sensor::Acc, &samples(0, pending), |_, _, _| {}),
            None
        );
        let silent = ingest.push(Sensor::Acc, &samples(pending, pending + 3), |_, _, _| {});
        assert_eq!(silent, Some(Sensor::Gyro));
        assert_eq!(ingest.unpaired(), 3);
    }

    #[test]
    fn acc_only_ignores_the_gyroscope() {
        let mut ingest = Ingest::new(SensorSet::AccOnly, 4, 1);
        let mut frames = 0;
        ingest.push(Sensor::Gyro, &samples(0, 10), |_, _, _| frames += 1);
        ingest.push(Sensor::Acc, &samples(0, 10), |_, _, _| frames += 1);
        assert_eq!(frames, 10);
        assert_eq!(ingest.gyro_ignored(), 10);
        assert_eq!(ingest.counters(Sensor::Gyro).accepted, 0);
    }
}

//! Per-sensor ingest rules and linear resampling onto the model grid
//! (`docs/PREPROCESSING.md` sections 2-4).

use serde::{Deserialize, Serialize};

use crate::grid::GRID_PERIOD_NS;
use crate::sample::Sample;

/// A sample older than the last accepted one by at most this much is dropped (rule R3); older
/// still restarts the stream (rule R4). In ns.
pub const REORDER_TOLERANCE_NS: i64 = 100_000_000;
/// A step between consecutive samples larger than this is a gap (rule R5). In ns.
pub const MAX_GAP_NS: i64 = 1_000_000_000;
/// Timestamps must lie strictly within +-2^62 ns (about 146 years; rule R1b), so that every
/// difference of two timestamps fits in an i64.
pub const MAX_ABS_T_NS: i64 = 1 << 62;

/// What the ingest rules did with a sample, and how many samples they did it to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestCounters {
    /// Samples accepted and interpolated (rule R6), including segment starts.
    pub accepted: u64,
    /// Samples with a NaN or infinite value, rejected (R1).
    pub non_finite: u64,
    /// Samples with a timestamp at or beyond +-2^62 ns, rejected (R1b).
    #[serde(default)]
    pub out_of_range: u64,
    /// Samples with the timestamp of the previous one, dropped (R2).
    pub duplicates: u64,
    /// Samples slightly older than the previous one, dropped (R3).
    pub reordered: u64,
    /// Samples far older than the previous one: clock reset, stream restarted (R4).
    pub resets: u64,
    /// Samples after more than 1 s of silence: stream restarted without interpolation (R5).
    pub gaps: u64,
}

/// Resamples one sensor's irregular samples onto the 50 Hz grid by linear interpolation.
///
/// Invariant: within a segment, emitted grid indices `k` strictly increase by one. After a gap
/// or reset, a new segment begins and indices continue from wherever the new clock is.
#[derive(Debug, Clone, Default)]
pub struct Resampler {
    last: Option<Sample>,
    /// First grid index after `last.t_ns`, and its instant (kept to avoid a division per sample).
    next_k: i64,
    next_t: i64,
    counters: IngestCounters,
}

impl Resampler {
    /// A resampler with no samples yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The counters of what the ingest rules did so far.
    pub fn counters(&self) -> &IngestCounters {
        &self.counters
    }

    /// Applies the ingest rules to `s` and calls `emit(k, [x, y, z])` for each grid value it
    /// completes, in increasing `k`. Never allocates.
    pub fn push(&mut self, s: Sample, mut emit: impl FnMut(i64, [f32; 3])) {
        if !(s.x.is_finite() && s.y.is_finite() && s.z.is_finite()) {
            self.counters.non_finite += 1;
            return;
        }
        if s.t_ns.unsigned_abs() >= MAX_ABS_T_NS.unsigned_abs() {
            self.counters.out_of_range += 1;
            return;
        }
        let Some(a) = self.last else {
            self.start_segment(s, &mut emit);
            return;
        };
        if s.t_ns == a.t_ns {
            self.counters.duplicates += 1;
            return;
        }
        if s.t_ns < a.t_ns {
            if a.t_ns - s.t_ns <= REORDER_TOLERANCE_NS {
                self.counters.reordered += 1;
                return;
            }
            self.counters.resets += 1;
            self.start_segment(s, &mut emit);
            return;
        }
        if s.t_ns - a.t_ns > MAX_GAP_NS {
            self.counters.gaps += 1;
            self.start_segment(s, &mut emit);
            return;
        }
        self.counters.accepted += 1;
        if self.next_t <= s.t_ns {
            let span = (s.t_ns - a.t_ns) as f64;
            let (av, bv) = (a.xyz(), s.xyz());
            while self.next_t <= s.t_ns {
                let f = (self.next_t - a.t_ns) as f64 / span;
                emit(self.next_k, std::array::from_fn(|i| lerp(av[i], bv[i], f)));
                self.next_k += 1;
                self.next_t += GRID_PERIOD_NS;
            }
        }
        self.last = Some(s);
    }

    fn start_segment(&mut self, s: Sample, emit: &mut impl FnMut(i64, [f32; 3])) {
        self.counters.accepted += 1;
        let k = s.t_ns.div_euclid(GRID_PERIOD_NS);
        if s.t_ns.rem_euclid(GRID_PERIOD_NS) == 0 {
            emit(k, s.xyz());
        }
        self.next_k = k + 1;
        self.next_t = self.next_k * GRID_PERIOD_NS;
        self.last = Some(s);
    }
}

/// `a + (b - a) * f` in f64, rounded to f32 (`docs/PREPROCESSING.md` section 4).
fn lerp(a: f32, b: f32, f: f64) -> f32 {
    let (a, b) = (f64::from(a), f64::from(b));
    (a + (b - a) * f) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(samples: &[Sample]) -> (Vec<(i64, [f32; 3])>, IngestCounters) {
        let mut r = Resampler::new();
        let mut out = Vec::new();
        for &s in samples {
            r.push(s, |k, v| out.push((k, v)));
        }
        (out, *r.counters())
    }

    fn s(t_ms: f64, x: f32) -> Sample {
        Sample::new((t_ms * 1e6) as i64, x, 2.0 * x, -x)
    }

    #[test]
    fn interpolates_between_samples_onto_the_grid() {
        // Samples at 5 ms and 45 ms: grid instants 20 and 40 ms lie between them.
        let (out, c) = run(&[s(5.0, 0.0), s(45.0, 4.0)]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0, 1);
        assert!((out[0].1[0] - 1.5).abs() < 1e-6); // (20-5)/40 * 4
        assert!((out[0].1[1] - 3.0).abs() < 1e-6);
        assert_eq!(out[1].0, 2);
        assert!((out[1].1[0] - 3.5).abs() < 1e-6);
        assert_eq!(c.accepted, 2);
    }

    #[test]
    fn a_segment_start_on_the_grid_is_emitted_and_nothing_twice() {
        let (out, _) = run(&[s(20.0, 1.0), s(40.0, 3.0), s(60.0, 5.0)]);
        let ks: Vec<i64> = out.iter().map(|o| o.0).collect();
        assert_eq!(ks, vec![1, 2, 3]);
        assert_eq!(out[2].1[0], 5.0);
    }

    #[test]
    fn duplicates_and_small_reorders_are_dropped() {
        let (out, c) = run(&[
            s(0.0, 0.0),
            s(10.0, 1.0),
            s(10.0, 9.0),
            s(5.0, 9.0),
            s(30.0, 3.0),
        ]);
        assert_eq!(c.duplicates, 1);
        assert_eq!(c.reordered, 1);
        let ks: Vec<i64> = out.iter().map(|o| o.0).collect();
        assert_eq!(ks, vec![0, 1]);
        assert!((out[1].1[0] - 2.0).abs() < 1e-6); // between (10, 1) and (30, 3)
    }

    #[test]
    fn a_backward_jump_restarts_the_stream() {
        let (out, c) = run(&[s(1000.0, 0.0), s(1020.0, 1.0), s(500.0, 7.0), s(520.0, 8.0)]);
        assert_eq!(c.resets, 1);
        let ks: Vec<i64> = out.iter().map(|o| o.0).collect();
        assert_eq!(ks, vec![50, 51, 25, 26]);
    }

    #[test]
    fn a_gap_over_one_second_is_not_interpolated() {
        let (out, c) = run(&[s(0.0, 0.0), s(1500.0, 1.0), s(1520.0, 2.0)]);
        assert_eq!(c.gaps, 1);
        let ks: Vec<i64> = out.iter().map(|o| o.0).collect();
        assert_eq!(ks, vec![0, 75, 76]);
    }

    #[test]
    fn non_finite_values_are_rejected_and_counted() {
        let (out, c) = run(&[
            s(0.0, 0.0),
            Sample::new(10_000_000, f32::NAN, 0.0, 0.0),
            s(20.0, 2.0),
        ]);
        assert_eq!(c.non_finite, 1);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn negative_timestamps_use_floor_division() {
        let (out, _) = run(&[s(-25.0, 0.0), s(5.0, 3.0)]);
        let ks: Vec<i64> = out.iter().map(|o| o.0).collect();
        assert_eq!(ks, vec![-1, 0]);
        assert!((out[0].1[0] - 0.5).abs() < 1e-6);
    }
}

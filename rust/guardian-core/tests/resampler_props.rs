//! Property tests of the ingest rules and the resampler (`docs/PREPROCESSING.md` 3-4).

use guardian_core::resampler::{MAX_ABS_T_NS, MAX_GAP_NS, REORDER_TOLERANCE_NS};
use guardian_core::{IngestCounters, Resampler, Sample, GRID_PERIOD_NS};
use proptest::prelude::*;

fn run(samples: &[Sample]) -> (Vec<(i64, [f32; 3])>, IngestCounters) {
    let mut r = Resampler::new();
    let mut out = Vec::new();
    for &s in samples {
        r.push(s, |k, v| out.push((k, v)));
    }
    (out, *r.counters())
}

/// Increasing timestamps with steps of 1 ms to 1 s (no gaps), starting anywhere.
fn increasing() -> impl Strategy<Value = Vec<i64>> {
    (
        -10_000_000_000i64..10_000_000_000,
        prop::collection::vec(1_000_000i64..=MAX_GAP_NS, 1..200),
    )
        .prop_map(|(t0, steps)| {
            let mut t = t0;
            let mut v = vec![t];
            for s in steps {
                t += s;
                v.push(t);
            }
            v
        })
}

proptest! {
    #[test]
    fn grid_indices_are_consecutive_and_cover_the_span(ts in increasing()) {
        let samples: Vec<Sample> = ts.iter().map(|&t| Sample::new(t, 1.0, 2.0, 3.0)).collect();
        let (out, c) = run(&samples);
        prop_assert_eq!(c.accepted as usize, samples.len());
        let first = ts[0].div_euclid(GRID_PERIOD_NS) + i64::from(ts[0].rem_euclid(GRID_PERIOD_NS) != 0);
        let last = ts[ts.len() - 1].div_euclid(GRID_PERIOD_NS);
        let ks: Vec<i64> = out.iter().map(|o| o.0).collect();
        let expected: Vec<i64> = (first..=last).collect();
        prop_assert_eq!(ks, expected);
    }

    #[test]
    fn a_linear_signal_is_reproduced_on_the_grid(ts in increasing(), a in -20.0f64..20.0, b in -5.0f64..5.0) {
        let f = |t: i64| (a + b * t as f64 * 1e-9) as f32;
        let samples: Vec<Sample> = ts.iter().map(|&t| Sample::new(t, f(t), 0.0, 0.0)).collect();
        let (out, _) = run(&samples);
        for (k, v) in out {
            let want = f64::from(f(k * GRID_PERIOD_NS));
            // Inputs are rounded to f32; the slope across one step can amplify that rounding.
            let tol = 1e-5 * (1.0 + a.abs() + b.abs() * 30.0);
            prop_assert!((f64::from(v[0]) - want).abs() <= tol, "k {}: {} vs {}", k, v[0], want);
        }
    }

    #[test]
    fn values_stay_between_the_bracketing_samples(ts in increasing(), xs in prop::collection::vec(-50.0f32..50.0, 201)) {
        let samples: Vec<Sample> = ts.iter().zip(&xs).map(|(&t, &x)| Sample::new(t, x, -x, 0.5 * x)).collect();
        let (out, _) = run(&samples);
        for (k, v) in out {
            let t = k * GRID_PERIOD_NS;
            let i = samples.partition_point(|s| s.t_ns < t);
            let (lo, hi) = if samples[i].t_ns == t || i == 0 {
                (samples[i].x, samples[i].x)
            } else {
                (samples[i - 1].x.min(samples[i].x), samples[i - 1].x.max(samples[i].x))
            };
            prop_assert!(v[0] >= lo - 1e-4 && v[0] <= hi + 1e-4);
        }
    }

    #[test]
    fn any_timestamps_are_counted_exactly_once_and_never_panic(
        steps in prop::collection::vec((-2 * MAX_GAP_NS)..(2 * MAX_GAP_NS), 1..300),
        nan_every in 2usize..50,
    ) {
        let mut t = 0i64;
        let samples: Vec<Sample> = steps.iter().enumerate().map(|(i, s)| {
            t += s;
            let x = if i % nan_every == 0 { f32::NAN } else { 1.0 };
            Sample::new(t, x, 0.0, 0.0)
        }).collect();
        let (out, c) = run(&samples);
        let total = c.accepted + c.non_finite + c.out_of_range + c.duplicates + c.reordered;
        prop_assert_eq!(total as usize, samples.len());
        prop_assert!(c.resets + c.gaps <= c.accepted);
        // Within a segment grid indices strictly increase; they only go down after a reset.
        let downs = out.windows(2).filter(|w| w[1].0 <= w[0].0).count() as u64;
        prop_assert!(downs <= c.resets);
        prop_assert!(out.iter().all(|(_, v)| v.iter().all(|x| x.is_finite())));
    }

    #[test]
    fn extreme_timestamps_are_rejected_or_handled_without_overflow(
        ts in prop::collection::vec(prop_oneof![
            any::<i64>(),
            Just(i64::MIN),
            Just(i64::MAX),
            Just(MAX_ABS_T_NS - 1),
            Just(1 - MAX_ABS_T_NS),
            (MAX_ABS_T_NS - 3 * MAX_GAP_NS)..MAX_ABS_T_NS,
        ], 1..100),
    ) {
        let samples: Vec<Sample> = ts.iter().map(|&t| Sample::new(t, 1.0, 2.0, 3.0)).collect();
        let (out, c) = run(&samples);
        let outside = ts.iter().filter(|t| t.unsigned_abs() >= MAX_ABS_T_NS.unsigned_abs()).count();
        prop_assert_eq!(c.out_of_range as usize, outside);
        let total = c.accepted + c.out_of_range + c.duplicates + c.reordered;
        prop_assert_eq!(total as usize, samples.len());
        prop_assert!(out.iter().all(|(k, _)| k.unsigned_abs() <= (MAX_ABS_T_NS / GRID_PERIOD_NS) as u64 + 1));
    }

    #[test]
    fn small_reorders_never_move_the_grid_backwards(
        ts in increasing(),
        swaps in prop::collection::vec(0usize..200, 0..20),
    ) {
        let mut samples: Vec<Sample> = ts.iter().map(|&t| Sample::new(t, 0.0, 0.0, 0.0)).collect();
        for i in swaps {
            if i + 1 < samples.len() && samples[i + 1].t_ns - samples[i].t_ns <= REORDER_TOLERANCE_NS {
                samples.swap(i, i + 1);
            }
        }
        let (out, c) = run(&samples);
        prop_assert_eq!(c.resets, 0);
        prop_assert!(out.windows(2).all(|w| w[1].0 > w[0].0));
    }
}

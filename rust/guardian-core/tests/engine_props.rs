//! Property test of the whole engine under hostile input: any timestamps (including the i64
//! extremes), NaN, infinite and huge values, both sensors in any order, and every call a host
//! can make, in any order. The engine must never panic (this runs with overflow checks), must
//! account for every sample, keep its queue bounded and refuse everything after `stop`.
//!
//! The scorer here is a plain function of the window (its largest input value): this test is
//! about the state machine and the bookkeeping, not about the model, which the CLI crate's
//! integration tests run in the real runtime.

use guardian_core::engine::EVENT_QUEUE;
use guardian_core::{
    DetectorConfig, Engine, EngineError, ModelCard, Sample, ScoreError, Scorer, Sensor, SensorSet,
};
use proptest::prelude::*;

const CARD: &str = include_str!("../../../models/model_card.json");

/// The window's largest value as the raw output: high-energy windows score high.
struct LargestValue;

impl Scorer for LargestValue {
    fn score(&mut self, input: &[i8]) -> Result<i8, ScoreError> {
        Ok(input.iter().copied().max().unwrap_or(-128))
    }
}

#[derive(Debug, Clone)]
enum Op {
    Push(Sensor, Vec<Sample>),
    Tick(i64),
    Cancel(i64),
    Confirm(i64),
    Finish,
    Stop,
}

fn value() -> impl Strategy<Value = f32> {
    prop_oneof![
        8 => -40.0f32..40.0,
        1 => Just(f32::NAN),
        1 => Just(f32::INFINITY),
        1 => Just(-f32::MAX),
    ]
}

fn step() -> impl Strategy<Value = i64> {
    prop_oneof![
        20 => 0i64..25_000_000,
        2 => -200_000_000i64..0,
        1 => Just(0i64),
        1 => 1_000_000_000i64..3_000_000_000,
        1 => any::<i64>(),
    ]
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let batch = prop::collection::vec((step(), value(), value(), value()), 0..120);
    let op = prop_oneof![
        12 => (any::<bool>(), batch).prop_map(|(acc, b)| {
            let sensor = if acc { Sensor::Acc } else { Sensor::Gyro };
            Op::Push(sensor, b.into_iter().map(|(t, x, y, z)| Sample::new(t, x, y, z)).collect())
        }),
        1 => any::<i64>().prop_map(Op::Tick),
        1 => any::<i64>().prop_map(Op::Cancel),
        1 => any::<i64>().prop_map(Op::Confirm),
        1 => Just(Op::Finish),
        1 => Just(Op::Stop),
    ];
    prop::collection::vec(op, 1..60)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hostile_input_never_panics_and_every_sample_is_accounted_for(
        ops in ops(),
        acc_only in any::<bool>(),
        start in any::<i64>(),
    ) {
        let card: ModelCard = serde_json::from_str(CARD).expect("card");
        let sensors = if acc_only { SensorSet::AccOnly } else { SensorSet::Full };
        let cfg = DetectorConfig { impact_trigger: false, ..DetectorConfig::default() };
        let mut e = Engine::new(&card, sensors, &cfg, Box::new(LargestValue)).expect("engine");
        let (mut clock, mut stopped) = (start, false);
        let mut pushed = [0u64; 2];
        for op in ops {
            let result = match op {
                Op::Push(sensor, mut samples) => {
                    // Steps are relative: a random walk of the clock, with jumps.
                    for s in &mut samples {
                        clock = clock.wrapping_add(s.t_ns);
                        s.t_ns = clock;
                    }
                    let r = e.push(sensor, &samples);
                    if !stopped {
                        pushed[usize::from(sensor == Sensor::Gyro)] += samples.len() as u64;
                    }
                    r.map(|_| ())
                }
                Op::Tick(t) => e.tick(t),
                Op::Cancel(t) => e.cancel_alert(t).map(|_| ()),
                Op::Confirm(t) => e.confirm_alert(t).map(|_| ()),
                Op::Finish => e.finish(),
                Op::Stop => {
                    e.stop();
                    stopped = true;
                    Ok(())
                }
            };
            if stopped {
                prop_assert!(matches!(result, Ok(()) | Err(EngineError::Stopped)));
            } else {
                prop_assert_eq!(result, Ok(()));
            }
            prop_assert!(e.drain_events().count() <= EVENT_QUEUE);
        }
        if stopped {
            prop_assert_eq!(e.push(Sensor::Acc, &[Sample::new(0, 0.0, 9.8, 0.0)]), Err(EngineError::Stopped));
        }
        let st = e.stats();
        let seen = |c: &guardian_core::IngestCounters| {
            c.accepted + c.non_finite + c.out_of_range + c.duplicates + c.reordered
        };
        prop_assert_eq!(seen(&st.acc), pushed[0]);
        match sensors {
            SensorSet::Full => prop_assert_eq!(seen(&st.gyro), pushed[1]),
            SensorSet::AccOnly => prop_assert_eq!(st.gyro_ignored, pushed[1]),
        }
        prop_assert!(st.detector.scored <= st.detector.windows);
        prop_assert!(st.frames <= st.acc.accepted * 60 + 1);
    }
}

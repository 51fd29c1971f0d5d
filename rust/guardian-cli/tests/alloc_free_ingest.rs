//! Steady-state ingest allocates nothing: a counting global allocator around the real engine.

use guardian_cli::bundle::{load_litert, quiet_engine, ModelBundle, Runtime};
use guardian_core::{DetectorConfig, Sensor, SensorSet};
use guardian_synth::Scenario;
use guardian_testkit::{allocations, CountingAllocator};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

#[test]
fn steady_state_ingest_and_inference_do_not_allocate() {
    let bundle = ModelBundle::embedded().expect("embedded");
    let lib = load_litert(None).expect("lib");
    // The model on every window, so inference is part of the steady state too.
    let cfg = DetectorConfig {
        impact_trigger: false,
        ..DetectorConfig::default()
    };
    let mut engine =
        quiet_engine(&bundle, &Runtime::LiteRt(lib), SensorSet::Full, &cfg).expect("engine");
    let mut s = Scenario::new(9, 0);
    s.walk(120.0).jog(60.0).walk(120.0);
    let rec = s.render();
    let half = rec.acc.len() / 2;
    let gyro_half = rec.gyro.partition_point(|g| g.t_ns < rec.acc[half].t_ns);
    // Warm up: first windows, first invoke.
    engine
        .push(Sensor::Acc, &rec.acc[..half / 4])
        .expect("push");
    engine
        .push(Sensor::Gyro, &rec.gyro[..gyro_half / 4])
        .expect("push");
    let before = allocations();
    let scored_before = engine.stats().detector.scored;
    let (mut i, mut j) = (half / 4, gyro_half / 4);
    while i < rec.acc.len() {
        let ni = (i + 20).min(rec.acc.len());
        let t = rec.acc[ni - 1].t_ns;
        let nj = j + rec.gyro[j..].partition_point(|g| g.t_ns <= t);
        engine.push(Sensor::Acc, &rec.acc[i..ni]).expect("push");
        engine.push(Sensor::Gyro, &rec.gyro[j..nj]).expect("push");
        while engine.poll_event().is_some() {}
        (i, j) = (ni, nj);
    }
    let allocations = allocations() - before;
    let scored = engine.stats().detector.scored - scored_before;
    assert!(scored > 500, "the model ran on {scored} windows");
    assert_eq!(
        allocations, 0,
        "{allocations} allocations over {scored} model runs"
    );
}

//! Criterion benchmarks of the engine on the real runtime and shipped model:
//! `cargo bench -p guardian-cli` (needs libLiteRt.so: `make litert`).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use guardian_cli::bundle::{load_litert, quiet_engine, quiet_scorer, ModelBundle, Runtime};
use guardian_core::{DetectorConfig, Engine, Sensor, SensorSet};
use guardian_synth::{Recording, Scenario};

/// Pushes one hop (0.5 s) of `rec` per call, cycling; a fresh engine when the data runs out.
struct Feeder {
    rec: Recording,
    i: usize,
    j: usize,
}

impl Feeder {
    fn hop(&mut self, engine: &mut Engine) {
        if self.i + 100 >= self.rec.acc.len() {
            self.i = 0;
            self.j = 0;
        }
        let ni = self.i + 50;
        let t = self.rec.acc[ni - 1].t_ns;
        // A forward scan over this hop's gyroscope samples only (a binary search over the rest
        // of the recording would cost more cache misses than the engine's own work).
        let nj = self.j
            + self.rec.gyro[self.j..]
                .iter()
                .position(|g| g.t_ns > t)
                .unwrap_or(self.rec.gyro.len() - self.j);
        let _ = engine.push(Sensor::Acc, &self.rec.acc[self.i..ni]);
        let _ = engine.push(Sensor::Gyro, &self.rec.gyro[self.j..nj]);
        while engine.poll_event().is_some() {}
        (self.i, self.j) = (ni, nj);
    }
}

fn benches(c: &mut Criterion) {
    let bundle = ModelBundle::embedded().expect("embedded models");
    let lib = load_litert(None).expect("libLiteRt.so (make litert)");
    let mut walking = Scenario::new(3, 0);
    walking.walk(600.0);
    let rec = walking.render();

    let mut scorer = quiet_scorer(&bundle, &lib, SensorSet::Full).expect("scorer");
    let input = vec![0i8; scorer.input_len()];
    c.bench_function("bare_invoke", |b| {
        b.iter(|| scorer.invoke_raw(&input).expect("invoke"))
    });

    let mut g = c.benchmark_group("per_window");
    g.throughput(Throughput::Elements(1));
    for (name, trigger) in [
        ("trigger_off_model_every_window", false),
        ("trigger_on", true),
    ] {
        let cfg = DetectorConfig {
            impact_trigger: trigger,
            ..DetectorConfig::default()
        };
        let runtime = Runtime::LiteRt(lib.clone());
        let mut engine = quiet_engine(&bundle, &runtime, SensorSet::Full, &cfg).expect("engine");
        let mut feeder = Feeder {
            rec: rec.clone(),
            i: 0,
            j: 0,
        };
        for _ in 0..10 {
            feeder.hop(&mut engine);
        }
        g.bench_function(name, |b| b.iter(|| feeder.hop(&mut engine)));
    }
    g.finish();
}

criterion_group!(engine, benches);
criterion_main!(engine);

//! The shipped models in the real LiteRT library, on generated recordings with known truth.

use guardian_cli::bundle::{load_litert, quiet_engine, ModelBundle, Runtime};
use guardian_cli::demo::{compare, feed};
use guardian_core::{DetectorConfig, EngineError, Event, Sample, Sensor, SensorSet};
use guardian_synth::{FallKind, Scenario, SensorModel};

fn engine(sensors: SensorSet) -> guardian_core::Engine {
    let bundle = ModelBundle::embedded().expect("embedded models");
    let lib = load_litert(None).expect("libLiteRt.so (run `make litert`)");
    quiet_engine(
        &bundle,
        &Runtime::LiteRt(lib),
        sensors,
        &DetectorConfig::default(),
    )
    .expect("engine")
}

fn falls_scenario(seed: u64) -> Scenario {
    let mut s = Scenario::new(seed, 5_000_000_000);
    s.still(5.0);
    for kind in [
        FallKind::Forward,
        FallKind::Backward,
        FallKind::Sideways,
        FallKind::Faint,
    ] {
        s.walk(20.0).fall(kind, 40.0).get_up();
    }
    s.walk(20.0);
    s
}

fn daily_scenario(seed: u64) -> Scenario {
    let mut s = Scenario::new(seed, 5_000_000_000);
    s.still(10.0)
        .walk(600.0)
        .stairs(60.0)
        .walk(120.0)
        .jog(300.0)
        .walk(60.0);
    s.lie_down(120.0)
        .get_up()
        .walk(60.0)
        .still(120.0)
        .walk(300.0);
    s
}

#[test]
fn every_generated_fall_is_caught_within_five_seconds_by_both_models() {
    for sensors in [SensorSet::Full, SensorSet::AccOnly] {
        for seed in [1, 2, 3] {
            let rec = falls_scenario(seed).render();
            let mut e = engine(sensors);
            let mut events = Vec::new();
            feed(&mut e, &rec, |ev| events.push(ev)).expect("feed");
            let cmp = compare(&rec, &events);
            assert_eq!(cmp.falls, 4);
            assert_eq!(
                cmp.falls_detected,
                4,
                "{sensors:?} seed {seed}: {:#?}\n{:?}",
                cmp.detections,
                e.stats()
            );
            assert_eq!(
                cmp.false_alarms, 0,
                "{sensors:?} seed {seed}: {:#?}",
                cmp.detections
            );
            for d in &cmp.detections {
                assert!(d.latency_s > 0.0 && d.latency_s <= 5.0, "latency {d:?}");
            }
        }
    }
}

#[test]
fn walking_stairs_jogging_and_lying_down_raise_no_alarm() {
    for sensors in [SensorSet::Full, SensorSet::AccOnly] {
        let rec = daily_scenario(11).render();
        let mut e = engine(sensors);
        let mut events = Vec::new();
        feed(&mut e, &rec, |ev| events.push(ev)).expect("feed");
        let falls: Vec<&Event> = events
            .iter()
            .filter(|e| matches!(e, Event::Fall(_)))
            .collect();
        assert!(falls.is_empty(), "{sensors:?}: {falls:?}");
        // The impact trigger did fire (jogging), so the model was exercised and said no.
        assert!(e.stats().detector.scored > 0, "{:?}", e.stats());
    }
}

#[test]
fn a_phone_without_gyroscope_at_a_low_jittery_rate_still_catches_falls() {
    let phone = SensorModel {
        acc_hz: 40.0,
        gyro_hz: 0.0,
        jitter: 0.3,
        ..SensorModel::default()
    };
    let rec = falls_scenario(5).with_sensors(phone).render();
    assert!(rec.gyro.is_empty());
    let mut e = engine(SensorSet::AccOnly);
    let mut events = Vec::new();
    feed(&mut e, &rec, |ev| events.push(ev)).expect("feed");
    let cmp = compare(&rec, &events);
    assert_eq!(cmp.falls_detected, 4, "{:#?}", cmp.detections);
}

#[test]
fn push_after_stop_is_a_typed_error_and_consumes_nothing() {
    let mut e = engine(SensorSet::Full);
    let s = [
        Sample::new(0, 0.0, 9.8, 0.0),
        Sample::new(10_000_000, 0.0, 9.8, 0.0),
    ];
    e.push(Sensor::Acc, &s).expect("push");
    let before = e.stats();
    e.stop();
    assert_eq!(e.push(Sensor::Acc, &s), Err(EngineError::Stopped));
    assert_eq!(e.tick(1), Err(EngineError::Stopped));
    assert_eq!(e.stats(), before);
}

#[test]
fn nan_and_infinite_samples_are_rejected_and_counted() {
    let mut e = engine(SensorSet::Full);
    let s = [
        Sample::new(0, 0.0, 9.8, 0.0),
        Sample::new(10_000_000, f32::NAN, 9.8, 0.0),
        Sample::new(20_000_000, 0.0, f32::INFINITY, 0.0),
        Sample::new(30_000_000, 0.0, 9.8, 0.0),
    ];
    e.push(Sensor::Acc, &s).expect("push");
    e.push(Sensor::Gyro, &s).expect("push");
    let st = e.stats();
    assert_eq!(st.acc.non_finite, 2);
    assert_eq!(st.gyro.non_finite, 2);
    assert_eq!(st.frames, 2);
}

#[test]
fn a_model_that_does_not_match_the_card_is_refused() {
    let bundle = ModelBundle::embedded().expect("embedded");
    let lib = load_litert(None).expect("lib");
    let full = bundle.card.model(SensorSet::Full);
    let acc_bytes = bundle.model_bytes(SensorSet::AccOnly);
    let w = bundle.card.window_frames;
    // The acc-only model's bytes under the full model's spec: the checksum catches it first...
    let err =
        guardian_litert::LiteRtScorer::from_bytes(&lib, acc_bytes, full, w).expect_err("checksum");
    assert!(err.to_string().contains("checksum"), "{err}");
    // ...and with the checksum rewritten to match, the input shape does.
    let unchecked = guardian_core::ModelSpec {
        sha256: guardian_litert::sha256_hex(acc_bytes),
        ..full.clone()
    };
    let err = guardian_litert::LiteRtScorer::from_bytes(&lib, acc_bytes, &unchecked, w)
        .expect_err("shape");
    assert!(err.to_string().contains("shape"), "{err}");
}

#[test]
fn the_user_can_ask_for_help_before_the_cancel_window_runs_out() {
    let rec = falls_scenario(4).render();
    let mut e = engine(SensorSet::Full);
    let mut events = Vec::new();
    let mut answered = false;
    feed(&mut e, &rec, |ev| events.push(ev)).expect("feed");
    // Replay up to the first alert, then answer it.
    let first = events
        .iter()
        .find_map(|ev| match ev {
            Event::Fall(f) => Some(f.confirmed_t_ns),
            _ => None,
        })
        .expect("a fall");
    let mut e = engine(SensorSet::Full);
    let mut events = Vec::new();
    let cut = |v: &[Sample]| v.partition_point(|s| s.t_ns <= first + 100_000_000);
    let (na, ng) = (cut(&rec.acc), cut(&rec.gyro));
    for (a, g) in rec.acc[..na].chunks(20).zip(rec.gyro[..ng].chunks(20)) {
        e.push(Sensor::Acc, a).expect("push");
        e.push(Sensor::Gyro, g).expect("push");
        events.extend(e.drain_events());
        if !answered && events.iter().any(|ev| matches!(ev, Event::Fall(_))) {
            assert!(e.confirm_alert(first + 1_000_000_000).expect("confirm"));
            answered = true;
        }
    }
    events.extend(e.drain_events());
    assert!(answered);
    let escalated: Vec<&Event> = events
        .iter()
        .filter(|ev| matches!(ev, Event::AlertEscalated { .. }))
        .collect();
    assert!(
        matches!(escalated[..], [Event::AlertEscalated { by_user: true, t_ns, .. }] if *t_ns == first + 1_000_000_000),
        "{events:?}"
    );
    // Answered once: neither a second confirmation nor a cancellation applies.
    assert!(!e.confirm_alert(first + 2_000_000_000).expect("confirm"));
    assert!(!e.cancel_alert(first + 2_000_000_000).expect("cancel"));
}

#[test]
fn a_silent_gyroscope_is_reported_and_so_is_its_return() {
    let mut s = Scenario::new(8, 5_000_000_000);
    s.walk(40.0);
    let rec = s.render();
    let start = rec.acc[0].t_ns;
    // The gyroscope goes silent from 5 s to 20 s into the recording.
    let gyro: Vec<Sample> = rec
        .gyro
        .iter()
        .copied()
        .filter(|g| !(start + 5_000_000_000..start + 20_000_000_000).contains(&g.t_ns))
        .collect();
    let mut e = engine(SensorSet::Full);
    let mut events = Vec::new();
    let (mut i, mut j) = (0, 0);
    for until in (1..=200).map(|n| start + n * 200_000_000) {
        let ni = i + rec.acc[i..].partition_point(|a| a.t_ns < until);
        let nj = j + gyro[j..].partition_point(|g| g.t_ns < until);
        e.push(Sensor::Acc, &rec.acc[i..ni]).expect("push");
        e.push(Sensor::Gyro, &gyro[j..nj]).expect("push");
        events.extend(e.drain_events());
        (i, j) = (ni, nj);
    }
    let health: Vec<Event> = events
        .iter()
        .copied()
        .filter(|ev| {
            matches!(
                ev,
                Event::SensorStalled { .. } | Event::SensorResumed { .. }
            )
        })
        .collect();
    let [Event::SensorStalled {
        sensor: Sensor::Gyro,
        t_ns: stalled,
    }, Event::SensorResumed {
        sensor: Sensor::Gyro,
        t_ns: resumed,
    }] = health[..]
    else {
        panic!("{health:?}");
    };
    // Noticed once the 5.12 s of accelerometer values the fusion can hold are full.
    let since_silence = (stalled - start - 5_000_000_000) as f64 * 1e-9;
    assert!((5.0..6.0).contains(&since_silence), "{since_silence}");
    let back = (resumed - start - 20_000_000_000) as f64 * 1e-9;
    assert!((0.0..0.1).contains(&back), "{back}");
    assert_eq!(e.stats().stalls, 1);
}

#[test]
fn falls_are_caught_at_every_phone_rate_from_30_to_500_hz() {
    for (acc_hz, gyro_hz, jitter) in [
        (30.0, 30.0, 0.2),
        (50.0, 100.0, 0.15),
        (200.0, 200.0, 0.1),
        (400.0, 250.0, 0.3),
        (500.0, 500.0, 0.1),
    ] {
        let phone = SensorModel {
            acc_hz,
            gyro_hz,
            jitter,
            ..SensorModel::default()
        };
        let rec = falls_scenario(6).with_sensors(phone).render();
        let mut e = engine(SensorSet::Full);
        let mut events = Vec::new();
        feed(&mut e, &rec, |ev| events.push(ev)).expect("feed");
        let cmp = compare(&rec, &events);
        assert_eq!(
            (cmp.falls_detected, cmp.false_alarms),
            (4, 0),
            "acc {acc_hz} Hz, gyro {gyro_hz} Hz: {:#?}\n{:?}",
            cmp.detections,
            e.stats()
        );
        let st = e.stats();
        assert_eq!(st.unpaired, 0, "{st:?}");
    }
}

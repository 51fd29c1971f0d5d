//! The facade from Rust, as an app uses it: the real runtime, the built-in models, synthetic
//! recordings with falls, a real journal on disk.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{batches, falls, falls_recording, options, stream, Collector};
use guardian_ffi::{
    DetectorOptions, DetectorSettings, FallDetector, GuardianError, GuardianEvent,
    GuardianListener, InputUnits, ListenerError, ModelKind, ProblemKind, SensorMode,
};

#[test]
fn falls_reach_the_listener_in_order_each_followed_by_its_outcome() {
    let rec = falls_recording(1, 3);
    let truth: Vec<i64> = rec.falls().filter_map(|f| f.impact_ns).collect();
    let d = FallDetector::new(options(SensorMode::Full)).expect("detector");
    let c = Collector::new();
    d.start(c.clone()).expect("start");
    stream(&d, &rec);
    d.stop();
    let events = c.events();
    let alerts = falls(&events);
    assert_eq!(alerts.len(), 3, "{events:#?}");
    for (a, t) in alerts.iter().zip(&truth) {
        assert!(
            (a.impact_t_ns - t).abs() < 1_000_000_000,
            "{a:?} vs impact {t}"
        );
        assert!(
            a.impact_t_ns < a.confirmed_t_ns && a.confirmed_t_ns - a.impact_t_ns < 5_000_000_000
        );
        assert!(!a.replay && a.model == ModelKind::Full && a.score > 0.5);
    }
    // Each fall is followed by its escalation (nobody answered within 30 s), in order.
    let alert_events: Vec<_> = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                GuardianEvent::Fall { .. } | GuardianEvent::AlertEscalated { .. }
            )
        })
        .collect();
    for (pair, a) in alert_events.chunks(2).zip(&alerts) {
        match pair {
            [GuardianEvent::Fall { .. }, GuardianEvent::AlertEscalated {
                alert_id,
                t_ns,
                by_user,
            }] => {
                assert_eq!(alert_id, &a.alert_id);
                assert!(!by_user);
                assert!((t_ns - a.confirmed_t_ns - 30_000_000_000).abs() < 100_000_000);
            }
            other => panic!("expected fall then escalation: {other:?}"),
        }
    }
    let ids: std::collections::HashSet<_> = alerts.iter().map(|a| &a.alert_id).collect();
    assert_eq!(ids.len(), 3, "alert ids are unique");
    let stats = d.stats();
    assert_eq!(stats.falls, 3);
    assert_eq!(stats.callback_count as usize, events.len());
    assert_eq!(d.pending_alerts().len(), 3, "nothing acknowledged yet");
}

#[test]
fn answers_are_events_and_are_journaled() {
    let rec = falls_recording(2, 2);
    let d = FallDetector::new(options(SensorMode::Full)).expect("detector");
    let c = Collector::new();
    d.start(c.clone()).expect("start");
    assert!(!d.cancel_alert().expect("no alert yet"));
    let mut answered = 0;
    for b in batches(&rec, 1_000_000_000, 1.0) {
        d.push_packed(&b).expect("push");
        if d.state().active_alert_id.is_some() {
            let ok = if answered == 0 {
                d.cancel_alert()
            } else {
                d.confirm_alert()
            };
            assert!(ok.expect("answer"));
            answered += 1;
        }
    }
    d.stop();
    assert_eq!(answered, 2);
    let events = c.events();
    let alerts = falls(&events);
    assert!(events.iter().any(|e| matches!(e,
        GuardianEvent::AlertCancelled { alert_id, .. } if *alert_id == alerts[0].alert_id)));
    assert!(events.iter().any(|e| matches!(e,
        GuardianEvent::AlertEscalated { alert_id, by_user: true, .. } if *alert_id == alerts[1].alert_id)));
    let history = d.alert_history();
    assert_eq!(
        history[0].outcome,
        Some(guardian_ffi::AlertOutcome::Cancelled)
    );
    assert_eq!(
        history[1].outcome,
        Some(guardian_ffi::AlertOutcome::EscalatedByUser)
    );
}

#[test]
fn a_throwing_listener_is_counted_and_later_events_still_arrive() {
    let rec = falls_recording(3, 2);
    let d = FallDetector::new(options(SensorMode::Full)).expect("detector");
    let c = Arc::new(Collector {
        fail_on_fall: true,
        ..Default::default()
    });
    d.start(c.clone()).expect("start");
    stream(&d, &rec);
    d.stop();
    let events = c.events();
    assert_eq!(falls(&events).len(), 2);
    assert_eq!(d.stats().listener_errors, 2);
    let problems = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                GuardianEvent::Problem {
                    kind: ProblemKind::ListenerFailed,
                    ..
                }
            )
        })
        .count();
    assert_eq!(problems, 2, "{events:#?}");
    let escalations = events
        .iter()
        .filter(|e| matches!(e, GuardianEvent::AlertEscalated { .. }))
        .count();
    assert_eq!(escalations, 2);
}

/// Blocks on every event until released.
struct Blocking {
    gate: Mutex<bool>,
    open: std::sync::Condvar,
    inner: Arc<Collector>,
}

impl GuardianListener for Blocking {
    fn on_event(&self, event: GuardianEvent) -> Result<(), ListenerError> {
        let mut g = self.gate.lock().expect("lock");
        while !*g {
            g = self.open.wait(g).expect("wait");
        }
        self.inner.on_event(event)
    }
}

#[test]
fn a_blocked_listener_never_blocks_pushes_nor_loses_alerts() {
    let rec = falls_recording(4, 3);
    let d = FallDetector::new(options(SensorMode::Full)).expect("detector");
    let inner = Collector::new();
    let l = Arc::new(Blocking {
        gate: Mutex::new(false),
        open: Default::default(),
        inner: inner.clone(),
    });
    d.start(l.clone()).expect("start");
    let t = Instant::now();
    stream(&d, &rec);
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "pushes waited on the listener"
    );
    assert!(inner.events().is_empty());
    *l.gate.lock().expect("lock") = true;
    l.open.notify_all();
    let events = inner.wait_for(|e| falls(e).len() == 3);
    d.stop();
    assert_eq!(falls(&events).len(), 3);
    assert_eq!(d.stats().dropped_events, 0);
}

#[test]
fn unacknowledged_alerts_are_delivered_again_after_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = DetectorOptions {
        journal_dir: Some(dir.path().display().to_string()),
        ..options(SensorMode::Full)
    };
    let first = {
        let d = FallDetector::new(opts.clone()).expect("detector");
        let c = Collector::new();
        d.start(c.clone()).expect("start");
        stream(&d, &falls_recording(5, 2));
        d.stop();
        let alerts = c.falls();
        assert!(d.acknowledge(alerts[0].alert_id.clone()).expect("ack"));
        alerts
    };
    // A new process: the second alert was not acknowledged.
    let d = FallDetector::new(opts.clone()).expect("detector");
    assert_eq!(d.pending_alerts().len(), 1);
    let c = Collector::new();
    d.start(c.clone()).expect("start");
    let events = c.wait_for(|e| e.len() >= 2);
    match &events[..2] {
        [GuardianEvent::Fall { alert }, GuardianEvent::AlertEscalated {
            alert_id,
            by_user: false,
            ..
        }] => {
            assert!(alert.replay);
            assert_eq!(alert.alert_id, first[1].alert_id);
            assert_eq!(alert.impact_t_ns, first[1].impact_t_ns);
            assert_eq!(alert_id, &first[1].alert_id);
        }
        other => panic!("expected the replayed alert and its outcome: {other:?}"),
    }
    assert!(d.acknowledge(first[1].alert_id.clone()).expect("ack"));
    d.stop();
    drop(d);
    let d = FallDetector::new(opts).expect("detector");
    let c = Collector::new();
    d.start(c.clone()).expect("start");
    d.stop();
    assert!(
        c.events().is_empty(),
        "acknowledged alerts are not delivered again"
    );
    assert_eq!(d.alert_history().len(), 2);
}

#[test]
fn an_alert_replayed_without_outcome_can_still_be_answered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = DetectorOptions {
        journal_dir: Some(dir.path().display().to_string()),
        ..options(SensorMode::Full)
    };
    let rec = falls_recording(6, 1);
    let alert = {
        let d = FallDetector::new(opts.clone()).expect("detector");
        let c = Collector::new();
        d.start(c.clone()).expect("start");
        for b in batches(&rec, 1_000_000_000, 1.0) {
            d.push_packed(&b).expect("push");
            if d.state().active_alert_id.is_some() {
                break; // the process dies while the alert is shown
            }
        }
        d.stop();
        c.falls().remove(0)
    };
    let d = FallDetector::new(opts).expect("detector");
    let c = Collector::new();
    d.start(c.clone()).expect("start");
    assert!(d.cancel_alert().expect("I'm OK"));
    let events = c.wait_for(|e| e.len() >= 2);
    assert!(
        matches!(&events[1], GuardianEvent::AlertCancelled { alert_id, .. } if *alert_id == alert.alert_id)
    );
    assert!(!d.cancel_alert().expect("nothing left"));
    d.stop();
}

#[test]
fn every_bad_input_is_a_typed_error_that_says_what_to_do() {
    let d = FallDetector::new(options(SensorMode::Full)).expect("detector");
    let e = d
        .push_sample(guardian_ffi::SensorKind::Accelerometer, 1, 0.0, 0.0, 9.8)
        .expect_err("not started");
    assert!(
        matches!(e, GuardianError::NotRunning) && e.to_string().contains("start(listener)"),
        "{e}"
    );
    d.start(Collector::new()).expect("start");
    assert!(matches!(
        d.start(Collector::new()),
        Err(GuardianError::AlreadyRunning)
    ));
    let e = d
        .push_accelerometer(vec![1, 2], vec![0.0; 2], vec![0.0], vec![0.0; 2])
        .expect_err("lengths");
    assert!(
        matches!(e, GuardianError::InvalidBatch(_))
            && e.to_string().contains("nothing of this batch"),
        "{e}"
    );
    let e = d
        .push_gyroscope(vec![1], vec![f32::NAN], vec![0.0], vec![0.0])
        .expect_err("NaN");
    assert!(matches!(e, GuardianError::InvalidBatch(_)), "{e}");
    assert!(matches!(
        d.push_packed(&[1, 2, 3]),
        Err(GuardianError::InvalidBatch(_))
    ));
    assert_eq!(
        d.stats().acc_samples + d.stats().gyro_samples,
        0,
        "refused batches are not used"
    );
    d.stop();
    assert!(matches!(
        d.push_packed(&common::pack(&[], &[], 1.0)),
        Err(GuardianError::NotRunning)
    ));
    assert!(matches!(d.tick(5), Err(GuardianError::NotRunning)));

    let bad = |o: DetectorOptions| FallDetector::new(o).err().expect("refused");
    let e = bad(DetectorOptions {
        settings: DetectorSettings {
            threshold: Some(5.0),
            ..Default::default()
        },
        ..Default::default()
    });
    assert!(
        matches!(e, GuardianError::ConfigInvalid(_)) && e.to_string().contains("threshold"),
        "{e}"
    );
    let e = bad(DetectorOptions {
        runtime_library_path: Some("/nonexistent/libLiteRt.so".into()),
        ..Default::default()
    });
    assert!(
        matches!(e, GuardianError::RuntimeLibraryMissing(_))
            && e.to_string().contains("libLiteRt.so"),
        "{e}"
    );
    let e = bad(DetectorOptions {
        model_card_path: Some("/nonexistent/model_card.json".into()),
        ..Default::default()
    });
    assert!(matches!(e, GuardianError::CardInvalid(_)), "{e}");
    let file = tempfile::NamedTempFile::new().expect("file");
    let e = bad(DetectorOptions {
        journal_dir: Some(file.path().display().to_string()),
        ..Default::default()
    });
    assert!(
        matches!(e, GuardianError::Journal(_)) && e.to_string().contains("writable"),
        "{e}"
    );
}

#[test]
fn core_motion_units_give_the_same_falls_as_android_units() {
    let rec = falls_recording(7, 2);
    let run = |units: InputUnits, scale: f32| {
        let d = FallDetector::new(DetectorOptions {
            units: Some(units),
            ..options(SensorMode::Full)
        })
        .expect("detector");
        let c = Collector::new();
        d.start(c.clone()).expect("start");
        for b in batches(&rec, 1_000_000_000, scale) {
            d.push_packed(&b).expect("push");
        }
        d.stop();
        c.falls()
            .iter()
            .map(|a| (a.impact_t_ns, a.confirmed_t_ns))
            .collect::<Vec<_>>()
    };
    let android = run(InputUnits::Android, 1.0);
    // CoreMotion reports g with the opposite sign: what the phone's CoreMotion would give.
    let core_motion = run(
        InputUnits::CoreMotion,
        -1.0 / guardian_core::STANDARD_GRAVITY,
    );
    assert_eq!(android.len(), 2);
    assert_eq!(android, core_motion);
}

#[test]
fn auto_mode_runs_the_accelerometer_model_while_the_gyroscope_is_silent() {
    let mut rec = falls_recording(8, 2);
    // The gyroscope is silent from 10 s before the first fall's walk ends to the end of it.
    let cut = rec.falls().next().and_then(|f| f.impact_ns).expect("fall") - 15_000_000_000;
    let resume = rec.falls().nth(1).and_then(|f| f.impact_ns).expect("fall") - 15_000_000_000;
    rec.gyro.retain(|s| s.t_ns < cut || s.t_ns >= resume);
    let d = FallDetector::new(options(SensorMode::Auto)).expect("detector");
    let c = Collector::new();
    d.start(c.clone()).expect("start");
    stream(&d, &rec);
    d.stop();
    let events = c.events();
    let models: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            GuardianEvent::ModelChanged { model, .. } => Some(*model),
            GuardianEvent::Fall { alert } => Some(alert.model),
            _ => None,
        })
        .collect();
    assert_eq!(
        models,
        [
            ModelKind::AccOnly,
            ModelKind::AccOnly,
            ModelKind::Full,
            ModelKind::Full
        ],
        "switch, fall on acc_only, switch back, fall on full: {events:#?}"
    );
}

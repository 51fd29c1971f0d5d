//! Shared by the facade's tests: a collecting listener, recordings with falls, packing.

#![allow(dead_code)] // each test binary uses a different part

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use guardian_core::Sample;
use guardian_ffi::{
    DetectorOptions, FallDetector, GuardianEvent, GuardianListener, ListenerError, SensorMode,
};
use guardian_synth::{FallKind, Recording, Scenario};

/// Collects every event; optionally fails on falls.
#[derive(Default)]
pub struct Collector {
    pub events: Mutex<Vec<GuardianEvent>>,
    pub changed: Condvar,
    pub fail_on_fall: bool,
}

impl GuardianListener for Collector {
    fn on_event(&self, event: GuardianEvent) -> Result<(), ListenerError> {
        let is_fall = matches!(event, GuardianEvent::Fall { .. });
        self.events.lock().expect("lock").push(event);
        self.changed.notify_all();
        if is_fall && self.fail_on_fall {
            return Err(ListenerError::Failed("the app's handler threw".into()));
        }
        Ok(())
    }
}

impl Collector {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn events(&self) -> Vec<GuardianEvent> {
        self.events.lock().expect("lock").clone()
    }

    /// Waits until `pred` holds for the events (at most 10 s).
    pub fn wait_for(&self, pred: impl Fn(&[GuardianEvent]) -> bool) -> Vec<GuardianEvent> {
        let mut g = self.events.lock().expect("lock");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !pred(&g) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            assert!(!left.is_zero(), "timed out; events so far: {:#?}", *g);
            g = self.changed.wait_timeout(g, left).expect("wait").0;
        }
        g.clone()
    }

    pub fn falls(&self) -> Vec<guardian_ffi::FallAlert> {
        falls(&self.events())
    }
}

pub fn falls(events: &[GuardianEvent]) -> Vec<guardian_ffi::FallAlert> {
    events
        .iter()
        .filter_map(|e| match e {
            GuardianEvent::Fall { alert } => Some(alert.clone()),
            _ => None,
        })
        .collect()
}

/// `n` falls, each after 20 s of walking, lying 40 s (so each alert escalates on timeout).
pub fn falls_recording(seed: u64, n: usize) -> Recording {
    let kinds = [
        FallKind::Forward,
        FallKind::Backward,
        FallKind::Sideways,
        FallKind::Faint,
    ];
    let mut s = Scenario::new(seed, 5_000_000_000);
    for i in 0..n {
        s.walk(20.0).fall(kinds[i % kinds.len()], 40.0).get_up();
    }
    s.walk(20.0);
    s.render()
}

/// Options with the built-in models and `mode`.
pub fn options(mode: SensorMode) -> DetectorOptions {
    DetectorOptions {
        sensors: Some(mode),
        ..DetectorOptions::default()
    }
}

/// The packed layout of `push_packed`.
pub fn pack(acc: &[Sample], gyro: &[Sample], scale: f32) -> Vec<u8> {
    let mut b = Vec::with_capacity(8 + 20 * (acc.len() + gyro.len()));
    b.extend((acc.len() as u32).to_le_bytes());
    b.extend((gyro.len() as u32).to_le_bytes());
    for (s, k) in acc
        .iter()
        .map(|s| (s, scale))
        .chain(gyro.iter().map(|s| (s, 1.0)))
    {
        b.extend(s.t_ns.to_le_bytes());
        for v in [s.x, s.y, s.z] {
            b.extend((v * k).to_le_bytes());
        }
    }
    b
}

/// Packed batches of `batch_ns` of both sensors, in time order.
pub fn batches(rec: &Recording, batch_ns: i64, acc_scale: f32) -> Vec<Vec<u8>> {
    let (Some(first), Some(last)) = (rec.acc.first(), rec.acc.last()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let (mut ia, mut ig) = (0, 0);
    let mut end = first.t_ns + batch_ns;
    while ia < rec.acc.len() || ig < rec.gyro.len() {
        let a0 = ia;
        while ia < rec.acc.len() && rec.acc[ia].t_ns < end {
            ia += 1;
        }
        let g0 = ig;
        while ig < rec.gyro.len() && rec.gyro[ig].t_ns < end {
            ig += 1;
        }
        out.push(pack(&rec.acc[a0..ia], &rec.gyro[g0..ig], acc_scale));
        end += batch_ns;
        if end > last.t_ns + 2 * batch_ns && ia == rec.acc.len() && ig == rec.gyro.len() {
            break;
        }
    }
    out
}

/// Streams `rec` in 1 s batches, then ticks 40 s past its end so every alert ends.
pub fn stream(d: &FallDetector, rec: &Recording) {
    for b in batches(rec, 1_000_000_000, 1.0) {
        d.push_packed(&b).expect("push");
    }
    let end = rec.acc.last().map_or(0, |s| s.t_ns);
    d.tick(end + 40_000_000_000).expect("tick");
}

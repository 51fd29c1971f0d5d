//! `FallDetector`: the object apps hold.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use guardian_core::{
    DetectorConfig, DetectorPhase, Engine, EngineError, EngineStats, Event, Sample, Sensor,
    SensorSet,
};
use guardian_journal::{crash_point, Alert, Journal, Outcome};
use guardian_runtime::{load_runtime, ModelBundle, Runtime, RuntimeKind};

use crate::delivery::{Delivery, GuardianListener, Shared};
use crate::{
    packed, AlertOutcome, AlertRecord, DetectorOptions, DetectorState, DetectorStats, FallAlert,
    GuardianError, GuardianEvent, InputUnits, ModelKind, ProblemKind, SensorMode,
};

/// Guardian's fall detector. Build it once, `start` it with a listener, push sensor batches
/// from any thread; events arrive on Guardian's delivery thread. Thread-safe; `close()`
/// (Kotlin) or releasing it (Swift) stops it and joins its thread.
#[derive(uniffi::Object)]
pub struct FallDetector {
    state: Mutex<State>,
    shared: Arc<Shared>,
    delivery: Mutex<Option<Delivery>>,
    /// The id of [`Self::fast_path_id`], 0 until asked for.
    fast_path: std::sync::atomic::AtomicI64,
}

/// Everything behind the detector's lock.
struct State {
    bundle: ModelBundle,
    lib: Runtime,
    config: DetectorConfig,
    mode: SensorMode,
    acc_scale: f32,
    engine: Engine,
    /// Counters of engines replaced by `Auto` switches.
    retired: DetectorStats,
    journal: Journal,
    /// The alert the engine is alerting on: id and impact instant.
    active: Option<(String, i64)>,
    last_t_ns: Option<i64>,
    falls: u64,
    acc: Vec<Sample>,
    gyro: Vec<Sample>,
    /// Set between `start` and `stop`.
    tx: Option<crossbeam_channel::Sender<crate::delivery::Message>>,
}

#[uniffi::export]
impl FallDetector {
    /// Builds a detector: loads the runtime library and the models, checks the settings,
    /// opens the alert journal. Nothing runs until [`Self::start`].
    #[uniffi::constructor]
    pub fn new(options: DetectorOptions) -> Result<Arc<Self>, GuardianError> {
        crate::logging::init();
        let bundle = ModelBundle::load(options.model_card_path.as_deref().map(Path::new))?;
        let lib = load_runtime(
            RuntimeKind::platform_default(),
            options.runtime_library_path.as_deref().map(Path::new),
        )?;
        let config = options.settings.to_config();
        let mode = options.sensors.unwrap_or(SensorMode::Auto);
        let first = match mode {
            SensorMode::Auto | SensorMode::Full => SensorSet::Full,
            SensorMode::AccOnly => SensorSet::AccOnly,
        };
        if mode == SensorMode::Auto {
            // Auto may switch to the other model later: refuse now what it would refuse then.
            bundle.engine(&lib, SensorSet::AccOnly, &config)?;
        }
        let engine = bundle.engine(&lib, first, &config)?;
        let shared = Arc::new(Shared::default());
        let journal = match &options.journal_dir {
            None => Journal::in_memory(),
            Some(dir) => {
                let (journal, report) = Journal::open(Path::new(dir))
                    .map_err(|e| GuardianError::Journal(e.to_string()))?;
                if let Some((aside, reason)) = report.set_aside {
                    shared.queue_problem(
                        ProblemKind::JournalCorrupt,
                        format!(
                            "the alert journal was corrupt ({reason}); it was moved to {} and a \
                             new one started: alerts in it are not delivered again",
                            aside.display()
                        ),
                    );
                }
                journal
            }
        };
        Ok(Arc::new(Self {
            state: Mutex::new(State {
                bundle,
                lib,
                config,
                mode,
                acc_scale: packed::acc_scale(options.units.unwrap_or(InputUnits::Android)),
                engine,
                retired: DetectorStats::default(),
                journal,
                active: None,
                last_t_ns: None,
                falls: 0,
                acc: Vec::new(),
                gyro: Vec::new(),
                tx: None,
            }),
            shared,
            delivery: Mutex::new(None),
            fast_path: 0.into(),
        }))
    }

    /// The id of this detector for the JNI push fast path (Kotlin `dev.guardian.NativePush`),
    /// valid while the detector lives; on iOS there is no such path and it returns 0.
    pub fn fast_path_id(self: Arc<Self>) -> i64 {
        #[cfg(all(unix, not(target_os = "ios")))]
        {
            use std::sync::atomic::Ordering;
            let id = self.fast_path.load(Ordering::SeqCst);
            if id != 0 {
                return id;
            }
            let id = crate::jni_push::register(&self);
            match self
                .fast_path
                .compare_exchange(0, id, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => id,
                Err(existing) => {
                    crate::jni_push::unregister(id);
                    existing
                }
            }
        }
        #[cfg(not(all(unix, not(target_os = "ios"))))]
        0
    }

    /// Starts delivering events to `listener` on Guardian's delivery thread and accepting
    /// samples. First delivers again every journaled alert the app has not acknowledged
    /// (`replay = true`), with its outcome if it had one.
    pub fn start(&self, listener: Arc<dyn GuardianListener>) -> Result<(), GuardianError> {
        let mut delivery = lock(&self.delivery);
        if delivery.is_some() {
            return Err(GuardianError::AlreadyRunning);
        }
        let started = Delivery::start(self.shared.clone(), listener)
            .map_err(|e| GuardianError::Internal(format!("cannot start a thread: {e}")))?;
        let mut st = self.lock();
        let tx = started.sender().clone();
        self.shared.flush_to(&tx);
        for entry in st.journal.pending() {
            let alert = fall_alert(&entry.alert, true);
            let alert_id = alert.alert_id.clone();
            self.shared.send(GuardianEvent::Fall { alert }, &tx);
            if let Some((outcome, t_ns)) = entry.outcome {
                self.shared
                    .send(outcome_event(alert_id, outcome, t_ns), &tx);
            }
        }
        st.tx = Some(tx);
        *delivery = Some(started);
        Ok(())
    }

    /// Stops accepting samples, delivers every queued event, and ends the delivery thread.
    /// `start` may be called again. Does nothing if not running.
    pub fn stop(&self) {
        let mut delivery = lock(&self.delivery);
        self.lock().tx = None;
        if let Some(d) = delivery.take() {
            d.stop(&self.shared);
        }
    }

    /// Pushes accelerometer samples: timestamps (ns, one monotonic clock shared with the
    /// gyroscope) and values in the detector's `units`, as columns of equal length.
    pub fn push_accelerometer(
        &self,
        t_ns: Vec<i64>,
        x: Vec<f32>,
        y: Vec<f32>,
        z: Vec<f32>,
    ) -> Result<(), GuardianError> {
        self.push_columns(Sensor::Acc, &t_ns, &x, &y, &z)
    }

    /// Pushes gyroscope samples (rad/s), as [`Self::push_accelerometer`].
    pub fn push_gyroscope(
        &self,
        t_ns: Vec<i64>,
        x: Vec<f32>,
        y: Vec<f32>,
        z: Vec<f32>,
    ) -> Result<(), GuardianError> {
        self.push_columns(Sensor::Gyro, &t_ns, &x, &y, &z)
    }

    /// Pushes both sensors in one call without copying the buffer: `u32 acc_count, u32
    /// gyro_count`, then that many accelerometer and then gyroscope records of `i64 t_ns, f32
    /// x, f32 y, f32 z`, all little-endian (`packed_batch_size` gives the length). Kotlin
    /// passes a direct `ByteBuffer` at position 0.
    pub fn push_packed(&self, batch: &[u8]) -> Result<(), GuardianError> {
        let mut st = self.running()?;
        let (mut acc, mut gyro) = (std::mem::take(&mut st.acc), std::mem::take(&mut st.gyro));
        let result = packed::unpack(batch, st.acc_scale, &mut acc, &mut gyro).map(|()| {
            st.ingest(Sensor::Acc, &acc, &self.shared);
            crash_point("push.mid_batch");
            st.ingest(Sensor::Gyro, &gyro, &self.shared);
        });
        (st.acc, st.gyro) = (acc, gyro);
        result
    }

    /// Pushes one sample (convenience; a batch per sensor report is far cheaper).
    pub fn push_sample(
        &self,
        sensor: crate::SensorKind,
        t_ns: i64,
        x: f32,
        y: f32,
        z: f32,
    ) -> Result<(), GuardianError> {
        let sensor = match sensor {
            crate::SensorKind::Accelerometer => Sensor::Acc,
            crate::SensorKind::Gyroscope => Sensor::Gyro,
        };
        self.push_columns(sensor, &[t_ns], &[x], &[y], &[z])
    }

    /// Advances the alert timers to `now_ns` (the sensors' clock) when no samples arrive, so an
    /// alert still escalates if the sensors stop.
    pub fn tick(&self, now_ns: i64) -> Result<(), GuardianError> {
        let mut st = self.running()?;
        st.engine.tick(now_ns).map_err(engine_error)?;
        st.drain(&self.shared);
        Ok(())
    }

    /// "I'm OK": cancels the raised alert (or an alert delivered again after a restart that
    /// has no outcome yet). Returns whether there was one.
    pub fn cancel_alert(&self) -> Result<bool, GuardianError> {
        self.answer(Outcome::Cancelled)
    }

    /// "I need help": escalates the raised alert at once. Returns whether there was one.
    pub fn confirm_alert(&self) -> Result<bool, GuardianError> {
        self.answer(Outcome::EscalatedByUser)
    }

    /// What the detector is doing now.
    pub fn state(&self) -> DetectorState {
        let running = lock(&self.delivery).is_some();
        let st = self.lock();
        DetectorState {
            running,
            phase: st.engine.phase().into(),
            model: st.engine.sensors().into(),
            active_alert_id: st.active.as_ref().map(|(id, _)| id.clone()),
            last_sample_t_ns: st.last_t_ns,
        }
    }

    /// Counters since the detector was built.
    pub fn stats(&self) -> DetectorStats {
        let st = self.lock();
        let s = &self.shared;
        let ordering = std::sync::atomic::Ordering::Relaxed;
        let mut out = add(&st.retired, &engine_stats(&st.engine.stats()));
        out.falls = st.falls;
        out.dropped_events = s.dropped.load(ordering);
        out.listener_errors = s.listener_errors.load(ordering);
        out.callback_count = s.delivered.load(ordering);
        out
    }

    /// Journaled alerts the app has not acknowledged, oldest first.
    pub fn pending_alerts(&self) -> Vec<FallAlert> {
        let st = self.lock();
        st.journal
            .pending()
            .map(|e| fall_alert(&e.alert, false))
            .collect()
    }

    /// The app handled alert `alert_id` (shown it, called for help, ...): it is not delivered
    /// again after a restart. Returns whether an unacknowledged alert had that id.
    pub fn acknowledge(&self, alert_id: String) -> Result<bool, GuardianError> {
        self.lock()
            .journal
            .acknowledge(&alert_id)
            .map_err(|e| GuardianError::Journal(e.to_string()))
    }

    /// The journal's alerts with their outcomes, oldest first: every pending alert and the
    /// last 100 acknowledged ones.
    pub fn alert_history(&self) -> Vec<AlertRecord> {
        let st = self.lock();
        st.journal
            .entries()
            .iter()
            .map(|e| AlertRecord {
                alert: fall_alert(&e.alert, false),
                outcome: e.outcome.map(|(o, _)| o.into()),
                outcome_t_ns: e.outcome.map(|(_, t)| t),
                acknowledged: e.acknowledged,
            })
            .collect()
    }
}

impl Drop for FallDetector {
    fn drop(&mut self) {
        self.stop();
        #[cfg(all(unix, not(target_os = "ios")))]
        crate::jni_push::unregister(*self.fast_path.get_mut());
    }
}

impl FallDetector {
    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The state, if the detector is running.
    fn running(&self) -> Result<MutexGuard<'_, State>, GuardianError> {
        let st = self.lock();
        if st.tx.is_none() {
            return Err(GuardianError::NotRunning);
        }
        Ok(st)
    }

    fn push_columns(
        &self,
        sensor: Sensor,
        t_ns: &[i64],
        x: &[f32],
        y: &[f32],
        z: &[f32],
    ) -> Result<(), GuardianError> {
        let mut st = self.running()?;
        let (name, scale) = match sensor {
            Sensor::Acc => ("accelerometer", st.acc_scale),
            Sensor::Gyro => ("gyroscope", 1.0),
        };
        let mut buf = std::mem::take(&mut st.acc);
        let result = packed::from_columns(name, t_ns, x, y, z, scale, &mut buf)
            .map(|()| st.ingest(sensor, &buf, &self.shared));
        st.acc = buf;
        result
    }

    fn answer(&self, outcome: Outcome) -> Result<bool, GuardianError> {
        let mut st = self.running()?;
        let now = st.last_t_ns.unwrap_or(0);
        let answered = match outcome {
            Outcome::Cancelled => st.engine.cancel_alert(now),
            _ => st.engine.confirm_alert(now),
        }
        .map_err(engine_error)?;
        if answered {
            st.drain(&self.shared);
            return Ok(true);
        }
        // An alert delivered again after a restart: its engine is gone; record the answer.
        let replayed = st
            .journal
            .pending()
            .rev()
            .find(|e| e.outcome.is_none())
            .map(|e| e.alert.id.clone());
        let Some(id) = replayed else {
            return Ok(false);
        };
        st.journal
            .record_outcome(&id, outcome, now)
            .map_err(|e| GuardianError::Journal(e.to_string()))?;
        let event = outcome_event(id, outcome, now);
        st.send(event, &self.shared);
        Ok(true)
    }
}

impl State {
    /// Feeds one sensor's samples to the engine and handles what it says.
    fn ingest(&mut self, sensor: Sensor, samples: &[Sample], shared: &Shared) {
        let Some(last) = samples.iter().map(|s| s.t_ns).max() else {
            return;
        };
        self.last_t_ns = Some(self.last_t_ns.map_or(last, |t| t.max(last)));
        if sensor == Sensor::Gyro
            && self.mode == SensorMode::Auto
            && self.engine.sensors() == SensorSet::AccOnly
            && self.engine.phase() == DetectorPhase::Idle
        {
            self.switch_model(SensorSet::Full, samples[0].t_ns, shared);
        }
        if let Err(e) = self.engine.push(sensor, samples) {
            self.send(
                GuardianEvent::Problem {
                    kind: ProblemKind::ModelFailed,
                    message: format!("{e}; detection continues with the next window"),
                },
                shared,
            );
        }
        self.drain(shared);
    }

    /// Handles every event the engine has queued.
    fn drain(&mut self, shared: &Shared) {
        while let Some(e) = self.engine.poll_event() {
            self.on_engine_event(e, shared);
        }
    }

    fn on_engine_event(&mut self, e: Event, shared: &Shared) {
        let event = match e {
            Event::Fall(fall) => {
                let alert = Alert {
                    id: self.new_alert_id(),
                    impact_t_ns: fall.impact_t_ns,
                    confirmed_t_ns: fall.confirmed_t_ns,
                    score: fall.score,
                    peak_g: fall.peak_g,
                    model: model_name(self.engine.sensors()).into(),
                };
                self.falls += 1;
                self.active = Some((alert.id.clone(), fall.impact_t_ns));
                if let Err(err) = self.journal.raise(alert.clone()) {
                    self.send(journal_problem(&err), shared);
                }
                GuardianEvent::Fall {
                    alert: fall_alert(&alert, false),
                }
            }
            Event::AlertCancelled { impact_t_ns, t_ns } => {
                let id = self.end_alert(impact_t_ns, Outcome::Cancelled, t_ns, shared);
                GuardianEvent::AlertCancelled { alert_id: id, t_ns }
            }
            Event::AlertEscalated {
                impact_t_ns,
                t_ns,
                by_user,
            } => {
                let outcome = if by_user {
                    Outcome::EscalatedByUser
                } else {
                    Outcome::EscalatedByTimeout
                };
                let alert_id = self.end_alert(impact_t_ns, outcome, t_ns, shared);
                GuardianEvent::AlertEscalated {
                    alert_id,
                    t_ns,
                    by_user,
                }
            }
            Event::SensorStalled { sensor, t_ns } => {
                self.send(
                    GuardianEvent::SensorStalled {
                        sensor: sensor.into(),
                        t_ns,
                    },
                    shared,
                );
                if sensor == Sensor::Gyro
                    && self.mode == SensorMode::Auto
                    && self.engine.phase() == DetectorPhase::Idle
                {
                    self.switch_model(SensorSet::AccOnly, t_ns, shared);
                }
                return;
            }
            Event::SensorResumed { sensor, t_ns } => GuardianEvent::SensorResumed {
                sensor: sensor.into(),
                t_ns,
            },
        };
        self.send(event, shared);
    }

    /// Journals the outcome of the alert at `impact_t_ns` and returns its id.
    fn end_alert(
        &mut self,
        impact_t_ns: i64,
        outcome: Outcome,
        t_ns: i64,
        shared: &Shared,
    ) -> String {
        let id = match self.active.take() {
            Some((id, impact)) if impact == impact_t_ns => id,
            other => {
                self.active = other;
                format!("unknown-{impact_t_ns}")
            }
        };
        if let Err(err) = self.journal.record_outcome(&id, outcome, t_ns) {
            self.send(journal_problem(&err), shared);
        }
        id
    }

    /// `Auto` mode: replaces the engine with one running `set`'s model.
    fn switch_model(&mut self, set: SensorSet, t_ns: i64, shared: &Shared) {
        match self.bundle.engine(&self.lib, set, &self.config) {
            Ok(engine) => {
                let old = std::mem::replace(&mut self.engine, engine);
                self.retired = add(&self.retired, &engine_stats(&old.stats()));
                if set == SensorSet::Full {
                    self.send(
                        GuardianEvent::SensorResumed {
                            sensor: crate::SensorKind::Gyroscope,
                            t_ns,
                        },
                        shared,
                    );
                }
                self.send(
                    GuardianEvent::ModelChanged {
                        model: set.into(),
                        t_ns,
                    },
                    shared,
                );
            }
            Err(e) => self.send(
                GuardianEvent::Problem {
                    kind: ProblemKind::ModelFailed,
                    message: format!("cannot switch to the {} model: {e}", model_name(set)),
                },
                shared,
            ),
        }
    }

    fn send(&self, event: GuardianEvent, shared: &Shared) {
        match &self.tx {
            Some(tx) => shared.send(event, tx),
            None => shared.queue(event),
        }
    }

    /// An id no alert in the journal has: milliseconds since the epoch and a counter, hex.
    fn new_alert_id(&self) -> String {
        let ms = guardian_journal::unix_ms();
        let mut n = self.falls;
        loop {
            let id = format!("{ms:x}-{n:x}");
            if !self.journal.contains(&id) {
                return id;
            }
            n += 1;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while locked cannot leave these structures half-updated in a way that matters
    // more than stopping detection would: go on.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn model_name(set: SensorSet) -> &'static str {
    match set {
        SensorSet::Full => "full",
        SensorSet::AccOnly => "acc_only",
    }
}

fn fall_alert(a: &Alert, replay: bool) -> FallAlert {
    FallAlert {
        alert_id: a.id.clone(),
        impact_t_ns: a.impact_t_ns,
        confirmed_t_ns: a.confirmed_t_ns,
        score: a.score,
        peak_g: a.peak_g,
        model: if a.model == "acc_only" {
            ModelKind::AccOnly
        } else {
            ModelKind::Full
        },
        replay,
    }
}

fn outcome_event(alert_id: String, outcome: Outcome, t_ns: i64) -> GuardianEvent {
    match AlertOutcome::from(outcome) {
        AlertOutcome::Cancelled => GuardianEvent::AlertCancelled { alert_id, t_ns },
        o => GuardianEvent::AlertEscalated {
            alert_id,
            t_ns,
            by_user: o == AlertOutcome::EscalatedByUser,
        },
    }
}

fn journal_problem(e: &guardian_journal::JournalError) -> GuardianEvent {
    GuardianEvent::Problem {
        kind: ProblemKind::JournalWrite,
        message: format!(
            "{e}; the alert is delivered but would not survive a restart: free storage or fix \
             the journal directory"
        ),
    }
}

fn engine_error(e: EngineError) -> GuardianError {
    match e {
        EngineError::Model(m) => GuardianError::Model(m.to_string()),
        other => GuardianError::Internal(other.to_string()),
    }
}

fn engine_stats(s: &EngineStats) -> DetectorStats {
    let rejected = |c: &guardian_core::IngestCounters| {
        c.non_finite + c.out_of_range + c.duplicates + c.reordered
    };
    DetectorStats {
        acc_samples: s.acc.accepted,
        gyro_samples: s.gyro.accepted,
        rejected_samples: rejected(&s.acc) + rejected(&s.gyro),
        frames: s.frames,
        windows: s.detector.windows,
        model_runs: s.detector.scored,
        stalls: s.stalls,
        model_errors: s.model_errors,
        dropped_events: s.dropped_events,
        ..DetectorStats::default()
    }
}

fn add(a: &DetectorStats, b: &DetectorStats) -> DetectorStats {
    DetectorStats {
        acc_samples: a.acc_samples + b.acc_samples,
        gyro_samples: a.gyro_samples + b.gyro_samples,
        rejected_samples: a.rejected_samples + b.rejected_samples,
        frames: a.frames + b.frames,
        windows: a.windows + b.windows,
        model_runs: a.model_runs + b.model_runs,
        falls: a.falls + b.falls,
        stalls: a.stalls + b.stalls,
        model_errors: a.model_errors + b.model_errors,
        dropped_events: a.dropped_events + b.dropped_events,
        listener_errors: a.listener_errors + b.listener_errors,
        callback_count: a.callback_count + b.callback_count,
    }
}

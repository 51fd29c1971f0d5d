//! Records and enums of the foreign API, and their mapping to the core's types.

use guardian_core::{DetectorConfig, DetectorPhase, SensorSet};

/// Which model to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SensorMode {
    /// The full model; while the gyroscope is silent (or absent), the accelerometer-only model,
    /// and back when it resumes ([`GuardianEvent::ModelChanged`]).
    Auto,
    /// Accelerometer and gyroscope, always.
    Full,
    /// Accelerometer only (phones without a gyroscope).
    AccOnly,
}

/// A model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ModelKind {
    /// Accelerometer + gyroscope.
    Full,
    /// Accelerometer only.
    AccOnly,
}

impl From<SensorSet> for ModelKind {
    fn from(s: SensorSet) -> Self {
        match s {
            SensorSet::Full => Self::Full,
            SensorSet::AccOnly => Self::AccOnly,
        }
    }
}

impl From<ModelKind> for SensorSet {
    fn from(m: ModelKind) -> Self {
        match m {
            ModelKind::Full => Self::Full,
            ModelKind::AccOnly => Self::AccOnly,
        }
    }
}

/// A sensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SensorKind {
    /// Accelerometer (gravity included).
    Accelerometer,
    /// Gyroscope, rad/s.
    Gyroscope,
}

impl From<guardian_core::Sensor> for SensorKind {
    fn from(s: guardian_core::Sensor) -> Self {
        match s {
            guardian_core::Sensor::Acc => Self::Accelerometer,
            guardian_core::Sensor::Gyro => Self::Gyroscope,
        }
    }
}

/// The units and sign convention of the accelerometer values the app pushes. The detector
/// converts; apps never scale by hand. Gyroscope values are rad/s, right-handed, in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum InputUnits {
    /// Android's `SensorEvent.values`: m/s^2 with gravity, a phone lying face up reads
    /// z = +9.81.
    Android,
    /// CoreMotion's `CMAccelerometerData.acceleration`: g with gravity, opposite sign (face up
    /// reads z = -1). Multiplied by -9.80665.
    CoreMotion,
}

/// The detector's phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Phase {
    /// Watching for an impact.
    Idle,
    /// An impact was confirmed by the model; checking what follows it.
    Confirming,
    /// An alert is raised and can be answered.
    Alerting,
    /// Resting after an alert.
    Cooldown,
}

impl From<DetectorPhase> for Phase {
    fn from(p: DetectorPhase) -> Self {
        match p {
            DetectorPhase::Idle => Self::Idle,
            DetectorPhase::Confirming => Self::Confirming,
            DetectorPhase::Alerting => Self::Alerting,
            DetectorPhase::Cooldown => Self::Cooldown,
        }
    }
}

/// How an alert ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AlertOutcome {
    /// "I'm OK".
    Cancelled,
    /// Nobody answered within the cancel window.
    EscalatedByTimeout,
    /// "I need help".
    EscalatedByUser,
}

impl From<guardian_journal::Outcome> for AlertOutcome {
    fn from(o: guardian_journal::Outcome) -> Self {
        match o {
            guardian_journal::Outcome::Cancelled => Self::Cancelled,
            guardian_journal::Outcome::EscalatedByTimeout => Self::EscalatedByTimeout,
            guardian_journal::Outcome::EscalatedByUser => Self::EscalatedByUser,
        }
    }
}

/// Kinds of [`GuardianEvent::Problem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ProblemKind {
    /// The model failed on a window (that window was not scored).
    ModelFailed,
    /// The alert journal was corrupt; it was set aside and a new one started.
    JournalCorrupt,
    /// An alert could not be written to the journal (it was still delivered).
    JournalWrite,
    /// The listener threw on an event (it is not delivered again).
    ListenerFailed,
}

/// Detector settings; `null` keeps the default (the model card's, or `DetectorConfig`'s).
/// Ranges are checked when the detector is built.
#[derive(Debug, Clone, Default, PartialEq, uniffi::Record)]
pub struct DetectorSettings {
    /// Frames (20 ms) between windows.
    #[uniffi(default)]
    pub hop_frames: Option<u32>,
    /// Impact trigger on |a|, g.
    #[uniffi(default)]
    pub trigger_g: Option<f32>,
    /// Model score threshold.
    #[uniffi(default)]
    pub threshold: Option<f32>,
    /// When false the model runs on every window (costs battery; for benchmarks).
    #[uniffi(default)]
    pub impact_trigger: Option<bool>,
    /// Post-impact check start after the impact, ms.
    #[uniffi(default)]
    pub post_impact_delay_ms: Option<u32>,
    /// Post-impact check length, ms.
    #[uniffi(default)]
    pub post_impact_len_ms: Option<u32>,
    /// Lying still: std of |a| at most this, g.
    #[uniffi(default)]
    pub still_std_g: Option<f32>,
    /// Orientation change after the impact at least this, degrees.
    #[uniffi(default)]
    pub orientation_change_deg: Option<f32>,
    /// Calm after the impact: std of |a| at most this, g.
    #[uniffi(default)]
    pub calm_std_g: Option<f32>,
    /// The orientation before the fall: from this long before the impact to half as long, ms.
    #[uniffi(default)]
    pub pre_impact_ref_ms: Option<u32>,
    /// Put back, not fallen: the phone left its upright carrying axis before the impact and
    /// is back within this angle after it, degrees; 0 turns the rule off.
    #[uniffi(default)]
    pub carry_return_deg: Option<f32>,
    /// Time constant of the carrying orientation's running average, s.
    #[uniffi(default)]
    pub carry_time_constant_s: Option<f32>,
    /// Time the user has to answer an alert, ms.
    #[uniffi(default)]
    pub cancel_window_ms: Option<u32>,
    /// No new detection for this long after an alert ends, ms.
    #[uniffi(default)]
    pub cooldown_ms: Option<u32>,
}

impl DetectorSettings {
    /// These settings over the core's defaults.
    pub(crate) fn to_config(&self) -> DetectorConfig {
        let mut c = DetectorConfig {
            hop_frames: self.hop_frames.map(|v| v as usize),
            trigger_g: self.trigger_g,
            threshold: self.threshold,
            ..DetectorConfig::default()
        };
        macro_rules! over {
            ($($f:ident),*) => { $( if let Some(v) = self.$f { c.$f = v; } )* };
        }
        over!(
            impact_trigger,
            post_impact_delay_ms,
            post_impact_len_ms,
            still_std_g,
            orientation_change_deg,
            calm_std_g,
            pre_impact_ref_ms,
            carry_return_deg,
            carry_time_constant_s,
            cancel_window_ms,
            cooldown_ms
        );
        c
    }
}

/// How to build a [`crate::FallDetector`]. The defaults need nothing else: built-in models,
/// `Auto` sensors, Android units, default settings, alerts kept in memory only.
#[derive(Debug, Clone, Default, PartialEq, uniffi::Record)]
pub struct DetectorOptions {
    /// Which model (`null`: `Auto`).
    #[uniffi(default)]
    pub sensors: Option<SensorMode>,
    /// Units of pushed accelerometer values (`null`: `Android`).
    #[uniffi(default)]
    pub units: Option<InputUnits>,
    /// Detector settings.
    #[uniffi(default)]
    pub settings: DetectorSettings,
    /// Folder for the alert journal (created if missing). `null`: alerts are kept in memory
    /// only and do not survive the process: give one in an app.
    #[uniffi(default)]
    pub journal_dir: Option<String>,
    /// The runtime library file. `null`: the usual places (the app's native libraries).
    #[uniffi(default)]
    pub runtime_library_path: Option<String>,
    /// A `model_card.json` (or its folder) to use instead of the built-in models.
    #[uniffi(default)]
    pub model_card_path: Option<String>,
}

/// A fall alert.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FallAlert {
    /// Stable id: the same when the alert is delivered again after a restart.
    pub alert_id: String,
    /// Impact instant, ns (sensor clock).
    pub impact_t_ns: i64,
    /// Instant the fall was confirmed and the alert raised, ns (sensor clock).
    pub confirmed_t_ns: i64,
    /// Model score in [0, 1].
    pub score: f32,
    /// Peak |a| at the impact, g.
    pub peak_g: f32,
    /// The model that raised it.
    pub model: ModelKind,
    /// True when delivered again from the journal after a restart (the alert was not
    /// acknowledged before).
    pub replay: bool,
}

/// An alert in the journal's history.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AlertRecord {
    /// The alert.
    pub alert: FallAlert,
    /// How it ended, if it has.
    pub outcome: Option<AlertOutcome>,
    /// When it ended, ns (sensor clock).
    pub outcome_t_ns: Option<i64>,
    /// The app acknowledged it.
    pub acknowledged: bool,
}

/// What the detector is doing.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DetectorState {
    /// Between `start` and `stop`.
    pub running: bool,
    /// The detection phase.
    pub phase: Phase,
    /// The model running now.
    pub model: ModelKind,
    /// The alert that can be answered now, if any.
    pub active_alert_id: Option<String>,
    /// Newest sample timestamp pushed, ns.
    pub last_sample_t_ns: Option<i64>,
}

/// Counters since the detector was built.
#[derive(Debug, Clone, Default, PartialEq, uniffi::Record)]
pub struct DetectorStats {
    /// Accelerometer samples accepted.
    pub acc_samples: u64,
    /// Gyroscope samples accepted.
    pub gyro_samples: u64,
    /// Samples the ingest rules dropped (duplicates, reordering, out of range).
    pub rejected_samples: u64,
    /// 50 Hz frames made.
    pub frames: u64,
    /// Windows cut.
    pub windows: u64,
    /// Model runs.
    pub model_runs: u64,
    /// Fall alerts raised.
    pub falls: u64,
    /// Times a sensor stalled.
    pub stalls: u64,
    /// Windows the model failed on.
    pub model_errors: u64,
    /// Events (never alerts) dropped because the listener fell behind.
    pub dropped_events: u64,
    /// Times the listener threw.
    pub listener_errors: u64,
    /// Events delivered to the listener.
    pub callback_count: u64,
}

/// What the detector tells the app, in order, on its delivery thread.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum GuardianEvent {
    /// A fall: show the alert; it escalates unless answered within the cancel window.
    Fall {
        /// The alert.
        alert: FallAlert,
    },
    /// The user answered "I'm OK".
    AlertCancelled {
        /// The alert.
        alert_id: String,
        /// When, ns (sensor clock).
        t_ns: i64,
    },
    /// Call for help: nobody answered in time, or the user asked for help (`by_user`).
    AlertEscalated {
        /// The alert.
        alert_id: String,
        /// When, ns (sensor clock).
        t_ns: i64,
        /// The user asked for help.
        by_user: bool,
    },
    /// A sensor stopped delivering; falls cannot be detected with the full model.
    SensorStalled {
        /// The silent sensor.
        sensor: SensorKind,
        /// When it was noticed, ns.
        t_ns: i64,
    },
    /// The sensor delivers again.
    SensorResumed {
        /// The sensor.
        sensor: SensorKind,
        /// When, ns.
        t_ns: i64,
    },
    /// `Auto` mode switched model.
    ModelChanged {
        /// The model running now.
        model: ModelKind,
        /// When, ns.
        t_ns: i64,
    },
    /// Something went wrong that does not stop detection.
    Problem {
        /// What kind.
        kind: ProblemKind,
        /// What happened and what to do.
        message: String,
    },
}

impl GuardianEvent {
    /// Alert events are never dropped.
    pub(crate) fn is_alert(&self) -> bool {
        matches!(
            self,
            Self::Fall { .. } | Self::AlertCancelled { .. } | Self::AlertEscalated { .. }
        )
    }
}

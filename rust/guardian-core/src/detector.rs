//! Detection: the impact trigger, model confirmation, post-impact check, cancellable alert and
//! cooldown that turn window scores into fall events.

use serde::{Deserialize, Serialize};

use crate::card::{ModelCard, SensorSet};
use crate::carry::{axis_cos, CarryOrientation};
use crate::events::{DetectedFall, Event};
use crate::frame::norm;
use crate::grid::GRID_PERIOD_NS;
use crate::sample::STANDARD_GRAVITY;
use crate::window::{StoredFrame, Windower};

/// Detection thresholds and timings. Every field has a default; `None` fields take the model
/// card's value. Serialized as JSON for `--config` files and the FFI ([`DetectorConfig::from_json`]).
/// Each field must lie in its range in [`limits`], which keeps a working detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorConfig {
    /// Frames between window starts (card default: 25 = 0.5 s).
    pub hop_frames: Option<usize>,
    /// Impact trigger on |a| in the window's band, in g (card default).
    pub trigger_g: Option<f32>,
    /// Decision threshold on the model score in (0, 1) (card default, chosen on validation).
    pub threshold: Option<f32>,
    /// When false the model runs on every window (costs battery; for benchmarks).
    pub impact_trigger: bool,
    /// Post-impact check starts this long after the impact, ms.
    pub post_impact_delay_ms: u32,
    /// Post-impact check length, ms.
    pub post_impact_len_ms: u32,
    /// Lying still: standard deviation of |a| over the check at most this, in g. Used only when
    /// the stream started too recently to know the orientation before the impact.
    pub still_std_g: f32,
    /// Changed orientation: angle between mean acceleration before the fall and during the
    /// check at least this, degrees.
    pub orientation_change_deg: f32,
    /// The orientation before the fall is the mean acceleration from this long before the
    /// impact to half as long before it, ms (2000: from 2 s to 1 s before).
    pub pre_impact_ref_ms: u32,
    /// The check passes when the orientation changed and the standard deviation of |a| over
    /// the check is at most this, in g: someone who runs on, or stops and stands, after a jolt
    /// is not lying after a fall.
    pub calm_std_g: f32,
    /// Put back, not fallen: the check fails when the phone's gravity axis was outside this
    /// angle of the axis it is carried in before the impact (2 s to 1 s before) and is back
    /// within it during the check (sign ignored: a phone turned end over end or face in/out
    /// keeps its axis), while that carrying axis is upright (at least
    /// [`CARRY_UPRIGHT_MIN_TILT_DEG`] from lying flat), degrees. 0 turns the rule off.
    pub carry_return_deg: f32,
    /// Time constant of the carrying orientation's running average, s (after its first
    /// second, which sets it).
    pub carry_time_constant_s: f32,
    /// The user can cancel a raised alert for this long, ms; then it escalates.
    pub cancel_window_ms: u32,
    /// No new detection for this long after an alert ends, ms.
    pub cooldown_ms: u32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            hop_frames: None,
            trigger_g: None,
            threshold: None,
            impact_trigger: true,
            post_impact_delay_ms: 1000,
            post_impact_len_ms: 1500,
            still_std_g: 0.15,
            orientation_change_deg: 40.0,
            calm_std_g: 0.35,
            pre_impact_ref_ms: 2000,
            carry_return_deg: 30.0,
            carry_time_constant_s: 120.0,
            cancel_window_ms: 30_000,
            cooldown_ms: 10_000,
        }
    }
}

/// Why a detector configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A field (or the card default it takes) is outside its range in [`limits`].
    #[error("{field} must be in {range}, got {value}")]
    OutOfRange {
        /// The field, as spelled in JSON.
        field: &'static str,
        /// The accepted range with its unit, e.g. `[1.2, 3] g`.
        range: String,
        /// The refused value.
        value: String,
    },
    /// The text is not a JSON object of `DetectorConfig` keys.
    #[error("a detector configuration must be a JSON object of DetectorConfig keys: {0}")]
    Json(String),
}

/// An accepted range of one numeric field: from `min` to `max`, each end included unless
/// marked open.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// The field, as spelled in JSON.
    pub field: &'static str,
    /// Lowest value.
    pub min: f64,
    /// Whether `min` itself is refused.
    pub min_open: bool,
    /// Highest value.
    pub max: f64,
    /// Whether `max` itself is refused.
    pub max_open: bool,
    /// Unit shown after the range (`""` for none).
    pub unit: &'static str,
}

impl Limit {
    const fn closed(field: &'static str, min: f64, max: f64, unit: &'static str) -> Self {
        Self {
            field,
            min,
            min_open: false,
            max,
            max_open: false,
            unit,
        }
    }

    /// Whether `v` is inside (NaN never is).
    pub fn contains(&self, v: f64) -> bool {
        let above = if self.min_open {
            v > self.min
        } else {
            v >= self.min
        };
        let below = if self.max_open {
            v < self.max
        } else {
            v <= self.max
        };
        above && below
    }

    /// The range as messages and docs write it, e.g. `(0, 1)` or `[1.2, 3] g`.
    pub fn range(&self) -> String {
        let unit = if self.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", self.unit)
        };
        format!(
            "{}{}, {}{}{unit}",
            if self.min_open { '(' } else { '[' },
            self.min,
            self.max,
            if self.max_open { ')' } else { ']' },
        )
    }

    /// This range with its maximum lowered to `max` (included), if that is lower.
    pub(crate) fn capped(self, max: f64) -> Self {
        if max < self.max {
            Self {
                max,
                max_open: false,
                ..self
            }
        } else {
            self
        }
    }

    /// `Ok` if `v` is inside, else the error naming the field, the range and `shown`.
    pub(crate) fn check(&self, v: f64, shown: impl std::fmt::Debug) -> Result<(), ConfigError> {
        if self.contains(v) {
            return Ok(());
        }
        Err(ConfigError::OutOfRange {
            field: self.field,
            range: self.range(),
            value: format!("{shown:?}"),
        })
    }
}

/// The accepted range of every numeric [`DetectorConfig`] field, the one table the engine, the
/// CLI and the docs use. Each keeps a working detector: the trigger stays reachable by falls,
/// the threshold by the model, the post-impact check by a person lying after a fall, and an
/// alert escalates after a time a person can answer in.
pub mod limits {
    use super::{Limit, GRID_PERIOD_NS, PRE_IMPACT_REF_MAX_FRAMES};

    /// Frames between windows; the engine also caps it at the card's band width, so that every
    /// frame lies in some window's band.
    pub const HOP_FRAMES: Limit = Limit::closed("hop_frames", 1.0, 50.0, "frames");
    /// Impact trigger: above 1 g at rest, below what falls reach on a phone whose accelerometer
    /// saturates at +-2 g per axis.
    pub const TRIGGER_G: Limit = Limit::closed("trigger_g", 1.2, 3.0, "g");
    /// Score threshold; the engine also caps it at the model's highest score.
    pub const THRESHOLD: Limit = Limit {
        min_open: true,
        max_open: true,
        ..Limit::closed("threshold", 0.0, 1.0, "")
    };
    /// Start of the post-impact check after the impact.
    pub const POST_IMPACT_DELAY_MS: Limit =
        Limit::closed("post_impact_delay_ms", 0.0, 5_000.0, "ms");
    /// Length of the post-impact check (with the delay, the check ends within 10 s).
    pub const POST_IMPACT_LEN_MS: Limit = Limit::closed("post_impact_len_ms", 500.0, 5_000.0, "ms");
    /// Stillness limit on the std of |a|: above sensor noise.
    pub const STILL_STD_G: Limit = Limit::closed("still_std_g", 0.05, 1.0, "g");
    /// Calm limit on the std of |a|: above sensor noise.
    pub const CALM_STD_G: Limit = Limit::closed("calm_std_g", 0.05, 1.0, "g");
    /// Orientation change: an angle, well below a half turn.
    pub const ORIENTATION_CHANGE_DEG: Limit =
        Limit::closed("orientation_change_deg", 10.0, 120.0, "degrees");
    /// Pre-impact reference: long enough to average a step, and inside the history the card's
    /// longest window leaves ([`PRE_IMPACT_REF_MAX_FRAMES`]).
    pub const PRE_IMPACT_REF_MS: Limit = Limit::closed(
        "pre_impact_ref_ms",
        500.0,
        (PRE_IMPACT_REF_MAX_FRAMES * GRID_PERIOD_NS / 1_000_000) as f64,
        "ms",
    );
    /// Put-back angle: 0 (off) to well below the 90 degrees between standing and lying.
    pub const CARRY_RETURN_DEG: Limit = Limit::closed("carry_return_deg", 0.0, 45.0, "degrees");
    /// Carrying average: from a few seconds to an hour.
    pub const CARRY_TIME_CONSTANT_S: Limit =
        Limit::closed("carry_time_constant_s", 10.0, 3_600.0, "s");
    /// Time to answer an alert before it escalates.
    pub const CANCEL_WINDOW_MS: Limit = Limit::closed("cancel_window_ms", 5_000.0, 300_000.0, "ms");
    /// Quiet time after an alert.
    pub const COOLDOWN_MS: Limit = Limit::closed("cooldown_ms", 0.0, 300_000.0, "ms");
}

impl DetectorConfig {
    /// Parses a configuration: a JSON object (a leading UTF-8 BOM is skipped) of
    /// `DetectorConfig` keys; unknown keys and any other JSON value are refused. Ranges are
    /// checked against the card when an engine is made ([`crate::Engine::check`]).
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        crate::card::from_json_object(text).map_err(ConfigError::Json)
    }

    /// Fills defaults from the card's model for `sensors` and checks every field against
    /// [`limits`]. The card must be valid ([`ModelCard::validate`]).
    pub(crate) fn resolve(
        &self,
        card: &ModelCard,
        sensors: SensorSet,
    ) -> Result<Resolved, ConfigError> {
        use limits::*;
        let spec = card.model(sensors);
        let hop = self.hop_frames.unwrap_or(card.hop_frames);
        let trigger_g = self.trigger_g.unwrap_or(card.trigger_g);
        let threshold = self.threshold.unwrap_or(spec.threshold);
        let [b0, b1] = card.band;
        HOP_FRAMES
            .capped(b1.saturating_sub(b0) as f64)
            .check(hop as f64, hop)?;
        TRIGGER_G.check(trigger_g.into(), trigger_g)?;
        THRESHOLD
            .capped(spec.output.max_score())
            .check(threshold.into(), threshold)?;
        POST_IMPACT_DELAY_MS.check(self.post_impact_delay_ms.into(), self.post_impact_delay_ms)?;
        POST_IMPACT_LEN_MS.check(self.post_impact_len_ms.into(), self.post_impact_len_ms)?;
        STILL_STD_G.check(self.still_std_g.into(), self.still_std_g)?;
        CALM_STD_G.check(self.calm_std_g.into(), self.calm_std_g)?;
        ORIENTATION_CHANGE_DEG.check(
            self.orientation_change_deg.into(),
            self.orientation_change_deg,
        )?;
        PRE_IMPACT_REF_MS.check(self.pre_impact_ref_ms.into(), self.pre_impact_ref_ms)?;
        CARRY_RETURN_DEG.check(self.carry_return_deg.into(), self.carry_return_deg)?;
        CARRY_TIME_CONSTANT_S.check(
            self.carry_time_constant_s.into(),
            self.carry_time_constant_s,
        )?;
        CANCEL_WINDOW_MS.check(self.cancel_window_ms.into(), self.cancel_window_ms)?;
        COOLDOWN_MS.check(self.cooldown_ms.into(), self.cooldown_ms)?;
        let frames = |ms: u32| i64::from(ms) * 1_000_000 / GRID_PERIOD_NS;
        Ok(Resolved {
            hop,
            band: card.band,
            trigger_ms2: trigger_g * STANDARD_GRAVITY,
            threshold,
            impact_trigger: self.impact_trigger,
            post_delay: frames(self.post_impact_delay_ms),
            post_len: frames(self.post_impact_len_ms),
            still_std_ms2: self.still_std_g * STANDARD_GRAVITY,
            calm_std_ms2: self.calm_std_g * STANDARD_GRAVITY,
            orientation_cos: self.orientation_change_deg.to_radians().cos(),
            pre_ref: frames(self.pre_impact_ref_ms),
            carry_return_cos: (self.carry_return_deg > 0.0)
                .then(|| self.carry_return_deg.to_radians().cos()),
            carry_tau_frames: f64::from(self.carry_time_constant_s) * 1e9 / GRID_PERIOD_NS as f64,
            cancel_ns: i64::from(self.cancel_window_ms) * 1_000_000,
            cooldown_ns: i64::from(self.cooldown_ms) * 1_000_000,
        })
    }
}

/// The longest orientation reference before an impact, frames (2 s): the card's window length
/// leaves this much history before the earliest impact a window can hold.
pub const PRE_IMPACT_REF_MAX_FRAMES: i64 = 100;

/// The carrying axis counts as upright (a phone in the pocket of someone standing or walking)
/// when it is at least this far from the device's z axis (a phone lying flat, as on a table),
/// degrees. Someone lying after a fall often leaves the phone flat, like a table does.
pub const CARRY_UPRIGHT_MIN_TILT_DEG: f32 = 45.0;

/// A configuration with the card's defaults filled in and times converted to frames.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Resolved {
    pub hop: usize,
    pub band: [usize; 2],
    pub trigger_ms2: f32,
    pub threshold: f32,
    pub impact_trigger: bool,
    pub post_delay: i64,
    pub post_len: i64,
    pub still_std_ms2: f32,
    pub calm_std_ms2: f32,
    pub orientation_cos: f32,
    /// Frames before the impact where the orientation reference starts (it ends at half).
    pub pre_ref: i64,
    /// cos of `carry_return_deg`; None when the rule is off.
    pub carry_return_cos: Option<f32>,
    pub carry_tau_frames: f64,
    pub cancel_ns: i64,
    pub cooldown_ns: i64,
}

/// Where the detector is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectorPhase {
    /// Watching windows for an impact.
    Idle,
    /// The model confirmed an impact; the post-impact check is running.
    Confirming,
    /// An alert is raised and can be cancelled.
    Alerting,
    /// After an alert; no new detections.
    Cooldown,
}

/// Counters of the detector's decisions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectorCounters {
    /// Windows cut.
    pub windows: u64,
    /// Windows whose band passed the impact trigger.
    pub triggered: u64,
    /// Windows the model scored.
    pub scored: u64,
    /// Windows the model confirmed (score >= threshold) that started a post-impact check.
    pub candidates: u64,
    /// Candidates the post-impact check rejected.
    pub rejected_post_check: u64,
    /// Candidates replaced by a later confirmed impact before their check ended.
    pub superseded: u64,
    /// Candidates lost because the stream broke (gap, reset) during the check.
    pub interrupted: u64,
    /// Alerts raised.
    pub alerts: u64,
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    impact_k: i64,
    score: f32,
    peak: f32,
    pre_mean: Option<[f32; 3]>,
    /// The carrying orientation when the candidate started (m/s^2), if known.
    carry: Option<[f32; 3]>,
    n: u32,
    sum_norm: f64,
    sum_norm2: f64,
    sum_acc: [f64; 3],
}

impl Candidate {
    /// Adds a frame of the post-impact check.
    fn accumulate(&mut self, f: &StoredFrame) {
        self.n += 1;
        self.sum_norm += f64::from(f.acc_norm);
        self.sum_norm2 += f64::from(f.acc_norm) * f64::from(f.acc_norm);
        for (s, a) in self.sum_acc.iter_mut().zip(f.frame.acc) {
            *s += f64::from(a);
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum State {
    Idle,
    /// `main` is being checked; `backup`, a later but softer confirmed impact, is checked
    /// alongside and takes over if `main`'s check fails.
    Confirming {
        main: Candidate,
        backup: Option<Candidate>,
    },
    Alerting {
        impact_t_ns: i64,
        deadline_ns: i64,
    },
    Cooldown {
        until_ns: i64,
    },
}

/// What the detector makes of a frame: whether it completed a window and, if so, the window's
/// impact and whether the model should score it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum WindowVerdict {
    /// No window completed with this frame.
    NoWindow,
    /// A window completed: its band's frame of largest |a| (earliest on ties) is `impact_k`,
    /// with |a| `peak` m/s^2; `score` when the model should run on it (idle or a later impact
    /// than the one being checked, and the trigger fired).
    Window {
        impact_k: i64,
        peak: f32,
        score: bool,
    },
}

/// The detection state machine. Time is the sensor clock, advanced by frames and `tick`.
#[derive(Debug, Clone)]
pub(crate) struct Detector {
    cfg: Resolved,
    state: State,
    last_checked_impact_k: Option<i64>,
    carry: CarryOrientation,
    counters: DetectorCounters,
}

impl Detector {
    pub fn new(cfg: Resolved) -> Self {
        Self {
            carry: CarryOrientation::new(cfg.carry_tau_frames),
            cfg,
            state: State::Idle,
            last_checked_impact_k: None,
            counters: Default::default(),
        }
    }

    pub fn counters(&self) -> &DetectorCounters {
        &self.counters
    }

    pub fn phase(&self) -> DetectorPhase {
        match self.state {
            State::Idle => DetectorPhase::Idle,
            State::Confirming { .. } => DetectorPhase::Confirming,
            State::Alerting { .. } => DetectorPhase::Alerting,
            State::Cooldown { .. } => DetectorPhase::Cooldown,
        }
    }

    /// A frame was stored in `w` (its newest); `complete` when it also completed a window.
    /// Advances the post-impact check and the timers with the frame first (pushing events),
    /// then decides whether the model should run on the window: one call, so that order, which
    /// the check depends on, cannot be got wrong.
    pub fn on_frame(
        &mut self,
        w: &Windower,
        complete: bool,
        emit: impl FnMut(Event),
    ) -> WindowVerdict {
        if let Some(newest) = w.newest() {
            self.advance(newest, emit);
        }
        if complete {
            self.window_verdict(w)
        } else {
            WindowVerdict::NoWindow
        }
    }

    /// A window just completed in `w`: decides whether the model should run on it.
    fn window_verdict(&mut self, w: &Windower) -> WindowVerdict {
        self.counters.windows += 1;
        let window = w.window();
        let [b0, b1] = self.cfg.band;
        let mut best: Option<(i64, f32)> = None;
        for f in w.recent(window).skip(b0).take(b1 - b0) {
            if best.is_none_or(|(_, p)| f.acc_norm > p) {
                best = Some((f.frame.k, f.acc_norm));
            }
        }
        // A valid card's band lies inside the window, so a complete window has a band.
        let Some((impact_k, peak)) = best else {
            return WindowVerdict::NoWindow;
        };
        let triggered = !self.cfg.impact_trigger || peak >= self.cfg.trigger_ms2;
        if triggered {
            self.counters.triggered += 1;
        }
        let already = self.last_checked_impact_k.is_some_and(|k| impact_k <= k);
        // While a candidate is being checked, a later, harder impact is still scored: a stumble
        // is often confirmed first, and the fall's own impact must be able to replace it. A
        // softer one (the body settling, an arm hitting the floor after the fall) must not
        // replace it, which would restart the check and delay the alert; the first softer one
        // the model confirms is kept as a backup, checked only if the candidate's check fails.
        let open = match self.state {
            State::Idle => true,
            State::Confirming { main, backup } => {
                impact_k > main.impact_k && (peak > main.peak || backup.is_none())
            }
            State::Alerting { .. } | State::Cooldown { .. } => false,
        };
        let score = triggered && !already && open;
        if score {
            self.counters.scored += 1;
        }
        WindowVerdict::Window {
            impact_k,
            peak,
            score,
        }
    }

    /// The model scored the window `on_frame` asked for.
    pub fn on_score(
        &mut self,
        w: &Windower,
        impact_k: i64,
        peak: f32,
        score: f32,
        emit: impl FnMut(Event),
    ) {
        if score < self.cfg.threshold {
            return;
        }
        let (main, backup) = match self.state {
            State::Confirming { main, backup } => (Some(main), backup),
            _ => (None, None),
        };
        let softer = match main {
            Some(m) if impact_k <= m.impact_k => return,
            Some(m) if peak <= m.peak => {
                if backup.is_some() {
                    return;
                }
                true
            }
            Some(_) => {
                self.counters.superseded += 1;
                false
            }
            None => false,
        };
        self.counters.candidates += 1;
        self.last_checked_impact_k = Some(impact_k);
        let mut n = 0u32;
        let mut sum = [0f64; 3];
        let reference = impact_k - self.cfg.pre_ref..impact_k - self.cfg.pre_ref / 2;
        for f in w.range(reference.start, reference.end) {
            n += 1;
            for (s, a) in sum.iter_mut().zip(f.frame.acc) {
                *s += f64::from(a);
            }
        }
        let mut c = Candidate {
            impact_k,
            score,
            peak,
            pre_mean: (n > 0).then(|| sum.map(|s| (s / f64::from(n)) as f32)),
            carry: self.carry.get(),
            n: 0,
            sum_norm: 0.0,
            sum_norm2: 0.0,
            sum_acc: [0.0; 3],
        };
        // Frames of the check that are already stored count at once.
        let (from, to) = self.check_range(impact_k);
        for f in w.range(from, to) {
            c.accumulate(f);
        }
        match main {
            Some(main) if softer => {
                // A backup's check ends after the main one's, which decides first.
                self.state = State::Confirming {
                    main,
                    backup: Some(c),
                };
            }
            _ => {
                self.state = State::Confirming {
                    main: c,
                    backup: None,
                };
                if let Some(last) = w.last_k().filter(|&k| k >= to - 1) {
                    self.finish_check(last * GRID_PERIOD_NS, emit);
                }
            }
        }
    }

    fn check_range(&self, impact_k: i64) -> (i64, i64) {
        let from = impact_k + self.cfg.post_delay;
        (from, from + self.cfg.post_len)
    }

    /// A new frame was stored (before its window, if any, is decided). Advances the
    /// post-impact check and the timers; pushes events.
    fn advance(&mut self, f: &StoredFrame, mut emit: impl FnMut(Event)) {
        let k = f.frame.k;
        self.carry.update(f.frame.acc);
        if let State::Confirming { mut main, backup } = self.state {
            let backup = backup.map(|mut b| {
                let (from, to) = self.check_range(b.impact_k);
                if k >= from && k < to {
                    b.accumulate(f);
                }
                b
            });
            let (from, to) = self.check_range(main.impact_k);
            if k >= from && k < to {
                main.accumulate(f);
            }
            self.state = State::Confirming { main, backup };
            if k == to - 1 {
                self.finish_check(k * GRID_PERIOD_NS, &mut emit);
            }
            return;
        }
        self.tick(k * GRID_PERIOD_NS, emit);
    }

    /// The stream broke (gap, reset): a running check cannot complete.
    pub fn on_restart(&mut self) {
        if let State::Confirming { backup, .. } = self.state {
            self.counters.interrupted += 1 + u64::from(backup.is_some());
            self.state = State::Idle;
        }
    }

    /// End of the stream: a check with at least half its frames is decided on what it has
    /// (the backup's too, if the main one fails).
    pub fn on_finish(&mut self, t_ns: i64, mut emit: impl FnMut(Event)) {
        while let State::Confirming { main, backup } = self.state {
            if i64::from(main.n) * 2 >= self.cfg.post_len {
                self.finish_check(t_ns, &mut emit);
            } else {
                self.counters.interrupted += 1 + u64::from(backup.is_some());
                self.state = State::Idle;
            }
        }
    }

    /// Decides the main candidate's check at `t_ns`: alert, or reject it and go on with the
    /// backup, if any.
    fn finish_check(&mut self, t_ns: i64, mut emit: impl FnMut(Event)) {
        let State::Confirming { main: c, backup } = self.state else {
            return;
        };
        let n = f64::from(c.n.max(1));
        let mean = c.sum_norm / n;
        let std = (c.sum_norm2 / n - mean * mean).max(0.0).sqrt() as f32;
        let still = std <= self.cfg.still_std_ms2;
        let post_mean = c.sum_acc.map(|s| (s / n) as f32);
        let passed = match c.pre_mean {
            Some(pre) => {
                let d = pre[0] * post_mean[0] + pre[1] * post_mean[1] + pre[2] * post_mean[2];
                let den = norm(pre) * norm(post_mean);
                let turned = den > 0.0 && d / den <= self.cfg.orientation_cos;
                turned && std <= self.cfg.calm_std_ms2
            }
            None => still,
        } && !self.put_back(&c, post_mean);
        if passed {
            self.counters.alerts += 1;
            let impact_t_ns = c.impact_k * GRID_PERIOD_NS;
            emit(Event::Fall(DetectedFall {
                impact_t_ns,
                confirmed_t_ns: t_ns,
                score: c.score,
                peak_g: c.peak / STANDARD_GRAVITY,
            }));
            self.state = State::Alerting {
                impact_t_ns,
                deadline_ns: t_ns + self.cfg.cancel_ns,
            };
        } else {
            self.counters.rejected_post_check += 1;
            self.state = match backup {
                Some(b) => State::Confirming {
                    main: b,
                    backup: None,
                },
                None => State::Idle,
            };
        }
    }

    /// Whether the phone left the upright orientation it is carried in before the impact and
    /// returned to it after: put back into the pocket, not fallen with its wearer.
    fn put_back(&self, c: &Candidate, post_mean: [f32; 3]) -> bool {
        let (Some(cos_in), Some(carry), Some(pre)) =
            (self.cfg.carry_return_cos, c.carry, c.pre_mean)
        else {
            return false;
        };
        let upright =
            axis_cos(carry, [0.0, 0.0, 1.0]) <= CARRY_UPRIGHT_MIN_TILT_DEG.to_radians().cos();
        upright && axis_cos(carry, pre) < cos_in && axis_cos(carry, post_mean) >= cos_in
    }

    /// Advances the alert and cooldown timers to `now_ns` (sensor clock).
    pub fn tick(&mut self, now_ns: i64, mut emit: impl FnMut(Event)) {
        match self.state {
            State::Alerting {
                impact_t_ns,
                deadline_ns,
            } if now_ns >= deadline_ns => {
                emit(Event::AlertEscalated {
                    impact_t_ns,
                    t_ns: now_ns,
                    by_user: false,
                });
                self.state = State::Cooldown {
                    until_ns: now_ns + self.cfg.cooldown_ns,
                };
            }
            State::Cooldown { until_ns } if now_ns >= until_ns => self.state = State::Idle,
            _ => {}
        }
    }

    /// The user cancelled the alert at `now_ns`. Returns false when no alert was raised.
    pub fn cancel(&mut self, now_ns: i64, emit: impl FnMut(Event)) -> bool {
        self.end_alert(now_ns, emit, |impact_t_ns| Event::AlertCancelled {
            impact_t_ns,
            t_ns: now_ns,
        })
    }

    /// The user asked for help at `now_ns`: escalates the raised alert at once. Returns false
    /// when no alert was raised.
    pub fn confirm(&mut self, now_ns: i64, emit: impl FnMut(Event)) -> bool {
        self.end_alert(now_ns, emit, |impact_t_ns| Event::AlertEscalated {
            impact_t_ns,
            t_ns: now_ns,
            by_user: true,
        })
    }

    /// Ends a raised alert at `now_ns` with the event `answer` makes from its impact instant,
    /// then cools down. Returns false when no alert was raised.
    fn end_alert(
        &mut self,
        now_ns: i64,
        mut emit: impl FnMut(Event),
        answer: impl FnOnce(i64) -> Event,
    ) -> bool {
        let State::Alerting { impact_t_ns, .. } = self.state else {
            return false;
        };
        emit(answer(impact_t_ns));
        self.state = State::Cooldown {
            until_ns: now_ns + self.cfg.cooldown_ns,
        };
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Frame;

    /// The score the tests give a fall window: the model's highest output (255/256), at or above
    /// every threshold a card may hold, so the tests do not depend on the shipped threshold.
    const FALL_SCORE: f32 = 255.0 / 256.0;

    /// The shipped card.
    fn card() -> ModelCard {
        ModelCard::from_json(include_str!("../../../models/model_card.json")).expect("card")
    }

    /// The falls among `events`.
    fn falls(events: &[Event]) -> Vec<DetectedFall> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Fall(f) => Some(*f),
                _ => None,
            })
            .collect()
    }

    /// Drives a detector with frames from `acc(k)`; scores every window the detector asks for
    /// with `score`. Returns the events.
    fn drive(
        cfg: DetectorConfig,
        frames: std::ops::Range<i64>,
        acc: impl Fn(i64) -> [f32; 3],
        score: f32,
        mut between: impl FnMut(i64, &mut Detector, &mut Vec<Event>),
    ) -> (Vec<Event>, Detector) {
        let c = card();
        let cfg = cfg.resolve(&c, SensorSet::Full).expect("valid config");
        let mut w = Windower::new(100, cfg.hop);
        let mut d = Detector::new(cfg);
        let mut events = Vec::new();
        for k in frames {
            let step = w.push(&Frame {
                k,
                acc: acc(k),
                gyro: [0.0; 3],
            });
            if let WindowVerdict::Window {
                impact_k,
                peak,
                score: true,
            } = d.on_frame(&w, step.complete, |e| events.push(e))
            {
                d.on_score(&w, impact_k, peak, score, |e| events.push(e));
            }
            between(k, &mut d, &mut events);
        }
        (events, d)
    }

    const IMPACT: i64 = 1000;
    const UP: [f32; 3] = [0.0, 9.81, 0.0];
    const FLAT: [f32; 3] = [0.0, 0.0, 9.81];

    /// Standing until the impact (3 g), then lying flat and still.
    fn fall(k: i64) -> [f32; 3] {
        match k {
            k if k < IMPACT => UP,
            IMPACT => [0.0, 29.4, 0.0],
            _ => FLAT,
        }
    }

    #[test]
    fn impact_confirmed_and_still_raises_one_alert_at_the_end_of_the_check() {
        let (events, d) = drive(
            DetectorConfig::default(),
            0..1300,
            fall,
            FALL_SCORE,
            |_, _, _| {},
        );
        let falls = falls(&events);
        assert_eq!(falls.len(), 1, "{events:?}");
        let DetectedFall {
            impact_t_ns,
            confirmed_t_ns,
            score,
            peak_g,
        } = falls[0];
        assert_eq!(impact_t_ns, IMPACT * GRID_PERIOD_NS);
        // Check = frames impact+50 .. impact+125; confirmed at its last frame.
        assert_eq!(confirmed_t_ns, (IMPACT + 124) * GRID_PERIOD_NS);
        assert_eq!(score, FALL_SCORE);
        assert!((peak_g - 3.0).abs() < 0.01);
        assert_eq!(d.phase(), DetectorPhase::Alerting);
    }

    #[test]
    fn below_the_trigger_the_model_never_runs() {
        let (events, d) = drive(
            DetectorConfig::default(),
            0..1300,
            |_| UP,
            0.99,
            |_, _, _| {},
        );
        assert!(events.is_empty());
        assert_eq!(d.counters().scored, 0);
        assert!(d.counters().windows > 40);
    }

    #[test]
    fn a_low_score_is_no_candidate() {
        let (events, d) = drive(DetectorConfig::default(), 0..1300, fall, 0.2, |_, _, _| {});
        assert!(events.is_empty());
        assert!(d.counters().scored >= 1);
        assert_eq!(d.counters().candidates, 0);
    }

    #[test]
    fn moving_on_upright_after_the_impact_is_rejected_by_the_post_impact_check() {
        // A jump: 3 g, then walking on upright (|a| swinging by +-0.4 g).
        let walk_on = |k: i64| match k {
            IMPACT => [0.0, 29.4, 0.0],
            k if k > IMPACT => [0.0, 9.81 + 4.0 * ((k as f32) * 0.6).sin(), 0.0],
            _ => UP,
        };
        let (events, d) = drive(
            DetectorConfig::default(),
            0..1300,
            walk_on,
            FALL_SCORE,
            |_, _, _| {},
        );
        assert!(events.is_empty(), "{events:?}");
        assert_eq!(d.counters().candidates, 1);
        assert_eq!(d.counters().rejected_post_check, 1);
    }

    /// Phone in the pocket upside down (gravity along -y), out in the hand (at the ear, x),
    /// jolted at `IMPACT`, then `after` and still.
    fn call_then(after: [f32; 3]) -> impl Fn(i64) -> [f32; 3] {
        move |k| match k {
            k if k < IMPACT - 300 => [0.0, -9.81, 0.0],
            k if k < IMPACT => [-8.5, 4.9, 0.0],
            IMPACT => [0.0, 29.4, 0.0],
            _ => after,
        }
    }

    fn alerts(cfg: DetectorConfig, acc: impl Fn(i64) -> [f32; 3]) -> u64 {
        let (_, d) = drive(cfg, 0..1300, acc, FALL_SCORE, |_, _, _| {});
        assert_eq!(d.counters().candidates, 1);
        d.counters().alerts
    }

    #[test]
    fn a_phone_put_back_where_it_is_carried_raises_no_alert() {
        // Back in the pocket, the right way up or turned end over end: same axis.
        for back in [[0.0, -9.81, 0.0], UP, [1.5, 9.6, 1.0]] {
            assert_eq!(
                alerts(DetectorConfig::default(), call_then(back)),
                0,
                "{back:?}"
            );
        }
        // The rule off: the same jolt and turn is a fall.
        let off = DetectorConfig {
            carry_return_deg: 0.0,
            ..Default::default()
        };
        assert_eq!(alerts(off, call_then(UP)), 1);
        // Out of the hand onto the floor, flat: a fall as before.
        assert_eq!(alerts(DetectorConfig::default(), call_then(FLAT)), 1);
    }

    #[test]
    fn the_put_back_rule_needs_the_phone_out_before_and_carried_upright() {
        // Carried upright and still there just before the impact: ends upright, turned end
        // over end (a backward fall with the legs up) is a fall.
        let flipped = |k: i64| match k {
            k if k < IMPACT => [0.0, -9.81, 0.0],
            IMPACT => [0.0, 29.4, 0.0],
            _ => [-3.5, 9.1, 0.0],
        };
        assert_eq!(alerts(DetectorConfig::default(), flipped), 1);
        // Carried flat (a phone on a table), picked up, then flat again: the rule does not apply.
        let table = |k: i64| match k {
            k if k < IMPACT - 300 => FLAT,
            k if k < IMPACT => UP,
            IMPACT => [0.0, 29.4, 0.0],
            _ => FLAT,
        };
        assert_eq!(alerts(DetectorConfig::default(), table), 1);
    }

    #[test]
    fn an_uncancelled_alert_escalates_then_cools_down() {
        let (events, d) = drive(
            DetectorConfig::default(),
            0..(IMPACT + 125 + 1500 + 600),
            fall,
            FALL_SCORE,
            |_, _, _| {},
        );
        let kinds: Vec<&str> = events
            .iter()
            .map(|e| match e {
                Event::Fall(_) => "fall",
                Event::AlertEscalated { by_user: false, .. } => "escalated",
                Event::AlertEscalated { by_user: true, .. } => "confirmed",
                Event::AlertCancelled { .. } => "cancelled",
                Event::SensorStalled { .. } | Event::SensorResumed { .. } => "sensor",
            })
            .collect();
        assert_eq!(kinds, vec!["fall", "escalated"]);
        let Event::AlertEscalated { t_ns, .. } = events[1] else {
            unreachable!()
        };
        assert_eq!(t_ns, (IMPACT + 124 + 1500) * GRID_PERIOD_NS);
        assert_eq!(d.phase(), DetectorPhase::Idle);
    }

    #[test]
    fn cancelling_stops_the_alert_and_a_second_impact_in_cooldown_is_ignored() {
        let second = IMPACT + 400;
        let two_falls = |k: i64| {
            if k == second {
                [0.0, 0.0, 39.0]
            } else {
                fall(k)
            }
        };
        let (events, d) = drive(
            DetectorConfig::default(),
            0..(IMPACT + 700),
            two_falls,
            FALL_SCORE,
            |k, d, ev| {
                if k == IMPACT + 200 {
                    assert!(d.cancel(k * GRID_PERIOD_NS, |e| ev.push(e)));
                }
            },
        );
        assert_eq!(events.len(), 2, "{events:?}");
        assert!(matches!(events[1], Event::AlertCancelled { .. }));
        assert_eq!(d.phase(), DetectorPhase::Cooldown);
        assert_eq!(d.counters().candidates, 1);
    }

    #[test]
    fn a_later_confirmed_impact_replaces_a_pending_candidate() {
        // A stumble (2.5 g) while standing, the fall's impact 1.2 s later, then lying.
        let stumble = IMPACT - 60;
        let two_peaks = |k: i64| match k {
            k if k == stumble => [0.0, 24.5, 0.0],
            k if k < IMPACT => UP,
            IMPACT => [0.0, 29.4, 0.0],
            _ => FLAT,
        };
        let (events, d) = drive(
            DetectorConfig::default(),
            0..1300,
            two_peaks,
            FALL_SCORE,
            |_, _, _| {},
        );
        let falls = falls(&events);
        assert_eq!(falls.len(), 1, "{events:?}");
        assert_eq!(falls[0].impact_t_ns, IMPACT * GRID_PERIOD_NS, "{falls:?}");
        assert_eq!(d.counters().superseded, 1);
    }

    #[test]
    fn a_softer_impact_after_the_fall_does_not_delay_the_alert() {
        // The fall's impact (3 g), then the body settling (2.2 g) 0.8 s later, then lying.
        let settle = IMPACT + 40;
        let bounce = |k: i64| match k {
            IMPACT => [0.0, 29.4, 0.0],
            k if k == settle => [0.0, 0.0, 21.6],
            k if k < IMPACT => UP,
            _ => FLAT,
        };
        let (events, d) = drive(
            DetectorConfig::default(),
            0..1300,
            bounce,
            FALL_SCORE,
            |_, _, _| {},
        );
        let falls = falls(&events);
        assert_eq!(falls.len(), 1, "{events:?}");
        assert_eq!(falls[0].impact_t_ns, IMPACT * GRID_PERIOD_NS);
        // the check ran from the fall's impact: delay + length after it, not after the settling
        let check_ns = i64::from(
            DetectorConfig::default().post_impact_delay_ms
                + DetectorConfig::default().post_impact_len_ms,
        ) * 1_000_000;
        assert!(
            falls[0].confirmed_t_ns - falls[0].impact_t_ns <= check_ns,
            "{falls:?}"
        );
        assert_eq!(d.counters().superseded, 0);
    }

    #[test]
    fn a_softer_impact_alerts_when_the_harder_ones_check_fails() {
        // The phone lies flat, is picked up 1.1 s before a hard jolt (3 g), and 0.8 s after
        // the jolt a softer impact (2.2 g) leaves it flat and still. Against the orientation
        // 2 s to 1 s before the jolt (flat) nothing turned, so the jolt's check fails; against
        // the second before the softer impact (upright) the phone turned: that one alerts.
        let picked_up = IMPACT - 55;
        let softer = IMPACT + 40;
        let signal = |k: i64| match k {
            IMPACT => [0.0, 29.4, 0.0],
            k if k == softer => [0.0, 0.0, 21.6],
            k if k < picked_up => FLAT,
            k if k < IMPACT => UP,
            _ => FLAT,
        };
        let (events, d) = drive(
            DetectorConfig::default(),
            0..1300,
            signal,
            FALL_SCORE,
            |_, _, _| {},
        );
        let falls = falls(&events);
        assert_eq!(falls.len(), 1, "{events:?}");
        assert_eq!(falls[0].impact_t_ns, softer * GRID_PERIOD_NS, "{falls:?}");
        let c = d.counters();
        assert_eq!(
            (c.candidates, c.rejected_post_check, c.superseded),
            (2, 1, 0)
        );
    }

    /// Every config the issue found switching detection off (or nonsensical) is refused with
    /// a message naming the field, its range and the value.
    #[test]
    fn out_of_range_configs_are_refused() {
        let c = card();
        for (json, field, range, value) in [
            (r#"{"trigger_g": 1e38}"#, "trigger_g", "[1.2, 3] g", "1e38"),
            (r#"{"trigger_g": 1e39}"#, "trigger_g", "[1.2, 3] g", "inf"),
            (r#"{"trigger_g": -1}"#, "trigger_g", "[1.2, 3] g", "-1.0"),
            (r#"{"trigger_g": 0.5}"#, "trigger_g", "[1.2, 3] g", "0.5"),
            (r#"{"threshold": 1}"#, "threshold", "(0, 0.99609375]", "1.0"),
            (r#"{"threshold": 2}"#, "threshold", "(0, 0.99609375]", "2.0"),
            (
                r#"{"threshold": 0.999}"#,
                "threshold",
                "(0, 0.99609375]",
                "0.999",
            ),
            (r#"{"threshold": 0}"#, "threshold", "(0, 0.99609375]", "0.0"),
            (
                r#"{"threshold": -0.5}"#,
                "threshold",
                "(0, 0.99609375]",
                "-0.5",
            ),
            (
                r#"{"still_std_g": -0.1}"#,
                "still_std_g",
                "[0.05, 1] g",
                "-0.1",
            ),
            (r#"{"calm_std_g": -1}"#, "calm_std_g", "[0.05, 1] g", "-1.0"),
            (r#"{"calm_std_g": 0}"#, "calm_std_g", "[0.05, 1] g", "0.0"),
            (
                r#"{"orientation_change_deg": 1e38}"#,
                "orientation_change_deg",
                "[10, 120] degrees",
                "1e38",
            ),
            (
                r#"{"orientation_change_deg": -720}"#,
                "orientation_change_deg",
                "[10, 120] degrees",
                "-720.0",
            ),
            (
                r#"{"orientation_change_deg": 400}"#,
                "orientation_change_deg",
                "[10, 120] degrees",
                "400.0",
            ),
            (
                r#"{"pre_impact_ref_ms": 3000}"#,
                "pre_impact_ref_ms",
                "[500, 2000] ms",
                "3000",
            ),
            (
                r#"{"carry_return_deg": 90}"#,
                "carry_return_deg",
                "[0, 45] degrees",
                "90.0",
            ),
            (
                r#"{"carry_time_constant_s": 0}"#,
                "carry_time_constant_s",
                "[10, 3600] s",
                "0.0",
            ),
            (
                r#"{"cancel_window_ms": 0}"#,
                "cancel_window_ms",
                "[5000, 300000] ms",
                "0",
            ),
            (
                r#"{"cancel_window_ms": 4294967295}"#,
                "cancel_window_ms",
                "[5000, 300000] ms",
                "4294967295",
            ),
            (
                r#"{"cooldown_ms": 4294967295}"#,
                "cooldown_ms",
                "[0, 300000] ms",
                "4294967295",
            ),
            (r#"{"hop_frames": 0}"#, "hop_frames", "[1, 40] frames", "0"),
            (
                r#"{"hop_frames": 41}"#,
                "hop_frames",
                "[1, 40] frames",
                "41",
            ),
            (
                r#"{"hop_frames": 1000000000000000000}"#,
                "hop_frames",
                "[1, 40] frames",
                "1000000000000000000",
            ),
            (
                r#"{"post_impact_delay_ms": 60000}"#,
                "post_impact_delay_ms",
                "[0, 5000] ms",
                "60000",
            ),
            (
                r#"{"post_impact_len_ms": 0}"#,
                "post_impact_len_ms",
                "[500, 5000] ms",
                "0",
            ),
        ] {
            let cfg = DetectorConfig::from_json(json).expect(json);
            let err = cfg.resolve(&c, SensorSet::Full).expect_err(json);
            assert_eq!(
                err,
                ConfigError::OutOfRange {
                    field,
                    range: range.into(),
                    value: value.into(),
                },
                "{json}"
            );
            let msg = err.to_string();
            assert!(
                msg.contains(field) && msg.contains(range) && msg.contains(value),
                "{msg}"
            );
        }
    }

    #[test]
    fn defaults_and_range_ends_are_accepted() {
        let c = card();
        for sensors in [SensorSet::Full, SensorSet::AccOnly] {
            DetectorConfig::default()
                .resolve(&c, sensors)
                .expect("defaults");
        }
        let ends = r#"{"hop_frames": 40, "trigger_g": 3, "threshold": 0.99609375,
            "still_std_g": 0.05, "calm_std_g": 1, "orientation_change_deg": 120,
            "carry_return_deg": 45, "carry_time_constant_s": 3600, "pre_impact_ref_ms": 2000,
            "cancel_window_ms": 5000, "cooldown_ms": 0, "post_impact_delay_ms": 5000,
            "post_impact_len_ms": 5000}"#;
        let cfg = DetectorConfig::from_json(ends).expect("json");
        let r = cfg.resolve(&c, SensorSet::Full).expect("range ends");
        assert_eq!((r.hop, r.post_delay, r.post_len), (40, 250, 250));
    }

    #[test]
    fn only_a_json_object_of_known_keys_is_a_config() {
        // serde fills a struct from an array by position: `[3]` would set the hop.
        for text in ["[3]", "[]", "3", "null", r#""x""#, r#"{"hop": 3}"#, "{", ""] {
            let err = DetectorConfig::from_json(text).expect_err(text);
            assert!(matches!(err, ConfigError::Json(_)), "{text}: {err}");
        }
        let cfg = DetectorConfig::from_json("\u{feff}{\"hop_frames\": 5}").expect("BOM");
        assert_eq!(cfg.hop_frames, Some(5));
        assert_eq!(
            DetectorConfig::from_json("{}"),
            Ok(DetectorConfig::default())
        );
    }

    /// The README states the table's ranges, so they cannot drift apart.
    #[test]
    fn the_readme_states_every_range() {
        let readme = include_str!("../../../README.md");
        for l in [
            limits::HOP_FRAMES,
            limits::TRIGGER_G,
            limits::THRESHOLD,
            limits::POST_IMPACT_DELAY_MS,
            limits::POST_IMPACT_LEN_MS,
            limits::STILL_STD_G,
            limits::CALM_STD_G,
            limits::ORIENTATION_CHANGE_DEG,
            limits::PRE_IMPACT_REF_MS,
            limits::CARRY_RETURN_DEG,
            limits::CARRY_TIME_CONSTANT_S,
            limits::CANCEL_WINDOW_MS,
            limits::COOLDOWN_MS,
        ] {
            let stated = format!("`{}` {}", l.field, l.range());
            assert!(readme.contains(&stated), "README lacks {stated}");
        }
    }
}

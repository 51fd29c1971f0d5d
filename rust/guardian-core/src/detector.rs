//! Detection: the impact trigger, model confirmation, post-impact check, cancellable alert and
//! cooldown that turn window scores into fall events.

use serde::{Deserialize, Serialize};

use crate::card::ModelCard;
use crate::frame::norm;
use crate::resampler::GRID_PERIOD_NS;
use crate::sample::{Sensor, STANDARD_GRAVITY};
use crate::window::{StoredFrame, Windower};

/// Detection thresholds and timings. Every field has a default; `None` fields take the model
/// card's value. Serialized as JSON for `--config` files and the FFI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorConfig {
    /// Frames between window starts (card default: 25 = 0.5 s).
    pub hop_frames: Option<usize>,
    /// Impact trigger on |a| in the window's band, in g (card default).
    pub trigger_g: Option<f32>,
    /// Decision threshold on the model score in [0, 1] (card default, chosen on validation).
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
    /// Changed orientation: angle between mean acceleration before the fall (2 s to 1 s
    /// before impact) and during the check at least this, degrees.
    pub orientation_change_deg: f32,
    /// The check passes when the orientation changed and the standard deviation of |a| over
    /// the check is at most this, in g: someone who runs on, or stops and stands, after a jolt
    /// is not lying after a fall.
    pub calm_std_g: f32,
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
            cancel_window_ms: 30_000,
            cooldown_ms: 10_000,
        }
    }
}

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
    pub cancel_ns: i64,
    pub cooldown_ns: i64,
}

impl DetectorConfig {
    /// Fills defaults from `card` and checks ranges; `threshold` is the chosen model's.
    pub(crate) fn resolve(&self, card: &ModelCard, threshold: f32) -> Result<Resolved, String> {
        let frames = |ms: u32| i64::from(ms) * 1_000_000 / GRID_PERIOD_NS;
        let hop = self.hop_frames.unwrap_or(card.hop_frames);
        let trigger_g = self.trigger_g.unwrap_or(card.trigger_g);
        let threshold = self.threshold.unwrap_or(threshold);
        if hop == 0 || hop > card.window_frames {
            return Err(format!(
                "hop_frames must be in 1..={}, got {hop}",
                card.window_frames
            ));
        }
        if !(trigger_g.is_finite() && trigger_g >= 0.0) {
            return Err(format!("trigger_g must be >= 0, got {trigger_g}"));
        }
        if !(0.0..=1.0).contains(&threshold) {
            return Err(format!("threshold must be in [0, 1], got {threshold}"));
        }
        let [b0, b1] = card.band;
        if !(b0 < b1 && b1 <= card.window_frames) {
            return Err(format!("card band {:?} does not fit the window", card.band));
        }
        let post_len = frames(self.post_impact_len_ms).max(1);
        if frames(self.post_impact_delay_ms) + post_len > 500 {
            return Err("post-impact check must end within 10 s of the impact".into());
        }
        Ok(Resolved {
            hop,
            band: card.band,
            trigger_ms2: trigger_g * STANDARD_GRAVITY,
            threshold,
            impact_trigger: self.impact_trigger,
            post_delay: frames(self.post_impact_delay_ms),
            post_len,
            still_std_ms2: self.still_std_g * STANDARD_GRAVITY,
            calm_std_ms2: self.calm_std_g * STANDARD_GRAVITY,
            orientation_cos: self.orientation_change_deg.to_radians().cos(),
            cancel_ns: i64::from(self.cancel_window_ms) * 1_000_000,
            cooldown_ns: i64::from(self.cooldown_ms) * 1_000_000,
        })
    }
}

/// What the engine tells its host.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A fall was detected and an alert raised; the user may cancel it.
    Fall {
        /// Impact instant, ns (sensor clock).
        impact_t_ns: i64,
        /// Instant the post-impact check confirmed the fall and the alert was raised, ns.
        confirmed_t_ns: i64,
        /// Model score of the confirming window, in [0, 1].
        score: f32,
        /// Peak |a| at the impact, in g.
        peak_g: f32,
    },
    /// The user cancelled the alert ("I'm OK").
    AlertCancelled {
        /// Impact instant of the cancelled alert, ns.
        impact_t_ns: i64,
        /// Instant of the cancellation, ns (sensor clock).
        t_ns: i64,
    },
    /// The host should call for help: nobody cancelled within the cancel window, or the user
    /// asked for help (`by_user`).
    AlertEscalated {
        /// Impact instant of the alert, ns.
        impact_t_ns: i64,
        /// Instant of the escalation, ns (sensor clock).
        t_ns: i64,
        /// True when the user confirmed the alert ("I need help") before the window ran out.
        #[serde(default)]
        by_user: bool,
    },
    /// Full mode only: one sensor has delivered nothing for longer than the engine can hold the
    /// other's values (`frame::MAX_PENDING`, 5.12 s), so no frames are made and falls cannot
    /// be detected. A host that sees this for the gyroscope can switch to the acc_only model.
    SensorStalled {
        /// The silent sensor.
        sensor: Sensor,
        /// Timestamp of the newest sample pushed when the stall was noticed, ns.
        t_ns: i64,
    },
    /// Frames are made again after [`Event::SensorStalled`].
    SensorResumed {
        /// The sensor that had stalled.
        sensor: Sensor,
        /// Timestamp of the first frame made again, ns.
        t_ns: i64,
    },
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
    n: u32,
    sum_norm: f64,
    sum_norm2: f64,
    sum_acc: [f64; 3],
}

#[derive(Debug, Clone, Copy)]
enum State {
    Idle,
    Confirming(Candidate),
    Alerting { impact_t_ns: i64, deadline_ns: i64 },
    Cooldown { until_ns: i64 },
}

/// What the detector wants after a window was cut.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum WindowVerdict {
    /// Do not run the model (not idle, or the trigger did not fire).
    Skip,
    /// Run the model; the band's impact frame is `impact_k` with |a| `peak` m/s^2.
    Score { impact_k: i64, peak: f32 },
}

/// The detection state machine. Time is the sensor clock, advanced by frames and `tick`.
#[derive(Debug, Clone)]
pub(crate) struct Detector {
    cfg: Resolved,
    state: State,
    last_checked_impact_k: Option<i64>,
    counters: DetectorCounters,
}

impl Detector {
    pub fn new(cfg: Resolved) -> Self {
        Self {
            cfg,
            state: State::Idle,
            last_checked_impact_k: None,
            counters: Default::default(),
        }
    }

    pub fn cfg(&self) -> &Resolved {
        &self.cfg
    }

    pub fn counters(&self) -> &DetectorCounters {
        &self.counters
    }

    pub fn phase(&self) -> DetectorPhase {
        match self.state {
            State::Idle => DetectorPhase::Idle,
            State::Confirming(_) => DetectorPhase::Confirming,
            State::Alerting { .. } => DetectorPhase::Alerting,
            State::Cooldown { .. } => DetectorPhase::Cooldown,
        }
    }

    /// A window just completed in `w`: decides whether the model should run on it.
    pub fn on_window(&mut self, w: &Windower) -> WindowVerdict {
        self.counters.windows += 1;
        let window = w.window();
        let [b0, b1] = self.cfg.band;
        let mut best: Option<(i64, f32)> = None;
        for f in w.recent(window).skip(b0).take(b1 - b0) {
            if best.is_none_or(|(_, p)| f.acc_norm > p) {
                best = Some((f.k, f.acc_norm));
            }
        }
        let Some((impact_k, peak)) = best else {
            return WindowVerdict::Skip;
        };
        let triggered = !self.cfg.impact_trigger || peak >= self.cfg.trigger_ms2;
        if triggered {
            self.counters.triggered += 1;
        }
        let already = self.last_checked_impact_k.is_some_and(|k| impact_k <= k);
        // While a candidate is being checked, a later impact is still scored: a stumble is
        // often confirmed first, and the fall's own impact must be able to replace it.
        let open = match self.state {
            State::Idle => true,
            State::Confirming(c) => impact_k > c.impact_k,
            State::Alerting { .. } | State::Cooldown { .. } => false,
        };
        if !triggered || already || !open {
            return WindowVerdict::Skip;
        }
        self.counters.scored += 1;
        WindowVerdict::Score { impact_k, peak }
    }

    /// The model scored the window `on_window` asked for.
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
        if let State::Confirming(c) = self.state {
            if impact_k <= c.impact_k {
                return;
            }
            self.counters.superseded += 1;
        }
        self.counters.candidates += 1;
        self.last_checked_impact_k = Some(impact_k);
        let mut n = 0u32;
        let mut sum = [0f64; 3];
        for f in w.range(impact_k - 100, impact_k - 50) {
            n += 1;
            for (s, a) in sum.iter_mut().zip(f.acc) {
                *s += f64::from(a);
            }
        }
        let pre_mean = (n > 0).then(|| sum.map(|s| (s / f64::from(n)) as f32));
        self.state = State::Confirming(Candidate {
            impact_k,
            score,
            peak,
            pre_mean,
            n: 0,
            sum_norm: 0.0,
            sum_norm2: 0.0,
            sum_acc: [0.0; 3],
        });
        // Frames of the check that are already stored count at once.
        let (from, to) = self.check_range(impact_k);
        for f in w.range(from, to) {
            self.accumulate(f);
        }
        if let Some(last) = w.last_k().filter(|&k| k >= to - 1) {
            self.finish_check(last * GRID_PERIOD_NS, emit);
        }
    }

    fn check_range(&self, impact_k: i64) -> (i64, i64) {
        let from = impact_k + self.cfg.post_delay;
        (from, from + self.cfg.post_len)
    }

    fn accumulate(&mut self, f: &StoredFrame) {
        if let State::Confirming(c) = &mut self.state {
            c.n += 1;
            c.sum_norm += f64::from(f.acc_norm);
            c.sum_norm2 += f64::from(f.acc_norm) * f64::from(f.acc_norm);
            for (s, a) in c.sum_acc.iter_mut().zip(f.acc) {
                *s += f64::from(a);
            }
        }
    }

    /// A new frame was stored (after `on_window` for the same frame, if any). Advances the
    /// post-impact check and the timers; pushes events.
    pub fn on_frame(&mut self, f: &StoredFrame, mut emit: impl FnMut(Event)) {
        if let State::Confirming(c) = self.state {
            let (from, to) = self.check_range(c.impact_k);
            if f.k >= from && f.k < to {
                self.accumulate(f);
                if f.k == to - 1 {
                    self.finish_check(f.k * GRID_PERIOD_NS, &mut emit);
                }
            }
            return;
        }
        self.tick(f.k * GRID_PERIOD_NS, emit);
    }

    /// The stream broke (gap, reset): a running check cannot complete.
    pub fn on_restart(&mut self) {
        if let State::Confirming(_) = self.state {
            self.counters.interrupted += 1;
            self.state = State::Idle;
        }
    }

    /// End of the stream: a check with at least half its frames is decided on what it has.
    pub fn on_finish(&mut self, t_ns: i64, emit: impl FnMut(Event)) {
        if let State::Confirming(c) = self.state {
            if i64::from(c.n) * 2 >= self.cfg.post_len {
                self.finish_check(t_ns, emit);
            } else {
                self.counters.interrupted += 1;
                self.state = State::Idle;
            }
        }
    }

    fn finish_check(&mut self, t_ns: i64, mut emit: impl FnMut(Event)) {
        let State::Confirming(c) = self.state else {
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
        };
        if passed {
            self.counters.alerts += 1;
            let impact_t_ns = c.impact_k * GRID_PERIOD_NS;
            emit(Event::Fall {
                impact_t_ns,
                confirmed_t_ns: t_ns,
                score: c.score,
                peak_g: c.peak / STANDARD_GRAVITY,
            });
            self.state = State::Alerting {
                impact_t_ns,
                deadline_ns: t_ns + self.cfg.cancel_ns,
            };
        } else {
            self.counters.rejected_post_check += 1;
            self.state = State::Idle;
        }
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
    use crate::card::{CardModels, ModelSpec, TensorSpec};
    use crate::frame::Frame;

    fn card() -> ModelCard {
        let spec = |c: usize| ModelSpec {
            file: String::new(),
            channels: Vec::new(),
            requires_gyro: c == 8,
            input: TensorSpec {
                shape: vec![1, 100, 1, c],
                dtype: "int8".into(),
                scale: 0.008,
                zero_point: 0,
            },
            output: TensorSpec {
                shape: vec![1, 1],
                dtype: "int8".into(),
                scale: 1.0 / 256.0,
                zero_point: -128,
            },
            threshold: 0.5,
            sha256: None,
        };
        ModelCard {
            preprocessing_version: 1,
            sample_rate_hz: 50,
            window_frames: 100,
            hop_frames: 25,
            band: [40, 80],
            trigger_g: 1.8,
            models: CardModels {
                full: spec(8),
                acc_only: spec(4),
            },
        }
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
        let cfg = cfg.resolve(&c, 0.5).expect("valid config");
        let mut w = Windower::new(100, cfg.hop);
        let mut d = Detector::new(cfg);
        let mut events = Vec::new();
        for k in frames {
            let (_, complete) = w.push(&Frame {
                k,
                acc: acc(k),
                gyro: [0.0; 3],
            });
            let newest = *w.newest().expect("frame");
            d.on_frame(&newest, |e| events.push(e));
            if complete {
                if let WindowVerdict::Score { impact_k, peak } = d.on_window(&w) {
                    d.on_score(&w, impact_k, peak, score, |e| events.push(e));
                }
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
        let (events, d) = drive(DetectorConfig::default(), 0..1300, fall, 0.9, |_, _, _| {});
        let falls: Vec<_> = events
            .iter()
            .filter(|e| matches!(e, Event::Fall { .. }))
            .collect();
        assert_eq!(falls.len(), 1, "{events:?}");
        let Event::Fall {
            impact_t_ns,
            confirmed_t_ns,
            score,
            peak_g,
        } = *falls[0]
        else {
            unreachable!()
        };
        assert_eq!(impact_t_ns, IMPACT * GRID_PERIOD_NS);
        // Check = frames impact+50 .. impact+125; confirmed at its last frame.
        assert_eq!(confirmed_t_ns, (IMPACT + 124) * GRID_PERIOD_NS);
        assert!((score - 0.9).abs() < 1e-6);
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
            0.9,
            |_, _, _| {},
        );
        assert!(events.is_empty(), "{events:?}");
        assert_eq!(d.counters().candidates, 1);
        assert_eq!(d.counters().rejected_post_check, 1);
    }

    #[test]
    fn an_uncancelled_alert_escalates_then_cools_down() {
        let (events, d) = drive(
            DetectorConfig::default(),
            0..(IMPACT + 125 + 1500 + 600),
            fall,
            0.9,
            |_, _, _| {},
        );
        let kinds: Vec<&str> = events
            .iter()
            .map(|e| match e {
                Event::Fall { .. } => "fall",
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
            0.9,
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
            0.9,
            |_, _, _| {},
        );
        let falls: Vec<_> = events
            .iter()
            .filter(|e| matches!(e, Event::Fall { .. }))
            .collect();
        assert_eq!(falls.len(), 1, "{events:?}");
        assert!(
            matches!(falls[0], Event::Fall { impact_t_ns, .. } if *impact_t_ns == IMPACT * GRID_PERIOD_NS),
            "{falls:?}"
        );
        assert_eq!(d.counters().superseded, 1);
    }

    #[test]
    fn out_of_range_configs_are_refused() {
        let c = card();
        for cfg in [
            DetectorConfig {
                hop_frames: Some(0),
                ..Default::default()
            },
            DetectorConfig {
                threshold: Some(1.5),
                ..Default::default()
            },
            DetectorConfig {
                trigger_g: Some(f32::NAN),
                ..Default::default()
            },
            DetectorConfig {
                post_impact_len_ms: 10_000,
                ..Default::default()
            },
        ] {
            assert!(cfg.resolve(&c, 0.5).is_err(), "{cfg:?}");
        }
    }
}

//! Synthetic phone movement with known truth.
//!
//! A [`Scenario`] is a chain of activities of a person with a phone in a trouser pocket (or on a
//! table, or in the hand during a phone call: [`Scenario::phone_call`], [`phone_call_trial`]).
//! Rendering it simulates the phone's orientation and the body's linear acceleration, then
//! samples an Android-convention accelerometer (m/s^2, gravity included, clipped at the
//! sensor's range) and gyroscope (rad/s) at jittery irregular timestamps. Everything is
//! deterministic for a seed.

mod motion;
mod phone;
mod rng;
mod rotation;

use guardian_core::{Sample, STANDARD_GRAVITY as G};
use serde::{Deserialize, Serialize};

use motion::{pose, Pose};
use phone::{Call, CallPath};
pub use rng::SplitMix64;
use rotation::{Mat3, Vec3};

/// What a person does during one stretch of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    /// Standing with small body sway.
    Standing,
    /// Sitting on a chair (thigh horizontal).
    Sitting,
    /// Lying in bed or on the floor.
    Lying,
    /// Walking at about 1.8 steps/s.
    Walking,
    /// Walking up or down stairs.
    Stairs,
    /// Jogging: larger impacts at every step.
    Jogging,
    /// Sitting down hard onto a chair: an impact, then still.
    SitDownHard,
    /// Getting up from a chair or from lying.
    GettingUp,
    /// Lying down gently (into bed).
    LyingDown,
    /// The phone slips out of a hand and lands on a table.
    PhoneDropped,
    /// The phone lies on a table.
    PhoneOnTable,
    /// Picking the phone up and putting it in the pocket.
    PhonePickedUp,
    /// Taking the phone out of the pocket (jostled, pulled out with a tug, screen turned up)
    /// and raising it to the ear: 1.5-2.5 s, peaks of about 1.5-3 g.
    PhoneTakenOut,
    /// Holding the phone still at the ear (talking).
    PhoneAtEar,
    /// Lowering the phone and pushing it back into the pocket: 1.5-2.5 s, a jolt of 2.2-4.1 g
    /// and smaller ones, then still in the pocket (as before, or flipped).
    PhonePutBack,
    /// A fall.
    Fall(FallKind),
}

impl Activity {
    /// A short stable name for reports.
    pub fn name(&self) -> &'static str {
        match self {
            Activity::Standing => "standing",
            Activity::Sitting => "sitting",
            Activity::Lying => "lying",
            Activity::Walking => "walking",
            Activity::Stairs => "stairs",
            Activity::Jogging => "jogging",
            Activity::SitDownHard => "sit_down_hard",
            Activity::GettingUp => "getting_up",
            Activity::LyingDown => "lying_down",
            Activity::PhoneDropped => "phone_dropped",
            Activity::PhoneOnTable => "phone_on_table",
            Activity::PhonePickedUp => "phone_picked_up",
            Activity::PhoneTakenOut => "phone_taken_out",
            Activity::PhoneAtEar => "phone_at_ear",
            Activity::PhonePutBack => "phone_put_back",
            Activity::Fall(FallKind::Forward) => "fall_forward",
            Activity::Fall(FallKind::Backward) => "fall_backward",
            Activity::Fall(FallKind::Sideways) => "fall_sideways",
            Activity::Fall(FallKind::Faint) => "fall_faint",
        }
    }

    /// Whether this activity is a fall.
    pub fn is_fall(&self) -> bool {
        matches!(self, Activity::Fall(_))
    }
}

/// The kinds of fall the generator knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FallKind {
    /// Trip while walking, fall forward, end lying face down.
    Forward,
    /// Slip, fall backward, end lying on the back.
    Backward,
    /// Fall sideways, end lying on the side.
    Sideways,
    /// Faint from standing: slump, then lying.
    Faint,
}

/// One stretch of the truth: an activity from `start_ns` to `end_ns`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TruthSpan {
    /// What happened.
    pub activity: Activity,
    /// Start, ns (sensor clock).
    pub start_ns: i64,
    /// End, ns.
    pub end_ns: i64,
    /// For a fall, the instant of the impact, ns.
    pub impact_ns: Option<i64>,
}

/// A rendered recording: both sensor streams and the truth.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    /// Accelerometer samples, m/s^2 with gravity, increasing time.
    pub acc: Vec<Sample>,
    /// Gyroscope samples, rad/s, increasing time.
    pub gyro: Vec<Sample>,
    /// What happened when.
    pub truth: Vec<TruthSpan>,
}

impl Recording {
    /// Duration from the first to the last truth span, seconds.
    pub fn duration_s(&self) -> f64 {
        match (self.truth.first(), self.truth.last()) {
            (Some(a), Some(b)) => (b.end_ns - a.start_ns) as f64 * 1e-9,
            _ => 0.0,
        }
    }

    /// The falls of the truth.
    pub fn falls(&self) -> impl Iterator<Item = &TruthSpan> {
        self.truth.iter().filter(|s| s.activity.is_fall())
    }

    /// The truth span that contains `t_ns`, if any.
    pub fn span_at(&self, t_ns: i64) -> Option<&TruthSpan> {
        self.truth
            .iter()
            .find(|s| s.start_ns <= t_ns && t_ns < s.end_ns)
    }
}

/// How the phone's sensors sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SensorModel {
    /// Nominal accelerometer rate, Hz.
    pub acc_hz: f64,
    /// Nominal gyroscope rate, Hz (0: no gyroscope).
    pub gyro_hz: f64,
    /// Timestamp jitter, uniform +- this, as a fraction of the period.
    pub jitter: f64,
    /// Accelerometer range per axis, in g (values clip there).
    pub acc_range_g: f64,
    /// Gyroscope range per axis, rad/s.
    pub gyro_range: f64,
    /// Accelerometer noise standard deviation, m/s^2.
    pub acc_noise: f64,
    /// Gyroscope noise standard deviation, rad/s.
    pub gyro_noise: f64,
}

impl Default for SensorModel {
    fn default() -> Self {
        Self {
            acc_hz: 100.0,
            gyro_hz: 100.0,
            jitter: 0.15,
            acc_range_g: 8.0,
            gyro_range: 17.0,
            acc_noise: 0.03,
            gyro_noise: 0.003,
        }
    }
}

/// Thigh pitch and roll: 0 pitch is standing, 90 degrees is thigh horizontal.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Posture {
    pitch: f64,
    roll: f64,
}

const STAND: Posture = Posture {
    pitch: 0.0,
    roll: 0.0,
};
const SIT: Posture = Posture {
    pitch: 85.0,
    roll: 0.0,
};

#[derive(Debug, Clone, Copy)]
struct Segment {
    activity: Activity,
    dur: f64,
    from: Posture,
    to: Posture,
    /// Per-segment variation in [0, 1).
    vary: f64,
    /// Phase offset for periodic motion, s.
    phase: f64,
    /// For the stages of a phone call, the call they belong to.
    call: Option<Call>,
}

/// A chain of activities, rendered into a [`Recording`].
#[derive(Debug, Clone)]
pub struct Scenario {
    rng: SplitMix64,
    segments: Vec<Segment>,
    posture: Posture,
    start_ns: i64,
    sensors: SensorModel,
}

impl Scenario {
    /// An empty scenario starting at `start_ns` with the person standing.
    pub fn new(seed: u64, start_ns: i64) -> Self {
        Self {
            rng: SplitMix64::new(seed),
            segments: Vec::new(),
            posture: STAND,
            start_ns,
            sensors: SensorModel::default(),
        }
    }

    /// Uses `sensors` instead of the default 100 Hz phone.
    pub fn with_sensors(mut self, sensors: SensorModel) -> Self {
        self.sensors = sensors;
        self
    }

    fn push(&mut self, activity: Activity, dur: f64, to: Posture) -> &mut Self {
        self.push_call(activity, dur, to, None)
    }

    fn push_call(
        &mut self,
        activity: Activity,
        dur: f64,
        to: Posture,
        call: Option<Call>,
    ) -> &mut Self {
        let vary = self.rng.next_f64();
        let phase = self.rng.next_f64() * 2.0;
        let from = self.posture;
        self.segments.push(Segment {
            activity,
            dur,
            from,
            to,
            vary,
            phase,
            call,
        });
        self.posture = to;
        self
    }

    /// Holds the current posture still for `secs` (standing, sitting or lying by posture).
    pub fn still(&mut self, secs: f64) -> &mut Self {
        let p = self.posture;
        let activity = if p.pitch < 30.0 {
            Activity::Standing
        } else if p.roll.abs() > 30.0 || p.pitch > 88.0 {
            Activity::Lying
        } else {
            Activity::Sitting
        };
        self.push(activity, secs, p)
    }

    /// Walks for `secs` (ends standing).
    pub fn walk(&mut self, secs: f64) -> &mut Self {
        self.ensure_standing();
        self.push(Activity::Walking, secs, STAND)
    }

    /// Takes stairs for `secs`.
    pub fn stairs(&mut self, secs: f64) -> &mut Self {
        self.ensure_standing();
        self.push(Activity::Stairs, secs, STAND)
    }

    /// Jogs for `secs`.
    pub fn jog(&mut self, secs: f64) -> &mut Self {
        self.ensure_standing();
        self.push(Activity::Jogging, secs, STAND)
    }

    /// Sits down hard onto a chair, then sits still for `secs`.
    pub fn sit_down_hard(&mut self, secs: f64) -> &mut Self {
        self.ensure_standing();
        self.push(Activity::SitDownHard, 1.2, SIT);
        self.still(secs)
    }

    /// Gets up (from sitting or lying) to standing.
    pub fn get_up(&mut self) -> &mut Self {
        if self.posture == STAND {
            return self;
        }
        self.push(Activity::GettingUp, 2.0, STAND)
    }

    /// Lies down gently, then lies for `secs`.
    pub fn lie_down(&mut self, secs: f64) -> &mut Self {
        let to = Posture {
            pitch: 90.0,
            roll: 70.0,
        };
        self.push(Activity::LyingDown, 3.0, to);
        self.still(secs)
    }

    /// Takes the phone out, drops it on a table, lets it lie for `secs`, picks it up again.
    pub fn drop_phone(&mut self, secs: f64) -> &mut Self {
        self.ensure_standing();
        self.push(Activity::PhoneDropped, 1.5, STAND);
        self.push(Activity::PhoneOnTable, secs, STAND);
        self.push(Activity::PhonePickedUp, 2.0, STAND)
    }

    /// Answers a phone call standing: takes the phone out of the pocket and raises it to the
    /// ear, holds it there still for `talk_secs`, puts it back into the pocket (the same way
    /// round as before, or flipped). Durations, orientations and jolts vary with the seed.
    pub fn phone_call(&mut self, talk_secs: f64) -> &mut Self {
        self.ensure_standing();
        let call = Call::draw(&mut self.rng, talk_secs);
        self.push_call(
            Activity::PhoneTakenOut,
            call.take_out_secs(),
            STAND,
            Some(call),
        );
        self.push_call(Activity::PhoneAtEar, talk_secs, STAND, Some(call));
        self.push_call(
            Activity::PhonePutBack,
            call.put_back_secs(),
            STAND,
            Some(call),
        )
    }

    /// Falls, then lies still for `lie_secs`.
    pub fn fall(&mut self, kind: FallKind, lie_secs: f64) -> &mut Self {
        if kind != FallKind::Faint {
            self.walk(4.0);
        } else {
            self.ensure_standing();
        }
        let roll_sign = if self.rng.next_f64() < 0.5 { -1.0 } else { 1.0 };
        let to = match kind {
            FallKind::Forward => Posture {
                pitch: 95.0,
                roll: 180.0,
            },
            FallKind::Backward => Posture {
                pitch: 90.0,
                roll: 0.0,
            },
            FallKind::Sideways => Posture {
                pitch: 90.0,
                roll: 90.0 * roll_sign,
            },
            FallKind::Faint => Posture {
                pitch: 90.0,
                roll: 60.0 * roll_sign,
            },
        };
        self.push(Activity::Fall(kind), 3.0, to);
        self.still(lie_secs)
    }

    fn ensure_standing(&mut self) {
        if self.posture != STAND {
            self.get_up();
        }
    }

    /// Renders the scenario: simulates and samples both sensors.
    pub fn render(&self) -> Recording {
        let mut rng = self.rng.clone();
        let mut pocket = rotation::pocket(&mut rng);
        let mut rec = Recording::default();
        let mut t0 = self.start_ns;
        let mut spans = Vec::with_capacity(self.segments.len());
        for seg in &self.segments {
            let dur_ns = (seg.dur * 1e9) as i64;
            let impact_ns = match seg.activity {
                Activity::Fall(_) => Some(t0 + (FALL_IMPACT_AT * 1e9) as i64),
                _ => None,
            };
            // A phone call's path starts from the pocket orientation before it; the put-back
            // leaves the phone in a new one.
            let path = seg.call.map(|c| c.path(&pocket));
            spans.push(Span {
                start: t0,
                seg: *seg,
                pocket,
                path,
            });
            if let (Activity::PhonePutBack, Some(p)) = (seg.activity, path) {
                pocket = p.end_pocket;
            }
            rec.truth.push(TruthSpan {
                activity: seg.activity,
                start_ns: t0,
                end_ns: t0 + dur_ns,
                impact_ns,
            });
            t0 += dur_ns;
        }
        let end_ns = t0;
        let s = self.sensors;
        let pose_at = |t_ns: i64| -> Pose {
            let idx = spans.partition_point(|s| s.start <= t_ns).saturating_sub(1);
            let s = &spans[idx];
            pose(
                &s.seg,
                (t_ns - s.start) as f64 * 1e-9,
                &s.pocket,
                s.path.as_ref(),
            )
        };
        let acc_range = s.acc_range_g * f64::from(G);
        rec.acc = sample_stream(&mut rng, self.start_ns, end_ns, s.acc_hz, s.jitter, |t| {
            let p = pose_at(t);
            let f = p
                .rot
                .transpose()
                .mul_vec([p.lin[0], p.lin[1], p.lin[2] + f64::from(G)]);
            f.map(|v| v.clamp(-acc_range, acc_range))
        });
        add_noise(&mut rng, &mut rec.acc, s.acc_noise);
        if s.gyro_hz > 0.0 {
            rec.gyro = sample_stream(&mut rng, self.start_ns, end_ns, s.gyro_hz, s.jitter, |t| {
                let h = 1_000_000;
                let (a, b, c) = (pose_at(t - h).rot, pose_at(t + h).rot, pose_at(t).rot);
                let w = rotation::angular_velocity(&c, &a, &b, 2e-3);
                w.map(|v| v.clamp(-s.gyro_range, s.gyro_range))
            });
            add_noise(&mut rng, &mut rec.gyro, s.gyro_noise);
        }
        rec
    }
}

/// A segment placed in time, with the phone's pocket orientation (phone to thigh) during it and,
/// for a phone call's stages, the call's path.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: i64,
    seg: Segment,
    pocket: Mat3,
    path: Option<CallPath>,
}

/// Where in a 3 s fall segment the impact happens, s.
const FALL_IMPACT_AT: f64 = 1.3;

/// Samples `value(t)` at a nominal rate with uniform jitter, from `start` to `end` ns.
fn sample_stream(
    rng: &mut SplitMix64,
    start: i64,
    end: i64,
    hz: f64,
    jitter: f64,
    mut value: impl FnMut(i64) -> Vec3,
) -> Vec<Sample> {
    let period = 1e9 / hz;
    let n = ((end - start) as f64 / period) as usize;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let j = (rng.next_f64() * 2.0 - 1.0) * jitter * period;
        let t = start + (i as f64 * period + j) as i64 + period as i64 / 2;
        let v = value(t);
        out.push(Sample::new(t, v[0] as f32, v[1] as f32, v[2] as f32));
    }
    out
}

fn add_noise(rng: &mut SplitMix64, samples: &mut [Sample], sd: f64) {
    for s in samples {
        s.x += (rng.gaussian() * sd) as f32;
        s.y += (rng.gaussian() * sd) as f32;
        s.z += (rng.gaussian() * sd) as f32;
    }
}

/// Waking hours of the synthetic day; every third one can hold a fall.
const DAY_HOURS: usize = 16;
/// Most falls [`synthetic_day`] places.
pub const MAX_DAY_FALLS: usize = DAY_HOURS.div_ceil(3);

/// A synthetic day: sleep, commuting, work, stairs, a jog, hard sit-downs, phone drops and
/// `falls` falls (cycling through the fall kinds; at most [`MAX_DAY_FALLS`]), about 24 h in all.
pub fn synthetic_day(seed: u64, falls: usize) -> Scenario {
    let mut s = Scenario::new(seed, 1_000_000_000_000);
    s.lie_down(6.0 * 3600.0).get_up();
    let kinds = [
        FallKind::Forward,
        FallKind::Backward,
        FallKind::Sideways,
        FallKind::Faint,
    ];
    let mut fall_i = 0;
    for hour in 0..DAY_HOURS {
        s.walk(300.0).stairs(40.0).walk(120.0);
        s.sit_down_hard(1500.0).get_up();
        s.walk(200.0);
        if hour % 4 == 1 {
            s.drop_phone(120.0);
        }
        if hour % 5 == 2 {
            s.jog(600.0);
        }
        if hour % 3 == 0 && fall_i < falls {
            s.fall(kinds[fall_i % kinds.len()], 60.0).get_up();
            fall_i += 1;
        }
        s.still(600.0).walk(300.0);
        s.sit_down_hard(200.0).get_up();
    }
    s.lie_down(3600.0);
    s
}

/// A recording shaped like one of UMAFall's MakingACall trials, about 15 s: a person stands
/// still 2-4 s, takes the phone out of the trouser pocket, talks 2-6 s with it held still at
/// the ear, puts it back (jolts of 2.2-4.1 g, the same way round as before or flipped), then
/// stands still 3-5 s. Everything (durations, orientations, jolts, pocket) varies with `seed`;
/// the same seed always gives the same recording. Truth: no fall.
pub fn phone_call_trial(seed: u64) -> Scenario {
    let mut s = Scenario::new(seed, 1_000_000_000);
    let mut secs = |lo: f64, hi: f64| lo + (hi - lo) * s.rng.next_f64();
    let (before, talk, after) = (secs(2.0, 4.0), secs(2.0, 6.0), secs(3.0, 5.0));
    s.still(before).phone_call(talk).still(after);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_is_deterministic_and_truth_covers_the_streams() {
        let mut s = Scenario::new(7, 0);
        s.walk(10.0)
            .fall(FallKind::Forward, 10.0)
            .get_up()
            .walk(5.0);
        let a = s.render();
        let b = s.render();
        assert_eq!(a.acc, b.acc);
        assert_eq!(a.falls().count(), 1);
        let last = a.truth.last().map(|t| t.end_ns).unwrap_or(0);
        assert!(a.acc.last().is_some_and(|x| x.t_ns <= last));
        assert!(a.acc.windows(2).all(|w| w[0].t_ns < w[1].t_ns));
    }

    #[test]
    fn standing_reads_gravity_and_a_fall_has_an_impact() {
        let mut s = Scenario::new(1, 0);
        s.still(2.0).fall(FallKind::Faint, 5.0);
        let r = s.render();
        let norm = |x: &Sample| (x.x * x.x + x.y * x.y + x.z * x.z).sqrt() / G;
        let standing = r.acc.iter().take(100).map(norm).sum::<f32>() / 100.0;
        assert!((standing - 1.0).abs() < 0.05, "standing reads {standing} g");
        let peak = r.acc.iter().map(norm).fold(0.0, f32::max);
        assert!(peak > 2.0, "impact peak {peak} g");
    }
}

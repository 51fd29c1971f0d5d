//! The phone's pose over time for each activity: the thigh's posture and the body's linear
//! acceleration for a phone in the pocket, the phone's own orientation when it is out of it.

use guardian_core::STANDARD_GRAVITY;

use crate::phone::CallPath;
use crate::rotation::{self, Mat3, Vec3};
use crate::{Activity, FallKind, Posture, Segment, FALL_IMPACT_AT, STAND};

const TAU: f64 = std::f64::consts::TAU;

/// The phone's pose and the body's motion at one instant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pose {
    /// Phone-to-world rotation (world z up).
    pub(crate) rot: Mat3,
    /// Linear acceleration of the phone, world frame, m/s^2 (gravity not included).
    pub(crate) lin: Vec3,
}

pub(crate) fn smoothstep(x: f64) -> f64 {
    let x = x.clamp(0.0, 1.0);
    x * x * (3.0 - 2.0 * x)
}

fn lerp_posture(a: Posture, b: Posture, x: f64) -> Posture {
    Posture {
        pitch: a.pitch + (b.pitch - a.pitch) * x,
        roll: a.roll + (b.roll - a.roll) * x,
    }
}

/// A half-sine pulse of height `peak` and width `width` s starting at `at`.
pub(crate) fn pulse(t: f64, at: f64, width: f64, peak: f64) -> f64 {
    if t < at || t > at + width {
        0.0
    } else {
        peak * (std::f64::consts::PI * (t - at) / width).sin()
    }
}

/// The phone's orientation (phone to world) in `pocket` (phone to thigh) at posture `p`.
fn in_pocket(p: Posture, pocket: &Mat3) -> Mat3 {
    rotation::body(p.pitch, p.roll, 0.0).mul(pocket)
}

/// The pose of the phone `t` seconds into `seg`, with the phone in `pocket` (phone to thigh)
/// and, for a phone call's stages, on the call's `path`.
pub(crate) fn pose(seg: &Segment, t: f64, pocket: &Mat3, path: Option<&CallPath>) -> Pose {
    let g = f64::from(STANDARD_GRAVITY);
    // Small sway/breathing so "still" is never perfectly still on a body.
    let sway = 0.04 * g * (TAU * 0.3 * t + seg.phase).sin();
    let still = (seg.from, [sway * 0.3, 0.0, sway * 0.5]);
    let (posture, lin) = match seg.activity {
        Activity::Standing | Activity::Sitting | Activity::Lying => still,
        Activity::Walking | Activity::Stairs | Activity::Jogging => gait(seg, t),
        Activity::SitDownHard => sit_down_hard(seg, t),
        Activity::GettingUp | Activity::LyingDown => {
            let x = smoothstep(t / seg.dur);
            let lin = [0.0, 0.0, 0.15 * g * (TAU * t / seg.dur).sin()];
            (lerp_posture(seg.from, seg.to, x), lin)
        }
        Activity::Fall(kind) => fall(seg, kind, t, sway),
        Activity::PhoneDropped => return phone_dropped(seg, t, pocket),
        Activity::PhoneOnTable => {
            return Pose {
                rot: rotation::flat(seg.vary * 360.0),
                lin: [0.0; 3],
            }
        }
        Activity::PhonePickedUp => return phone_picked_up(seg, t, pocket),
        Activity::PhoneTakenOut | Activity::PhoneAtEar | Activity::PhonePutBack => match path {
            Some(path) => return path.pose(seg.activity, t, sway),
            // `phone_call` adds these stages only with their call; without it, stand still.
            None => still,
        },
    };
    Pose {
        rot: in_pocket(posture, pocket),
        lin,
    }
}

/// Walking, stairs or jogging: the thigh swings, the body bounces, a heel strike per step.
fn gait(seg: &Segment, t: f64) -> (Posture, Vec3) {
    let g = f64::from(STANDARD_GRAVITY);
    let v = seg.vary;
    let (f, swing, bounce, strike) = match seg.activity {
        Activity::Walking => (0.9 + 0.1 * v, 25.0, 0.25, 0.35),
        Activity::Stairs => (0.75 + 0.1 * v, 35.0, 0.3, 0.5),
        _ => (1.35 + 0.15 * v, 40.0, 0.7, 1.3),
    };
    let ph = TAU * f * (t + seg.phase);
    let pitch = swing * ph.sin();
    let step = (2.0 * ph).sin();
    // Heel strike: a short vertical pulse once per step.
    let frac = (2.0 * f * (t + seg.phase)).fract();
    let strike = pulse(frac, 0.1, 0.12, strike * g);
    let lin = [0.1 * g * ph.cos(), 0.0, bounce * g * step + strike];
    (Posture { pitch, roll: 0.0 }, lin)
}

/// Lower for 0.9 s, land on the chair with a 1.4-2.2 g jolt, settle.
fn sit_down_hard(seg: &Segment, t: f64) -> (Posture, Vec3) {
    let g = f64::from(STANDARD_GRAVITY);
    let x = smoothstep(t / 0.9);
    let mut lin = [
        0.0,
        0.0,
        -0.3 * g * (std::f64::consts::PI * (t / 0.9).min(1.0)).sin(),
    ];
    lin[2] += pulse(t, 0.9, 0.12, (0.5 + 0.6 * seg.vary) * g);
    (lerp_posture(seg.from, seg.to, x), lin)
}

/// As in the pocket recordings of MobiFall: about 1 s of losing balance (the thigh turns at
/// 1-3 rad/s while |a| sinks to 0.3-0.5 g), a first impact at 1.3 s (1.8-3.2 g) followed by
/// smaller knocks (knee, hip, hand) over 0.3 s, about a second of decaying movement, then
/// lying.
fn fall(seg: &Segment, kind: FallKind, t: f64, sway: f64) -> (Posture, Vec3) {
    let g = f64::from(STANDARD_GRAVITY);
    let v = seg.vary;
    let tb = FALL_IMPACT_AT - 1.0;
    let x = smoothstep((t - tb) / 1.0);
    let mut posture = lerp_posture(seg.from, seg.to, x);
    let after = t - FALL_IMPACT_AT;
    let settle = if after > 0.0 {
        (-after / 0.4).exp()
    } else {
        0.0
    };
    posture.roll += 15.0 * (TAU * 2.2 * after).sin() * settle;
    posture.pitch += 8.0 * (TAU * 1.7 * after).sin() * settle;
    let mut lin = [0.0; 3];
    let depth = if kind == FallKind::Faint {
        0.5
    } else {
        0.5 + 0.2 * v
    };
    if t > FALL_IMPACT_AT - 0.6 && t < FALL_IMPACT_AT {
        lin[2] = -depth * g * smoothstep((t - (FALL_IMPACT_AT - 0.6)) / 0.3);
    }
    let peak = (1.8 + 1.4 * v) * g;
    lin[2] += pulse(t, FALL_IMPACT_AT, 0.08, peak);
    lin[0] += pulse(t, FALL_IMPACT_AT, 0.08, 0.4 * peak * (v - 0.5));
    lin[1] += pulse(t, FALL_IMPACT_AT + 0.12, 0.07, (0.8 + 0.6 * v) * g);
    lin[2] += pulse(t, FALL_IMPACT_AT + 0.3, 0.1, 0.6 * g);
    if after > 0.0 {
        lin[2] += 0.3 * g * (TAU * 3.1 * after).sin() * (-after / 0.35).exp();
        lin[0] += 0.2 * g * (TAU * 2.3 * after).cos() * (-after / 0.35).exp();
        lin[2] += sway * 0.3;
    }
    (posture, lin)
}

/// Out of the pocket (0-0.7 s), slips (0.7 s), falls 0.4 s tumbling, hits the table at 1.1 s
/// with a sharp 5-8 g knock, two small bounces, lies face up.
fn phone_dropped(seg: &Segment, t: f64, pocket: &Mat3) -> Pose {
    let g = f64::from(STANDARD_GRAVITY);
    if t < 0.7 {
        Pose {
            rot: in_pocket(seg.from, pocket),
            lin: [0.0, 0.0, 0.2 * g * (TAU * t / 0.7).sin()],
        }
    } else if t < 1.1 {
        let spin = rotation::axis_angle([0.6, 0.3, 0.74], 9.0 * (t - 0.7));
        Pose {
            rot: spin.mul(&in_pocket(seg.from, pocket)),
            lin: [0.0, 0.0, -0.97 * g],
        }
    } else {
        let knock = pulse(t, 1.1, 0.02, (5.0 + 3.0 * seg.vary) * g)
            + pulse(t, 1.2, 0.02, 1.5 * g)
            + pulse(t, 1.28, 0.015, 0.6 * g);
        Pose {
            rot: rotation::flat(seg.vary * 360.0),
            lin: [0.0, 0.0, knock],
        }
    }
}

/// Off the table (the first half) and into the pocket (the second).
fn phone_picked_up(seg: &Segment, t: f64, pocket: &Mat3) -> Pose {
    let g = f64::from(STANDARD_GRAVITY);
    let x = smoothstep(t / seg.dur);
    let rot = if x < 0.5 {
        rotation::flat(seg.vary * 360.0)
    } else {
        in_pocket(STAND, pocket)
    };
    Pose {
        rot,
        lin: [0.0, 0.0, 0.3 * g * (TAU * t / seg.dur).sin()],
    }
}

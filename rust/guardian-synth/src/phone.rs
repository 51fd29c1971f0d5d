//! Phone calls, shaped like UMAFall's MakingACall trials (an LG G4 in the right trouser pocket):
//! the hand reaches into the pocket, pulls the phone out and turns its screen up, raises it to
//! the ear, holds it there still, lowers it and pushes it back into the pocket with jolts of
//! 2.2-4.1 g; the phone ends in the pocket in the same orientation as before or flipped (end
//! over end, or face in and out swapped).
//!
//! While out of the pocket the phone's orientation is its own, not the thigh's: a path through
//! key orientations (quintic easing along the shortest arc, so orientation, angular velocity
//! and linear acceleration are continuous and the gyroscope the renderer derives integrates
//! back to the orientation) and key positions (whose second derivative is the linear
//! acceleration).

use guardian_core::STANDARD_GRAVITY;

use crate::motion::{pulse, smoothstep, Pose};
use crate::rotation::{self, Mat3, Vec3};
use crate::{Activity, SplitMix64, STAND};

/// Where the phone went back: as before, or flipped.
#[derive(Debug, Clone, Copy)]
enum Flip {
    /// The same way round as before the call.
    Same,
    /// End over end: the phone's y axis reversed (half turn about the thigh's normal).
    EndOverEnd,
    /// Screen facing the other way (half turn about the thigh's long axis).
    FaceSwapped,
}

/// The random choices of one call, drawn when the call is added to a scenario.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call {
    /// Taking out: hand in the pocket, pulling out (screen turned up), raising to the ear, s.
    reach: f64,
    pull: f64,
    raise: f64,
    /// Putting back: lowering, pushing in (until the main jolt), settling after it, s.
    lower: f64,
    push: f64,
    settle: f64,
    /// Held at the ear, s.
    talk: f64,
    /// Peak jostle of the hand in the pocket and tug of pulling the phone out, g.
    jostle_g: f64,
    tug_g: f64,
    /// Screen up, top raised toward the face by this angle while pulled out, degrees.
    look_tilt: f64,
    /// At the ear: the long axis's elevation and the screen's tilt, degrees.
    ear_elevation: f64,
    ear_tilt: f64,
    /// Heading beyond the nearest one, while pulled out and at the ear, degrees.
    look_heading: f64,
    ear_heading: f64,
    /// Heights above the pocket while pulled out and at the ear, m.
    look_height: f64,
    ear_height: f64,
    /// Tilt of the phone (about an axis at `insert_axis` degrees in its x-z plane) as it
    /// enters the pocket, degrees.
    insert_tilt: f64,
    insert_axis: f64,
    /// Peak |a| of the main jolt, g, its half-sine width, s, and direction's horizontal part.
    jolt_g: f64,
    jolt_width: f64,
    jolt_dir: [f64; 2],
    /// Smaller jolts after the main one: delay, s, and fraction of its amplitude.
    echoes: [(f64, f64); 2],
    flip: Flip,
    /// Changed seat in the pocket: turns about the thigh's normal and across it, degrees.
    reseat: [f64; 2],
}

/// One call from a given pocket orientation: its choices, key orientations (phone to world)
/// and key positions (world, m, from the pocket).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallPath {
    call: Call,
    start: Mat3,
    look: Mat3,
    ear: Mat3,
    insert: Mat3,
    end: Mat3,
    look_at: Vec3,
    ear_at: Vec3,
    insert_at: Vec3,
    /// The pocket orientation (phone to thigh) after the call.
    pub(crate) end_pocket: Mat3,
}

/// Between `a` and `b`, `x` (0 to 1) of the way.
fn between(a: f64, b: f64, x: f64) -> f64 {
    a + (b - a) * x
}

/// Quintic easing 0 to 1 with zero first and second derivatives at both ends.
fn ease(x: f64) -> f64 {
    let x = x.clamp(0.0, 1.0);
    x * x * x * (10.0 + x * (6.0 * x - 15.0))
}

/// The second derivative of [`ease`].
fn ease_dd(x: f64) -> f64 {
    if (0.0..=1.0).contains(&x) {
        60.0 * x * (1.0 + x * (2.0 * x - 3.0))
    } else {
        0.0
    }
}

/// Moving from `a` to `b` over `dur` s, eased: the position's linear acceleration at `x`.
fn eased_acc(a: Vec3, b: Vec3, dur: f64, x: f64) -> Vec3 {
    let k = ease_dd(x) / (dur * dur);
    std::array::from_fn(|i| (b[i] - a[i]) * k)
}

fn add(a: Vec3, b: Vec3) -> Vec3 {
    std::array::from_fn(|i| a[i] + b[i])
}

impl Call {
    /// Draws the choices (durations, orientations, jolts, the way back) of a call with
    /// `talk` s at the ear from `rng`.
    pub(crate) fn draw(rng: &mut SplitMix64, talk: f64) -> Self {
        let mut u = || rng.next_f64();
        Self {
            reach: between(0.5, 0.8, u()),
            pull: between(0.5, 0.8, u()),
            raise: between(0.5, 0.9, u()),
            lower: between(0.6, 0.9, u()),
            push: between(0.4, 0.7, u()),
            settle: between(0.5, 0.9, u()),
            talk,
            jostle_g: between(0.2, 0.5, u()),
            tug_g: between(0.2, 0.7, u()),
            look_tilt: between(20.0, 50.0, u()),
            ear_elevation: between(25.0, 55.0, u()),
            ear_tilt: between(-10.0, 10.0, u()),
            look_heading: between(-20.0, 20.0, u()),
            ear_heading: between(-20.0, 20.0, u()),
            look_height: between(0.45, 0.6, u()),
            ear_height: between(0.7, 0.85, u()),
            insert_tilt: between(25.0, 50.0, u()),
            insert_axis: between(0.0, 360.0, u()),
            jolt_g: between(2.2, 4.1, u()),
            jolt_width: between(0.05, 0.08, u()),
            jolt_dir: [between(-0.4, 0.4, u()), between(-0.4, 0.4, u())],
            echoes: [
                (between(0.1, 0.2, u()), between(0.3, 0.6, u())),
                (between(0.25, 0.4, u()), between(0.2, 0.4, u())),
            ],
            flip: match u() {
                x if x < 0.6 => Flip::Same,
                x if x < 0.85 => Flip::EndOverEnd,
                _ => Flip::FaceSwapped,
            },
            reseat: [between(-10.0, 10.0, u()), between(-5.0, 5.0, u())],
        }
    }

    /// Duration of taking the phone out and raising it to the ear, s (1.5-2.5).
    pub(crate) fn take_out_secs(&self) -> f64 {
        self.reach + self.pull + self.raise
    }

    /// Duration of lowering the phone and putting it back, s (1.5-2.5).
    pub(crate) fn put_back_secs(&self) -> f64 {
        self.lower + self.push + self.settle
    }

    /// The key orientations and positions of this call for a phone in `pocket` (phone to
    /// thigh) of a standing person.
    pub(crate) fn path(&self, pocket: &Mat3) -> CallPath {
        let in_pocket = |p: &Mat3| rotation::body(STAND.pitch, STAND.roll, 0.0).mul(p);
        let start = in_pocket(pocket);
        let tilt = self.look_tilt.to_radians();
        let look = rotation::with_up([0.0, tilt.sin(), tilt.cos()]);
        let look = rotation::nearest_heading(&start, &look, self.look_heading);
        let (e, s) = (self.ear_elevation.to_radians(), self.ear_tilt.to_radians());
        // Held to the right ear: the phone's -x points up, its top tilted up by `e`.
        let ear = rotation::with_up([-e.cos() * s.cos(), e.sin() * s.cos(), s.sin()]);
        let ear = rotation::nearest_heading(&look, &ear, self.ear_heading);
        let half_turn = |axis: Vec3| rotation::axis_angle(axis, std::f64::consts::PI);
        let flip = match self.flip {
            Flip::Same => rotation::IDENTITY,
            Flip::EndOverEnd => half_turn([0.0, 0.0, 1.0]),
            Flip::FaceSwapped => half_turn([0.0, 1.0, 0.0]),
        };
        let reseat = rotation::axis_angle([0.0, 0.0, 1.0], self.reseat[0].to_radians()).mul(
            &rotation::axis_angle([1.0, 0.0, 0.0], self.reseat[1].to_radians()),
        );
        let end_pocket = flip.mul(&reseat).mul(pocket);
        let end = in_pocket(&end_pocket);
        let a = self.insert_axis.to_radians();
        let insert = end.mul(&rotation::axis_angle(
            [a.cos(), 0.0, a.sin()],
            -self.insert_tilt.to_radians(),
        ));
        CallPath {
            call: *self,
            start,
            look,
            ear,
            insert,
            end,
            look_at: [0.0, 0.3, self.look_height],
            ear_at: [0.1, 0.05, self.ear_height],
            insert_at: [0.0, 0.05, 0.15],
            end_pocket,
        }
    }

    /// The jolts of pushing the phone into the pocket, `t` s into the put-back: linear
    /// acceleration, world, m/s^2. The main one reaches |a| = `jolt_g` with gravity.
    fn jolts(&self, t: f64) -> Vec3 {
        let g = f64::from(STANDARD_GRAVITY);
        let [hx, hy] = self.jolt_dir;
        let n = (hx * hx + hy * hy + 1.0).sqrt();
        let dir = [hx / n, hy / n, 1.0 / n];
        // |g z + a dir| = jolt_g g, solved for a > 0.
        let p = self.jolt_g * g;
        let a = -g * dir[2] + (g * g * dir[2] * dir[2] - g * g + p * p).sqrt();
        let at = self.lower + self.push;
        let mut k = pulse(t, at - self.jolt_width / 2.0, self.jolt_width, a);
        for (delay, frac) in self.echoes {
            k += pulse(t, at + delay, 0.6 * self.jolt_width, frac * a);
        }
        dir.map(|d| d * k)
    }

    /// Orientation and linear acceleration `t` s into taking the phone out.
    fn take_out(&self, path: &CallPath, t: f64) -> (Mat3, Vec3) {
        let g = f64::from(STANDARD_GRAVITY);
        if t < self.reach {
            // The hand in the pocket: the phone wobbles a few degrees and is jostled.
            let env = (std::f64::consts::PI * t / self.reach).sin().powi(2);
            let angle = 0.07 * env * (std::f64::consts::TAU * 2.0 * t).sin();
            let wobble = rotation::axis_angle([0.3, 0.2, 1.0], angle);
            let j = self.jostle_g * g;
            let lin = [
                pulse(t, 0.2 * self.reach, 0.1, j),
                pulse(t, 0.5 * self.reach, 0.1, -0.7 * j),
                pulse(t, 0.35 * self.reach, 0.12, 0.8 * j),
            ];
            (path.start.mul(&wobble), lin)
        } else if t < self.reach + self.pull {
            // Pulled out with a tug, the screen turned up.
            let x = (t - self.reach) / self.pull;
            let mut lin = eased_acc([0.0; 3], path.look_at, self.pull, x);
            lin[2] += pulse(t - self.reach, 0.0, 0.1, self.tug_g * g);
            (rotation::slerp(&path.start, &path.look, ease(x)), lin)
        } else {
            let x = (t - self.reach - self.pull) / self.raise;
            let lin = eased_acc(path.look_at, path.ear_at, self.raise, x);
            (rotation::slerp(&path.look, &path.ear, ease(x)), lin)
        }
    }

    /// Orientation and linear acceleration `t` s into holding the phone at the ear: a tremor
    /// of a fraction of a degree, faded in and out so the phone leaves as it arrived.
    fn at_ear(&self, path: &CallPath, t: f64) -> (Mat3, Vec3) {
        let tau = std::f64::consts::TAU;
        let env = smoothstep(t / 0.5) * smoothstep((self.talk - t) / 0.5);
        let angle = 0.01 * env * (tau * 1.3 * t).sin();
        let tremor = rotation::axis_angle([0.5, 0.8, 0.3], angle);
        let lin = [
            0.0,
            0.0,
            0.01 * f64::from(STANDARD_GRAVITY) * env * (tau * 0.7 * t).sin(),
        ];
        (path.ear.mul(&tremor), lin)
    }

    /// Orientation and linear acceleration `t` s into putting the phone back: lowered, pushed
    /// in until the main jolt, then a decaying wobble into the pocket orientation.
    fn put_back(&self, path: &CallPath, t: f64) -> (Mat3, Vec3) {
        let jolts = self.jolts(t);
        let (rot, lin) = if t < self.lower {
            let x = t / self.lower;
            let lin = eased_acc(path.ear_at, path.insert_at, self.lower, x);
            (rotation::slerp(&path.ear, &path.insert, ease(x)), lin)
        } else if t < self.lower + self.push {
            let x = (t - self.lower) / self.push;
            let lin = eased_acc(path.insert_at, [0.0; 3], self.push, x);
            (rotation::slerp(&path.insert, &path.end, ease(x)), lin)
        } else {
            let after = t - self.lower - self.push;
            let fade = (1.0 - after / self.settle).max(0.0).powi(2) * (-after / 0.2).exp();
            let angle = 0.1 * fade * (std::f64::consts::TAU * 3.0 * after).sin();
            let wobble = rotation::axis_angle([1.0, 0.3, 0.2], angle);
            (path.end.mul(&wobble), [0.0; 3])
        };
        (rot, add(lin, jolts))
    }
}

impl CallPath {
    /// The phone's pose `t` s into `activity` (taking out, at the ear, or else putting back);
    /// `sway` is the standing body's sway, m/s^2.
    pub(crate) fn pose(&self, activity: Activity, t: f64, sway: f64) -> Pose {
        let (rot, lin) = match activity {
            Activity::PhoneTakenOut => self.call.take_out(self, t),
            Activity::PhoneAtEar => self.call.at_ear(self, t),
            _ => self.call.put_back(self, t),
        };
        Pose {
            rot,
            lin: add(lin, [sway * 0.3, 0.0, sway * 0.5]),
        }
    }
}

#[cfg(test)]
mod tests {
    use guardian_core::{Sample, STANDARD_GRAVITY as G};

    use crate::rotation::{self, Vec3};
    use crate::{phone_call_trial, Activity, Recording, TruthSpan};

    fn span(rec: &Recording, activity: Activity) -> TruthSpan {
        *rec.truth
            .iter()
            .find(|s| s.activity == activity)
            .expect("the trial has this stage")
    }

    fn within(samples: &[Sample], from_ns: i64, to_ns: i64) -> Vec<Sample> {
        samples
            .iter()
            .filter(|s| from_ns <= s.t_ns && s.t_ns < to_ns)
            .copied()
            .collect()
    }

    fn g_of(s: &Sample) -> f64 {
        f64::from((s.x * s.x + s.y * s.y + s.z * s.z).sqrt() / G)
    }

    fn unit(v: Vec3) -> Vec3 {
        let n = rotation::norm(v);
        v.map(|c| c / n)
    }

    /// The mean accelerometer direction over `samples`.
    fn mean_dir(samples: &[Sample]) -> Vec3 {
        unit(samples.iter().fold([0.0; 3], |m, s| {
            [
                m[0] + f64::from(s.x),
                m[1] + f64::from(s.y),
                m[2] + f64::from(s.z),
            ]
        }))
    }

    fn angle_deg(a: Vec3, b: Vec3) -> f64 {
        let c = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
        c.clamp(-1.0, 1.0).acos().to_degrees()
    }

    /// `v` (phone frame, fixed in the world) carried through the gyroscope's rotation from
    /// `from_ns` to `to_ns`: dv/dt = -w x v, one exact rotation per sample interval.
    fn carry(gyro: &[Sample], from_ns: i64, to_ns: i64, v: Vec3) -> Vec3 {
        let w = within(gyro, from_ns, to_ns);
        w.windows(2).fold(v, |v, p| {
            let dt = (p[1].t_ns - p[0].t_ns) as f64 * 1e-9;
            let avg = [
                f64::from(p[0].x + p[1].x) / 2.0,
                f64::from(p[0].y + p[1].y) / 2.0,
                f64::from(p[0].z + p[1].z) / 2.0,
            ];
            let rate = rotation::norm(avg);
            if rate < 1e-12 {
                return v;
            }
            rotation::axis_angle(avg, -rate * dt).mul_vec(v)
        })
    }

    #[test]
    fn trials_have_the_shape_of_umafall_phone_calls() {
        let (mut same, mut reversed) = (0, 0);
        for seed in 0..60 {
            let rec = phone_call_trial(seed).render();
            let (out, ear, back) = (
                span(&rec, Activity::PhoneTakenOut),
                span(&rec, Activity::PhoneAtEar),
                span(&rec, Activity::PhonePutBack),
            );
            let secs = |s: TruthSpan| (s.end_ns - s.start_ns) as f64 * 1e-9;
            assert!((10.0..=20.0).contains(&rec.duration_s()), "seed {seed}");
            assert!((1.5..=2.5).contains(&secs(out)), "seed {seed}: {out:?}");
            assert!((2.0..=6.0).contains(&secs(ear)), "seed {seed}: {ear:?}");
            assert!((1.5..=2.5).contains(&secs(back)), "seed {seed}: {back:?}");
            assert_eq!(rec.falls().count(), 0);

            let peak = |s: &[Sample]| s.iter().map(g_of).fold(0.0, f64::max);
            let out_peak = peak(&within(&rec.acc, out.start_ns, out.end_ns));
            assert!((1.3..=3.2).contains(&out_peak), "seed {seed}: {out_peak} g");
            let back_peak = peak(&within(&rec.acc, back.start_ns, back.end_ns));
            assert!(
                (2.0..=4.5).contains(&back_peak),
                "seed {seed}: {back_peak} g"
            );

            // At the ear: still, the phone's -x and top up.
            let at_ear = within(&rec.acc, ear.start_ns, ear.end_ns);
            let n = at_ear.len() as f64;
            let mean = at_ear.iter().map(g_of).sum::<f64>() / n;
            let sd = (at_ear.iter().map(|s| (g_of(s) - mean).powi(2)).sum::<f64>() / n).sqrt();
            assert!(sd < 0.05, "seed {seed}: std |a| {sd} g at the ear");
            let up = mean_dir(&at_ear);
            assert!(
                up[0] < -0.5 && up[1] > 0.3,
                "seed {seed}: {up:?} at the ear"
            );

            // Back in the pocket along the same gravity axis, either way round.
            let second = 1_000_000_000;
            let before = mean_dir(&within(&rec.acc, out.start_ns - second, out.start_ns));
            let after = mean_dir(&within(&rec.acc, back.end_ns, back.end_ns + second));
            let angle = angle_deg(before, after);
            assert!(
                angle.min(180.0 - angle) < 20.0,
                "seed {seed}: back at {angle} degrees"
            );
            if angle < 90.0 {
                same += 1;
            } else {
                reversed += 1;
            }
        }
        assert!(
            same > reversed && reversed > 5,
            "{same} same, {reversed} reversed"
        );
    }

    #[test]
    fn the_gyroscope_turns_the_phone_as_the_accelerometer_sees_it() {
        for seed in 0..30 {
            let rec = phone_call_trial(seed).render();
            let (out, ear, back) = (
                span(&rec, Activity::PhoneTakenOut),
                span(&rec, Activity::PhoneAtEar),
                span(&rec, Activity::PhonePutBack),
            );
            let second = 1_000_000_000;
            let before = mean_dir(&within(&rec.acc, out.start_ns - second, out.start_ns));
            let at_ear = mean_dir(&within(&rec.acc, ear.start_ns, ear.end_ns));
            let after = mean_dir(&within(&rec.acc, back.end_ns, back.end_ns + second));
            let carried = carry(&rec.gyro, out.start_ns, ear.start_ns, before);
            let err = angle_deg(carried, at_ear);
            assert!(err < 5.0, "seed {seed}: taken out, {err} degrees off");
            let carried = carry(&rec.gyro, ear.start_ns, back.end_ns, at_ear);
            let err = angle_deg(carried, after);
            assert!(err < 5.0, "seed {seed}: put back, {err} degrees off");
        }
    }

    #[test]
    fn a_trial_is_the_same_for_a_seed_and_differs_between_seeds() {
        let (a, b, c) = (
            phone_call_trial(9).render(),
            phone_call_trial(9).render(),
            phone_call_trial(10).render(),
        );
        assert_eq!(a.acc, b.acc);
        assert_eq!(a.gyro, b.gyro);
        assert_eq!(a.truth, b.truth);
        assert_ne!(a.acc, c.acc);
    }
}

//! The orientation a phone is carried in: the long-run mean of its acceleration, which is
//! gravity in the device frame once the body's motion averages out.
//!
//! A phone put back into a pocket after a call returns to this orientation (often turned end
//! over end or face in/out, which keeps gravity on the same device axis); a person who fell
//! does not. The detector uses it to refuse a "fall" whose phone ends where it is carried.

use crate::frame::norm;

/// Frames of plain mean before the average turns exponential (1 s at 50 Hz): the first
/// second sets the orientation, so a stream that starts with the phone in the pocket knows it.
const WARM_UP_FRAMES: u32 = 50;

/// Long-run mean acceleration, m/s^2, device frame: the plain mean over the first
/// [`WARM_UP_FRAMES`], then an exponential moving average with weight `alpha` per frame.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CarryOrientation {
    mean: [f64; 3],
    frames: u32,
    alpha: f64,
}

impl CarryOrientation {
    /// `tau_frames` (> 0) is the time constant of the average in grid frames.
    pub fn new(tau_frames: f64) -> Self {
        Self {
            mean: [0.0; 3],
            frames: 0,
            alpha: 1.0 / tau_frames.max(1.0),
        }
    }

    /// Adds one frame's acceleration (m/s^2).
    pub fn update(&mut self, acc: [f32; 3]) {
        self.frames = self.frames.saturating_add(1);
        let w = if self.frames <= WARM_UP_FRAMES {
            1.0 / f64::from(self.frames)
        } else {
            self.alpha
        };
        for (m, a) in self.mean.iter_mut().zip(acc) {
            *m += w * (f64::from(a) - *m);
        }
    }

    /// The carrying orientation (mean acceleration, m/s^2) once the first second was seen.
    pub fn get(&self) -> Option<[f32; 3]> {
        (self.frames >= WARM_UP_FRAMES).then(|| self.mean.map(|m| m as f32))
    }
}

/// |cos| of the angle between the lines of `a` and `b`: 1 on the same axis whatever the
/// signs, 0 at right angles; 0 when either is zero.
pub(crate) fn axis_cos(a: [f32; 3], b: [f32; 3]) -> f32 {
    let dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    let den = norm(a) * norm(b);
    if den > 0.0 {
        (dot / den).abs()
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_second_sets_the_orientation_then_it_moves_slowly() {
        let mut c = CarryOrientation::new(50.0 * 120.0);
        for _ in 0..WARM_UP_FRAMES - 1 {
            c.update([0.0, -9.8, 0.0]);
        }
        assert!(c.get().is_none());
        c.update([0.0, -9.8, 0.0]);
        assert_eq!(c.get(), Some([0.0, -9.8, 0.0]));
        // 10 s at the ear barely moves a two-minute average
        for _ in 0..500 {
            c.update([-8.5, 4.7, 0.4]);
        }
        let g = c.get().expect("warmed up");
        assert!(axis_cos(g, [0.0, -9.8, 0.0]) > 0.99, "{g:?}");
    }

    #[test]
    fn axis_ignores_the_sign() {
        assert!((axis_cos([0.0, 9.8, 0.0], [0.0, -9.8, 0.0]) - 1.0).abs() < 1e-6);
        assert!(axis_cos([0.0, 9.8, 0.0], [9.8, 0.0, 0.0]) < 1e-6);
        assert_eq!(axis_cos([0.0; 3], [1.0, 0.0, 0.0]), 0.0);
    }
}

//! The model input: windows quantized to int8 (`docs/PREPROCESSING.md` section 9).

use crate::card::QuantParams;
use crate::frame::{norm, Frame, ACC_FULL_SCALE, GYRO_FULL_SCALE, MAX_CHANNELS};
use crate::window::{Windower, HISTORY_FRAMES};

/// The newest window as the model takes it: `window * channels` int8 values, time-major.
///
/// Each frame is quantized once, however many overlapping windows the model runs on, into a
/// mirrored buffer (frame `k` is stored at slots `k mod H` and `k mod H + H`, `H =`
/// [`HISTORY_FRAMES`]), so every window is one contiguous slice: nothing is copied per window.
#[derive(Debug)]
pub struct ModelInput {
    channels: usize,
    window: usize,
    quantizer: Quantizer,
    mirror: Box<[i8]>,
    /// `(segment, k)` of the newest quantized frame.
    newest: Option<(u64, i64)>,
}

impl ModelInput {
    /// Input for windows of `window` frames (at most [`HISTORY_FRAMES`]) of `channels` feature
    /// channels (at most 8), quantized with `quant`.
    pub fn new(window: usize, channels: usize, quant: QuantParams) -> Self {
        let channels = channels.min(MAX_CHANNELS);
        Self {
            channels,
            window: window.min(HISTORY_FRAMES),
            quantizer: Quantizer::new(quant),
            mirror: vec![0; 2 * HISTORY_FRAMES * channels].into_boxed_slice(),
            newest: None,
        }
    }

    /// Quantizes the frames of `w`'s newest window that are not quantized yet and returns the
    /// window, oldest frame first. Call it when `w` reports a complete window. Never allocates.
    pub fn window(&mut self, w: &Windower) -> &[i8] {
        let (c, n) = (self.channels, self.window);
        let Some(last_k) = w.last_k() else {
            return &self.mirror[..n * c];
        };
        let first_k = last_k - n as i64 + 1;
        let from = match self.newest {
            Some((segment, k)) if segment == w.segment() && k >= first_k => k + 1,
            _ => first_k,
        };
        let todo = usize::try_from(last_k - from + 1).unwrap_or(0);
        for f in w.recent(todo).map(|s| &s.frame) {
            let q = self.quantizer.frame(f);
            let slot = slot(f.k) * c;
            self.mirror[slot..slot + c].copy_from_slice(&q[..c]);
            let mirrored = slot + HISTORY_FRAMES * c;
            self.mirror[mirrored..mirrored + c].copy_from_slice(&q[..c]);
        }
        self.newest = Some((w.segment(), last_k));
        let start = slot(first_k) * c;
        &self.mirror[start..start + n * c]
    }
}

/// Ring slot of frame `k`: `k mod HISTORY_FRAMES`, also for negative `k`.
fn slot(k: i64) -> usize {
    k.rem_euclid(HISTORY_FRAMES as i64) as usize
}

/// Section 9 quantization of a frame's features, without the two f64 divisions per value that
/// the spec's formula costs, and with the same result to the bit.
///
/// The fast path computes `v' = x * gain` with `gain = 1 / (full_scale * scale)`, within 1e-13
/// of the spec's `v = clip(x / full_scale) / scale` (|v| <= 1 / scale, a few ulps apart).
/// Rounding `v'` half away from zero gives the spec's result unless `v` lies within that
/// distance of a half-integer or of the clip limit; within 1e-9 of either, the value is
/// computed by the spec's formula instead ([`quantize`]).
#[derive(Debug, Clone, Copy)]
struct Quantizer {
    quant: QuantParams,
    /// `1 / (full_scale * scale)` per channel.
    gain: [f64; MAX_CHANNELS],
    /// `1 / scale` (at most 1024): `|v|` of a clipped feature.
    limit: f64,
    /// The quantized value of a feature clipped to +1 and to -1.
    clipped: [i8; 2],
}

/// Distance from a rounding boundary under which the fast path defers to the exact formula.
const FAST_PATH_MARGIN: f64 = 1e-9;

impl Quantizer {
    fn new(quant: QuantParams) -> Self {
        let scale = f64::from(quant.scale);
        let full_scale = [ACC_FULL_SCALE, GYRO_FULL_SCALE];
        Self {
            quant,
            gain: std::array::from_fn(|i| 1.0 / (full_scale[i / 4] * scale)),
            // Beyond 1024 every value saturates (like a clipped one): the bound keeps the
            // casts below in range whatever the card's scale.
            limit: (1.0 / scale).min(1024.0),
            clipped: [quantize(1.0, quant), quantize(-1.0, quant)],
        }
    }

    fn frame(&self, f: &Frame) -> [i8; MAX_CHANNELS] {
        let a = f.acc.map(f64::from);
        let g = f.gyro.map(f64::from);
        let x = [a[0], a[1], a[2], norm(a), g[0], g[1], g[2], norm(g)];
        let mut out = [0i8; MAX_CHANNELS];
        let mut exact = false;
        for (i, o) in out.iter_mut().enumerate() {
            let v = x[i] * self.gain[i];
            let m = v.abs();
            if m > self.limit * (1.0 + FAST_PATH_MARGIN) {
                *o = self.clipped[usize::from(v < 0.0)];
                continue;
            }
            let t = m + 0.5;
            let r = t as i32;
            let frac = t - f64::from(r);
            if m >= self.limit * (1.0 - FAST_PATH_MARGIN)
                || !(FAST_PATH_MARGIN..=1.0 - FAST_PATH_MARGIN).contains(&frac)
            {
                exact = true;
            }
            let r = if v < 0.0 { -r } else { r };
            *o = (r + self.quant.zero_point).clamp(-128, 127) as i8;
        }
        if exact {
            let features = f.features();
            out = std::array::from_fn(|i| quantize(features[i], self.quant));
        }
        out
    }
}

/// `clamp(round_half_away_from_zero(x / scale) + zero_point, -128, 127)`, in f64 like the
/// features: the training pipeline's quantization to the bit.
pub fn quantize(x: f64, q: QuantParams) -> i8 {
    let v = x / f64::from(q.scale);
    // Truncating |v| + 0.5 is floor(|v| + 0.5); the bound keeps the cast and the sum in range.
    let r = (v.abs() + 0.5).min(1024.0) as i32;
    let r = if v < 0.0 { -r } else { r };
    (r + q.zero_point).clamp(-128, 127) as i8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantize_rounds_half_away_from_zero_and_saturates() {
        let q = QuantParams {
            scale: 0.5,
            zero_point: -3,
        };
        for (x, want) in [
            (0.25, -2),
            (-0.25, -4),
            (0.2499999, -3),
            (1.0, -1),
            (1000.0, 127),
            (-1000.0, -128),
        ] {
            assert_eq!(quantize(x, q), want, "x = {x}");
        }
        // Agrees with f64::round (half away from zero) on a sweep.
        let q = QuantParams {
            scale: 0.007_843_138,
            zero_point: 0,
        };
        for i in -20_000..=20_000 {
            let x = f64::from(i) * 5e-5;
            let want = ((x / f64::from(q.scale)).round() as i32).clamp(-128, 127) as i8;
            assert_eq!(quantize(x, q), want, "x = {x}");
        }
    }

    fn frame(k: i64) -> Frame {
        let a = (k as f32 * 0.37).sin() * 30.0;
        Frame {
            k,
            acc: [a, -a / 2.0, 9.8],
            gyro: [a / 10.0, 0.5, -a / 7.0],
        }
    }

    /// The window a straightforward implementation quantizes from scratch.
    fn expected(w: &Windower, n: usize, c: usize, q: QuantParams) -> Vec<i8> {
        w.recent(n)
            .flat_map(|f| {
                f.frame.features()[..c]
                    .iter()
                    .map(|&x| quantize(x, q))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn ties_and_the_clip_limit_take_the_exact_path() {
        // gyro 2.5 rad/s -> feature 0.25 exactly -> v = 0.5 exactly with scale 0.5: a tie,
        // rounded away from zero; the fast path's 2.5 * (1 / 5) is not exactly 0.5.
        let q = QuantParams {
            scale: 0.5,
            zero_point: 0,
        };
        let quantizer = Quantizer::new(q);
        let f = |acc: [f32; 3], gyro: [f32; 3]| Frame { k: 0, acc, gyro };
        let tie = f([0.0; 3], [2.5, -2.5, 7.5]);
        assert_eq!(quantizer.frame(&tie)[4..7], [1, -1, 2]);
        // Features clipped at exactly 1 and beyond.
        let q = QuantParams {
            scale: 1.0 / 127.5,
            zero_point: 0,
        };
        let quantizer = Quantizer::new(q);
        let at_limit = f([ACC_FULL_SCALE as f32, -1000.0, 0.0], [10.0, -10.0, 0.0]);
        let want: Vec<i8> = at_limit
            .features()
            .iter()
            .map(|&x| quantize(x, q))
            .collect();
        assert_eq!(quantizer.frame(&at_limit).to_vec(), want);
    }

    #[test]
    fn the_fast_path_equals_the_formula_on_millions_of_values() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            ((state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32
        };
        for q in [
            QuantParams {
                scale: 0.007_843_138,
                zero_point: 0,
            },
            QuantParams {
                scale: 0.003_1,
                zero_point: -7,
            },
            QuantParams {
                scale: 1e-4,
                zero_point: 3,
            },
        ] {
            let quantizer = Quantizer::new(q);
            for _ in 0..100_000 {
                let f = Frame {
                    k: 0,
                    acc: [next() * 60.0, next() * 30.0, next() * 10.0],
                    gyro: [next() * 12.0, next() * 3.0, next()],
                };
                let want: Vec<i8> = f.features().iter().map(|&x| quantize(x, q)).collect();
                assert_eq!(quantizer.frame(&f).to_vec(), want, "{f:?}");
            }
        }
    }

    #[test]
    fn every_window_equals_quantizing_it_from_scratch() {
        let q = QuantParams {
            scale: 1.0 / 127.5,
            zero_point: 1,
        };
        for (c, hop) in [(8, 25), (4, 7), (8, 1), (4, 100)] {
            let mut w = Windower::new(100, hop);
            let mut input = ModelInput::new(100, c, q);
            // Negative k, a gap (new segment) and a clock reset to smaller k on the way.
            let ks = (-300..400).chain(450..900).chain(10..500);
            let mut windows = 0;
            for k in ks {
                if w.push(&frame(k)).complete {
                    windows += 1;
                    let want = expected(&w, 100, c, q);
                    assert_eq!(input.window(&w), &want[..], "c {c} hop {hop} k {k}");
                }
            }
            assert!(windows >= 15, "c {c} hop {hop}: {windows} windows");
        }
    }
}

//! A quantized window to a score, as the card's [`Scoring`] says (`docs/PREPROCESSING.md`
//! sections 9 and 9a).

use crate::card::{QuantParams, Scoring};
use crate::orientation::{cube_rotations, turn, AxisRotation, CUBE_ROTATIONS};
use crate::scorer::{ScoreError, Scorer};

/// Runs the [`Scorer`] on a window (once, or under each rotation of the cube) and dequantizes.
pub(crate) struct WindowScorer {
    scorer: Box<dyn Scorer>,
    scoring: Scoring,
    channels: usize,
    input_zero_point: i32,
    output: QuantParams,
    rotations: [AxisRotation; CUBE_ROTATIONS],
    /// Scratch for a turned window: `window_frames * channels` values.
    turned: Box<[i8]>,
}

impl std::fmt::Debug for WindowScorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowScorer")
            .field("scoring", &self.scoring)
            .finish_non_exhaustive()
    }
}

impl WindowScorer {
    /// Scores windows of `window_len` int8 values, `channels` per frame, quantized with `input`,
    /// with `scorer`, whose output is quantized with `output`.
    pub fn new(
        scorer: Box<dyn Scorer>,
        scoring: Scoring,
        window_len: usize,
        channels: usize,
        input: QuantParams,
        output: QuantParams,
    ) -> Self {
        Self {
            scorer,
            scoring,
            channels,
            input_zero_point: input.zero_point,
            output,
            rotations: cube_rotations(),
            turned: vec![0; window_len].into(),
        }
    }

    /// The score of `window` in [0, 1]: `(q - zero_point) * scale` of the model's output, or the
    /// mean over the rotations `(sum of (q - zero_point)) * scale / 24`. Never allocates.
    pub fn score(&mut self, window: &[i8]) -> Result<f32, ScoreError> {
        let output = self.output;
        let dequantized = |sum: i32, n: usize| sum as f32 * output.scale / n as f32;
        match self.scoring {
            Scoring::Window => {
                let q = self.scorer.score(window)?;
                Ok(dequantized(i32::from(q) - output.zero_point, 1))
            }
            Scoring::CubeRotations => {
                if window.len() != self.turned.len() {
                    return Err(ScoreError::InputLength {
                        expected: self.turned.len(),
                        found: window.len(),
                    });
                }
                let mut sum = 0i32;
                for r in &self.rotations {
                    turn(
                        window,
                        self.channels,
                        r,
                        self.input_zero_point,
                        &mut self.turned,
                    );
                    sum += i32::from(self.scorer.score(&self.turned)?) - output.zero_point;
                }
                Ok(dequantized(sum, CUBE_ROTATIONS))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model that scores a window by its first value: the identity maps acc_x to itself, and
    /// the other rotations put acc_x, -acc_x, acc_y, -acc_y, acc_z or -acc_z first.
    struct FirstValue;

    impl Scorer for FirstValue {
        fn score(&mut self, input: &[i8]) -> Result<i8, ScoreError> {
            Ok(input[0])
        }
    }

    const Q: QuantParams = QuantParams {
        scale: 1.0,
        zero_point: 0,
    };

    #[test]
    fn one_window_is_scored_as_recorded() {
        let mut s = WindowScorer::new(Box::new(FirstValue), Scoring::Window, 4, 4, Q, Q);
        assert_eq!(s.score(&[12, 34, 56, 9]), Ok(12.0));
    }

    #[test]
    fn the_cube_scores_each_signed_axis_four_times() {
        let mut s = WindowScorer::new(Box::new(FirstValue), Scoring::CubeRotations, 4, 4, Q, Q);
        // Each of +-x, +-y, +-z comes first in 4 of the 24 rotations: the signed values cancel.
        assert_eq!(s.score(&[12, 34, 56, 9]), Ok(0.0));
        // -128 negates to 127 (saturated), so x and -x no longer cancel: 4 * (-128 + 127) / 24.
        assert_eq!(s.score(&[-128, 0, 0, 9]), Ok(-4.0 / 24.0));
    }

    #[test]
    fn a_window_of_the_wrong_length_is_refused() {
        let mut s = WindowScorer::new(Box::new(FirstValue), Scoring::CubeRotations, 8, 4, Q, Q);
        assert_eq!(
            s.score(&[1, 2, 3, 4]),
            Err(ScoreError::InputLength {
                expected: 8,
                found: 4
            })
        );
    }
}

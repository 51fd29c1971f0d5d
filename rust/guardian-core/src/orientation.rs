//! Turning a quantized window to another orientation of the phone (`docs/PREPROCESSING.md`
//! section 9a): the 24 rotations of the cube, which map the phone's axes onto its axes.

use crate::frame::MAX_CHANNELS;

/// Number of rotations of the cube (the identity first).
pub const CUBE_ROTATIONS: usize = 24;

/// A rotation that maps axes onto axes: axis `i` of the turned window is `sign[i]` times axis
/// `from[i]` of the window. A signed permutation matrix of determinant +1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AxisRotation {
    /// Source axis of each turned axis.
    pub from: [usize; 3],
    /// +1 or -1 per turned axis.
    pub sign: [i8; 3],
}

/// The 24 rotations of the cube in section 9a's order: permutations of `(x, y, z)` in
/// lexicographic order, each with the sign patterns `(s0, s1, s2)` in lexicographic order
/// (`-1` before `+1`) whose determinant is +1. The identity is moved to the front.
pub fn cube_rotations() -> [AxisRotation; CUBE_ROTATIONS] {
    const PERMUTATIONS: [([usize; 3], i8); 6] = [
        ([0, 1, 2], 1),
        ([0, 2, 1], -1),
        ([1, 0, 2], -1),
        ([1, 2, 0], 1),
        ([2, 0, 1], 1),
        ([2, 1, 0], -1),
    ];
    let identity = AxisRotation {
        from: [0, 1, 2],
        sign: [1, 1, 1],
    };
    let mut out = [identity; CUBE_ROTATIONS];
    let mut n = 1;
    for (from, parity) in PERMUTATIONS {
        for bits in 0..8u8 {
            let sign = [0, 1, 2].map(|i| if bits & (4 >> i) == 0 { -1 } else { 1 });
            let rotation = AxisRotation { from, sign };
            if sign.iter().product::<i8>() * parity == 1 && rotation != identity {
                out[n] = rotation;
                n += 1;
            }
        }
    }
    out
}

/// Writes `window` (time-major int8, `channels` per frame: 4 or 8 of section 6) turned by
/// `rotation` into `out`: the vector channels 0-2 (and 4-6) are permuted and negated, the
/// norms (3 and 7) are kept. Negation is about `zero_point`: `clamp(2 * zero_point - q)`.
pub fn turn(
    window: &[i8],
    channels: usize,
    rotation: &AxisRotation,
    zero_point: i32,
    out: &mut [i8],
) {
    debug_assert!(channels <= MAX_CHANNELS && out.len() == window.len());
    let negate = |q: i8| (2 * zero_point - i32::from(q)).clamp(-128, 127) as i8;
    for (src, dst) in window
        .chunks_exact(channels)
        .zip(out.chunks_exact_mut(channels))
    {
        dst.copy_from_slice(src);
        for base in (0..channels).step_by(4) {
            for i in 0..3 {
                let q = src[base + rotation.from[i]];
                dst[base + i] = if rotation.sign[i] < 0 { negate(q) } else { q };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(r: &AxisRotation) -> [[i32; 3]; 3] {
        let mut m = [[0; 3]; 3];
        for i in 0..3 {
            m[i][r.from[i]] = i32::from(r.sign[i]);
        }
        m
    }

    fn det(m: [[i32; 3]; 3]) -> i32 {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    }

    #[test]
    fn the_cube_has_24_distinct_proper_rotations_identity_first() {
        let all = cube_rotations();
        assert_eq!(all[0].from, [0, 1, 2]);
        assert_eq!(all[0].sign, [1, 1, 1]);
        for (i, a) in all.iter().enumerate() {
            assert_eq!(det(matrix(a)), 1, "{a:?}");
            assert!(all[..i].iter().all(|b| b != a), "{a:?} twice");
        }
    }

    #[test]
    fn turning_permutes_and_negates_the_vectors_and_keeps_the_norms() {
        // Two frames of the full mode: acc (x, y, z, |a|), gyro (x, y, z, |g|).
        let window = [10, 20, -30, 40, 1, 2, 3, 4, -128, 127, 0, 90, 5, -6, 7, 8];
        let r = AxisRotation {
            from: [2, 0, 1],
            sign: [-1, 1, -1],
        };
        let mut out = [0i8; 16];
        turn(&window, 8, &r, 0, &mut out);
        assert_eq!(
            out,
            [30, 10, -20, 40, -3, 1, -2, 4, 0, -128, -127, 90, -7, 5, 6, 8]
        );
    }

    #[test]
    fn negation_saturates_about_the_zero_point() {
        let r = AxisRotation {
            from: [0, 1, 2],
            sign: [-1, -1, 1],
        };
        let mut out = [0i8; 4];
        turn(&[-128, 100, 0, 50], 4, &r, -10, &mut out);
        // 2 * -10 - (-128) = 108; 2 * -10 - 100 = -120.
        assert_eq!(out, [108, -120, 0, 50]);
        turn(&[-128, 127, 0, 50], 4, &r, 0, &mut out);
        assert_eq!(out, [127, -127, 0, 50]);
    }
}

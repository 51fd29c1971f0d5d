//! Sample batches at the boundary: the packed layout, columnar arrays, unit conversion and
//! the checks that refuse a bad batch whole.

use guardian_core::{Sample, STANDARD_GRAVITY};

use crate::{GuardianError, InputUnits};

/// Bytes before the records: `u32 acc_count`, `u32 gyro_count`, little-endian.
pub const PACKED_HEADER_BYTES: usize = 8;
/// Bytes per record: `i64 t_ns`, `f32 x`, `f32 y`, `f32 z`, little-endian, no padding.
pub const PACKED_RECORD_BYTES: usize = 20;
/// Largest timestamp accepted from `seconds_to_ns`, ns (the core's ingest bound, 2^62).
const MAX_T_NS: f64 = (1u64 << 62) as f64;

/// Size of a packed batch.
pub(crate) fn size(acc: u32, gyro: u32) -> u64 {
    PACKED_HEADER_BYTES as u64 + PACKED_RECORD_BYTES as u64 * (u64::from(acc) + u64::from(gyro))
}

/// Seconds (CoreMotion's clock) to ns, rounded to nearest.
pub(crate) fn seconds_to_ns(seconds: f64) -> Result<i64, GuardianError> {
    let ns = (seconds * 1e9).round();
    if !(ns.is_finite() && (0.0..=MAX_T_NS).contains(&ns)) {
        return Err(GuardianError::InvalidBatch(format!(
            "timestamp {seconds} s is not a time since boot (finite, >= 0, < 2^62 ns)"
        )));
    }
    Ok(ns as i64)
}

/// Multiplier taking pushed accelerometer values to m/s^2 in Android's convention.
pub(crate) fn acc_scale(units: InputUnits) -> f32 {
    match units {
        InputUnits::Android => 1.0,
        InputUnits::CoreMotion => -STANDARD_GRAVITY,
    }
}

/// Decodes a packed batch into `acc` and `gyro` (cleared first; their capacity is reused),
/// scaling accelerometer values by `scale`. Refuses the whole batch if its size does not match
/// its header or any value is not finite.
pub(crate) fn unpack(
    bytes: &[u8],
    scale: f32,
    acc: &mut Vec<Sample>,
    gyro: &mut Vec<Sample>,
) -> Result<(), GuardianError> {
    acc.clear();
    gyro.clear();
    let Some((head, body)) = bytes.split_first_chunk::<PACKED_HEADER_BYTES>() else {
        return Err(GuardianError::InvalidBatch(format!(
            "a packed batch has at least {PACKED_HEADER_BYTES} header bytes, got {}",
            bytes.len()
        )));
    };
    let n_acc = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    let n_gyro = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    let want = size(n_acc, n_gyro);
    if bytes.len() as u64 != want {
        return Err(GuardianError::InvalidBatch(format!(
            "packed batch of {} bytes, but its header announces {n_acc} accelerometer and \
             {n_gyro} gyroscope samples ({want} bytes); is the ByteBuffer direct, little-endian \
             and at position 0?",
            bytes.len()
        )));
    }
    let records = body.chunks_exact(PACKED_RECORD_BYTES);
    for (i, r) in records.enumerate() {
        let f = |o: usize| f32::from_le_bytes([r[o], r[o + 1], r[o + 2], r[o + 3]]);
        let t_ns = i64::from_le_bytes([r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]]);
        let is_acc = i < n_acc as usize;
        let s = if is_acc { scale } else { 1.0 };
        let sample = Sample {
            t_ns,
            x: f(8) * s,
            y: f(12) * s,
            z: f(16) * s,
        };
        if is_acc {
            check_finite(&sample, "accelerometer", i)?;
            acc.push(sample);
        } else {
            check_finite(&sample, "gyroscope", i - n_acc as usize)?;
            gyro.push(sample);
        }
    }
    Ok(())
}

/// Builds samples from columnar arrays into `out` (cleared first), scaling by `scale`.
pub(crate) fn from_columns(
    sensor: &str,
    t_ns: &[i64],
    x: &[f32],
    y: &[f32],
    z: &[f32],
    scale: f32,
    out: &mut Vec<Sample>,
) -> Result<(), GuardianError> {
    out.clear();
    let n = t_ns.len();
    if x.len() != n || y.len() != n || z.len() != n {
        return Err(GuardianError::InvalidBatch(format!(
            "{sensor} batch arrays differ in length: t_ns {n}, x {}, y {}, z {}",
            x.len(),
            y.len(),
            z.len()
        )));
    }
    for i in 0..n {
        let sample = Sample {
            t_ns: t_ns[i],
            x: x[i] * scale,
            y: y[i] * scale,
            z: z[i] * scale,
        };
        check_finite(&sample, sensor, i)?;
        out.push(sample);
    }
    Ok(())
}

fn check_finite(s: &Sample, sensor: &str, i: usize) -> Result<(), GuardianError> {
    if s.x.is_finite() && s.y.is_finite() && s.z.is_finite() {
        return Ok(());
    }
    Err(GuardianError::InvalidBatch(format!(
        "{sensor} sample {i} (t_ns {}) has a value that is not a finite number ({}, {}, {})",
        s.t_ns, s.x, s.y, s.z
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack(acc: &[(i64, [f32; 3])], gyro: &[(i64, [f32; 3])]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend((acc.len() as u32).to_le_bytes());
        b.extend((gyro.len() as u32).to_le_bytes());
        for (t, v) in acc.iter().chain(gyro) {
            b.extend(t.to_le_bytes());
            for c in v {
                b.extend(c.to_le_bytes());
            }
        }
        b
    }

    #[test]
    fn core_motion_g_becomes_android_m_s2() {
        // A phone lying face up: CoreMotion reads z = -1 g, Android z = +9.80665 m/s^2.
        let bytes = pack(&[(5, [0.0, 0.5, -1.0])], &[(6, [0.1, -0.2, 0.3])]);
        let (mut acc, mut gyro) = (Vec::new(), Vec::new());
        unpack(
            &bytes,
            acc_scale(InputUnits::CoreMotion),
            &mut acc,
            &mut gyro,
        )
        .expect("unpack");
        assert_eq!(acc[0].z, STANDARD_GRAVITY);
        assert_eq!(acc[0].y, -0.5 * STANDARD_GRAVITY);
        assert_eq!(acc[0].x, 0.0);
        assert_eq!(
            gyro[0],
            Sample {
                t_ns: 6,
                x: 0.1,
                y: -0.2,
                z: 0.3
            },
            "gyro is not scaled"
        );
        unpack(&bytes, acc_scale(InputUnits::Android), &mut acc, &mut gyro).expect("unpack");
        assert_eq!(acc[0].z, -1.0, "Android values pass unchanged");
    }

    #[test]
    fn a_packed_batch_must_match_its_header() {
        let good = pack(&[(1, [0.0; 3]), (2, [0.0; 3])], &[(1, [0.0; 3])]);
        assert_eq!(good.len() as u64, size(2, 1));
        let (mut acc, mut gyro) = (Vec::new(), Vec::new());
        for bad in [&good[..good.len() - 1], &good[..4], &[][..]] {
            let e = unpack(bad, 1.0, &mut acc, &mut gyro).expect_err("short");
            assert!(matches!(e, GuardianError::InvalidBatch(_)), "{e}");
        }
        let mut long = good.clone();
        long.push(0);
        assert!(unpack(&long, 1.0, &mut acc, &mut gyro).is_err());
        // A header announcing 2^32 - 1 samples must not overflow or allocate.
        let mut huge = good;
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(unpack(&huge, 1.0, &mut acc, &mut gyro).is_err());
    }

    #[test]
    fn non_finite_values_refuse_the_batch() {
        let bytes = pack(&[(1, [0.0; 3])], &[(1, [f32::NAN, 0.0, 0.0])]);
        let (mut acc, mut gyro) = (Vec::new(), Vec::new());
        let e = unpack(&bytes, 1.0, &mut acc, &mut gyro).expect_err("NaN");
        assert!(e.to_string().contains("gyroscope sample 0"), "{e}");
        // Finite values that overflow when converted are refused too.
        let big = pack(&[(1, [f32::MAX, 0.0, 0.0])], &[]);
        assert!(unpack(&big, acc_scale(InputUnits::CoreMotion), &mut acc, &mut gyro).is_err());
    }

    #[test]
    fn columns_must_have_equal_lengths() {
        let mut out = Vec::new();
        let e = from_columns(
            "accelerometer",
            &[1, 2],
            &[0.0; 2],
            &[0.0],
            &[0.0; 2],
            1.0,
            &mut out,
        )
        .expect_err("lengths");
        assert!(e.to_string().contains("y 1"), "{e}");
        from_columns(
            "accelerometer",
            &[1, 2],
            &[0.0; 2],
            &[0.0; 2],
            &[0.0; 2],
            1.0,
            &mut out,
        )
        .expect("equal lengths");
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn core_motion_seconds_become_ns() {
        assert_eq!(seconds_to_ns(0.0).expect("0"), 0);
        assert_eq!(
            seconds_to_ns(12_345.678_901_234).expect("s"),
            12_345_678_901_234
        );
        assert_eq!(seconds_to_ns(1.5e-9).expect("rounds"), 2);
        for bad in [f64::NAN, f64::INFINITY, -1.0, 1e12] {
            assert!(seconds_to_ns(bad).is_err(), "{bad}");
        }
    }
}

//! Frames: the fused, resampled accelerometer and gyroscope values at one grid instant, and
//! their features (`docs/PREPROCESSING.md` sections 5-6).

use ringbuf::traits::{Consumer, Observer, RingBuffer};
use ringbuf::{storage::Array, LocalRb};

use crate::card::SensorSet;
use crate::grid::GRID_PERIOD_NS;
use crate::sample::{Sensor, STANDARD_GRAVITY_F64};

/// Acceleration full scale of the features: 4 g, in m/s^2 (f64, like the features).
pub const ACC_FULL_SCALE: f64 = 4.0 * STANDARD_GRAVITY_F64;
/// Angular rate full scale of the features, rad/s.
pub const GYRO_FULL_SCALE: f64 = 10.0;
/// Most feature channels a frame has (full mode).
pub const MAX_CHANNELS: usize = 8;
/// Grid values one sensor may run ahead of the other before the oldest are discarded (5.12 s:
/// room for hardware batching, where each sensor's batch arrives whole; a power of two keeps
/// the ring buffer's index arithmetic cheap).
pub const MAX_PENDING: usize = 256;

/// Channel names in input order; the acc_only model takes the first four.
pub const CHANNEL_NAMES: [&str; MAX_CHANNELS] = [
    "acc_x",
    "acc_y",
    "acc_z",
    "acc_norm",
    "gyro_x",
    "gyro_y",
    "gyro_z",
    "gyro_norm",
];

/// The grid values of one instant `t_k = k * 20 ms`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Grid index.
    pub k: i64,
    /// Acceleration, m/s^2 with gravity.
    pub acc: [f32; 3],
    /// Angular rate, rad/s (zeros in acc_only mode).
    pub gyro: [f32; 3],
}

impl Frame {
    /// Timestamp of the grid instant, ns.
    pub const fn t_ns(&self) -> i64 {
        self.k * GRID_PERIOD_NS
    }

    /// Acceleration magnitude |a|, m/s^2, before any clipping.
    pub fn acc_norm(&self) -> f32 {
        norm(self.acc)
    }

    /// The feature vector of section 6 (all eight channels; acc_only uses the first four),
    /// computed in f64 from the f32 grid values exactly as the spec writes it, so that the
    /// training pipeline gets the same bits.
    pub fn features(&self) -> [f64; MAX_CHANNELS] {
        let clip = |v: f64| v.clamp(-1.0, 1.0);
        let a = self.acc.map(f64::from);
        let g = self.gyro.map(f64::from);
        [
            clip(a[0] / ACC_FULL_SCALE),
            clip(a[1] / ACC_FULL_SCALE),
            clip(a[2] / ACC_FULL_SCALE),
            clip(norm(a) / ACC_FULL_SCALE),
            clip(g[0] / GYRO_FULL_SCALE),
            clip(g[1] / GYRO_FULL_SCALE),
            clip(g[2] / GYRO_FULL_SCALE),
            clip(norm(g) / GYRO_FULL_SCALE),
        ]
    }
}

/// Euclidean norm of a 3-vector: f32 for grid values, f64 for the features.
pub fn norm<T: Float>(v: [T; 3]) -> T {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

/// The float types [`norm`] works in.
pub trait Float: Copy + std::ops::Add<Output = Self> + std::ops::Mul<Output = Self> {
    /// Square root.
    fn sqrt(self) -> Self;
}

impl Float for f32 {
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
}

impl Float for f64 {
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
}

type Pending = LocalRb<Array<(i64, [f32; 3]), MAX_PENDING>>;

/// Pairs the two sensors' grid values by `k` into frames (section 5).
///
/// Holds at most [`MAX_PENDING`] values of the sensor that runs ahead; beyond that, the other
/// sensor is silent ([`Self::take_silent`]). A sensor whose `k` goes backwards (its clock was
/// reset) restarts the fusion.
pub struct FrameFusion {
    sensors: SensorSet,
    acc: Box<Pending>,
    gyro: Box<Pending>,
    last_acc_k: Option<i64>,
    last_gyro_k: Option<i64>,
    unpaired: u64,
    /// The sensor found silent since [`Self::take_silent`] last ran.
    silent: Option<Sensor>,
}

impl std::fmt::Debug for FrameFusion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameFusion")
            .field("sensors", &self.sensors)
            .field("pending_acc", &self.acc.occupied_len())
            .field("pending_gyro", &self.gyro.occupied_len())
            .field("unpaired", &self.unpaired)
            .finish()
    }
}

impl FrameFusion {
    /// An empty fusion for `sensors`.
    pub fn new(sensors: SensorSet) -> Self {
        Self {
            sensors,
            acc: Box::default(),
            gyro: Box::default(),
            last_acc_k: None,
            last_gyro_k: None,
            unpaired: 0,
            silent: None,
        }
    }

    /// The sensor found silent since the last call, if any: the other sensor's values ran
    /// [`MAX_PENDING`] ahead of it, and the oldest were discarded (counted in
    /// [`Self::unpaired`]).
    pub fn take_silent(&mut self) -> Option<Sensor> {
        self.silent.take()
    }

    /// Grid values discarded because the other sensor never had their `k`.
    pub fn unpaired(&self) -> u64 {
        self.unpaired
    }

    /// Drops every pending value.
    fn restart(&mut self) {
        self.unpaired += (self.acc.occupied_len() + self.gyro.occupied_len()) as u64;
        self.acc.clear();
        self.gyro.clear();
        self.last_acc_k = None;
        self.last_gyro_k = None;
    }

    /// Takes the accelerometer's grid value `k`; emits a frame when it completes one.
    pub fn push_acc(&mut self, k: i64, v: [f32; 3], emit: impl FnMut(Frame)) {
        if self.last_acc_k.is_some_and(|last| k <= last) {
            self.restart();
        }
        self.last_acc_k = Some(k);
        match self.sensors {
            SensorSet::AccOnly => {
                let mut emit = emit;
                emit(Frame {
                    k,
                    acc: v,
                    gyro: [0.0; 3],
                });
            }
            SensorSet::Full => {
                if pair(
                    &mut self.gyro,
                    &mut self.acc,
                    &mut self.unpaired,
                    k,
                    v,
                    emit,
                    |m, o| (m, o),
                ) {
                    self.silent = Some(Sensor::Gyro);
                }
            }
        }
    }

    /// Takes the gyroscope's grid value `k`; emits a frame when it completes one. Ignored in
    /// acc_only mode.
    pub fn push_gyro(&mut self, k: i64, v: [f32; 3], emit: impl FnMut(Frame)) {
        if self.sensors == SensorSet::AccOnly {
            return;
        }
        if self.last_gyro_k.is_some_and(|last| k <= last) {
            self.restart();
        }
        self.last_gyro_k = Some(k);
        if pair(
            &mut self.acc,
            &mut self.gyro,
            &mut self.unpaired,
            k,
            v,
            emit,
            |m, o| (o, m),
        ) {
            self.silent = Some(Sensor::Acc);
        }
    }
}

/// Pairs value `k` of one sensor (`mine`) with the other sensor's pending values; `order`
/// maps `(mine, other)` to `(acc, gyro)`. Returns true when `mine`'s ring was full and its
/// oldest value was discarded.
fn pair(
    other: &mut Pending,
    mine: &mut Pending,
    unpaired: &mut u64,
    k: i64,
    v: [f32; 3],
    mut emit: impl FnMut(Frame),
    order: impl Fn([f32; 3], [f32; 3]) -> ([f32; 3], [f32; 3]),
) -> bool {
    while other.first().is_some_and(|(ko, _)| *ko < k) {
        other.try_pop();
        *unpaired += 1;
    }
    match other.first() {
        Some(&(ko, vo)) if ko == k => {
            other.try_pop();
            let (acc, gyro) = order(v, vo);
            emit(Frame { k, acc, gyro });
            false
        }
        Some(_) => {
            *unpaired += 1;
            false
        }
        None => {
            let overflow = mine.push_overwrite((k, v)).is_some();
            *unpaired += u64::from(overflow);
            overflow
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_by_k_in_either_arrival_order() {
        let mut f = FrameFusion::new(SensorSet::Full);
        let mut out = Vec::new();
        f.push_acc(1, [1.0; 3], |fr| out.push(fr));
        f.push_acc(2, [2.0; 3], |fr| out.push(fr));
        f.push_gyro(1, [0.1; 3], |fr| out.push(fr));
        f.push_gyro(2, [0.2; 3], |fr| out.push(fr));
        f.push_gyro(3, [0.3; 3], |fr| out.push(fr));
        f.push_acc(3, [3.0; 3], |fr| out.push(fr));
        let ks: Vec<i64> = out.iter().map(|fr| fr.k).collect();
        assert_eq!(ks, vec![1, 2, 3]);
        assert_eq!(out[2].acc, [3.0; 3]);
        assert_eq!(out[2].gyro, [0.3; 3]);
    }

    #[test]
    fn values_the_other_sensor_skipped_are_discarded() {
        let mut f = FrameFusion::new(SensorSet::Full);
        let mut out = Vec::new();
        for k in 0..5 {
            f.push_acc(k, [k as f32; 3], |fr| out.push(fr));
        }
        f.push_gyro(3, [0.0; 3], |fr| out.push(fr));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].k, 3);
        assert_eq!(f.unpaired(), 3);
    }

    #[test]
    fn pending_values_are_bounded() {
        let mut f = FrameFusion::new(SensorSet::Full);
        for k in 0..MAX_PENDING as i64 {
            f.push_acc(k, [0.0; 3], |_| {});
        }
        assert_eq!(f.take_silent(), None);
        for k in MAX_PENDING as i64..1000 {
            f.push_acc(k, [0.0; 3], |_| {});
        }
        assert_eq!(f.unpaired(), 1000 - MAX_PENDING as u64);
        // The values beyond the bound were discarded: the gyroscope is silent.
        assert_eq!(f.take_silent(), Some(Sensor::Gyro));
        assert_eq!(f.take_silent(), None);
    }

    #[test]
    fn whole_batches_of_one_sensor_then_the_other_lose_nothing() {
        // Hardware batching: 5 s of accelerometer values arrive before the gyroscope's 5 s.
        let mut f = FrameFusion::new(SensorSet::Full);
        let mut out = Vec::new();
        for batch in 0..4 {
            let ks = batch * 250..(batch + 1) * 250;
            for k in ks.clone() {
                f.push_acc(k, [k as f32; 3], |fr| out.push(fr));
            }
            for k in ks {
                f.push_gyro(k, [0.5; 3], |fr| out.push(fr));
            }
        }
        assert_eq!(out.len(), 1000);
        assert!(out.windows(2).all(|w| w[1].k == w[0].k + 1));
        assert_eq!(f.unpaired(), 0);
    }

    #[test]
    fn features_scale_clip_and_take_the_norm_before_clipping() {
        let fr = Frame {
            k: 0,
            acc: [3.0 * ACC_FULL_SCALE as f32, 0.0, 0.0],
            gyro: [0.0, 5.0, 0.0],
        };
        let f = fr.features();
        assert_eq!(f[0], 1.0);
        assert_eq!(f[3], 1.0);
        assert!((f[5] - 0.5).abs() < 1e-7);
        assert!((f[7] - 0.5).abs() < 1e-7);
    }
}

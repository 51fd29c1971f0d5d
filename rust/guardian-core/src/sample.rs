//! Raw sensor samples as a phone delivers them.

use serde::{Deserialize, Serialize};

/// Standard gravity, m/s^2 (f64, for the features).
pub const STANDARD_GRAVITY_F64: f64 = 9.806_65;
/// Standard gravity, m/s^2 (the same value rounded to f32).
pub const STANDARD_GRAVITY: f32 = STANDARD_GRAVITY_F64 as f32;

/// One sensor reading on the phone's sensor clock.
///
/// Accelerometer: m/s^2, gravity included, Android device frame. Gyroscope: rad/s, Android
/// device frame. `t_ns` is the sensor timestamp in ns (Android `SensorEvent.timestamp`); both
/// sensors must share the clock.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Timestamp, ns.
    pub t_ns: i64,
    /// X axis value.
    pub x: f32,
    /// Y axis value.
    pub y: f32,
    /// Z axis value.
    pub z: f32,
}

impl Sample {
    /// A sample at `t_ns` with the three axis values.
    pub const fn new(t_ns: i64, x: f32, y: f32, z: f32) -> Self {
        Self { t_ns, x, y, z }
    }

    /// The axis values as an array `[x, y, z]`.
    pub const fn xyz(&self) -> [f32; 3] {
        [self.x, self.y, self.z]
    }
}

/// Which sensor a sample comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensor {
    /// Accelerometer, m/s^2 with gravity.
    Acc,
    /// Gyroscope, rad/s.
    Gyro,
}

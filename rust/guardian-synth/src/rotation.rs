//! Just enough 3-D rotation maths for the simulator.

use crate::rng::SplitMix64;

pub type Vec3 = [f64; 3];

/// A 3x3 matrix, row-major.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mat3(pub [[f64; 3]; 3]);

impl Mat3 {
    pub fn mul(&self, o: &Mat3) -> Mat3 {
        let (a, b) = (&self.0, &o.0);
        Mat3(std::array::from_fn(|i| {
            std::array::from_fn(|j| (0..3).map(|k| a[i][k] * b[k][j]).sum())
        }))
    }

    pub fn mul_vec(&self, v: Vec3) -> Vec3 {
        std::array::from_fn(|i| (0..3).map(|k| self.0[i][k] * v[k]).sum())
    }

    pub fn transpose(&self) -> Mat3 {
        Mat3(std::array::from_fn(|i| {
            std::array::from_fn(|j| self.0[j][i])
        }))
    }
}

/// Rotation by `angle` rad about the (normalized) `axis` (Rodrigues).
pub fn axis_angle(axis: Vec3, angle: f64) -> Mat3 {
    let n = (axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2]).sqrt();
    let [x, y, z] = axis.map(|a| a / n);
    let (s, c) = angle.sin_cos();
    let t = 1.0 - c;
    Mat3([
        [t * x * x + c, t * x * y - s * z, t * x * z + s * y],
        [t * x * y + s * z, t * y * y + c, t * y * z - s * x],
        [t * x * z - s * y, t * y * z + s * x, t * z * z + c],
    ])
}

/// Thigh pose: yaw about world z, pitch (degrees, 0 standing, 90 thigh horizontal) about world
/// x, roll (degrees) about the thigh; the phone's y axis lies along the thigh, pointing up when
/// standing (Android: an upright phone reads y = +g).
pub fn body(pitch_deg: f64, roll_deg: f64, yaw_deg: f64) -> Mat3 {
    let base = axis_angle([1.0, 0.0, 0.0], std::f64::consts::FRAC_PI_2);
    axis_angle([0.0, 0.0, 1.0], yaw_deg.to_radians())
        .mul(&axis_angle([1.0, 0.0, 0.0], pitch_deg.to_radians()))
        .mul(&axis_angle([0.0, 0.0, 1.0], roll_deg.to_radians()))
        .mul(&base)
}

/// A phone lying face up on a table, turned by `yaw_deg`: reads z = +g.
pub fn flat(yaw_deg: f64) -> Mat3 {
    axis_angle([0.0, 0.0, 1.0], yaw_deg.to_radians())
}

/// A random orientation of the phone in the pocket: upright or upside down, screen in or out,
/// tilted up to 20 degrees.
pub fn pocket(rng: &mut SplitMix64) -> Mat3 {
    let flip_y = if rng.next_f64() < 0.5 {
        0.0
    } else {
        std::f64::consts::PI
    };
    let flip_z = if rng.next_f64() < 0.5 {
        0.0
    } else {
        std::f64::consts::PI
    };
    let tilt = (rng.next_f64() - 0.5) * 40f64.to_radians();
    axis_angle([0.0, 0.0, 1.0], flip_y)
        .mul(&axis_angle([0.0, 1.0, 0.0], flip_z))
        .mul(&axis_angle([1.0, 0.0, 0.0], tilt))
}

/// Angular velocity in the body frame of `r` (rad/s) from rotations `dt` s apart around it:
/// the axial vector of `r^T (after - before) / dt`.
pub fn angular_velocity(r: &Mat3, before: &Mat3, after: &Mat3, dt: f64) -> Vec3 {
    let d = Mat3(std::array::from_fn(|i| {
        std::array::from_fn(|j| (after.0[i][j] - before.0[i][j]) / dt)
    }));
    let s = r.transpose().mul(&d).0;
    [
        (s[2][1] - s[1][2]) / 2.0,
        (s[0][2] - s[2][0]) / 2.0,
        (s[1][0] - s[0][1]) / 2.0,
    ]
}

/// No rotation.
pub const IDENTITY: Mat3 = Mat3([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]);

/// Euclidean length of `v`.
pub fn norm(v: Vec3) -> f64 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

fn cross(a: Vec3, b: Vec3) -> Vec3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// The rotation vector of `m`: its axis times its angle (rad, in [0, pi]).
pub fn log(m: &Mat3) -> Vec3 {
    let r = &m.0;
    // 2 sin(angle) times the axis.
    let v = [r[2][1] - r[1][2], r[0][2] - r[2][0], r[1][0] - r[0][1]];
    let s = norm(v);
    let c = (r[0][0] + r[1][1] + r[2][2] - 1.0) / 2.0;
    let angle = (s / 2.0).atan2(c);
    if s > 1e-9 {
        v.map(|x| x * angle / s)
    } else if c > 0.0 {
        [0.0; 3]
    } else {
        // A half turn: the axis is the largest column of (m + I) / 2 = axis axis^T.
        let i = (0..3)
            .max_by(|&a, &b| r[a][a].total_cmp(&r[b][b]))
            .unwrap_or(0);
        let mut col: Vec3 = std::array::from_fn(|k| r[k][i]);
        col[i] += 1.0;
        let n = norm(col);
        col.map(|x| x * std::f64::consts::PI / n)
    }
}

/// The rotation of rotation vector `v` (axis times angle, rad).
pub fn exp(v: Vec3) -> Mat3 {
    let angle = norm(v);
    if angle < 1e-12 {
        IDENTITY
    } else {
        axis_angle(v, angle)
    }
}

/// The rotation a fraction `x` (0 to 1) of the way from `a` to `b` along the shortest arc; its
/// angular velocity has a constant axis in the body frame.
pub fn slerp(a: &Mat3, b: &Mat3, x: f64) -> Mat3 {
    a.mul(&exp(log(&a.transpose().mul(b)).map(|c| c * x)))
}

/// A phone orientation whose accelerometer reads along `up` (phone frame) when still: the
/// phone-to-world rotation whose last row is `up` normalized. Heading arbitrary but fixed.
pub fn with_up(up: Vec3) -> Mat3 {
    let n = norm(up);
    let z = up.map(|c| c / n);
    // Any phone-frame direction not along `up` gives the first row.
    let helper = if z[0].abs() < 0.9 {
        [1.0, 0.0, 0.0]
    } else {
        [0.0, 1.0, 0.0]
    };
    let x0 = cross(helper, z);
    let nx = norm(x0);
    let x = x0.map(|c| c / nx);
    Mat3([x, cross(z, x), z])
}

/// `to` turned about the world vertical to the heading nearest to `from` (the smallest rotation
/// from `from`), then `extra_deg` further.
pub fn nearest_heading(from: &Mat3, to: &Mat3, extra_deg: f64) -> Mat3 {
    // Maximizes trace(from^T Rz(yaw) to) = trace(Rz(yaw) m) over yaw.
    let m = to.mul(&from.transpose()).0;
    let yaw = (m[0][1] - m[1][0]).atan2(m[0][0] + m[1][1]);
    axis_angle([0.0, 0.0, 1.0], yaw + extra_deg.to_radians()).mul(to)
}

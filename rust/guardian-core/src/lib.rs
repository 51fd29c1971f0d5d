//! Guardian's pure streaming core.
//!
//! Phone IMU samples go in (accelerometer in m/s^2 with gravity, gyroscope in rad/s, timestamps
//! in ns); fall events come out. The core knows nothing of FFI, files, threads or the inference
//! runtime: a [`Scorer`] supplies model outputs. The preprocessing follows
//! `docs/PREPROCESSING.md` exactly.

pub mod card;
pub mod scorer;

pub use card::{ModelCard, ModelSpec, QuantParams, SensorSet, TensorSpec};
pub use scorer::{ScoreError, Scorer};

//! Guardian's pure streaming core.
//!
//! Phone IMU samples go in (accelerometer in m/s^2 with gravity, gyroscope in rad/s, timestamps
//! in ns); fall events come out. The core knows nothing of FFI, files, threads or the inference
//! runtime: a [`Scorer`] supplies model outputs. The preprocessing follows
//! `docs/PREPROCESSING.md` exactly.

pub mod card;
mod carry;
pub mod detector;
pub mod engine;
pub mod events;
pub mod frame;
pub mod grid;
pub mod ingest;
pub mod input;
pub mod orientation;
pub mod resampler;
pub mod sample;
pub mod scorer;
mod stall;
pub mod window;

pub use card::{CardError, ModelCard, ModelSpec, QuantParams, Scoring, SensorSet, TensorSpec};
pub use detector::{ConfigError, DetectorConfig, DetectorCounters, DetectorPhase};
#[cfg(feature = "window-log")]
pub use engine::window_log::WindowRecord;
pub use engine::{Engine, EngineError, EngineStats};
pub use events::{DetectedFall, Event};
pub use frame::{Frame, FrameFusion};
pub use grid::GRID_PERIOD_NS;
pub use ingest::Ingest;
pub use resampler::{IngestCounters, Resampler};
pub use sample::{Sample, Sensor, STANDARD_GRAVITY};
pub use scorer::{ScoreError, Scorer};
pub use window::{WindowStep, Windower};

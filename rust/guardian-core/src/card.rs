//! The model card (`models/model_card.json`): what the engine needs to know about a model.
//!
//! The card is written by the training pipeline; the engine reads only the fields below and
//! ignores the rest (metrics, citations, ...).

use serde::{Deserialize, Serialize};

/// Which sensors a model (and an engine) consumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensorSet {
    /// Accelerometer and gyroscope: channels 0-7 of `docs/PREPROCESSING.md` section 6.
    Full,
    /// Accelerometer only: channels 0-3.
    AccOnly,
}

impl SensorSet {
    /// Number of feature channels per frame for this sensor set.
    pub const fn channels(self) -> usize {
        match self {
            SensorSet::Full => 8,
            SensorSet::AccOnly => 4,
        }
    }
}

/// Per-tensor affine int8 quantization: `real = (q - zero_point) * scale`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QuantParams {
    /// Scale, real units per integer step (> 0).
    pub scale: f32,
    /// Zero point, in [-128, 127].
    pub zero_point: i32,
}

/// Shape, type and quantization of one model tensor as the card states it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorSpec {
    /// Dimensions, e.g. `[1, 100, 1, 8]` for the input.
    pub shape: Vec<usize>,
    /// Element type; Guardian's models use `"int8"`.
    pub dtype: String,
    /// Per-tensor scale.
    pub scale: f32,
    /// Per-tensor zero point.
    pub zero_point: i32,
}

impl TensorSpec {
    /// The quantization parameters of this tensor.
    pub fn quant(&self) -> QuantParams {
        QuantParams {
            scale: self.scale,
            zero_point: self.zero_point,
        }
    }
}

/// One model of the card (full or accelerometer-only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// File name of the `.tflite`, relative to the card's folder.
    pub file: String,
    /// Channel names in input order (`docs/PREPROCESSING.md` section 6).
    pub channels: Vec<String>,
    /// Whether the model needs the gyroscope.
    pub requires_gyro: bool,
    /// Input tensor: `[1, window_frames, 1, channels]`, int8.
    pub input: TensorSpec,
    /// Output tensor: `[1, 1]`, int8, dequantizes to a fall probability in [0, 1].
    pub output: TensorSpec,
    /// Decision threshold on the dequantized score, chosen on validation subjects only.
    pub threshold: f32,
    /// SHA-256 of the `.tflite` file, lower-case hex; the runtime refuses other bytes.
    #[serde(default)]
    pub sha256: Option<String>,
}

/// The two models a card describes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardModels {
    /// Accelerometer + gyroscope model.
    pub full: ModelSpec,
    /// Accelerometer-only model for phones without a gyroscope.
    pub acc_only: ModelSpec,
}

/// The fields of `model_card.json` that the engine relies on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// Version of `docs/PREPROCESSING.md` the models were trained with.
    pub preprocessing_version: u32,
    /// Model grid rate in Hz (50).
    pub sample_rate_hz: u32,
    /// Window length in frames.
    pub window_frames: usize,
    /// Default hop between windows, in frames.
    pub hop_frames: usize,
    /// Band `[start, end)` of a window, in frames, where an impact makes the window a fall.
    pub band: [usize; 2],
    /// Impact trigger threshold on |a|, in g (9.80665 m/s^2).
    pub trigger_g: f32,
    /// The models.
    pub models: CardModels,
}

impl ModelCard {
    /// Parses a card from JSON text.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The model spec for a sensor set.
    pub fn model(&self, sensors: SensorSet) -> &ModelSpec {
        match sensors {
            SensorSet::Full => &self.models.full,
            SensorSet::AccOnly => &self.models.acc_only,
        }
    }
}

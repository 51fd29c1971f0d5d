//! The model card (`models/model_card.json`): what the engine needs to know about a model.
//!
//! The card is written by the training pipeline; the engine reads only the fields below and
//! ignores the rest (metrics, citations, ...). [`ModelCard::validate`] is the one check of
//! everything the engine relies on.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::detector::{limits, Limit};
use crate::engine::PREPROCESSING_VERSION;
use crate::frame::CHANNEL_NAMES;
use crate::grid::GRID_PERIOD_NS;
use crate::window::HISTORY_FRAMES;

/// The card layout this core reads (`schema_version` in the card).
pub const CARD_SCHEMA_VERSION: u32 = 2;
/// Longest window, frames: the window and the orientation reference before its earliest
/// possible impact (at most 2 s, [`crate::detector::PRE_IMPACT_REF_MAX_FRAMES`]) fit in the
/// history.
pub const MAX_WINDOW_FRAMES: usize =
    HISTORY_FRAMES - crate::detector::PRE_IMPACT_REF_MAX_FRAMES as usize;

/// Why a model card was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// The text is not a JSON object of the card's shape.
    #[error("not a model card: {0}")]
    Json(String),
    /// A field breaks a rule of [`ModelCard::validate`].
    #[error("field `{field}`: {reason}")]
    Invalid {
        /// The field, e.g. `band` or `models.full.threshold`.
        field: String,
        /// The rule it breaks and the value found.
        reason: String,
    },
}

/// Parses `text` (a leading UTF-8 BOM is skipped) as a `T`, accepting only a JSON object:
/// serde would otherwise fill a struct from an array by position.
pub(crate) fn from_json_object<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if !value.is_object() {
        return Err("expected a JSON object `{...}`".into());
    }
    // From the text again, so that errors keep their line and column.
    serde_json::from_str(text).map_err(|e| e.to_string())
}

/// `sha256` as a string; `null` is refused by name (a missing key is serde's own error).
fn checksum<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Option::<String>::deserialize(d)?.ok_or_else(|| {
        serde::de::Error::custom("sha256 is null: the card must state each model's SHA-256")
    })
}

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
    /// The highest real value the int8 tensor can hold, `(127 - zero_point) * scale`.
    pub fn max_score(&self) -> f64 {
        f64::from(127 - self.zero_point) * f64::from(self.scale)
    }

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
    /// SHA-256 of the `.tflite` file, 64 lower-case hex digits; the runtime refuses other
    /// bytes. Mandatory: a card cannot switch the integrity check off.
    #[serde(deserialize_with = "checksum")]
    pub sha256: String,
    /// How a triggered window is scored (`docs/PREPROCESSING.md` section 9a). Layout 2 added it:
    /// a layout-1 engine would ignore it and score with a threshold chosen for another score.
    pub scoring: Scoring,
}

/// How the engine turns a triggered window into a score (`docs/PREPROCESSING.md` section 9a).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scoring {
    /// The model runs once, on the window as recorded.
    Window,
    /// The model runs on the window turned by each of the 24 rotations of the cube; the score is
    /// the mean of the 24 dequantized outputs.
    CubeRotations,
}

impl Scoring {
    /// The card's name for it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scoring::Window => "window",
            Scoring::CubeRotations => "cube_rotations",
        }
    }
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
    /// Card layout version ([`CARD_SCHEMA_VERSION`]).
    pub schema_version: u32,
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
    /// Parses a card from JSON text: a JSON object (a leading UTF-8 BOM is skipped). Does not
    /// validate it ([`ModelCard::validate`]).
    pub fn from_json(text: &str) -> Result<Self, CardError> {
        from_json_object(text).map_err(CardError::Json)
    }

    /// Checks everything the engine relies on: versions, grid rate, window, band, default hop,
    /// trigger and thresholds (the ranges of [`limits`]), and for both models the channels,
    /// tensor shapes, types and quantization, and the checksum's form.
    pub fn validate(&self) -> Result<(), CardError> {
        self.validate_versions()?;
        self.validate_grid()?;
        for sensors in [SensorSet::Full, SensorSet::AccOnly] {
            self.validate_model(sensors)?;
        }
        Ok(())
    }

    /// Layout and preprocessing versions, and the grid rate.
    fn validate_versions(&self) -> Result<(), CardError> {
        if self.schema_version != CARD_SCHEMA_VERSION {
            let v = self.schema_version;
            return Err(invalid(
                "schema_version",
                format!("{v}, but this core reads version {CARD_SCHEMA_VERSION}"),
            ));
        }
        if self.preprocessing_version != PREPROCESSING_VERSION {
            let v = self.preprocessing_version;
            return Err(invalid(
                "preprocessing_version",
                format!("{v}, but this core implements {PREPROCESSING_VERSION}"),
            ));
        }
        let grid_hz = 1_000_000_000 / GRID_PERIOD_NS;
        if i64::from(self.sample_rate_hz) != grid_hz {
            let v = self.sample_rate_hz;
            return Err(invalid(
                "sample_rate_hz",
                format!("{v}, but the grid is {grid_hz} Hz"),
            ));
        }
        Ok(())
    }

    /// Window, band, default hop and trigger.
    fn validate_grid(&self) -> Result<(), CardError> {
        let w = self.window_frames;
        if !(1..=MAX_WINDOW_FRAMES).contains(&w) {
            return Err(invalid(
                "window_frames",
                format!("must be in [1, {MAX_WINDOW_FRAMES}], got {w}"),
            ));
        }
        let [b0, b1] = self.band;
        if !(b0 < b1 && b1 <= w) {
            return Err(invalid(
                "band",
                format!(
                    "must be [start, end) with start < end <= window_frames ({w}), got {:?}",
                    self.band
                ),
            ));
        }
        let h = self.hop_frames;
        within(
            "hop_frames",
            limits::HOP_FRAMES.capped((b1 - b0) as f64),
            h as f64,
            h.to_string(),
        )?;
        let t = self.trigger_g;
        within("trigger_g", limits::TRIGGER_G, t.into(), format!("{t:?}"))
    }

    /// One model's channels, gyroscope flag, tensors, threshold and checksum form.
    fn validate_model(&self, sensors: SensorSet) -> Result<(), CardError> {
        let spec = self.model(sensors);
        let name = match sensors {
            SensorSet::Full => "models.full",
            SensorSet::AccOnly => "models.acc_only",
        };
        let field = |f: &str| format!("{name}.{f}");
        let c = sensors.channels();
        if spec.channels != CHANNEL_NAMES[..c] {
            let want = &CHANNEL_NAMES[..c];
            return Err(invalid(
                &field("channels"),
                format!("must be {want:?}, got {:?}", spec.channels),
            ));
        }
        if spec.requires_gyro != (sensors == SensorSet::Full) {
            return Err(invalid(
                &field("requires_gyro"),
                format!("{} for this model", spec.requires_gyro),
            ));
        }
        for (t, shape, what) in [
            (&spec.input, vec![1, self.window_frames, 1, c], "input"),
            (&spec.output, vec![1, 1], "output"),
        ] {
            if t.shape != shape || t.dtype != "int8" {
                return Err(invalid(
                    &field(what),
                    format!("must be int8 {shape:?}, got {} {:?}", t.dtype, t.shape),
                ));
            }
            if !(t.scale.is_finite() && t.scale > 0.0 && (-128..=127).contains(&t.zero_point)) {
                return Err(invalid(
                    &field(what),
                    format!(
                        "scale must be finite and > 0 and zero_point in [-128, 127], got {:?} and {}",
                        t.scale, t.zero_point
                    ),
                ));
            }
        }
        let th = spec.threshold;
        within(
            &field("threshold"),
            limits::THRESHOLD.capped(spec.output.max_score()),
            th.into(),
            format!("{th:?}"),
        )?;
        let sha = &spec.sha256;
        if !(sha.len() == 64 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))) {
            return Err(invalid(
                &field("sha256"),
                format!("must be 64 lower-case hex digits, got {sha:?}"),
            ));
        }
        Ok(())
    }

    /// The model spec for a sensor set.
    pub fn model(&self, sensors: SensorSet) -> &ModelSpec {
        match sensors {
            SensorSet::Full => &self.models.full,
            SensorSet::AccOnly => &self.models.acc_only,
        }
    }
}

/// The card's `field` is invalid for `reason`.
fn invalid(field: &str, reason: String) -> CardError {
    CardError::Invalid {
        field: field.into(),
        reason,
    }
}

/// `v` (shown as `shown`) must lie in `limit`.
fn within(field: &str, limit: Limit, v: f64, shown: String) -> Result<(), CardError> {
    if limit.contains(v) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("must be in {}, got {shown}", limit.range()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../../models/model_card.json");

    /// The shipped card with `edit` applied to its JSON.
    fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> Result<ModelCard, CardError> {
        let mut v: serde_json::Value = serde_json::from_str(SHIPPED).expect("json");
        edit(&mut v);
        ModelCard::from_json(&v.to_string())
    }

    #[test]
    fn the_shipped_card_is_valid() {
        ModelCard::from_json(SHIPPED)
            .expect("parse")
            .validate()
            .expect("valid");
        let bom = format!("\u{feff}{SHIPPED}");
        ModelCard::from_json(&bom).expect("a BOM is skipped");
    }

    /// Each case is one rule of `validate`; the message names the field.
    #[test]
    fn cards_that_would_break_or_switch_off_detection_are_refused() {
        use serde_json::json;
        type Edit = fn(&mut serde_json::Value);
        let cases: [(&str, Edit); 23] = [
            ("band", |v| v["band"] = json!([80, 40])),
            ("band", |v| v["band"] = json!([40, 1_000_000])),
            ("band", |v| v["band"] = json!([40, 40])),
            ("hop_frames", |v| v["hop_frames"] = json!(0)),
            ("hop_frames", |v| {
                v["hop_frames"] = json!(1_000_000_000_000_000_000u64)
            }),
            ("trigger_g", |v| v["trigger_g"] = json!(-1)),
            ("trigger_g", |v| v["trigger_g"] = json!(1e39)),
            ("models.full.threshold", |v| {
                v["models"]["full"]["threshold"] = json!(5)
            }),
            ("models.acc_only.threshold", |v| {
                v["models"]["acc_only"]["threshold"] = json!(-0.5)
            }),
            ("models.full.threshold", |v| {
                v["models"]["full"]["threshold"] = json!(0.999)
            }),
            ("window_frames", |v| v["window_frames"] = json!(0)),
            ("window_frames", |v| v["window_frames"] = json!(200)),
            ("schema_version", |v| v["schema_version"] = json!(1)),
            ("schema_version", |v| v["schema_version"] = json!(3)),
            ("preprocessing_version", |v| {
                v["preprocessing_version"] = json!(2)
            }),
            ("sample_rate_hz", |v| v["sample_rate_hz"] = json!(100)),
            ("models.acc_only.channels", |v| {
                v["models"]["acc_only"]["channels"] = json!(["acc_x", "acc_y", "acc_z", "gyro_x"])
            }),
            ("models.full.requires_gyro", |v| {
                v["models"]["full"]["requires_gyro"] = json!(false)
            }),
            ("models.full.input", |v| {
                v["models"]["full"]["input"]["shape"] = json!([1, 100, 1, 4])
            }),
            ("models.full.output", |v| {
                v["models"]["full"]["output"]["scale"] = json!(0)
            }),
            ("models.acc_only.input", |v| {
                v["models"]["acc_only"]["input"]["zero_point"] = json!(300)
            }),
            ("models.full.sha256", |v| {
                v["models"]["full"]["sha256"] =
                    json!("88C1A877A4887FA067408F3129FE2A9B4630E0B66C0535EB49153487CB652A5C")
            }),
            ("models.acc_only.sha256", |v| {
                v["models"]["acc_only"]["sha256"] = json!("d6090d")
            }),
        ];
        for (field, edit) in cases {
            let err = edited(edit).expect("parses").validate().expect_err(field);
            assert!(
                matches!(&err, CardError::Invalid { field: f, .. } if f == field),
                "{field}: {err}"
            );
        }
    }

    #[test]
    fn a_missing_or_null_checksum_or_a_non_object_is_no_card() {
        for err in [
            edited(|v| {
                v["models"]["full"]
                    .as_object_mut()
                    .expect("object")
                    .remove("sha256");
            }),
            edited(|v| v["models"]["acc_only"]["sha256"] = serde_json::Value::Null),
            edited(|v| v["schema_version"] = serde_json::Value::Null),
            ModelCard::from_json("[1, 1, 50]"),
        ] {
            assert!(matches!(err, Err(CardError::Json(_))), "{err:?}");
        }
    }

    /// A layout-1 engine would ignore `scoring`, so the field is required, and a way of scoring
    /// this core does not know is refused rather than guessed.
    #[test]
    fn a_missing_or_unknown_scoring_is_no_card() {
        let missing = edited(|v| {
            v["models"]["acc_only"]
                .as_object_mut()
                .expect("object")
                .remove("scoring");
        });
        assert!(
            matches!(&missing, Err(CardError::Json(m)) if m.contains("missing field `scoring`")),
            "{missing:?}"
        );
        let unknown = edited(|v| v["models"]["full"]["scoring"] = serde_json::json!("median"));
        assert!(
            matches!(&unknown, Err(CardError::Json(m)) if m.contains("expected `window` or `cube_rotations`")),
            "{unknown:?}"
        );
    }
}

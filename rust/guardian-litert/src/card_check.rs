//! The checks of a model against its model card that do not depend on the runtime: the card's
//! spec itself, the model bytes (SHA-256 and the flatbuffer pre-check), and a model tensor's
//! element type, shape and quantization as the runtime reports them.
//!
//! Public so that every runtime backend (`LiteRtScorer` here, the classic TensorFlow Lite C API
//! backend in `guardian-tflite`) refuses exactly the same models with the same errors.

use guardian_core::{ModelSpec, QuantParams, TensorSpec};

use crate::error::RuntimeError;
use crate::ffi::{element_type_name, ELEMENT_TYPE_INT8};
use crate::model_bytes::check_tflite_model;

/// Relative tolerance when comparing the model's quantization scales with the card's.
pub const SCALE_RELATIVE_TOLERANCE: f32 = 1e-6;

/// The output shape of every Guardian model: one score.
pub const OUTPUT_SHAPE: [usize; 2] = [1, 1];

/// What the card says the model must look like, from one [`ModelSpec`] and the card's
/// `window_frames`, checked for consistency ([`ExpectedModel::from_spec`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedModel {
    /// `[1, window_frames, 1, channels]`.
    pub input_shape: Vec<usize>,
    /// `window_frames * channels`: int8 values per window.
    pub input_len: usize,
    /// The card's input quantization.
    pub input_quant: QuantParams,
    /// The card's output quantization.
    pub output_quant: QuantParams,
}

impl ExpectedModel {
    /// Checks `spec` against itself and `window_frames` (shapes, `int8`, scale > 0, zero point
    /// in [-128, 127]); [`RuntimeError::InvalidSpec`] otherwise.
    pub fn from_spec(spec: &ModelSpec, window_frames: usize) -> Result<Self, RuntimeError> {
        let channels = spec.channels.len();
        if window_frames == 0 || channels == 0 {
            return Err(RuntimeError::InvalidSpec(format!(
                "window_frames ({window_frames}) and the channel count ({channels}) must be > 0"
            )));
        }
        let input_shape = vec![1, window_frames, 1, channels];
        if spec.input.shape != input_shape {
            return Err(RuntimeError::InvalidSpec(format!(
                "card input shape {:?} is not [1, window_frames, 1, channels] = {input_shape:?}",
                spec.input.shape
            )));
        }
        if spec.output.shape != OUTPUT_SHAPE {
            return Err(RuntimeError::InvalidSpec(format!(
                "card output shape {:?} is not {OUTPUT_SHAPE:?}",
                spec.output.shape
            )));
        }
        for (name, t) in [("input", &spec.input), ("output", &spec.output)] {
            check_tensor_spec(name, t)?;
        }
        Ok(ExpectedModel {
            input_len: window_frames * channels,
            input_shape,
            input_quant: spec.input.quant(),
            output_quant: spec.output.quant(),
        })
    }
}

fn check_tensor_spec(name: &str, t: &TensorSpec) -> Result<(), RuntimeError> {
    if t.dtype != "int8" {
        return Err(RuntimeError::InvalidSpec(format!(
            "card {name} dtype is {:?}; Guardian's runtime runs int8 models only",
            t.dtype
        )));
    }
    if !(t.scale.is_finite() && t.scale > 0.0) {
        return Err(RuntimeError::InvalidSpec(format!(
            "card {name} scale {} is not > 0",
            t.scale
        )));
    }
    if !(-128..=127).contains(&t.zero_point) {
        return Err(RuntimeError::InvalidSpec(format!(
            "card {name} zero_point {} is outside [-128, 127]",
            t.zero_point
        )));
    }
    Ok(())
}

/// The checks on the bytes before any runtime sees them: their SHA-256 must be the card's
/// (`ChecksumMismatch`), then [`check_tflite_model`] (`CorruptModel` with `status: None`).
pub fn check_model_bytes(bytes: &[u8], spec: &ModelSpec) -> Result<(), RuntimeError> {
    let found = sha256_hex(bytes);
    if !found.eq_ignore_ascii_case(&spec.sha256) {
        return Err(RuntimeError::ChecksumMismatch {
            expected: spec.sha256.clone(),
            found,
        });
    }
    check_tflite_model(bytes)
}

/// A model tensor's quantization as the runtime reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FoundQuant {
    /// One scale and zero point for the whole tensor.
    PerTensor {
        /// Scale.
        scale: f32,
        /// Zero point.
        zero_point: i64,
    },
    /// Anything else, named (`"no quantization"`, `"per-channel quantization"`, ...).
    Other(&'static str),
}

/// Checks one model tensor (`"input"` or `"output"`) as the runtime reports it against the
/// card: element type `int8` ([`ELEMENT_TYPE_INT8`]; `element_type` in the numbering shared by
/// `LiteRtElementType` and `TfLiteType`), exactly `shape`, per-tensor quantization equal to
/// `quant` (scale within [`SCALE_RELATIVE_TOLERANCE`], zero point exact). `dims` are `None`
/// when the runtime reports no ranked shape. Returns the quantization as read from the model.
pub fn check_tensor(
    tensor: &'static str,
    element_type: i32,
    dims: Option<&[i64]>,
    found_quant: impl FnOnce() -> Result<FoundQuant, RuntimeError>,
    shape: &[usize],
    quant: QuantParams,
) -> Result<QuantParams, RuntimeError> {
    let Some(dims) = dims else {
        return Err(RuntimeError::ShapeMismatch {
            tensor,
            expected: shape.to_vec(),
            found: Vec::new(),
        });
    };
    if element_type != ELEMENT_TYPE_INT8 {
        return Err(RuntimeError::TypeMismatch {
            tensor,
            expected: "int8".into(),
            found: element_type_name(element_type).into(),
        });
    }
    let same = dims.len() == shape.len()
        && dims
            .iter()
            .zip(shape)
            .all(|(&d, &e)| usize::try_from(d).is_ok_and(|d| d == e));
    if !same {
        return Err(RuntimeError::ShapeMismatch {
            tensor,
            expected: shape.to_vec(),
            found: dims.to_vec(),
        });
    }
    let (scale, zero_point) = match found_quant()? {
        FoundQuant::PerTensor { scale, zero_point } => (scale, zero_point),
        FoundQuant::Other(kind) => {
            return Err(RuntimeError::QuantMismatch {
                tensor,
                expected: quant,
                found: kind.into(),
            })
        }
    };
    let scale_ok = (scale - quant.scale).abs() <= SCALE_RELATIVE_TOLERANCE * quant.scale.abs();
    if !scale_ok || zero_point != i64::from(quant.zero_point) {
        return Err(RuntimeError::QuantMismatch {
            tensor,
            expected: quant,
            found: format!("scale {scale:e}, zero_point {zero_point}"),
        });
    }
    Ok(QuantParams {
        scale,
        zero_point: quant.zero_point,
    })
}

/// Lower-case hex SHA-256 of `bytes`, as a model card's `sha256` states it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

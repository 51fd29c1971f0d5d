//! The seam between the pure core and an inference runtime.

/// Error a [`Scorer`] reports; the engine passes it on unchanged inside its own error type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("inference failed: {0}")]
pub struct ScoreError(pub String);

/// Runs a model on one quantized window.
///
/// Implemented by the runtime binding (`guardian-litert`). The core owns windows, quantization
/// and decisions; a scorer only invokes the model.
pub trait Scorer: Send {
    /// Runs the model on one window.
    ///
    /// `input` holds `window_frames * channels` int8 values, time-major (`input[t * channels +
    /// c]`), already quantized with the model's input parameters. Returns the raw int8 output.
    fn score(&mut self, input: &[i8]) -> Result<i8, ScoreError>;
}

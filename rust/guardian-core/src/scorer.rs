//! The seam between the pure core and an inference runtime.

/// Why a [`Scorer`] could not score a window. The engine passes it on unchanged inside
/// [`crate::EngineError::Model`], so a host can tell the kinds apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScoreError {
    /// The window did not have `window_frames * channels` values.
    #[error("inference failed: expected {expected} int8 values, got {found}")]
    InputLength {
        /// Values the model takes.
        expected: usize,
        /// Values given.
        found: usize,
    },
    /// The runtime failed while running the model; `status` is the runtime's own code, if it
    /// gave one.
    #[error("inference failed: {reason}{}", .status.map(|s| format!(" (runtime status {s})")).unwrap_or_default())]
    Runtime {
        /// The runtime's status code (`None`: no code, e.g. a caught C++ exception).
        status: Option<i32>,
        /// What the runtime said.
        reason: String,
    },
    /// The scorer cannot be used any more (e.g. a lock poisoned by a panic elsewhere).
    #[error("inference failed: the scorer is unusable: {0}")]
    Unusable(String),
}

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

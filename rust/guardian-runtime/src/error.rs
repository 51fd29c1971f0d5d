//! The crate's error type.

use std::path::PathBuf;

use guardian_core::EngineError;
use guardian_litert::RuntimeError;
use guardian_tflite::ClassicError;

/// Why an engine could not be assembled. Each message names the file involved and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// A file (card, model or configuration) could not be read.
    #[error("cannot read {what} {path}: {reason}")]
    Read {
        /// `"model card"`, `"model"` or `"config"`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why (the system's message, or the rule the file broke).
        reason: String,
    },
    /// The model card is not valid JSON of the expected shape.
    #[error("invalid model card {path}: {reason}")]
    InvalidCard {
        /// The card file (or `embedded`).
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A model file named by the card is not a plain file inside the card's folder.
    #[error("model card {card} names model file {file:?}: {reason}")]
    UnsafeModelPath {
        /// The card file.
        card: PathBuf,
        /// The `file` field as written in the card.
        file: String,
        /// The rule it breaks.
        reason: String,
    },
    /// The detector configuration is not a valid JSON object of `DetectorConfig` keys.
    #[error("invalid config {path}: {reason}")]
    InvalidConfig {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The LiteRT runtime library could not be loaded, or a backend refused the model: the
    /// checks of a model against its card are shared by both backends, so a damaged or
    /// mismatched model is this variant whichever runtime runs it.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The classic TensorFlow Lite runtime (phones) could not be loaded
    /// ([`ClassicError::is_library_error`]) or could not prepare or run the model. Its
    /// refusals of the model against the card are [`SetupError::Runtime`], as with LiteRT.
    #[error(transparent)]
    Classic(ClassicError),
    /// The engine refused the card or the configuration.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<ClassicError> for SetupError {
    /// A model refused against its card stays [`SetupError::Runtime`] (the same error as the
    /// LiteRT backend gives); the rest is [`SetupError::Classic`].
    fn from(e: ClassicError) -> Self {
        match e {
            ClassicError::Model(r) => SetupError::Runtime(r),
            other => SetupError::Classic(other),
        }
    }
}

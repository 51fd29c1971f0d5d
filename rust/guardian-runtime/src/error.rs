//! The crate's error type.

use std::path::PathBuf;

use guardian_core::EngineError;
use guardian_litert::RuntimeError;

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
    /// The runtime library could not be loaded, or refused the model.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The engine refused the card or the configuration.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

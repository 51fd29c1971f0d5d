//! The one error type foreign callers see.

use guardian_runtime::{RuntimeError, SetupError};

/// What went wrong, as Kotlin (`GuardianException.*`, `e.message`) and Swift (`GuardianError`,
/// `localizedDescription`) show it. Every message says what to do.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
#[non_exhaustive]
pub enum GuardianError {
    /// The TensorFlow Lite / LiteRT runtime library is missing, unloadable or the wrong one.
    #[error("{0}")]
    RuntimeLibraryMissing(String),
    /// A model file is damaged or does not match its card.
    #[error("{0}; reinstall the app's models or use the built-in ones (no model_card_path)")]
    ModelInvalid(String),
    /// The model card or a file it names cannot be used.
    #[error("{0}; fix the card or leave model_card_path unset to use the built-in models")]
    CardInvalid(String),
    /// A detector setting is out of its range.
    #[error("{0}; leave the setting null to use the default")]
    ConfigInvalid(String),
    /// A batch of samples was refused whole; nothing of it was used.
    #[error("{0}; nothing of this batch was used")]
    InvalidBatch(String),
    /// The detector is not started, or was stopped.
    #[error("the detector is not running: call start(listener) first (samples pushed before start or after stop are refused)")]
    NotRunning,
    /// `start` was called on a running detector.
    #[error("the detector is already running: call stop() before starting it again")]
    AlreadyRunning,
    /// The alert journal directory cannot be used.
    #[error("{0}; give a writable journal_dir (the app's files directory)")]
    Journal(String),
    /// The model failed while running on the phone.
    #[error("{0}; detection continues, but report this to the app's developers")]
    Model(String),
    /// A bug in Guardian.
    #[error("internal error: {0}; please report it")]
    Internal(String),
}

impl From<SetupError> for GuardianError {
    fn from(e: SetupError) -> Self {
        let text = e.to_string();
        match e {
            SetupError::Runtime(r) => r.into(),
            SetupError::InvalidConfig { .. } => Self::ConfigInvalid(text),
            SetupError::Engine(guardian_core::EngineError::InvalidConfig(_)) => {
                Self::ConfigInvalid(text)
            }
            SetupError::Engine(guardian_core::EngineError::CardMismatch(_)) => {
                Self::CardInvalid(text)
            }
            SetupError::Read { .. } | SetupError::InvalidCard { .. } => Self::CardInvalid(text),
            SetupError::UnsafeModelPath { .. } => Self::CardInvalid(text),
            SetupError::Classic(c) if c.is_library_error() => Self::RuntimeLibraryMissing(text),
            SetupError::Classic(_) => Self::ModelInvalid(text),
            _ => Self::Internal(text),
        }
    }
}

impl From<RuntimeError> for GuardianError {
    fn from(e: RuntimeError) -> Self {
        let text = e.to_string();
        match e {
            RuntimeError::LibraryNotFound { .. }
            | RuntimeError::LibraryLoad { .. }
            | RuntimeError::MissingSymbol { .. }
            | RuntimeError::VersionMismatch { .. } => Self::RuntimeLibraryMissing(text),
            RuntimeError::ModelIo { .. } => Self::CardInvalid(text),
            _ => Self::ModelInvalid(text),
        }
    }
}

/// What a listener may throw. Guardian logs it, counts it (`listener_errors`) and goes on
/// delivering later events.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum ListenerError {
    /// The listener failed.
    #[error("the listener failed: {0}")]
    Failed(String),
}

impl From<uniffi::UnexpectedUniFFICallbackError> for ListenerError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Failed(e.reason)
    }
}

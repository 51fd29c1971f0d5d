//! Assembles a working Guardian engine from its parts: the model card and its models
//! ([`ModelBundle`]: built in, or read safely from a card folder), the detector configuration
//! ([`load_config`]), and the runtime library of either backend ([`load_runtime`]: LiteRT
//! 2.1.4, or the classic TensorFlow Lite C API that phones have; [`RuntimeKind`]).
//!
//! Shared by the `guardian` command and the app-facing facade (`uniffi/`), so both load,
//! check and refuse the same things. Errors are typed ([`SetupError`]): a caller can tell a
//! missing runtime library from a damaged model or a bad configuration.

mod bundle;
mod config;
mod error;
mod runtime;

pub use bundle::{ModelBundle, MAX_CARD_BYTES, MAX_MODEL_BYTES};
pub use config::load_config;
pub use error::SetupError;
pub use guardian_litert::{LiteRtLibrary, LiteRtScorer, RuntimeError};
pub use guardian_tflite::{ClassicError, ClassicLibrary, ClassicScorer};
pub use runtime::{load_runtime, Runtime, RuntimeKind};

//! Assembles a working Guardian engine from its parts: the model card and its models
//! ([`ModelBundle`]: built in, or read safely from a card folder), the detector configuration
//! ([`load_config`]), and the LiteRT runtime library ([`load_runtime`]).
//!
//! Shared by the `guardian` command and the app-facing facade (`uniffi/`), so both load,
//! check and refuse the same things. Errors are typed ([`SetupError`]): a caller can tell a
//! missing runtime library from a damaged model or a bad configuration.

mod bundle;
mod config;
mod error;

pub use bundle::{ModelBundle, MAX_CARD_BYTES, MAX_MODEL_BYTES};
pub use config::load_config;
pub use error::SetupError;
pub use guardian_litert::{LiteRtLibrary, LiteRtScorer, RuntimeError};

use std::path::Path;

/// Loads the runtime library from `path`, or finds it ([`LiteRtLibrary::locate`]).
pub fn load_runtime(path: Option<&Path>) -> Result<LiteRtLibrary, SetupError> {
    match path {
        Some(p) => LiteRtLibrary::load(p),
        None => LiteRtLibrary::locate(),
    }
    .map_err(SetupError::Runtime)
}

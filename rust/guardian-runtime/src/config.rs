//! The detector configuration from a JSON file.

use std::path::Path;

use guardian_core::DetectorConfig;

use crate::bundle::read_capped;
use crate::SetupError;

/// Largest configuration file read, bytes.
const MAX_CONFIG_BYTES: u64 = 64 << 10;

/// Reads a detector configuration (a JSON object of `DetectorConfig` keys; unknown keys are
/// errors), or the defaults when `path` is `None`.
pub fn load_config(path: Option<&Path>) -> Result<DetectorConfig, SetupError> {
    let Some(path) = path else {
        return Ok(DetectorConfig::default());
    };
    let bytes = read_capped(path, "config", MAX_CONFIG_BYTES)?;
    let text = String::from_utf8(bytes).map_err(|_| SetupError::InvalidConfig {
        path: path.to_path_buf(),
        reason: "not UTF-8 text".into(),
    })?;
    serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| {
        SetupError::InvalidConfig {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    })
}

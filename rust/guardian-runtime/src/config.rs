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
    DetectorConfig::from_json(&text).map_err(|e| SetupError::InvalidConfig {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_object_is_a_config_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("c.json");
        std::fs::write(&p, "[3]").expect("write");
        let e = load_config(Some(&p)).expect_err("array");
        assert!(matches!(e, SetupError::InvalidConfig { .. }), "{e}");
        std::fs::write(&p, "\u{feff}{\"hop_frames\": 10}").expect("write");
        assert_eq!(load_config(Some(&p)).expect("BOM").hop_frames, Some(10));
        assert!(load_config(Some(dir.path())).is_err(), "a directory");
    }
}

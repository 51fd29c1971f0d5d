//! The model card and both models, built in or read from a card folder.

use std::borrow::Cow;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use guardian_core::{DetectorConfig, Engine, ModelCard, Scorer, SensorSet};
use guardian_litert::{LiteRtLibrary, LiteRtScorer};
use guardian_tflite::{ClassicLibrary, ClassicScorer};

use crate::{Runtime, SetupError};

const EMBEDDED_CARD: &str = include_str!("../../../models/model_card.json");
const EMBEDDED_FULL: &[u8] = include_bytes!("../../../models/guardian-full-qat-int8.tflite");
const EMBEDDED_ACC: &[u8] = include_bytes!("../../../models/guardian-acc-qat-int8.tflite");

/// Largest model card read, bytes.
pub const MAX_CARD_BYTES: u64 = 1 << 20;
/// Largest model file read, bytes (Guardian's models are about 16 KB).
pub const MAX_MODEL_BYTES: u64 = 4 << 20;

/// A model card with the bytes of the models it names.
#[derive(Debug, Clone)]
pub struct ModelBundle {
    /// The card.
    pub card: ModelCard,
    /// Where it came from, for messages.
    pub origin: String,
    full: Cow<'static, [u8]>,
    acc_only: Cow<'static, [u8]>,
}

impl ModelBundle {
    /// The shipped models, compiled into this library from `models/` (no copy).
    pub fn embedded() -> Result<Self, SetupError> {
        let card = ModelCard::from_json(EMBEDDED_CARD).map_err(|e| SetupError::InvalidCard {
            path: "embedded model_card.json".into(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            card,
            origin: "embedded (models/)".into(),
            full: Cow::Borrowed(EMBEDDED_FULL),
            acc_only: Cow::Borrowed(EMBEDDED_ACC),
        })
    }

    /// `path` is a `model_card.json` or a folder holding one. The models it names must be
    /// plain files inside the card's folder (no absolute paths, no `..`, no links out of it)
    /// of at most [`MAX_MODEL_BYTES`].
    pub fn from_path(path: &Path) -> Result<Self, SetupError> {
        let card_path: PathBuf = if path.is_dir() {
            path.join("model_card.json")
        } else {
            path.to_path_buf()
        };
        let bytes = read_capped(&card_path, "model card", MAX_CARD_BYTES)?;
        let invalid = |reason: String| SetupError::InvalidCard {
            path: card_path.clone(),
            reason,
        };
        let text = String::from_utf8(bytes).map_err(|_| invalid("not UTF-8 text".into()))?;
        let card = ModelCard::from_json(text.trim_start_matches('\u{feff}'))
            .map_err(|e| invalid(e.to_string()))?;
        let dir = card_path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let read = |file: &str| -> Result<Cow<'static, [u8]>, SetupError> {
            let p = model_path(&card_path, dir, file)?;
            Ok(Cow::Owned(read_capped(&p, "model", MAX_MODEL_BYTES)?))
        };
        Ok(Self {
            full: read(&card.models.full.file)?,
            acc_only: read(&card.models.acc_only.file)?,
            origin: card_path.display().to_string(),
            card,
        })
    }

    /// The card at `path` if given, else the embedded models.
    pub fn load(path: Option<&Path>) -> Result<Self, SetupError> {
        match path {
            Some(p) => Self::from_path(p),
            None => Self::embedded(),
        }
    }

    /// The `.tflite` bytes of one model.
    pub fn model_bytes(&self, sensors: SensorSet) -> &[u8] {
        match sensors {
            SensorSet::Full => &self.full,
            SensorSet::AccOnly => &self.acc_only,
        }
    }

    /// Loads one model in `runtime`, validated against the card (checksum, structure, shapes,
    /// types, quantization: the same checks in both backends).
    pub fn scorer(
        &self,
        runtime: &Runtime,
        sensors: SensorSet,
    ) -> Result<Box<dyn Scorer>, SetupError> {
        Ok(match runtime {
            Runtime::LiteRt(lib) => Box::new(self.litert_scorer(lib, sensors)?),
            Runtime::Classic(lib) => Box::new(self.classic_scorer(lib, sensors)?),
        })
    }

    /// Loads one model in LiteRT, validated against the card.
    pub fn litert_scorer(
        &self,
        lib: &LiteRtLibrary,
        sensors: SensorSet,
    ) -> Result<LiteRtScorer, SetupError> {
        let spec = self.card.model(sensors);
        Ok(LiteRtScorer::from_bytes(
            lib,
            self.model_bytes(sensors),
            spec,
            self.card.window_frames,
        )?)
    }

    /// Loads one model in the classic TensorFlow Lite C API, validated against the card.
    pub fn classic_scorer(
        &self,
        lib: &ClassicLibrary,
        sensors: SensorSet,
    ) -> Result<ClassicScorer, SetupError> {
        let spec = self.card.model(sensors);
        Ok(ClassicScorer::from_bytes(
            lib,
            self.model_bytes(sensors),
            spec,
            self.card.window_frames,
        )?)
    }

    /// An engine for `sensors` running `scorer` (which must run this card's model for
    /// `sensors`, e.g. from [`Self::scorer`]).
    pub fn engine_with(
        &self,
        sensors: SensorSet,
        config: &DetectorConfig,
        scorer: Box<dyn Scorer>,
    ) -> Result<Engine, SetupError> {
        Ok(Engine::new(&self.card, sensors, config, scorer)?)
    }

    /// An engine running this bundle's model for `sensors` in `runtime`.
    pub fn engine(
        &self,
        runtime: &Runtime,
        sensors: SensorSet,
        config: &DetectorConfig,
    ) -> Result<Engine, SetupError> {
        let scorer = self.scorer(runtime, sensors)?;
        self.engine_with(sensors, config, scorer)
    }
}

/// The path of model `file` named by the card at `card`, in folder `dir`: a relative path
/// without `..` that resolves (links followed) to a regular file inside `dir`.
fn model_path(card: &Path, dir: &Path, file: &str) -> Result<PathBuf, SetupError> {
    let refuse = |reason: &str| SetupError::UnsafeModelPath {
        card: card.to_path_buf(),
        file: file.to_owned(),
        reason: reason.to_owned(),
    };
    let rel = Path::new(file);
    if file.is_empty() || rel.is_absolute() || rel.has_root() {
        return Err(refuse(
            "model files must be named relative to the card's folder",
        ));
    }
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(refuse(
            "model file names may not contain `..` or `.` components",
        ));
    }
    let joined = dir.join(rel);
    let (Ok(real_dir), Ok(real_file)) = (dir.canonicalize(), joined.canonicalize()) else {
        return Err(SetupError::Read {
            what: "model",
            path: joined,
            reason: "no such file".into(),
        });
    };
    if !real_file.starts_with(&real_dir) {
        return Err(refuse("it resolves to a file outside the card's folder"));
    }
    Ok(joined)
}

/// Reads `path` whole if it is a regular file of at most `cap` bytes.
pub(crate) fn read_capped(
    path: &Path,
    what: &'static str,
    cap: u64,
) -> Result<Vec<u8>, SetupError> {
    let err = |reason: String| SetupError::Read {
        what,
        path: path.to_path_buf(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    if !meta.is_file() {
        return Err(err("not a regular file".into()));
    }
    if meta.len() > cap {
        return Err(err(format!(
            "{} bytes, more than the {cap} allowed",
            meta.len()
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .and_then(|f| f.take(cap + 1).read_to_end(&mut bytes))
        .map_err(|e| err(e.to_string()))?;
    if bytes.len() as u64 > cap {
        return Err(err(format!("grew past the {cap} bytes allowed while read")));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card_dir_with(file: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut card: serde_json::Value =
            serde_json::from_str(EMBEDDED_CARD).expect("embedded card");
        card["models"]["full"]["file"] = file.into();
        std::fs::write(dir.path().join("model_card.json"), card.to_string()).expect("write");
        std::fs::write(
            dir.path().join("guardian-acc-qat-int8.tflite"),
            EMBEDDED_ACC,
        )
        .expect("write");
        std::fs::write(
            dir.path().join("guardian-full-qat-int8.tflite"),
            EMBEDDED_FULL,
        )
        .expect("write");
        dir
    }

    #[test]
    fn embedded_bundle_loads() {
        let b = ModelBundle::embedded().expect("embedded");
        assert_eq!(b.model_bytes(SensorSet::Full), EMBEDDED_FULL);
    }

    #[test]
    fn a_card_folder_loads() {
        let dir = card_dir_with("guardian-full-qat-int8.tflite");
        let b = ModelBundle::from_path(dir.path()).expect("bundle");
        assert_eq!(b.model_bytes(SensorSet::AccOnly), EMBEDDED_ACC);
    }

    #[test]
    fn model_paths_outside_the_card_folder_are_refused() {
        for file in [
            "/etc/passwd",
            "../x.tflite",
            "sub/../guardian-full-qat-int8.tflite",
            "",
        ] {
            let dir = card_dir_with(file);
            let err = ModelBundle::from_path(dir.path()).expect_err(file);
            assert!(
                matches!(err, SetupError::UnsafeModelPath { .. }),
                "{file}: {err}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn links_out_of_the_folder_and_devices_are_refused() {
        let dir = card_dir_with("zero.tflite");
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.tflite")).expect("link");
        let err = ModelBundle::from_path(dir.path()).expect_err("link to /dev/zero");
        assert!(matches!(err, SetupError::UnsafeModelPath { .. }), "{err}");

        let err =
            read_capped(Path::new("/dev/zero"), "model", MAX_MODEL_BYTES).expect_err("/dev/zero");
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    #[test]
    fn oversized_model_files_are_refused() {
        let dir = card_dir_with("big.tflite");
        let f = std::fs::File::create(dir.path().join("big.tflite")).expect("create");
        f.set_len(MAX_MODEL_BYTES + 1).expect("set_len");
        let err = ModelBundle::from_path(dir.path()).expect_err("big");
        assert!(err.to_string().contains("allowed"), "{err}");
    }
}

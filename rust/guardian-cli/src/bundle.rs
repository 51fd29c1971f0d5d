//! The model card and both models, from the binary itself or from a folder.

use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use guardian_core::{DetectorConfig, Engine, ModelCard, ScoreError, Scorer, SensorSet};
use guardian_litert::{LiteRtLibrary, LiteRtScorer};

const EMBEDDED_CARD: &str = include_str!("../../../models/model_card.json");
const EMBEDDED_FULL: &[u8] = include_bytes!("../../../models/guardian-full-qat-int8.tflite");
const EMBEDDED_ACC: &[u8] = include_bytes!("../../../models/guardian-acc-qat-int8.tflite");

/// A model card with the bytes of the models it names.
#[derive(Debug, Clone)]
pub struct ModelBundle {
    /// The card.
    pub card: ModelCard,
    /// Where it came from, for messages.
    pub origin: String,
    full: Vec<u8>,
    acc_only: Vec<u8>,
}

impl ModelBundle {
    /// The shipped models, compiled into the binary from `models/`.
    pub fn embedded() -> Result<Self> {
        let card = ModelCard::from_json(EMBEDDED_CARD).context("embedded model_card.json")?;
        Ok(Self {
            card,
            origin: "embedded (models/)".into(),
            full: EMBEDDED_FULL.to_vec(),
            acc_only: EMBEDDED_ACC.to_vec(),
        })
    }

    /// `path` is a `model_card.json` or a folder holding one; the models are read from the
    /// card's folder.
    pub fn from_path(path: &Path) -> Result<Self> {
        let card_path: PathBuf = if path.is_dir() {
            path.join("model_card.json")
        } else {
            path.to_path_buf()
        };
        let text = std::fs::read_to_string(&card_path)
            .with_context(|| format!("cannot read model card {}", card_path.display()))?;
        let card = ModelCard::from_json(&text)
            .with_context(|| format!("invalid model card {}", card_path.display()))?;
        let dir = card_path.parent().unwrap_or(Path::new("."));
        let read = |file: &str| {
            let p = dir.join(file);
            std::fs::read(&p).with_context(|| format!("cannot read model {}", p.display()))
        };
        Ok(Self {
            full: read(&card.models.full.file)?,
            acc_only: read(&card.models.acc_only.file)?,
            origin: card_path.display().to_string(),
            card,
        })
    }

    /// `--model` if given, else the embedded models.
    pub fn load(path: Option<&Path>) -> Result<Self> {
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

    /// Loads and validates one model in LiteRT.
    pub fn scorer(&self, lib: &LiteRtLibrary, sensors: SensorSet) -> Result<QuietScorer> {
        let spec = self.card.model(sensors);
        let bytes = self.model_bytes(sensors);
        without_litert_log(|| LiteRtScorer::from_bytes(lib, bytes, spec, self.card.window_frames))
            .map(|s| QuietScorer(ManuallyDrop::new(s)))
            .with_context(|| format!("model {} ({})", spec.file, self.origin))
    }

    /// An engine running this bundle's model for `sensors`.
    pub fn engine(
        &self,
        lib: &LiteRtLibrary,
        sensors: SensorSet,
        config: &DetectorConfig,
    ) -> Result<Engine> {
        let scorer = self.scorer(lib, sensors)?;
        Ok(Engine::new(&self.card, sensors, config, Box::new(scorer))?)
    }
}

/// Reads a detector configuration (JSON; unknown keys are errors), or the defaults.
pub fn load_config(path: Option<&Path>) -> Result<DetectorConfig> {
    let Some(path) = path else {
        return Ok(DetectorConfig::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("invalid config {}", path.display()))
}

/// Loads LiteRT from `--litert` or the usual places.
pub fn load_litert(path: Option<&Path>) -> Result<LiteRtLibrary> {
    let lib = match path {
        Some(p) => LiteRtLibrary::load(p),
        None => LiteRtLibrary::locate(),
    };
    match lib {
        Ok(lib) => Ok(lib),
        Err(e) => bail!("{e}"),
    }
}

/// A [`LiteRtScorer`] whose construction and destruction keep LiteRT's log lines off stderr.
#[derive(Debug)]
pub struct QuietScorer(ManuallyDrop<LiteRtScorer>);

impl Deref for QuietScorer {
    type Target = LiteRtScorer;
    fn deref(&self) -> &LiteRtScorer {
        &self.0
    }
}

impl DerefMut for QuietScorer {
    fn deref_mut(&mut self) -> &mut LiteRtScorer {
        &mut self.0
    }
}

impl Scorer for QuietScorer {
    fn score(&mut self, input: &[i8]) -> Result<i8, ScoreError> {
        self.0.score(input)
    }
}

impl Drop for QuietScorer {
    fn drop(&mut self) {
        // SAFETY: dropped exactly once, here; `self.0` is not used afterwards.
        without_litert_log(|| unsafe { ManuallyDrop::drop(&mut self.0) });
    }
}

/// Runs `f` with stderr pointed at /dev/null, unless `GUARDIAN_LITERT_LOG` is set.
///
/// LiteRT 2.1.4 prints INFO lines on stderr whenever it builds a model and exports no way to
/// turn them off; its failures still reach the caller as typed errors.
fn without_litert_log<T>(f: impl FnOnce() -> T) -> T {
    if std::env::var_os("GUARDIAN_LITERT_LOG").is_some() {
        return f();
    }
    // SAFETY: plain descriptor calls; stderr (fd 2) is restored before returning, and a failed
    // dup/open leaves stderr untouched.
    unsafe {
        let saved = libc::dup(2);
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
        let swapped = saved >= 0 && null >= 0 && libc::dup2(null, 2) >= 0;
        let out = f();
        if swapped {
            libc::dup2(saved, 2);
        }
        for fd in [saved, null] {
            if fd >= 0 {
                libc::close(fd);
            }
        }
        out
    }
}

//! The CLI's view of the engine's parts: [`guardian_runtime`] assembles them; this module keeps
//! LiteRT's log lines off the terminal while models are built and dropped.

use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::path::Path;

use anyhow::{Context, Result};
use guardian_core::{DetectorConfig, Engine, ScoreError, Scorer, SensorSet};
use guardian_litert::{LiteRtLibrary, LiteRtScorer};
pub use guardian_runtime::{load_config, ModelBundle};

/// Loads LiteRT from `--litert` or the usual places.
pub fn load_litert(path: Option<&Path>) -> Result<LiteRtLibrary> {
    Ok(guardian_runtime::load_runtime(path)?)
}

/// Loads and validates one model of `bundle` in LiteRT, without LiteRT's log lines.
pub fn quiet_scorer(
    bundle: &ModelBundle,
    lib: &LiteRtLibrary,
    sensors: SensorSet,
) -> Result<QuietScorer> {
    without_litert_log(|| bundle.scorer(lib, sensors))
        .map(|s| QuietScorer(ManuallyDrop::new(s)))
        .with_context(|| {
            format!(
                "model {} ({})",
                bundle.card.model(sensors).file,
                bundle.origin
            )
        })
}

/// An engine running `bundle`'s model for `sensors`, without LiteRT's log lines.
pub fn quiet_engine(
    bundle: &ModelBundle,
    lib: &LiteRtLibrary,
    sensors: SensorSet,
    config: &DetectorConfig,
) -> Result<Engine> {
    let scorer = quiet_scorer(bundle, lib, sensors)?;
    Ok(bundle.engine_with(sensors, config, Box::new(scorer))?)
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

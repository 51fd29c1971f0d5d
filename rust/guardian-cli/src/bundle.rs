//! The CLI's view of the engine's parts: [`guardian_runtime`] assembles them; this module keeps
//! LiteRT's log lines off the terminal while models are built and dropped.

use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::path::Path;

use anyhow::{Context, Result};
use guardian_core::{DetectorConfig, Engine, ScoreError, Scorer, SensorSet};
use guardian_litert::{LiteRtLibrary, LiteRtScorer};
pub use guardian_runtime::{load_config, ModelBundle, Runtime, RuntimeKind};

use crate::EngineArgs;

/// Loads LiteRT from `--litert` or the usual places.
pub fn load_litert(path: Option<&Path>) -> Result<LiteRtLibrary> {
    match guardian_runtime::load_runtime(RuntimeKind::LiteRt, path)? {
        Runtime::LiteRt(lib) => Ok(lib),
        Runtime::Classic(_) => anyhow::bail!("asked for LiteRT, got the classic runtime"),
    }
}

/// Loads the runtime `--runtime` names, from `--litert` / `--tflite` or the usual places.
pub fn load_runtime(args: &EngineArgs) -> Result<Runtime> {
    let path = match args.runtime {
        RuntimeKind::LiteRt => {
            anyhow::ensure!(args.tflite.is_none(), "--tflite needs --runtime classic");
            args.litert.as_deref()
        }
        RuntimeKind::Classic => {
            anyhow::ensure!(args.litert.is_none(), "--litert needs --runtime litert");
            args.tflite.as_deref()
        }
    };
    Ok(guardian_runtime::load_runtime(args.runtime, path)?)
}

/// Loads and validates one model of `bundle` in LiteRT, without LiteRT's log lines.
pub fn quiet_scorer(
    bundle: &ModelBundle,
    lib: &LiteRtLibrary,
    sensors: SensorSet,
) -> Result<QuietScorer> {
    without_litert_log(|| -> Result<LiteRtScorer> {
        let mut scorer = bundle.litert_scorer(lib, sensors)?;
        // One inference while LiteRT's log is off: LiteRT prepares some kernels on the first
        // run, and a model that fails there is refused here, with Guardian's message alone.
        let zeros = vec![0i8; scorer.input_len()];
        scorer
            .invoke_raw(&zeros)
            .context("first inference, on a zero window")?;
        Ok(scorer)
    })
    .map(|s| QuietScorer(ManuallyDrop::new(s)))
    .with_context(|| {
        format!(
            "model {} ({})",
            bundle.card.model(sensors).file,
            bundle.origin
        )
    })
}

/// An engine running `bundle`'s model for `sensors` in `runtime`, without LiteRT's log lines.
pub fn quiet_engine(
    bundle: &ModelBundle,
    runtime: &Runtime,
    sensors: SensorSet,
    config: &DetectorConfig,
) -> Result<Engine> {
    let scorer: Box<dyn Scorer> = match runtime {
        Runtime::LiteRt(lib) => Box::new(quiet_scorer(bundle, lib, sensors)?),
        Runtime::Classic(lib) => Box::new(
            without_litert_log(|| bundle.classic_scorer(lib, sensors)).with_context(|| {
                format!(
                    "model {} ({})",
                    bundle.card.model(sensors).file,
                    bundle.origin
                )
            })?,
        ),
    };
    Ok(bundle.engine_with(sensors, config, scorer)?)
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

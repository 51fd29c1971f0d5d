//! Running the labelled recordings through the engine: a fresh engine per recording, one shared
//! model per sensor set.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use guardian_core::{
    DetectorConfig, Engine, EngineStats, Event, ScoreError, Scorer, SensorSet, WindowRecord,
};
use indicatif::{ProgressBar, ProgressStyle};

use super::labels::{EvalInputs, Unreadable};
use super::metrics::{compute_metrics, ModelMetrics};
use super::results::{write_result, RecordingResult};
use crate::bundle::{ModelBundle, QuietScorer};
use crate::recording::RecordingReader;
use crate::replay::stream;

/// One model shared by the fresh engines of all recordings: the model is stateless between
/// windows, so reusing its LiteRT instance changes nothing but the cost (and the log lines
/// LiteRT prints per instance).
struct SharedScorer(Arc<Mutex<QuietScorer>>);

impl Scorer for SharedScorer {
    fn score(&mut self, input: &[i8]) -> Result<i8, ScoreError> {
        self.0
            .lock()
            .map_err(|_| ScoreError::Unusable("scorer mutex poisoned".into()))?
            .score(input)
    }
}

/// The progress bar of `len` recording runs, on stderr.
pub fn progress_bar(len: usize) -> ProgressBar {
    ProgressBar::new(len as u64).with_style(
        ProgressStyle::with_template(
            "{prefix:>8} {bar:40} {pos}/{len} recordings {elapsed} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    )
}

/// Streams every recording of `inputs` through a fresh engine of `set`, all sharing `scorer`;
/// appends each result to `jsonl` and returns the model's metrics. A recording the engine fails
/// on joins the export's unreadable ones.
pub fn evaluate_model(
    bundle: &ModelBundle,
    config: &DetectorConfig,
    set: SensorSet,
    scorer: QuietScorer,
    inputs: &EvalInputs,
    jsonl: &mut impl Write,
    bar: &ProgressBar,
) -> Result<ModelMetrics> {
    let scorer = Arc::new(Mutex::new(scorer));
    let mut results = Vec::with_capacity(inputs.recordings.len());
    let mut bad = inputs.unreadable.clone();
    for (path, label) in &inputs.recordings {
        let shared = Box::new(SharedScorer(scorer.clone()));
        let mut engine = Engine::new(&bundle.card, set, config, shared)?;
        match run_recording(&mut engine, path) {
            Ok((events, stats, windows)) => {
                let mut r = RecordingResult::new(set, label.clone(), events);
                r.path = path.display().to_string();
                r.stats = Some(stats);
                r.windows = windows;
                write_result(jsonl, &r)?;
                results.push(r);
            }
            Err(e) => bad.push(Unreadable::engine_failure(label, format!("{e:#}"))),
        }
        bar.inc(1);
    }
    Ok(compute_metrics(set, &results, &bad))
}

/// Streams one recording through `engine` (fresh), returning its events, stats and windows.
pub fn run_recording(
    engine: &mut Engine,
    path: &Path,
) -> Result<(Vec<Event>, EngineStats, Vec<WindowRecord>)> {
    engine.record_windows(true);
    let input = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = RecordingReader::new(BufReader::with_capacity(1 << 16, input));
    let mut events = Vec::new();
    stream(
        &mut reader,
        engine,
        |_| {},
        |e| {
            events.push(e);
            Ok(())
        },
    )?;
    let windows = engine.take_window_log();
    Ok((events, engine.stats(), windows))
}

//! `guardian eval`: event-level evaluation of recordings with labels.
//!
//! Each recording of a `labels.csv` (written by `python -m guardian_eval export`, or by hand) is
//! streamed through a fresh engine with the same card, model and detector configuration a phone
//! runs. Fall events are matched against the labelled impact; the metrics (sensitivity, false
//! alarms per hour of ADL, specificity, alert latency) are computed by the pure
//! [`compute_metrics`] from the per-recording outcomes written to `results.jsonl`.
//!
//! One job per file: `labels.rs` reads the truth, `runner.rs` streams the recordings through
//! the engine, `results.rs` matches alarms and holds `results.jsonl`, `metrics.rs` computes the
//! figures, `report.rs` writes `metrics.json` and the summary; this file runs them in order.

mod labels;
mod metrics;
mod report;
mod results;
mod runner;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use guardian_core::SensorSet;

pub use labels::{
    is_long_adl, read_inputs, read_labels, read_unreadable, EvalInputs, Label, Unreadable,
    LABEL_COLUMNS,
};
pub use metrics::{
    compute_metrics, quantile, AdlMetrics, FallTypeMetrics, GroupMetrics, LatencyMetrics,
    ModelMetrics,
};
pub use report::EvalOutput;
pub use results::{match_alarms, read_results, Outcome, RecordingResult};
pub use runner::run_recording;

use crate::bundle::{load_config, load_litert, quiet_scorer, ModelBundle};
pub use crate::matching::MATCH_TOLERANCE_NS;
use crate::EngineArgs;

fn sensors_name(s: SensorSet) -> &'static str {
    match s {
        SensorSet::Full => "full",
        SensorSet::AccOnly => "acc_only",
    }
}

/// Runs `guardian eval`: every recording of every labels file through the model of each of
/// `sets`, in that order; writes `metrics.json` and `results.jsonl` into `out`. Prints a
/// summary on stderr.
pub fn run(
    labels: &[PathBuf],
    args: &EngineArgs,
    sets: &[SensorSet],
    out: &Path,
) -> Result<EvalOutput> {
    let bundle = ModelBundle::load(args.model.as_deref())?;
    let config = load_config(args.config.as_deref())?;
    args.require_litert("eval")?;
    let lib = load_litert(args.litert.as_deref())?;
    let inputs = read_inputs(labels)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut jsonl = results::create_results(out)?;
    let bar = runner::progress_bar(inputs.recordings.len() * sets.len());
    let start = Instant::now();
    let mut models = BTreeMap::new();
    let mut thresholds = BTreeMap::new();
    for &set in sets {
        bar.set_prefix(sensors_name(set));
        let scorer = quiet_scorer(&bundle, &lib, set)?;
        thresholds.insert(
            sensors_name(set).to_string(),
            config.threshold.unwrap_or(bundle.card.model(set).threshold),
        );
        let metrics =
            runner::evaluate_model(&bundle, &config, set, scorer, &inputs, &mut jsonl, &bar)?;
        models.insert(sensors_name(set).to_string(), metrics);
    }
    bar.finish_and_clear();
    jsonl.flush()?;
    let output = EvalOutput {
        labels: labels.iter().map(|p| p.display().to_string()).collect(),
        model_origin: bundle.origin.clone(),
        card_split: report::card_split(args.model.as_deref()),
        trigger_g: config.trigger_g.unwrap_or(bundle.card.trigger_g),
        config,
        thresholds,
        window_frames: bundle.card.window_frames,
        band: bundle.card.band,
        match_tolerance_s: MATCH_TOLERANCE_NS as f64 * 1e-9,
        wall_s: start.elapsed().as_secs_f64(),
        models,
    };
    report::write_metrics(out, &output)?;
    report::print_summary(out, &output);
    Ok(output)
}

/// Builders of labels and events the unit tests of the submodules share.
#[cfg(test)]
mod test_support {
    use guardian_core::{DetectedFall, Event};

    use super::{is_long_adl, Label};

    /// One second, ns.
    pub const S: i64 = 1_000_000_000;

    /// A label; a file name containing `SE` is an elderly subject's.
    pub fn label(
        file: &str,
        dataset: &str,
        activity: &str,
        impact_s: Option<i64>,
        dur: f64,
    ) -> Label {
        Label {
            file: file.into(),
            dataset: dataset.into(),
            subject: format!("{dataset}:s1"),
            age_group: if file.contains("SE") {
                "elderly".into()
            } else {
                "adult".into()
            },
            activity: activity.into(),
            is_fall: impact_s.is_some(),
            impact_t_ns: impact_s.map(|s| s * S),
            duration_s: dur,
            long: impact_s.is_none() && is_long_adl(dataset, activity),
        }
    }

    /// A fall event, times in ms.
    pub fn fall(impact_ms: i64, confirmed_ms: i64) -> Event {
        Event::Fall(DetectedFall {
            impact_t_ns: impact_ms * 1_000_000,
            confirmed_t_ns: confirmed_ms * 1_000_000,
            score: 0.9,
            peak_g: 3.0,
        })
    }
}

//! What `guardian eval` reports: `metrics.json` and the summary on stderr.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use guardian_core::DetectorConfig;
use serde::{Deserialize, Serialize};

use super::metrics::ModelMetrics;

/// What `metrics.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvalOutput {
    /// Labels files evaluated.
    pub labels: Vec<String>,
    /// Where the models came from.
    pub model_origin: String,
    /// The card's `split` (subjects the models were trained, validated and tested on), if any.
    pub card_split: Option<serde_json::Value>,
    /// The detector configuration (over the card's defaults).
    pub config: DetectorConfig,
    /// Impact trigger in use, g.
    pub trigger_g: f32,
    /// Decision threshold per model.
    pub thresholds: BTreeMap<String, f32>,
    /// Window length, frames.
    pub window_frames: usize,
    /// Band of the window the trigger and the impact look at, frames `[start, end)`.
    pub band: [usize; 2],
    /// Matching tolerance, s.
    pub match_tolerance_s: f64,
    /// Wall time of the evaluation, s.
    pub wall_s: f64,
    /// Per model (`full`, `acc_only`).
    pub models: BTreeMap<String, ModelMetrics>,
}

/// The `split` of the card at `model` (a card or a folder holding one; `None`: the shipped
/// card), if it has one.
pub fn card_split(model: Option<&Path>) -> Option<serde_json::Value> {
    let text = match model {
        None => include_str!("../../../../models/model_card.json").to_string(),
        Some(p) => {
            let p = if p.is_dir() {
                p.join("model_card.json")
            } else {
                p.to_path_buf()
            };
            std::fs::read_to_string(p).ok()?
        }
    };
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()?
        .get("split")
        .cloned()
}

/// Writes `output` as `metrics.json` in `out`.
pub fn write_metrics(out: &Path, output: &EvalOutput) -> Result<()> {
    std::fs::write(
        out.join("metrics.json"),
        serde_json::to_string_pretty(output)? + "\n",
    )?;
    Ok(())
}

/// Prints one line per model and where the files went, on stderr.
pub fn print_summary(out: &Path, output: &EvalOutput) {
    for (name, m) in &output.models {
        let g = &m.groups["overall"];
        let pct = |x: Option<f64>| x.map_or("-".into(), |v| format!("{:.1}%", v * 100.0));
        let num = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:.2}"));
        eprintln!(
            "{name}: {} recordings; falls caught {}/{} ({}); ADL false alarms {} in {:.2} h ({}/h), long ADL {} in {:.2} h; latency median {} s p95 {} s; unreadable {}",
            g.recordings,
            g.falls_caught,
            g.fall_trials,
            pct(g.sensitivity),
            g.adl.false_alarms,
            g.adl.hours,
            num(g.adl.false_alarms_per_hour),
            g.adl_long.false_alarms,
            g.adl_long.hours,
            num(g.latency.median_s),
            num(g.latency.p95_s),
            m.unreadable.len()
        );
    }
    eprintln!(
        "wrote {} and {} ({:.1} s)",
        out.join("metrics.json").display(),
        out.join("results.jsonl").display(),
        output.wall_s
    );
}

//! One recording's result: its fall alarms matched against its label, and `results.jsonl`, the
//! file holding one result per line.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use guardian_core::{DetectedFall, EngineStats, Event, SensorSet, WindowRecord};
use serde::{Deserialize, Serialize};

use super::labels::Label;
use crate::matching::{self, fall_alarms};

/// A recording's fall alarms compared with its label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Fall trials: whether a fall alarm's impact lies within
    /// [`matching::MATCH_TOLERANCE_NS`] of the labelled impact. `None` for ADL trials.
    pub caught: Option<bool>,
    /// Alert latency of the catching alarm: its `confirmed_t_ns` minus the labelled impact, s.
    pub latency_s: Option<f64>,
    /// Every other fall alarm (in an ADL trial: all of them).
    pub false_alarms: Vec<DetectedFall>,
}

/// Matches fall alarms against a label: the earliest alarm within the tolerance of the
/// labelled impact catches a fall trial; every other alarm is a false alarm (the rule of
/// [`matching::match_alarms`]).
pub fn match_alarms(label: &Label, alarms: &[DetectedFall]) -> Outcome {
    let impact = label.impact_t_ns.filter(|_| label.is_fall);
    let hits = matching::match_alarms(&[impact], alarms.iter().map(|a| a.impact_t_ns));
    let hit = hits.iter().position(Option::is_some);
    let false_alarms = alarms
        .iter()
        .zip(&hits)
        .filter(|(_, h)| h.is_none())
        .map(|(a, _)| *a)
        .collect();
    Outcome {
        caught: label.is_fall.then_some(hit.is_some()),
        latency_s: hit
            .zip(impact)
            .map(|(i, t)| (alarms[i].confirmed_t_ns - t) as f64 * 1e-9),
        false_alarms,
    }
}

/// `results.jsonl` writes each window of the engine's log as a row
/// `[end_t_ns, band_peak_g, score|null, phase]`.
mod window_rows {
    use guardian_core::{DetectorPhase, WindowRecord};
    use serde::{Deserialize, Deserializer, Serializer};

    type Row = (i64, f32, Option<f32>, DetectorPhase);

    pub fn serialize<S: Serializer>(windows: &[WindowRecord], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            windows
                .iter()
                .map(|w| (w.end_t_ns, w.band_peak_g, w.score, w.phase)),
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<WindowRecord>, D::Error> {
        let rows: Vec<Row> = Deserialize::deserialize(d)?;
        Ok(rows
            .into_iter()
            .map(|(end_t_ns, band_peak_g, score, phase)| WindowRecord {
                end_t_ns,
                band_peak_g,
                score,
                phase,
            })
            .collect())
    }
}

/// One line of `results.jsonl`: a recording run through one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingResult {
    /// `full` or `acc_only`.
    pub model: SensorSet,
    /// Path of the recording as read.
    pub path: String,
    /// The label.
    #[serde(flatten)]
    pub label: Label,
    /// Every event of the engine.
    pub events: Vec<Event>,
    /// The comparison with the label.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Engine counters after `finish()`.
    pub stats: Option<EngineStats>,
    /// The window log.
    #[serde(with = "window_rows")]
    pub windows: Vec<WindowRecord>,
}

impl RecordingResult {
    /// A result from a label and the engine's events (matching them; no stats, no windows).
    pub fn new(model: SensorSet, label: Label, events: Vec<Event>) -> Self {
        let outcome = match_alarms(&label, &fall_alarms(&events));
        Self {
            model,
            path: label.file.clone(),
            label,
            events,
            outcome,
            stats: None,
            windows: Vec::new(),
        }
    }
}

/// Creates `results.jsonl` in `out` (an existing folder).
pub fn create_results(out: &Path) -> Result<BufWriter<File>> {
    Ok(BufWriter::new(
        File::create(out.join("results.jsonl"))
            .with_context(|| format!("cannot write {}", out.display()))?,
    ))
}

/// Appends `result` to `results.jsonl` as one line.
pub fn write_result(jsonl: &mut impl Write, result: &RecordingResult) -> Result<()> {
    serde_json::to_writer(&mut *jsonl, result)?;
    jsonl.write_all(b"\n")?;
    Ok(())
}

/// Reads `results.jsonl` back (for tests and tools).
pub fn read_results(path: &Path) -> Result<Vec<RecordingResult>> {
    let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    BufReader::new(f)
        .lines()
        .map(|l| Ok(serde_json::from_str(&l?)?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::test_support::{fall, label};

    #[test]
    fn matching_uses_the_tolerance_and_the_earliest_hit() {
        let l = label("f", "x", "FOL", Some(10), 15.0);
        // 1.5 s before the impact is still a catch; the later hit is a false alarm
        let o = match_alarms(
            &l,
            &fall_alarms(&[
                fall(3_000, 5_000),
                fall(8_500, 11_000),
                fall(10_200, 12_700),
            ]),
        );
        assert_eq!(o.caught, Some(true));
        assert_eq!(o.latency_s, Some(1.0));
        assert_eq!(o.false_alarms.len(), 2);
        // 1.501 s away is not
        let o = match_alarms(&l, &fall_alarms(&[fall(11_501, 13_000)]));
        assert_eq!(o.caught, Some(false));
        assert_eq!(o.latency_s, None);
        assert_eq!(o.false_alarms.len(), 1);
        // ADL: every alarm is false; cancel/escalate events are not alarms
        let adl = label("a", "x", "WAL", None, 300.0);
        let esc = Event::AlertEscalated {
            impact_t_ns: 0,
            t_ns: 1,
            by_user: false,
        };
        let o = match_alarms(&adl, &fall_alarms(&[fall(1_000, 3_000), esc]));
        assert_eq!(o.caught, None);
        assert_eq!(o.false_alarms.len(), 1);
    }

    #[test]
    fn windows_are_written_as_rows() {
        let mut r =
            RecordingResult::new(SensorSet::Full, label("a", "x", "WAL", None, 1.0), vec![]);
        r.windows = vec![WindowRecord {
            end_t_ns: 7,
            band_peak_g: 1.5,
            score: None,
            phase: guardian_core::DetectorPhase::Idle,
        }];
        let json = serde_json::to_string(&r).expect("json");
        assert!(
            json.contains(r#""windows":[[7,1.5,null,"idle"]]"#),
            "{json}"
        );
        let back: RecordingResult = serde_json::from_str(&json).expect("back");
        assert_eq!(back, r);
    }
}

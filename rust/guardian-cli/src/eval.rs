//! `guardian eval`: event-level evaluation of recordings with labels.
//!
//! Each recording of a `labels.csv` (written by `python -m guardian_eval export`, or by hand) is
//! streamed through a fresh engine with the same card, model and detector configuration a phone
//! runs. Fall events are matched against the labelled impact; the metrics (sensitivity, false
//! alarms per hour of ADL, specificity, alert latency) are computed by the pure
//! [`compute_metrics`] from the per-recording outcomes written to `results.jsonl`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use guardian_core::{
    DetectorConfig, Engine, EngineStats, Event, ScoreError, Scorer, SensorSet, WindowRecord,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::bundle::{load_config, load_litert, quiet_scorer, ModelBundle, QuietScorer};
use crate::matching;
use crate::recording::RecordingReader;
use crate::replay::stream;
use crate::EngineArgs;

pub use crate::matching::MATCH_TOLERANCE_NS;

/// Columns `labels.csv` must have (`long` is optional: 0/1 overrides [`is_long_adl`]).
pub const LABEL_COLUMNS: [&str; 8] = [
    "file",
    "dataset",
    "subject",
    "age_group",
    "activity",
    "is_fall",
    "impact_t_ns",
    "duration_s",
];

/// One row of `labels.csv`: a recording and its truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Label {
    /// Recording path as written in `labels.csv` (relative to the labels file's folder).
    pub file: String,
    /// Dataset name (`mobifall`, `sisfall`, or anything).
    pub dataset: String,
    /// Subject, unique across datasets (`mobifall:sub5`).
    pub subject: String,
    /// `adult` or `elderly`.
    pub age_group: String,
    /// Activity code (`FOL`, `D01`, ...).
    pub activity: String,
    /// Whether the trial holds one fall.
    pub is_fall: bool,
    /// Impact of the fall (section 8 of the spec), ns on the recording's clock.
    pub impact_t_ns: Option<i64>,
    /// Length of the recording, s.
    pub duration_s: f64,
    /// One of the long ADL recordings (MobiFall STD/WAL, SisFall D01-D04).
    pub long: bool,
}

/// The long ADL recordings the issue reports separately: MobiFall standing and walking (5 min
/// each) and SisFall D01-D04 (walking and jogging, 100 s each).
pub fn is_long_adl(dataset: &str, activity: &str) -> bool {
    match dataset {
        "mobifall" => matches!(activity, "STD" | "WAL"),
        d if d.starts_with("sisfall") => matches!(activity, "D01" | "D02" | "D03" | "D04"),
        _ => false,
    }
}

/// Reads a labels file. Any malformed row is an error (labels are ground truth).
pub fn read_labels(path: &Path) -> Result<Vec<Label>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read labels {}", path.display()))?;
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = lines
        .next()
        .map(|(_, l)| l.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let mut idx = [0usize; 8];
    for (i, name) in LABEL_COLUMNS.iter().enumerate() {
        idx[i] = col(name)
            .with_context(|| format!("{}: no column {name:?} in the header", path.display()))?;
    }
    let long_col = col("long");
    let mut out = Vec::new();
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let ctx = || format!("{}:{}", path.display(), n + 1);
        if f.len() != header.len() {
            bail!("{}: {} fields, header has {}", ctx(), f.len(), header.len());
        }
        let get = |i: usize| f[idx[i]];
        let is_fall = match get(5) {
            "1" | "true" | "True" => true,
            "0" | "false" | "False" => false,
            x => bail!("{}: is_fall {x:?} (0|1)", ctx()),
        };
        let impact_t_ns = match get(6) {
            "" => None,
            x => Some(
                x.parse::<i64>()
                    .with_context(|| format!("{}: impact_t_ns {x:?}", ctx()))?,
            ),
        };
        if is_fall && impact_t_ns.is_none() {
            bail!("{}: a fall trial needs impact_t_ns", ctx());
        }
        let duration_s: f64 = get(7)
            .parse()
            .with_context(|| format!("{}: duration_s {:?}", ctx(), get(7)))?;
        let (dataset, activity) = (get(1).to_string(), get(4).to_string());
        let long = match long_col.map(|c| f[c]) {
            Some("1") | Some("true") => true,
            Some("0") | Some("false") => false,
            _ => !is_fall && is_long_adl(&dataset, &activity),
        };
        out.push(Label {
            file: get(0).to_string(),
            dataset,
            subject: get(2).to_string(),
            age_group: get(3).to_string(),
            activity,
            is_fall,
            impact_t_ns: if is_fall { impact_t_ns } else { None },
            duration_s,
            long,
        });
    }
    Ok(out)
}

/// A recording that could not be evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unreadable {
    /// Recording path as in the labels (or the export's `unreadable.csv`).
    pub file: String,
    /// Dataset name, if known.
    pub dataset: String,
    /// Subject, if known.
    pub subject: String,
    /// Activity, if known.
    pub activity: String,
    /// `export` (the dataset file could not be read) or `engine` (the recording failed here).
    pub stage: String,
    /// What went wrong.
    pub error: String,
}

/// Reads the export's `unreadable.csv` (`file,dataset,subject,activity,trial,paths,error`);
/// a missing file means none. The error is the rest of the line after the sixth comma.
pub fn read_unreadable(path: &Path) -> Result<Vec<Unreadable>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(Vec::new());
    };
    Ok(text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.splitn(7, ',').collect();
            let at = |i: usize| f.get(i).copied().unwrap_or("").to_string();
            Unreadable {
                file: at(0),
                dataset: at(1),
                subject: at(2),
                activity: at(3),
                stage: "export".into(),
                error: at(6).trim_matches('"').replace("\"\"", "\""),
            }
        })
        .collect())
}

/// A fall event of the engine.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FallAlarm {
    /// Detected impact, ns.
    pub impact_t_ns: i64,
    /// Alert raised, ns.
    pub confirmed_t_ns: i64,
    /// Model score of the confirming window.
    pub score: f32,
    /// Peak |a| at the impact, g.
    pub peak_g: f32,
}

impl FallAlarm {
    /// The fall alarms among `events`, in order.
    pub fn from_events(events: &[Event]) -> Vec<FallAlarm> {
        events
            .iter()
            .filter_map(|e| match *e {
                Event::Fall {
                    impact_t_ns,
                    confirmed_t_ns,
                    score,
                    peak_g,
                } => Some(FallAlarm {
                    impact_t_ns,
                    confirmed_t_ns,
                    score,
                    peak_g,
                }),
                _ => None,
            })
            .collect()
    }
}

/// A recording's fall alarms compared with its label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Fall trials: whether a fall alarm's impact lies within [`MATCH_TOLERANCE_NS`] of the
    /// labelled impact. `None` for ADL trials.
    pub caught: Option<bool>,
    /// Alert latency of the catching alarm: its `confirmed_t_ns` minus the labelled impact, s.
    pub latency_s: Option<f64>,
    /// Every other fall alarm (in an ADL trial: all of them).
    pub false_alarms: Vec<FallAlarm>,
}

/// Matches fall alarms against a label: the earliest alarm within the tolerance of the
/// labelled impact catches a fall trial; every other alarm is a false alarm (the rule of
/// [`matching::match_alarms`]).
pub fn match_alarms(label: &Label, alarms: &[FallAlarm]) -> Outcome {
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
        let outcome = match_alarms(&label, &FallAlarm::from_events(&events));
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

/// Detection rate of one fall type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FallTypeMetrics {
    /// Fall trials.
    pub trials: usize,
    /// Trials caught.
    pub caught: usize,
    /// `caught / trials`.
    pub sensitivity: Option<f64>,
    /// Fall alarms in these trials that did not match the impact.
    pub false_alarms: usize,
    /// Files of the missed trials.
    pub missed: Vec<String>,
}

/// False alarms on one ADL type (or a set of ADL trials).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AdlMetrics {
    /// ADL trials.
    pub trials: usize,
    /// Their total length, h.
    pub hours: f64,
    /// Fall alarms in them.
    pub false_alarms: usize,
    /// `false_alarms / hours`.
    pub false_alarms_per_hour: Option<f64>,
    /// Trials with at least one alarm.
    pub trials_with_alarm: usize,
    /// Share of trials without an alarm.
    pub specificity: Option<f64>,
    /// Files of the trials with an alarm.
    pub alarm_files: Vec<String>,
}

/// Alert latency (confirmed minus labelled impact) of the caught falls, s.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyMetrics {
    /// Caught falls.
    pub n: usize,
    /// Median (linear interpolation between order statistics, as numpy).
    pub median_s: Option<f64>,
    /// 95th percentile (same interpolation).
    pub p95_s: Option<f64>,
    /// Largest.
    pub max_s: Option<f64>,
    /// Every value, ascending.
    pub values_s: Vec<f64>,
}

/// The metrics of one group of recordings (overall, a dataset, a dataset's elderly).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupMetrics {
    /// Recordings evaluated.
    pub recordings: usize,
    /// Fall trials.
    pub fall_trials: usize,
    /// Fall trials caught.
    pub falls_caught: usize,
    /// Event sensitivity.
    pub sensitivity: Option<f64>,
    /// Per fall type.
    pub per_fall_type: BTreeMap<String, FallTypeMetrics>,
    /// Alarms in fall trials that did not match the impact (not counted against ADL hours).
    pub false_alarms_in_fall_trials: usize,
    /// All ADL trials.
    pub adl: AdlMetrics,
    /// The long ADL recordings only.
    pub adl_long: AdlMetrics,
    /// Per ADL type.
    pub per_adl_type: BTreeMap<String, AdlMetrics>,
    /// Alert latency.
    pub latency: LatencyMetrics,
}

/// Everything `metrics.json` holds for one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetrics {
    /// The model.
    pub model: SensorSet,
    /// `overall`, then per dataset, then `<dataset>_elderly` where a dataset has elderly
    /// subjects.
    pub groups: BTreeMap<String, GroupMetrics>,
    /// Recordings not evaluated (export failures and engine failures).
    pub unreadable: Vec<Unreadable>,
}

/// Quantile `q` in [0, 1] of ascending `v` with linear interpolation (numpy's default).
pub fn quantile(v: &[f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

fn add_adl(m: &mut AdlMetrics, r: &RecordingResult) {
    let n = r.outcome.false_alarms.len();
    m.trials += 1;
    m.hours += r.label.duration_s / 3600.0;
    m.false_alarms += n;
    if n > 0 {
        m.trials_with_alarm += 1;
        m.alarm_files.push(r.label.file.clone());
    }
}

fn finish_adl(m: &mut AdlMetrics) {
    m.false_alarms_per_hour = (m.hours > 0.0).then(|| m.false_alarms as f64 / m.hours);
    m.specificity = ratio(m.trials - m.trials_with_alarm, m.trials);
}

fn group_metrics<'a>(results: impl Iterator<Item = &'a RecordingResult>) -> GroupMetrics {
    let mut g = GroupMetrics::default();
    let mut lat = Vec::new();
    for r in results {
        g.recordings += 1;
        if r.label.is_fall {
            let caught = r.outcome.caught == Some(true);
            let t = g.per_fall_type.entry(r.label.activity.clone()).or_default();
            t.trials += 1;
            t.false_alarms += r.outcome.false_alarms.len();
            g.fall_trials += 1;
            g.false_alarms_in_fall_trials += r.outcome.false_alarms.len();
            if caught {
                t.caught += 1;
                g.falls_caught += 1;
                lat.extend(r.outcome.latency_s);
            } else {
                t.missed.push(r.label.file.clone());
            }
        } else {
            add_adl(&mut g.adl, r);
            if r.label.long {
                add_adl(&mut g.adl_long, r);
            }
            add_adl(
                g.per_adl_type.entry(r.label.activity.clone()).or_default(),
                r,
            );
        }
    }
    g.sensitivity = ratio(g.falls_caught, g.fall_trials);
    for t in g.per_fall_type.values_mut() {
        t.sensitivity = ratio(t.caught, t.trials);
    }
    finish_adl(&mut g.adl);
    finish_adl(&mut g.adl_long);
    g.per_adl_type.values_mut().for_each(finish_adl);
    lat.sort_by(f64::total_cmp);
    g.latency = LatencyMetrics {
        n: lat.len(),
        median_s: quantile(&lat, 0.5),
        p95_s: quantile(&lat, 0.95),
        max_s: lat.last().copied(),
        values_s: lat,
    };
    g
}

/// The metrics of one model's results: pure, from the labels and outcomes only.
pub fn compute_metrics(
    model: SensorSet,
    results: &[RecordingResult],
    unreadable: &[Unreadable],
) -> ModelMetrics {
    let mine: Vec<&RecordingResult> = results.iter().filter(|r| r.model == model).collect();
    let mut groups = BTreeMap::new();
    groups.insert("overall".to_string(), group_metrics(mine.iter().copied()));
    let datasets: std::collections::BTreeSet<&str> =
        mine.iter().map(|r| r.label.dataset.as_str()).collect();
    for d in datasets {
        let of = |r: &&&RecordingResult| r.label.dataset == d;
        groups.insert(
            d.to_string(),
            group_metrics(mine.iter().filter(of).copied()),
        );
        let elderly = |r: &&&RecordingResult| of(r) && r.label.age_group == "elderly";
        if mine.iter().any(|r| elderly(&r)) {
            groups.insert(
                format!("{d}_elderly"),
                group_metrics(mine.iter().filter(elderly).copied()),
            );
        }
    }
    ModelMetrics {
        model,
        groups,
        unreadable: unreadable.to_vec(),
    }
}

/// Which models `guardian eval` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalSensors {
    /// The full model only.
    Full,
    /// The accelerometer-only model only.
    AccOnly,
    /// Both.
    Both,
}

impl EvalSensors {
    fn sets(self) -> Vec<SensorSet> {
        match self {
            EvalSensors::Full => vec![SensorSet::Full],
            EvalSensors::AccOnly => vec![SensorSet::AccOnly],
            EvalSensors::Both => vec![SensorSet::Full, SensorSet::AccOnly],
        }
    }
}

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

/// One model shared by the fresh engines of all recordings: the model is stateless between
/// windows, so reusing its LiteRT instance changes nothing but the cost (and the log lines
/// LiteRT prints per instance).
struct SharedScorer(std::sync::Arc<std::sync::Mutex<QuietScorer>>);

impl Scorer for SharedScorer {
    fn score(&mut self, input: &[i8]) -> Result<i8, ScoreError> {
        self.0
            .lock()
            .map_err(|_| ScoreError::Unusable("scorer mutex poisoned".into()))?
            .score(input)
    }
}

fn sensors_name(s: SensorSet) -> &'static str {
    match s {
        SensorSet::Full => "full",
        SensorSet::AccOnly => "acc_only",
    }
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

fn unreadable_of(label: &Label, stage: &str, error: String) -> Unreadable {
    Unreadable {
        file: label.file.clone(),
        dataset: label.dataset.clone(),
        subject: label.subject.clone(),
        activity: label.activity.clone(),
        stage: stage.into(),
        error,
    }
}

fn card_split(model: Option<&Path>) -> Option<serde_json::Value> {
    let text = match model {
        None => include_str!("../../../models/model_card.json").to_string(),
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

/// Runs `guardian eval`: every recording of every labels file through every chosen model;
/// writes `metrics.json` and `results.jsonl` into `out`. Prints a summary on stderr.
pub fn run(
    labels: &[PathBuf],
    args: &EngineArgs,
    sensors: EvalSensors,
    out: &Path,
) -> Result<EvalOutput> {
    let bundle = ModelBundle::load(args.model.as_deref())?;
    let config = load_config(args.config.as_deref())?;
    args.require_litert("eval")?;
    let lib = load_litert(args.litert.as_deref())?;
    let mut all: Vec<(PathBuf, Label)> = Vec::new();
    let mut unreadable = Vec::new();
    for l in labels {
        let abs = std::path::absolute(l).unwrap_or_else(|_| l.clone());
        let dir = abs.parent().unwrap_or(Path::new("."));
        for label in read_labels(l)? {
            all.push((dir.join(&label.file), label));
        }
        unreadable.extend(read_unreadable(&dir.join("unreadable.csv"))?);
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut jsonl = BufWriter::new(
        File::create(out.join("results.jsonl"))
            .with_context(|| format!("cannot write {}", out.display()))?,
    );
    let sets = sensors.sets();
    let bar = ProgressBar::new((all.len() * sets.len()) as u64).with_style(
        ProgressStyle::with_template(
            "{prefix:>8} {bar:40} {pos}/{len} recordings {elapsed} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let start = Instant::now();
    let mut models = BTreeMap::new();
    let mut thresholds = BTreeMap::new();
    for &set in &sets {
        bar.set_prefix(sensors_name(set));
        let scorer = std::sync::Arc::new(std::sync::Mutex::new(quiet_scorer(&bundle, &lib, set)?));
        thresholds.insert(
            sensors_name(set).to_string(),
            config.threshold.unwrap_or(bundle.card.model(set).threshold),
        );
        let mut results = Vec::with_capacity(all.len());
        let mut bad = unreadable.clone();
        for (path, label) in &all {
            let mut engine = Engine::new(
                &bundle.card,
                set,
                &config,
                Box::new(SharedScorer(scorer.clone())),
            )?;
            match run_recording(&mut engine, path) {
                Ok((events, stats, windows)) => {
                    let mut r = RecordingResult::new(set, label.clone(), events);
                    r.path = path.display().to_string();
                    r.stats = Some(stats);
                    r.windows = windows;
                    serde_json::to_writer(&mut jsonl, &r)?;
                    jsonl.write_all(b"\n")?;
                    results.push(r);
                }
                Err(e) => bad.push(unreadable_of(label, "engine", format!("{e:#}"))),
            }
            bar.inc(1);
        }
        models.insert(
            sensors_name(set).to_string(),
            compute_metrics(set, &results, &bad),
        );
    }
    bar.finish_and_clear();
    jsonl.flush()?;
    let output = EvalOutput {
        labels: labels.iter().map(|p| p.display().to_string()).collect(),
        model_origin: bundle.origin.clone(),
        card_split: card_split(args.model.as_deref()),
        trigger_g: config.trigger_g.unwrap_or(bundle.card.trigger_g),
        config,
        thresholds,
        window_frames: bundle.card.window_frames,
        band: bundle.card.band,
        match_tolerance_s: MATCH_TOLERANCE_NS as f64 * 1e-9,
        wall_s: start.elapsed().as_secs_f64(),
        models,
    };
    std::fs::write(
        out.join("metrics.json"),
        serde_json::to_string_pretty(&output)? + "\n",
    )?;
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
    Ok(output)
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

    const S: i64 = 1_000_000_000;

    fn label(file: &str, dataset: &str, activity: &str, impact_s: Option<i64>, dur: f64) -> Label {
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

    fn fall(impact_ms: i64, confirmed_ms: i64) -> Event {
        Event::Fall {
            impact_t_ns: impact_ms * 1_000_000,
            confirmed_t_ns: confirmed_ms * 1_000_000,
            score: 0.9,
            peak_g: 3.0,
        }
    }

    #[test]
    fn matching_uses_the_tolerance_and_the_earliest_hit() {
        let l = label("f", "x", "FOL", Some(10), 15.0);
        // 1.5 s before the impact is still a catch; the later hit is a false alarm
        let o = match_alarms(
            &l,
            &FallAlarm::from_events(&[
                fall(3_000, 5_000),
                fall(8_500, 11_000),
                fall(10_200, 12_700),
            ]),
        );
        assert_eq!(o.caught, Some(true));
        assert_eq!(o.latency_s, Some(1.0));
        assert_eq!(o.false_alarms.len(), 2);
        // 1.501 s away is not
        let o = match_alarms(&l, &FallAlarm::from_events(&[fall(11_501, 13_000)]));
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
        let o = match_alarms(&adl, &FallAlarm::from_events(&[fall(1_000, 3_000), esc]));
        assert_eq!(o.caught, None);
        assert_eq!(o.false_alarms.len(), 1);
    }

    #[test]
    fn metrics_equal_hand_computed_truth() {
        let m = "mobifall";
        let s = "sisfall";
        let rs = vec![
            // mobifall: 3 falls, 2 caught (latencies 2 s and 4 s), one extra alarm in a fall trial
            (
                label("m1", m, "FOL", Some(10), 10.0),
                vec![fall(10_000, 12_000)],
            ),
            (
                label("m2", m, "FOL", Some(10), 10.0),
                vec![fall(2_000, 4_000), fall(10_500, 14_000)],
            ),
            (label("m3", m, "SDL", Some(10), 10.0), vec![]),
            // mobifall ADL: STD 300 s with 2 alarms, WAL 300 s none, JOG 30 s with 1 alarm
            (
                label("m4", m, "STD", None, 300.0),
                vec![fall(50_000, 52_000), fall(90_000, 93_000)],
            ),
            (label("m5", m, "WAL", None, 300.0), vec![]),
            (label("m6", m, "JOG", None, 30.0), vec![fall(5_000, 7_000)]),
            // sisfall: one elderly fall caught after 3 s, one adult fall missed, D01 100 s clean,
            // D07 12 s with one alarm (elderly)
            (
                label("SE06_f", s, "F01", Some(5), 15.0),
                vec![fall(5_100, 8_000)],
            ),
            (
                label("SA01_f", s, "F02", Some(5), 15.0),
                vec![fall(9_000, 11_000)],
            ),
            (label("SA01_d", s, "D01", None, 100.0), vec![]),
            (
                label("SE06_d", s, "D07", None, 12.0),
                vec![fall(4_000, 6_000)],
            ),
        ];
        let results: Vec<RecordingResult> = rs
            .into_iter()
            .map(|(l, e)| RecordingResult::new(SensorSet::Full, l, e))
            .collect();
        let mm = compute_metrics(SensorSet::Full, &results, &[]);
        let close = |a: Option<f64>, b: f64| {
            let a = a.expect("value");
            assert!((a - b).abs() < 1e-9, "{a} != {b}");
        };
        let o = &mm.groups["overall"];
        assert_eq!((o.recordings, o.fall_trials, o.falls_caught), (10, 5, 3));
        close(o.sensitivity, 0.6);
        assert_eq!(o.false_alarms_in_fall_trials, 2); // m2's first, SA01_f's
        assert_eq!(o.adl.trials, 5);
        assert_eq!(o.adl.false_alarms, 4);
        close(Some(o.adl.hours), 742.0 / 3600.0);
        close(o.adl.false_alarms_per_hour, 4.0 / (742.0 / 3600.0));
        close(o.adl.specificity, 2.0 / 5.0);
        // long: STD, WAL, D01 = 700 s with 2 alarms
        assert_eq!(o.adl_long.trials, 3);
        assert_eq!(o.adl_long.false_alarms, 2);
        close(o.adl_long.false_alarms_per_hour, 2.0 / (700.0 / 3600.0));
        // latencies 2 (m1), 4 (m2: 14 s - 10 s), 3 (SE06_f) -> median 3, p95 = 3 + 0.9 * (4 - 3)
        assert_eq!(o.latency.values_s, vec![2.0, 3.0, 4.0]);
        close(o.latency.median_s, 3.0);
        close(o.latency.p95_s, 3.9);
        let mf = &mm.groups["mobifall"];
        close(mf.sensitivity, 2.0 / 3.0);
        assert_eq!(mf.per_fall_type["FOL"].caught, 2);
        assert_eq!(mf.per_fall_type["SDL"].missed, vec!["m3".to_string()]);
        close(
            mf.per_adl_type["STD"].false_alarms_per_hour,
            2.0 / (300.0 / 3600.0),
        );
        close(mf.per_adl_type["STD"].specificity, 0.0);
        close(mf.per_adl_type["WAL"].specificity, 1.0);
        close(mf.adl.specificity, 1.0 / 3.0);
        let se = &mm.groups["sisfall_elderly"];
        assert_eq!(
            (se.fall_trials, se.falls_caught, se.adl.false_alarms),
            (1, 1, 1)
        );
        close(se.latency.median_s, 3.0);
        let sf = &mm.groups["sisfall"];
        close(sf.sensitivity, 0.5);
        assert_eq!(sf.per_fall_type["F02"].false_alarms, 1);
        assert!(!mm.groups.contains_key("mobifall_elderly"));
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

    #[test]
    fn quantiles_interpolate_like_numpy() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[4.0], 0.95), Some(4.0));
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
        let p = quantile(&[1.0, 2.0, 3.0, 4.0, 10.0], 0.95).expect("q");
        assert!((p - (4.0 + 0.8 * 6.0)).abs() < 1e-12);
    }

    #[test]
    fn labels_parse_and_reject_a_fall_without_impact() {
        let dir = std::env::temp_dir().join(format!("guardian-eval-labels-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let p = dir.join("labels.csv");
        std::fs::write(
            &p,
            "file,dataset,subject,age_group,activity,is_fall,impact_t_ns,duration_s\n\
             a.csv,mobifall,mobifall:sub5,adult,WAL,0,,299.9\n\
             b.csv,sisfall,sisfall:SE06,elderly,F01,1,5000000000,15.0\n",
        )
        .expect("write");
        let l = read_labels(&p).expect("labels");
        assert_eq!(l.len(), 2);
        assert!(l[0].long && !l[1].long);
        assert_eq!(l[1].impact_t_ns, Some(5 * S));
        std::fs::write(
            &p,
            "file,dataset,subject,age_group,activity,is_fall,impact_t_ns,duration_s\n\
             b.csv,sisfall,sisfall:SE06,elderly,F01,1,,15.0\n",
        )
        .expect("write");
        let e = read_labels(&p).expect_err("no impact");
        assert!(format!("{e:#}").contains(":2"), "{e:#}");
    }
}

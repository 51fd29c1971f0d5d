//! The truth `guardian eval` compares with: `labels.csv` (one row per recording) and the
//! export's `unreadable.csv` (recordings it could not write).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

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

impl Unreadable {
    /// A labelled recording the engine failed on.
    pub fn engine_failure(label: &Label, error: String) -> Self {
        Self {
            file: label.file.clone(),
            dataset: label.dataset.clone(),
            subject: label.subject.clone(),
            activity: label.activity.clone(),
            stage: "engine".into(),
            error,
        }
    }
}

/// What the labels files of one evaluation name.
#[derive(Debug, Clone, Default)]
pub struct EvalInputs {
    /// Every labelled recording: its path (resolved against its labels file's folder) and label.
    pub recordings: Vec<(PathBuf, Label)>,
    /// The recordings the export could not write (each labels folder's `unreadable.csv`).
    pub unreadable: Vec<Unreadable>,
}

/// Reads every labels file and the `unreadable.csv` beside it, in order.
pub fn read_inputs(labels: &[PathBuf]) -> Result<EvalInputs> {
    let mut inputs = EvalInputs::default();
    for l in labels {
        let abs = std::path::absolute(l).unwrap_or_else(|_| l.clone());
        let dir = abs.parent().unwrap_or(Path::new("."));
        for label in read_labels(l)? {
            inputs.recordings.push((dir.join(&label.file), label));
        }
        inputs
            .unreadable
            .extend(read_unreadable(&dir.join("unreadable.csv"))?);
    }
    Ok(inputs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::test_support::S;

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

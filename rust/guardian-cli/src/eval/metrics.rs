//! The metrics of `metrics.json`: sensitivity, false alarms per hour of ADL, specificity and
//! alert latency, computed purely from the per-recording results.

use std::collections::{BTreeMap, BTreeSet};

use guardian_core::SensorSet;
use serde::{Deserialize, Serialize};

use super::labels::Unreadable;
use super::results::RecordingResult;

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
    let datasets: BTreeSet<&str> = mine.iter().map(|r| r.label.dataset.as_str()).collect();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::test_support::{fall, label};

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
    fn quantiles_interpolate_like_numpy() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[4.0], 0.95), Some(4.0));
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
        let p = quantile(&[1.0, 2.0, 3.0, 4.0, 10.0], 0.95).expect("q");
        assert!((p - (4.0 + 0.8 * 6.0)).abs() < 1e-12);
    }
}

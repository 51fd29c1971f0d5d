"""Pooled cross-validation report: cv.md / cv.json in the run folder, optionally docs/cv/.

Every count comes from the engine's per-recording results (`guardian eval`'s results.jsonl) of
each fold's test subjects; this module only pools and arranges them. Intervals are exact: Clopper-
Pearson for proportions, Garwood (chi-square) for Poisson rates, both two-sided 95%.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from scipy import stats

from guardian_train.datasets import REPO_ROOT

from .calibrate import TOLERANCE
from .report import ACTIVITY_NAMES, md_table, report

MODELS = ("full", "acc_only")
CONF = 0.95
PHONE_CALL = ("umafall", "MakingACall")
# The targets, pooled over the folds: (model, scope, what, test)
TARGETS = [
    ("full", "pooled", "sensitivity >= 98%", lambda g: g["sensitivity"] is not None and g["sensitivity"] >= 0.98),
    ("full", "pooled", "<= 0.5 false alarms / ADL h", lambda g: g["fa_per_h"] is not None and g["fa_per_h"] <= 0.5),
    ("full", "pooled", "latency median <= 2.5 s", lambda g: g["latency_median_s"] is not None and g["latency_median_s"] <= 2.5),
    ("full", "pooled", "latency p95 <= 3 s", lambda g: g["latency_p95_s"] is not None and g["latency_p95_s"] <= 3.0),
    ("full", "mobifall", "sensitivity >= 98%", lambda g: g["sensitivity"] is not None and g["sensitivity"] >= 0.98),
    ("full", "mobifall", "<= 0.5 false alarms / ADL h", lambda g: g["fa_per_h"] is not None and g["fa_per_h"] <= 0.5),
    ("full", "mobifall", "latency median <= 2.5 s", lambda g: g["latency_median_s"] is not None and g["latency_median_s"] <= 2.5),
    ("full", "mobifall", "latency p95 <= 3 s", lambda g: g["latency_p95_s"] is not None and g["latency_p95_s"] <= 3.0),
    ("acc_only", "pooled", "sensitivity >= 97%", lambda g: g["sensitivity"] is not None and g["sensitivity"] >= 0.97),
    ("acc_only", "pooled", "<= 1 false alarm / ADL h", lambda g: g["fa_per_h"] is not None and g["fa_per_h"] <= 1.0),
    ("acc_only", "umafall", "sensitivity >= 97%", lambda g: g["sensitivity"] is not None and g["sensitivity"] >= 0.97),
    ("acc_only", "umafall", "<= 1 false alarm / ADL h", lambda g: g["fa_per_h"] is not None and g["fa_per_h"] <= 1.0),
]


def proportion_ci(k: int, n: int) -> tuple[float, float]:
    """Exact (Clopper-Pearson) two-sided interval of k successes in n trials."""
    a = 1 - CONF
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - a / 2, k + 1, n - k))
    return lo, hi


def rate_ci(k: int, hours: float) -> tuple[float, float]:
    """Exact (Garwood) two-sided interval of a Poisson rate per hour after k events in `hours`."""
    a = 1 - CONF
    lo = 0.0 if k == 0 else float(stats.chi2.ppf(a / 2, 2 * k)) / 2
    hi = float(stats.chi2.ppf(1 - a / 2, 2 * k + 2)) / 2
    return lo / hours, hi / hours


def load_results(fold_runs: list[dict]) -> list[dict]:
    """Every recording result of every fold, tagged with its fold; the window log is dropped."""
    rows = []
    for fr in fold_runs:
        for run in fr["runs"]:
            with open(Path(run) / "results.jsonl", encoding="utf-8") as f:
                for line in f:
                    r = json.loads(line)
                    r.pop("windows", None)
                    r["fold"] = fr["fold"]
                    rows.append(r)
    return rows


def summarise(rs: list[dict]) -> dict:
    """Event-level figures of one group of recording results (one model)."""
    falls = [r for r in rs if r["is_fall"]]
    adl = [r for r in rs if not r["is_fall"]]
    caught = sum(1 for r in falls if r["caught"])
    hours = sum(float(r["duration_s"]) for r in adl) / 3600.0
    fa = sum(len(r["false_alarms"]) for r in adl)
    lat = np.array([r["latency_s"] for r in falls if r["caught"] and r["latency_s"] is not None], float)
    return {
        "fall_trials": len(falls),
        "caught": caught,
        "sensitivity": caught / len(falls) if falls else None,
        "sensitivity_ci": proportion_ci(caught, len(falls)) if falls else None,
        "adl_trials": len(adl),
        "adl_trials_with_alarm": sum(1 for r in adl if r["false_alarms"]),
        "adl_hours": hours,
        "false_alarms": fa,
        "fa_per_h": fa / hours if hours else None,
        "fa_per_h_ci": rate_ci(fa, hours) if hours else None,
        "alarms_in_fall_trials": sum(len(r["false_alarms"]) for r in falls),
        "latency_median_s": float(np.median(lat)) if lat.size else None,
        "latency_p95_s": float(np.percentile(lat, 95)) if lat.size else None,
        "missed": sorted(f"{r['file']}" for r in falls if not r["caught"]),
        "alarm_files": sorted(r["file"] for r in adl if r["false_alarms"]),
    }


def _pct_ci(g: dict) -> str:
    if g["sensitivity"] is None:
        return "-"
    lo, hi = g["sensitivity_ci"]
    return f"{100 * g['sensitivity']:.1f}% ({g['caught']}/{g['fall_trials']}; {100 * lo:.1f}-{100 * hi:.1f})"


def _rate_ci(g: dict) -> str:
    if g["fa_per_h"] is None:
        return "-"
    lo, hi = g["fa_per_h_ci"]
    return f"{g['fa_per_h']:.2f} ({g['false_alarms']} in {g['adl_hours']:.2f} h; {lo:.2f}-{hi:.2f})"


def _num(x) -> str:
    return "-" if x is None else f"{x:.2f}"


def _row(name: str, g: dict) -> list[str]:
    clean = g["adl_trials"] - g["adl_trials_with_alarm"]
    return [name, _pct_ci(g), _rate_ci(g), f"{clean}/{g['adl_trials']}", _num(g["latency_median_s"]), _num(g["latency_p95_s"]),
            str(g["alarms_in_fall_trials"])]


HEADER = ["group", "sensitivity (95% CI)", "false alarms / ADL h (95% CI)", "ADL trials without alarm", "latency median s", "p95 s",
          "alarms in fall trials"]


def analyse(rows: list[dict]) -> dict:
    """Per model: pooled, per dataset, per fold, per activity; the phone call; the targets."""
    out = {}
    for model in MODELS:
        rs = [r for r in rows if r["model"] == model]
        if not rs:
            continue
        datasets = sorted({r["dataset"] for r in rs})
        folds = sorted({r["fold"] for r in rs})
        m = {
            "pooled": summarise(rs),
            "datasets": {d: summarise([r for r in rs if r["dataset"] == d]) for d in datasets},
            "folds": {str(f): summarise([r for r in rs if r["fold"] == f]) for f in folds},
            "activities": {},
        }
        for d in datasets:
            for a in sorted({r["activity"] for r in rs if r["dataset"] == d}):
                m["activities"][f"{d}/{a}"] = summarise([r for r in rs if r["dataset"] == d and r["activity"] == a])
        call = [r for r in rs if (r["dataset"], r["activity"]) == PHONE_CALL]
        if call:
            clean = sum(1 for r in call if not r["false_alarms"])
            m["phone_call"] = {"trials": len(call), "without_alarm": clean, "rate": clean / len(call),
                               "ci": proportion_ci(clean, len(call))}
        out[model] = m
    return out


def targets(a: dict) -> list[list[str]]:
    rows = []
    for model, scope, what, ok in TARGETS:
        if model not in a:
            continue
        g = a[model]["pooled"] if scope == "pooled" else a[model]["datasets"].get(scope)
        if g is None:
            continue
        value = _pct_ci(g) if "sensitivity" in what else _rate_ci(g) if "alarm" in what else _num(
            g["latency_median_s"] if "median" in what else g["latency_p95_s"])
        rows.append([model, scope, what, value, "yes" if ok(g) else "**no**"])
    for model in MODELS:
        pc = a.get(model, {}).get("phone_call")
        if pc:
            lo, hi = pc["ci"]
            rows.append([model, "umafall", "phone call: no alarm in >= 95% of trials",
                         f"{100 * pc['rate']:.1f}% ({pc['without_alarm']}/{pc['trials']}; {100 * lo:.1f}-{100 * hi:.1f})",
                         "yes" if pc["rate"] >= 0.95 else "**no**"])
    return rows


def fold_card(fold_run: dict) -> dict:
    """The model card of a fold (its engine output folders sit in the fold's folder)."""
    return json.loads((Path(fold_run["runs"][0]).parent / "model_card.json").read_text())


def markdown(a: dict, fold_runs: list[dict], schedule: str, timings: dict, config) -> str:
    k = len(fold_runs)
    md = [
        "## Cross-validated (every shared subject tested once)",
        "",
        f"{k}-fold leave-subjects-out over MobiFall, SisFall and UMAFall ({sum(len(fr['split']['test']) for fr in fold_runs)} subjects). "
        "Per fold the training pipeline trains both models on the fold's training subjects and chooses the trigger on its "
        "validation subjects; each model's threshold is then chosen there at event level (`guardian eval` at every candidate, "
        f"the middle of those within {TOLERANCE} falls missed + false alarms of the fewest), and `guardian eval` runs the engine on its test subjects (UMAFall has no gyroscope: "
        f"acc_only only). Training schedule: {schedule}. Detector configuration: {'`' + str(config) + '`' if config else 'defaults'}. "
        f"Training {sum(timings.get('train_s', [])) / 60:.0f} min summed over the folds (one TensorFlow thread each, "
        f"{timings.get('jobs', 1)} at a time), this run {timings.get('total_s', 0) / 60:.0f} min "
        "(`make eval-cv`; folds already trained are not retrained). "
        "Intervals: exact two-sided 95% "
        "(Clopper-Pearson for proportions, Garwood for false alarms per hour).",
        "",
        "### Targets (pooled over the folds)",
        "",
        md_table(["model", "scope", "target", "value", "met"], targets(a)),
        "",
    ]
    for model, m in a.items():
        rows = [_row("pooled", m["pooled"])] + [_row(d, g) for d, g in m["datasets"].items()]
        rows += [_row(f"fold {f}", g) for f, g in m["folds"].items()]
        md += [f"### {model} model", "", md_table(HEADER, rows), ""]
    md += ["### Per activity", ""]
    keys = sorted({key for m in a.values() for key in m["activities"]})
    rows = []
    for key in keys:
        d, act = key.split("/", 1)
        cells = [d, act, ACTIVITY_NAMES.get(act, "")]
        for model in a:
            g = a[model]["activities"].get(key)
            if g is None:
                cells.append("-")
            elif g["fall_trials"]:
                cells.append(f"{g['caught']}/{g['fall_trials']} caught")
            else:
                cells.append(f"{g['adl_trials'] - g['adl_trials_with_alarm']}/{g['adl_trials']} clean, {g['false_alarms']} alarms")
        rows.append(cells)
    md += [md_table(["dataset", "activity", "what", *a.keys()], rows), ""]
    md += ["Thresholds per fold (full / acc_only): " + "; ".join(
        f"{fr['fold']}: " + " / ".join(f"{m['threshold']:.3f}" for m in fold_card(fr)["models"].values()) for fr in fold_runs), ""]
    md += ["Folds (test subjects): " + "; ".join(f"{fr['fold']}: {', '.join(fr['split']['test'])}" for fr in fold_runs), ""]
    return "\n".join(md)


def cv_report(fold_runs: list[dict], out: Path, schedule: str, timings: dict, config=None, docs=False,
              max_timelines: int = 400) -> dict:
    """Writes cv.md and cv.json into `out`, each fold's full report (every miss and false alarm drawn)
    into `out/foldN/report/`; with `docs`, docs/cv/summary.md and summary.json."""
    rows = load_results(fold_runs)
    a = analyse(rows)
    md = markdown(a, fold_runs, schedule, timings, config)
    rep = {"schedule": schedule, "timings": timings, "config": str(config) if config else None,
           "folds": [{"fold": fr["fold"], "split": fr["split"]} for fr in fold_runs], "models": a}
    (out / "cv.md").write_text("# Guardian cross-validation\n\n" + md + "\n", encoding="utf-8")
    (out / "cv.json").write_text(json.dumps(rep, indent=1, default=float) + "\n", encoding="utf-8")
    for fr in fold_runs:
        report([Path(r) for r in fr["runs"]], Path(fr["runs"][0]).parent / "report", title=f"Fold {fr['fold']}",
               max_timelines=max_timelines)
    if docs:
        d = REPO_ROOT / "docs" / "cv"
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        (d / "summary.md").write_text(md + "\n", encoding="utf-8")
        (d / "summary.json").write_text(json.dumps(rep, indent=1, default=float) + "\n", encoding="utf-8")
    return rep

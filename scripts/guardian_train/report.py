"""The run's report: report.json (every measured number) and report.md (the same, arranged)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path

import numpy as np

from . import preprocessing as pp
from .config import KINDS
from .datasets import REPO_ROOT
from .model import threads_in_use
from .plots import write_plots

METRIC_KEYS = ("accuracy", "fall_recall", "adl_specificity", "balanced_accuracy", "f1", "roc_auc")


def git_rev() -> str:
    """HEAD at the start of the run, with '+dirty' when scripts/ has uncommitted changes."""
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=False).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "scripts"], cwd=REPO_ROOT, capture_output=True, text=True,
                               check=False).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except Exception:
        return ""


def make_report(tfs, split, trigger, results, cv, study, unreadable, counters, cfg, timings) -> dict:
    """Everything the run measured, as report.json holds it (without the scores and the model bytes)."""
    models = []
    for mode in pp.MODES:
        for k in KINDS:
            m = {kk: vv for kk, vv in results[mode]["models"][k].items() if not kk.startswith("_")}
            models.append(m)
    diffs = {}
    targets = {}
    for mode in pp.MODES:
        r = results[mode]["models"]
        q, p, f = r["qat_int8"]["test"], r["ptq_int8"]["test"], r["float32"]["test"]
        diffs[mode] = {
            "qat_minus_ptq": {k: q[k] - p[k] for k in METRIC_KEYS},
            "qat_minus_float32": {k: q[k] - f[k] for k in METRIC_KEYS},
        }
        targets[mode] = {
            "qat_fall_recall_ge_98": q["fall_recall"] >= 0.98,
            "qat_adl_specificity_ge_98": q["adl_specificity"] >= 0.98,
            "qat_within_0.5pt_of_float32_accuracy": abs(q["accuracy"] - f["accuracy"]) <= 0.005,
            "qat_balanced_acc_ge_ptq": q["balanced_accuracy"] >= p["balanced_accuracy"],
            "qat_size_le_32kb": r["qat_int8"]["size_bytes"] <= 32 * 1024,
        }
    n_trials = {}
    for t in tfs:
        key = f"{t.trial.dataset}/{'fall' if t.trial.is_fall else 'adl'}"
        n_trials[key] = n_trials.get(key, 0) + 1
    return {
        "quick_mode": cfg.quick,
        "config": {k: v for k, v in cfg.__dict__.items()},
        "seed": cfg.seed,
        "git_commit": git_rev(),
        "host": {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
                 "tf_threads": threads_in_use()},
        "preprocessing_version": pp.PREPROCESSING_VERSION,
        "split": split,
        "n_trials": n_trials,
        "unreadable": {"count": len(unreadable), "files": unreadable},
        "ingest_counters": counters,
        "trigger": trigger,
        "models": models,
        "differences": diffs,
        "targets": targets,
        "training": {mode: {kk: results[mode][kk] for kk in ("best_epoch", "epochs_run", "train_seconds", "windows", "class_weight")}
                     for mode in pp.MODES},
        "io": {mode: results[mode]["io"] for mode in pp.MODES},
        "cross_validation": cv,
        "rotation_study": study,
        "timings_seconds": timings,
    }


def _fmt(v, pct=True):
    """A rate as a percentage (or a plain 4-decimal number), n/a for a missing one."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "n/a"
    return f"{100 * v:.2f}" if pct else f"{v:.4f}"


def write_outputs(out: Path, report, results):
    """report.json, the plots and report.md into `out`."""
    (out / "report.json").write_text(json.dumps(report, indent=2, default=float) + "\n")
    write_plots(out, results)
    (out / "report.md").write_text(report_markdown(report) + "\n")


def report_markdown(report) -> str:
    """report.md: the report dict arranged as tables and notes."""
    L = []
    for section in (md_header, md_split, md_test_metrics, md_trigger, md_targets, md_cross_validation, md_rotation_study, md_training):
        L += section(report)
    return "\n".join(L)


def md_header(report) -> list[str]:
    """Title, provenance, datasets and the validation thresholds."""
    L = []
    L.append(f"# Guardian training report{' (QUICK MODE: few subjects and epochs, not for release)' if report['quick_mode'] else ''}\n")
    L.append(f"git commit `{report['git_commit']}`, seed {report['seed']}, preprocessing_version {report['preprocessing_version']}, "
             f"total wall time {report['timings_seconds']['total']:.0f} s on {report['host']['cpus']} CPUs, "
             f"TensorFlow threads {report['host'].get('tf_threads', 'default')}.\n")
    L.append("All metrics below are computed by running the `.tflite` files through `ai_edge_litert.interpreter.Interpreter` "
             "on windows of held-out **test subjects** (window level, hop 25 aligned as in docs/PREPROCESSING.md, ambiguous "
             "windows excluded, original sensor orientation). Thresholds were chosen on validation subjects only.\n")
    if report.get("datasets"):
        L.append(f"Datasets: {', '.join(report['datasets'])}." + (
            " **Reduced schedule** (side study, not for release): " + json.dumps(
                {k: report['config'][k] for k in ('pre_epochs', 'qat_epochs', 'pre_patience', 'qat_patience')}) if report["config"].get("reduced") else "") + "\n")
    L.append("Thresholds (validation only): " + "; ".join(
        f"{m['name']} {m['threshold']:.4f} (max-bal-acc alternative {m['threshold_max_bal_acc_gated_val']:.4f}; validation gated "
        f"recall {_fmt(m['val_gated']['fall_recall'])} %, specificity {_fmt(m['val_gated']['adl_specificity'])} %)"
        for m in report["models"] if "val_gated" in m) + "\n")
    return L


def md_split(report) -> list[str]:
    """The subject-wise split, trial counts, unreadable trials and ingest counters."""
    L = []
    s = report["split"]
    L.append("## Split (subject-wise, seed fixed)\n")
    for k in ("train", "val", "test"):
        L.append(f"- **{k}** ({len(s[k])}): {', '.join(s[k])}")
    L.append(f"\nTrials: {report['n_trials']}. Unreadable trials: **{report['unreadable']['count']}**"
             + ("".join(f"\n  - {u['trial']}: {u['error']}" for u in report["unreadable"]["files"])) + "\n")
    L.append(f"Ingest counters (all trials): `{json.dumps(report['ingest_counters'])}`\n")
    return L


def md_test_metrics(report) -> list[str]:
    """Held-out window metrics of the six models and the QAT differences."""
    L = []
    L.append("## Held-out test metrics (window level)\n")
    L.append("| model | size KB | threshold | accuracy % | fall recall % | ADL specificity % | balanced acc % | F1 % | ROC AUC | n fall / n ADL |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for m in report["models"]:
        t = m["test"]
        L.append(f"| {m['name']} | {m['size_kb']:.1f} | {m['threshold']:.4f} | {_fmt(t['accuracy'])} | {_fmt(t['fall_recall'])} | "
                 f"{_fmt(t['adl_specificity'])} | {_fmt(t['balanced_accuracy'])} | {_fmt(t['f1'])} | {_fmt(t['roc_auc'], False)} | "
                 f"{t['n_fall']} / {t['n_adl']} |")
    L.append("\n### Differences (percentage points)\n")
    L.append("| mode | QAT - PTQ acc | QAT - PTQ bal. acc | QAT - float32 acc | QAT - float32 bal. acc | QAT - float32 AUC |")
    L.append("|---|---|---|---|---|---|")
    for mode, d in report["differences"].items():
        L.append(f"| {mode} | {100*d['qat_minus_ptq']['accuracy']:+.2f} | {100*d['qat_minus_ptq']['balanced_accuracy']:+.2f} | "
                 f"{100*d['qat_minus_float32']['accuracy']:+.2f} | {100*d['qat_minus_float32']['balanced_accuracy']:+.2f} | "
                 f"{d['qat_minus_float32']['roc_auc']:+.4f} |")
    return L


def md_trigger(report) -> list[str]:
    """The impact trigger and the trigger-gated and system-level metrics."""
    L = []
    tr = report["trigger"]
    L.append(f"\n## Impact trigger\n\n`trigger_g = {tr['trigger_g']}` g. Rule: {tr['rule']}. Train+val falls below it: "
             f"{tr['train_val_falls_below']}/{tr['n_train_val_falls']}. **Test falls the trigger would miss: "
             f"{tr['test_falls_missed']}/{tr['n_test_falls']}.**\n")
    L.append("Window metrics restricted to trigger-gated windows (band max |a| >= trigger_g; what the engine runs the model on), "
             "and system-level metrics over all test windows (a window the trigger does not open counts as predicted ADL):\n")
    L.append("| model | gated n fall / n ADL | gated recall % | gated specificity % | system recall % | system specificity % | system accuracy % |")
    L.append("|---|---|---|---|---|---|---|")
    for m in report["models"]:
        g, sy = m["test_gated"], m["test_system"]
        L.append(f"| {m['name']} | {g['n_fall']} / {g['n_adl']} | {_fmt(g['fall_recall'])} | {_fmt(g['adl_specificity'])} | "
                 f"{_fmt(sy['fall_recall'])} | {_fmt(sy['adl_specificity'])} | {_fmt(sy['accuracy'])} |")
    return L


def md_targets(report) -> list[str]:
    """The targets and the per-activity recall of the QAT models."""
    L = []
    L.append("\n## Targets (QAT int8, held-out test subjects)\n")
    for mode, t in report["targets"].items():
        for k, v in t.items():
            L.append(f"- {mode} {k}: **{'met' if v else 'MISSED'}**")
    L.append(TARGET_NOTE)
    L.append("\n## Per-activity recall (QAT int8)\n")
    for mode in pp.MODES:
        pa = next(m for m in report["models"] if m["name"] == f"{mode}/qat_int8")["per_activity"]
        L.append(f"\n**{mode}** (fall windows: recall; ADL windows: specificity)\n")
        L.append("| activity | dataset | n fall win | fall recall % | n ADL win | ADL specificity % |")
        L.append("|---|---|---|---|---|---|")
        for a, v in sorted(pa.items()):
            L.append(f"| {a} | {v['dataset']} | {v['n_fall_windows']} | {_fmt(v['fall_recall'])} | {v['n_adl_windows']} | {_fmt(v['adl_specificity'])} |")
    return L


def md_cross_validation(report) -> list[str]:
    """The leave-subjects-out cross-validation of a full run."""
    L = []
    cv = report["cross_validation"]
    L.append("\n## Leave-subjects-out cross-validation\n")
    if cv:
        L.append(f"{len(cv['folds'])} folds over all subjects ({cv['schedule']}); float32 .tflite evaluated on each held-out fold:\n")
        L.append("| fold | test subjects | accuracy % | fall recall % | ADL specificity % | ROC AUC |")
        L.append("|---|---|---|---|---|---|")
        for i, f in enumerate(cv["folds"]):
            t = f["test"]
            L.append(f"| {i+1} | {len(f['test_subjects'])} | {_fmt(t['accuracy'])} | {_fmt(t['fall_recall'])} | {_fmt(t['adl_specificity'])} | {_fmt(t['roc_auc'], False)} |")
        L.append(f"| mean +- std | | {100*cv['accuracy']['mean']:.2f} +- {100*cv['accuracy']['std']:.2f} | "
                 f"{100*cv['fall_recall']['mean']:.2f} +- {100*cv['fall_recall']['std']:.2f} | "
                 f"{100*cv['adl_specificity']['mean']:.2f} +- {100*cv['adl_specificity']['std']:.2f} | "
                 f"{cv['roc_auc']['mean']:.4f} +- {cv['roc_auc']['std']:.4f} |")
    else:
        L.append("Not run in quick mode.")
    return L


def md_rotation_study(report) -> list[str]:
    """The rotation-augmentation study of a full run."""
    L = []
    st = report["rotation_study"]
    L.append("\n## Effect of rotation augmentation\n")
    if st:
        L.append(f"{st['schedule']}.\n")
        L.append("| training | test acc % (original) | bal. acc % (original) | test acc % (rotated) | bal. acc % (rotated) | recall % (rotated) | spec % (rotated) |")
        L.append("|---|---|---|---|---|---|---|")
        for name in ("with_rotation_aug", "without_rotation_aug"):
            a, r = st[name]["test"], st[name]["test_rotated"]
            L.append(f"| {name} | {_fmt(a['accuracy'])} | {_fmt(a['balanced_accuracy'])} | {_fmt(r['accuracy'])} | {_fmt(r['balanced_accuracy'])} | "
                     f"{_fmt(r['fall_recall'])} | {_fmt(r['adl_specificity'])} |")
        L.append("\nMain models on randomly rotated test windows (same rotations):\n")
        for m in report["models"]:
            r = m["test_rotated"]
            L.append(f"- {m['name']}: accuracy {_fmt(r['accuracy'])} %, recall {_fmt(r['fall_recall'])} %, specificity {_fmt(r['adl_specificity'])} %")
    else:
        L.append("Not run in quick mode.")
    return L


def md_training(report) -> list[str]:
    """Training details, the method and the plots."""
    L = []
    L.append("\n## Training\n")
    for mode, t in report["training"].items():
        L.append(f"- {mode}: windows {t['windows']}, class weights {t['class_weight']}, epochs run {t['epochs_run']} "
                 f"(best {t['best_epoch']}), seconds {{pretrain: {t['train_seconds']['pretrain']:.0f}, qat: {t['train_seconds']['qat']:.0f}}}")
    L.append(f"- wall time per stage (s): {json.dumps({k: round(v) for k, v in report['timings_seconds'].items()})}")
    L.append(f"- converted tensors/ops: {json.dumps(report['io'])}")
    c = report["config"]
    L.append(METHOD_NOTE.format(fall_hop=c["fall_hop"], adl_sf=c["adl_keep_sisfall"], val_keep=c["val_adl_keep_for_loss"],
                                gated_hop=c.get("gated_hop", 5), cap=c.get("gated_per_trial_cap", 12), gw=f"x{c['gated_adl_weight_full']:g} (full), x{c['gated_adl_weight_acc_only']:g} (acc_only)",
                                minrec=c.get("threshold_min_recall", 0.99)))
    L.append("\nPlots: `training_curves.png`, `confusion_full.png`, `confusion_acc_only.png`, `roc.png`, `per_activity_recall.png`.\n")
    return L


TARGET_NOTE = """
If a target is marked MISSED it is reported as measured; nothing was tuned on the test subjects to reach
it. The main limits: window-level labels are strict (only windows whose band [40, 80) holds the impact
are falls, and ADL windows include the walking/lying before and after each fall, plus vigorous ADLs such
as jumping, jogging and SisFall's D-codes with sit-down impacts), MobiFall's accelerometer saturates at
+-2 g per axis, and SisFall is worn at the waist while the target is a phone in a pocket.
"""

METHOD_NOTE = """
## Method

- Preprocessing: docs/PREPROCESSING.md v1 (ingest rules, 50 Hz linear resampling on t_k = k * 20 ms,
  fusion by k, features clipped to [-1, 1]); windows of 100 frames, impact = frame of largest |a| in a fall
  trial; window labels fall / ambiguous (excluded) / ADL via the band [40, 80).
- Training windows: every {fall_hop}th start whose band contains the impact (denser than hop 25, for fall
  augmentation), ADL windows at hop 25 (all MobiFall ADL windows, a seeded {adl_sf:.0%} of SisFall ADL windows for
  time). Each batch: a uniform random 3-D rotation per window (same rotation on acc and gyro, applied to
  the grid values before feature computation) and, for 30% of windows, per-axis acc clipping at +-2 g.
- Hard negatives (main models; not the CV folds or the rotation study): the engine scores only
  trigger-gated windows (band max |a| >= trigger_g), so every gated window of the training subjects' ADL
  trials at hop {gated_hop} is added (trials with more than {cap} gated windows, i.e. walking/jogging, keep a
  seeded random {cap}); every gated ADL training window gets loss weight {gw} on top of the class weight.
- Threshold: the largest threshold keeping fall recall >= {minrec:.0%} on the trigger-gated validation
  windows at hop {gated_hop} (fall windows = starts whose band holds the impact). Missing a fall costs more
  than a false alarm and the event target is 97% sensitivity, so the rule fixes recall and takes all the
  specificity that is left; max balanced accuracy on the same windows is reported beside it.
- Model: Conv2D(16,(7,1))-MaxPool(2)-Conv2D(24,(5,1))-MaxPool(2)-Conv2D(32,(5,1))-MaxPool(5)-Dense(16)-Dense(1,
  sigmoid) over [1,100,1,C]. Pre-train Adam 1e-3, batch 64, balanced class weights, early stopping on
  validation loss (patience 15, best weights restored), ReduceLROnPlateau(0.5, patience 5), up to 100
  epochs. QAT: tfmot quantize_model, Adam 1e-4, up to 50 epochs, patience 10, class weights kept.
  Validation loss is measured on all validation fall windows and a seeded {val_keep:.0%} of the validation ADL windows,
  rotated by fixed random rotations.
- Conversion: float32; PTQ int8 with 500 (rotated) training windows as representative dataset; QAT int8.
  Static batch 1, int8 input/output for the int8 models.
- Rerun noise: seeds fixed (python, numpy, TF; TF_DETERMINISTIC_OPS=1, op determinism enabled) and the
  augmentation RNG is keyed by (seed, epoch, batch). On this machine with the pinned libraries a rerun
  reproduces bit-identical .tflite files and identical metrics (checked before the hard negatives were added:
  two full runs of efe130a, 1063 s and 847 s, gave the same SHA-256 for all six models and the same CV and
  rotation-study numbers; quick runs too; the rerun check of the current models is in docs/EVALUATION.md).
  On other CPUs/oneDNN builds float summation order can differ; expect differences of the order of 0.5
  points in window metrics (not measured).
"""

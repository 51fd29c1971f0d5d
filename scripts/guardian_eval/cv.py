"""`python -m guardian_eval cv`: k-fold leave-subjects-out event-level cross-validation.

Every shared subject of MobiFall, SisFall and UMAFall is tested exactly once. Per fold the real
training pipeline (`guardian_train.train.run`) trains both models on the fold's training subjects and
chooses the trigger and thresholds on the fold's own validation subjects; then `guardian eval` runs
the engine with that fold's card on the fold's test subjects: the full and acc_only models on
MobiFall and SisFall, the acc_only model on UMAFall (no gyroscope). `cv_report` pools the results.

A fold's trained models are reused when its split and schedule are unchanged (`fold.json`), so a
change of the detector configuration (`--config`) re-runs only the engine.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

from guardian_train import train
from guardian_train.config import SEED, Config
from guardian_train.data import load_trials
from guardian_train.datasets import REPO_ROOT, datasets_root
from guardian_train.splits import cv_folds, subject_group

from .calibrate import calibrate, is_calibrated
from .export import DATASETS, export
from .run_all import _binary, run_engine

VAL_FRACTION = 0.2  # of each group's non-test subjects, for the trigger, thresholds and early stopping


def folds_of(tfs, k: int) -> list[list[str]]:
    """k disjoint subject lists covering every subject, stratified by dataset group (fixed seed)."""
    return cv_folds(tfs, sorted({t.trial.subject for t in tfs}), k, SEED)


def fold_split(tfs, folds: list[list[str]], f: int) -> dict:
    """Test = fold f; validation = a seeded VAL_FRACTION of every group's remaining subjects."""
    test = set(folds[f])
    groups: dict[str, list[str]] = {}
    for s in sorted({t.trial.subject for t in tfs} - test):
        groups.setdefault(subject_group(tfs, s), []).append(s)
    rng = np.random.default_rng((SEED, f))
    val = []
    for g in sorted(groups):
        members = [str(m) for m in rng.permutation(groups[g])]
        val += members[: max(1, int(round(VAL_FRACTION * len(members))))] if len(members) >= 3 else []
    train = sorted({s for g in groups.values() for s in g} - set(val))
    return {"train": train, "val": sorted(val), "test": sorted(test)}


def fold_labels(export_dir: Path, subjects: set[str], name: str) -> Path | None:
    """A labels file beside the export's own, holding only `subjects`' recordings (None: none)."""
    with open(export_dir / "labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    keep = [r for r in rows if r["subject"] in subjects]
    if not keep:
        return None
    path = export_dir / name
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
        w.writeheader()
        w.writerows(keep)
    return path


def train_fold(fold_dir: Path, split: dict, reduced: bool, loaded, retrain: bool, overrides: dict) -> float:
    """Trains the fold's models unless `fold.json` shows the same split, schedule and training
    settings (every `Config` field, so a changed default retrains too); returns the seconds its
    training took (recorded in `fold.json` when it was trained)."""
    settings = vars(Config.for_run(False, reduced, fixed_split=True, overrides=overrides))
    want = {"split": split, "reduced": reduced, "datasets": list(DATASETS), "seed": SEED, "settings": settings}
    if overrides:
        want["overrides"] = overrides
    stamp = fold_dir / "fold.json"
    if not retrain and stamp.exists() and (fold_dir / "model_card.json").exists():
        done = json.loads(stamp.read_text())
        if {k: v for k, v in done.items() if k != "train_s"} == want:
            print(f"{fold_dir.name}: models up to date", file=sys.stderr)
            return float(done.get("train_s", 0.0))
    t0 = time.monotonic()
    train.run(False, fold_dir, False, datasets=DATASETS, reduced=reduced, split=split, loaded=loaded, overrides=overrides)
    seconds = time.monotonic() - t0
    stamp.write_text(json.dumps({**want, "train_s": seconds}, indent=1) + "\n")
    return seconds


def run_cv(args) -> int:
    t0 = time.monotonic()
    out = args.out or REPO_ROOT / "out" / "cv"
    out.mkdir(parents=True, exist_ok=True)
    loaded = load_trials(datasets_root(), REPO_ROOT / "out" / "cache", umafall=True)
    tfs = loaded[0]
    folds = folds_of(tfs, args.folds)
    exports = {}
    for d in DATASETS:
        exports[d] = REPO_ROOT / ".cache" / "eval" / f"{d}-all"
        export(d, "all", exports[d], quiet=True)
    binary = _binary(args.bin)
    fold_runs, timings = [], {"train_s": [], "eval_s": []}
    only = set(args.only or range(1, args.folds + 1))
    for f in range(args.folds):
        fold_dir = out / f"fold{f + 1}"
        split = fold_split(tfs, folds, f)
        if f + 1 not in only:
            continue
        timings["train_s"].append(train_fold(fold_dir, split, not args.full_schedule, loaded, args.retrain, args.set))
        t1 = time.monotonic()
        if not is_calibrated(fold_dir):
            val = set(split["val"])
            val_labels = {d: p for d in DATASETS if (p := fold_labels(exports[d], val, f"labels-cv{args.folds}-fold{f + 1}-val.csv"))}
            cal = calibrate(fold_dir, val_labels, binary)
            print(f"{fold_dir.name}: event-level thresholds " + ", ".join(f"{m} {r['threshold']:.4f}" for m, r in cal.items()),
                  file=sys.stderr)
        timings.setdefault("calibrate_s", []).append(time.monotonic() - t1)
        t1 = time.monotonic()
        test = set(split["test"])
        labels = {d: p for d in DATASETS if (p := fold_labels(exports[d], test, f"labels-cv{args.folds}-fold{f + 1}.csv"))}
        fold_runs.append({"fold": f + 1, "split": split, "runs": run_engine(binary, fold_dir, labels, fold_dir, args.config, quiet=True)})
        timings["eval_s"].append(time.monotonic() - t1)
    timings["total_s"] = time.monotonic() - t0
    from .cv_report import cv_report

    schedule = ("full" if args.full_schedule else "reduced") + (f", training settings {json.dumps(args.set)}" if args.set else "")
    cv_report(fold_runs, out, schedule=schedule, timings=timings,
              config=args.config, docs=args.docs, max_timelines=args.max_timelines)
    print(f"cross-validation: {len(fold_runs)} folds in {timings['total_s']:.0f} s; report {out / 'cv.md'}")
    return 0

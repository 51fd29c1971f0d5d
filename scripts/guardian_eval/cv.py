"""`python -m guardian_eval cv`: k-fold leave-subjects-out event-level cross-validation.

Every shared subject of MobiFall, SisFall and UMAFall is tested exactly once. Per fold the real
training pipeline (`guardian_train.train.run`) trains both models on the fold's training subjects and
chooses the trigger and thresholds on the fold's own validation subjects; then `guardian eval` runs
the engine with that fold's card on the fold's test subjects: the full and acc_only models on
MobiFall and SisFall, the acc_only model on UMAFall (no gyroscope). `cv_report` pools the results.

A fold's trained models are reused when its split and schedule are unchanged (`fold.json`), so a
change of the detector configuration (`--config`) re-runs only the engine, and a change of a model's
scoring (`--scoring`) re-chooses its thresholds and re-runs the engine.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np

from guardian_train import train
from guardian_train.card import CARD_SCHEMA_VERSION, SCORING
from guardian_train.config import SEED, Config
from guardian_train.data import load_trials
from guardian_train.datasets import REPO_ROOT, datasets_root
from guardian_train.model import TRAIN_THREADS, use_threads
from guardian_train.splits import cv_folds, subject_group

from .calibrate import calibrate, is_calibrated, write_card
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


def all_export_dir(dataset: str) -> Path:
    """Where every recording of `dataset` is exported for the folds (their labels files sit beside it)."""
    return REPO_ROOT / ".cache" / "eval" / f"{dataset}-all"


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


def labels_of(subjects: set[str], name: str) -> dict[str, Path]:
    """{dataset: labels file `name`} holding `subjects`' recordings, for each dataset where they have any."""
    return {d: p for d in DATASETS if (p := fold_labels(all_export_dir(d), subjects, name))}


def fold_stamp(split: dict, reduced: bool, overrides: dict) -> dict:
    """What a fold's trained models depend on: split, schedule, every `Config` field (so a changed
    default retrains too), seed and thread count; `fold.json` holds it with the training time."""
    settings = vars(Config.for_run(False, reduced, fixed_split=True, overrides=overrides))
    want = {"split": split, "reduced": reduced, "datasets": list(DATASETS), "seed": SEED, "settings": settings,
            "tf_threads": TRAIN_THREADS}
    if overrides:
        want["overrides"] = overrides
    return want


def is_trained(fold_dir: Path, want: dict) -> bool:
    """True when the fold's models were trained with exactly `want` (its `fold.json`)."""
    stamp = fold_dir / "fold.json"
    if not (stamp.exists() and (fold_dir / "model_card.json").exists()):
        return False
    return {k: v for k, v in json.loads(stamp.read_text()).items() if k != "train_s"} == want


def train_fold_process(fold_dir: Path, want: dict) -> float:
    """Trains one fold in the calling process, which must be fresh (TensorFlow pinned to TRAIN_THREADS
    before its first op); the pipeline's log goes to the fold's train.log. Writes `fold.json` with
    the seconds the training took and returns them."""
    use_threads(TRAIN_THREADS)
    fold_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    loaded = load_trials(datasets_root(), REPO_ROOT / "out" / "cache", umafall=True)
    with open(fold_dir / "train.log", "w", encoding="utf-8") as log, redirect_stdout(log), redirect_stderr(log):
        train.run(False, fold_dir, False, datasets=DATASETS, reduced=want["reduced"], split=want["split"], loaded=loaded,
                  overrides=want.get("overrides", {}))
    seconds = time.monotonic() - t0
    (fold_dir / "fold.json").write_text(json.dumps({**want, "train_s": seconds}, indent=1) + "\n")
    return seconds


def train_folds(todo: dict[Path, dict], jobs: int) -> float:
    """Trains the folds in `todo` ({fold folder: stamp}), `jobs` at a time, each in a fresh process
    of its own, so that a fold's models do not depend on which folds ran beside it or before it in
    the same process. Returns the wall-clock seconds."""
    t0 = time.monotonic()
    if todo:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(jobs, len(todo)), mp_context=ctx, max_tasks_per_child=1) as pool:
            running = {pool.submit(train_fold_process, d, w): d for d, w in todo.items()}
            for done in as_completed(running):
                d = running[done]
                print(f"{d.name}: trained in {done.result():.0f} s (log {d / 'train.log'})", file=sys.stderr)
    return time.monotonic() - t0


def set_scoring(fold_dir: Path, scoring: dict[str, str]) -> None:
    """Makes `fold_dir`'s card state `scoring` ({mode: scoring}) for its models. A card of layout 1 (trained
    before layout 2 added `scoring`) becomes layout 2; a model whose scoring changes needs new thresholds
    (`is_calibrated` is false until `calibrate` chose them for it)."""
    card_file = fold_dir / "model_card.json"
    card = json.loads(card_file.read_text())
    if card["schema_version"] == CARD_SCHEMA_VERSION and all(card["models"][m]["scoring"] == s for m, s in scoring.items()):
        return
    card["schema_version"] = CARD_SCHEMA_VERSION
    for mode, s in scoring.items():
        card["models"][mode]["scoring"] = s
    write_card(card_file, card)


def run_cv(args) -> int:
    t0 = time.monotonic()
    out = args.out or REPO_ROOT / "out" / "cv"
    out.mkdir(parents=True, exist_ok=True)
    loaded = load_trials(datasets_root(), REPO_ROOT / "out" / "cache", umafall=True)
    tfs = loaded[0]
    folds = folds_of(tfs, args.folds)
    for d in DATASETS:
        export(d, "all", all_export_dir(d), quiet=True)
    binary = _binary(args.bin)
    only = set(args.only or range(1, args.folds + 1))
    splits = {f: fold_split(tfs, folds, f) for f in range(args.folds) if f + 1 in only}
    dirs = {f: out / f"fold{f + 1}" for f in splits}
    wants = {dirs[f]: fold_stamp(split, not args.full_schedule, args.set) for f, split in splits.items()}
    todo = {d: w for d, w in wants.items() if args.retrain or not is_trained(d, w)}
    for d in sorted(wants.keys() - todo.keys()):
        print(f"{d.name}: models up to date", file=sys.stderr)
    timings = {"jobs": args.jobs, "train_wall_s": train_folds(todo, args.jobs), "eval_s": []}
    timings["train_s"] = [json.loads((d / "fold.json").read_text())["train_s"] for d in wants]
    scoring = {**SCORING, **dict(args.scoring)}
    fold_runs = []
    for f, split in splits.items():
        fold_dir = dirs[f]
        t1 = time.monotonic()
        set_scoring(fold_dir, scoring)
        if not is_calibrated(fold_dir):
            val = set(split["val"])
            val_labels = labels_of(val, f"labels-cv{args.folds}-fold{f + 1}-val.csv")
            cal = calibrate(fold_dir, val_labels, binary)
            print(f"{fold_dir.name}: event-level thresholds " + ", ".join(f"{m} {r['threshold']:.4f}" for m, r in cal.items()),
                  file=sys.stderr)
        timings.setdefault("calibrate_s", []).append(time.monotonic() - t1)
        t1 = time.monotonic()
        test = set(split["test"])
        labels = labels_of(test, f"labels-cv{args.folds}-fold{f + 1}.csv")
        fold_runs.append({"fold": f + 1, "split": split, "runs": run_engine(binary, fold_dir, labels, fold_dir, args.config, quiet=True)})
        timings["eval_s"].append(time.monotonic() - t1)
    timings["total_s"] = time.monotonic() - t0
    from .cv_report import cv_report

    schedule = ("full" if args.full_schedule else "reduced") + (f", training settings {json.dumps(args.set)}" if args.set else "")
    schedule += "; windows scored: " + ", ".join(f"{m} `{s}`" for m, s in scoring.items())
    cv_report(fold_runs, out, schedule=schedule, timings=timings,
              config=args.config, docs=args.docs, max_timelines=args.max_timelines)
    print(f"cross-validation: {len(fold_runs)} folds in {timings['total_s']:.0f} s; report {out / 'cv.md'}")
    return 0

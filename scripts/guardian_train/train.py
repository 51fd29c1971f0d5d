"""The training run: split, train full and acc_only (float -> QAT), convert, evaluate, report.

The steps live in their own modules: config (schedule), splits, trigger, fit_mode (one mode's
models), studies (CV and rotation study), report, plots and card; this module runs them in order."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from . import preprocessing as pp
from .card import make_card, render_model_card_md
from .config import FILES, RELEASE_DATASETS, SEED, Config
from .data import load_trials
from .datasets import REPO_ROOT, datasets_root
from .fit_mode import train_mode
from .report import git_rev, make_report, write_outputs
from .scoring import add_gated_metrics
from .splits import split_subjects, trial_indices
from .studies import cross_validation, rotation_study
from .trigger import choose_trigger


def load_run_trials(datasets, sisfall_dir, sisfall_rate, loaded, log, cfg: Config):
    """The trials of `datasets` (read, or taken from `loaded`), the unreadable ones and the ingest counters."""
    root = datasets_root()
    if loaded is None:
        loaded = load_trials(root, REPO_ROOT / "out" / "cache", sisfall_dir=sisfall_dir, sisfall_rate=sisfall_rate,
                             umafall="umafall" in datasets)
    tfs, unreadable, counters = loaded
    tfs = [t for t in tfs if t.trial.subject.split(":")[0] in datasets]
    if not tfs:
        raise ValueError(f"no trials of datasets {datasets}")
    log(f"datasets: {', '.join(datasets)}; {len(tfs)} trials" + ("; REDUCED schedule" if cfg.reduced else ""))
    if unreadable:
        log(f"WARNING: {len(unreadable)} unreadable trials (listed in the report)")
    return tfs, unreadable, counters


def train_modes(tfs, sidx, cfg: Config, out: Path, log, trigger_g: float, timings: dict) -> dict:
    """Both modes' models, with their trigger-gated and system-level test metrics."""
    results = {}
    for mode in pp.MODES:
        t0 = time.time()
        results[mode] = train_mode(mode, tfs, sidx, cfg, out, log, trigger_g)
        timings[f"train_{mode}"] = time.time() - t0
        add_gated_metrics(results[mode], trigger_g)
        q = results[mode]["models"]["qat_int8"]["test"]
        log(f"[{mode}] QAT int8 test: acc {q['accuracy']:.4f} recall {q['fall_recall']:.4f} spec {q['adl_specificity']:.4f}")
    return results


def side_studies(tfs, sidx, cfg: Config, timings: dict) -> tuple[dict | None, dict | None]:
    """Cross-validation and the rotation study, when the schedule has them (None otherwise)."""
    cv = study = None
    if cfg.cv_folds:
        t0 = time.time()
        cv = cross_validation(tfs, cfg)
        timings["cv"] = time.time() - t0
    if cfg.study_epochs:
        t0 = time.time()
        study = rotation_study(tfs, sidx, cfg)
        timings["rotation_study"] = time.time() - t0
    return cv, study


def write_card(out: Path, report: dict, results: dict, split: dict, trigger: dict, cfg: Config) -> None:
    """model_card.json, the shipped (QAT int8) model files and MODEL_CARD.md."""
    card = make_card(report, results, split, trigger, cfg)
    (out / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
    for mode in pp.MODES:
        (out / FILES[mode]).write_bytes(results[mode]["blobs"]["qat_int8"])
    (out / "MODEL_CARD.md").write_text(render_model_card_md(out))


def install_models(out: Path, log) -> None:
    """Copies the shipped models and the card into models/."""
    dst = REPO_ROOT / "models"
    dst.mkdir(exist_ok=True)
    for fn in (*FILES.values(), "model_card.json", "MODEL_CARD.md"):
        shutil.copyfile(out / fn, dst / fn)
    log(f"installed models and card into {dst}")


def run(quick: bool, out: Path, install: bool, log=print, sisfall_dir: Path | None = None, sisfall_rate: int = 50,
        datasets: tuple[str, ...] = RELEASE_DATASETS, reduced: bool = False, split: dict | None = None,
        loaded=None, overrides: dict | None = None) -> dict:
    """One training run. `split` ({train, val, test} subject lists) replaces the seeded split (a
    cross-validation fold); `loaded` is load_trials' result when the caller already holds it;
    `overrides` changes named schedule settings (`Config.with_overrides`)."""
    t_start = time.time()
    rev = git_rev()
    cfg = Config.for_run(quick, reduced, fixed_split=split is not None, overrides=overrides)
    out.mkdir(parents=True, exist_ok=True)
    tfs, unreadable, counters = load_run_trials(datasets, sisfall_dir, sisfall_rate, loaded, log, cfg)
    if split is None:
        split = split_subjects(tfs, SEED, quick)
    sidx = trial_indices(tfs, split)
    log(f"split: train {len(split['train'])} val {len(split['val'])} test {len(split['test'])} subjects; test = {split['test']}")
    trigger = choose_trigger(tfs, sidx)
    log(f"trigger_g = {trigger['trigger_g']} g; test falls the trigger misses: {trigger['test_falls_missed']}/{trigger['n_test_falls']}")

    timings = {}
    results = train_modes(tfs, sidx, cfg, out, log, trigger["trigger_g"], timings)
    cv, study = side_studies(tfs, sidx, cfg, timings)
    timings["total"] = time.time() - t_start

    report = make_report(tfs, split, trigger, results, cv, study, unreadable, counters, cfg, timings)
    report["sisfall_source"] = f"{sisfall_dir} at {sisfall_rate} Hz" if sisfall_dir else None
    report["git_commit"] = rev
    report["datasets"] = list(datasets)
    write_outputs(out, report, results)
    write_card(out, report, results, split, trigger, cfg)
    if install:
        install_models(out, log)
    log(f"total wall time {timings['total']:.0f} s; outputs in {out}")
    return report

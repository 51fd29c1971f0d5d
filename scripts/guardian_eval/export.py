"""Export dataset trials as Guardian recordings (CSV `t_ns,sensor,x,y,z`) plus `labels.csv`.

Ground truth follows docs/PREPROCESSING.md section 8: the impact of a fall trial is the grid
frame of largest |a| of the trial's full-mode frames (guardian_train.preprocessing), as a time
t_ns = k * 20 ms on the recording's clock; acc_only frames for recordings without a gyroscope
(UMAFall). ADL trials have no impact.
"""

from __future__ import annotations

import csv
import heapq
import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

from guardian_train import preprocessing as pp
from guardian_train.card import check_schema_version
from guardian_train.config import RELEASE_DATASETS
from guardian_train.data import ACC_ONLY_DATASETS
from guardian_train.datasets import REPO_ROOT, Trial, datasets_root, list_mobifall, list_sisfall, list_umafall, read_trial, trials_digest

EXPORT_VERSION = 2
DATASETS = RELEASE_DATASETS
SPLITS = ("test", "val", "train", "all")
DEFAULT_CARD = REPO_ROOT / "models" / "model_card.json"
LABEL_COLUMNS = ["file", "dataset", "subject", "age_group", "activity", "is_fall", "impact_t_ns", "duration_s"]
UNREADABLE_COLUMNS = ["file", "dataset", "subject", "activity", "trial", "paths", "error"]


def list_trials(dataset: str, root: Path | None = None) -> list[Trial]:
    root = root or datasets_root()
    if dataset == "mobifall":
        return list_mobifall(root)
    if dataset == "sisfall":
        return list_sisfall(root, "sisfall-50hz")
    if dataset == "umafall":
        return list_umafall(root)
    raise ValueError(f"unknown dataset {dataset!r} (expected one of {DATASETS})")


def split_subjects(card_path: Path, split: str) -> set[str] | None:
    """Subjects of `split` in the card's "split" (None for "all"). A card that states another
    schema_version than the pipeline's is refused; a file holding only a "split" is taken as one."""
    if split == "all":
        return None
    card = json.loads(Path(card_path).read_text())
    if "schema_version" in card:
        check_schema_version(card, card_path)
    if "split" not in card or split not in card["split"]:
        raise ValueError(f"{card_path} has no split {split!r}")
    return set(card["split"][split])


def rel_file(t: Trial, dataset: str) -> str:
    subj = t.subject.split(":", 1)[1]
    return f"{dataset}/{subj}/{t.activity}_{subj}_{t.trial}.csv"


def interleave(raw) -> list[tuple[int, str, np.ndarray]]:
    """Rows of both streams merged by time; each stream keeps its own arrival order."""
    acc = ((t, "acc", v) for t, v in zip(raw.acc_t.tolist(), raw.acc_v.tolist()))
    if raw.gyro_t is None:
        return list(acc)
    gyro = ((t, "gyro", v) for t, v in zip(raw.gyro_t.tolist(), raw.gyro_v.tolist()))
    return list(heapq.merge(acc, gyro, key=lambda r: r[0]))


def write_rows(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("t_ns,sensor,x,y,z\n")
        f.writelines(f"{t},{s},{v[0]!r},{v[1]!r},{v[2]!r}\n" for t, s, v in rows)
    tmp.replace(path)


def export_trial(t: Trial, dataset: str, out: Path) -> dict:
    raw = read_trial(t)
    acc_only = dataset in ACC_ONLY_DATASETS
    if raw.gyro_t is None and not acc_only:
        raise ValueError("gyroscope file missing")
    fr, _ = pp.process(raw.acc_t, raw.acc_v, raw.gyro_t, raw.gyro_v, "acc_only" if acc_only else "full")
    if len(fr) < pp.WINDOW:
        raise ValueError(f"only {len(fr)} fused frames (< one window)")
    impact = ""
    if t.is_fall:
        impact = str(int(fr.k[pp.impact_index(fr)]) * pp.DT_NS)
    file = rel_file(t, dataset)
    write_rows(out / file, interleave(raw))
    duration = (int(raw.acc_t.max()) - int(raw.acc_t.min())) / 1e9
    return {
        "file": file,
        "dataset": dataset,
        "subject": t.subject,
        "age_group": t.age_group,
        "activity": t.activity,
        "is_fall": int(t.is_fall),
        "impact_t_ns": impact,
        "duration_s": f"{duration:.3f}",
    }


def signature(trials: list[Trial], dataset: str, split: str, subjects) -> str:
    prefix = f"v{EXPORT_VERSION} pp{pp.PREPROCESSING_VERSION} {dataset} {split} {sorted(subjects or [])}"
    return trials_digest(trials, prefix).hexdigest()


def export(dataset: str, split: str, out: Path, card: Path = DEFAULT_CARD, root: Path | None = None, quiet=False) -> dict:
    """Exports the trials of `dataset` whose subjects are in the card's `split`. Cached."""
    out = Path(out)
    subjects = split_subjects(card, split)
    trials = [t for t in list_trials(dataset, root) if subjects is None or t.subject in subjects]
    if not trials:
        raise ValueError(f"no {dataset} trials for split {split!r} (subjects {sorted(subjects or [])})")
    sig = signature(trials, dataset, split, subjects)
    manifest = out / "manifest.json"
    if manifest.exists() and (out / "labels.csv").exists():
        m = json.loads(manifest.read_text())
        if m.get("signature") == sig:
            if not quiet:
                print(f"{out}: up to date ({m['recordings']} recordings)")
            return m
    out.mkdir(parents=True, exist_ok=True)
    labels, unreadable = [], []
    for t in tqdm(trials, desc=f"export {dataset} {split}", disable=quiet, mininterval=1):
        try:
            labels.append(export_trial(t, dataset, out))
        except Exception as e:  # listed in unreadable.csv, never dropped silently
            unreadable.append(
                {
                    "file": rel_file(t, dataset),
                    "dataset": dataset,
                    "subject": t.subject,
                    "activity": t.activity,
                    "trial": t.trial,
                    "paths": ";".join(p for p in t.paths if p),
                    "error": f"{type(e).__name__}: {e}",
                }
            )
    for name, cols, rows in (("labels.csv", LABEL_COLUMNS, labels), ("unreadable.csv", UNREADABLE_COLUMNS, unreadable)):
        with open(out / name, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
    m = {
        "signature": sig,
        "dataset": dataset,
        "split": split,
        "card": str(card),
        "subjects": sorted({t.subject for t in trials}),
        "recordings": len(labels),
        "unreadable": len(unreadable),
    }
    manifest.write_text(json.dumps(m, indent=1) + "\n")
    if not quiet:
        print(f"{out}: {len(labels)} recordings, {len(unreadable)} unreadable")
    return m

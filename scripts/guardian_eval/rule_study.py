"""Which event-level threshold rule carries over to people it was not chosen on (issue 14), measured on the
cross-validation folds' validation subjects only: their test subjects are never looked at.

Per fold and model, `guardian eval` runs at every candidate threshold on the fold's validation subjects and counts
each subject's falls, falls caught, false alarms and ADL hours. Then, many times over (a fixed seed), each fold's
validation subjects are split into two halves (each dataset's subjects halved), every rule chooses a threshold on
one half, and its errors (falls missed + false alarms) are counted on the other half, and the other way round.
The rule with the fewest held-out errors, summed over folds, models and splits, chooses well on people it did not
see. Run `python -m guardian_eval rule-study` after `make eval-cv` (about 4 min on 2 cores).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

from guardian_train.datasets import REPO_ROOT

from .calibrate import CANDIDATES, errors, pick, run_at
from .cv import labels_of
from .run_all import _binary

Counts = tuple[int, int, int, float]  # falls, falls caught, false alarms, ADL hours
Scan = list[tuple[float, dict[str, Counts]]]  # (threshold, {subject: counts}), thresholds ascending
Rule = Callable[[list[dict]], dict]

SPLITS = 500
SEED = 20261208


def smoothed_fewest(rows: list[dict], width: int) -> dict:
    """The row with the fewest errors after a moving mean over `width` neighbouring candidates, ties larger."""
    e = [errors(r) for r in rows]
    h = width // 2
    s = [statistics.mean(e[max(0, i - h): i + h + 1]) for i in range(len(e))]
    return rows[min(range(len(rows)), key=lambda i: (s[i], -i))]


RULES: dict[str, Rule] = {
    "fewest, ties to the larger (the rule before)": lambda rows: min(rows, key=lambda r: (errors(r), -r["threshold"])),
    **{f"fewest after a moving mean over {w}": partial(smoothed_fewest, width=w) for w in (3, 5, 7)},
    **{f"middle of those within {k} of the fewest": partial(pick, tolerance=k) for k in range(5)},
}


def subject_counts(results_file: Path) -> dict[str, Counts]:
    """Each subject's counts in one `guardian eval` results.jsonl."""
    out: dict[str, list] = {}
    with open(results_file, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            c = out.setdefault(r["subject"], [0, 0, 0, 0.0])
            if r["is_fall"]:
                c[0] += 1
                c[1] += int(r["caught"])
            else:
                c[2] += len(r["false_alarms"])
                c[3] += r["duration_s"] / 3600
    return {s: tuple(c) for s, c in out.items()}


def pooled(scan: Scan, subjects: list[str]) -> list[dict]:
    """`calibrate`'s rows (one per threshold) for `subjects` alone."""
    rows = []
    for t, per in scan:
        c = [per[s] for s in subjects if s in per]
        rows.append({"threshold": t, "falls": sum(x[0] for x in c), "caught": sum(x[1] for x in c),
                     "false_alarms": sum(x[2] for x in c), "adl_hours": sum(x[3] for x in c)})
    return rows


def halves(subjects: list[str], rng: random.Random) -> tuple[list[str], list[str]]:
    """Each dataset's subjects (`dataset:id`) shuffled and halved."""
    by_dataset: dict[str, list[str]] = {}
    for s in sorted(subjects):
        by_dataset.setdefault(s.split(":")[0], []).append(s)
    a, b = [], []
    for group in by_dataset.values():
        rng.shuffle(group)
        a += group[: len(group) // 2]
        b += group[len(group) // 2:]
    return a, b


def cross_fit(scan: Scan, rules: dict[str, Rule], splits: int, rng: random.Random) -> dict[str, float]:
    """Per rule, the errors on the held-out half summed over both directions, mean over `splits` splits."""
    subjects = sorted({s for _, per in scan for s in per})
    held = dict.fromkeys(rules, 0.0)
    for _ in range(splits):
        a, b = halves(subjects, rng)
        for chosen_on, judged_on in ((a, b), (b, a)):
            rows, judge = pooled(scan, chosen_on), pooled(scan, judged_on)
            for name, rule in rules.items():
                held[name] += errors(judge[rows.index(rule(rows))]) / splits
    return held


def scan_fold(fold_dir: Path, mode: str, binary: Path) -> Scan:
    """`guardian eval` of `mode` at every candidate threshold on `fold_dir`'s validation subjects."""
    split = json.loads((fold_dir / "fold.json").read_text())["split"]
    name = f"labels-cv{len(list(fold_dir.parent.glob('fold[0-9]*')))}-{fold_dir.name}-val.csv"  # as `cv` names it
    labels = labels_of(set(split["val"]), name)
    card = json.loads((fold_dir / "model_card.json").read_text())
    scan = []
    with tempfile.TemporaryDirectory(prefix="guardian-rule-study-") as tmp:
        for t in CANDIDATES:
            run_at(binary, card, fold_dir, mode, t, labels, Path(tmp))
            scan.append((t, subject_counts(Path(tmp) / mode / "eval" / "results.jsonl")))
    return scan


def study(cv_dir: Path | None, bin_path: Path | None) -> str:
    """The rules' held-out errors per model, as a markdown table, and each rule's thresholds on the whole
    validation subjects of each fold (what `calibrate` would choose with it)."""
    cv_dir = cv_dir or REPO_ROOT / "out" / "cv"
    binary = _binary(bin_path)
    folds = sorted(cv_dir.glob("fold[0-9]*"), key=lambda d: int(d.name.removeprefix("fold")))
    jobs = [(d, m) for d in folds for m in ("full", "acc_only")]
    with ProcessPoolExecutor(os.cpu_count() or 1) as ex:
        scans = dict(zip(jobs, ex.map(scan_fold, *zip(*jobs), [binary] * len(jobs))))
    rng = random.Random(SEED)
    held = {m: dict.fromkeys(RULES, 0.0) for m in ("full", "acc_only")}
    chosen = {m: {name: [] for name in RULES} for m in held}
    for (_, m), scan in scans.items():
        for name, e in cross_fit(scan, RULES, SPLITS, rng).items():
            held[m][name] += e
        rows = pooled(scan, sorted({s for _, per in scan for s in per}))
        for name, rule in RULES.items():
            chosen[m][name].append(rule(rows)["threshold"])
    L = [f"Held-out errors (falls missed + false alarms on the half a rule did not choose on), summed over {len(folds)} "
         f"folds and both halves, mean over {SPLITS} splits (seed {SEED}); then each rule's thresholds on each fold's "
         "whole validation subjects.", "",
         "| rule | full | acc_only | both | full: thresholds | acc_only: thresholds |", "|---|---|---|---|---|---|"]
    for name in RULES:
        f, a = held["full"][name], held["acc_only"][name]
        ts = [" ".join(f"{t:.3f}" for t in chosen[m][name]) for m in ("full", "acc_only")]
        L.append(f"| {name} | {f:.1f} | {a:.1f} | {f + a:.1f} | {ts[0]} | {ts[1]} |")
    return "\n".join(L) + "\n"

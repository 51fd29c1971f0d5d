"""Choosing a training setting on validation subjects, and what that choice is worth on test subjects.

Each variant is a cross-validation folder (`guardian_eval cv --out DIR [--set ...]`) over the same folds.
`guardian eval` runs every variant's fold models on the fold's validation and test subjects. Per fold and
model, the variant with the fewest errors (falls missed + false alarms) on the fold's validation subjects is
picked, ties going to the first variant (the default); the picked variants' test results, pooled, estimate
what choosing by validation gives (nested: no fold's choice sees its test subjects). The setting that
ships is the one with the fewest validation errors summed over the folds.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, fields
from pathlib import Path

from .cv import all_export_dir, labels_of
from .cv_report import PHONE_CALL, load_results, summarise
from .export import DATASETS, export
from .run_all import _binary, run_engine

MODELS = ("full", "acc_only")


@dataclass
class Tally:
    """Event counts of one model over a set of recordings."""

    falls: int = 0
    caught: int = 0
    false_alarms: int = 0  # on ADL recordings
    adl_h: float = 0.0
    calls: int = 0
    calls_clean: int = 0
    umafall_false_alarms: int = 0

    @property
    def errors(self) -> int:
        return self.falls - self.caught + self.false_alarms

    def add(self, o: Tally) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(o, f.name))

    def text(self) -> str:
        s = (f"{self.caught}/{self.falls} ({100 * self.caught / max(self.falls, 1):.1f}%), "
             f"{self.false_alarms} ({self.false_alarms / max(self.adl_h, 1e-9):.2f}/h)")
        if self.calls:
            s += f"; UMAFall {self.umafall_false_alarms}, calls {self.calls_clean}/{self.calls} clean"
        return s


def tally(runs: list[Path], model: str) -> Tally:
    """The `model`'s counts over the engine output folders `runs` (`cv_report.summarise`'s rules)."""
    rs = [r for r in load_results([{"fold": 0, "runs": runs}]) if r["model"] == model]
    g = summarise(rs)
    calls = [r for r in rs if (r["dataset"], r["activity"]) == PHONE_CALL]
    uma = summarise([r for r in rs if r["dataset"] == "umafall"])
    return Tally(falls=g["fall_trials"], caught=g["caught"], false_alarms=g["false_alarms"], adl_h=g["adl_hours"],
                 calls=len(calls), calls_clean=sum(1 for r in calls if not r["false_alarms"]),
                 umafall_false_alarms=uma["false_alarms"])


def evaluate(variants: list[Path], binary: Path, config: Path | None) -> dict:
    """{(variant, fold, split): engine output folders} for every variant's folds, val and test."""
    for d in DATASETS:
        export(d, "all", all_export_dir(d), quiet=True)
    folds = sorted(p.name for p in variants[0].glob("fold*") if (p / "fold.json").exists())
    runs, splits = {}, {}
    for v in variants:
        for fold in folds:
            fold_dir = v / fold
            split = json.loads((fold_dir / "fold.json").read_text())["split"]
            if splits.setdefault(fold, split) != split:
                raise SystemExit(f"error: {fold_dir} has another split than {variants[0] / fold}")
            for s in ("val", "test"):
                labels = labels_of(set(split[s]), f"labels-{len(folds)}folds-{fold}-{s}.csv")
                runs[(v, fold, s)] = run_engine(binary, fold_dir / "choose" / s, labels, fold_dir, config, quiet=True)
    return {"folds": folds, "runs": runs}


def choose(variants: list[Path], ev: dict) -> list[str]:
    """The report's lines: per model, each fold's validation errors and pick, the pooled test figures."""
    names = [v.name for v in variants]
    L = []
    for model in MODELS:
        L += [f"### {model}", "", "| fold | validation: missed + false alarms per variant | picked |", "|---|---|---|"]
        val_sum = {v: 0 for v in variants}
        test = {v: Tally() for v in variants}
        nested = Tally()
        for fold in ev["folds"]:
            val = {v: tally(ev["runs"][(v, fold, "val")], model) for v in variants}
            for v in variants:
                val_sum[v] += val[v].errors
                test[v].add(tally(ev["runs"][(v, fold, "test")], model))
            pick = min(variants, key=lambda v: (val[v].errors, variants.index(v)))
            nested.add(tally(ev["runs"][(pick, fold, "test")], model))
            cells = ", ".join(f"{v.name} {val[v].falls - val[v].caught} + {val[v].false_alarms}" for v in variants)
            L.append(f"| {fold} | {cells} | {pick.name} |")
        best = min(variants, key=lambda v: (val_sum[v], variants.index(v)))
        L += ["", "| variant | validation errors, all folds | test: caught, false alarms |", "|---|---|---|"]
        L += [f"| {v.name}{' (fewest validation errors)' if v == best else ''} | {val_sum[v]} | {test[v].text()} |" for v in variants]
        L += [f"| picked per fold on validation (nested) | - | {nested.text()} |", ""]
    L.insert(0, f"Variants: {', '.join(names)} (ties go to {names[0]}).\n")
    return L


def run_choose(args) -> int:
    ev = evaluate(args.variant, _binary(args.bin), args.config)
    text = "\n".join(choose(args.variant, ev)) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0

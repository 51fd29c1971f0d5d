"""Choosing a training setting on validation: the tallies, the per-fold pick and the nested test figures."""

from __future__ import annotations

import json
from pathlib import Path

from guardian_eval.choose import choose, tally


def _run(root: Path, name: str, records: list[dict]) -> Path:
    """An engine output folder holding `records` as results.jsonl."""
    d = root / name
    d.mkdir(parents=True)
    (d / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return d


def _rec(model: str, is_fall: bool, caught: bool = False, alarms: int = 0, dataset: str = "sisfall",
         activity: str = "D01") -> dict:
    return {"model": model, "is_fall": is_fall, "caught": caught, "latency_s": 2.48 if caught else None,
            "false_alarms": [{}] * alarms, "duration_s": 3600.0, "dataset": dataset, "activity": activity,
            "file": f"{dataset}/{activity}.csv"}


def test_tally_counts_falls_alarms_and_calls_of_one_model(tmp_path: Path) -> None:
    run = _run(tmp_path, "r", [
        _rec("full", True, caught=True), _rec("full", True), _rec("full", False, alarms=2),
        _rec("acc_only", True, caught=True), _rec("acc_only", False, alarms=1, dataset="umafall", activity="MakingACall"),
        _rec("acc_only", False, dataset="umafall", activity="MakingACall"),
    ])
    full, acc = tally([run], "full"), tally([run], "acc_only")
    assert (full.falls, full.caught, full.false_alarms, full.adl_h, full.errors) == (2, 1, 2, 1.0, 3)
    assert (acc.falls, acc.caught, acc.false_alarms, acc.umafall_false_alarms) == (1, 1, 1, 1)
    assert (acc.calls, acc.calls_clean) == (2, 1)


def test_each_fold_picks_its_fewest_validation_errors_and_the_nested_figures_use_the_picks(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    # fold1: b has fewer validation errors; fold2: a tie, which goes to the first variant (a)
    val = {(a, "fold1"): 3, (b, "fold1"): 1, (a, "fold2"): 2, (b, "fold2"): 2}
    test_alarms = {(a, "fold1"): 5, (b, "fold1"): 1, (a, "fold2"): 7, (b, "fold2"): 0}
    runs = {}
    for (v, fold), n in val.items():
        for model in ("full", "acc_only"):
            runs[(v, fold, "val")] = runs.get((v, fold, "val"), []) + [
                _run(tmp_path, f"{v.name}-{fold}-val-{model}", [_rec(model, False, alarms=n), _rec(model, True, caught=True)])]
            runs[(v, fold, "test")] = runs.get((v, fold, "test"), []) + [
                _run(tmp_path, f"{v.name}-{fold}-test-{model}", [_rec(model, False, alarms=test_alarms[(v, fold)])])]
    text = "\n".join(choose([a, b], {"folds": ["fold1", "fold2"], "runs": runs}))
    assert "| fold1 | a 0 + 3, b 0 + 1 | b |" in text
    assert "| fold2 | a 0 + 2, b 0 + 2 | a |" in text
    assert "| b (fewest validation errors) | 3 |" in text  # b: 1 + 2 against a: 3 + 2
    # nested: fold1 from b (1 alarm), fold2 from a (7 alarms)
    assert "| picked per fold on validation (nested) | - | 0/0 (0.0%), 8 (4.00/h) |" in text

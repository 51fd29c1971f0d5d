"""The threshold-rule study's counting: pooled rows per subject set, halves per dataset, held-out errors."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from guardian_eval.calibrate import errors, pick
from guardian_eval.rule_study import (
    cross_fit,
    halves,
    pooled,
    smoothed_fewest,
    subject_counts,
)

# Two thresholds, four subjects: at 0.2 each subject's falls are caught but "m:2" and "s:2" alarm; at 0.6 "m:1"
# misses a fall and no one alarms.
SCAN = [
    (0.2, {"m:1": (2, 2, 0, 1.0), "m:2": (0, 0, 3, 1.0), "s:1": (1, 1, 0, 0.5), "s:2": (0, 0, 1, 0.5)}),
    (0.6, {"m:1": (2, 1, 0, 1.0), "m:2": (0, 0, 0, 1.0), "s:1": (1, 1, 0, 0.5), "s:2": (0, 0, 0, 0.5)}),
]


def test_rows_pool_only_the_given_subjects() -> None:
    rows = pooled(SCAN, ["m:1", "s:2"])
    assert rows[0] == {"threshold": 0.2, "falls": 2, "caught": 2, "false_alarms": 1, "adl_hours": 1.5}
    assert [errors(r) for r in rows] == [1, 1]
    assert [errors(r) for r in pooled(SCAN, ["m:1", "m:2", "s:1", "s:2"])] == [4, 1]


def test_each_dataset_is_halved() -> None:
    a, b = halves(["m:1", "m:2", "s:1", "s:2"], random.Random(1))
    assert sorted(a + b) == ["m:1", "m:2", "s:1", "s:2"]
    assert sorted(s[0] for s in a) == ["m", "s"] and sorted(s[0] for s in b) == ["m", "s"]


def test_held_out_errors_are_counted_on_the_half_the_rule_did_not_see() -> None:
    always_low = {"low": lambda rows: rows[0]}
    # Whatever the halves, every subject is judged once per split at 0.2: 3 + 1 false alarms, no miss.
    assert cross_fit(SCAN, always_low, 7, random.Random(2))["low"] == pytest.approx(4.0)
    # Both thresholds are within 3 errors of the fewest on any half, so `pick` takes the upper one, 0.6, and the
    # one fall "m:1" misses there is all it gets wrong on the other half.
    assert cross_fit(SCAN, {"middle": pick}, 7, random.Random(2))["middle"] == pytest.approx(1.0)


def test_a_moving_mean_steers_away_from_a_lone_dip() -> None:
    rows = [{"threshold": t, "falls": 10, "caught": 10 - m, "false_alarms": a, "adl_hours": 1.0}
            for t, m, a in [(0.1, 0, 5), (0.2, 0, 1), (0.3, 0, 6), (0.4, 1, 1), (0.5, 1, 1), (0.6, 2, 1)]]
    assert smoothed_fewest(rows, 1)["threshold"] == 0.2  # a width of 1 is the fewest itself
    assert smoothed_fewest(rows, 3)["threshold"] == 0.5


def test_subjects_are_counted_from_the_engines_results(tmp_path: Path) -> None:
    lines = [{"subject": "m:1", "is_fall": True, "caught": True, "false_alarms": [], "duration_s": 10.0},
             {"subject": "m:1", "is_fall": True, "caught": False, "false_alarms": [], "duration_s": 10.0},
             {"subject": "m:1", "is_fall": False, "caught": False, "false_alarms": [{}, {}], "duration_s": 1800.0}]
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    assert subject_counts(tmp_path / "results.jsonl") == {"m:1": (2, 1, 2, 0.5)}

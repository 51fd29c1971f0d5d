"""Cross-validation: UMAFall reading and export, the folds, event-level thresholds, exact intervals."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from guardian_eval import export as ex
from guardian_eval.calibrate import is_calibrated
from guardian_eval.cv import (
    fold_split,
    fold_stamp,
    folds_of,
    is_trained,
    set_scoring,
)
from guardian_eval.cv_report import proportion_ci, rate_ci, summarise
from guardian_train import preprocessing as pp
from guardian_train.card import CARD_SCHEMA_VERSION
from guardian_train.data import WindowSet
from guardian_train.datasets import REPO_ROOT as REPO
from guardian_train.datasets import list_umafall, read_trial
from guardian_train.model import TRAIN_THREADS
from guardian_train.scoring import UNSCORED, trial_best

G = 9.80665


def _umafall_file(path: Path, age: int, impact_i: int | None, n: int = 1500) -> None:
    """A 5 ms accelerometer-only UMAFall recording, 1 g along y, 4 g at `impact_i`."""
    rows = "".join(f"{i * 5_000_000},acc,0.0,{(4 * G if i == impact_i else G)!r},0.0\n" for i in range(n))
    path.write_text(f"# Age: {age}\n# Type of Movement: x\nt_ns,sensor,x,y,z\n{rows}")


@pytest.fixture()
def uma_root(tmp_path: Path) -> Path:
    d = tmp_path / "umafall-phone"
    d.mkdir()
    _umafall_file(d / "UMAFall_Subject_03_Fall_forwardFall_1_2017-04-14_23-52-34.csv", 68, 700)
    _umafall_file(d / "UMAFall_Subject_03_ADL_LyingDown_OnABed_1_2017-04-14_23-53-34.csv", 68, None)
    # the same trial number recorded again on another day keeps its own key
    _umafall_file(d / "UMAFall_Subject_03_ADL_LyingDown_OnABed_1_2017-04-15_10-00-00.csv", 68, None)
    _umafall_file(d / "UMAFall_Subject_12_ADL_MakingACall_2_2016-12-01_10-00-00.csv", 24, None)
    (d / "README.txt").write_text("not a trial")
    return tmp_path


def test_umafall_trials_are_listed_with_subject_age_group_and_unique_keys(uma_root: Path) -> None:
    trials = list_umafall(uma_root)
    assert [(t.subject, t.activity, t.trial, t.is_fall, t.age_group) for t in trials] == [
        ("umafall:S03", "LyingDown_OnABed", 1, False, "elderly"),
        ("umafall:S03", "LyingDown_OnABed", 2, False, "elderly"),
        ("umafall:S03", "forwardFall", 1, True, "elderly"),
        ("umafall:S12", "MakingACall", 2, False, "adult"),
    ]
    assert len({t.key for t in trials}) == 4
    raw = read_trial(trials[2])
    assert raw.gyro_t is None and raw.acc_v.shape == (1500, 3)


def test_an_umafall_fall_exports_with_its_accelerometer_only_impact(uma_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    m = ex.export("umafall", "all", out, root=uma_root, quiet=True)
    assert (m["recordings"], m["unreadable"]) == (4, 0)
    with open(out / "labels.csv", newline="") as f:
        rows = {r["activity"]: r for r in csv.DictReader(f)}
    fall = rows["forwardFall"]
    # 4 g at 700 * 5 ms = 3.5 s: grid frame k = 175 of the acc_only frames
    assert int(fall["impact_t_ns"]) == 175 * pp.DT_NS
    assert rows["MakingACall"]["impact_t_ns"] == ""
    text = (out / fall["file"]).read_text()
    assert "gyro" not in text and text.count("\n") == 1501


def test_folds_test_every_subject_exactly_once_and_keep_validation_apart() -> None:
    def trial(subject: str, is_fall: bool):
        return SimpleNamespace(trial=SimpleNamespace(subject=subject, is_fall=is_fall))

    tfs = [trial(f"mobifall:sub{i}", i % 2 == 0) for i in range(20)] + [trial(f"mobifall:sub{i}", False) for i in range(0, 20, 3)]
    tfs += [trial(f"sisfall:SA{i:02d}", True) for i in range(23)] + [trial(f"sisfall:SE{i:02d}", False) for i in range(10)]
    tfs += [trial(f"umafall:S{i:02d}", i < 8) for i in range(12)]
    subjects = {t.trial.subject for t in tfs}
    folds = folds_of(tfs, 5)
    tested = [s for f in folds for s in f]
    assert sorted(tested) == sorted(subjects) and len(tested) == len(subjects)
    for f in range(5):
        sp = fold_split(tfs, folds, f)
        assert set(sp["test"]) == set(folds[f])
        assert not set(sp["train"]) & set(sp["val"]) and not (set(sp["train"]) | set(sp["val"])) & set(sp["test"])
        assert set(sp["train"]) | set(sp["val"]) | set(sp["test"]) == subjects
        assert {s.split(":")[0] for s in sp["val"]} == {"mobifall", "sisfall", "umafall"}
        assert sp == fold_split(tfs, folds, f)  # seeded


def test_event_level_threshold_data_is_the_best_window_of_each_scored_fall_trial() -> None:
    z = np.zeros((7, pp.WINDOW, 3), np.float32)
    ws = WindowSet(z, z, np.array([1, 1, 1, 1, 0, 1, 1]), np.array([0, 0, 1, 1, 2, 3, 3]), np.zeros(7))
    scores = np.array([0.2, 0.9, 0.5, 0.1, 0.99, 0.0, UNSCORED / 2])
    y, best = trial_best(ws, scores)
    # trial 3 never scores (a trip labelled as the impact): left out; ADL trial 2 is no fall trial
    assert y.tolist() == [1, 1] and best.tolist() == [0.9, 0.5]


def test_intervals_are_exact() -> None:
    # Clopper-Pearson ends in closed form: k = 0 or n
    lo, hi = proportion_ci(0, 10)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / 10), rel=1e-9)
    lo, hi = proportion_ci(10, 10)
    assert hi == 1.0 and lo == pytest.approx(0.025 ** (1 / 10), rel=1e-9)
    # Garwood for no event in 2 h: -ln(0.025) / 2 per hour
    lo, hi = rate_ci(0, 2.0)
    assert lo == 0.0 and hi == pytest.approx(-np.log(0.025) / 2, rel=1e-9)
    lo, hi = rate_ci(4, 1.0)
    assert lo < 4 < hi and (lo, hi) == pytest.approx((1.0899, 10.2416), abs=1e-4)


def test_summary_counts_events_per_trial_kind() -> None:
    def r(is_fall, caught=False, lat=None, fas=0, dur=3600.0):
        return {"is_fall": is_fall, "caught": caught, "latency_s": lat, "false_alarms": [{}] * fas, "duration_s": dur, "file": "f"}

    s = summarise([r(True, True, 2.0), r(True, True, 3.0, fas=1), r(True), r(False, fas=2), r(False, dur=1800.0)])
    assert (s["caught"], s["fall_trials"], s["false_alarms"], s["alarms_in_fall_trials"]) == (2, 3, 2, 1)
    assert s["adl_hours"] == 1.5 and s["fa_per_h"] == pytest.approx(2 / 1.5)
    assert s["latency_median_s"] == 2.5 and s["adl_trials_with_alarm"] == 1


def test_a_fold_is_retrained_when_anything_its_models_depend_on_changed(tmp_path: Path) -> None:
    split = {"train": ["sisfall:SA01"], "val": ["sisfall:SA02"], "test": ["sisfall:SA03"]}
    want = fold_stamp(split, True, {})
    assert want["tf_threads"] == TRAIN_THREADS and "overrides" not in want
    assert not is_trained(tmp_path, want)  # nothing trained yet
    (tmp_path / "model_card.json").write_text("{}")
    (tmp_path / "fold.json").write_text(json.dumps({**want, "train_s": 12.5}))
    assert is_trained(tmp_path, want)  # the training time is not part of what the models depend on
    assert not is_trained(tmp_path, fold_stamp(split, False, {}))  # another schedule
    assert not is_trained(tmp_path, fold_stamp(split, True, {"seed": 4321}))  # another setting
    assert not is_trained(tmp_path, fold_stamp({**split, "test": ["sisfall:SA04"]}, True, {}))  # another split
    older = {k: v for k, v in want.items() if k != "tf_threads"}  # trained before the thread count was pinned
    (tmp_path / "fold.json").write_text(json.dumps({**older, "train_s": 12.5}))
    assert not is_trained(tmp_path, want)


def test_a_fold_card_of_layout_1_gains_the_scoring_and_a_changed_scoring_needs_new_thresholds(tmp_path: Path) -> None:
    card = json.loads((REPO / "models" / "model_card.json").read_text())
    old = json.loads(json.dumps(card))
    old["schema_version"] = 1
    for m in old["models"].values():
        m.pop("scoring")
        m["threshold_calibration"].pop("scoring", None)
    (tmp_path / "model_card.json").write_text(json.dumps(old))
    set_scoring(tmp_path, {"full": "window", "acc_only": "cube_rotations"})
    new = json.loads((tmp_path / "model_card.json").read_text())
    assert new["schema_version"] == CARD_SCHEMA_VERSION == 2
    assert [m["scoring"] for m in new["models"].values()] == ["window", "cube_rotations"]
    assert not is_calibrated(tmp_path)  # thresholds chosen before layout 2 do not say for which scoring
    (tmp_path / "model_card.json").write_text(json.dumps(card))
    set_scoring(tmp_path, {m: s["scoring"] for m, s in card["models"].items()})
    assert json.loads((tmp_path / "model_card.json").read_text()) == card and is_calibrated(tmp_path)

"""Event-level threshold choice: the rule, and a calibration of the shipped models with the real engine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from guardian_eval import export as ex
from guardian_eval.calibrate import (
    CANDIDATES,
    NOTE_HEADING,
    RULE,
    TOLERANCE,
    calibrate,
    errors,
    is_calibrated,
    pick,
)
from test_eval import BIN, LIB, REPO, _card, fake_root  # noqa: F401 (fixture)


def _row(threshold: float, missed: int, false_alarms: int) -> dict:
    return {"threshold": threshold, "falls": 10, "caught": 10 - missed, "false_alarms": false_alarms, "adl_hours": 1.0}


def test_the_middle_of_the_thresholds_near_the_fewest_errors_wins() -> None:
    rows = [_row(0.1, 0, 9), _row(0.3, 1, 2), _row(0.5, 2, 1), _row(0.7, 5, 0), _row(0.9, 8, 0)]
    assert errors(rows[0]) == 9
    assert TOLERANCE == 3
    assert pick(rows)["threshold"] == 0.5  # 3, 3 and 5 errors are within 3 of the fewest (3): 0.3, 0.5, 0.7
    assert pick(rows, tolerance=0)["threshold"] == 0.5  # 0.3 and 0.5 tie: the upper middle
    assert pick(rows, tolerance=1)["threshold"] == 0.5
    assert pick(list(reversed(rows)))["threshold"] == 0.5  # the order the rows come in does not matter
    assert pick(rows[:2])["threshold"] == 0.3


def test_candidates_start_at_the_lowest_int8_step_and_stay_below_one() -> None:
    assert CANDIDATES[0] == 1 / 256 and CANDIDATES == sorted(CANDIDATES) and CANDIDATES[-1] < 1


@pytest.mark.skipif(not (BIN.exists() and LIB.exists()), reason="needs target/release/guardian and libLiteRt.so")
def test_calibration_writes_each_models_choice_into_the_card(fake_root: Path, tmp_path: Path,  # noqa: F811
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUARDIAN_LITERT_LIB", str(LIB))
    models = tmp_path / "models"
    card = json.loads((REPO / "models" / "model_card.json").read_text())
    for m in card["models"].values():  # back to the training pipeline's own card
        c = m.pop("threshold_calibration", None)
        if c:
            m["threshold"], m["threshold_rule"] = c["window_level_threshold"], c["window_level_rule"]
    models.mkdir()
    (models / "model_card.json").write_text(json.dumps(card))
    (models / "MODEL_CARD.md").write_text("# Guardian model card\n\nsummary\n\n## Training report (copied)\n\nreport\n")
    for m in card["models"].values():
        shutil.copyfile(REPO / "models" / m["file"], models / m["file"])
    labels = {}
    for d in ("mobifall", "sisfall"):
        ex.export(d, "all", tmp_path / d, _card(tmp_path), root=fake_root, quiet=True)
        labels[d] = tmp_path / d / "labels.csv"
    assert not is_calibrated(models)
    out = calibrate(models, labels, BIN)
    new = json.loads((models / "model_card.json").read_text())
    assert is_calibrated(models)
    for mode, r in out.items():
        m = new["models"][mode]
        assert m["threshold"] == r["threshold"] and r["threshold"] in CANDIDATES
        assert len(r["scanned"]) == len(CANDIDATES)
        assert errors(r["chosen"]) <= min(errors(x) for x in r["scanned"]) + TOLERANCE
        assert m["threshold_calibration"]["window_level_threshold"] == card["models"][mode]["threshold"]
        assert m["threshold_calibration"]["validation_falls"] == 2  # the fake fall trials
        assert m["sha256"] == card["models"][mode]["sha256"]
    assert (models / "calibration.json").exists()
    calibrate(models, labels, BIN)  # again: one note, the window-level threshold still the training's
    again = json.loads((models / "model_card.json").read_text())
    for mode, m in again["models"].items():
        assert m["threshold_calibration"]["window_level_threshold"] == card["models"][mode]["threshold"]
    md = (models / "MODEL_CARD.md").read_text()
    assert md.count(NOTE_HEADING) == 1 and md.index("summary") < md.index(NOTE_HEADING) < md.index("## Training report")


def test_thresholds_count_as_chosen_only_for_the_scoring_and_rule_they_were_chosen_by(tmp_path: Path) -> None:
    card = json.loads((REPO / "models" / "model_card.json").read_text())
    (tmp_path / "model_card.json").write_text(json.dumps(card))
    assert is_calibrated(tmp_path)  # the shipped card: chosen for the scoring it states
    m = card["models"]["acc_only"]
    m["scoring"] = "window" if m["scoring"] == "cube_rotations" else "cube_rotations"
    (tmp_path / "model_card.json").write_text(json.dumps(card))
    assert not is_calibrated(tmp_path)
    m.pop("threshold_calibration")
    (tmp_path / "model_card.json").write_text(json.dumps(card))
    assert not is_calibrated(tmp_path)
    card = json.loads((REPO / "models" / "model_card.json").read_text())
    card["models"]["full"]["threshold_rule"] = RULE.replace(f"within {TOLERANCE}", "within 2")  # an older rule
    (tmp_path / "model_card.json").write_text(json.dumps(card))
    assert not is_calibrated(tmp_path)

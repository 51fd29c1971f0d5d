"""End to end (slow): quick-mode training into a tmp dir, then the QAT int8 models load in the Rust runtime.

Run with `pytest -m slow`. Needs the extracted datasets (scripts/extract_datasets.sh) and the Rust CLI
(env GUARDIAN_BIN, default <repo>/target/release/guardian); the Rust part is skipped, with the reason,
only when the binary is absent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("GUARDIAN_BIN", str(REPO / "target" / "release" / "guardian")))


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    from guardian_train.datasets import datasets_root

    root = datasets_root()
    if not (root / "mobifall-v2").is_dir() or not (root / "sisfall-50hz").is_dir():
        pytest.fail(f"datasets missing under {root}: run scripts/extract_datasets.sh")
    out = tmp_path_factory.mktemp("quick")
    env = dict(os.environ, PYTHONPATH=str(REPO / "scripts"))
    r = subprocess.run([sys.executable, "-m", "guardian_train", "train", "--quick", "--out", str(out)],
                       capture_output=True, text=True, env=env, timeout=1800)
    assert r.returncode == 0, r.stderr[-4000:]
    return out


@pytest.mark.slow
def test_quick_run_outputs(quick_run):
    from guardian_train.card import CARD_SCHEMA_VERSION, schema_errors

    card = json.loads((quick_run / "model_card.json").read_text())
    assert card["quick_mode"] is True and card["schema_version"] == CARD_SCHEMA_VERSION and card["band"] == [40, 80]
    assert schema_errors(card) == []  # the freshly made card has the layout models/model_card.schema.json states
    for mode, c in (("full", 8), ("acc_only", 4)):
        m = card["models"][mode]
        blob = (quick_run / m["file"]).read_bytes()
        assert len(blob) == m["size_bytes"] <= 32 * 1024
        assert m["input"]["shape"] == [1, 100, 1, c] and m["input"]["dtype"] == "int8"
        assert m["output"]["shape"] == [1, 1] and m["output"]["dtype"] == "int8"
        assert 0 < m["threshold"] < 1
    rep = json.loads((quick_run / "report.json").read_text())
    assert len(rep["models"]) == 6 and rep["unreadable"]["count"] == 0
    assert not set(rep["split"]["test"]) & (set(rep["split"]["train"]) | set(rep["split"]["val"]))
    for f in ("report.md", "training_curves.png", "confusion_full.png", "confusion_acc_only.png", "roc.png", "per_activity_recall.png"):
        assert (quick_run / f).exists(), f


def _fall_recording(path: Path) -> None:
    """A MobiFall fall trial rewritten in Guardian's CSV format (acc and gyro rows merged by time)."""
    from guardian_train.datasets import datasets_root, list_mobifall, read_trial, write_recording

    trial = next(t for t in list_mobifall(datasets_root()) if t.is_fall)
    raw = read_trial(trial)
    rows = [(t, "acc", *v) for t, v in zip(raw.acc_t, raw.acc_v)] + [(t, "gyro", *v) for t, v in zip(raw.gyro_t, raw.gyro_v)]
    order = np.argsort([r[0] for r in rows], kind="stable")
    write_recording(path, [rows[i] for i in order])


@pytest.mark.slow
def test_quick_models_load_in_rust_runtime(quick_run, tmp_path):
    if not BIN.exists():
        pytest.skip(f"Rust CLI not found at {BIN}: build it first (the Makefile does) or set GUARDIAN_BIN")
    r = subprocess.run([str(BIN), "check-model", "--model", str(quick_run)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"check-model failed: {r.stdout}\n{r.stderr}"
    rec = tmp_path / "fall.csv"
    _fall_recording(rec)
    r = subprocess.run([str(BIN), "replay", "--model", str(quick_run), str(rec)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"replay failed: {r.stdout}\n{r.stderr}"
    for line in r.stdout.splitlines():  # JSON events, one per line
        if line.strip():
            json.loads(line)

"""guardian_eval: export of dataset trials as recordings + labels, miss explanations, report (and
`guardian eval` end to end on the exported files when the binary and LiteRT are available)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from guardian_eval import export as ex
from guardian_eval.report import DT_NS, explain_miss, report

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("GUARDIAN_BIN", str(REPO / "target" / "release" / "guardian")))
LIB = Path(os.environ.get("GUARDIAN_LITERT_LIB", str(REPO / ".cache" / "litert" / "libLiteRt.so")))
G = 9.80665


def _mobifall_file(path: Path, t: np.ndarray, v: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = "".join(f"{int(a)}, {x!r}, {y!r}, {z!r}\n" for a, (x, y, z) in zip(t.tolist(), v.tolist()))
    path.write_text(f"#Activity: x\n#Subject ID: 1\n@DATA\n{rows}")


def _sisfall_file(path: Path, n: int, impact_i: int | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    g_counts = round(1 / (2 * 16 / 2**13))  # 1 g in ADXL345 counts
    lines = []
    for i in range(n):
        az = 4 * g_counts if i == impact_i else g_counts
        lines.append(f"  0,  0, {az},  1, -1,  2,  0,  0, 1000;")
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture()
def fake_root(tmp_path: Path) -> Path:
    """MobiFall sub1 (a fall with a known peak, a walk) and sub2 (a broken fall); SisFall SA01, SE01."""
    root = tmp_path / "datasets"
    rng = np.random.default_rng(0)
    base = 1_000_000_000_000
    # accelerometer ~87 Hz irregular, gyroscope 200 Hz, 8 s
    at = base + np.cumsum(rng.integers(9_000_000, 14_000_000, 700))
    gt = base + np.arange(1600) * 5_000_000 + 1_000_000
    av = np.tile([0.0, 0.0, G], (700, 1)) + rng.normal(0, 0.05, (700, 3))
    av[400] = [0.0, 0.0, 3.0 * G]  # the impact sample
    gv = rng.normal(0, 0.1, (1600, 3))
    mf = root / "mobifall-v2"
    _mobifall_file(mf / "sub1/FALLS/FOL/FOL_acc_1_1.txt", at, av)
    _mobifall_file(mf / "sub1/FALLS/FOL/FOL_gyro_1_1.txt", gt, gv)
    av2 = av.copy()
    av2[400] = [0.0, 0.0, G]
    _mobifall_file(mf / "sub1/ADL/WAL/WAL_acc_1_1.txt", at, av2)
    _mobifall_file(mf / "sub1/ADL/WAL/WAL_gyro_1_1.txt", gt, gv)
    (mf / "sub2/FALLS/SDL").mkdir(parents=True)
    (mf / "sub2/FALLS/SDL/SDL_acc_2_1.txt").write_text("#x\n@DATA\n1, 2, oops, 4\n")
    _mobifall_file(mf / "sub2/FALLS/SDL/SDL_gyro_2_1.txt", gt, gv)
    sf = root / "sisfall-50hz"
    _sisfall_file(sf / "SA01/F01_SA01_R01.txt", 750, 300)
    _sisfall_file(sf / "SA01/D01_SA01_R01.txt", 750, None)
    _sisfall_file(sf / "SE01/D07_SE01_R01.txt", 600, None)
    return root


def _card(tmp_path: Path) -> Path:
    card = tmp_path / "card.json"
    card.write_text(json.dumps({"split": {"train": ["sisfall:SE01"], "val": [], "test": ["mobifall:sub1", "mobifall:sub2", "sisfall:SA01"]}}))
    return card


def _labels(d: Path) -> list[dict]:
    with open(d / "labels.csv") as f:
        return list(csv.DictReader(f))


def test_export_writes_recordings_labels_and_unreadable(fake_root: Path, tmp_path: Path):
    card = _card(tmp_path)
    out = tmp_path / "mf"
    m = ex.export("mobifall", "test", out, card, root=fake_root, quiet=True)
    assert (m["recordings"], m["unreadable"]) == (2, 1)
    labels = {r["activity"]: r for r in _labels(out)}
    assert list(_labels(out)[0].keys()) == ex.LABEL_COLUMNS
    fol, wal = labels["FOL"], labels["WAL"]
    assert fol["is_fall"] == "1" and wal["is_fall"] == "0" and wal["impact_t_ns"] == ""
    # the impact is the grid frame of largest |a|: the grid instant nearest after/at the spike
    rows = (out / fol["file"]).read_text().splitlines()
    assert rows[0] == "t_ns,sensor,x,y,z"
    acc = [r.split(",") for r in rows[1:] if ",acc," in r]
    spike_t = int(next(r[0] for r in acc if float(r[4]) > 2 * G))
    impact = int(fol["impact_t_ns"])
    assert impact % DT_NS == 0 and abs(impact - spike_t) < DT_NS
    # both streams interleaved by time, original timestamps kept
    ts = [int(r.split(",")[0]) for r in rows[1:]]
    assert ts == sorted(ts) and sum(",gyro," in r for r in rows) == 1600
    assert float(fol["duration_s"]) > 7.0
    with open(out / "unreadable.csv") as f:
        bad = list(csv.DictReader(f))
    assert len(bad) == 1 and bad[0]["subject"] == "mobifall:sub2" and "oops" in bad[0]["error"]
    # cached: same inputs, nothing rewritten
    mtime = (out / fol["file"]).stat().st_mtime_ns
    ex.export("mobifall", "test", out, card, root=fake_root, quiet=True)
    assert (out / fol["file"]).stat().st_mtime_ns == mtime


def test_export_sisfall_uses_the_50hz_row_clock_and_the_split(fake_root: Path, tmp_path: Path):
    card = _card(tmp_path)
    out = tmp_path / "sf"
    ex.export("sisfall", "test", out, card, root=fake_root, quiet=True)
    labels = {r["activity"]: r for r in _labels(out)}
    assert set(labels) == {"F01", "D01"}  # SE01 is a train subject
    assert int(labels["F01"]["impact_t_ns"]) == 300 * DT_NS
    rows = (out / labels["F01"]["file"]).read_text().splitlines()[1:]
    assert rows[0].startswith("0,acc,") and rows[1].startswith("0,gyro,") and rows[2].startswith("20000000,acc,")
    ex.export("sisfall", "all", tmp_path / "sf-all", card, root=fake_root, quiet=True)
    allr = _labels(tmp_path / "sf-all")
    assert {r["subject"] for r in allr} == {"sisfall:SA01", "sisfall:SE01"}
    assert [r["age_group"] for r in allr if r["subject"] == "sisfall:SE01"] == ["elderly"]


def _meta():
    return {"window_frames": 100, "band": [40, 80], "trigger_g": 1.95, "thresholds": {"full": 0.8}}


def _win(end_s: float, peak: float, score, phase: str):
    return [int(end_s * 1e9), peak, score, phase]


def test_explain_miss_names_the_stage_that_failed():
    # impact at 10 s: windows ending 10.4 s .. 11.18 s hold it in their band
    base = {"file": "f.csv", "activity": "F01", "model": "full", "impact_t_ns": 10_000_000_000, "events": []}
    r = dict(base, windows=[_win(9.5, 1.0, None, "idle"), _win(10.5, 1.5, None, "idle"), _win(11.0, 1.6, None, "idle")])
    assert explain_miss(r, _meta())["code"] == "trigger"
    r = dict(base, windows=[_win(9.5, 1.0, None, "idle"), _win(10.5, 2.5, 0.3, "idle"), _win(11.0, 2.5, 0.5, "idle")])
    x = explain_miss(r, _meta())
    assert x["code"] == "model" and x["max_score"] == 0.5
    r = dict(base, windows=[_win(9.5, 1.0, None, "idle"), _win(10.5, 2.5, 0.9, "confirming"), _win(11.0, 2.5, None, "confirming")])
    assert explain_miss(r, _meta())["code"] == "post_check"
    r = dict(base, windows=[_win(9.5, 2.5, None, "alerting"), _win(10.5, 2.5, None, "alerting")])
    r["events"] = [{"kind": "fall", "impact_t_ns": 7_000_000_000, "confirmed_t_ns": 9_500_000_000}]
    assert explain_miss(r, _meta())["code"] == "blocked"
    r = dict(base, windows=[_win(10.5, 2.5, 0.9, "confirming")])
    r["events"] = [{"kind": "fall", "impact_t_ns": 12_000_000_000, "confirmed_t_ns": 14_500_000_000, "peak_g": 3.0}]
    assert explain_miss(r, _meta())["code"] == "time"


@pytest.mark.skipif(not (BIN.exists() and LIB.exists()), reason="needs target/release/guardian and libLiteRt.so")
def test_guardian_eval_and_report_on_exported_recordings(fake_root: Path, tmp_path: Path):
    card = _card(tmp_path)
    labels = []
    for d in ("mobifall", "sisfall"):
        ex.export(d, "all", tmp_path / d, card, root=fake_root, quiet=True)
        labels += ["--labels", str(tmp_path / d / "labels.csv")]
    env = dict(os.environ, GUARDIAN_LITERT_LIB=str(LIB))
    subprocess.run([str(BIN), "eval", *labels, "--out", str(tmp_path / "engine")], check=True, env=env, capture_output=True)
    m = json.loads((tmp_path / "engine" / "metrics.json").read_text())
    for model in ("full", "acc_only"):
        g = m["models"][model]["groups"]
        assert g["overall"]["fall_trials"] == 2 and g["overall"]["adl"]["trials"] == 3
        assert g["sisfall_elderly"]["adl"]["trials"] == 1
        assert [u["subject"] for u in m["models"][model]["unreadable"]] == ["mobifall:sub2"]
        assert abs(g["mobifall"]["adl_long"]["hours"] - g["mobifall"]["adl"]["hours"]) < 1e-12  # WAL is long
    rep = report([tmp_path / "engine"], tmp_path / "report")
    md = (tmp_path / "report" / "report.md").read_text()
    assert "SDL_sub2_1" in md and "Unreadable" in md
    assert (tmp_path / "report" / "latency.png").exists() or not m["models"]["full"]["groups"]["overall"]["latency"]["n"]
    misses = rep["evaluations"][0]["models"]["full"]["misses"]
    assert len(misses) == 2 - m["models"]["full"]["groups"]["overall"]["falls_caught"]


def test_a_miss_next_to_an_alarm_at_another_peak_says_so():
    base = {"file": "f.csv", "activity": "F05", "model": "full", "impact_t_ns": 10_000_000_000}
    r = dict(base, windows=[_win(9.5, 1.0, None, "idle"), _win(10.5, 4.0, 0.1, "idle"), _win(11.0, 4.0, 0.2, "idle")])
    r["events"] = [{"kind": "fall", "impact_t_ns": 11_800_000_000, "confirmed_t_ns": 14_300_000_000, "peak_g": 3.9}]
    x = explain_miss(r, _meta())
    assert x["code"] == "model" and x["alarm_near"] and "+1.80 s" in x["reason"] and "4.3 s after" in x["reason"]

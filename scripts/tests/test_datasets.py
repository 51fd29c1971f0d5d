"""Readers on small files written by the test."""

import math

import numpy as np
import pytest

from guardian_train import datasets as ds
from guardian_train.__main__ import main as cli_main

MF_HEADER = """#Acceleration force along the x y z axes (including gravity).
#timestamp(ns),x,y,z(m/s^2)
#Activity: 10 - FOL - Fall forward lying - 10s
#Subject ID: 3
##########################################


@DATA
"""


def write_mobifall(root, subj=3, code="FOL", kind="FALLS", trial=1):
    d = root / "mobifall-v2" / f"sub{subj}" / kind / code
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{code}_acc_{subj}_{trial}.txt").write_text(
        MF_HEADER + "1000000000, 0.5, -9.5, 1.25\n1000011000, 0.6, -9.4, 1.0\n1000011000, 0.6, -9.4, 1.0\n"
    )
    (d / f"{code}_gyro_{subj}_{trial}.txt").write_text(MF_HEADER + "1000000500, 0.01, 0.02, 0.03\n1000005500, 0.02, 0.03, 0.04\n")
    (d / f"{code}_ori_{subj}_{trial}.txt").write_text(MF_HEADER + "1000000500, 1, 2, 3\n")


def test_mobifall_reader(tmp_path):
    write_mobifall(tmp_path)
    write_mobifall(tmp_path, subj=4, code="WAL", kind="ADL")
    trials = ds.list_mobifall(tmp_path)
    assert [(t.subject, t.activity, t.trial, t.is_fall) for t in trials] == [
        ("mobifall:sub3", "FOL", 1, True),
        ("mobifall:sub4", "WAL", 1, False),
    ]
    assert trials[0].dataset == "mobifall" and trials[0].age_group == "adult" and len(trials[0].paths) == 2
    raw = ds.read_trial(trials[0])
    assert raw.acc_t.tolist() == [1000000000, 1000011000, 1000011000]  # duplicates kept for the ingest rules
    assert raw.acc_t.dtype == np.int64
    np.testing.assert_allclose(raw.acc_v[0], [0.5, -9.5, 1.25])
    np.testing.assert_allclose(raw.gyro_v[1], [0.02, 0.03, 0.04])


def test_sisfall_50hz_and_200hz_reader(tmp_path):
    for name in ("sisfall-50hz", "sisfall-200hz-sample"):
        d = tmp_path / name / "SE06"
        d.mkdir(parents=True)
        (d / "F01_SE06_R02.txt").write_text("  256,-512,  0, 16,-16, 0, 1, 2, 3;\n  0,0,0,0,0,0,0,0,0;\n")
        (d / "D01_SE06_R01.txt").write_text("1,2,3,4,5,6,7,8,9\n")  # no trailing ';' (like SA01 D01/D02)
    trials = ds.list_sisfall(tmp_path, "sisfall-50hz")
    f = next(t for t in trials if t.activity == "F01")
    assert f.subject == "sisfall:SE06" and f.trial == 2 and f.is_fall and f.age_group == "elderly"
    raw = ds.read_trial(f)
    g = 9.80665
    # ADXL345: 2*16/2^13 g per count -> 256 counts = 1 g
    np.testing.assert_allclose(raw.acc_v[0], [g, -2 * g, 0.0])
    # ITG3200: 2*2000/2^16 deg/s per count -> 16 counts = 0.9765625 deg/s
    np.testing.assert_allclose(raw.gyro_v[0], [0.9765625 * math.pi / 180, -0.9765625 * math.pi / 180, 0])
    assert raw.acc_t.tolist() == [0, 20_000_000]
    d = next(t for t in trials if t.activity == "D01")
    assert not d.is_fall and ds.read_trial(d).acc_v.shape == (1, 3)
    t200 = ds.list_sisfall(tmp_path, "sisfall-200hz-sample")[1]
    assert ds.read_trial(t200).acc_t.tolist() == [0, 5_000_000]


def test_sisfall_malformed_row(tmp_path):
    d = tmp_path / "sisfall-50hz" / "SA01"
    d.mkdir(parents=True)
    (d / "D01_SA01_R01.txt").write_text("1,2,3,4,5,6,7,8,9;\n1,2,3;\n")
    with pytest.raises(ds.RecordingFormatError, match=":2:"):
        ds.read_trial(ds.list_sisfall(tmp_path)[0])


def test_missing_dataset_names_layout(tmp_path):
    with pytest.raises(ds.DatasetError, match="mobifall-v2/subN"):
        ds.list_mobifall(tmp_path)


def test_recording_reader(tmp_path):
    p = tmp_path / "rec.csv"
    p.write_text(
        "# a comment\nt_ns,sensor,x,y,z\n100,acc,0.5,-1,9.81\n# another\n105,gyro,0.1,0.2,0.3\n110,acc,NaN,0,0\n\n-5,gyro,1e-3,0,0\n"
    )
    raw = ds.read_recording(p)
    assert raw.acc_t.tolist() == [100, 110] and raw.gyro_t.tolist() == [105, -5]
    assert math.isnan(raw.acc_v[1, 0])
    np.testing.assert_allclose(raw.gyro_v[1], [1e-3, 0, 0])


@pytest.mark.parametrize(
    "bad, line",
    [
        ("t_ns,sensor,x,y,z\n100,acc,1,2,3\n101,acc,1,2\n", 3),
        ("100,acc,1,2,3\n# c\n1x,acc,1,2,3\n", 3),
        ("100,acc,1,2,3\n101,mag,1,2,3\n", 2),
        ("100,acc,1,2,abc\n", 1),
        ("100,acc,1,2,3\nt_ns,sensor,x,y,z\n", 2),  # header only allowed before data
    ],
)
def test_recording_malformed_names_line(tmp_path, bad, line):
    p = tmp_path / "bad.csv"
    p.write_text(bad)
    with pytest.raises(ds.RecordingFormatError, match=rf"bad.csv:{line}:"):
        ds.read_recording(p)


def test_frames_cli(tmp_path, capsys):
    rows = []
    for i in range(300):
        rows.append((1_000_000_000 + i * 11_000_000, "acc", 0.0, 0.0, 9.81))
        rows.append((1_000_000_000 + i * 11_000_000 + 3_000_000, "gyro", 0.1, 0.0, 0.0))
    p = tmp_path / "r.csv"
    ds.write_recording(p, rows)
    assert cli_main(["frames", str(p), "--mode", "acc_only", "--hop", "25"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "k,t_ns,window_start,acc_x,acc_y,acc_z,acc_norm"
    k = [int(r.split(",")[0]) for r in out[1:]]
    assert k[0] == 50 and k == list(range(50, 50 + len(k)))
    assert [int(r.split(",")[2]) for r in out[1:]].count(1) == (len(k) - 100) // 25 + 1

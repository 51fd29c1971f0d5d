"""Cross-language preprocessing parity: Rust `guardian frames` vs Python `guardian_train frames`.

Both print `k,t_ns,window_start,<channels>,q_<channels>` for the same recording, with the shipped
card's input quantization; docs/PREPROCESSING.md section 10: same k list, same window starts, the
same features to the bit and the same int8 model input.

Rust binary: env GUARDIAN_BIN, default <repo>/target/release/guardian (build it first, e.g. the
Makefile's build step). Python: <repo>/.venv/bin/python (or the current interpreter) with
PYTHONPATH=<repo>/scripts.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("GUARDIAN_BIN", str(REPO / "target" / "release" / "guardian")))
CARD = json.loads((REPO / "models" / "model_card.json").read_text())
MS = 1_000_000


def _python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def make_recording(path: Path, seed: int = 7) -> dict:
    """Jittery ~90 Hz acc and ~200 Hz gyro on one clock, with a 1.5 s gap (both sensors), duplicates,
    a small reorder, a clock reset (both sensors, back-to-back) and a NaN row."""
    rng = np.random.default_rng(seed)
    t0 = 1_234_567_891_234  # off-grid start

    def stream(t_start, t_end, period_ns, jitter_ns):
        ts, t = [], t_start
        while t < t_end:
            ts.append(t)
            t += int(period_ns + rng.integers(-jitter_ns, jitter_ns + 1))
        return np.array(ts, np.int64)

    def acc_at(t):
        s = (t - t0) / 1e9
        x = 1.5 * np.sin(2 * np.pi * 1.3 * s) + rng.normal(0, 0.05, t.shape)
        y = 9.0 + 0.8 * np.cos(2 * np.pi * 0.7 * s)
        z = 2.0 * np.sin(2 * np.pi * 2.1 * s)
        impact = 35.0 * np.exp(-(((s - 2.5) / 0.03) ** 2))  # a fall-like spike, clipped by the features
        return np.stack([x + impact, y, z - impact], 1)

    def gyro_at(t):
        s = (t - t0) / 1e9
        return np.stack([3 * np.sin(2 * np.pi * 0.9 * s), -12 * np.exp(-(((s - 2.5) / 0.1) ** 2)), 0.2 * np.cos(s)], 1)

    rows = []  # (arrival order key, t_ns, sensor, x, y, z)

    def add(ts, sensor, fn, order_offset=0.0):
        vals = fn(ts)
        for t, v in zip(ts, vals):
            rows.append([float(t) + order_offset, int(t), sensor, *map(float, v)])

    # epoch 0: 0-4 s, gap 1.5 s, 5.5-9 s; both streams end at the same instant before the reset
    end0 = t0 + 9_000 * MS
    for a, b in ((t0, t0 + 4_000 * MS), (t0 + 5_500 * MS, end0)):
        add(stream(a, b, 11.1 * MS, 3 * MS), "acc", acc_at)
        add(stream(a + 2 * MS, b, 5 * MS, 1 * MS), "gyro", gyro_at)
    add(np.array([end0]), "acc", acc_at)
    add(np.array([end0]), "gyro", gyro_at)
    rows.sort(key=lambda r: r[0])
    # duplicates (same t twice), a small reorder (30 ms back) and a NaN row, at chosen places
    out = []
    n_acc = 0
    for r in rows:
        out.append(r)
        if r[2] == "acc":
            n_acc += 1
            if n_acc in (50, 51, 400):
                out.append(list(r))  # duplicate
            if n_acc == 120:
                out.append([r[0], r[1] - 30 * MS, "acc", 0.0, 0.0, 0.0])  # reorder: dropped
            if n_acc == 200:
                out.append([r[0], r[1] + 1 * MS, "acc", float("nan"), 1.0, 1.0])  # rejected
        elif r[1] % 7 == 0:
            out.append(list(r))  # occasional gyro duplicate
    # epoch 1 after a clock reset of both sensors (new clock starting at 0.31 s)
    t1 = 310 * MS + 3
    rest = []
    for sensor, per, jit, fn in (("acc", 11.1 * MS, 3 * MS, acc_at), ("gyro", 5 * MS, 1 * MS, gyro_at)):
        ts = stream(t1, t1 + 4_500 * MS, per, jit)
        vals = fn(ts + (t0 - t1))
        rest += [[float(t), int(t), sensor, *map(float, v)] for t, v in zip(ts, vals)]
    rest.sort(key=lambda r: r[0])
    out += rest
    with open(path, "w") as f:
        f.write("t_ns,sensor,x,y,z\n")
        f.write("# parity recording: jittery acc ~90 Hz, gyro ~200 Hz, gap, duplicates, reorder, reset, NaN\n")
        for r in out:
            x, y, z = r[3:]
            xs = "NaN" if math.isnan(x) else repr(x)
            f.write(f"{r[1]},{r[2]},{xs},{y!r},{z!r}\n")
    return {"rows": len(out)}


def parse(csv_text: str):
    """-> header, k, window starts, features (float), quantized features (int)."""
    lines = [ln for ln in csv_text.strip().splitlines() if ln.strip()]
    header = lines[0].split(",")
    c = sum(1 for h in header if h.startswith("q_"))
    k, starts, feats, q = [], [], [], []
    for ln in lines[1:]:
        p = ln.split(",")
        k.append(int(p[0]))
        assert int(p[1]) == int(p[0]) * 20_000_000
        starts.append(int(p[2]))
        feats.append([float(v) for v in p[3 : len(p) - c]])
        q.append([int(v) for v in p[len(p) - c :]])
    return header, np.array(k), np.array(starts), np.array(feats), np.array(q)


def quant_args(mode):
    spec = CARD["models"]["full" if mode == "full" else "acc_only"]["input"]
    return ["--scale", repr(spec["scale"]), "--zero-point", str(spec["zero_point"])]


def run_python(path, mode, hop):
    env = dict(os.environ, PYTHONPATH=str(REPO / "scripts"))
    r = subprocess.run([_python(), "-m", "guardian_train", "frames", str(path), "--mode", mode, "--hop", str(hop),
                        *quant_args(mode)], capture_output=True, text=True, env=env, check=True)
    return r.stdout


def run_rust(path, mode, hop):
    r = subprocess.run([str(BIN), "frames", str(path), "--mode", mode, "--hop", str(hop), *quant_args(mode)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, f"guardian frames failed ({r.returncode}): {r.stderr}"
    return r.stdout


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    p = tmp_path_factory.mktemp("parity") / "recording.csv"
    make_recording(p)
    return p


def test_python_side_sanity(recording):
    """Independent of Rust: the recording exercises every rule and yields windows."""
    h, k, starts, feats, q = parse(run_python(recording, "full", 25))
    assert h[:3] == ["k", "t_ns", "window_start"] and len(h) == 19
    assert q.shape == feats.shape and q.min() >= -128 and q.max() <= 127 and len(np.unique(q)) > 50
    assert starts.sum() >= 10
    assert (np.diff(k) < 0).sum() == 1  # one clock reset -> k restarts once
    assert (np.abs(feats) <= 1).all() and (np.abs(feats) == 1).any()  # the impact is clipped
    from guardian_train import preprocessing as pp
    from guardian_train.datasets import read_recording

    raw = read_recording(recording)
    _, c = pp.process(raw.acc_t, raw.acc_v, raw.gyro_t, raw.gyro_v, "full")
    for key in ("duplicates", "reordered", "resets", "gaps", "non_finite"):
        assert c["acc"][key] >= 1, (key, c)


@pytest.mark.parametrize("mode,hop", [("full", 25), ("acc_only", 25), ("full", 10)])
def test_parity(recording, mode, hop):
    if not BIN.exists():
        pytest.skip(f"Rust CLI not found at {BIN} (build it: cargo build --release -p guardian-cli, or set GUARDIAN_BIN)")
    hp, kp, sp, fp, qp = parse(run_python(recording, mode, hop))
    hr, kr, sr, fr, qr = parse(run_rust(recording, mode, hop))
    assert hp == hr, (hp, hr)
    assert len(kp) == len(kr), f"frame count differs: python {len(kp)} rust {len(kr)}"
    assert (kp == kr).all(), f"first differing k at row {int(np.argmax(kp != kr))}"
    assert (sp == sr).all(), f"window starts differ at rows {np.flatnonzero(sp != sr)[:10]}"
    diff = np.abs(fp - fr)
    assert diff.max() == 0.0, f"max feature difference {diff.max():.3g} at {np.unravel_index(diff.argmax(), diff.shape)}"
    bad = np.argwhere(qp != qr)
    assert len(bad) == 0, f"{len(bad)} quantized values differ, first at (row, channel) {bad[0].tolist()}"

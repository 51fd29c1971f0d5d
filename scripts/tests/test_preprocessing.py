"""Preprocessing rules of docs/PREPROCESSING.md against hand-computed values."""

import math

import numpy as np
import pytest

from guardian_train import preprocessing as pp

MS = 1_000_000


def xyz(n, v=1.0):
    return np.full((n, 3), v, dtype=np.float64)


def test_accept_fast_path_single_segment():
    segs, c = pp.ingest([0, 10 * MS, 20 * MS], xyz(3))
    assert len(segs) == 1 and c.accepted == 3 and c.duplicates == 0


def test_r2_duplicate_dropped():
    segs, c = pp.ingest([0, 10 * MS, 10 * MS, 30 * MS], [[0, 0, 0], [1, 1, 1], [9, 9, 9], [3, 3, 3]])
    assert c.duplicates == 1 and c.accepted == 3
    assert segs[0].t.tolist() == [0, 10 * MS, 30 * MS]
    assert segs[0].v[1].tolist() == [1, 1, 1]  # the first of the duplicates is kept


def test_r3_small_reorder_dropped():
    segs, c = pp.ingest([0, 50 * MS, 40 * MS, 60 * MS], xyz(4))
    assert c.reordered == 1 and c.resets == 0 and len(segs) == 1
    assert segs[0].t.tolist() == [0, 50 * MS, 60 * MS]
    # exactly 100 ms back is still a reorder (last.t - 100 ms <= t)
    _, c = pp.ingest([200 * MS, 100 * MS], xyz(2))
    assert c.reordered == 1 and c.resets == 0


def test_r4_clock_reset_restarts_stream_and_epoch():
    segs, c = pp.ingest([1000 * MS, 1010 * MS, 500 * MS, 510 * MS], xyz(4))
    assert c.resets == 1 and c.accepted == 4
    assert [s.epoch for s in segs] == [0, 1]
    assert segs[1].t.tolist() == [500 * MS, 510 * MS]
    # 100 ms + 1 ns back is a reset
    _, c = pp.ingest([200 * MS, 100 * MS - 1], xyz(2))
    assert c.resets == 1


def test_r5_gap_restarts_without_interpolation():
    t = [0, 1000 * MS, 2000 * MS + 1]  # exactly 1 s is not a gap; 1 s + 1 ns is
    segs, c = pp.ingest(t, xyz(3))
    assert c.gaps == 1 and len(segs) == 2 and segs[1].epoch == 0
    g = pp.resample(t, [[0, 0, 0], [50, 50, 50], [99, 99, 99]])
    # segment 1: k = 0..50; segment 2 (single sample at 2 s + 1 ns): no grid instant -> nothing
    assert g.k.tolist() == list(range(0, 51))
    assert g.v[25, 0] == pytest.approx(25.0)


def test_r1_non_finite_rejected():
    v = [[0, 0, 0], [np.nan, 0, 0], [0, np.inf, 0], [1, 1, 1]]
    segs, c = pp.ingest([0, 5 * MS, 6 * MS, 20 * MS], v)
    assert c.non_finite == 2 and c.accepted == 2
    assert segs[0].t.tolist() == [0, 20 * MS]


def test_r1b_out_of_range_timestamps_rejected():
    lim = pp.MAX_ABS_T_NS
    t = [-(2**63), -lim, 1 - lim, 0, 20 * MS, lim - 1, lim, 2**63 - 1]
    segs, c = pp.ingest(t, [[1, 1, 1]] * len(t))
    assert c.out_of_range == 4 and c.accepted == 4
    assert [s.t.tolist() for s in segs] == [[1 - lim], [0, 20 * MS], [lim - 1]]  # gaps split them


def test_interpolation_fractions():
    # samples at 5 ms (v=0) and 45 ms (v=4): t_1 = 20 ms -> f = 15/40, t_2 = 40 ms -> f = 35/40
    k, v = pp.interpolate_segment(np.array([5 * MS, 45 * MS]), np.array([[0, 0, 0], [4, 8, -4]], np.float32))
    assert k.tolist() == [1, 2]
    np.testing.assert_allclose(v[0], [1.5, 3.0, -1.5])
    np.testing.assert_allclose(v[1], [3.5, 7.0, -3.5])
    assert v.dtype == np.float32


def test_first_sample_on_grid_is_emitted_and_no_extrapolation():
    k, v = pp.interpolate_segment(np.array([40 * MS, 50 * MS, 79 * MS]), np.array([[2, 2, 2], [3, 3, 3], [4, 4, 4]], np.float32))
    assert k.tolist() == [2, 3]  # 40 ms (exact first sample) and 60 ms; 80 ms is after the last sample
    assert v[0, 0] == 2.0
    assert v[1, 0] == pytest.approx(3 + (10 / 29))
    # first sample off-grid: grid instant before it is not emitted
    k, _ = pp.interpolate_segment(np.array([41 * MS, 61 * MS]), np.ones((2, 3), np.float32))
    assert k.tolist() == [3]


def test_negative_timestamps_use_floor_grid():
    k, v = pp.interpolate_segment(np.array([-30 * MS, -10 * MS]), np.array([[0, 0, 0], [2, 2, 2]], np.float32))
    assert k.tolist() == [-1]  # t_-1 = -20 ms
    assert v[0, 0] == pytest.approx(1.0)


def test_values_stored_as_f32():
    # 0.1 as f32 then interpolated in f64 and rounded to f32
    _, v = pp.interpolate_segment(np.array([0, 40 * MS]), np.array([[0.1, 0.1, 0.1], [0.1, 0.1, 0.1]], np.float32))
    assert v[0, 0] == np.float32(0.1)


def test_fusion_pairs_by_k_and_drops_unpaired():
    acc = pp.resample(np.arange(0, 6) * 20 * MS, xyz(6))  # k 0..5
    gyro = pp.resample(np.arange(2, 8) * 20 * MS, xyz(6, 2.0))  # k 2..7
    fr = pp.fuse(acc, gyro, "full")
    assert fr.k.tolist() == [2, 3, 4, 5]
    assert (fr.gyro == 2.0).all()
    fa = pp.fuse(acc, gyro, "acc_only")
    assert fa.k.tolist() == [0, 1, 2, 3, 4, 5] and fa.gyro is None


def test_fusion_restarts_on_reset():
    t = [0, 20 * MS, 40 * MS, 10 * MS, 30 * MS]  # reset back to 10 ms (more than 100 ms? no) -> reorder
    g = pp.resample(t, xyz(5))
    assert g.counters.reordered == 2
    t = [1000 * MS, 1020 * MS, 1040 * MS, 0, 20 * MS, 40 * MS]
    a = pp.resample(t, xyz(6))
    gy = pp.resample(t, xyz(6))
    fr = pp.fuse(a, gy, "full")
    assert fr.k.tolist() == [50, 51, 52, 0, 1, 2]
    assert fr.run.tolist() == [0, 0, 0, 1, 1, 1]


def test_window_alignment_and_gap():
    run = np.array([0] * 160 + [1] * 99 + [2] * 130)
    starts = pp.window_starts(run, 25)
    assert starts.tolist() == [0, 25, 50, 259, 284]
    assert pp.window_starts(run, 60).tolist() == [0, 60, 259]


def test_runs_break_on_missing_k():
    a = pp.resample(np.r_[np.arange(0, 120), np.arange(121, 300)] * 20 * MS, xyz(299))
    # the missing sample is interpolated over (no gap); remove frames explicitly instead
    fr = pp.fuse(a, a, "full")
    assert fr.run.max() == 0
    keep = fr.k != 130
    ep = np.zeros(keep.sum(), np.int64)
    run = pp._runs(ep, fr.k[keep])
    assert run.max() == 1 and (run == 0).sum() == 130


def test_features_channel_order_and_clipping():
    acc = np.array([[9.80665, -50.0, 0.0]], np.float32)
    gyro = np.array([[3.0, 4.0, -20.0]], np.float32)
    f = pp.features_from_values(acc, gyro)[0]
    a = 4 * 9.80665
    assert f[0] == pytest.approx(float(np.float32(9.80665)) / a)
    assert f[1] == -1.0 and f[2] == 0.0
    assert f[3] == pytest.approx(min(1.0, math.sqrt(float(np.float32(9.80665)) ** 2 + 2500) / a))
    assert f[4] == pytest.approx(0.3) and f[5] == pytest.approx(0.4) and f[6] == -1.0
    assert f[7] == 1.0  # norm sqrt(9 + 16 + 400) / 10 > 1 -> clipped; computed before clipping
    assert pp.features_from_values(acc, None).shape == (1, 4)


def test_impact_rule_earliest_max():
    acc = np.zeros((10, 3), np.float32)
    acc[3] = [0, 0, 30]
    acc[7] = [30, 0, 0]
    fr = pp.Frames(np.arange(10), acc, None, np.zeros(10, np.int64), "acc_only")
    assert pp.impact_index(fr) == 3


def test_window_labels_band():
    starts = np.array([50, 51, 70, 71, 110, 111, 151, 0])
    lab = pp.window_labels(starts, 150)
    # rel = 150 - start: 100 ADL, 99 ambiguous, 80 ambiguous, 79 fall, 40 fall, 39 ambiguous, -1 ADL, 150 ADL
    assert lab.tolist() == [0, -1, -1, 1, 1, -1, 0, 0]
    assert pp.window_labels(starts, None).tolist() == [0] * 8


def test_band_max_g():
    w = np.zeros((1, 100, 3), np.float32)
    w[0, 39] = [0, 0, 100]
    w[0, 50] = [0, 0, 2 * 9.80665]
    assert pp.band_max_g(w)[0] == pytest.approx(2.0, abs=1e-6)


def test_quantization_round_half_away_from_zero():
    q = pp.quantize(np.array([0.25, -0.25, 0.45, 20.0, -20.0, 0.0]), 0.1, -1)
    # 2.5 -> 3, -2.5 -> -3, 4.5 -> 5 (not banker's rounding), then + zero point, clamped
    assert q.tolist() == [2, -4, 4, 127, -128, -1]
    assert pp.dequantize(np.int8(-128), 1 / 256, -128) == 0.0


def test_frames_csv_format():
    t = np.arange(0, 130) * 20 * MS + 3 * MS
    a = pp.resample(t, xyz(130))
    g = pp.resample(t, xyz(130, 0.5))
    fr = pp.fuse(a, g, "full")
    lines = pp.frames_csv(fr, 25).splitlines()
    assert lines[0] == "k,t_ns,window_start,acc_x,acc_y,acc_z,acc_norm,gyro_x,gyro_y,gyro_z,gyro_norm"
    assert lines[1].startswith("1,20000000,1,")
    assert sum(int(line.split(",")[2]) for line in lines[1:]) == 2  # 129 frames: starts 0, 25
    assert float(lines[1].split(",")[7]) == pytest.approx(0.05)

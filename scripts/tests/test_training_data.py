"""Hard-negative window selection and the validation threshold rule, on synthetic frames."""

import numpy as np

from guardian_train import preprocessing as pp
from guardian_train.data import TrialFrames, build_windows, gated_adl_windows
from guardian_train.datasets import Trial
from guardian_train.metrics import choose_threshold_recall


def _trial(n, spikes, is_fall=False, name="D13"):
    acc = np.zeros((n, 3), np.float32)
    acc[:, 2] = pp.G
    for s in spikes:
        acc[s, 2] = 3.0 * pp.G
    fr = pp.Frames(np.arange(n, dtype=np.int64), acc, np.zeros((n, 3), np.float32), np.zeros(n, np.int64), "full")
    t = Trial("sisfall", "sisfall:SA01", name, 1, is_fall, "adult")
    imp = pp.impact_index(fr) if is_fall else None
    return TrialFrames(t, {"full": fr}, {"full": imp}, {})


def test_gated_adl_windows_all_gated_starts_and_cap():
    tfs = [_trial(300, [150]), _trial(300, [150], is_fall=True, name="F01"), _trial(3000, list(range(150, 2900, 100)), name="D03")]
    ws = gated_adl_windows(tfs, [0, 1, 2], "full", 1.8, hop=5, per_trial_cap=12, rng=np.random.default_rng(0))
    # trial 0: starts s with 150 - s in [40, 80) at hop 5 -> s in {75, 80, ..., 110}: 8 windows, all kept
    first = ws.trial_idx == 0
    assert first.sum() == 8
    assert (ws.band_max_g >= 1.8).all() and (ws.label == pp.LABEL_ADL).all()
    assert not (ws.trial_idx == 1).any()  # fall trials give no hard negatives
    assert (ws.trial_idx == 2).sum() == 12  # capped


def test_longer_windows_keep_the_band_and_add_frames_after_it():
    tfs = [_trial(300, [150], is_fall=True, name="F01")]
    ws = build_windows(tfs, [0], "full", fall_hop=1, rng=np.random.default_rng(0), window=150)
    falls = ws.label == pp.LABEL_FALL
    assert ws.acc.shape[1:] == (150, 3)
    # every start s with 150 - s in [40, 80) and s + 150 <= 300: s in {71, ..., 110}, all 40
    assert falls.sum() == 40
    assert np.allclose(ws.band_max_g[falls], 3.0)  # the impact lies in every fall window's band


def test_choose_threshold_recall():
    y = np.array([1] * 100 + [0] * 5)
    s = np.concatenate([np.linspace(0.01, 1.0, 100), np.full(5, 0.5)])
    t = choose_threshold_recall(y, s, 0.99)
    assert ((s[y == 1] >= t).mean()) >= 0.99
    assert ((s[y == 1] >= np.nextafter(t, 2)).mean()) < 0.99  # the largest such threshold
    assert abs(t - 0.02) < 1e-9

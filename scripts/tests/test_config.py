"""The training settings: named overrides for cross-validated experiments."""

from __future__ import annotations

import numpy as np
import pytest

from guardian_train import model as M
from guardian_train.config import SEED, Config
from guardian_train.data import WindowSet
from guardian_train.fit_mode import validation_loss_set


def test_an_override_changes_only_the_named_setting() -> None:
    base = Config.for_run(quick=False, reduced=True, fixed_split=True)
    cfg = Config.for_run(quick=False, reduced=True, fixed_split=True, overrides={"gated_adl_weight_full": 8, "gated_per_trial_cap": 24})
    assert (cfg.gated_adl_weight_full, cfg.gated_per_trial_cap) == (8, 24)
    assert {k: v for k, v in cfg.__dict__.items() if k not in ("gated_adl_weight_full", "gated_per_trial_cap")} == {
        k: v for k, v in base.__dict__.items() if k not in ("gated_adl_weight_full", "gated_per_trial_cap")}
    assert base.gated_adl_weight_full == 4.0  # the copy, not the default, changed


@pytest.mark.parametrize("overrides, message", [
    ({"gated_adl_weight": 8}, "unknown training setting 'gated_adl_weight'"),
    ({"reduced": False}, "unknown training setting 'reduced'"),
    ({"gated_per_trial_cap": 2.5}, "expected a int"),
    ({"gated_adl_weight_full": "8"}, "expected a float"),
    ({"pre_epochs": True}, "expected a int"),
    ({"window_frames": 79}, "must hold the band"),
    ({"window_frames": 157}, "at most 156"),
])
def test_an_unknown_setting_or_a_wrong_type_is_refused(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Config.make_reduced().with_overrides(overrides)


def _windows(n: int = 400) -> WindowSet:
    rng = np.random.default_rng(0)
    acc = rng.normal(size=(n, 100, 3)).astype(np.float32)
    label = (np.arange(n) % 10 == 0).astype(np.int64)
    return WindowSet(acc, np.zeros_like(acc), label, np.arange(n), np.ones(n))


def test_the_seed_setting_drives_the_training_randomness_and_defaults_to_seed() -> None:
    assert Config.make(quick=False).seed == SEED
    va = _windows()
    base = Config.for_run(quick=False, reduced=True, fixed_split=True)
    other = base.with_overrides({"seed": SEED + 1})
    x0, y0 = validation_loss_set(va, "acc_only", base)
    x1, y1 = validation_loss_set(va, "acc_only", other)
    x2, _ = validation_loss_set(va, "acc_only", base)
    assert np.array_equal(x0, x2)  # the same seed, the same loss set
    assert x0.shape != x1.shape or not np.array_equal(x0, x1)  # another seed: another subset or rotations
    s0 = M.AugSequence(va, "acc_only", 64, base.seed)[0][0]
    s1 = M.AugSequence(va, "acc_only", 64, other.seed)[0][0]
    assert not np.array_equal(s0, s1)

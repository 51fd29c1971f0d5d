"""The training settings: named overrides for cross-validated experiments."""

from __future__ import annotations

import pytest

from guardian_train.config import Config


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

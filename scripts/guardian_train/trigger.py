"""The impact trigger: the rule that chooses `trigger_g` from the train+validation fall impacts."""

from __future__ import annotations

import numpy as np

from . import preprocessing as pp

TRIGGER_STEP_G = 0.05
TRIGGER_MAX_G = 2.0
TRIGGER_COVERAGE = 0.995
TRIGGER_RULE = (f"largest multiple of {TRIGGER_STEP_G} g <= {TRIGGER_MAX_G} g reached by >= {TRIGGER_COVERAGE*100:.1f}% "
                "of the train+validation fall impacts (impact = frame of largest |a|, full-mode frames)")


def trigger_rule(impacts_g: np.ndarray) -> float:
    """Largest multiple of 0.05 g <= 2.0 g that >= 99.5% of the train+val fall impacts reach."""
    best = TRIGGER_STEP_G
    for m in range(1, int(round(TRIGGER_MAX_G / TRIGGER_STEP_G)) + 1):
        t = round(m * TRIGGER_STEP_G, 2)
        if (impacts_g >= t).mean() >= TRIGGER_COVERAGE:
            best = t
    return best


def impact_g(tfs, idx, mode="full") -> np.ndarray:
    """Peak |a| in g at each fall trial's impact: `mode` frames, acc_only frames where a trial has no `mode`."""
    out = []
    for i in idx:
        tf = tfs[i]
        if tf.trial.is_fall:
            m = mode if mode in tf.frames else "acc_only"
            out.append(float(pp.acc_magnitude(tf.frames[m].acc[tf.impact[m]]) / pp.G))
    return np.asarray(out)


def choose_trigger(tfs, sidx: dict[str, list[int]]) -> dict:
    """`trigger_g` from the train+validation falls, and how many falls of each side it misses."""
    trig_imp = impact_g(tfs, sidx["train"] + sidx["val"])
    trigger_g = trigger_rule(trig_imp)
    test_imp = impact_g(tfs, sidx["test"])
    return {
        "trigger_g": trigger_g,
        "rule": TRIGGER_RULE,
        "n_train_val_falls": int(len(trig_imp)),
        "train_val_falls_below": int((trig_imp < trigger_g).sum()),
        "n_test_falls": int(len(test_imp)),
        "test_falls_missed": int((test_imp < trigger_g).sum()),
    }

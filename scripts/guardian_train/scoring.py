"""Scores to thresholds and metrics: event-level threshold data, per-activity and trigger-gated metrics."""

from __future__ import annotations

import numpy as np

from .data import WindowSet
from .metrics import binary_metrics

UNSCORED = 1.0 / 256  # one step of the int8 output: a best score below it is no score at all


def trial_best(ws: WindowSet, scores) -> tuple[np.ndarray, np.ndarray]:
    """Event-level threshold data: one row per fall trial that the model scores at all (label 1,
    its best fall-window score); the engine needs one confirming window per fall.

    A trial whose best window stays below one output step is left out: no threshold catches it,
    and counting it drives a recall target out of reach and the threshold to 0. That happens
    when the labelled impact is not the fall's (a trip while jogging stronger than the landing)."""
    fall = ws.label == 1
    trials = np.unique(ws.trial_idx[fall])
    best = np.array([scores[fall & (ws.trial_idx == t)].max() for t in trials])
    best = best[best >= UNSCORED]
    return np.ones(best.shape[0], np.int64), best


def per_activity(tfs, ws: WindowSet, scores, thr) -> dict:
    res = {}
    acts = np.array([tfs[i].trial.activity for i in ws.trial_idx])
    pred = scores >= thr
    for a in sorted(set(acts.tolist())):
        m = acts == a
        f = m & (ws.label == 1)
        d = m & (ws.label == 0)
        res[a] = {
            "dataset": tfs[int(ws.trial_idx[m][0])].trial.dataset,
            "n_fall_windows": int(f.sum()),
            "fall_recall": float(pred[f].mean()) if f.any() else None,
            "n_adl_windows": int(d.sum()),
            "adl_specificity": float((~pred[d]).mean()) if d.any() else None,
        }
    return res


def add_gated_metrics(mode_result: dict, trigger_g: float) -> None:
    """Adds to each model of a mode's result its test metrics on the trigger-gated windows
    (`test_gated`) and over all test windows with an ungated window counted as ADL (`test_system`)."""
    te = mode_result["test_windows"]
    gate = te.band_max_g >= trigger_g
    for mres in mode_result["models"].values():
        s = mres["_scores"]
        mres["test_gated"] = binary_metrics(te.label[gate], s[gate], mres["threshold"])
        s_sys = np.where(gate, s, 0.0)
        mres["test_system"] = binary_metrics(te.label, s_sys, mres["threshold"])

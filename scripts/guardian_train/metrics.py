"""Window-level metrics (no sklearn)."""

from __future__ import annotations

import numpy as np


def roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    y = np.asarray(y).astype(bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    # rank-based (Mann-Whitney) with average ranks for ties
    order = np.argsort(s, kind="mergesort")
    ss = np.asarray(s)[order]
    ranks = np.empty(len(ss), np.float64)
    i = 0
    while i < len(ss):
        j = i
        while j + 1 < len(ss) and ss[j + 1] == ss[i]:
            j += 1
        ranks[i : j + 1] = (i + j) / 2.0 + 1
        i = j + 1
    r = np.empty_like(ranks)
    r[order] = ranks
    return float((r[y].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def roc_curve(y, s):
    y = np.asarray(y).astype(bool)
    th = np.unique(s)[::-1]
    tpr = [0.0] + [float((s[y] >= t).mean()) if y.any() else 0.0 for t in th]
    fpr = [0.0] + [float((s[~y] >= t).mean()) if (~y).any() else 0.0 for t in th]
    return np.array(fpr), np.array(tpr)


def binary_metrics(y: np.ndarray, s: np.ndarray, thr: float) -> dict:
    y = np.asarray(y).astype(bool)
    p = np.asarray(s) >= thr
    tp = int((p & y).sum())
    tn = int((~p & ~y).sum())
    fp = int((p & ~y).sum())
    fn = int((~p & y).sum())
    n = len(y)
    rec = tp / (tp + fn) if tp + fn else float("nan")
    spec = tn / (tn + fp) if tn + fp else float("nan")
    prec = tp / (tp + fp) if tp + fp else float("nan")
    f1 = 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else float("nan")
    return {
        "n_windows": n,
        "n_fall": int(y.sum()),
        "n_adl": int((~y).sum()),
        "accuracy": (tp + tn) / n if n else float("nan"),
        "fall_recall": rec,
        "adl_specificity": spec,
        "balanced_accuracy": (rec + spec) / 2,
        "precision": prec,
        "f1": f1,
        "roc_auc": roc_auc(y, s),
        "tp": tp,
        "tn": tn,
        "fp": fp,
        "fn": fn,
    }


def choose_threshold(y, s) -> float:
    """Validation-only rule: maximise balanced accuracy over the observed scores; ties -> the
    candidate closest to 0.5."""
    y = np.asarray(y).astype(bool)
    cands = np.unique(np.concatenate([np.asarray(s), [0.5]]))
    best, best_t = -1.0, 0.5
    for t in cands:
        p = s >= t
        rec = (p & y).sum() / max(y.sum(), 1)
        spec = (~p & ~y).sum() / max((~y).sum(), 1)
        ba = (rec + spec) / 2
        if ba > best + 1e-12 or (abs(ba - best) <= 1e-12 and abs(t - 0.5) < abs(best_t - 0.5)):
            best, best_t = ba, float(t)
    return best_t


def choose_threshold_recall(y, s, min_recall: float) -> float:
    """Validation-only rule: the largest threshold whose fall recall is still >= min_recall (a fall window
    counts as detected when score >= threshold). Falls back to max balanced accuracy without falls."""
    y = np.asarray(y).astype(bool)
    s = np.asarray(s, dtype=np.float64)
    if not y.any():
        return choose_threshold(y, s)
    fs = np.sort(s[y])[::-1]  # descending
    k = int(np.ceil(min_recall * fs.shape[0]))  # need >= k fall windows at or above the threshold
    return float(fs[max(k, 1) - 1])

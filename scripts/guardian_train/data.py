"""Load trials, run the preprocessing, cache the grid values and build labelled windows."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import preprocessing as pp
from .datasets import Trial, list_mobifall, list_sisfall, list_umafall, read_trial, trials_digest


@dataclass
class TrialFrames:
    trial: Trial
    frames: dict  # mode -> pp.Frames; accelerometer-only recordings (UMAFall) have only "acc_only"
    impact: dict  # mode -> frame index (fall trials) or None
    counters: dict


ACC_ONLY_DATASETS = ("umafall",)  # recorded without a gyroscope: they feed the acc_only model only


def load_trials(root: Path, cache_dir: Path | None, subjects: set[str] | None = None, quiet=False, sisfall_dir: Path | None = None,
                sisfall_rate: int = 50, umafall: bool = False):
    """Returns (trial_frames, unreadable, counters_total). SisFall comes from root/sisfall-50hz unless
    sisfall_dir points at another SisFall tree (e.g. the original 200 Hz download, sisfall_rate=200).
    `umafall` adds the UMAFall phone trials (accelerometer only)."""
    if sisfall_dir is None:
        sis = list_sisfall(root, "sisfall-50hz")
    else:
        sis = list_sisfall(sisfall_dir.parent, sisfall_dir.name, label=f"sisfall-{sisfall_rate}hz")
    trials = list_mobifall(root) + sis + (list_umafall(root) if umafall else [])
    if subjects is not None:
        trials = [t for t in trials if t.subject in subjects]
    sig = trials_digest(trials, f"pp{pp.PREPROCESSING_VERSION}")
    cache = None
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        cache = cache_dir / f"frames-{sig.hexdigest()[:16]}.pkl"
        if cache.exists():
            with open(cache, "rb") as f:
                return pickle.load(f)
    out, unreadable = [], []
    total = {"acc": pp.Counters(), "gyro": pp.Counters()}
    for t in tqdm(trials, desc="preprocess trials", disable=quiet, mininterval=2):
        try:
            raw = read_trial(t)
            acc_only = t.dataset in ACC_ONLY_DATASETS
            if raw.gyro_t is None and not acc_only:
                raise ValueError("gyroscope file missing")
            frames, impact = {}, {}
            a = pp.resample(raw.acc_t, raw.acc_v)
            g = None if acc_only else pp.resample(raw.gyro_t, raw.gyro_v)
            for mode in ("acc_only",) if acc_only else pp.MODES:
                fr = pp.fuse(a, g, mode)
                frames[mode] = fr
                impact[mode] = pp.impact_index(fr) if t.is_fall else None
            shortest = min(len(fr) for fr in frames.values())
            if shortest < pp.WINDOW:
                raise ValueError(f"only {shortest} fused frames (< one window)")
            total["acc"].add(a.counters)
            counters = {"acc": a.counters.as_dict()}
            if g is not None:
                total["gyro"].add(g.counters)
                counters["gyro"] = g.counters.as_dict()
            out.append(TrialFrames(t, frames, impact, counters))
        except Exception as e:  # counted and listed in the report, never silently skipped
            unreadable.append({"trial": t.key, "paths": t.paths, "error": f"{type(e).__name__}: {e}"})
    res = (out, unreadable, {k: v.as_dict() for k, v in total.items()})
    if cache is not None:
        with open(cache, "wb") as f:
            pickle.dump(res, f, protocol=pickle.HIGHEST_PROTOCOL)
    return res


@dataclass
class WindowSet:
    """Raw grid-value windows (rotation/clipping augmentation happens before features)."""

    acc: np.ndarray  # float32 (N, window, 3)
    gyro: np.ndarray  # float32 (N, window, 3) (zeros in acc_only mode)
    label: np.ndarray  # int64 (N,) 1 fall, 0 ADL
    trial_idx: np.ndarray  # index into trials list
    band_max_g: np.ndarray  # float64 (N,)
    weight: np.ndarray | None = None  # float32 (N,) per-window loss multiplier (None: all 1)

    def __len__(self):
        return int(self.label.shape[0])

    def subset(self, idx):
        w = self.weight[idx] if self.weight is not None else None
        return WindowSet(self.acc[idx], self.gyro[idx], self.label[idx], self.trial_idx[idx], self.band_max_g[idx], w)


def _stack(fr: pp.Frames, starts: np.ndarray, window: int):
    idx = starts[:, None] + np.arange(window)[None, :]
    acc = fr.acc[idx]
    gyro = fr.gyro[idx] if fr.gyro is not None else np.zeros_like(acc)
    return acc, gyro


def build_windows(
    tfs: list[TrialFrames],
    indices,
    mode: str,
    hop: int = pp.HOP,
    fall_hop: int | None = None,
    adl_keep: float = 1.0,
    rng: np.random.Generator | None = None,
    window: int = pp.WINDOW,
) -> WindowSet:
    """Windows of `window` frames of the given trials. Evaluation: hop=25, spec-aligned, ambiguous dropped.

    Training (fall_hop set): in fall trials, additionally every `fall_hop`-th window start whose
    band contains the impact (inside the impact's run). ADL windows kept with probability adl_keep.
    """
    accs, gyros, labs, tids, bmg = [], [], [], [], []
    for ti in indices:
        tf = tfs[ti]
        fr = tf.frames[mode]
        imp = tf.impact[mode]
        starts = pp.window_starts(fr.run, hop, window)
        lab = pp.window_labels(starts, imp, window=window)
        keep = lab != pp.LABEL_AMBIGUOUS
        if adl_keep < 1.0 and rng is not None:
            keep &= (lab != pp.LABEL_ADL) | (rng.random(lab.shape[0]) < adl_keep)
        starts, lab = starts[keep], lab[keep]
        if fall_hop is not None and imp is not None and imp >= 0:
            starts = starts[lab != pp.LABEL_FALL]
            lab = lab[lab != pp.LABEL_FALL]
            r = fr.run[imp]
            run_idx = np.flatnonzero(fr.run == r)
            lo, hi = run_idx[0], run_idx[-1] - window + 1
            cand = np.arange(imp - pp.BAND[1] + 1, imp - pp.BAND[0] + 1)
            off = int(rng.integers(fall_hop)) if rng is not None else 0
            cand = cand[off::fall_hop]
            cand = cand[(cand >= lo) & (cand <= hi)]
            starts = np.concatenate([starts, cand])
            lab = np.concatenate([lab, np.full(cand.shape[0], pp.LABEL_FALL)])
        if starts.shape[0] == 0:
            continue
        a, g = _stack(fr, starts, window)
        accs.append(a)
        gyros.append(g)
        labs.append(lab)
        tids.append(np.full(lab.shape[0], ti))
        bmg.append(pp.band_max_g(a))
    if not accs:
        z = np.zeros((0, window, 3), np.float32)
        return WindowSet(z, z.copy(), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    return WindowSet(
        np.concatenate(accs), np.concatenate(gyros), np.concatenate(labs), np.concatenate(tids), np.concatenate(bmg)
    )


def gated_adl_windows(tfs: list[TrialFrames], indices, mode: str, trigger_g: float, hop: int, per_trial_cap: int,
                      rng: np.random.Generator, window: int = pp.WINDOW) -> WindowSet:
    """Hard negatives: the trigger-gated windows (band max |a| >= trigger_g) of the ADL trials, at `hop`.

    These are the only ADL windows the engine ever scores. Every gated window of a trial is kept when the
    trial has at most `per_trial_cap` of them; longer trials (walking, jogging) keep a seeded random
    `per_trial_cap` of theirs, so short hard trials (lying down, rolling, sitting down hard) are never thinned.
    """
    adl = [i for i in indices if tfs[i].impact[mode] is None]
    ws = build_windows(tfs, adl, mode, hop=hop, window=window)
    gated = np.flatnonzero(ws.band_max_g >= trigger_g)
    keep = []
    for ti in np.unique(ws.trial_idx[gated]):
        g = gated[ws.trial_idx[gated] == ti]
        if g.shape[0] > per_trial_cap:
            g = np.sort(rng.choice(g, size=per_trial_cap, replace=False))
        keep.append(g)
    keep = np.concatenate(keep) if keep else np.zeros(0, np.int64)
    return ws.subset(keep)

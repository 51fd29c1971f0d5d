"""Training windows and model features of a set of trials."""

from __future__ import annotations

import numpy as np

from . import model as M
from .config import PHONE_DATASETS, Config
from .data import WindowSet, build_windows


def concat_windows(a: WindowSet, b: WindowSet) -> WindowSet:
    """`a` then `b`; a missing weight counts as 1 where the other set has weights."""
    return WindowSet(
        np.concatenate([a.acc, b.acc]),
        np.concatenate([a.gyro, b.gyro]),
        np.concatenate([a.label, b.label]),
        np.concatenate([a.trial_idx, b.trial_idx]),
        np.concatenate([a.band_max_g, b.band_max_g]),
        None if a.weight is None and b.weight is None else np.concatenate([
            a.weight if a.weight is not None else np.ones(len(a), np.float32),
            b.weight if b.weight is not None else np.ones(len(b), np.float32)]),
    )


def train_windows(tfs, idx, mode, cfg: Config, rng, adl_keep_sisfall=None, fall_hop=None) -> WindowSet:
    """Fall windows every `fall_hop` starts; all phone ADL windows, a seeded share of SisFall's."""
    mf = [i for i in idx if tfs[i].trial.dataset in PHONE_DATASETS]
    sf = [i for i in idx if tfs[i].trial.dataset not in PHONE_DATASETS]
    keep_sf = cfg.adl_keep_sisfall if adl_keep_sisfall is None else adl_keep_sisfall
    fh = cfg.fall_hop if fall_hop is None else fall_hop
    a = build_windows(tfs, mf, mode, fall_hop=fh, adl_keep=cfg.adl_keep_mobifall, rng=rng, window=cfg.window_frames)
    b = build_windows(tfs, sf, mode, fall_hop=fh, adl_keep=keep_sf, rng=rng, window=cfg.window_frames)
    return concat_windows(a, b)


def features_of(ws: WindowSet, mode, rotate_seed=None, clip=False) -> np.ndarray:
    """The model input of each window, optionally rotated by seeded random rotations."""
    rot = M.random_rotations(np.random.default_rng(rotate_seed), len(ws)) if rotate_seed is not None else None
    return M.make_features(ws.acc, ws.gyro, mode, rot, np.ones(len(ws), bool) if clip else None)

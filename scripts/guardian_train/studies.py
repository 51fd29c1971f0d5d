"""Side studies of a full run on the reduced float schedule: leave-subjects-out cross-validation
and the effect of rotation augmentation."""

from __future__ import annotations

import numpy as np

from . import model as M
from . import preprocessing as pp
from .config import SEED, Config
from .data import build_windows
from .fit_mode import TEST_ROTATION_SEED
from .metrics import binary_metrics, choose_threshold
from .splits import cv_folds, with_mode
from .windows import features_of, train_windows

CV_METRICS = ("accuracy", "fall_recall", "adl_specificity", "f1", "roc_auc", "balanced_accuracy")


def reduced_float_run(tfs, train_idx, val_idx, test_idx, mode, cfg, rotate, seed, desc, rotated_test=False) -> dict:
    """Reduced schedule float model (CV folds and the rotation study), evaluated via its float32 .tflite.
    Trials without frames of `mode` (accelerometer-only recordings in full mode) are left out."""
    train_idx, val_idx, test_idx = (with_mode(tfs, idx, mode) for idx in (train_idx, val_idx, test_idx))
    C = len(pp.channels(mode))
    rng = np.random.default_rng((seed, C, 1))
    tr = train_windows(tfs, train_idx, mode, cfg, rng, adl_keep_sisfall=cfg.cv_adl_keep_sisfall, fall_hop=cfg.cv_fall_hop)
    va = build_windows(tfs, val_idx, mode, window=cfg.window_frames)
    te = build_windows(tfs, test_idx, mode, window=cfg.window_frames)
    cw = M.balanced_class_weight(tr.label)
    M.set_seeds(seed)
    fm = M.build_model(C, window=cfg.window_frames)
    seq = M.AugSequence(tr, mode, cfg.batch, seed, rotate=rotate, class_weight=cw)
    keep = (va.label == 1) | (np.random.default_rng(seed + 4).random(len(va)) < cfg.val_adl_keep_for_loss)
    vl = va.subset(np.flatnonzero(keep))
    xv_fit = features_of(vl, mode, rotate_seed=seed + 1) if rotate else features_of(vl, mode)
    M.fit(fm, seq, (xv_fit, vl.label.astype(np.float32)), cfg.cv_epochs, 1e-3, cfg.cv_patience, desc)
    b = M.convert(fm, C, "float32", window=cfg.window_frames)
    thr = choose_threshold(va.label, M.tflite_predict(b, features_of(va, mode)))
    out = {"threshold": thr, "n_train_windows": len(tr),
           "test": binary_metrics(te.label, M.tflite_predict(b, features_of(te, mode)), thr)}
    if rotated_test:
        out["test_rotated"] = binary_metrics(te.label, M.tflite_predict(b, features_of(te, mode, rotate_seed=TEST_ROTATION_SEED)), thr)
    return out


def cross_validation(tfs, cfg: Config) -> dict:
    """cfg.cv_folds folds over all subjects: each fold tested once, the next fold validates, the rest train."""
    all_subj = sorted({t.trial.subject for t in tfs})
    folds = cv_folds(tfs, all_subj, cfg.cv_folds, SEED)
    cv = {"folds": [], "schedule": f"reduced for time: float32 only, full mode, up to {cfg.cv_epochs} epochs, patience {cfg.cv_patience}, "
          f"every {cfg.cv_fall_hop}th fall window start, SisFall ADL windows kept {cfg.cv_adl_keep_sisfall:.0%}; "
          "validation = the next fold (early stopping and threshold), the other 3 folds train"}
    for f in range(cfg.cv_folds):
        test_s, val_s = set(folds[f]), set(folds[(f + 1) % cfg.cv_folds])
        tr_i = [i for i, t in enumerate(tfs) if t.trial.subject not in test_s | val_s]
        va_i = [i for i, t in enumerate(tfs) if t.trial.subject in val_s]
        te_i = [i for i, t in enumerate(tfs) if t.trial.subject in test_s]
        r = reduced_float_run(tfs, tr_i, va_i, te_i, "full", cfg, True, SEED + 10 + f, f"CV fold {f + 1}/{cfg.cv_folds}")
        r["test_subjects"] = sorted(test_s)
        cv["folds"].append(r)
    for key in CV_METRICS:
        v = np.array([fr["test"][key] for fr in cv["folds"]], float)
        cv[key] = {"mean": float(np.nanmean(v)), "std": float(np.nanstd(v))}
    return cv


def rotation_study(tfs, sidx: dict[str, list[int]], cfg: Config) -> dict:
    """The same split trained with and without rotation augmentation, tested on rotated windows too."""
    study = {"schedule": f"float32, full mode, up to {cfg.cv_epochs} epochs, patience {cfg.cv_patience}, every {cfg.cv_fall_hop}th fall "
             f"window start, SisFall ADL windows kept {cfg.cv_adl_keep_sisfall:.0%}, same split as the main models; "
             "test windows rotated by one fixed random rotation each"}
    for name, rot in (("with_rotation_aug", True), ("without_rotation_aug", False)):
        study[name] = reduced_float_run(tfs, sidx["train"], sidx["val"], sidx["test"], "full", cfg, rot, SEED + 50,
                                        f"rotation study ({name})", rotated_test=True)
    return study

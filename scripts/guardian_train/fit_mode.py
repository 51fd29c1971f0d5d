"""Training one mode's models: windows, float pre-training then QAT, conversion to .tflite
(float32, PTQ int8, QAT int8) and their validation thresholds and test metrics."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import model as M
from . import preprocessing as pp
from .config import SEED, SHORT, Config
from .data import WindowSet, build_windows, gated_adl_windows
from .metrics import binary_metrics, choose_threshold, choose_threshold_recall
from .scoring import per_activity, trial_best
from .splits import with_mode
from .windows import concat_windows, features_of, train_windows

TEST_ROTATION_SEED = SEED + 5  # the fixed random rotations of the rotated test windows


@dataclass
class ModeWindows:
    """The windows one mode is trained, thresholded and tested on."""

    train: WindowSet  # with the added gated ADL windows and their loss weights
    class_weight: dict
    n_added_gated_adl: int
    n_gated_adl_weighted: int
    val: WindowSet
    val_gated: WindowSet  # validation windows at gated_hop that the trigger opens: the threshold set
    test: WindowSet

    def counts(self) -> dict:
        tr, va, va_g, te = self.train, self.val, self.val_gated, self.test
        return {"train": len(tr), "train_fall": int(tr.label.sum()), "train_added_gated_adl": self.n_added_gated_adl,
                "train_gated_adl_weighted": self.n_gated_adl_weighted, "val": len(va), "val_fall": int(va.label.sum()),
                "val_gated": len(va_g), "val_gated_fall": int(va_g.label.sum()),
                "test": len(te), "test_fall": int(te.label.sum())}


@dataclass
class Fitted:
    """The float and the QAT model of one mode with their training histories."""

    float_model: object
    qat_model: object
    history: dict
    best_epoch: dict
    seconds: dict


def mode_windows(tfs, split_idx, mode, cfg: Config, trigger_g: float) -> ModeWindows:
    """Training windows plus the trigger-gated ADL windows of the training subjects (hard negatives,
    weighted), and the validation, gated validation and test windows."""
    C = len(pp.channels(mode))
    rng = np.random.default_rng((cfg.seed, C))
    tr = train_windows(tfs, split_idx["train"], mode, cfg, rng)
    hard = gated_adl_windows(tfs, split_idx["train"], mode, trigger_g, cfg.gated_hop, cfg.gated_per_trial_cap,
                             np.random.default_rng((cfg.seed, C, 2)), window=cfg.window_frames)
    n_hard = len(hard)
    tr = concat_windows(tr, hard)
    cw = M.balanced_class_weight(tr.label)
    tr.weight = np.where((tr.label == 0) & (tr.band_max_g >= trigger_g), cfg.gated_adl_weight(mode), 1.0).astype(np.float32)
    n_gated_adl = int(((tr.label == 0) & (tr.band_max_g >= trigger_g)).sum())
    va = build_windows(tfs, split_idx["val"], mode, window=cfg.window_frames)
    te = build_windows(tfs, split_idx["test"], mode, window=cfg.window_frames)
    # threshold set: validation windows at gated_hop (fall windows = starts whose band holds the impact),
    # restricted to the trigger-gated ones: the distribution the engine scores
    va_g = build_windows(tfs, split_idx["val"], mode, hop=cfg.gated_hop, window=cfg.window_frames)
    va_g = va_g.subset(np.flatnonzero(va_g.band_max_g >= trigger_g))
    return ModeWindows(tr, cw, n_hard, n_gated_adl, va, va_g, te)


def describe(mode, w: ModeWindows, cfg: Config) -> str:
    tr, va, va_g, te = w.train, w.val, w.val_gated, w.test
    return (f"[{mode}] windows train {len(tr)} ({int(tr.label.sum())} fall; {w.n_added_gated_adl} added gated ADL hop {cfg.gated_hop}, "
            f"{w.n_gated_adl_weighted} gated ADL weighted x{cfg.gated_adl_weight(mode)}) val {len(va)} ({int(va.label.sum())} fall) "
            f"val gated hop {cfg.gated_hop} {len(va_g)} ({int(va_g.label.sum())} fall) test {len(te)} ({int(te.label.sum())} fall)")


def validation_loss_set(va: WindowSet, mode, cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    """Early-stopping loss data: all validation fall windows and a seeded subset of validation ADL
    windows (for time), rotated by fixed random rotations; the threshold uses every validation window."""
    keep = (va.label == 1) | (np.random.default_rng(cfg.seed + 4).random(len(va)) < cfg.val_adl_keep_for_loss)
    va_loss = va.subset(np.flatnonzero(keep))
    return features_of(va_loss, mode, rotate_seed=cfg.seed + 1), va_loss.label.astype(np.float32)


def fit_float_and_qat(w: ModeWindows, mode, cfg: Config, val_loss) -> Fitted:
    """Float pre-training, then quantization-aware training from its best weights."""
    C = len(pp.channels(mode))
    M.set_seeds(cfg.seed)
    t0 = time.time()
    fm = M.build_model(C, width=cfg.model_width, window=cfg.window_frames)
    seq = M.AugSequence(w.train, mode, cfg.batch, cfg.seed, class_weight=w.class_weight)
    h_pre, best_pre = M.fit(fm, seq, val_loss, cfg.pre_epochs, 1e-3, cfg.pre_patience, f"pre-train {mode}")
    t_pre = time.time() - t0
    t0 = time.time()
    qm = M.quantize_model(fm)
    seq_q = M.AugSequence(w.train, mode, cfg.batch, cfg.seed + 100, class_weight=w.class_weight)
    h_qat, best_qat = M.fit(qm, seq_q, val_loss, cfg.qat_epochs, 1e-4, cfg.qat_patience, f"QAT {mode}", reduce_lr=False)
    t_qat = time.time() - t0
    return Fitted(fm, qm, {"pretrain": h_pre, "qat": h_qat}, {"pretrain": best_pre, "qat": best_qat},
                  {"pretrain": t_pre, "qat": t_qat})


def convert_models(fit: Fitted, train: WindowSet, mode, cfg: Config) -> dict[str, bytes]:
    """float32 and PTQ int8 (representative data: rotated training windows) of the float model, QAT int8."""
    C = len(pp.channels(mode))
    rep_idx = np.random.default_rng(cfg.seed + 2).choice(len(train), size=min(cfg.rep_samples, len(train)), replace=False)
    rep_x = features_of(train.subset(np.sort(rep_idx)), mode, rotate_seed=cfg.seed + 3)  # training data only
    return {
        "float32": M.convert(fit.float_model, C, "float32", width=cfg.model_width, window=cfg.window_frames),
        "ptq_int8": M.convert(fit.float_model, C, "ptq", rep_x=rep_x, width=cfg.model_width, window=cfg.window_frames),
        "qat_int8": M.convert(fit.qat_model, C, "qat", width=cfg.model_width, window=cfg.window_frames),
    }


def write_models(blobs: dict[str, bytes], mode, out: Path) -> dict[str, str]:
    """Writes each .tflite into `out`; returns kind -> file name."""
    files = {}
    for k, b in blobs.items():
        fn = f"guardian-{SHORT[mode]}-{k.replace('_', '-')}.tflite"
        (out / fn).write_bytes(b)
        files[k] = fn
    return files


def threshold_rule_text(cfg: Config) -> str:
    return (f"largest threshold keeping >= {cfg.threshold_min_recall:.0%} of the validation fall trials caught, a "
            f"trial scored by its best trigger-gated window whose band holds the impact (hop {cfg.gated_hop}, "
            "unrotated); trials no window scores (best < 1/256) left out")


def evaluate_model(tfs, mode, kind, blob: bytes, file: str, w: ModeWindows, x: dict, cfg: Config) -> dict:
    """One .tflite through LiteRT: its threshold on the gated validation trials, then its metrics.
    `x`: the features of the validation, gated validation, test and rotated test windows."""
    va, va_g, te = w.val, w.val_gated, w.test
    sv = M.tflite_predict(blob, x["val"], desc=f"val {mode} {kind}")
    svg = M.tflite_predict(blob, x["val_gated"], desc=f"val-gated {mode} {kind}")
    thr = choose_threshold_recall(*trial_best(va_g, svg), cfg.threshold_min_recall)
    thr_ba = choose_threshold(va_g.label, svg)
    st = M.tflite_predict(blob, x["test"], desc=f"test {mode} {kind}")
    sr = M.tflite_predict(blob, x["test_rotated"], desc=f"test-rot {mode} {kind}")
    return {
        "name": f"{mode}/{kind}",
        "mode": mode,
        "kind": kind,
        "file": file,
        "size_bytes": len(blob),
        "size_kb": len(blob) / 1024.0,
        "sha256": hashlib.sha256(blob).hexdigest(),
        "threshold": thr,
        "threshold_rule": threshold_rule_text(cfg),
        "threshold_max_bal_acc_gated_val": thr_ba,
        "val_gated": binary_metrics(va_g.label, svg, thr),
        "test": binary_metrics(te.label, st, thr),
        "test_rotated": binary_metrics(te.label, sr, thr),
        "val": binary_metrics(va.label, sv, thr),
        "per_activity": per_activity(tfs, te, st, thr),
        "_scores": st,
    }


def train_mode(mode, tfs, split_idx, cfg: Config, out: Path, log, trigger_g: float) -> dict:
    """Train, convert and evaluate one mode; returns a dict of results."""
    split_idx = {k: with_mode(tfs, v, mode) for k, v in split_idx.items()}
    w = mode_windows(tfs, split_idx, mode, cfg, trigger_g)
    log(describe(mode, w, cfg))
    val_loss = validation_loss_set(w.val, mode, cfg)
    x = {"val": features_of(w.val, mode), "val_gated": features_of(w.val_gated, mode), "test": features_of(w.test, mode)}
    fit = fit_float_and_qat(w, mode, cfg, val_loss)
    blobs = convert_models(fit, w.train, mode, cfg)
    files = write_models(blobs, mode, out)
    x["test_rotated"] = features_of(w.test, mode, rotate_seed=TEST_ROTATION_SEED)
    h = fit.history
    res = {"mode": mode, "channels": pp.channels(mode), "history": h,
           "best_epoch": {k: v + 1 for k, v in fit.best_epoch.items()},
           "epochs_run": {k: len(v["loss"]) for k, v in h.items()},
           "train_seconds": fit.seconds, "windows": w.counts(),
           "class_weight": w.class_weight, "models": {}, "io": {}, "blobs": blobs, "test_windows": w.test}
    for k, b in blobs.items():
        res["models"][k] = evaluate_model(tfs, mode, k, b, files[k], w, x, cfg)
        res["io"][k] = M.tflite_io(b)
    return res

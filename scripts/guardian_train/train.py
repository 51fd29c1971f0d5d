"""The training run: split, train full and acc_only (float -> QAT), convert, evaluate, report."""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import model as M
from . import preprocessing as pp
from .data import WindowSet, build_windows, gated_adl_windows, load_trials
from .datasets import REPO_ROOT, datasets_root
from .metrics import binary_metrics, choose_threshold, choose_threshold_recall, roc_curve

SEED = 1234
FILES = {"full": "guardian-full-qat-int8.tflite", "acc_only": "guardian-acc-qat-int8.tflite"}
SHORT = {"full": "full", "acc_only": "acc"}
KINDS = ("float32", "ptq_int8", "qat_int8")
TRIGGER_STEP_G = 0.05
TRIGGER_MAX_G = 2.0
TRIGGER_COVERAGE = 0.995
CITATIONS = {
    "mobifall": (
        "MobiFall v2.0",
        "Vavoulas G., Pediaditis M., Chatzaki C., Spanakis E. G., Tsiknakis M., 'The MobiFall Dataset: Fall "
        "Detection and Classification with a Smartphone', International Journal of Monitoring and Surveillance "
        "Technologies Research 2(1), 2014. BMI Lab, TEI of Crete.",
        "Samsung Galaxy S3 in a trouser pocket; acc saturates at +-2 g per axis",
    ),
    "sisfall-50hz": (
        "SisFall v1.0 (resampled to 50 Hz)",
        "Sucerquia A., Lopez J. D., Vargas-Bonilla J. F., 'SisFall: A Fall and Movement Dataset', Sensors "
        "17(1):198, 2017. SISTEMIC, Universidad de Antioquia.",
        "ADXL345 (+-16 g) and ITG3200 at the waist; counts converted to m/s^2 and rad/s",
    ),
    "umafall": (
        "UMAFall (phone accelerometer only)",
        "Casilari E., Santoyo-Ramon J. A., Cano-Garcia J. M., 'UMAFall: A Multisensor Dataset for the Research on "
        "Automatic Fall Detection', Procedia Computer Science 110:32-39, 2017. Universidad de Malaga.",
        "LG G4 in the right trouser pocket, accelerometer only (+-16 g): trains and tests the acc_only model",
    ),
}
PHONE_DATASETS = ("mobifall", "umafall")  # phone in a pocket: every ADL window is kept for training


@dataclass
class Config:
    quick: bool
    pre_epochs: int
    qat_epochs: int
    pre_patience: int = 15
    qat_patience: int = 10
    batch: int = 64
    fall_hop: int = 6
    adl_keep_sisfall: float = 0.2
    adl_keep_mobifall: float = 1.0
    cv_folds: int = 5
    cv_epochs: int = 10
    cv_patience: int = 3
    cv_adl_keep_sisfall: float = 0.1
    cv_fall_hop: int = 8
    val_adl_keep_for_loss: float = 0.3
    study_epochs: int = 10
    rep_samples: int = 500
    # hard negatives (main models only): trigger-gated ADL windows of the training subjects
    gated_hop: int = 5
    gated_per_trial_cap: int = 12
    gated_adl_weight: float = 4.0  # loss multiplier of every gated ADL training window (on top of class weights)
    # threshold: chosen on validation trigger-gated windows at gated_hop (what the engine scores)
    threshold_min_recall: float = 0.99
    reduced: bool = False

    @staticmethod
    def make(quick: bool) -> Config:
        if quick:
            return Config(quick=True, pre_epochs=4, qat_epochs=2, cv_folds=0, study_epochs=0)
        return Config(quick=False, pre_epochs=100, qat_epochs=50)

    @staticmethod
    def make_reduced() -> Config:
        """Reduced schedule for side studies (cross-dataset): same data and rules, fewer epochs, no CV/rotation study."""
        return Config(quick=False, pre_epochs=15, qat_epochs=4, pre_patience=5, qat_patience=2, cv_folds=0, study_epochs=0,
                      reduced=True)


def _group(tfs, subj):
    ds = subj.split(":")[0]
    if ds == "mobifall":
        has_adl = any(t.trial.subject == subj and not t.trial.is_fall for t in tfs)
        return "mobifall_adl" if has_adl else "mobifall_falls_only"
    if ds == "umafall":
        has_fall = any(t.trial.subject == subj and t.trial.is_fall for t in tfs)
        return "umafall_falls" if has_fall else "umafall_adl_only"
    return "sisfall_" + ("elderly" if subj.split(":")[1].startswith("SE") else "adult")


def split_subjects(tfs, seed: int, quick: bool) -> dict:
    """Subject-wise split stratified by dataset group; fixed seed. Test ~20%, val ~15%."""
    subjects = sorted({t.trial.subject for t in tfs})
    groups: dict[str, list[str]] = {}
    for s in subjects:
        groups.setdefault(_group(tfs, s), []).append(s)
    rng = np.random.default_rng(seed)
    split = {"train": [], "val": [], "test": []}
    quick_take = {"mobifall_adl": 3, "mobifall_falls_only": 2, "sisfall_adult": 4, "sisfall_elderly": 1}
    for g in sorted(groups):
        members = [str(m) for m in rng.permutation(sorted(groups[g]))]
        if quick:
            members = members[: quick_take.get(g, 1)]
        n = len(members)
        n_test = max(1, int(round(0.2 * n))) if n >= 3 else 0
        n_val = max(1, int(round(0.15 * n))) if n >= 3 else 0
        split["test"] += members[:n_test]
        split["val"] += members[n_test : n_test + n_val]
        split["train"] += members[n_test + n_val :]
    return {k: sorted(v) for k, v in split.items()}


def cv_folds(tfs, subjects, k, seed) -> list[list[str]]:
    groups: dict[str, list[str]] = {}
    for s in subjects:
        groups.setdefault(_group(tfs, s), []).append(s)
    rng = np.random.default_rng(seed + 7)
    folds = [[] for _ in range(k)]
    i = 0
    for g in sorted(groups):
        for s in rng.permutation(sorted(groups[g])):
            folds[i % k].append(str(s))
            i += 1
    return [sorted(f) for f in folds]


def _concat(a: WindowSet, b: WindowSet) -> WindowSet:
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


def with_mode(tfs, idx, mode) -> list[int]:
    """The trials of `idx` that have frames of `mode` (accelerometer-only recordings have no full frames)."""
    return [i for i in idx if mode in tfs[i].frames]


def train_windows(tfs, idx, mode, cfg: Config, rng, adl_keep_sisfall=None, fall_hop=None) -> WindowSet:
    mf = [i for i in idx if tfs[i].trial.dataset in PHONE_DATASETS]
    sf = [i for i in idx if tfs[i].trial.dataset not in PHONE_DATASETS]
    keep_sf = cfg.adl_keep_sisfall if adl_keep_sisfall is None else adl_keep_sisfall
    fh = cfg.fall_hop if fall_hop is None else fall_hop
    a = build_windows(tfs, mf, mode, fall_hop=fh, adl_keep=cfg.adl_keep_mobifall, rng=rng)
    b = build_windows(tfs, sf, mode, fall_hop=fh, adl_keep=keep_sf, rng=rng)
    return _concat(a, b)


def features_of(ws: WindowSet, mode, rotate_seed=None, clip=False) -> np.ndarray:
    rot = M.random_rotations(np.random.default_rng(rotate_seed), len(ws)) if rotate_seed is not None else None
    return M.make_features(ws.acc, ws.gyro, mode, rot, np.ones(len(ws), bool) if clip else None)


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


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _git_rev() -> str:
    """HEAD at the start of the run, with '+dirty' when scripts/ has uncommitted changes."""
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=False).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "scripts"], cwd=REPO_ROOT, capture_output=True, text=True,
                               check=False).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except Exception:
        return ""


def train_mode(mode, tfs, split_idx, cfg: Config, out: Path, log, trigger_g: float) -> dict:
    """Train, convert and evaluate one mode; returns a dict of results."""
    C = len(pp.channels(mode))
    split_idx = {k: with_mode(tfs, v, mode) for k, v in split_idx.items()}
    rng = np.random.default_rng((SEED, C))
    tr = train_windows(tfs, split_idx["train"], mode, cfg, rng)
    hard = gated_adl_windows(tfs, split_idx["train"], mode, trigger_g, cfg.gated_hop, cfg.gated_per_trial_cap,
                             np.random.default_rng((SEED, C, 2)))
    n_hard = len(hard)
    tr = _concat(tr, hard)
    cw = M.balanced_class_weight(tr.label)
    tr.weight = np.where((tr.label == 0) & (tr.band_max_g >= trigger_g), cfg.gated_adl_weight, 1.0).astype(np.float32)
    n_gated_adl = int(((tr.label == 0) & (tr.band_max_g >= trigger_g)).sum())
    va = build_windows(tfs, split_idx["val"], mode)
    te = build_windows(tfs, split_idx["test"], mode)
    # threshold set: validation windows at gated_hop (fall windows = starts whose band holds the impact),
    # restricted to the trigger-gated ones: the distribution the engine scores
    va_g = build_windows(tfs, split_idx["val"], mode, hop=cfg.gated_hop)
    va_g = va_g.subset(np.flatnonzero(va_g.band_max_g >= trigger_g))
    log(f"[{mode}] windows train {len(tr)} ({int(tr.label.sum())} fall; {n_hard} added gated ADL hop {cfg.gated_hop}, "
        f"{n_gated_adl} gated ADL weighted x{cfg.gated_adl_weight}) val {len(va)} ({int(va.label.sum())} fall) "
        f"val gated hop {cfg.gated_hop} {len(va_g)} ({int(va_g.label.sum())} fall) test {len(te)} ({int(te.label.sum())} fall)")
    # early-stopping loss on all validation fall windows and a seeded subset of validation ADL windows
    # (for time), rotated by fixed random rotations; the threshold uses every validation window
    keep = (va.label == 1) | (np.random.default_rng(SEED + 4).random(len(va)) < cfg.val_adl_keep_for_loss)
    va_loss = va.subset(np.flatnonzero(keep))
    xv_rot = features_of(va_loss, mode, rotate_seed=SEED + 1)
    yv = va_loss.label.astype(np.float32)
    xv = features_of(va, mode)
    xvg = features_of(va_g, mode)
    xt = features_of(te, mode)

    M.set_seeds(SEED)
    t0 = time.time()
    fm = M.build_model(C)
    seq = M.AugSequence(tr, mode, cfg.batch, SEED, class_weight=cw)
    h_pre, best_pre = M.fit(fm, seq, (xv_rot, yv), cfg.pre_epochs, 1e-3, cfg.pre_patience, f"pre-train {mode}")
    t_pre = time.time() - t0
    t0 = time.time()
    qm = M.quantize_model(fm)
    seq_q = M.AugSequence(tr, mode, cfg.batch, SEED + 100, class_weight=cw)
    h_qat, best_qat = M.fit(qm, seq_q, (xv_rot, yv), cfg.qat_epochs, 1e-4, cfg.qat_patience, f"QAT {mode}", reduce_lr=False)
    t_qat = time.time() - t0

    rep_idx = np.random.default_rng(SEED + 2).choice(len(tr), size=min(cfg.rep_samples, len(tr)), replace=False)
    rep_x = features_of(tr.subset(np.sort(rep_idx)), mode, rotate_seed=SEED + 3)  # training data only
    blobs = {
        "float32": M.convert(fm, C, "float32"),
        "ptq_int8": M.convert(fm, C, "ptq", rep_x=rep_x),
        "qat_int8": M.convert(qm, C, "qat"),
    }
    files = {}
    for k, b in blobs.items():
        fn = f"guardian-{SHORT[mode]}-{k.replace('_', '-')}.tflite"
        (out / fn).write_bytes(b)
        files[k] = fn

    rot_seed = SEED + 5
    xt_rot = features_of(te, mode, rotate_seed=rot_seed)
    res = {"mode": mode, "channels": pp.channels(mode), "history": {"pretrain": h_pre, "qat": h_qat},
           "best_epoch": {"pretrain": best_pre + 1, "qat": best_qat + 1},
           "epochs_run": {"pretrain": len(h_pre["loss"]), "qat": len(h_qat["loss"])},
           "train_seconds": {"pretrain": t_pre, "qat": t_qat},
           "windows": {"train": len(tr), "train_fall": int(tr.label.sum()), "train_added_gated_adl": n_hard,
                       "train_gated_adl_weighted": n_gated_adl, "val": len(va), "val_fall": int(va.label.sum()),
                       "val_gated": len(va_g), "val_gated_fall": int(va_g.label.sum()),
                       "test": len(te), "test_fall": int(te.label.sum())},
           "class_weight": cw, "models": {}, "io": {}, "blobs": blobs, "test_windows": te}
    for k, b in blobs.items():
        sv = M.tflite_predict(b, xv, desc=f"val {mode} {k}")
        svg = M.tflite_predict(b, xvg, desc=f"val-gated {mode} {k}")
        thr = choose_threshold_recall(*trial_best(va_g, svg), cfg.threshold_min_recall)
        thr_ba = choose_threshold(va_g.label, svg)
        st = M.tflite_predict(b, xt, desc=f"test {mode} {k}")
        sr = M.tflite_predict(b, xt_rot, desc=f"test-rot {mode} {k}")
        io = M.tflite_io(b)
        res["io"][k] = io
        res["models"][k] = {
            "name": f"{mode}/{k}",
            "mode": mode,
            "kind": k,
            "file": files[k],
            "size_bytes": len(b),
            "size_kb": len(b) / 1024.0,
            "sha256": _sha(b),
            "threshold": thr,
            "threshold_rule": (f"largest threshold keeping >= {cfg.threshold_min_recall:.0%} of the validation fall trials caught, a "
                               f"trial scored by its best trigger-gated window whose band holds the impact (hop {cfg.gated_hop}, "
                               "unrotated); trials no window scores (best < 1/256) left out"),
            "threshold_max_bal_acc_gated_val": thr_ba,
            "val_gated": binary_metrics(va_g.label, svg, thr),
            "test": binary_metrics(te.label, st, thr),
            "test_rotated": binary_metrics(te.label, sr, thr),
            "val": binary_metrics(va.label, sv, thr),
            "per_activity": per_activity(tfs, te, st, thr),
            "_scores": st,
        }
    return res


def reduced_float_run(tfs, train_idx, val_idx, test_idx, mode, cfg, rotate, seed, desc, rotated_test=False) -> dict:
    """Reduced schedule float model (CV folds and the rotation study), evaluated via its float32 .tflite."""
    C = len(pp.channels(mode))
    rng = np.random.default_rng((seed, C, 1))
    tr = train_windows(tfs, train_idx, mode, cfg, rng, adl_keep_sisfall=cfg.cv_adl_keep_sisfall, fall_hop=cfg.cv_fall_hop)
    va = build_windows(tfs, val_idx, mode)
    te = build_windows(tfs, test_idx, mode)
    cw = M.balanced_class_weight(tr.label)
    M.set_seeds(seed)
    fm = M.build_model(C)
    seq = M.AugSequence(tr, mode, cfg.batch, seed, rotate=rotate, class_weight=cw)
    keep = (va.label == 1) | (np.random.default_rng(seed + 4).random(len(va)) < cfg.val_adl_keep_for_loss)
    vl = va.subset(np.flatnonzero(keep))
    xv_fit = features_of(vl, mode, rotate_seed=seed + 1) if rotate else features_of(vl, mode)
    M.fit(fm, seq, (xv_fit, vl.label.astype(np.float32)), cfg.cv_epochs, 1e-3, cfg.cv_patience, desc)
    b = M.convert(fm, C, "float32")
    thr = choose_threshold(va.label, M.tflite_predict(b, features_of(va, mode)))
    out = {"threshold": thr, "n_train_windows": len(tr),
           "test": binary_metrics(te.label, M.tflite_predict(b, features_of(te, mode)), thr)}
    if rotated_test:
        out["test_rotated"] = binary_metrics(te.label, M.tflite_predict(b, features_of(te, mode, rotate_seed=SEED + 5)), thr)
    return out


def run(quick: bool, out: Path, install: bool, log=print, sisfall_dir: Path | None = None, sisfall_rate: int = 50,
        datasets: tuple[str, ...] = ("mobifall", "sisfall"), reduced: bool = False, split: dict | None = None,
        loaded=None) -> dict:
    """One training run. `split` ({train, val, test} subject lists) replaces the seeded split (a
    cross-validation fold); `loaded` is load_trials' result when the caller already holds it."""
    t_start = time.time()
    git_rev = _git_rev()
    cfg = Config.make_reduced() if reduced and not quick else Config.make(quick)
    if split is not None:
        cfg.cv_folds, cfg.study_epochs = 0, 0
    out.mkdir(parents=True, exist_ok=True)
    root = datasets_root()
    if loaded is None:
        loaded = load_trials(root, REPO_ROOT / "out" / "cache", sisfall_dir=sisfall_dir, sisfall_rate=sisfall_rate,
                             umafall="umafall" in datasets)
    tfs, unreadable, counters = loaded
    tfs = [t for t in tfs if t.trial.subject.split(":")[0] in datasets]
    if not tfs:
        raise ValueError(f"no trials of datasets {datasets}")
    log(f"datasets: {', '.join(datasets)}; {len(tfs)} trials" + ("; REDUCED schedule" if cfg.reduced else ""))
    if unreadable:
        log(f"WARNING: {len(unreadable)} unreadable trials (listed in the report)")
    if split is None:
        split = split_subjects(tfs, SEED, quick)
    sidx = {k: [i for i, t in enumerate(tfs) if t.trial.subject in set(v)] for k, v in split.items()}
    log(f"split: train {len(split['train'])} val {len(split['val'])} test {len(split['test'])} subjects; test = {split['test']}")

    trig_imp = impact_g(tfs, sidx["train"] + sidx["val"])
    trigger_g = trigger_rule(trig_imp)
    test_imp = impact_g(tfs, sidx["test"])
    trigger = {
        "trigger_g": trigger_g,
        "rule": f"largest multiple of {TRIGGER_STEP_G} g <= {TRIGGER_MAX_G} g reached by >= {TRIGGER_COVERAGE*100:.1f}% "
        "of the train+validation fall impacts (impact = frame of largest |a|, full-mode frames)",
        "n_train_val_falls": int(len(trig_imp)),
        "train_val_falls_below": int((trig_imp < trigger_g).sum()),
        "n_test_falls": int(len(test_imp)),
        "test_falls_missed": int((test_imp < trigger_g).sum()),
    }
    log(f"trigger_g = {trigger_g} g; test falls the trigger misses: {trigger['test_falls_missed']}/{len(test_imp)}")

    results = {}
    timings = {}
    for mode in pp.MODES:
        t0 = time.time()
        results[mode] = train_mode(mode, tfs, sidx, cfg, out, log, trigger_g)
        timings[f"train_{mode}"] = time.time() - t0
        # trigger-gated window metrics
        te = results[mode]["test_windows"]
        gate = te.band_max_g >= trigger_g
        for mres in results[mode]["models"].values():
            s = mres["_scores"]
            mres["test_gated"] = binary_metrics(te.label[gate], s[gate], mres["threshold"])
            s_sys = np.where(gate, s, 0.0)
            mres["test_system"] = binary_metrics(te.label, s_sys, mres["threshold"])
        q = results[mode]["models"]["qat_int8"]["test"]
        log(f"[{mode}] QAT int8 test: acc {q['accuracy']:.4f} recall {q['fall_recall']:.4f} spec {q['adl_specificity']:.4f}")

    cv = None
    if cfg.cv_folds:
        t0 = time.time()
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
        for key in ("accuracy", "fall_recall", "adl_specificity", "f1", "roc_auc", "balanced_accuracy"):
            v = np.array([fr["test"][key] for fr in cv["folds"]], float)
            cv[key] = {"mean": float(np.nanmean(v)), "std": float(np.nanstd(v))}
        timings["cv"] = time.time() - t0

    study = None
    if cfg.study_epochs:
        t0 = time.time()
        study = {"schedule": f"float32, full mode, up to {cfg.cv_epochs} epochs, patience {cfg.cv_patience}, every {cfg.cv_fall_hop}th fall "
                 f"window start, SisFall ADL windows kept {cfg.cv_adl_keep_sisfall:.0%}, same split as the main models; "
                 "test windows rotated by one fixed random rotation each"}
        for name, rot in (("with_rotation_aug", True), ("without_rotation_aug", False)):
            study[name] = reduced_float_run(tfs, sidx["train"], sidx["val"], sidx["test"], "full", cfg, rot, SEED + 50,
                                            f"rotation study ({name})", rotated_test=True)
        timings["rotation_study"] = time.time() - t0

    timings["total"] = time.time() - t_start
    report = make_report(tfs, split, trigger, results, cv, study, unreadable, counters, cfg, timings)
    report["sisfall_source"] = f"{sisfall_dir} at {sisfall_rate} Hz" if sisfall_dir else None
    report["git_commit"] = git_rev
    report["datasets"] = list(datasets)
    write_outputs(out, report, results, tfs)
    card = make_card(report, results, split, trigger, cfg)
    (out / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
    for mode in pp.MODES:
        (out / FILES[mode]).write_bytes(results[mode]["blobs"]["qat_int8"])
    (out / "MODEL_CARD.md").write_text(render_model_card_md(out))
    if install:
        dst = REPO_ROOT / "models"
        dst.mkdir(exist_ok=True)
        for fn in (*FILES.values(), "model_card.json", "MODEL_CARD.md"):
            shutil.copyfile(out / fn, dst / fn)
        log(f"installed models and card into {dst}")
    log(f"total wall time {timings['total']:.0f} s; outputs in {out}")
    return report


def make_report(tfs, split, trigger, results, cv, study, unreadable, counters, cfg, timings) -> dict:
    models = []
    for mode in pp.MODES:
        for k in KINDS:
            m = {kk: vv for kk, vv in results[mode]["models"][k].items() if not kk.startswith("_")}
            models.append(m)
    diffs = {}
    targets = {}
    for mode in pp.MODES:
        r = results[mode]["models"]
        q, p, f = r["qat_int8"]["test"], r["ptq_int8"]["test"], r["float32"]["test"]
        diffs[mode] = {
            "qat_minus_ptq": {k: q[k] - p[k] for k in ("accuracy", "fall_recall", "adl_specificity", "balanced_accuracy", "f1", "roc_auc")},
            "qat_minus_float32": {k: q[k] - f[k] for k in ("accuracy", "fall_recall", "adl_specificity", "balanced_accuracy", "f1", "roc_auc")},
        }
        targets[mode] = {
            "qat_fall_recall_ge_98": q["fall_recall"] >= 0.98,
            "qat_adl_specificity_ge_98": q["adl_specificity"] >= 0.98,
            "qat_within_0.5pt_of_float32_accuracy": abs(q["accuracy"] - f["accuracy"]) <= 0.005,
            "qat_balanced_acc_ge_ptq": q["balanced_accuracy"] >= p["balanced_accuracy"],
            "qat_size_le_32kb": r["qat_int8"]["size_bytes"] <= 32 * 1024,
        }
    n_trials = {}
    for t in tfs:
        key = f"{t.trial.dataset}/{'fall' if t.trial.is_fall else 'adl'}"
        n_trials[key] = n_trials.get(key, 0) + 1
    return {
        "quick_mode": cfg.quick,
        "config": {k: v for k, v in cfg.__dict__.items()},
        "seed": SEED,
        "git_commit": _git_rev(),
        "host": {"python": platform.python_version(), "machine": platform.machine(), "cpus": __import__("os").cpu_count()},
        "preprocessing_version": pp.PREPROCESSING_VERSION,
        "split": split,
        "n_trials": n_trials,
        "unreadable": {"count": len(unreadable), "files": unreadable},
        "ingest_counters": counters,
        "trigger": trigger,
        "models": models,
        "differences": diffs,
        "targets": targets,
        "training": {mode: {kk: results[mode][kk] for kk in ("best_epoch", "epochs_run", "train_seconds", "windows", "class_weight")}
                     for mode in pp.MODES},
        "io": {mode: results[mode]["io"] for mode in pp.MODES},
        "cross_validation": cv,
        "rotation_study": study,
        "timings_seconds": timings,
    }


def _plots(out: Path, report, results, tfs):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    for r, mode in enumerate(pp.MODES):
        for c, ph in enumerate(("pretrain", "qat")):
            h = results[mode]["history"][ph]
            ax = axes[r][c]
            ax.plot(h["loss"], label="train loss (weighted, augmented)")
            ax.plot(h["val_loss"], label="val loss (rotated)")
            ax.set_title(f"{mode} {ph}")
            ax.set_xlabel("epoch")
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "training_curves.png", dpi=90)
    plt.close(fig)

    for mode in pp.MODES:
        fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
        for ax, k in zip(axes, KINDS):
            t = results[mode]["models"][k]["test"]
            cm = np.array([[t["tn"], t["fp"]], [t["fn"], t["tp"]]])
            ax.imshow(cm, cmap="Blues")
            for (i, j), v in np.ndenumerate(cm):
                ax.text(j, i, str(v), ha="center", va="center", color="black")
            ax.set_xticks([0, 1], ["pred ADL", "pred fall"])
            ax.set_yticks([0, 1], ["ADL", "fall"])
            ax.set_title(f"{mode} {k} (thr {results[mode]['models'][k]['threshold']:.3f})", fontsize=9)
        fig.tight_layout()
        fig.savefig(out / f"confusion_{mode}.png", dpi=90)
        plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, mode in zip(axes, pp.MODES):
        te = results[mode]["test_windows"]
        for k in KINDS:
            fpr, tpr = roc_curve(te.label, results[mode]["models"][k]["_scores"])
            ax.plot(fpr, tpr, label=f"{k} AUC {results[mode]['models'][k]['test']['roc_auc']:.4f}")
        ax.set_xscale("symlog", linthresh=0.01)
        ax.set_xlabel("false positive rate (ADL windows)")
        ax.set_ylabel("fall recall")
        ax.set_title(f"ROC {mode} (held-out test subjects)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "roc.png", dpi=90)
    plt.close(fig)

    fig, axes = plt.subplots(2, 1, figsize=(14, 8))
    for ax, mode in zip(axes, pp.MODES):
        pa = results[mode]["models"]["qat_int8"]["per_activity"]
        names = sorted(pa)
        vals, cols = [], []
        for a in names:
            v = pa[a]["fall_recall"] if pa[a]["fall_recall"] is not None else pa[a]["adl_specificity"]
            vals.append(v if v is not None else 0)
            cols.append("tab:red" if pa[a]["fall_recall"] is not None else "tab:blue")
        ax.bar(range(len(names)), vals, color=cols)
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
        ax.set_ylim(0.5, 1.01)
        ax.set_title(f"{mode} QAT int8: per-activity recall (red: fall windows of fall trials, blue: ADL trials)")
    fig.tight_layout()
    fig.savefig(out / "per_activity_recall.png", dpi=90)
    plt.close(fig)


def _fmt(v, pct=True):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "n/a"
    return f"{100 * v:.2f}" if pct else f"{v:.4f}"


def write_outputs(out: Path, report, results, tfs):
    (out / "report.json").write_text(json.dumps(report, indent=2, default=float) + "\n")
    _plots(out, report, results, tfs)
    L = []
    L.append(f"# Guardian training report{' (QUICK MODE: few subjects and epochs, not for release)' if report['quick_mode'] else ''}\n")
    L.append(f"git commit `{report['git_commit']}`, seed {report['seed']}, preprocessing_version {report['preprocessing_version']}, "
             f"total wall time {report['timings_seconds']['total']:.0f} s on {report['host']['cpus']} CPUs.\n")
    L.append("All metrics below are computed by running the `.tflite` files through `ai_edge_litert.interpreter.Interpreter` "
             "on windows of held-out **test subjects** (window level, hop 25 aligned as in docs/PREPROCESSING.md, ambiguous "
             "windows excluded, original sensor orientation). Thresholds were chosen on validation subjects only.\n")
    if report.get("datasets"):
        L.append(f"Datasets: {', '.join(report['datasets'])}." + (
            " **Reduced schedule** (side study, not for release): " + json.dumps(
                {k: report['config'][k] for k in ('pre_epochs', 'qat_epochs', 'pre_patience', 'qat_patience')}) if report["config"].get("reduced") else "") + "\n")
    L.append("Thresholds (validation only): " + "; ".join(
        f"{m['name']} {m['threshold']:.4f} (max-bal-acc alternative {m['threshold_max_bal_acc_gated_val']:.4f}; validation gated "
        f"recall {_fmt(m['val_gated']['fall_recall'])} %, specificity {_fmt(m['val_gated']['adl_specificity'])} %)"
        for m in report["models"] if "val_gated" in m) + "\n")
    s = report["split"]
    L.append("## Split (subject-wise, seed fixed)\n")
    for k in ("train", "val", "test"):
        L.append(f"- **{k}** ({len(s[k])}): {', '.join(s[k])}")
    L.append(f"\nTrials: {report['n_trials']}. Unreadable trials: **{report['unreadable']['count']}**"
             + ("".join(f"\n  - {u['trial']}: {u['error']}" for u in report["unreadable"]["files"])) + "\n")
    L.append(f"Ingest counters (all trials): `{json.dumps(report['ingest_counters'])}`\n")
    L.append("## Held-out test metrics (window level)\n")
    L.append("| model | size KB | threshold | accuracy % | fall recall % | ADL specificity % | balanced acc % | F1 % | ROC AUC | n fall / n ADL |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for m in report["models"]:
        t = m["test"]
        L.append(f"| {m['name']} | {m['size_kb']:.1f} | {m['threshold']:.4f} | {_fmt(t['accuracy'])} | {_fmt(t['fall_recall'])} | "
                 f"{_fmt(t['adl_specificity'])} | {_fmt(t['balanced_accuracy'])} | {_fmt(t['f1'])} | {_fmt(t['roc_auc'], False)} | "
                 f"{t['n_fall']} / {t['n_adl']} |")
    L.append("\n### Differences (percentage points)\n")
    L.append("| mode | QAT - PTQ acc | QAT - PTQ bal. acc | QAT - float32 acc | QAT - float32 bal. acc | QAT - float32 AUC |")
    L.append("|---|---|---|---|---|---|")
    for mode, d in report["differences"].items():
        L.append(f"| {mode} | {100*d['qat_minus_ptq']['accuracy']:+.2f} | {100*d['qat_minus_ptq']['balanced_accuracy']:+.2f} | "
                 f"{100*d['qat_minus_float32']['accuracy']:+.2f} | {100*d['qat_minus_float32']['balanced_accuracy']:+.2f} | "
                 f"{d['qat_minus_float32']['roc_auc']:+.4f} |")
    tr = report["trigger"]
    L.append(f"\n## Impact trigger\n\n`trigger_g = {tr['trigger_g']}` g. Rule: {tr['rule']}. Train+val falls below it: "
             f"{tr['train_val_falls_below']}/{tr['n_train_val_falls']}. **Test falls the trigger would miss: "
             f"{tr['test_falls_missed']}/{tr['n_test_falls']}.**\n")
    L.append("Window metrics restricted to trigger-gated windows (band max |a| >= trigger_g; what the engine runs the model on), "
             "and system-level metrics over all test windows (a window the trigger does not open counts as predicted ADL):\n")
    L.append("| model | gated n fall / n ADL | gated recall % | gated specificity % | system recall % | system specificity % | system accuracy % |")
    L.append("|---|---|---|---|---|---|---|")
    for m in report["models"]:
        g, sy = m["test_gated"], m["test_system"]
        L.append(f"| {m['name']} | {g['n_fall']} / {g['n_adl']} | {_fmt(g['fall_recall'])} | {_fmt(g['adl_specificity'])} | "
                 f"{_fmt(sy['fall_recall'])} | {_fmt(sy['adl_specificity'])} | {_fmt(sy['accuracy'])} |")
    L.append("\n## Targets (QAT int8, held-out test subjects)\n")
    for mode, t in report["targets"].items():
        for k, v in t.items():
            L.append(f"- {mode} {k}: **{'met' if v else 'MISSED'}**")
    L.append(TARGET_NOTE)
    L.append("\n## Per-activity recall (QAT int8)\n")
    for mode in pp.MODES:
        pa = next(m for m in report["models"] if m["name"] == f"{mode}/qat_int8")["per_activity"]
        L.append(f"\n**{mode}** (fall windows: recall; ADL windows: specificity)\n")
        L.append("| activity | dataset | n fall win | fall recall % | n ADL win | ADL specificity % |")
        L.append("|---|---|---|---|---|---|")
        for a, v in sorted(pa.items()):
            L.append(f"| {a} | {v['dataset']} | {v['n_fall_windows']} | {_fmt(v['fall_recall'])} | {v['n_adl_windows']} | {_fmt(v['adl_specificity'])} |")
    cv = report["cross_validation"]
    L.append("\n## Leave-subjects-out cross-validation\n")
    if cv:
        L.append(f"{len(cv['folds'])} folds over all subjects ({cv['schedule']}); float32 .tflite evaluated on each held-out fold:\n")
        L.append("| fold | test subjects | accuracy % | fall recall % | ADL specificity % | ROC AUC |")
        L.append("|---|---|---|---|---|---|")
        for i, f in enumerate(cv["folds"]):
            t = f["test"]
            L.append(f"| {i+1} | {len(f['test_subjects'])} | {_fmt(t['accuracy'])} | {_fmt(t['fall_recall'])} | {_fmt(t['adl_specificity'])} | {_fmt(t['roc_auc'], False)} |")
        L.append(f"| mean +- std | | {100*cv['accuracy']['mean']:.2f} +- {100*cv['accuracy']['std']:.2f} | "
                 f"{100*cv['fall_recall']['mean']:.2f} +- {100*cv['fall_recall']['std']:.2f} | "
                 f"{100*cv['adl_specificity']['mean']:.2f} +- {100*cv['adl_specificity']['std']:.2f} | "
                 f"{cv['roc_auc']['mean']:.4f} +- {cv['roc_auc']['std']:.4f} |")
    else:
        L.append("Not run in quick mode.")
    st = report["rotation_study"]
    L.append("\n## Effect of rotation augmentation\n")
    if st:
        L.append(f"{st['schedule']}.\n")
        L.append("| training | test acc % (original) | bal. acc % (original) | test acc % (rotated) | bal. acc % (rotated) | recall % (rotated) | spec % (rotated) |")
        L.append("|---|---|---|---|---|---|---|")
        for name in ("with_rotation_aug", "without_rotation_aug"):
            a, r = st[name]["test"], st[name]["test_rotated"]
            L.append(f"| {name} | {_fmt(a['accuracy'])} | {_fmt(a['balanced_accuracy'])} | {_fmt(r['accuracy'])} | {_fmt(r['balanced_accuracy'])} | "
                     f"{_fmt(r['fall_recall'])} | {_fmt(r['adl_specificity'])} |")
        L.append("\nMain models on randomly rotated test windows (same rotations):\n")
        for m in report["models"]:
            r = m["test_rotated"]
            L.append(f"- {m['name']}: accuracy {_fmt(r['accuracy'])} %, recall {_fmt(r['fall_recall'])} %, specificity {_fmt(r['adl_specificity'])} %")
    else:
        L.append("Not run in quick mode.")
    L.append("\n## Training\n")
    for mode, t in report["training"].items():
        L.append(f"- {mode}: windows {t['windows']}, class weights {t['class_weight']}, epochs run {t['epochs_run']} "
                 f"(best {t['best_epoch']}), seconds {{pretrain: {t['train_seconds']['pretrain']:.0f}, qat: {t['train_seconds']['qat']:.0f}}}")
    L.append(f"- wall time per stage (s): {json.dumps({k: round(v) for k, v in report['timings_seconds'].items()})}")
    L.append(f"- converted tensors/ops: {json.dumps(report['io'])}")
    c = report["config"]
    L.append(METHOD_NOTE.format(fall_hop=c["fall_hop"], adl_sf=c["adl_keep_sisfall"], val_keep=c["val_adl_keep_for_loss"],
                                gated_hop=c.get("gated_hop", 5), cap=c.get("gated_per_trial_cap", 12), gw=c.get("gated_adl_weight", 4.0),
                                minrec=c.get("threshold_min_recall", 0.99)))
    L.append("\nPlots: `training_curves.png`, `confusion_full.png`, `confusion_acc_only.png`, `roc.png`, `per_activity_recall.png`.\n")
    (out / "report.md").write_text("\n".join(L) + "\n")


TARGET_NOTE = """
If a target is marked MISSED it is reported as measured; nothing was tuned on the test subjects to reach
it. The main limits: window-level labels are strict (only windows whose band [40, 80) holds the impact
are falls, and ADL windows include the walking/lying before and after each fall, plus vigorous ADLs such
as jumping, jogging and SisFall's D-codes with sit-down impacts), MobiFall's accelerometer saturates at
+-2 g per axis, and SisFall is worn at the waist while the target is a phone in a pocket.
"""

METHOD_NOTE = """
## Method

- Preprocessing: docs/PREPROCESSING.md v1 (ingest rules, 50 Hz linear resampling on t_k = k * 20 ms,
  fusion by k, features clipped to [-1, 1]); windows of 100 frames, impact = frame of largest |a| in a fall
  trial; window labels fall / ambiguous (excluded) / ADL via the band [40, 80).
- Training windows: every {fall_hop}th start whose band contains the impact (denser than hop 25, for fall
  augmentation), ADL windows at hop 25 (all MobiFall ADL windows, a seeded {adl_sf:.0%} of SisFall ADL windows for
  time). Each batch: a uniform random 3-D rotation per window (same rotation on acc and gyro, applied to
  the grid values before feature computation) and, for 30% of windows, per-axis acc clipping at +-2 g.
- Hard negatives (main models; not the CV folds or the rotation study): the engine scores only
  trigger-gated windows (band max |a| >= trigger_g), so every gated window of the training subjects' ADL
  trials at hop {gated_hop} is added (trials with more than {cap} gated windows, i.e. walking/jogging, keep a
  seeded random {cap}); every gated ADL training window gets loss weight x{gw:g} on top of the class weight.
- Threshold: the largest threshold keeping fall recall >= {minrec:.0%} on the trigger-gated validation
  windows at hop {gated_hop} (fall windows = starts whose band holds the impact). Missing a fall costs more
  than a false alarm and the event target is 97% sensitivity, so the rule fixes recall and takes all the
  specificity that is left; max balanced accuracy on the same windows is reported beside it.
- Model: Conv2D(16,(7,1))-MaxPool(2)-Conv2D(24,(5,1))-MaxPool(2)-Conv2D(32,(5,1))-MaxPool(5)-Dense(16)-Dense(1,
  sigmoid) over [1,100,1,C]. Pre-train Adam 1e-3, batch 64, balanced class weights, early stopping on
  validation loss (patience 15, best weights restored), ReduceLROnPlateau(0.5, patience 5), up to 100
  epochs. QAT: tfmot quantize_model, Adam 1e-4, up to 50 epochs, patience 10, class weights kept.
  Validation loss is measured on all validation fall windows and a seeded {val_keep:.0%} of the validation ADL windows,
  rotated by fixed random rotations.
- Conversion: float32; PTQ int8 with 500 (rotated) training windows as representative dataset; QAT int8.
  Static batch 1, int8 input/output for the int8 models.
- Rerun noise: seeds fixed (python, numpy, TF; TF_DETERMINISTIC_OPS=1, op determinism enabled) and the
  augmentation RNG is keyed by (seed, epoch, batch). On this machine with the pinned libraries a rerun
  reproduces bit-identical .tflite files and identical metrics (checked before the hard negatives were added:
  two full runs of efe130a, 1063 s and 847 s, gave the same SHA-256 for all six models and the same CV and
  rotation-study numbers; quick runs too; the rerun check of the current models is in docs/EVALUATION.md).
  On other CPUs/oneDNN builds float summation order can differ; expect differences of the order of 0.5
  points in window metrics (not measured).
"""


def make_card(report, results, split, trigger, cfg) -> dict:
    models = {}
    for mode in pp.MODES:
        m = results[mode]["models"]["qat_int8"]
        io = results[mode]["io"]["qat_int8"]
        metrics = {k: m["test"][k] for k in ("accuracy", "fall_recall", "adl_specificity", "balanced_accuracy", "f1", "roc_auc", "n_fall", "n_adl")}
        metrics["trigger_gated"] = {k: m["test_gated"][k] for k in ("fall_recall", "adl_specificity", "accuracy", "n_fall", "n_adl")}
        metrics["system"] = {k: m["test_system"][k] for k in ("fall_recall", "adl_specificity", "accuracy")}
        models[mode] = {
            "file": FILES[mode],
            "channels": pp.channels(mode),
            "requires_gyro": mode == "full",
            "input": {"shape": io["input"]["shape"], "dtype": io["input"]["dtype"], "scale": io["input"]["scale"], "zero_point": io["input"]["zero_point"]},
            "output": {"shape": io["output"]["shape"], "dtype": io["output"]["dtype"], "scale": io["output"]["scale"], "zero_point": io["output"]["zero_point"]},
            "threshold": m["threshold"],
            "threshold_rule": m["threshold_rule"],
            "size_bytes": m["size_bytes"],
            "sha256": m["sha256"],
            "metrics": metrics,
            "metrics_scope": "held-out test subjects, window level, hop 25, ambiguous windows excluded, QAT int8 via LiteRT",
        }
    used = {t.split(":")[0] for k in split for t in split[k]}
    td = []
    for ds, key in (("mobifall", "mobifall"), ("sisfall", "sisfall-50hz"), ("umafall", "umafall")):
        if ds in used:
            name, cit, note = CITATIONS[key]
            if ds == "sisfall" and report.get("sisfall_source"):
                name = f"SisFall v1.0 ({report['sisfall_source']})"
            td.append({"name": name, "citation": cit, "notes": note,
                       "subjects": sorted(s for k in split for s in split[k] if s.startswith(ds + ":"))})
    return {
        "schema_version": 1,
        "preprocessing_version": pp.PREPROCESSING_VERSION,
        "sample_rate_hz": pp.SAMPLE_RATE_HZ,
        "window_frames": pp.WINDOW,
        "hop_frames": pp.HOP,
        "band": list(pp.BAND),
        "trigger_g": trigger["trigger_g"],
        "trigger_rule": trigger["rule"],
        "trigger_test_falls_missed": f"{trigger['test_falls_missed']}/{trigger['n_test_falls']}",
        "models": models,
        "units": {
            "acc": "m/s^2 including gravity, Android device frame; feature = clip(a / (4 * 9.80665))",
            "gyro": "rad/s, Android device frame; feature = clip(w / 10)",
            "norm": "sqrt(x^2 + y^2 + z^2) before clipping",
            "score": "dequantized output = (q - zero_point) * scale, probability of fall in [0, 1]",
            "time": "int64 ns sensor clock; grid t_k = k * 20 ms",
        },
        "training_data": td,
        "split": split,
        "quick_mode": cfg.quick,
        "seed": SEED,
        "git_commit": report["git_commit"],
        "full_run_seconds": report["timings_seconds"]["total"],
    }


def card_markdown(card, report) -> str:
    L = ["# Guardian model card", ""]
    if card["quick_mode"]:
        L += ["**QUICK MODE MODELS** (few subjects, few epochs): for runtime testing only, not for release.", ""]
    L += [f"Generated by `python -m guardian_train train` (git `{card['git_commit']}`, seed {card['seed']}). "
          "Machine-readable: `model_card.json`. Full report: the run folder's `report.md`.", "",
          f"- Preprocessing: docs/PREPROCESSING.md version {card['preprocessing_version']}: {card['sample_rate_hz']} Hz grid, "
          f"windows of {card['window_frames']} frames (2 s), hop {card['hop_frames']}, band {card['band']}.",
          f"- Impact trigger: `trigger_g = {card['trigger_g']}` g ({card['trigger_rule']}); test falls it misses: {card['trigger_test_falls_missed']}.",
          "- Units: " + "; ".join(f"{k}: {v}" for k, v in card["units"].items()), ""]
    L += ["| model | file | channels | gyro required | input scale / zp | output scale / zp | threshold | size | test acc % | fall recall % | ADL spec % | AUC |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for mode, m in card["models"].items():
        mt = m["metrics"]
        L.append(f"| {mode} | `{m['file']}` | {', '.join(m['channels'])} | {m['requires_gyro']} | {m['input']['scale']:.6g} / {m['input']['zero_point']} | "
                 f"{m['output']['scale']:.6g} / {m['output']['zero_point']} | {m['threshold']:.4f} | {m['size_bytes']} B | "
                 f"{100*mt['accuracy']:.2f} | {100*mt['fall_recall']:.2f} | {100*mt['adl_specificity']:.2f} | {mt['roc_auc']:.4f} |")
    L += [""] + [f"- {mode}: sha256 `{m['sha256']}`; threshold rule: {m['threshold_rule']}" for mode, m in card["models"].items()]
    L += ["", "Metrics: " + card["models"]["full"]["metrics_scope"] + ".", "", "## Training data", ""]
    for d in card["training_data"]:
        L.append(f"- **{d['name']}** ({d['notes']}): {d['citation']} Subjects used: {len(d['subjects'])}.")
    L += ["", "## Split (subject-wise)", ""]
    for k, v in card["split"].items():
        L.append(f"- {k}: {', '.join(v)}")
    L += ["", "## Targets", ""]
    for mode, t in report["targets"].items():
        L.append(f"- {mode}: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in t.items()))
    L.append("")
    return "\n".join(L)


def render_model_card_md(run_dir: Path) -> str:
    """MODEL_CARD.md of a run folder: the card summary followed by the full measured report."""
    card = json.loads((run_dir / "model_card.json").read_text())
    report = json.loads((run_dir / "report.json").read_text())
    text = card_markdown(card, report)
    rep = (run_dir / "report.md").read_text()
    rep = rep.replace("# Guardian training report", "## Training report (copied from the run folder's report.md)", 1)
    rep = "\n".join(("#" + ln) if ln.startswith("## ") and not ln.startswith("## Training report") else ln for ln in rep.splitlines())
    return text + "\n" + rep + "\n"

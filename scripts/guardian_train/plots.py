"""The training report's plots: training curves, confusion matrices, ROC curves, per-activity recall."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import preprocessing as pp
from .config import KINDS
from .metrics import roc_curve


def write_plots(out: Path, results):
    """The PNGs report.md names, into `out`, from each mode's training results."""
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

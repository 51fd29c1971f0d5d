"""Subject-wise splits: the dataset groups, the seeded train/val/test split and the CV folds."""

from __future__ import annotations

import numpy as np


def subject_group(tfs, subj: str) -> str:
    """The stratification group of a subject: its dataset, split by what the subject recorded
    (MobiFall: with ADL or falls only; UMAFall: with falls or ADL only; SisFall: adult or elderly)."""
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
        groups.setdefault(subject_group(tfs, s), []).append(s)
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
    """k disjoint subject lists, stratified by dataset group (seeded)."""
    groups: dict[str, list[str]] = {}
    for s in subjects:
        groups.setdefault(subject_group(tfs, s), []).append(s)
    rng = np.random.default_rng(seed + 7)
    folds = [[] for _ in range(k)]
    i = 0
    for g in sorted(groups):
        for s in rng.permutation(sorted(groups[g])):
            folds[i % k].append(str(s))
            i += 1
    return [sorted(f) for f in folds]


def trial_indices(tfs, split: dict) -> dict[str, list[int]]:
    """{train, val, test} subject lists -> the indices of their trials in `tfs`."""
    return {k: [i for i, t in enumerate(tfs) if t.trial.subject in set(v)] for k, v in split.items()}


def with_mode(tfs, idx, mode) -> list[int]:
    """The trials of `idx` that have frames of `mode` (accelerometer-only recordings have no full frames)."""
    return [i for i in idx if mode in tfs[i].frames]

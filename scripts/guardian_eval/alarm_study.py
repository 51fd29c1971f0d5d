"""What could still tell the remaining alarms from falls (issue 14): candidate signals, measured on the
cross-validation folds' test subjects with each fold's own models and the alarms `make eval-cv` recorded. An
analysis of the headline's errors, not a held-out test of a rule.

- Posture against the carrying axis: where the phone ends after the impact, measured from the axis it is carried in
  (the engine's long-run mean acceleration), for the phone calls that still alarm and for the phone-in-pocket falls.
- Lying flat before the jolt: rolling over in bed starts lying; so do some falls.
- Vertical speed: the full model has a gyroscope, so the orientation can be tracked through the fall and the
  acceleration turned into the vertical speed before the impact (a body that falls drops; one that rolls over in
  bed or sits down in a car barely does).
- Two training seeds averaged, given a second seed's folds (`cv --set seed=N`).

Nothing here is shipped: docs/EVALUATION.md gives the figures and why. (Rotation averaging, first measured
here, became the engine's `cube_rotations` scoring, docs/PREPROCESSING.md section 9a, and is measured at event
level by `cv --scoring`.) Run `python -m guardian_eval alarm-study`
after `make eval-cv` (about 10 min on 2 cores).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from guardian_train import preprocessing as pp
from guardian_train.datasets import REPO_ROOT, read_recording

CARRY_WARM_UP = 50  # frames of plain mean before the carrying axis turns exponential (guardian-core carry.rs)
CARRY_TAU_FRAMES = 50 * 120  # the engine's default carry time constant (120 s) in grid frames
SENSITIVITIES = (0.99, 0.98, 0.97)
SPEED_CUTS = (-0.6, -0.8, -1.0)  # m/s: an alarm needs a downward speed at least this large before the impact


def rotation_exp(w: np.ndarray) -> np.ndarray:
    """exp([w]x): the rotation by |w| rad about w (Rodrigues)."""
    th = float(np.linalg.norm(w))
    k = np.array([[0.0, -w[2], w[1]], [w[2], 0.0, -w[0]], [-w[1], w[0], 0.0]])
    if th < 1e-12:
        return np.eye(3) + k
    return np.eye(3) + np.sin(th) / th * k + (1 - np.cos(th)) / th**2 * (k @ k)


def min_vertical_speed(acc: np.ndarray, gyro: np.ndarray, impact: int, ref=(-100, -75), span=(-75, 10)) -> float:
    """Lowest vertical speed (m/s, negative = down) from `span[0]` to `span[1]` frames around frame `impact`:
    'up' is the mean acceleration over the `ref` frames, the device orientation follows the gyroscope (rad/s)
    from `span[0]`, and the vertical acceleration (gravity removed) is integrated at the 50 Hz grid."""
    dt = pp.DT_NS / 1e9
    up = acc[impact + ref[0] : impact + ref[1]].mean(axis=0)
    up = up / np.linalg.norm(up)
    rot, v, lowest = np.eye(3), 0.0, 0.0
    for j in range(impact + span[0], impact + span[1]):
        v += (float((rot @ acc[j]) @ up) - pp.G) * dt
        lowest = min(lowest, v)
        rot = rot @ rotation_exp(gyro[j] * dt)
    return lowest


def axis_angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle between the lines of `a` and `b` (sign ignored), degrees."""
    c = abs(float(a @ b)) / (np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.degrees(np.arccos(min(1.0, c))))


def carry_axis(acc: np.ndarray, upto: int) -> np.ndarray:
    """The engine's carrying orientation at frame `upto`: the plain mean of the first second, then an
    exponential average."""
    m = acc[:CARRY_WARM_UP].mean(axis=0)
    for j in range(CARRY_WARM_UP, upto):
        m = m + (acc[j] - m) / CARRY_TAU_FRAMES
    return m


def frames_of(path: str, mode: str) -> pp.Frames:
    raw = read_recording(path)
    return pp.process(raw.acc_t, raw.acc_v, raw.gyro_t, raw.gyro_v, mode)[0]


def results(cv_dir: Path, folds: set[str] | None = None):
    """(fold folder, card, one `guardian eval` result row) for every recording of every fold (of `folds`)."""
    for fold in sorted(cv_dir.glob("fold*")):
        if folds is not None and fold.name not in folds:
            continue
        card = json.loads((fold / "model_card.json").read_text())
        for sub in ("engine", "engine-acc"):
            f = fold / sub / "results.jsonl"
            if f.exists():
                for line in f.read_text().splitlines():
                    yield fold, card, json.loads(line)


def alarms(r: dict) -> list[int]:
    """Impact times (ns) of the fall alerts the engine raised on one recording."""
    return [e["impact_t_ns"] for e in r["events"] if e["kind"] == "fall"]


def frame_at(fr: pp.Frames, t_ns: int) -> int:
    return int(np.searchsorted(fr.k, t_ns // pp.DT_NS))


def gated_windows(fr: pp.Frames, trigger_g: float) -> tuple[np.ndarray, np.ndarray]:
    """The acc and gyro (zeros without one) grid values of the windows the trigger opens, at the engine's hop."""
    starts = pp.window_starts(fr.run)
    if len(starts) == 0:
        return np.zeros((0, pp.WINDOW, 3)), np.zeros((0, pp.WINDOW, 3))
    idx = starts[:, None] + np.arange(pp.WINDOW)[None]
    acc = fr.acc[idx]
    gated = pp.band_max_g(acc) >= trigger_g
    gyro = fr.gyro[idx][gated] if fr.gyro is not None else np.zeros_like(acc[gated])
    return acc[gated], gyro


def best_scores(cv_dir: Path, score, folds: set[str] | None = None) -> dict[tuple, list]:
    """{(fold, model): [(is_fall, best window score of each scoring), ...]} over every test recording; `score`
    maps (fold folder, card, model, acc windows, gyro windows) to one array of window scores per scoring; a
    recording where no window opens scores 0."""
    best: dict[tuple, list] = {}
    for fold, card, r in results(cv_dir, folds):
        mode = r["model"]
        acc, gyro = gated_windows(frames_of(r["path"], mode), card["trigger_g"])
        row = [r["is_fall"]]
        if len(acc):
            row += [float(s.max()) for s in score(fold, card, mode, acc, gyro)]
        best.setdefault((fold.name, mode), []).append(row)
    width = max(len(row) for rows in best.values() for row in rows)
    return {k: [row + [0.0] * (width - len(row)) for row in rows] for k, rows in best.items()}


def threshold_table(best: dict[tuple, list], names: list[str]) -> list[str]:
    """Per fold and model, the threshold that keeps a share of the fall trials (each by its best window, missed
    if none opened) and the ADL trials whose best window reaches it, summed over the folds."""
    lines = ["ADL trials whose best trigger-gated window reaches the threshold that keeps the share of fall trials "
             "(a fall trial by its best gated window, missed if none), per fold and summed; before the post-impact "
             "check, so most of them would not alarm.", "",
             "| model | scoring | " + " | ".join(f"ADL trials at {s:.0%} of falls" for s in SENSITIVITIES) + " |",
             "|---|---|" + "---|" * len(SENSITIVITIES)]
    for mode in pp.MODES:
        for col, name in enumerate(names, 1):
            counts = []
            for s in SENSITIVITIES:
                n = 0
                for (_fold, m), rows in sorted(best.items()):
                    if m != mode:
                        continue
                    falls = np.array([row[col] for row in rows if row[0]])
                    adl = np.array([row[col] for row in rows if not row[0]])
                    n += int(((adl >= np.quantile(falls, 1 - s)) & (adl > 0)).sum())
                counts.append(str(n))
            lines.append(f"| {mode} | {name} | " + " | ".join(counts) + " |")
    return lines


class FoldModels:
    """The folds' models, each loaded once into a `tflite_scorer`: {(fold folder, model): scorer}."""

    def __init__(self):
        self.cache: dict[tuple, object] = {}

    def get(self, fold: Path, card: dict, mode: str):
        key = (fold, mode)
        if key not in self.cache:
            from guardian_train import model as M

            self.cache[key] = M.tflite_scorer((fold / card["models"][mode]["file"]).read_bytes())
        return self.cache[key]


def seed_average(cv_dir: Path, other: Path) -> list[str]:
    """Each window scored by the fold's model, by the same fold's model of another training seed (`other`, a
    `cv --set seed=...` folder over the same folds) and by the mean of the two; over the folds `other` has
    evaluated."""
    from guardian_train import model as M

    models = FoldModels()

    def score(fold, card, mode, acc, gyro):
        x = M.make_features(acc, gyro, mode)
        twin = other / fold.name
        a = models.get(fold, card, mode)(x)
        b = models.get(twin, json.loads((twin / "model_card.json").read_text()), mode)(x)
        return a, b, (a + b) / 2

    done = {f.parent.parent.name for f in other.glob("fold*/engine/metrics.json")}
    return [f"Folds: {', '.join(sorted(done))}.", "",
            *threshold_table(best_scores(cv_dir, score, done), ["this seed", "the other seed", "mean of the two"])]


def carry_angles(cv_dir: Path) -> list[str]:
    """acc_only on UMAFall: the angle from the carrying axis to the mean acceleration 1-2.5 s after the impact,
    for every alarm on a phone call and every fall caught."""
    calls, falls = [], []
    for _, _, r in results(cv_dir):
        if r["model"] != "acc_only" or r["dataset"] != "umafall":
            continue
        times = alarms(r)
        if not times or (r["is_fall"] and not r["caught"]) or (not r["is_fall"] and r["activity"] != "MakingACall"):
            continue
        fr = frames_of(r["path"], "acc_only")
        acc = fr.acc.astype(np.float64)
        k = frame_at(fr, times[0])
        angle = axis_angle_deg(carry_axis(acc, k), acc[k + 50 : k + 125].mean(axis=0))
        (falls if r["is_fall"] else calls).append(angle)
    f = np.array(falls)
    lines = [f"UMAFall, acc_only: {len(calls)} phone calls that alarm, {len(f)} falls caught.", "",
             "| call alarm: angle from the carrying axis | falls caught at or below that angle |", "|---|---|"]
    lines += [f"| {a:.0f} deg | {int((f <= a).sum())} of {len(f)} |" for a in sorted(calls)]
    return lines


def flat_before(cv_dir: Path, limit_deg: float = 45.0) -> list[str]:
    """Every alarm of either model: whether the phone lay flat (its z axis within `limit_deg` of gravity) before
    the jolt, by the mean acceleration 2 s to 1 s before the impact and by the carrying axis; false alarms by
    activity, and the falls caught."""
    flat: dict[tuple, list[int]] = {}
    z = np.array([0.0, 0.0, 1.0])
    for _, _, r in results(cv_dir):
        times = alarms(r)
        if not times or (r["is_fall"] and not r["caught"]):
            continue
        fr = frames_of(r["path"], r["model"])
        acc = fr.acc.astype(np.float64)
        k = frame_at(fr, times[0])
        if k < 50:
            continue
        pre = acc[max(0, k - 100) : k - 50].mean(axis=0)
        counts = flat.setdefault((r["model"], "falls caught" if r["is_fall"] else r["activity"]), [0, 0, 0])
        counts[0] += axis_angle_deg(pre, z) < limit_deg
        counts[1] += axis_angle_deg(carry_axis(acc, k), z) < limit_deg
        counts[2] += 1
    lines = [f"Flat: the device's z axis within {limit_deg:.0f} deg of gravity.", "",
             "| model | alarms | flat 2 s to 1 s before the impact | carrying axis flat |", "|---|---|---|---|"]
    lines += [f"| {m} | {what} | {a} of {n} | {b} of {n} |" for (m, what), (a, b, n) in sorted(flat.items())]
    return lines


def vertical_speeds(cv_dir: Path) -> list[str]:
    """Full model: the lowest vertical speed before the impact for every false alarm and every fall caught,
    and how far the gyroscope's orientation and the accelerometer's disagree after the fall turned the phone."""
    fa, falls, residual, short = [], {}, {}, 0
    for _, _, r in results(cv_dir):
        if r["model"] != "full":
            continue
        times = alarms(r)
        if not times or (r["is_fall"] and not r["caught"]):
            continue
        fr = frames_of(r["path"], "full")
        acc, gyro = fr.acc.astype(np.float64), fr.gyro.astype(np.float64)
        k = frame_at(fr, times[0])
        lead = min(k, 100)  # 'up' from the first quarter of the (up to) 2 s before the impact
        if lead < 50 or k + 60 > len(acc):
            short += 1
            continue
        speed = min_vertical_speed(acc, gyro, k, ref=(-lead, -lead + 25), span=(-lead + 25, 10))
        if not r["is_fall"]:
            fa.append((r["activity"], speed))
            continue
        falls.setdefault(r["dataset"], []).append(speed)
        rot = np.eye(3)
        for j in range(k - 50, k + 50):
            rot = rot @ rotation_exp(gyro[j] * pp.DT_NS / 1e9)
        before, after = acc[k - 60 : k - 50].mean(axis=0), acc[k + 50 : k + 60].mean(axis=0)
        residual.setdefault(r["dataset"], []).append(axis_angle_deg(rot.T @ before, after))
    lines = ["| cut (m/s) | false alarms removed | " + " | ".join(f"{d} falls lost" for d in sorted(falls)) + " |",
             "|---|---|" + "---|" * len(falls)]
    for cut in SPEED_CUTS:
        lines.append(f"| {cut} | {sum(s > cut for _, s in fa)} of {len(fa)} | "
                     + " | ".join(f"{int((np.array(v) > cut).sum())} of {len(v)}" for _, v in sorted(falls.items())) + " |")
    lines += ["", "Gyroscope against accelerometer, 1 s before to 1 s after each fall caught (median angle between the "
              "orientation the gyroscope predicts and the one measured): "
              + ", ".join(f"{d} {np.median(v):.0f} deg" for d, v in sorted(residual.items())) + ".", "",
              "False alarms: " + ", ".join(f"{a} {s:.2f}" for a, s in sorted(fa)) + " (m/s).", "",
              f"Left out: {short} alarms less than 1 s after the recording's start or 1.2 s before its end."]
    return lines


def study(cv_dir: Path | None = None, other_seed: Path | None = None) -> str:
    cv_dir = cv_dir or REPO_ROOT / "out" / "cv"
    parts = ["## Posture against the carrying axis",
             *carry_angles(cv_dir), "", "## Lying flat before the impact", *flat_before(cv_dir), "",
             "## Vertical speed before the impact (full model)", *vertical_speeds(cv_dir)]
    if other_seed:
        parts += ["", f"## Two training seeds averaged ({other_seed.name})", *seed_average(cv_dir, other_seed)]
    return "\n".join(parts) + "\n"

"""Guardian preprocessing, implementing docs/PREPROCESSING.md (preprocessing_version 1) exactly.

Offline implementation: each sensor stream is ingested whole (rules R1-R6, sequential),
interpolated onto the grid t_k = k * DT per segment, and the two sensors are paired by k within
a clock epoch (a clock reset R4 of either sensor starts a new epoch, like the streaming fusion
restart). Features are computed in f64 from the f32 grid values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PREPROCESSING_VERSION = 1
SAMPLE_RATE_HZ = 50
DT_NS = 20_000_000
MAX_GAP_NS = 1_000_000_000
REORDER_NS = 100_000_000
MAX_ABS_T_NS = 1 << 62  # R1b: timestamps strictly within +-2^62 ns
WINDOW = 100
HOP = 25
BAND = (40, 80)
G = 9.80665
A_FS = 4.0 * G
W_FS = 10.0
CHANNELS_FULL = ["acc_x", "acc_y", "acc_z", "acc_norm", "gyro_x", "gyro_y", "gyro_z", "gyro_norm"]
CHANNELS_ACC = CHANNELS_FULL[:4]
MODES = ("full", "acc_only")

LABEL_ADL = 0
LABEL_FALL = 1
LABEL_AMBIGUOUS = -1


def channels(mode: str) -> list[str]:
    if mode == "full":
        return list(CHANNELS_FULL)
    if mode == "acc_only":
        return list(CHANNELS_ACC)
    raise ValueError(f"unknown mode {mode!r} (expected full or acc_only)")


@dataclass
class Counters:
    non_finite: int = 0
    out_of_range: int = 0
    duplicates: int = 0
    reordered: int = 0
    resets: int = 0
    gaps: int = 0
    accepted: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    def add(self, other: Counters) -> None:
        for k, v in other.__dict__.items():
            setattr(self, k, getattr(self, k) + v)


@dataclass
class Segment:
    """Accepted samples of one segment (restart-free run) of one sensor."""

    epoch: int  # number of clock resets (R4) seen before this segment
    t: np.ndarray  # int64 ns, strictly increasing
    v: np.ndarray  # float32 (n, 3)


@dataclass
class GridStream:
    """Grid values of one sensor: per epoch, increasing k."""

    epoch: np.ndarray  # int64 (m,)
    k: np.ndarray  # int64 (m,)
    v: np.ndarray  # float32 (m, 3)
    counters: Counters = field(default_factory=Counters)


def ingest(t_ns, xyz) -> tuple[list[Segment], Counters]:
    """Apply rules R1-R6 to one sensor stream in arrival order; return its segments."""
    t = np.asarray(t_ns, dtype=np.int64)
    v = np.asarray(xyz, dtype=np.float64).astype(np.float32)
    if v.ndim != 2 or v.shape[1] != 3 or v.shape[0] != t.shape[0]:
        raise ValueError("ingest expects t (n,) and xyz (n, 3)")
    c = Counters()
    n = t.shape[0]
    if n == 0:
        return [], c
    finite = np.isfinite(v).all(axis=1)
    in_range = (t > -MAX_ABS_T_NS) & (t < MAX_ABS_T_NS)
    d = np.diff(t)
    # fast path: nothing to reject, no restart
    if finite.all() and in_range.all() and (n == 1 or ((d > 0).all() and (d <= MAX_GAP_NS).all())):
        c.accepted = n
        return [Segment(0, t.copy(), v.copy())], c
    segments: list[Segment] = []
    cur: list[int] = []
    epoch = 0
    last_t = None
    for i in range(n):
        if not finite[i]:
            c.non_finite += 1
            continue
        if not in_range[i]:
            c.out_of_range += 1
            continue
        ti = int(t[i])
        if last_t is not None:
            if ti == last_t:
                c.duplicates += 1
                continue
            if ti < last_t:
                if ti >= last_t - REORDER_NS:
                    c.reordered += 1
                    continue
                c.resets += 1
                segments.append(Segment(epoch, t[cur], v[cur]))
                epoch += 1
                cur = []
                last_t = None
            elif ti - last_t > MAX_GAP_NS:
                c.gaps += 1
                segments.append(Segment(epoch, t[cur], v[cur]))
                cur = []
                last_t = None
        cur.append(i)
        last_t = ti
        c.accepted += 1
    if cur:
        segments.append(Segment(epoch, t[cur], v[cur]))
    return segments, c


def _ceil_div(a: np.ndarray | int, b: int):
    return -((-a) // b)


def interpolate_segment(t: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Section 4: grid values (k, f32 values) of one segment."""
    t = np.asarray(t, dtype=np.int64)
    k0 = int(_ceil_div(int(t[0]), DT_NS))
    k1 = int(t[-1] // DT_NS)
    if k1 < k0:
        return np.zeros(0, np.int64), np.zeros((0, 3), np.float32)
    k = np.arange(k0, k1 + 1, dtype=np.int64)
    tk = k * DT_NS
    idx = np.searchsorted(t, tk, side="left")  # first sample with t >= t_k
    out = np.empty((k.shape[0], 3), dtype=np.float32)
    first = idx == 0  # t_k == t[0]
    out[first] = v[0]
    rest = ~first
    b = idx[rest]
    a = b - 1
    num = (tk[rest] - t[a]).astype(np.float64)
    den = (t[b] - t[a]).astype(np.float64)
    f = (num / den)[:, None]
    va = v[a].astype(np.float64)
    vb = v[b].astype(np.float64)
    out[rest] = (va + (vb - va) * f).astype(np.float32)
    return k, out


def resample(t_ns, xyz) -> GridStream:
    """Ingest and interpolate one sensor stream."""
    segs, c = ingest(t_ns, xyz)
    ep, ks, vs = [], [], []
    for s in segs:
        k, v = interpolate_segment(s.t, s.v)
        ep.append(np.full(k.shape[0], s.epoch, np.int64))
        ks.append(k)
        vs.append(v)
    if not ks:
        return GridStream(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 3), np.float32), c)
    return GridStream(np.concatenate(ep), np.concatenate(ks), np.concatenate(vs), c)


@dataclass
class Frames:
    """Fused frames in consumption order. `run` numbers runs of consecutive k (window segments)."""

    k: np.ndarray  # int64 (n,)
    acc: np.ndarray  # float32 (n, 3)
    gyro: np.ndarray | None  # float32 (n, 3) in full mode
    run: np.ndarray  # int64 (n,)
    mode: str

    def __len__(self) -> int:
        return int(self.k.shape[0])


def _runs(epoch: np.ndarray, k: np.ndarray) -> np.ndarray:
    if k.shape[0] == 0:
        return np.zeros(0, np.int64)
    brk = np.ones(k.shape[0], dtype=bool)
    brk[1:] = (np.diff(k) != 1) | (np.diff(epoch) != 0)
    return np.cumsum(brk) - 1


def fuse(acc: GridStream, gyro: GridStream | None, mode: str) -> Frames:
    """Section 5. Full mode pairs by (epoch, k); acc_only takes the accelerometer's values."""
    if mode == "acc_only":
        return Frames(acc.k, acc.v, None, _runs(acc.epoch, acc.k), mode)
    if mode != "full":
        raise ValueError(f"unknown mode {mode!r}")
    if gyro is None:
        raise ValueError("full mode needs a gyroscope stream")
    # pair within the same epoch index of both sensors (fusion restarts on a reset of either)
    ka = acc.epoch * (1 << 40) + acc.k
    kg = gyro.epoch * (1 << 40) + gyro.k
    common, ia, ig = np.intersect1d(ka, kg, assume_unique=True, return_indices=True)
    # keep consumption order: by epoch then k (intersect1d sorts by key, which is that order)
    order = np.argsort(common, kind="stable")
    ia, ig = ia[order], ig[order]
    ep = acc.epoch[ia]
    k = acc.k[ia]
    return Frames(k, acc.v[ia], gyro.v[ig], _runs(ep, k), mode)


def features(fr: Frames) -> np.ndarray:
    """Section 6: (n, C) float64 features."""
    return features_from_values(fr.acc, fr.gyro if fr.mode == "full" else None)


def features_from_values(acc: np.ndarray, gyro: np.ndarray | None) -> np.ndarray:
    """Features from grid values; works on (..., 3) arrays (e.g. windows (N, 100, 3))."""
    a = np.asarray(acc, dtype=np.float64)
    parts = [a / A_FS, np.sqrt((a * a).sum(axis=-1, keepdims=True)) / A_FS]
    if gyro is not None:
        g = np.asarray(gyro, dtype=np.float64)
        parts += [g / W_FS, np.sqrt((g * g).sum(axis=-1, keepdims=True)) / W_FS]
    return np.clip(np.concatenate(parts, axis=-1), -1.0, 1.0)


def acc_magnitude(acc: np.ndarray) -> np.ndarray:
    """|a| in m/s^2 of f32 grid values (f64 arithmetic)."""
    a = np.asarray(acc, dtype=np.float64)
    return np.sqrt((a * a).sum(axis=-1))


def window_starts(run: np.ndarray, hop: int = HOP, window: int = WINDOW) -> np.ndarray:
    """Section 7: frame indices where a window starts (aligned to each run of consecutive k)."""
    if hop < 1:
        raise ValueError("hop must be >= 1")
    n = run.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    brk = np.flatnonzero(np.diff(run) != 0) + 1
    starts_of_runs = np.concatenate([[0], brk])
    ends = np.concatenate([brk, [n]])
    out = []
    for s, e in zip(starts_of_runs, ends):
        if e - s >= window:
            out.append(np.arange(s, e - window + 1, hop, dtype=np.int64))
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def impact_index(fr: Frames) -> int:
    """Section 8: frame index of the largest |a| (earliest on ties)."""
    if len(fr) == 0:
        return -1
    return int(np.argmax(acc_magnitude(fr.acc)))


def window_labels(starts: np.ndarray, impact: int | None, band=BAND, window: int = WINDOW) -> np.ndarray:
    """Section 8 labels for windows starting at frame indices `starts` (impact None: ADL trial).

    Frame indices are positions in the frames array; windows hold consecutive frames of one
    run, so the impact is inside a window exactly when its position is.
    """
    starts = np.asarray(starts, dtype=np.int64)
    lab = np.full(starts.shape[0], LABEL_ADL, dtype=np.int64)
    if impact is None or impact < 0:
        return lab
    rel = impact - starts
    inside = (rel >= 0) & (rel < window)
    in_band = (rel >= band[0]) & (rel < band[1])
    lab[inside] = LABEL_AMBIGUOUS
    lab[in_band] = LABEL_FALL
    return lab


def band_max_g(acc_windows: np.ndarray, band=BAND) -> np.ndarray:
    """Max |a| in g over each window's band; acc_windows (N, 100, 3)."""
    return acc_magnitude(acc_windows[:, band[0] : band[1]]).max(axis=1) / G


def round_half_away(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def quantize(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Section 9 input quantization."""
    q = round_half_away(np.asarray(x, dtype=np.float64) / float(scale)) + int(zero_point)
    return np.clip(q, -128, 127).astype(np.int8)


def dequantize(q, scale: float, zero_point: int) -> np.ndarray:
    return (np.asarray(q, dtype=np.float64) - zero_point) * scale


def process(acc_t, acc_v, gyro_t, gyro_v, mode: str) -> tuple[Frames, dict]:
    """Raw streams -> frames, with per-sensor counters."""
    a = resample(acc_t, acc_v)
    g = resample(gyro_t, gyro_v) if (mode == "full" or gyro_t is not None) else None
    if mode == "full" and g is None:
        raise ValueError("full mode needs gyroscope samples")
    fr = fuse(a, g, mode)
    counters = {"acc": a.counters.as_dict()}
    if g is not None:
        counters["gyro"] = g.counters.as_dict()
    return fr, counters


def frames_csv(fr: Frames, hop: int = HOP, quant: tuple[float, int] | None = None) -> str:
    """The parity CSV: header k,t_ns,window_start,<channels>[,q_<channels>], one row per frame.

    Features are printed with 17 significant digits (exact f64); with `quant` = (scale, zero_point)
    the section 9 quantized features follow.
    """
    feats = features(fr)
    ws = np.zeros(len(fr), dtype=bool)
    ws[window_starts(fr.run, hop)] = True
    names = channels(fr.mode)
    header = ["k", "t_ns", "window_start", *names]
    q = None
    if quant is not None:
        header += [f"q_{n}" for n in names]
        q = quantize(feats, quant[0], quant[1])
    lines = [",".join(header)]
    for i in range(len(fr)):
        k = int(fr.k[i])
        vals = ",".join(f"{x:.16e}" for x in feats[i])
        if q is not None:
            vals += "," + ",".join(str(int(v)) for v in q[i])
        lines.append(f"{k},{k * DT_NS},{int(ws[i])},{vals}")
    return "\n".join(lines) + "\n"

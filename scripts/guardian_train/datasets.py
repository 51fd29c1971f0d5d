"""Dataset readers: MobiFall v2, SisFall (50 Hz and original 200 Hz) and Guardian's CSV recordings.

Every reader returns raw streams in the physical convention of docs/PREPROCESSING.md section 1
(acc in m/s^2 with gravity, gyro in rad/s, t in int64 ns on one clock).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

G = 9.80665
# SisFall count conversions: value = (2 * range / 2^bits) * count
SISFALL_ACC_G_PER_COUNT = 2 * 16 / 2**13  # ADXL345, +-16 g, 13 bit
SISFALL_GYRO_DPS_PER_COUNT = 2 * 2000 / 2**16  # ITG3200, +-2000 deg/s, 16 bit

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = REPO_ROOT / ".cache" / "datasets"

LAYOUT = """Expected layout (extract ../shared/datasets/*.tar.xz with scripts/extract_datasets.sh, or set
GUARDIAN_DATASETS to a folder holding):
  <root>/mobifall-v2/subN/{ADL,FALLS}/CODE/CODE_{acc,gyro}_N_T.txt
  <root>/sisfall-50hz/SXnn/{Dxx,Fxx}_SXnn_Rnn.txt
  <root>/sisfall-200hz-sample/SXnn/{Dxx,Fxx}_SXnn_Rnn.txt   (optional)
  <root>/umafall-phone/UMAFall_Subject_NN_{ADL,Fall}_ACTIVITY_TRIAL_DATE.csv   (cross-validation)"""

MOBIFALL_FALLS = {"FOL", "FKL", "BSC", "SDL"}


class DatasetError(RuntimeError):
    pass


class RecordingFormatError(ValueError):
    pass


@dataclass
class Raw:
    acc_t: np.ndarray
    acc_v: np.ndarray
    gyro_t: np.ndarray | None
    gyro_v: np.ndarray | None


@dataclass
class Trial:
    dataset: str
    subject: str  # globally unique, e.g. "mobifall:sub3", "sisfall:SA01"
    activity: str
    trial: int
    is_fall: bool
    age_group: str  # "adult" / "elderly" (SisFall SA/SE); MobiFall: "adult"
    paths: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.subject}/{self.activity}/{self.trial}"


def datasets_root() -> Path:
    return Path(os.environ.get("GUARDIAN_DATASETS", str(DEFAULT_CACHE)))


def require_dataset(root: Path, name: str) -> Path:
    p = root / name
    if not p.is_dir():
        raise DatasetError(f"dataset {name!r} not found at {p}.\n{LAYOUT}")
    return p


# ---------------------------------------------------------------- MobiFall v2

_MF_RE = re.compile(r"^([A-Z]{3})_(acc|gyro|ori)_(\d+)_(\d+)\.txt$")


def read_mobifall_file(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """One MobiFall sensor file: '#' header, '@DATA', rows 'timestamp_ns, x, y, z'."""
    ts, vs = [], []
    in_data = False
    with open(path, encoding="latin-1") as f:
        for lineno, line in enumerate(f, 1):
            s = line.strip()
            if not in_data:
                if s.startswith("@DATA"):
                    in_data = True
                continue
            if not s:
                continue
            parts = s.split(",")
            if len(parts) != 4:
                raise RecordingFormatError(f"{path}:{lineno}: expected 'timestamp, x, y, z', got {s!r}")
            try:
                ts.append(int(parts[0]))
                vs.append((float(parts[1]), float(parts[2]), float(parts[3])))
            except ValueError as e:
                raise RecordingFormatError(f"{path}:{lineno}: {e}") from None
    if not in_data:
        raise RecordingFormatError(f"{path}: no @DATA line")
    if not ts:
        raise RecordingFormatError(f"{path}: no data rows")
    return np.asarray(ts, np.int64), np.asarray(vs, np.float64).reshape(-1, 3)


def list_mobifall(root: Path) -> list[Trial]:
    base = require_dataset(root, "mobifall-v2")
    groups: dict[tuple, dict] = {}
    for p in sorted(base.glob("sub*/*/*/*.txt")):
        m = _MF_RE.match(p.name)
        if not m:
            continue
        code, sensor, subj, trial = m.group(1), m.group(2), int(m.group(3)), int(m.group(4))
        if sensor == "ori":
            continue
        groups.setdefault((subj, code, trial), {})[sensor] = str(p)
    trials = []
    for (subj, code, trial), files in sorted(groups.items()):
        paths = [files.get("acc", ""), files.get("gyro", "")]
        trials.append(
            Trial("mobifall", f"mobifall:sub{subj}", code, trial, code in MOBIFALL_FALLS, "adult", paths)
        )
    if not trials:
        raise DatasetError(f"no MobiFall trials under {base}.\n{LAYOUT}")
    return trials


def read_mobifall(trial: Trial) -> Raw:
    acc_p, gyro_p = trial.paths
    if not acc_p:
        raise RecordingFormatError(f"{trial.key}: accelerometer file missing")
    at, av = read_mobifall_file(acc_p)
    gt = gv = None
    if gyro_p:
        gt, gv = read_mobifall_file(gyro_p)
    return Raw(at, av, gt, gv)


# ---------------------------------------------------------------- SisFall

_SF_RE = re.compile(r"^([DF]\d\d)_(S[AE]\d\d)_R(\d\d)\.txt$")


def read_sisfall_counts(path: str | Path) -> np.ndarray:
    """9 integer columns per row, ';' terminated (sometimes not). Returns (n, 9) int64."""
    rows = []
    with open(path, encoding="latin-1") as f:
        for lineno, line in enumerate(f, 1):
            s = line.strip().rstrip(";").strip()
            if not s:
                continue
            parts = s.split(",")
            if len(parts) != 9:
                raise RecordingFormatError(f"{path}:{lineno}: expected 9 columns, got {len(parts)}")
            try:
                rows.append([int(x) for x in parts])
            except ValueError as e:
                raise RecordingFormatError(f"{path}:{lineno}: {e}") from None
    if not rows:
        raise RecordingFormatError(f"{path}: no data rows")
    return np.asarray(rows, np.int64)


def sisfall_counts_to_raw(counts: np.ndarray, rate_hz: int) -> Raw:
    period = 1_000_000_000 // rate_hz
    t = np.arange(counts.shape[0], dtype=np.int64) * period
    acc = counts[:, 0:3].astype(np.float64) * SISFALL_ACC_G_PER_COUNT * G
    gyro = counts[:, 3:6].astype(np.float64) * SISFALL_GYRO_DPS_PER_COUNT * (np.pi / 180.0)
    return Raw(t, acc, t.copy(), gyro)


def list_sisfall(root: Path, name: str = "sisfall-50hz", label: str | None = None) -> list[Trial]:
    """SisFall trials under root/name. The rate comes from the label: '200hz' in it means the
    original 200 Hz files (t = i * 5 ms), otherwise 50 Hz (t = i * 20 ms)."""
    base = require_dataset(root, name)
    label = label or name
    trials = []
    for p in sorted(base.glob("S*/*.txt")):
        m = _SF_RE.match(p.name)
        if not m:
            continue
        code, subj, rep = m.group(1), m.group(2), int(m.group(3))
        trials.append(
            Trial(
                label,
                f"sisfall:{subj}",
                code,
                rep,
                code.startswith("F"),
                "elderly" if subj.startswith("SE") else "adult",
                [str(p)],
            )
        )
    if not trials:
        raise DatasetError(f"no SisFall trials under {base}.\n{LAYOUT}")
    return trials


def read_sisfall(trial: Trial) -> Raw:
    rate = 200 if "200hz" in trial.dataset else 50
    return sisfall_counts_to_raw(read_sisfall_counts(trial.paths[0]), rate)


# ---------------------------------------------------------------- Guardian CSV recordings


def read_recording(path: str | Path) -> Raw:
    """CSV rows 't_ns,sensor,x,y,z' (sensor acc|gyro); '#' comments, optional header line."""
    acc_t, acc_v, gyro_t, gyro_v = [], [], [], []
    seen_data = False
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            parts = [p.strip() for p in s.split(",")]
            if not seen_data and parts == ["t_ns", "sensor", "x", "y", "z"]:
                seen_data = True
                continue
            seen_data = True
            if len(parts) != 5:
                raise RecordingFormatError(f"{path}:{lineno}: expected 5 fields 't_ns,sensor,x,y,z', got {len(parts)}")
            try:
                t = int(parts[0])
            except ValueError:
                raise RecordingFormatError(f"{path}:{lineno}: bad t_ns {parts[0]!r}") from None
            if not (-(2**63) <= t < 2**63):
                raise RecordingFormatError(f"{path}:{lineno}: t_ns out of i64 range")
            try:
                xyz = (float(parts[2]), float(parts[3]), float(parts[4]))
            except ValueError:
                raise RecordingFormatError(f"{path}:{lineno}: bad value in {s!r}") from None
            if parts[1] == "acc":
                acc_t.append(t)
                acc_v.append(xyz)
            elif parts[1] == "gyro":
                gyro_t.append(t)
                gyro_v.append(xyz)
            else:
                raise RecordingFormatError(f"{path}:{lineno}: unknown sensor {parts[1]!r} (acc|gyro)")
    at = np.asarray(acc_t, np.int64)
    av = np.asarray(acc_v, np.float64).reshape(-1, 3)
    if gyro_t:
        return Raw(at, av, np.asarray(gyro_t, np.int64), np.asarray(gyro_v, np.float64).reshape(-1, 3))
    return Raw(at, av, None, None)


def write_recording(path: str | Path, rows) -> None:
    """rows: iterable of (t_ns, sensor, x, y, z)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("t_ns,sensor,x,y,z\n")
        for t, s, x, y, z in rows:
            f.write(f"{int(t)},{s},{float(x)!r},{float(y)!r},{float(z)!r}\n")


# ---------------------------------------------------------------- UMAFall (phone accelerometer only)

_UMA_RE = re.compile(r"^UMAFall_Subject_(\d+)_(ADL|Fall)_(.+)_(\d+)_\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}\.csv$")
_UMA_AGE_RE = re.compile(r"^#\s*Age:\s*(\d+)")
ELDERLY_MIN_AGE = 60  # UMAFall records ages; SisFall's elderly group is 60-75


def _umafall_age(path: Path) -> int | None:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                return None
            m = _UMA_AGE_RE.match(line)
            if m:
                return int(m.group(1))
    return None


def list_umafall(root: Path) -> list[Trial]:
    """UMAFall phone trials (recording CSVs, accelerometer only); subject ids `umafall:S03`.

    A trial number that repeats for one subject and activity (a re-recording on another date) is
    numbered on after the largest one, in file-name (date) order, so every trial keeps its own key."""
    base = require_dataset(root, "umafall-phone")
    trials: list[Trial] = []
    seen: dict[tuple[str, str], set[int]] = {}
    for p in sorted(base.glob("UMAFall_Subject_*.csv")):
        m = _UMA_RE.match(p.name)
        if not m:
            continue
        subj, kind, activity, rep = f"umafall:S{int(m.group(1)):02d}", m.group(2), m.group(3), int(m.group(4))
        used = seen.setdefault((subj, activity), set())
        if rep in used:
            rep = max(used) + 1
        used.add(rep)
        age = _umafall_age(p)
        group = "elderly" if age is not None and age >= ELDERLY_MIN_AGE else "adult"
        trials.append(Trial("umafall", subj, activity, rep, kind == "Fall", group, [str(p)]))
    if not trials:
        raise DatasetError(f"no UMAFall trials under {base}.\n{LAYOUT}")
    return trials


def read_trial(trial: Trial) -> Raw:
    if trial.dataset == "mobifall":
        return read_mobifall(trial)
    if trial.dataset.startswith("sisfall"):
        return read_sisfall(trial)
    if trial.dataset == "umafall":
        return read_recording(trial.paths[0])
    raise ValueError(trial.dataset)


def trials_digest(trials: list[Trial], prefix: str):
    """A sha256 over `prefix` and every trial file's path, size and mtime: the cache key of
    anything derived from these trials (training frames, exported recordings)."""
    h = hashlib.sha256()
    h.update(prefix.encode())
    for t in trials:
        for p in t.paths:
            if p:
                st = Path(p).stat()
                h.update(f"{p}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h


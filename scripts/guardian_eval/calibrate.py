"""Event-level threshold choice: the engine on the validation subjects, fewest errors (issue 14).

The training pipeline picks each model's threshold from window scores: the largest that keeps 99% of the
validation fall trials above it. That rule sees no false alarm and is set by the one or two validation falls
the model scores lowest; on the cross-validation folds it gave thresholds from 1/128 to 0.44 for the same
architecture and data, and where it fell low the folds raised ten times the false alarms for a fall or two.
Here the threshold is chosen where the product is judged: `guardian eval` runs the real engine, at each
candidate threshold, on the validation subjects' recordings, and counts errors (falls missed + false alarms,
the count the training settings are chosen by). The fewest errors alone is a noisy choice: the error curve is
flat near its minimum, a fall or an alarm more or less moves the minimum far along it, and the five folds' thresholds
ranged from 0.094 to 0.53 (acc_only) and 0.19 to 0.78 (full). So the choice is the middle of the candidates within `TOLERANCE` errors of the fewest.
That rule and its tolerance were chosen by cross-fitting on the folds' validation subjects (`rule-study`).
Test subjects are never looked at.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from guardian_train.data import ACC_ONLY_DATASETS
from guardian_train.datasets import REPO_ROOT

from .export import DATASETS, export
from .run_all import _binary, engine_env

CANDIDATES = [1 / 256] + [k / 32 for k in range(1, 32)]  # the lowest int8 score step, then steps of 1/32
TOLERANCE = 3  # errors (falls missed + false alarms) above the fewest that a candidate may have and still count
RULE = ("event level: the engine runs on the validation subjects' recordings at each candidate threshold (1/256 or a "
        f"multiple of 1/32); of the candidates within {TOLERANCE} falls missed plus false alarms of the fewest, the "
        "middle one (the upper middle of an even count)")
SENSORS = {"full": "full", "acc_only": "acc-only"}


def counts(metrics_file: Path, mode: str) -> dict:
    """Falls caught, fall trials, ADL false alarms and hours of one `guardian eval` run."""
    g = json.loads(metrics_file.read_text())["models"][mode]["groups"]["overall"]
    return {"caught": g["falls_caught"], "falls": g["fall_trials"], "false_alarms": g["adl"]["false_alarms"],
            "adl_hours": g["adl"]["hours"]}


def run_at(binary: Path, card: dict, model_dir: Path, mode: str, threshold: float, labels: dict[str, Path],
           work: Path) -> dict:
    """`guardian eval` of `mode` with `threshold` on `labels` ({dataset: labels file}); `work` holds a
    copy of the models (the engine reads model files from the card's own folder only)."""
    d = work / mode
    if not d.exists():
        copy_models(model_dir, d)
    c = json.loads(json.dumps(card))
    c["models"][mode]["threshold"] = threshold
    (d / "model_card.json").write_text(json.dumps(c))
    files = [p for ds, p in labels.items() if mode == "acc_only" or ds not in ACC_ONLY_DATASETS]
    cmd = [str(binary), "eval", "--model", str(d), "--sensors", SENSORS[mode], "--out", str(d / "eval")]
    for p in files:
        cmd += ["--labels", str(p)]
    r = subprocess.run(cmd, env=engine_env(), capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"error: {' '.join(cmd)} failed:\n{r.stderr}")
    return {"threshold": threshold, **counts(d / "eval" / "metrics.json", mode)}


def errors(row: dict) -> int:
    """Falls missed plus false alarms."""
    return row["falls"] - row["caught"] + row["false_alarms"]


def pick(rows: list[dict], tolerance: int = TOLERANCE) -> dict:
    """Of the rows within `tolerance` errors of the fewest, the middle one by threshold (the upper middle of an
    even count)."""
    fewest = min(errors(r) for r in rows)
    near = sorted((r for r in rows if errors(r) <= fewest + tolerance), key=lambda r: r["threshold"])
    return near[len(near) // 2]


def write_card(card_file: Path, card: dict) -> None:
    """Replaces `card_file` with `card` in one step: a reader never sees half a card."""
    tmp = card_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(card, indent=2) + "\n")
    tmp.replace(card_file)


def is_calibrated(model_dir: Path) -> bool:
    """Whether `model_dir`'s card already holds event-level thresholds chosen by today's `RULE` for the scoring
    it states (a retrained card does not, nor one whose scoring or rule changed)."""
    card = json.loads((model_dir / "model_card.json").read_text())
    return all(m.get("threshold_calibration", {}).get("scoring") == m["scoring"] and m.get("threshold_rule") == RULE
               for m in card["models"].values())


def calibrate(model_dir: Path, labels: dict[str, Path], binary: Path) -> dict:
    """Chooses both models' thresholds on `labels` (the validation subjects' recordings) and writes
    them into `model_dir`'s card, keeping the window-level choice in `threshold_calibration`."""
    card_file = model_dir / "model_card.json"
    card = json.loads(card_file.read_text())
    out = {}
    with tempfile.TemporaryDirectory(prefix="guardian-calibrate-") as tmp:
        for mode in card["models"]:
            rows = [run_at(binary, card, model_dir, mode, t, labels, Path(tmp)) for t in CANDIDATES]
            chosen = pick(rows)
            out[mode] = {"threshold": chosen["threshold"], "chosen": chosen, "scanned": rows, "rule": RULE}
    for mode, r in out.items():
        m = card["models"][mode]
        prior = m.get("threshold_calibration", {}).get("window_level_threshold", m["threshold"])
        prior_rule = m.get("threshold_calibration", {}).get("window_level_rule", m.get("threshold_rule", ""))
        m["threshold"] = r["threshold"]
        m["threshold_rule"] = r["rule"]
        m["threshold_calibration"] = {
            "window_level_threshold": prior,
            "window_level_rule": prior_rule,
            "scoring": m["scoring"],
            "validation_falls": r["chosen"]["falls"],
            "validation_falls_caught": r["chosen"]["caught"],
            "validation_false_alarms": r["chosen"]["false_alarms"],
            "validation_adl_hours": round(r["chosen"]["adl_hours"], 4),
            "validation_datasets": sorted(d for d in labels if mode == "acc_only" or d not in ACC_ONLY_DATASETS),
        }
    write_card(card_file, card)
    (model_dir / "calibration.json").write_text(json.dumps(out, indent=1) + "\n")
    md = model_dir / "MODEL_CARD.md"
    if md.exists():
        md.write_text(with_calibration_note(md.read_text(), card), encoding="utf-8")
    return out


NOTE_HEADING = "## Thresholds chosen at event level"


def with_calibration_note(text: str, card: dict) -> str:
    """MODEL_CARD.md `text` with its calibration section (after the summary, before the training report)
    saying which thresholds the card holds now; the window-level tables keep the training's thresholds."""
    lines = [NOTE_HEADING, "", f"`model_card.json` holds thresholds chosen by `python -m guardian_eval calibrate` ({RULE}). "
             "The window-level tables here were measured at the training pipeline's thresholds, which they replaced:", ""]
    for mode, m in card["models"].items():
        c = m["threshold_calibration"]
        lines.append(f"- {mode} (scoring `{m['scoring']}`): {c['window_level_threshold']:.4f} -> **{m['threshold']:.4f}**; on the validation subjects "
                     f"({', '.join(c['validation_datasets'])}) {c['validation_falls_caught']}/{c['validation_falls']} falls caught, "
                     f"{c['validation_false_alarms']} false alarms in {c['validation_adl_hours']:.2f} h of ADL")
    note = "\n".join(lines) + "\n\n"
    start = text.find(NOTE_HEADING)
    if start >= 0:
        end = text.find("\n## ", start + len(NOTE_HEADING))
        return text[:start] + note + (text[end + 1:] if end >= 0 else "")
    at = text.find("\n## Training report")
    return text + "\n" + note if at < 0 else text[:at + 1] + note + text[at + 1:]


def copy_models(src: Path, dst: Path) -> None:
    """The card and model files of `src` into `dst` (for a calibration that must leave `src` as it is)."""
    dst.mkdir(parents=True, exist_ok=True)
    card = json.loads((src / "model_card.json").read_text())
    shutil.copyfile(src / "model_card.json", dst / "model_card.json")
    for m in card["models"].values():
        shutil.copyfile(src / m["file"], dst / m["file"])


def run_calibrate(args) -> int:
    """`calibrate`: the card's own validation subjects of every dataset, exported, then `calibrate`."""
    model_dir = args.model or REPO_ROOT / "models"
    labels = {}
    for d in DATASETS:
        out = REPO_ROOT / ".cache" / "eval" / f"{d}-val"
        export(d, "val", out, model_dir / "model_card.json", quiet=True)
        labels[d] = out / "labels.csv"
    for mode, r in calibrate(model_dir, labels, _binary(args.bin)).items():
        c = r["chosen"]
        print(f"{mode}: threshold {r['threshold']:.4f} (validation: {c['caught']}/{c['falls']} falls caught, "
              f"{c['false_alarms']} false alarms in {c['adl_hours']:.2f} h)")
    return 0

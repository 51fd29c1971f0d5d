"""The model card (model_card.json): what the engine reads and what the run measured, and
MODEL_CARD.md, its summary. The layout is `models/model_card.schema.json`, which the Rust core
(rust/guardian-core/src/card.rs) is tested against too."""

from __future__ import annotations

import json
from pathlib import Path

from . import json_schema
from . import preprocessing as pp
from .config import FILES
from .datasets import REPO_ROOT

CARD_SCHEMA_VERSION = 2  # the card layout; the core refuses any other (card.rs CARD_SCHEMA_VERSION)
# How the engine scores each model's triggered windows (docs/PREPROCESSING.md section 9a), chosen on the
# cross-validation folds' validation subjects (fewest falls missed + false alarms, summed over the folds):
# the mean over the 24 rotations of the cube for acc_only (44 errors against 48; a tie, 27 each, on folds 1-3
# of another training seed), one window for full (33 against 34).
# `python -m guardian_eval cv --scoring MODE=SCORING` measures another choice.
SCORING = {"full": "window", "acc_only": "cube_rotations"}
SCORINGS = ("window", "cube_rotations")
SCHEMA_PATH = REPO_ROOT / "models" / "model_card.schema.json"
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


def make_card(report, results, split, trigger, cfg) -> dict:
    """The card of a run: the QAT int8 models, the grid, the trigger, the training data and the split."""
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
            "scoring": SCORING[mode],
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
        "schema_version": CARD_SCHEMA_VERSION,
        "preprocessing_version": pp.PREPROCESSING_VERSION,
        "sample_rate_hz": pp.SAMPLE_RATE_HZ,
        "window_frames": cfg.window_frames,
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
        "seed": cfg.seed,
        "git_commit": report["git_commit"],
        "full_run_seconds": report["timings_seconds"]["total"],
    }



def card_markdown(card, report) -> str:
    """MODEL_CARD.md's summary part."""
    L = ["# Guardian model card", ""]
    if card["quick_mode"]:
        L += ["**QUICK MODE MODELS** (few subjects, few epochs): for runtime testing only, not for release.", ""]
    L += [f"Generated by `python -m guardian_train train` (git `{card['git_commit']}`, seed {card['seed']}). "
          "Machine-readable: `model_card.json`. Full report: the run folder's `report.md`.", "",
          f"- Preprocessing: docs/PREPROCESSING.md version {card['preprocessing_version']}: {card['sample_rate_hz']} Hz grid, "
          f"windows of {card['window_frames']} frames ({card['window_frames'] / card['sample_rate_hz']:g} s), hop {card['hop_frames']}, band {card['band']}.",
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
    card = read_card(run_dir / "model_card.json")
    report = json.loads((run_dir / "report.json").read_text())
    text = card_markdown(card, report)
    rep = (run_dir / "report.md").read_text()
    rep = rep.replace("# Guardian training report", "## Training report (copied from the run folder's report.md)", 1)
    rep = "\n".join(("#" + ln) if ln.startswith("## ") and not ln.startswith("## Training report") else ln for ln in rep.splitlines())
    return text + "\n" + rep + "\n"


class CardError(ValueError):
    """A model card of another layout version than this pipeline writes and reads."""


def check_schema_version(card: dict, source: object = "card") -> None:
    """Refuses a card of another layout than CARD_SCHEMA_VERSION, as the core does."""
    v = card.get("schema_version")
    if v != CARD_SCHEMA_VERSION:
        raise CardError(f"{source}: schema_version {v!r}, but this pipeline reads version {CARD_SCHEMA_VERSION}")


def read_card(path: Path) -> dict:
    """A model_card.json, its schema_version checked."""
    card = json.loads(Path(path).read_text())
    check_schema_version(card, path)
    return card


def card_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


def schema_errors(card: dict) -> list[str]:
    """Where `card` breaks models/model_card.schema.json (empty: it conforms)."""
    return json_schema.errors(card, card_schema())

"""CLI: python -m guardian_eval {export,report,all,cv,choose,calibrate,rule-study,alarm-study} ..."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from guardian_train.card import SCORING, SCORINGS


def _scoring(text: str) -> tuple[str, str]:
    """`MODE=SCORING`, e.g. acc_only=window."""
    mode, _, scoring = text.partition("=")
    if mode not in SCORING or scoring not in SCORINGS:
        raise argparse.ArgumentTypeError(f"expected MODE=SCORING with MODE in {sorted(SCORING)} and SCORING in {list(SCORINGS)}, got {text!r}")
    return mode, scoring


def _setting(text: str) -> tuple[str, object]:
    """`KEY=VALUE` with a JSON value."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"{key}: value {value!r} is not JSON ({e})") from None


def main(argv=None) -> int:
    from .export import DATASETS, DEFAULT_CARD, SPLITS

    ap = argparse.ArgumentParser(prog="guardian_eval", description="Guardian event-level evaluation")
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export", help="write a dataset split as recordings + labels.csv")
    e.add_argument("--dataset", choices=DATASETS, required=True)
    e.add_argument("--split", choices=SPLITS, default="test")
    e.add_argument("--card", type=Path, default=DEFAULT_CARD, help="model card whose 'split' selects the subjects")
    e.add_argument("--out", type=Path, required=True)
    r = sub.add_parser("report", help="report.md, report.json and plots from `guardian eval` output")
    r.add_argument("--eval-dir", type=Path, action="append", required=True, help="output folder of `guardian eval` (repeatable)")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--title", default="Guardian event-level evaluation")
    r.add_argument("--max-timelines", type=int, default=40)
    a = sub.add_parser("all", help="export the card's test subjects of every dataset, run guardian eval (full, acc-only), report")
    a.add_argument("--out", type=Path, default=None, help="default out/eval")
    a.add_argument("--split", choices=SPLITS, default="test")
    a.add_argument("--model", type=Path, default=None, help="model folder (default: the shipped models)")
    a.add_argument("--card", type=Path, default=None, help="card with the split (default: the model's card)")
    a.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    a.add_argument("--config", type=Path, default=None, help="detector configuration JSON")
    a.add_argument("--docs", action="store_true", help="also write docs/EVALUATION.md and docs/eval/*.png")
    a.add_argument("--bin", type=Path, default=None, help="guardian binary (default target/release/guardian)")
    c = sub.add_parser("cv", help="k-fold leave-subjects-out cross-validation over MobiFall, SisFall and UMAFall (make eval-cv)")
    c.add_argument("--folds", type=int, default=5, help="number of folds (>= 2); every subject is tested exactly once")
    c.add_argument("--out", type=Path, default=None, help="default out/cv")
    c.add_argument("--full-schedule", action="store_true", help="train each fold with the release schedule, not the reduced one")
    c.add_argument("--retrain", action="store_true", help="train even where a fold's models are up to date")
    c.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="folds trained at once, one TensorFlow thread each (default: the machine's cores); results do not depend on it")
    c.add_argument("--only", type=int, nargs="+", default=None, help="run these folds only (1-based), e.g. to compare schedules")
    c.add_argument("--config", type=Path, default=None, help="detector configuration JSON for `guardian eval`")
    c.add_argument("--docs", action="store_true", help="also write docs/cv/ (the summary docs/EVALUATION.md starts with)")
    c.add_argument("--max-timelines", type=int, default=400, help="timelines drawn per fold report")
    c.add_argument("--bin", type=Path, default=None, help="guardian binary (default target/release/guardian)")
    c.add_argument("--set", type=_setting, action="append", default=[], metavar="KEY=VALUE",
                   help="training setting for every fold (a guardian_train Config field; repeatable), e.g. gated_adl_weight_full=8")
    c.add_argument("--scoring", type=_scoring, action="append", default=[], metavar="MODE=SCORING",
                   help="score MODE's windows another way than the card's default (repeatable), e.g. acc_only=window; "
                        "re-chooses that model's thresholds, retrains nothing")
    ch = sub.add_parser("choose", help="pick a training setting per model on the CV folds' validation subjects (nested)")
    ch.add_argument("--variant", type=Path, action="append", required=True,
                    help="a `cv --out` folder over the same folds (repeatable; the first is the default, ties go to it)")
    ch.add_argument("--out", type=Path, default=None, help="also write the report (markdown) here")
    ch.add_argument("--config", type=Path, default=None, help="detector configuration JSON for `guardian eval`")
    ch.add_argument("--bin", type=Path, default=None, help="guardian binary (default target/release/guardian)")
    cal = sub.add_parser("calibrate", help="choose a card's thresholds at event level on its validation subjects (make train)")
    cal.add_argument("--model", type=Path, default=None, help="model folder whose card is rewritten (default: models/)")
    cal.add_argument("--bin", type=Path, default=None, help="guardian binary (default target/release/guardian)")
    rs = sub.add_parser("rule-study", help="event-level threshold rules compared on the CV folds' validation subjects (after cv)")
    rs.add_argument("--cv", type=Path, default=None, help="a `cv --out` folder (default out/cv)")
    rs.add_argument("--bin", type=Path, default=None, help="guardian binary (default target/release/guardian)")
    rs.add_argument("--out", type=Path, default=None, help="also write the table (markdown) here")
    st = sub.add_parser("alarm-study", help="signals that might still tell the folds' remaining alarms from falls (after cv)")
    st.add_argument("--cv", type=Path, default=None, help="a `cv --out` folder (default out/cv)")
    st.add_argument("--other-seed", type=Path, default=None,
                    help="a `cv --set seed=N --out` folder over the same folds: also average the two seeds' scores")
    st.add_argument("--out", type=Path, default=None, help="also write the tables (markdown) here")
    args = ap.parse_args(argv)
    if args.cmd in ("alarm-study", "rule-study"):
        if args.cmd == "alarm-study":
            from .alarm_study import study

            text = study(args.cv, args.other_seed)
        else:
            from .rule_study import study

            text = study(args.cv, args.bin)
        print(text, end="")
        if args.out:
            args.out.write_text(text)
        return 0
    if args.cmd == "calibrate":
        from .calibrate import run_calibrate

        return run_calibrate(args)
    if args.cmd == "choose":
        from .choose import run_choose

        return run_choose(args)
    if args.cmd == "cv":
        if args.folds < 2:
            ap.error("--folds must be >= 2")
        if args.jobs < 1:
            ap.error("--jobs must be >= 1")
        from guardian_train.config import Config

        args.set = dict(args.set)
        try:
            Config.make_reduced().with_overrides(args.set)
        except ValueError as e:
            ap.error(str(e))
        from .cv import run_cv

        return run_cv(args)

    if args.cmd == "export":
        from .export import export

        export(args.dataset, args.split, args.out, args.card)
        return 0
    if args.cmd == "report":
        from .report import report

        report(args.eval_dir, args.out, title=args.title, max_timelines=args.max_timelines)
        return 0
    if args.cmd == "all":
        from .run_all import run_all

        return run_all(args)
    return 1


if __name__ == "__main__":
    sys.exit(main())

"""CLI: python -m guardian_train {train,frames,check-data} ..."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import RELEASE_DATASETS


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="guardian_train", description="Guardian training pipeline")
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train, convert, evaluate; write report, models and card")
    t.add_argument("--quick", action="store_true", help="few subjects and epochs (minutes); for tests")
    t.add_argument("--out", type=Path, default=None, help="run folder (default out/train/{full,quick})")
    t.add_argument("--install", action="store_true", help="copy the QAT models and card into models/")
    t.add_argument("--sisfall-dir", type=Path, default=None,
                   help="read SisFall from this folder (SXnn/*.txt) instead of <datasets>/sisfall-50hz, e.g. the original download")
    t.add_argument("--sisfall-rate", type=int, choices=[50, 200], default=50, help="row rate of --sisfall-dir files (original: 200)")
    t.add_argument("--datasets", nargs="+", choices=list(RELEASE_DATASETS), default=list(RELEASE_DATASETS),
                   help="train (split, trigger, threshold) on these datasets only, e.g. for cross-dataset studies")
    t.add_argument("--reduced", action="store_true",
                   help="reduced schedule (15+4 epochs, patience 5/2, no CV or rotation study); for side studies, not for release")
    f = sub.add_parser("frames", help="print the parity CSV of a recording (t_ns,sensor,x,y,z)")
    f.add_argument("file", type=Path)
    f.add_argument("--mode", choices=["full", "acc_only"], default="full")
    f.add_argument("--hop", type=int, default=25)
    f.add_argument("--scale", type=float, default=None, help="input scale: also print the quantized features")
    f.add_argument("--zero-point", type=int, default=0, help="input zero point (with --scale)")
    rc = sub.add_parser("render-card", help="rebuild MODEL_CARD.md of a run folder from its model_card.json and report.md")
    rc.add_argument("run_dir", type=Path)
    rc.add_argument("--install", action="store_true", help="also copy it into models/")
    args = ap.parse_args(argv)

    if args.cmd == "render-card":
        import shutil

        from .card import render_model_card_md
        from .datasets import REPO_ROOT

        (args.run_dir / "MODEL_CARD.md").write_text(render_model_card_md(args.run_dir))
        if args.install:
            shutil.copyfile(args.run_dir / "MODEL_CARD.md", REPO_ROOT / "models" / "MODEL_CARD.md")
        return 0

    if args.cmd == "frames":
        from . import preprocessing as pp
        from .datasets import read_recording

        raw = read_recording(args.file)
        if args.mode == "full" and raw.gyro_t is None:
            print("error: full mode needs gyro rows", file=sys.stderr)
            return 2
        gt = raw.gyro_t if args.mode == "full" else None
        gv = raw.gyro_v if args.mode == "full" else None
        fr, _ = pp.process(raw.acc_t, raw.acc_v, gt, gv, args.mode)
        quant = None if args.scale is None else (args.scale, args.zero_point)
        sys.stdout.write(pp.frames_csv(fr, args.hop, quant))
        return 0

    if args.cmd == "train":
        from .datasets import REPO_ROOT, DatasetError
        from .model import TRAIN_THREADS, use_threads
        from .train import run

        use_threads(TRAIN_THREADS)  # a fresh process: before TensorFlow's first op

        out = args.out or (REPO_ROOT / "out" / "train" / ("quick" if args.quick else "full"))
        try:
            run(args.quick, out, args.install, sisfall_dir=args.sisfall_dir, sisfall_rate=args.sisfall_rate,
                datasets=tuple(args.datasets), reduced=args.reduced)
        except DatasetError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())

"""``samm-synth features``: a recipe's spotting features into a release (``export``). Light: the handler imports
the heavy modules."""

from __future__ import annotations

import argparse
from pathlib import Path

from samm_synth_dataset import format as fmt
from samm_synth_dataset.spotting.recipes import DLIB68_LICENCE, LANDMARKS, RECIPES
from samm_synth_dataset.stages import WORKERS_HELP


def add_features_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``samm-synth features``."""
    p = subparsers.add_parser(
        "features", help="write a recipe's spotting features (optical flow of frame pairs) into a release",
        description="One row per frame pair (i, i + k) of every synthetic video, k per kind by the MEGC rule over "
                    "the release's intervals: data/features/<recipe>/<video>-<part>.parquet, listed in the "
                    "manifest with the recipe's parameters and version. Recipes: default (the spotting "
                    "benchmark's Farneback features), softnet (the published SOFTNet input: TV-L1, strain, three "
                    "ROIs at 42x42), mtsn (two 28x28 whole-face streams, k and 1).")
    p.add_argument("release", type=Path, help="a complete release with Parquet frames and intervals")
    p.add_argument("--recipe", default="default", help=f"feature recipe: {', '.join(RECIPES)} (default: default)")
    p.add_argument("--kinds", nargs="+", default=list(fmt.KINDS), metavar="KIND",
                   help="expression kinds whose k to use (ME MaE; default both)")
    p.add_argument("--landmarks", default="proportional", choices=LANDMARKS,
                   help="where the softnet regions come from: proportional points of the face crop (default) or "
                        f"dlib68, dlib's 68-point predictor on each video's first frame. {DLIB68_LICENCE}")
    p.add_argument("--source-root", type=Path, default=None,
                   help="with --originals-out: the corpus root the release was built from; the same features of "
                        "the ORIGINAL videos are written outside the release")
    p.add_argument("--originals-out", type=Path, default=None, metavar="DIR",
                   help="folder (outside the release) for the originals' features, in the release's layout")
    p.add_argument("--workers", type=int, default=None, help=WORKERS_HELP)
    p.set_defaults(func=_cmd_features)


def _cmd_features(args: argparse.Namespace) -> int:
    from samm_synth_dataset.spotting.export import export_features

    block = export_features(args.release, args.recipe, args.kinds, workers=args.workers, landmarks=args.landmarks,
                            source_root=args.source_root, originals_out=args.originals_out)
    if not block:  # a torchrun rank other than the main one
        return 0
    k = ", ".join(f"{kind} k={v}" for kind, v in block["k"].items())
    print(f"wrote {block['files']} files, {block['rows']} pairs of {args.recipe} features ({k}; "
          f"{' × '.join(str(s) for s in block['shape'])} {block['dtype']}) into "
          f"{args.release / fmt.FEATURES_DIR / args.recipe}")
    if args.originals_out is not None:
        print(f"wrote the originals' features into {args.originals_out / fmt.FEATURES_DIR / args.recipe}")
    return 0

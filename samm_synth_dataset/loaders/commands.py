"""`samm-synth` subcommands of the loaders stage: ``splits``."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``samm-synth splits``."""
    p = subparsers.add_parser(
        "splits",
        help="write leave-one-subject-out folds to <release>/splits/loso.json",
        description="One fold per SOURCE subject: every synthetic video of the subject's source videos (all "
                    "references) is in the fold's test list, never in train. Each fold carries the MEGC k per "
                    "kind from its training intervals: floor((mean(offset - onset) + 1) / 2).",
    )
    p.add_argument("release", type=Path, help="a built release directory")
    p.add_argument("--real-videos", type=Path, default=None,
                   help="optional CSV `video,subject` of real source videos to mix into the folds")
    p.add_argument("--test-on", choices=("all", "synthetic", "real"), default="all",
                   help="which of the test subject's videos form each fold's test list (default all)")
    p.set_defaults(func=_cmd_splits)


def _cmd_splits(args: argparse.Namespace) -> int:
    import pandas as pd

    from samm_synth_dataset import format as fmt

    real = None
    if args.real_videos is not None:
        if not args.real_videos.is_file():
            raise FileNotFoundError(f"{args.real_videos}: real-videos CSV not found")
        real = pd.read_csv(args.real_videos, dtype=str)
    path = fmt.write_splits(args.release, real_videos=real, test_on=args.test_on)
    folds = fmt.read_splits(path)
    print(f"wrote {path}: {len(folds)} folds")
    for f in folds:
        print(f"  {f.test_subject}: train {len(f.train)} videos, test {len(f.test)}, k {f.k}")
    return 0

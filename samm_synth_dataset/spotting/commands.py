"""`samm-synth` subcommands of the spotting baseline: ``spotting-benchmark``."""

from __future__ import annotations

import argparse
from pathlib import Path

from samm_synth_dataset.stages import WORKERS_HELP


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``samm-synth spotting-benchmark``."""
    p = subparsers.add_parser(
        "spotting-benchmark",
        help="train the SOFTNet spotting baseline on real / synthetic / real+synthetic videos, test on real ones",
        description="LOSO by source subject; every fold is tested on the ORIGINAL videos of the held-out subject "
                    "(from --source-root, cropped with the release's per-video crop). Writes "
                    "quality/spotting.json and quality/spotting/<protocol>_<subject>.csv (vid,onset,offset,type); "
                    "`samm-synth report` then shows the utility table and figures.",
    )
    p.add_argument("release", type=Path, help="a built release directory (with intervals)")
    p.add_argument("--source-root", type=Path, required=True,
                   help="the corpus root the release was built from (the original frames)")
    p.add_argument("--protocols", default="real,synthetic,real+synthetic",
                   help="comma-separated, of real, synthetic, real+synthetic (default all three)")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default 10, SOFTNet's)")
    p.add_argument("--seed", type=int, default=0, help="seed of weights, sampling and shuffles (default 0)")
    p.add_argument("--lr", type=float, default=None, help="SGD learning rate (default 0.0005, SOFTNet's)")
    p.add_argument("--batch-size", type=int, default=None, help="batch size (default 12, SOFTNet's)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda or auto (cuda when present)")
    p.add_argument("--workers", type=int, default=None, help=WORKERS_HELP)
    p.set_defaults(func=_cmd_spotting_benchmark)


def _cmd_spotting_benchmark(args: argparse.Namespace) -> int:
    from samm_synth_dataset.spotting import benchmark

    protocols = benchmark.parse_protocols(args.protocols)
    base = benchmark.BenchmarkSettings()
    settings = benchmark.BenchmarkSettings(epochs=args.epochs or base.epochs, seed=args.seed, lr=args.lr or base.lr,
                                   batch_size=args.batch_size or base.batch_size, device=args.device)
    doc = benchmark.run_benchmark(args.release, args.source_root, protocols, settings, workers=args.workers)
    if not doc:  # a torchrun rank other than the main one: it extracted its share of the features
        return 0
    print(benchmark.format_table(doc))
    print(f"wrote {args.release / benchmark.SPOTTING_JSON}")
    return 0

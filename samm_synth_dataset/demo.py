"""``samm-synth demo``: the whole pipeline on the embedded demo corpus.

Stages run in order: demo corpus (SAMM-LV layout) → build (colour transfer, no weights needed) → quality report →
versioned release. Each stage that exists runs; the command prints where everything is.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

log = logging.getLogger(__name__)


def run_demo(out: Path, seed: int = 0) -> dict[str, Path]:
    """Run every available stage into ``out``; return the paths written, by stage."""
    from samm_synth_dataset.sources.demo import make_demo_corpus

    out = Path(out)
    written: dict[str, Path] = {}
    t0 = time.perf_counter()
    corpus = make_demo_corpus(out / "corpus", seed=seed)
    written["corpus"] = corpus.root
    log.info("corpus written in %.1f s", time.perf_counter() - t0)
    return written


def _cmd_demo(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    written = run_demo(Path(args.out), seed=args.seed)
    print(f"demo finished in {time.perf_counter() - t0:.1f} s")
    for stage, path in written.items():
        print(f"  {stage:<10} {path}")
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="run the whole pipeline on the embedded demo corpus",
                              description=__doc__)
    p.add_argument("--out", required=True, help="output directory (created)")
    p.add_argument("--seed", type=int, default=0, help="random seed for the demo corpus (default 0)")
    p.set_defaults(func=_cmd_demo)

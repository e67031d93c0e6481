"""`samm-synth` subcommands of the builders stage: ``build``, ``finalize``, ``verify``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from samm_synth_dataset import settings
from samm_synth_dataset.builders.config import BuildConfig


def _config_from_args(args: argparse.Namespace) -> BuildConfig:
    """The ``BuildConfig`` of a ``build`` command line: the flags given, over the ``--config`` file when one is
    given; without it ``--source-root``, ``--references`` and ``--out`` are required."""
    values = settings.given(args, BuildConfig)
    if args.config:
        return BuildConfig.from_toml(args.config, **values)
    missing = settings.missing_required(BuildConfig, values)
    if missing:
        raise ValueError(f"missing {', '.join(missing)} (or give them in --config FILE.toml)")
    return BuildConfig(**values)


def _cmd_build(args: argparse.Namespace) -> int:
    from samm_synth_dataset.builders.pipeline import build

    summary = build(_config_from_args(args))
    print(summary.format())
    if summary.failed:
        print(f"{len(summary.failed)} unit(s) failed; fix their inputs (or exclude them) and re-run with --resume",
              file=sys.stderr)
        return 1
    return 0


def _cmd_finalize(args: argparse.Namespace) -> int:
    from samm_synth_dataset.builders.finalize import finalize

    manifest = finalize(Path(args.release))
    s = manifest["summary"]
    print(f"{args.release}: complete — {s['videos']} videos, {s['frames']} frames, {s['files']} files, "
          f"{s['bytes'] / 1e6:.1f} MB")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from samm_synth_dataset import format as fmt

    report = fmt.verify(Path(args.release), check_rows=not args.no_rows)
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for p in report.problems:
        print(f"{args.release}/{p}", file=sys.stderr)
    if report.problems:
        print(f"verify: {len(report.problems)} problem(s) in {report.checked} file(s)", file=sys.stderr)
        return 1
    print(f"verify: {report.checked} file(s) match the manifest")
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``build``, ``finalize`` and ``verify``."""
    p = subparsers.add_parser(
        "build", help="build a release (synthetic frames, tables, manifest)",
        description="Restyle source long videos with reference faces and write a release folder. Crash-safe: "
                    "re-run with --resume after an interruption. Under `torchrun --nproc-per-node N` each rank "
                    "builds its share and rank 0 finalizes.")
    p.add_argument("--config", help="TOML file with build settings (flags given here override it)")
    settings.add_arguments(p, BuildConfig)
    p.set_defaults(func=_cmd_build)

    p = subparsers.add_parser("finalize", help="merge a build's markers into tables and manifest.json",
                              description="Finish a release whose units are all built (e.g. after a torchrun "
                                          "job whose rank 0 did not finalize).")
    p.add_argument("release", help="release folder")
    p.set_defaults(func=_cmd_finalize)

    p = subparsers.add_parser("verify", help="check every file of a release against its manifest",
                              description="Recompute sizes, sha256 and row counts; exit 1 naming each file "
                                          "that is missing or differs.")
    p.add_argument("release", help="release folder")
    p.add_argument("--no-rows", action="store_true", help="skip the row counts (sha256 only)")
    p.set_defaults(func=_cmd_verify)

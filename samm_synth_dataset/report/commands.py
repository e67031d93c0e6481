"""`samm-synth report`: the quality report (its flags come from ``ReportSettings``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from samm_synth_dataset import settings
from samm_synth_dataset.distributed import dist_info
from samm_synth_dataset.report.report_settings import ReportSettings


def _cmd_report(args: argparse.Namespace) -> int:
    from samm_synth_dataset.report.report import make_report

    result = make_report(args.release, source_root=args.source_root,
                         settings=settings.settings_from_args(args, ReportSettings, progress=not args.quiet))
    if not dist_info().is_main:
        return 0
    quality = Path(args.release) / "quality"
    print(f"quality report: {quality / 'report.html'} (also report.md, report.json, figures/)")
    for what, why in result["skipped"].items():
        print(f"  skipped {what}: {why}")
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``report``."""
    p = subparsers.add_parser(
        "report", help="write the quality report (quality/report.{md,html,json}, figures)",
        description="AU agreement (needs data/aus), onset→apex optical flow, temporal stability and identity (need the "
                    "original frames), written into <release>/quality/; skipped parts are named with the reason.")
    p.add_argument("release", help="a complete release directory")
    p.add_argument("--source-root", help="the source corpus the release was built from (default: the manifest's)")
    settings.add_arguments(p, ReportSettings)
    p.set_defaults(func=_cmd_report)

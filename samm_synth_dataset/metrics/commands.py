"""`samm-synth` subcommand of the metrics stage: ``aus`` (OpenFace AU tracks)."""

from __future__ import annotations

import argparse
from pathlib import Path

from samm_synth_dataset.distributed import dist_info
from samm_synth_dataset.stages import WORKERS_HELP


def _cmd_aus(args: argparse.Namespace) -> int:
    from samm_synth_dataset.metrics.au_export import export_aus

    coverage = export_aus(args.release, source_root=args.source_root, openface_bin=args.openface_bin,
                          original_csv_dir=args.original_csv_dir, synthetic_csv_dir=args.synthetic_csv_dir,
                          au_static=args.au_static, openface_args=args.openface_args, work_dir=args.work_dir,
                          keep_frames=args.keep_frames, progress=not args.quiet, workers=args.workers)
    if not dist_info().is_main:
        return 0
    print(f"wrote {len(coverage)} AU track files to {Path(args.release) / 'data' / 'aus'}")
    if len(coverage):
        print(coverage.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        low = coverage[coverage["both_success"] < 0.9]
        if len(low):
            print(f"warning: {len(low)} videos have OpenFace tracking in both tracks on < 90% of frames: "
                  f"{', '.join(low['video'])}")
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``aus``."""
    p = subparsers.add_parser(
        "aus", help="OpenFace AU tracks of the original and synthetic videos into data/aus/",
        description="Export each synthetic video's frames and its original's (same crop) to image folders, run "
                    "OpenFace FeatureExtraction on both (or read precomputed CSVs named <video>.csv), and write "
                    "data/aus/<video>.parquet aligned by source frame number; updates the manifest.")
    p.add_argument("release", help="a complete release directory")
    p.add_argument("--source-root", help="the source corpus the release was built from (default: the manifest's)")
    p.add_argument("--openface-bin", help="path of OpenFace's FeatureExtraction (default: on PATH)")
    p.add_argument("--original-csv-dir", help="precomputed OpenFace CSVs of the originals (<video>.csv or "
                                              "<source video>.csv)")
    p.add_argument("--synthetic-csv-dir", help="precomputed OpenFace CSVs of the synthetic videos (<video>.csv)")
    p.add_argument("--au-static", action="store_true", help="OpenFace's static AU models (-au_static)")
    p.add_argument("--openface-args", metavar="ARGS",
                   help="extra FeatureExtraction options, one shell-quoted string glued to the flag with '=', "
                        "recorded in the manifest; e.g. --openface-args='-mloc model/main_clnf_general.txt' for an "
                        "install without the CE-CLM model files (-fdir, -out_dir, -of, -aus are set by this command "
                        "and refused)")
    p.add_argument("--work-dir", help="where the exported frames and OpenFace outputs go (default: a temp dir)")
    p.add_argument("--keep-frames", action="store_true", help="keep the exported image folders")
    p.add_argument("--workers", type=int, default=None, help=WORKERS_HELP)
    p.set_defaults(func=_cmd_aus)

"""`samm-synth` subcommands of the builders stage: ``build``, ``finalize``, ``verify``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from samm_synth_dataset.transfer.engine import METHODS


def _config_from_args(args: argparse.Namespace) -> Any:
    from samm_synth_dataset.builders.config import BuildConfig, parse_formats

    values: dict[str, Any] = {
        "source_root": args.source_root, "references": args.references, "out": args.out,
        "dataset": args.dataset, "fps": args.fps, "annotations": args.annotations, "subjects": args.subjects,
        "boxes": args.boxes, "face_samples": args.face_samples, "image_size": args.image_size,
        "refs_per_subject": args.refs_per_subject, "method": args.method,
        "checkpoint": args.checkpoint, "fan_checkpoint": args.fan_checkpoint,
        "align_landmarks": args.align_landmarks,
        "formats": parse_formats(args.format) if args.format else None, "image_format": args.image_format,
        "jpeg_quality": args.jpeg_quality, "max_part_mb": args.max_part_mb, "max_part_frames": args.max_part_frames,
        "batch_size": args.batch_size, "seed": args.seed, "device": args.device,
        "videos": tuple(args.videos) if args.videos else None,
        "exclude_videos": tuple(args.exclude_videos) if args.exclude_videos else None,
        "offset_fill": args.offset_fill,
        "casme3_rules": tuple(args.casme3_rule) if args.casme3_rule else None,
    }
    if args.allow_gaps:
        values["allow_gaps"] = True
    if args.no_labels:
        values["no_labels"] = True
    if args.hash_sources:
        values["hash_sources"] = True
    if args.resume:
        values["resume"] = True
    if args.no_progress:
        values["progress"] = False
    if args.config:
        return BuildConfig.from_toml(args.config, **values)
    missing = [f"--{k.replace('_', '-')}" for k in ("source_root", "references", "out") if values[k] is None]
    if missing:
        raise ValueError(f"missing {', '.join(missing)} (or give them in --config FILE.toml)")
    return BuildConfig(**{k: v for k, v in values.items() if v is not None})


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
    from samm_synth_dataset.builders.manifest import finalize

    manifest = finalize(Path(args.release))
    s = manifest["summary"]
    print(f"{args.release}: complete — {s['videos']} videos, {s['frames']} frames, {s['files']} files, "
          f"{s['bytes'] / 1e6:.1f} MB")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from samm_synth_dataset.format import verify

    report = verify(Path(args.release), check_rows=not args.no_rows)
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
    p.add_argument("--dataset", choices=("samm-lv", "casme2", "casme3", "generic"),
                   help="source layout (default samm-lv)")
    p.add_argument("--source-root", help="folder of the source frames (e.g. the SAMM-LV root)")
    p.add_argument("--annotations", help="annotation sheet (SAMM-LV xlsx, CAS(ME)² xlsx, CAS(ME)³ xls/xlsx, or "
                                         "CSV for generic)")
    p.add_argument("--references", help="references CSV (subject,reference_path,domain[,reference_id]) or a "
                                        "folder with female/ and male/ (needs --subjects)")
    p.add_argument("--subjects", help="CSV subject,gender[,glasses]")
    p.add_argument("--boxes", help="CSV video,x,y,w,h of face crop boxes in source pixels, used as the crop "
                                   "(made square about the centre; else the face is located)")
    p.add_argument("--face-samples", type=int, help="frames sampled per video to locate the face (default 25)")
    p.add_argument("--image-size", type=int, help="synthetic frame side in pixels (colour transfer; default 256)")
    p.add_argument("--refs-per-subject", type=int, help="references per subject (default 1)")
    p.add_argument("--method", choices=list(METHODS), help="default color-transfer")
    p.add_argument("--checkpoint", help="StarGAN v2 checkpoint (.pt/.ckpt, loaded weights-only)")
    p.add_argument("--fan-checkpoint", help="FAN landmark checkpoint (optional, for StarGAN v2 masks)")
    p.add_argument("--align-landmarks", metavar="NPZ",
                   help="official celeba_lm_mean.npz: refine each video's crop once by the StarGAN v2 FAN alignment "
                        "(stargan-v2 only)")
    p.add_argument("--format", choices=("parquet", "webdataset", "both"), help="frame files (default parquet)")
    p.add_argument("--image-format", choices=("jpeg", "png"), help="default jpeg")
    p.add_argument("--jpeg-quality", type=int, help="default 95")
    p.add_argument("--max-part-mb", type=float, help="max encoded image MiB per part (default 500)")
    p.add_argument("--max-part-frames", type=int, help="max frames per part (default: no limit)")
    p.add_argument("--batch-size", type=int, help="frames per transfer batch (default 8)")
    p.add_argument("--seed", type=int, help="seed of the reference assignment (default 0)")
    p.add_argument("--fps", type=float, help="source frame rate override (needed for generic image folders)")
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:1 ...")
    p.add_argument("--videos", nargs="+", help="build only these source videos")
    p.add_argument("--exclude-videos", nargs="+", help="leave these source videos out (recorded as skipped)")
    p.add_argument("--offset-fill", choices=("apex", "mirror", "error"),
                   help="CAS(ME)²/CAS(ME)³ offset 0 (not annotated): apex = offset := apex (default), mirror = "
                        "offset := 2·apex − onset, error = refuse such rows")
    p.add_argument("--casme3-rule", action="append", metavar="NAME=VALUE",
                   help="CAS(ME)³ fix rule, repeatable (as inspect-source): onset_zero=keep|first_frame|error, "
                        "apex_zero=null|error, onset_after_offset=swap|error, apex_outside=keep|null|error, "
                        "long_me=keep|macro|error, long_mae=keep|error, long_me_frames=N, long_mae_frames=N")
    p.add_argument("--allow-gaps", action="store_true",
                   help="source frame numbers missing inside a video are recorded (build summary, plan "
                        "missing_frames) and left out of the release instead of stopping the build")
    p.add_argument("--no-labels", action="store_true",
                   help="build without --annotations on purpose: no intervals, every me/mae False (recorded in the "
                        "manifest and stated in the card); without it a build with no annotations is refused")
    p.add_argument("--hash-sources", action="store_true",
                   help="fingerprint the source frames by their bytes too (default: names, sizes, modification "
                        "times), so that --resume refuses frames changed since their units were built")
    p.add_argument("--resume", action="store_true", help="continue an interrupted build in --out (a no-op on a "
                                                         "finished one)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--out", help="release folder (created; must be empty unless --resume)")
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

"""`samm-synth` subcommands of spotting: ``score-spotting`` (the MEGC scorer), ``score-str`` (spot-then-recognise)
and ``spotting-benchmark``."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from samm_synth_dataset import format as fmt, settings
from samm_synth_dataset.spotting.benchmark_settings import BenchmarkSettings
from samm_synth_dataset.spotting.features_command import add_features_command
from samm_synth_dataset.spotting.scorer import (MATCHING_RULES, MEGC_LAYOUTS, SCOPE_EVERY_VIDEO,
                                                SCOPE_VIDEOS_WITH_KIND, format_table, match_spotting,
                                                release_videos, write_log, write_megc)
from samm_synth_dataset.spotting.str_scorer import STR_MODES
from samm_synth_dataset.stages import WORKERS_HELP


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``samm-synth score-spotting``, ``samm-synth score-str``, ``samm-synth features`` and
    ``samm-synth spotting-benchmark``."""
    add_score_command(subparsers)
    add_str_command(subparsers)
    add_features_command(subparsers)
    p = subparsers.add_parser(
        "spotting-benchmark",
        help="train the SOFTNet spotting baseline on real / synthetic / real+synthetic videos, test on real ones",
        description="LOSO by source subject; every fold is tested on the ORIGINAL videos of the held-out subject "
                    "(from --source-root, cropped with the release's per-video crop). Writes "
                    "quality/spotting.json and quality/spotting/<protocol>_<subject>_seed<N>.csv "
                    "(vid,onset,offset,type). Every protocol is trained with every seed; the JSON gives F1 per "
                    "seed, 95% intervals from a paired bootstrap over held-out subjects and a verdict for each "
                    "difference from real. Then re-run `samm-synth report` and `samm-synth release`: verify "
                    "refuses a release whose report or card states other numbers.",
    )
    p.add_argument("release", type=Path, help="a built release directory (with intervals)")
    p.add_argument("--source-root", type=Path, required=True,
                   help="the corpus root the release was built from (the original frames)")
    p.add_argument("--settings", type=Path, metavar="FILE",
                   help="every setting at once: a TOML file of the flags' names (e.g. the package's "
                        "spotting/demo_settings.toml), or a spotting.json to reproduce its numbers; flags given "
                        "here override it")
    settings.add_arguments(p, BenchmarkSettings)
    p.add_argument("--workers", type=int, default=None, help=WORKERS_HELP)
    p.set_defaults(func=_cmd_spotting_benchmark)


def _cmd_spotting_benchmark(args: argparse.Namespace) -> int:
    from samm_synth_dataset.spotting import benchmark

    given = settings.given(args, BenchmarkSettings)
    chosen = (BenchmarkSettings.from_file(args.settings, **given) if args.settings
              else BenchmarkSettings(**given))
    doc = benchmark.run_benchmark(args.release, args.source_root, chosen, workers=args.workers)
    if not doc:  # a torchrun rank other than the main one: it did its share of the tasks
        return 0
    print(benchmark.format_table(doc))
    print(f"wrote {args.release / fmt.SPOTTING_JSON}")
    return 0


def add_score_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``samm-synth score-spotting``."""
    p = subparsers.add_parser(
        "score-spotting",
        help="score MaE/ME interval proposals with the MEGC rule",
        description="Score interval proposals (MEGC CSV vid,onset,offset,type or vid,pred_onset,pred_offset,type) "
                    "against ground truth "
                    "(a CSV in the same layout or our intervals table, or a release's intervals). Inclusive-frame "
                    "IoU >= --iou, per kind, counts pooled over videos; overall pools both kinds.",
    )
    p.add_argument("--pred", required=True, type=Path,
                   help="predictions CSV (vid,onset,offset,type or vid,pred_onset,pred_offset,type)")
    p.add_argument("--write-megc", type=Path, metavar="CSV",
                   help="also write the predictions as a MEGC CSV in --megc-layout (no --gt/--release needed)")
    p.add_argument("--megc-layout", choices=tuple(MEGC_LAYOUTS), default="onset",
                   help="header of --write-megc: onset (vid,onset,offset,type; default) or pred_onset "
                        "(vid,pred_onset,pred_offset,type, MEGC2022)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--gt", type=Path, help="ground-truth CSV or Parquet (MEGC2023 layout or intervals table)")
    src.add_argument("--release", type=Path, help="a release directory; its data/intervals/intervals.parquet is GT")
    p.add_argument("--videos", nargs="+", metavar="VIDEO",
                   help="score only these videos (GT of others left out; predictions on others are errors)")
    p.add_argument("--fold", type=int, metavar="N",
                   help="with --release: score only the test videos of LOSO fold N (0-based, in the order of "
                        "splits/loso.json)")
    p.add_argument("--iou", type=float, default=0.5, help="IoU threshold, a hit is IoU >= this (default 0.5)")
    p.add_argument("--matching", choices=MATCHING_RULES, default="megc2020",
                   help="megc2020: organisers' rule (default); one-to-one: SoftNet's greedy rule")
    p.add_argument("--videos-with-kind", action="store_true",
                   help="score each kind only on the videos whose ground truth has it (SOFTNet's protocol); its "
                        "proposals on other videos are left out and counted. Default: every video (they are "
                        "false positives)")
    p.add_argument("--gt-video-column", default="auto",
                   help="GT id column: auto (default), vid, video (synthetic ids) or source_video")
    p.add_argument("--json", action="store_true", help="print the scores as JSON")
    p.add_argument("--log", type=Path, help="also write the per-video TP/FP/FN log in the organisers' format")
    p.add_argument("--log-kind", choices=("ME", "MaE", "both"), default="both",
                   help="the log's lines: one kind (the organisers write one log per kind) or both, ME then MaE "
                        "per video (default both; the lines carry no kind)")
    p.add_argument("--log-dataset", type=int, default=1, help="dataset code of the log's first line "
                   "(1 = SAMM, 2 = CAS(ME)^2; default 1)")
    p.set_defaults(func=_cmd_score)


def _release_gt(release: Path) -> Path:
    fmt.check_release(release)
    path = release / fmt.INTERVALS_PATH
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the release has no intervals table")
    return path


def _cmd_score(args: argparse.Namespace) -> int:
    if args.write_megc is not None:
        write_megc(args.pred, args.write_megc, layout=args.megc_layout)
        print(f"wrote {args.write_megc} ({args.megc_layout} layout)")
        if args.gt is None and args.release is None:
            return 0
    elif args.gt is None and args.release is None:
        raise ValueError("give --gt or --release (ground truth), or --write-megc to only convert the predictions")
    if args.fold is not None and (args.release is None or args.videos):
        raise ValueError("--fold N needs --release (its splits/loso.json) and excludes --videos")
    gt = args.gt if args.gt is not None else _release_gt(args.release)
    videos = set(args.videos) if args.videos else \
        release_videos(args.release, args.fold) if args.release is not None else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = match_spotting(args.pred, gt, iou=args.iou, matching=args.matching,
                                gt_video_column=args.gt_video_column, videos=videos,
                                videos_with_kind=args.videos_with_kind)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if args.release is not None and args.fold is None and not args.videos:
        with_gt = {e.video for e in result.entries if e.gt is not None}
        predicted = {e.video for e in result.entries if e.pred is not None}
        unpredicted = sorted(with_gt - predicted)
        if predicted and unpredicted:
            print(f"warning: the predictions cover {len(with_gt) - len(unpredicted)} of the {len(with_gt)} videos "
                  f"with ground truth in {args.release}; the intervals of the other {len(unpredicted)} (e.g. "
                  f"{unpredicted[0]}) count as misses. To score one LOSO fold pass --fold N, or the videos "
                  "predicted with --videos", file=sys.stderr)
    scores: dict = result.as_dict()
    scope = SCOPE_VIDEOS_WITH_KIND if args.videos_with_kind else SCOPE_EVERY_VIDEO
    if result.left_out is not None:
        scores["scope"] = {"videos": scope, "proposals_left_out": result.left_out}
    if args.log:
        write_log(args.log, result, dataset_code=args.log_dataset,
                  kind=None if args.log_kind == "both" else args.log_kind)
    if args.json:
        json.dump(scores, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(format_table(scores, iou=args.iou, matching=args.matching, scope=scope))
        if result.left_out is not None:
            print("proposals left out (on videos without ground truth of their kind): "
                  + ", ".join(f"{k} {n}" for k, n in result.left_out.items()))
    return 0


def add_str_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``samm-synth score-str``."""
    p = subparsers.add_parser(
        "score-str",
        help="score spot-then-recognise predictions (STRS = spotting F1 x analysis F1)",
        description="Score subject,video,onset,offset,emotion predictions against ground truth in the same layout "
                    "or a release's intervals (their emotion_megc labels by default). --mode megc reproduces the "
                    "reference STRS scorer (genbing99/STRS-Metric) quirks included: one prediction may match "
                    "several GT intervals, subjects without predictions and predictions on videos without GT are "
                    "ignored, its UAR is a mean of precisions. --mode strict matches one-to-one, counts every GT "
                    "subject and every listed video, and reports the true UAR (mean recall).",
    )
    p.add_argument("--pred", required=True, type=Path, help="predictions CSV subject,video,onset,offset,emotion")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--gt", type=Path, help="ground-truth CSV subject,video,onset,offset,emotion")
    src.add_argument("--release", type=Path, help="a release directory; its intervals (with emotions) are the GT")
    p.add_argument("--fold", type=int, metavar="N",
                   help="with --release: score only the test videos of LOSO fold N (0-based, splits/loso.json order)")
    p.add_argument("--mode", choices=STR_MODES, default="megc",
                   help="megc: the reference scorer's numbers (default); strict: one-to-one, full scope, true UAR")
    p.add_argument("--classes", nargs="+", metavar="CLASS",
                   help="the analysed emotions (default: negative positive surprise on a release's emotion_megc; "
                        "every GT emotion of a --gt file, as the reference)")
    p.add_argument("--label", choices=("emotion_megc", "emotion"), default="emotion_megc",
                   help="with --release: the intervals column used as the GT emotion (default emotion_megc)")
    p.add_argument("--kind", choices=("ME", "MaE", "all"), default="all",
                   help="with --release: score the intervals of one kind only (default all)")
    p.add_argument("--videos", nargs="+", metavar="VIDEO",
                   help="the known videos (GT of others left out; in strict mode predictions on those without GT "
                        "are false positives)")
    p.add_argument("--videos-with-kind", action="store_true",
                   help="score only the videos whose ground truth has the scored kind (SOFTNet's protocol); "
                        "predictions on other videos are left out and counted. Default: every video")
    p.add_argument("--iou", type=float, default=0.5, help="IoU threshold, a hit is IoU >= this (default 0.5)")
    p.add_argument("--compare", action="store_true", help="also score in the other mode and list the differences")
    p.add_argument("--write-gt", type=Path, metavar="CSV",
                   help="also write the ground truth scored (e.g. a release's, one fold's) as "
                        "subject,video,onset,offset,emotion (an unlabelled interval has an empty emotion)")
    p.add_argument("--json", action="store_true", help="print the result as JSON (NaN as null)")
    p.set_defaults(func=_cmd_score_str)


def _cmd_score_str(args: argparse.Namespace) -> int:
    import pandas as pd

    from samm_synth_dataset.sources.casme3 import canonical_video_id
    from samm_synth_dataset.spotting.str_scorer import (compare_modes, format_str_table, json_ready, normalise_str,
                                                        release_ground_truth, score_str, write_str)

    if args.fold is not None and (args.release is None or args.videos):
        raise ValueError("--fold N needs --release (its splits/loso.json) and excludes --videos")
    if args.release is None and (args.kind != "all" or args.label != "emotion_megc"):
        raise ValueError("--kind and --label read a release's intervals; give --release")
    videos = set(args.videos) if args.videos else None
    classes = args.classes
    gt: pd.DataFrame | Path = args.gt
    if args.release is not None:
        intervals = pd.read_parquet(_release_gt(args.release))
        pred_videos = set(normalise_str(args.pred, "predictions")["video"])
        kinds = fmt.KINDS if args.kind == "all" else (args.kind,)
        gt = release_ground_truth(intervals, pred_videos, args.label, kinds)
        videos = videos or release_videos(args.release, args.fold)
        if classes is None and args.label == "emotion_megc":
            classes = list(fmt.MEGC_CLASSES)
    if args.write_gt is not None:
        table = normalise_str(gt, "ground truth", emotion_required=False, unique=False)
        if videos is not None:
            table = table[table["video"].isin({canonical_video_id(str(v)) for v in videos})]
        write_str(table, args.write_gt)
        print(f"wrote {args.write_gt} ({len(table)} ground-truth intervals)", file=sys.stderr)
    modes = [args.mode] + ([m for m in STR_MODES if m != args.mode] if args.compare else [])
    results = {m: score_str(args.pred, gt, mode=m, classes=classes, iou=args.iou, videos=videos,
                            videos_with_gt=args.videos_with_kind) for m in modes}
    scope = (f"videos with {args.kind if args.kind != 'all' else 'any'} ground truth only (--videos-with-kind)"
             if args.videos_with_kind else "every video")
    for result in results.values():
        result["scope"] = scope
    doc: dict = dict(results[args.mode])
    if args.compare:
        doc["compare"] = {"other": results[modes[1]], "differences": compare_modes(results["megc"],
                                                                                     results["strict"])}
    if args.json:
        json.dump(json_ready(doc), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(format_str_table(results[args.mode]))
    print(f"scope: {scope}")
    if args.compare:
        print()
        print(format_str_table(results[modes[1]]))
        print("\ndifferences (megc vs strict):")
        for name, pair in doc["compare"]["differences"].items():
            print(f"  {name:22} {pair['megc']!s:>22} {pair['strict']!s:>22}")
        if not doc["compare"]["differences"]:
            print("  none")
    return 0

"""`samm-synth` subcommands of the sources stage: ``inspect-source``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from samm_synth_dataset.sources.records import DATASETS


def inspect_source(dataset: str, root: str | None, annotations: str | None, *, offset_fill: str = "apex",
                   allow_gaps: bool = False, fps: float | None = None, casme3_rules: Any = None,
                   keep_duplicate_rows: bool = False, emotions: str | None = None) -> dict[str, Any]:
    """A summary of a source corpus: videos and frames, intervals by kind, every fix with its count, the
    intervals per emotion class (``emotions``: a user's emotion labels joined first, ``sources.join_emotions``).

    Offsets are clipped to the listed videos' last frames when both frames and annotations are given.
    """
    from samm_synth_dataset.sources.annotations import clip_offsets, fix_summary, read_annotations
    from samm_synth_dataset.sources.emotions import emotion_counts, join_emotions
    from samm_synth_dataset.sources.listing import list_videos

    report: dict[str, Any] = {"dataset": dataset}
    videos = None
    if root is not None:
        videos = list_videos(root, dataset, allow_gaps=allow_gaps, fps=fps)
        report["videos"] = [{"video": v.video, "subject": v.subject, "frames": v.n_frames,
                             "first_frame": v.first_frame, "last_frame": v.last_frame, "fps": v.fps,
                             "width": v.width, "height": v.height, "missing": len(v.missing)} for v in videos]
        report["n_videos"] = len(videos)
        report["n_frames"] = sum(v.n_frames for v in videos)
        report["n_missing_frames"] = sum(len(v.missing) for v in videos)
        report["subjects"] = sorted({v.subject for v in videos})
    if annotations is not None:
        df = read_annotations(annotations, dataset, offset_fill=offset_fill,
                              casme3_rules=casme3_rules, keep_duplicate_rows=keep_duplicate_rows)
        if dataset == "casme3":
            from samm_synth_dataset.sources.casme3 import describe_workbook

            report["workbook"] = describe_workbook(annotations)
        if videos is not None:
            df = clip_offsets(df, videos)
            listed = {v.video for v in videos}
            labelled = set(df["video"])
            report["videos_without_frames"] = sorted(labelled - listed)
            report["videos_without_intervals"] = sorted(listed - labelled)
        if emotions is not None:
            df = join_emotions(df, emotions)
        report["n_intervals"] = int(len(df))
        report["intervals_by_kind"] = {k: int((df["kind"] == k).sum()) for k in ("ME", "MaE")}
        report["fixes"] = fix_summary(df)
        report["emotions"] = emotion_counts(df)
        report["offset_fill"] = offset_fill
    return report


def format_report(report: dict[str, Any]) -> str:
    """The report as plain text."""
    lines = [f"dataset: {report['dataset']}"]
    if "videos" in report:
        lines.append(f"videos: {report['n_videos']} ({len(report['subjects'])} subjects), frames: "
                     f"{report['n_frames']}, missing frames: {report['n_missing_frames']}")
        for v in report["videos"]:
            lines.append(f"  {v['video']:<12} subject {v['subject']:<5} frames {v['frames']:>7} "
                         f"({v['first_frame']}..{v['last_frame']}) {v['width']}x{v['height']} @ {v['fps']:g} fps"
                         + (f", {v['missing']} missing" if v["missing"] else ""))
    if "n_intervals" in report:
        kinds = ", ".join(f"{k} {n}" for k, n in report["intervals_by_kind"].items())
        lines.append(f"intervals: {report['n_intervals']} ({kinds})")
        lines.append("emotions:" + ("" if report["emotions"] else
                                    " none (the annotations carry no emotion labels; SAMM-LV has none)"))
        for column, counts in report["emotions"].items():
            lines.append(f"  {column:<16} " + ", ".join(f"{k} {n}" for k, n in counts.items()))
        lines.append("fixes:" + ("" if report["fixes"] else " none"))
        for flag, n in report["fixes"].items():
            lines.append(f"  {flag:<20} {n}")
        if "workbook" in report:
            lines.append(f"sheet read: {report['workbook']['sheet']!r}")
            lines.extend(f"sheet not read: {name!r} ({why})" for name, why in report["workbook"]["ignored"].items())
        for key in ("videos_without_frames", "videos_without_intervals"):
            if report.get(key):
                lines.append(f"{key.replace('_', ' ')}: {', '.join(report[key])}")
    return "\n".join(lines)


def _cmd_inspect(args: argparse.Namespace) -> int:
    if args.root is None and args.annotations is None:
        raise ValueError("give --root, --annotations or both")
    rules = None
    if args.casme3_rule:
        from samm_synth_dataset.sources.casme3 import Casme3Rules

        rules = Casme3Rules.from_pairs(args.casme3_rule)
    report = inspect_source(args.dataset, args.root, args.annotations, offset_fill=args.offset_fill,
                            allow_gaps=args.allow_gaps, fps=args.fps, casme3_rules=rules,
                            keep_duplicate_rows=args.keep_duplicate_rows, emotions=args.emotions)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def _dataset(name: str) -> str:
    """A ``--dataset`` value: ``csv``, the old name of ``generic``, is still accepted."""
    return "generic" if name == "csv" else name


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``inspect-source``."""
    p = subparsers.add_parser(
        "inspect-source", help="summarise a source corpus: videos, frames, intervals by kind and emotion, every fix",
        description="List a source corpus's videos and frames and read its annotations; print intervals by "
                    "kind and every fix applied while reading, with its count.")
    p.add_argument("--dataset", required=True, type=_dataset, choices=DATASETS,
                   help="corpus layout (generic: a video file or numbered-image folders with an annotation CSV; "
                        "'csv' is accepted for generic)")
    p.add_argument("--root", help="frames root (SAMM-LV: SAMM_longvideos or its parent; CAS(ME)²: rawpic or its "
                                  "parent; CAS(ME)³: the part_A tree or a folder above it; generic: a video file or "
                                  "folder)")
    p.add_argument("--annotations", help="annotation file (.xlsx or .csv; CAS(ME)³ also .xls)")
    p.add_argument("--offset-fill", default="apex", choices=("apex", "mirror", "error"),
                   help="CAS(ME)²/CAS(ME)³ offset 0 rule: apex (default), mirror (2·apex − onset) or error")
    p.add_argument("--casme3-rule", action="append", metavar="NAME=VALUE",
                   help="CAS(ME)³ fix rule, repeatable: onset_zero=keep|first_frame|error, apex_zero=null|error, "
                        "onset_after_offset=swap|error, apex_outside=keep|null|error, long_me=keep|macro|error, "
                        "long_mae=keep|error, long_me_frames=N (200), long_mae_frames=N (900)")
    p.add_argument("--allow-gaps", action="store_true", help="record missing frame numbers instead of failing")
    p.add_argument("--keep-duplicate-rows", action="store_true",
                   help="keep every copy of an exactly repeated annotation row (default: kept once, flagged "
                        "duplicate_row)")
    p.add_argument("--emotions", help="CSV of your own emotion labels to join (emotion plus interval_id, or "
                                      "video,onset,offset); a row matching no interval is refused")
    p.add_argument("--fps", type=float, help="frame rate override (needed for generic image folders)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_cmd_inspect)

"""Flow and stability of one synthetic video against its original, as a ``stages`` task (one worker process or
torchrun rank per video): the per-video half of the report's flow and stability sections. Frame numbers are
SOURCE frame numbers; flows are in pixels of the synthetic size."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from samm_synth_dataset import format as fmt
from samm_synth_dataset.metrics import flow, regions, stability
from samm_synth_dataset.metrics.data import OriginalFrames, synthetic_frame_numbers, synthetic_frames
from samm_synth_dataset.stages import Task, TaskDirs


def measure_video(task: Task, dirs: TaskDirs) -> None:
    """One video's flow and stability (a ``stages`` task; ``task.args``: ``row`` (its videos-table row as a dict),
    ``intervals`` (its rows of the intervals table), ``release``, ``source_root``, ``step`` and ``pairs`` (the
    stability pairs' frame step and number)). Writes ``motion.json`` (``intervals_skipped``, ``video_skipped``:
    the reason or null, ``measured``: each measured interval's onset, apex and strength), ``flow.parquet`` (one
    row per (interval, region), when any) and ``stability.parquet`` (one row per region, when measured)."""
    a = task.args
    row, iv, release, source_root = pd.Series(a["row"]), a["intervals"], a["release"], a["source_root"]
    video = str(row["video"])
    skipped: list[dict[str, Any]] = []
    result: dict[str, Any] = {"video_skipped": None, "intervals_skipped": skipped, "measured": []}
    try:
        originals = OriginalFrames(source_root, row)
    except FileNotFoundError as exc:
        result["video_skipped"] = missing_original(str(row["source_video"]), str(exc))
        fmt.atomic_write_json(dirs.out / "motion.json", result)
        return
    h, w = int(row["height"]), int(row["width"])
    masks = regions.region_masks(h, w)
    synth_numbers = synthetic_frame_numbers(release, video)
    have = set(synth_numbers.tolist())
    first = int(synth_numbers.min()) if synth_numbers.size else 0
    todo: list[tuple[Any, int, int]] = []
    for r in iv.itertuples():
        # an onset before the first frame (SAMM-LV's onset 0) starts the flow at the first frame
        onset = max(int(r.onset), first)
        if r.apex is None or pd.isna(r.apex):
            skipped.append({"interval_id": r.interval_id, "reason": "no apex"})
        elif int(r.apex) <= onset:
            skipped.append({"interval_id": r.interval_id, "reason": "apex not after onset"})
        elif onset not in have or int(r.apex) not in have:
            skipped.append({"interval_id": r.interval_id, "reason": "onset or apex frame not in the video"})
        else:
            todo.append((r, onset, int(r.apex)))
    need = {x for _, on, ap in todo for x in (on, ap)}
    spans = [(int(r.onset), int(r.offset)) for r in iv.itertuples()]
    pairs = stability.quiet_pairs(synth_numbers, spans, step=a["step"], max_pairs=a["pairs"])
    need_all = need | {f for p in pairs for f in p}
    synth = synthetic_frames(release, video, need_all)
    try:
        orig = originals.get(need_all)
    except (FileNotFoundError, KeyError) as exc:
        result["video_skipped"] = missing_original(str(row["source_video"]),
                                                    str(exc.args[0] if exc.args else exc))
        fmt.atomic_write_json(dirs.out / "motion.json", result)
        return
    flow_rows: list[dict[str, Any]] = []
    for r, onset, apex in todo:
        it = flow.interval_flow(str(r.interval_id), video, str(r.kind), onset, apex,
                                (orig[onset], orig[apex]), (synth[onset], synth[apex]))
        for region, measures in flow.compare_flows(it.original, it.synthetic, masks).items():
            flow_rows.append({"video": video, "interval_id": it.interval_id, "kind": it.kind,
                              "onset": it.onset, "apex": it.apex, "region": region, **measures})
        result["measured"].append({"interval_id": it.interval_id, "kind": it.kind, "onset": onset, "apex": apex,
                                   "strength": strength(it)})
    if flow_rows:
        pd.DataFrame(flow_rows).to_parquet(dirs.out / "flow.parquet", index=False)
    stability.stability_table(video, orig, synth, pairs, masks).to_parquet(dirs.out / "stability.parquet",
                                                                          index=False)
    fmt.atomic_write_json(dirs.out / "motion.json", result)


def missing_original(source_video: str, message: str) -> str:
    """The reason a video's flow and stability are skipped, naming its source video and what was not found."""
    return message if source_video in message else f"source video {source_video}: {message}"


def strength(it: flow.IntervalFlow) -> float:
    """How strongly the original moves from onset to apex: the 99th percentile of its flow magnitude (px)."""
    return float(np.percentile(flow.magnitude(it.original), 99))

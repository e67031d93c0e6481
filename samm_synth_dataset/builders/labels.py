"""Per-frame labels from intervals, and the release's intervals rows.

Frame numbers are SOURCE frame numbers; interval ends are inclusive. A frame is ``me`` when it lies in at least
one ME interval, ``mae`` when in at least one MaE interval; ``interval_ids`` lists the release ids of every
interval containing it, in the intervals' order (sorted by onset, then id).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any, Iterable

import pandas as pd

from samm_synth_dataset import format as fmt


def release_interval_id(video: str, interval_id: str) -> str:
    """Release-wide unique interval id ``<synthetic video>/<source interval id>`` (a table value, not a path)."""
    return f"{video}/{interval_id}"


@dataclass(frozen=True)
class FrameLabels:
    me: bool
    mae: bool
    interval_ids: tuple[str, ...]


class LabelIndex:
    """Answers ``labels(frame)`` for one synthetic video from its intervals (dicts with ``interval_id`` (release
    id), ``onset``, ``offset``, ``kind``). Cost per query is O(log n + intervals starting before the frame)."""

    def __init__(self, intervals: Iterable[dict[str, Any]]) -> None:
        rows = sorted(intervals, key=lambda r: (int(r["onset"]), str(r["interval_id"])))
        self._onsets = [int(r["onset"]) for r in rows]
        self._rows = [(int(r["onset"]), int(r["offset"]), str(r["kind"]), str(r["interval_id"])) for r in rows]

    def labels(self, frame: int) -> FrameLabels:
        end = bisect.bisect_right(self._onsets, frame)
        me = mae = False
        ids: list[str] = []
        for onset, offset, kind, iid in self._rows[:end]:
            if onset <= frame <= offset:
                ids.append(iid)
                if kind == "ME":
                    me = True
                else:
                    mae = True
        return FrameLabels(me, mae, tuple(ids))


def intervals_rows(annotations: Any, source_video: str, video: str) -> list[dict[str, Any]]:
    """The intervals-table rows of one synthetic ``video`` from ``read_annotations`` rows of ``source_video``
    (a DataFrame with ``format.ANNOTATION_COLUMNS``, already clipped). Ids become release ids; ``flags`` a list."""
    if annotations is None or len(annotations) == 0:
        return []
    sub = annotations[annotations["video"] == source_video]
    rows = []
    for rec in sub.to_dict("records"):
        row = {c: rec.get(c) for c in fmt.ANNOTATION_COLUMNS}
        row["interval_id"] = release_interval_id(video, str(rec["interval_id"]))
        row["video"] = video
        row["source_video"] = source_video
        row["onset"] = int(rec["onset"])
        row["offset"] = int(rec["offset"])
        apex = rec.get("apex")
        row["apex"] = None if _isna(apex) else int(apex)
        flags = rec.get("flags")
        if isinstance(flags, str):
            flags = [f for f in flags.split(",") if f] if flags else []
        row["flags"] = [] if _isna(flags) else [str(f) for f in flags]
        for c in ("source_id", "subject", "kind", "action_units", "notes", "emotion", "emotion_megc",
                  "objective_class"):
            v = rec.get(c)
            row[c] = None if _isna(v) else str(v)
        rows.append(row)
    rows.sort(key=lambda r: (r["onset"], r["interval_id"]))
    return rows


def _isna(value: Any) -> bool:
    """True for None/NaN/NA scalars; lists and arrays are never NA."""
    if value is None:
        return True
    if isinstance(value, (list, tuple, set)) or hasattr(value, "__len__") and not isinstance(value, str):
        return False
    return bool(pd.isna(value))

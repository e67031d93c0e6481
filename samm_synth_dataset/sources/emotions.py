"""Emotion labels: the per-class counts of an annotation table, and joining a user's own labels onto it.

A user's emotions file is a CSV with a header and an ``emotion`` column, plus either ``interval_id`` (the ids of
``read_annotations``, e.g. ``006_1_2``) or ``video`` (the SOURCE video id, ``source_video`` accepted), ``onset``
and ``offset`` (source frame numbers, inclusive, after the reader's fixes and the clipping to the video's last
frame: as in a release's ``intervals`` table, ``source_video``). Each row labels
every interval it matches; a row that matches no interval, or that gives one interval two different emotions, is
refused with its row number. A joined interval gets ``emotion`` (lower-cased), ``emotion_megc`` (its MEGC class)
and the flag ``emotion_from_file``; its ``objective_class`` is kept.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from samm_synth_dataset import format as fmt
from samm_synth_dataset.sources.sheets import Where, cell_text, csv_rows, emotion_word, frame_number

#: The emotion columns of an annotation table, in order.
EMOTION_COLUMNS: tuple[str, ...] = ("emotion", "emotion_megc", "objective_class")


def emotion_counts(df: pd.DataFrame) -> dict[str, dict[str, int]]:
    """``{column: {class: count}}`` for each emotion column that has a label (most frequent first); an empty dict
    when the table has none (SAMM-LV)."""
    out: dict[str, dict[str, int]] = {}
    for column in EMOTION_COLUMNS:
        if column in df.columns:
            counts = Counter(str(v) for v in df[column] if not pd.isna(v))
            if counts:
                out[column] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return out


def join_emotions(df: pd.DataFrame, path: str | Path) -> pd.DataFrame:
    """``df`` (``format.ANNOTATION_COLUMNS``) with the emotions of the CSV at ``path`` joined (see the module
    docstring); a new DataFrame. Raises :class:`AnnotationError` naming the file and row of a bad line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: emotions file not found")
    rows = csv_rows(path)
    where = Where(path, None)
    header = [h.strip().lower() for h in rows[0]] if rows else []
    header = ["video" if h == "source_video" else h for h in header]
    by_id = "interval_id" in header
    if "emotion" not in header or not (by_id or all(c in header for c in ("video", "onset", "offset"))):
        raise where.error(1, f"header {rows[0] if rows else []!r} needs 'emotion' and either 'interval_id' or "
                             "'video,onset,offset' (source video id, source frame numbers)")
    col = {name: j for j, name in reversed(list(enumerate(header)))}
    if by_id:
        index: dict[Any, list[int]] = {}
        for i, iid in enumerate(df["interval_id"]):
            index.setdefault(str(iid), []).append(i)
    else:
        index = {}
        for i, key in enumerate(zip(df["video"], df["onset"], df["offset"])):
            index.setdefault((str(key[0]), int(key[1]), int(key[2])), []).append(i)
    emotion = list(df["emotion"])
    megc = list(df["emotion_megc"])
    flags = [list(f) for f in df["flags"]]
    given: dict[int, tuple[str, int]] = {}
    for r in range(1, len(rows)):
        cells = rows[r]
        if all(not cell_text(c) for c in cells):
            continue
        get = lambda name: cells[col[name]] if col[name] < len(cells) else None  # noqa: E731
        ignored: list[str] = []
        word = emotion_word(get("emotion"), ignored)
        if word is None:
            raise where.error(r + 1, "empty emotion")
        if by_id:
            key: Any = cell_text(get("interval_id"))
        else:
            key = (cell_text(get("video")), frame_number(get("onset"), "onset", where, r + 1, ignored),
                   frame_number(get("offset"), "offset", where, r + 1, ignored))
        matches = index.get(key)
        if not matches:
            raise where.error(r + 1, f"{'interval id' if by_id else 'video, onset, offset'} {key!r} matches no "
                                     "interval of the annotations (use the ids and frames `inspect-source` shows)")
        for i in matches:
            if i in given and given[i][0] != word:
                raise where.error(r + 1, f"gives interval {df['interval_id'].iloc[i]} the emotion {word!r}, but "
                                         f"row {given[i][1]} gave it {given[i][0]!r}")
            given[i] = (word, r + 1)
            emotion[i], megc[i] = word, fmt.megc_class(word)
            if "emotion_from_file" not in flags[i]:
                flags[i].append("emotion_from_file")
    out = df.copy()
    out["emotion"] = pd.Series(emotion, dtype=object, index=df.index)
    out["emotion_megc"] = pd.Series(megc, dtype=object, index=df.index)
    out["flags"] = pd.Series(flags, dtype=object, index=df.index)
    return out

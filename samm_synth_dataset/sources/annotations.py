"""Reading interval annotations: SAMM-LV workbooks, the CAS(ME)² workbook, CAS(ME)³ Part A workbooks (module
``casme3``, its own fixes and flags) and generic CSVs.

Every reader returns a pandas DataFrame with exactly ``format.ANNOTATION_COLUMNS``:

* ``onset``/``offset``: int64 SOURCE frame numbers, ends inclusive (SAMM-LV and CAS(ME)²: 1-based, as in their
  sheets; generic CSV: whatever numbering the CSV uses, unchanged);
* ``apex``: pandas nullable ``Int64`` (null when the sheet gives none);
* ``kind``: ``"ME"`` or ``"MaE"``; ``flags``: a Python list of the fixes applied to the row.

No row is ever dropped. A row that cannot be read raises :class:`AnnotationError` naming the file, the sheet and
the 1-based row. The fixes (flags) are:

``rounded``             a fractional frame number was rounded half-up (``floor(x + 0.5)``; SAMM-LV V1)
``apex_missing``        apex -1 (SAMM-LV) or 0 (CAS(ME)²) or empty: apex set to null
``onset_zero``          SAMM-LV onset 0 (movement already under way at the first frame): kept as 0
``offset_filled``       CAS(ME)² offset 0 (not annotated): filled by the ``offset_fill`` rule
``offset_before_apex``  offset < apex: kept as written
``apex_before_onset``   apex < onset: kept as written
``offset_clipped``      offset past the video's last frame: clipped to it (:func:`clip_offsets`)
``apex_outside_video``  apex past the video's last frame: set to null (:func:`clip_offsets`)

Emotion columns (``format.emotions``): CAS(ME)² ``emotion`` is its column 9 (self-reported emotion) and
``emotion_megc`` its column 7 (estimated emotion: negative, positive, surprise, others); CAS(ME)³ ``emotion`` is the
JpgIndex ``emotion`` column, ``emotion_megc`` its MEGC class, ``objective_class`` its ``Objective class``; a generic
CSV may have an ``emotion`` column; SAMM-LV has no emotion column: null. Emotion words are lower-cased, each change
flagged ``emotion_case_normalised``.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping, Sequence

import pandas as pd

from samm_synth_dataset import format as fmt
from samm_synth_dataset.sources import casme3
from samm_synth_dataset.sources.records import DATASETS, Dataset, VideoSource
from samm_synth_dataset.sources.sheets import (AnnotationError, Row, Where, cell_text, csv_rows, drop_duplicate_rows,
                                               emotion_word, expression_kind, frame_number, header_key, is_blank,
                                               unique_ids)

OffsetFill = Literal["apex", "mirror", "error"]

#: CAS(ME)² rules for an offset of 0 (not annotated): ``apex`` offset = apex (MEGC2020 baseline, the default);
#: ``mirror`` offset = 2·apex − onset (the movement assumed symmetric about the apex); ``error`` refuse.
OFFSET_FILL_RULES: tuple[str, ...] = ("apex", "mirror", "error")

#: Flags in the order summaries list them.
FLAGS: tuple[str, ...] = ("rounded", "apex_missing", "onset_zero", "offset_filled", "offset_before_apex",
                          "apex_before_onset", "offset_clipped", "apex_outside_video", "duplicate_row",
                          "emotion_case_normalised", "emotion_from_file")

SAMM_SHEET = "FACS_Movement_Only"
SAMM_HEADER: tuple[str, ...] = ("Subject", "Filename", "Inducement Code", "Onset", "Apex", "Offset", "Duration",
                                "Type", "Action Units", "Notes")
_SAMM_REQUIRED: tuple[str, ...] = ("subject", "filename", "onset", "apex", "offset", "type")
#: The CAS(ME)² data sheet's columns, in order, without a header row (the last, self-report, is optional).
CASME_COLUMNS: tuple[str, ...] = ("subject index", "expression name", "onset", "apex", "offset", "action units",
                                  "emotion", "type", "self-report")

_ID_BAD = re.compile(r"[^A-Za-z0-9_\-]+")


def _safe_id(value: str) -> str:
    """``value`` with every run of characters outside letters, digits, ``_`` and ``-`` replaced by ``_``."""
    return _ID_BAD.sub("_", value).strip("_") or "x"


def _check_order(r: Row, where: Where, row: int) -> None:
    if r.offset < r.onset:
        raise where.error(row, f"offset {r.offset} is before onset {r.onset}; correct the row")
    if r.apex is not None:
        if r.apex > r.offset:
            r.flags.append("offset_before_apex")
        if r.apex < r.onset:
            r.flags.append("apex_before_onset")


def _to_frame(rows: Sequence[Row], ids: Sequence[str]) -> pd.DataFrame:
    df = pd.DataFrame({
        "interval_id": pd.Series(list(ids), dtype=object),
        "source_id": pd.Series([r.source_id for r in rows], dtype=object),
        "subject": pd.Series([r.subject for r in rows], dtype=object),
        "video": pd.Series([r.video for r in rows], dtype=object),
        "onset": pd.Series([r.onset for r in rows], dtype="int64"),
        "apex": pd.Series([r.apex for r in rows], dtype="Int64"),
        "offset": pd.Series([r.offset for r in rows], dtype="int64"),
        "kind": pd.Series([r.kind for r in rows], dtype=object),
        "action_units": pd.Series([r.action_units for r in rows], dtype=object),
        "notes": pd.Series([r.notes for r in rows], dtype=object),
        "flags": pd.Series([list(r.flags) for r in rows], dtype=object),
        **{c: pd.Series([getattr(r, c) for r in rows], dtype=object)
           for c in ("emotion", "emotion_megc", "objective_class")},
    })
    return df[list(fmt.ANNOTATION_COLUMNS)]


# --------------------------------------------------------------------------------------------------------------
# Sheet access


def _xlsx_sheets(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet of a workbook as rows of cell values (cached formula results, not formulas)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a bad file
        raise AnnotationError(f"{path}: cannot open as an .xlsx workbook ({exc})") from exc
    try:
        return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    finally:
        wb.close()


# --------------------------------------------------------------------------------------------------------------
# SAMM-LV


def _find_samm_header(rows: Sequence[tuple[Any, ...]]) -> tuple[int, dict[str, int]] | None:
    """Index of the header row (0-based) and column index by normalised name, found by content."""
    for i, row in enumerate(rows):
        names = {header_key(v): j for j, v in reversed(list(enumerate(row))) if not is_blank(v)}
        if all(n in names for n in _SAMM_REQUIRED):
            return i, names
    return None


def _refuse_partial_samm_header(path: Path, sheets: dict[str | None, list[tuple[Any, ...]]]) -> None:
    """Raise AnnotationError naming the missing columns when some row holds at least two of the required SAMM-LV
    header names but not all (the most complete such row is named)."""
    display = {header_key(h): h for h in SAMM_HEADER}
    best: tuple[int, str | None, int, list[str]] | None = None
    for sheet, rows in sheets.items():
        for i, row in enumerate(rows):
            names = {header_key(v) for v in row if not is_blank(v)}
            have = [n for n in _SAMM_REQUIRED if n in names]
            if len(have) >= 2 and (best is None or len(have) > best[0]):
                best = (len(have), sheet, i + 1, [display[n] for n in _SAMM_REQUIRED if n not in names])
    if best is not None:
        _, sheet, row, missing = best
        raise Where(path, sheet).error(row, f"the SAMM-LV header row lacks column(s) {', '.join(missing)} (a header "
                                             "needs Subject, Filename, Onset, Apex, Offset and Type)")


def _samm_subject(value: Any, where: Where, row: int) -> str:
    text = cell_text(value)
    if not text.isdigit():
        raise where.error(row, f"Subject {text!r} is not a subject number like '006'")
    return f"{int(text):03d}"


def _read_samm(path: Path) -> list[Row]:
    if path.suffix.lower() in (".csv", ".txt"):
        sheets = {None: csv_rows(path)}
    else:
        workbook = _xlsx_sheets(path)
        # the only sheet is FACS_Movement_Only; prefer it by name, else the first sheet with the header
        order = sorted(workbook, key=lambda name: name != SAMM_SHEET)
        sheets = {name: workbook[name] for name in order}
    for sheet, rows in sheets.items():
        found = _find_samm_header(rows)
        if found is not None:
            break
    else:
        _refuse_partial_samm_header(path, sheets)
        raise AnnotationError(f"{path}: no SAMM-LV header row (a row with Subject, Filename, Onset, Apex, Offset "
                              f"and Type) in sheet(s) {[s for s in sheets if s is not None] or ['(csv)']}; "
                              "is this a SAMM Long Videos annotation file?")
    where = Where(path, sheet)
    header_index, cols = found
    get = lambda cells, name: cells[cols[name]] if name in cols and cols[name] < len(cells) else None  # noqa: E731
    out: list[Row] = []
    for i in range(header_index + 1, len(rows)):
        cells = rows[i]
        row = i + 1
        if all(is_blank(v) for v in cells):
            continue
        filename = cell_text(get(cells, "filename"))
        parts = filename.split("_")
        if len(parts) < 3 or not all(parts[:2]):
            raise where.error(row, f"Filename {filename!r} is not '<subject>_<code>_<event>' like '006_1_1'")
        subject = _samm_subject(get(cells, "subject"), where, row)
        flags: list[str] = []
        onset = frame_number(get(cells, "onset"), "Onset", where, row, flags)
        apex_raw = frame_number(get(cells, "apex"), "Apex", where, row, flags)
        offset = frame_number(get(cells, "offset"), "Offset", where, row, flags)
        apex: int | None = apex_raw
        if apex_raw == -1:
            apex = None
            flags.append("apex_missing")
        elif apex_raw < 0:
            raise where.error(row, f"Apex {apex_raw} is negative (only -1, 'not annotated', is allowed)")
        if onset < 0 or offset < 0:
            raise where.error(row, f"negative onset/offset ({onset}, {offset})")
        if onset == 0:
            flags.append("onset_zero")
        r = Row(source_id=filename, subject=subject, video="_".join(parts[:2]), onset=onset, apex=apex,
                 offset=offset, kind=expression_kind(get(cells, "type"), where, row),
                 action_units=cell_text(get(cells, "actionunits")), notes=cell_text(get(cells, "notes")), flags=flags)
        if parts[0].isdigit() and f"{int(parts[0]):03d}" != subject:
            raise where.error(row, f"Subject {subject!r} does not match Filename {filename!r}")
        _check_order(r, where, row)
        out.append(r)
    return out


# --------------------------------------------------------------------------------------------------------------
# CAS(ME)²


def _casme_naming(sheets: dict[str, list[tuple[Any, ...]]], path: Path
                  ) -> tuple[dict[int, tuple[int, str]], dict[str, str]]:
    """(subject index → (folder number, folder name)) from sheet 2 and (expression stem → code) from sheet 3."""
    names = list(sheets)
    if len(names) < 3:
        raise AnnotationError(f"{path}: a CAS(ME)² workbook has three sheets (data, 'naming rule1', 'naming "
                              f"rule2'); found {names}")
    rule1_name = next((n for n in names if header_key(n) + n[-1:] == "namingrule1"), names[1])
    rule2_name = next((n for n in names if header_key(n) + n[-1:] == "namingrule2"), names[2])
    subjects: dict[int, tuple[int, str]] = {}
    where = Where(path, rule1_name)
    for i, cells in enumerate(sheets[rule1_name]):
        if all(is_blank(v) for v in cells):
            continue
        if len(cells) < 3:
            raise where.error(i + 1, "expected (folder number, folder name, subject index)")
        number, folder, index = cell_text(cells[0]), cell_text(cells[1]), cell_text(cells[2])
        if not (number.isdigit() and index.isdigit() and folder):
            raise where.error(i + 1, f"expected (folder number, folder name, subject index), got "
                                     f"{cells[:3]!r}")
        value = (int(number), folder)
        if subjects.setdefault(int(index), value) != value:
            raise where.error(i + 1, f"subject index {index} maps to {subjects[int(index)]} and to {value}")
    codes: dict[str, str] = {}
    where = Where(path, rule2_name)
    for i, cells in enumerate(sheets[rule2_name]):
        if all(is_blank(v) for v in cells):
            continue
        if len(cells) < 2 or is_blank(cells[0]) or is_blank(cells[1]):
            raise where.error(i + 1, f"expected (code like '0101', expression like 'disgust1'), got {cells!r}")
        code = cell_text(cells[0])
        if not code.isdigit():
            raise where.error(i + 1, f"code {code!r} is not a number like '0101'")
        codes[cell_text(cells[1]).lower()] = code.zfill(4)  # codes are text; a re-saved sheet may have 101
    return subjects, codes


def _read_casme(path: Path, offset_fill: str) -> list[Row]:
    sheets = _xlsx_sheets(path)
    subjects, codes = _casme_naming(sheets, path)
    data_name = list(sheets)[0]
    where = Where(path, data_name)
    width = max((max((j + 1 for j, v in enumerate(cells) if not is_blank(v)), default=0)
                 for cells in sheets[data_name]), default=0)
    if width < len(CASME_COLUMNS) - 1:
        raise where.error(None, f"{width} column(s), but a CAS(ME)² sheet has {len(CASME_COLUMNS) - 1} or "
                                f"{len(CASME_COLUMNS)}: missing {', '.join(CASME_COLUMNS[width:-1])} "
                                f"(columns in order: {', '.join(CASME_COLUMNS)})")
    out: list[Row] = []
    for i, cells in enumerate(sheets[data_name]):
        row = i + 1
        if all(is_blank(v) for v in cells):
            continue
        cells = tuple(cells) + (None,) * max(0, 9 - len(cells))
        index_text = cell_text(cells[0])
        if not index_text.isdigit():
            if row == 1 and "subject" in index_text.lower():
                continue  # a header some users add
            raise where.error(row, f"subject index {index_text!r} is not a number (1..22)")
        if int(index_text) not in subjects:
            raise where.error(row, f"subject index {index_text} is not in the 'naming rule1' sheet")
        number, folder = subjects[int(index_text)]
        name = cell_text(cells[1])
        m = re.fullmatch(r"([A-Za-z]+\d+)_(\d+)", name)
        if not m or m.group(1).lower() not in codes:
            raise where.error(row, f"expression name {name!r} is not '<stimulus><n>_<k>' with a stimulus listed "
                                   f"in the 'naming rule2' sheet ({sorted(codes)})")
        video = f"{number}_{codes[m.group(1).lower()]}"
        flags: list[str] = []
        onset = frame_number(cells[2], "onset", where, row, flags)
        apex_raw = frame_number(cells[3], "apex", where, row, flags)
        offset = frame_number(cells[4], "offset", where, row, flags)
        if onset <= 0 or apex_raw < 0 or offset < 0:
            raise where.error(row, f"onset/apex/offset ({onset}, {apex_raw}, {offset}) must be 1-based frame "
                                   "numbers (apex/offset 0 = not annotated)")
        apex: int | None = apex_raw
        if apex_raw == 0:
            apex = None
            flags.append("apex_missing")
        if offset == 0:
            if offset_fill == "error":
                raise where.error(row, "offset is 0 (not annotated); choose an offset_fill rule "
                                       f"{OFFSET_FILL_RULES[:2]}")
            if apex is None:
                raise where.error(row, "offset and apex are both 0 (not annotated); no rule can fill the "
                                       "offset; correct the row")
            offset = apex if offset_fill == "apex" else 2 * apex - onset
            flags.append("offset_filled")
        aus = cell_text(cells[5])
        if aus.lower() == "null":
            aus = ""
        estimated = emotion_word(cells[6], flags)
        if estimated is not None and estimated not in (*fmt.MEGC_CLASSES, fmt.MEGC_OTHERS):
            raise where.error(row, f"estimated emotion (column 7) {cell_text(cells[6])!r} is not one of "
                                   f"{', '.join((*fmt.MEGC_CLASSES, fmt.MEGC_OTHERS))}")
        r = Row(source_id=name, subject=folder, video=video, onset=onset, apex=apex, offset=offset,
                 kind=expression_kind(cells[7], where, row), action_units=aus, flags=flags,
                 emotion=emotion_word(cells[8], flags), emotion_megc=estimated)
        _check_order(r, where, row)
        out.append(r)
    return out


def _casme_base_id(r: Row) -> str:
    return _safe_id(f"{r.video}_{r.source_id.rsplit('_', 1)[-1]}")


# --------------------------------------------------------------------------------------------------------------
# Generic CSV


_GENERIC_ALIASES = {"vid": "video", "type": "kind", "start": "onset", "end": "offset", "id": "interval_id",
                    "aus": "action_units", "au": "action_units"}


def _read_generic(path: Path) -> list[Row]:
    rows = csv_rows(path)
    where = Where(path, None)
    if not rows:
        raise AnnotationError(f"{path}: empty CSV; expected a header 'video,onset,offset,kind'")
    header = [_GENERIC_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in rows[0]]
    missing = [c for c in ("video", "onset", "offset", "kind") if c not in header]
    if missing:
        raise where.error(1, f"header {rows[0]!r} lacks {missing}; expected 'video,onset,offset,kind' with "
                             "optional 'apex,subject,action_units,notes,emotion' (or MEGC2023's "
                             "'vid,onset,offset,type')")
    col = {name: j for j, name in reversed(list(enumerate(header)))}
    out: list[Row] = []
    ids: list[str] = []
    for i in range(1, len(rows)):
        cells = rows[i]
        row = i + 1
        if all(is_blank(v) for v in cells):
            continue
        get = lambda name: cells[col[name]] if name in col and col[name] < len(cells) else None  # noqa: E731
        video = cell_text(get("video"))
        if not video:
            raise where.error(row, "video is empty")
        flags: list[str] = []
        onset = frame_number(get("onset"), "onset", where, row, flags)
        offset = frame_number(get("offset"), "offset", where, row, flags)
        apex: int | None = None
        if not is_blank(get("apex")):
            apex = frame_number(get("apex"), "apex", where, row, flags)
            if apex == -1:
                apex = None
        if "apex" in col and apex is None:
            flags.append("apex_missing")
        if onset < 0 or offset < 0 or (apex is not None and apex < 0):
            raise where.error(row, f"negative frame number in ({onset}, {apex}, {offset})")
        subject = cell_text(get("subject")) or video.split("_")[0]
        emotion = emotion_word(get("emotion"), flags)
        r = Row(source_id="", subject=subject, video=video, onset=onset, apex=apex, offset=offset,
                 kind=expression_kind(get("kind"), where, row), action_units=cell_text(get("action_units")),
                 notes=cell_text(get("notes")), flags=flags, emotion=emotion, emotion_megc=fmt.megc_class(emotion))
        _check_order(r, where, row)
        out.append(r)
        ids.append(cell_text(get("interval_id")))
    per_video: Counter[str] = Counter()
    for r, given in zip(out, ids):
        per_video[r.video] += 1
        r.source_id = given or f"{r.video}_{per_video[r.video]}"
    return out


# --------------------------------------------------------------------------------------------------------------
# Public API


def read_annotations(path: str | Path, dataset: Dataset | str, *, offset_fill: OffsetFill | str = "apex",
                     video_lengths: Mapping[str, int] | Iterable[VideoSource] | None = None,
                     casme3_rules: Any = None, keep_duplicate_rows: bool = False) -> pd.DataFrame:
    """Read an annotation file into a DataFrame with exactly ``format.ANNOTATION_COLUMNS``.

    ``dataset``: ``"samm-lv"`` (``SAMM_LongVideos_V1/V2/V3_Release.xlsx`` or the CSV export; the header row is
    found by its content), ``"casme2"`` (``CAS(ME)^2code_final.xlsx``: data on the first sheet, no header; the
    ``naming rule1``/``naming rule2`` sheets give video ids ``<subject number>_<code>`` like ``15_0101``) or
    ``"generic"`` (a CSV ``video,onset,offset,kind`` with optional ``apex,subject,action_units,notes,
    interval_id``, or MEGC2023's ``vid,onset,offset,type``). Frame numbers are source numbers, ends inclusive (SAMM-LV and
    CAS(ME)²: 1-based).

    ``interval_id`` is unique and release-safe (letters, digits, ``_``, ``-``): SAMM-LV the Filename
    (``006_1_2``; a duplicate Filename's second row ``037_4_1-2``), CAS(ME)² ``<video>_<k>`` from the expression
    name ``<stimulus><n>_<k>`` (``15_0101_3``), CSV its ``interval_id`` column or ``<video>_<n>`` (n = 1-based
    row within the video). ``source_id`` is the sheet's own id (Filename; CAS(ME)² expression name such as
    ``disgust1_3``). CAS(ME)² ``subject`` is the folder name (``s15``); SAMM-LV 3-digit text (``006``); CSV
    its ``subject`` column or the video id's first ``_`` field.

    ``"casme3"``: CAS(ME)³ Part A ``.xls``/``.xlsx`` workbooks (sheet ``AU+Emotion`` of ``CAS(ME)3_part_A_v1/v2``
    or ``label`` of the ``…_ME_label_JpgIndex`` files; ``eye blink`` is not read); video ids ``spNO<N>_<clip>``,
    subject ``spNO.<N>``, interval ids ``<video>_<k>``; fixes and ``casme3_rules`` (a ``casme3.Casme3Rules``) are
    described in :mod:`samm_synth_dataset.sources.casme3`.

    ``offset_fill`` (CAS(ME)² and CAS(ME)³ offset 0): one of :data:`OFFSET_FILL_RULES`. ``video_lengths``: the
    videos' LAST source frame numbers (or their :class:`VideoSource`), to clip offsets at once (see
    :func:`clip_offsets`). An exact duplicate row is kept once and flagged ``duplicate_row``
    (``keep_duplicate_rows``: every copy kept, each flagged).
    """
    path = Path(path)
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {DATASETS}")
    if offset_fill not in OFFSET_FILL_RULES:
        raise ValueError(f"unknown offset_fill rule {offset_fill!r}; expected one of {OFFSET_FILL_RULES}")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: annotation file not found")
    if dataset == "samm-lv":
        rows = _read_samm(path)
        bases = [_safe_id(r.source_id) for r in rows]
    elif dataset == "casme2":
        rows = _read_casme(path, offset_fill)
        bases = [_casme_base_id(r) for r in rows]
    elif dataset == "casme3":
        rows = casme3.read_casme3(path, offset_fill, casme3_rules)
        bases = casme3.base_ids(rows)
    else:
        rows = _read_generic(path)
        bases = [_safe_id(r.source_id) for r in rows]
    rows, bases = drop_duplicate_rows(list(rows), list(bases), keep_duplicate_rows)
    df = _to_frame(rows, unique_ids(bases))
    if video_lengths is not None:
        df = clip_offsets(df, video_lengths)
    return df


def _last_frames(videos_or_lengths: Mapping[str, int] | Iterable[VideoSource]) -> dict[str, int]:
    if isinstance(videos_or_lengths, Mapping):
        return {str(k): int(v) for k, v in videos_or_lengths.items()}
    return {v.video: v.last_frame for v in videos_or_lengths}


def clip_offsets(df: pd.DataFrame, videos_or_lengths: Mapping[str, int] | Iterable[VideoSource]) -> pd.DataFrame:
    """Clip offsets past each video's last frame (flag ``offset_clipped``); return a new DataFrame.

    ``videos_or_lengths``: ``{video: last source frame number}`` (SAMM-LV, 1-based: the frame count) or the
    :class:`VideoSource` list from ``list_videos``. An apex past the last frame becomes null (flag
    ``apex_outside_video``). Videos not given are left as they are. An interval whose onset lies past the last
    frame cannot be clipped and raises :class:`AnnotationError`.
    """
    last = _last_frames(videos_or_lengths)
    out = df.reset_index(drop=True).copy()
    offsets = out["offset"].tolist()
    apexes = out["apex"].tolist()
    flags_out: list[list[str]] = []
    for i, (video, onset, iid, flags) in enumerate(zip(out["video"], out["onset"], out["interval_id"],
                                                       out["flags"])):
        flags = list(flags)
        flags_out.append(flags)
        if video not in last:
            continue
        end = last[video]
        if onset > end:
            raise AnnotationError(f"interval {iid} of video {video}: onset {onset} is past the video's last "
                                  f"frame {end}; the annotation does not belong to these frames")
        if offsets[i] > end:
            offsets[i] = end
            flags.append("offset_clipped")
        if not pd.isna(apexes[i]) and apexes[i] > end:
            apexes[i] = None
            flags.append("apex_outside_video")
    out["offset"] = pd.Series(offsets, dtype="int64")
    out["apex"] = pd.Series(apexes, dtype="Int64")
    out["flags"] = pd.Series(flags_out, dtype=object)
    return out


def fix_summary(df: pd.DataFrame) -> dict[str, int]:
    """Count of every fix (flag) applied, known flags first in :data:`FLAGS` order, then any others."""
    counts = Counter(flag for flags in df["flags"] for flag in flags)
    ordered = {f: counts[f] for f in FLAGS if counts[f]}
    ordered.update({f: n for f, n in sorted(counts.items()) if f not in ordered})
    return ordered

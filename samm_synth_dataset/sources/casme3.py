"""CAS(ME)³ Part A: its annotation workbooks, its frame folders and its video-id spelling.

Video ids
---------
One spelling everywhere (annotation tables, listed frames, releases, the spotting scorer):
``spNO<N>_<clip>`` — the subject folder ``spNO.<N>`` without its dot (release ids allow only letters, digits,
``_`` and ``-``), ``_``, the clip folder's name in lower case (``spNO.3/J`` → ``spNO3_j``). The subject (LOSO
unit) keeps the dataset's spelling ``spNO.<N>``. :func:`video_id` makes ids, :func:`canonical_video_id` maps
MEGC-style spellings (``spNO.1_a``, ``spNO1_A``) onto them.

Frames
------
``[<root>/]part_A/data/part_A_split/part_A/spNO.<N>/<clip>/color/<n>.jpg``: ``n`` unpadded, 1-based JPEG numbers,
30 fps; the ``depth/<n>.png`` frames beside them are ignored. Every JPEG is checked up front (non-empty,
start-of-image marker, end-of-image marker near its end): an unreadable one is treated as a missing frame and named.

Workbooks (``.xls`` read with python-calamine, ``.xlsx`` too)
--------------------------------------------------------------
* ``CAS(ME)3_part_A_v2.xls`` / ``_v1.xls``: sheet ``AU+Emotion`` (``Subject, Filename, Onset, Apex, Offset, AU,
  Expression type, Objective class``), ME/MaE from ``Expression type``. The ``eye blink`` sheet holds blinks,
  not expressions, and v1's micro-only ``Sheet1`` duplicates ``AU+Emotion``: neither is read.
* ``cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx``: sheet ``label`` (``Subject, Filename, Onset, Apex, Offset, AU,
  Objective class, emotion``), micro-expressions only; its frame numbers are the JPEG numbers.

Frame numbers are kept as written (JPEG numbers, 1-based, ends inclusive) except where a fix below changes them.

Emotion columns: ``objective_class`` is ``Objective class`` (``I``..``VII``, both workbooks); ``emotion`` is the
JpgIndex ``emotion`` word lower-cased (``Others`` → ``others``, flagged ``emotion_case_normalised``), null for the
``AU+Emotion`` sheet, which has none; ``emotion_megc`` its MEGC class (``format.megc_class``).

Fixes (flags)
-------------
Each quirk has rules (:class:`Casme3Rules`, the first listed is the default); ``error`` refuses the file at the
first such row, naming it. No row is ever dropped. The sheet's values are kept in ``notes`` (``sheet: …``)
whenever a fix changed them.

==================  ==========================================  ======================================
quirk               rule → flag                                  meaning
==================  ==========================================  ======================================
onset 0             ``keep`` → ``onset_zero``                    kept as 0 (frames start at 1)
                    ``first_frame`` → ``onset_raised``           set to 1
apex 0 or empty     ``null`` → ``apex_missing``                  apex set to null
offset 0            ``apex`` → ``offset_filled``                 offset = apex (``offset_fill``, as CAS(ME)²)
                    ``mirror`` → ``offset_filled``               offset = 2·apex − onset
                    (no apex) → ``offset_filled_onset``          offset = onset (a 1-frame interval)
onset > offset      ``swap`` → ``onset_after_offset_swapped``    onset and offset exchanged
apex outside        ``keep`` → ``apex_before_onset`` /           kept as written
onset..offset              ``offset_before_apex``
                    ``null`` → ``apex_outside_interval``         apex set to null
ME > 200 frames     ``keep`` → ``long_me``                       kept as a micro-expression
                    ``macro`` → ``long_me_relabelled``           kind set to MaE
MaE > 900 frames    ``keep`` → ``long_mae``                      kept
==================  ==========================================  ======================================
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
from tqdm.auto import tqdm

from samm_synth_dataset import format as fmt
from samm_synth_dataset.sources.folders import FrameGapError, frames_matching, numbered_video
from samm_synth_dataset.sources.frames import FrameReadError, check_jpeg_complete
from samm_synth_dataset.sources.records import VideoSource
from samm_synth_dataset.sources.sheets import (AnnotationError, Row, Where, cell_text, emotion_word, expression_kind,
                                               frame_number, header_key, is_blank)

log = logging.getLogger(__name__)

FPS = 30.0
#: Folders under a distribution root where the ``spNO.<N>`` folders may sit (tried in order).
FRAME_SUBDIRS: tuple[str, ...] = (".", "part_A", "data/part_A_split/part_A", "part_A/data/part_A_split/part_A")
COLOR_DIR = "color"

SHEET_AU_EMOTION = "AU+Emotion"
SHEET_LABEL = "label"
#: Sheets deliberately not read, with the reason (said by ``describe_workbook`` and ``inspect-source``).
IGNORED_SHEETS: dict[str, str] = {
    "eye blink": "eye blinks, not expressions",
    "Sheet1": "v1: micro-only copy of AU+Emotion with extra columns; JpgIndex: empty",
    "Sheet3": "empty",
}

#: Quirk → allowed rules (the first is the default). ``offset_zero`` is ``read_annotations``' ``offset_fill``.
RULES: dict[str, tuple[str, ...]] = {
    "onset_zero": ("keep", "first_frame", "error"),
    "apex_zero": ("null", "error"),
    "onset_after_offset": ("swap", "error"),
    "apex_outside": ("keep", "null", "error"),
    "long_me": ("keep", "macro", "error"),
    "long_mae": ("keep", "error"),
}
#: Every flag this reader sets, in summary order, with its meaning (the release format's wording).
FLAGS: tuple[str, ...] = ("rounded", "onset_zero", "onset_raised", "apex_missing", "offset_filled",
                          "offset_filled_onset", "onset_after_offset_swapped", "apex_before_onset",
                          "offset_before_apex", "apex_outside_interval", "long_me", "long_me_relabelled", "long_mae",
                          "emotion_case_normalised")
FLAG_MEANINGS: dict[str, str] = {flag: fmt.FLAG_MEANINGS[flag] for flag in FLAGS}

#: The authors' column headers of the two expression sheets, in their order.
AU_EMOTION_HEADER: tuple[str, ...] = ("Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Expression type",
                                      "Objective class")
LABEL_HEADER: tuple[str, ...] = ("Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Objective class", "emotion")

_REQUIRED = {SHEET_AU_EMOTION: ("Subject", "Filename", "Onset", "Apex", "Offset", "Expression type"),
             SHEET_LABEL: ("Subject", "Filename", "Onset", "Apex", "Offset")}
_OPTIONAL = ("AU", "Objective class", "emotion")
_HEADER_SEARCH_ROWS = 10
_SUBJECT = re.compile(r"spno\.?\s*(\d+)", re.IGNORECASE)
_CLIP = re.compile(r"[A-Za-z0-9]+")
_MEGC_ID = re.compile(r"spNO\.?(\d+)[_/ ]([A-Za-z0-9]+)", re.IGNORECASE)


# --------------------------------------------------------------------------------------------------------------
# Ids


def subject_name(value: Any) -> str:
    """``spNO.<N>`` from ``spNO.<N>``, ``spno<N>``, ``<N>`` (a number or numeric text); ValueError otherwise."""
    text = cell_text(value)
    m = _SUBJECT.fullmatch(text)
    if m:
        return f"spNO.{int(m.group(1))}"
    if text.isdigit():
        return f"spNO.{int(text)}"
    raise ValueError(f"subject {text!r} is not 'spNO.<N>' or a subject number")


def video_id(subject: Any, clip: str) -> str:
    """The video id ``spNO<N>_<clip in lower case>`` (``("spNO.1", "a")`` → ``spNO1_a``; ``J`` → ``j``)."""
    number = subject_name(subject).split(".", 1)[1]
    clip = cell_text(clip)
    if not _CLIP.fullmatch(clip):
        raise ValueError(f"clip {clip!r} is not a clip name like 'a' (letters and digits)")
    return f"spNO{number}_{clip.lower()}"


def canonical_video_id(vid: str) -> str:
    """A CAS(ME)³ id in any MEGC spelling (``spNO.1_a``, ``spNO1_A``, ``spNO.1/a``) as :func:`video_id` writes it;
    any other id is returned unchanged (stripped)."""
    text = str(vid).strip()
    m = _MEGC_ID.fullmatch(text)
    return f"spNO{int(m.group(1))}_{m.group(2).lower()}" if m else text


# --------------------------------------------------------------------------------------------------------------
# Rules


@dataclass(frozen=True)
class Casme3Rules:
    """How each CAS(ME)³ quirk is fixed (see the module docstring); every field's first rule is the default.

    ``long_me_frames``/``long_mae_frames``: an ME/MaE spanning more frames (offset − onset + 1) is flagged
    (200 frames ≈ 6.7 s and 900 ≈ 30 s at 30 fps; a micro-expression lasts at most 0.5 s).
    """

    onset_zero: str = "keep"
    apex_zero: str = "null"
    onset_after_offset: str = "swap"
    apex_outside: str = "keep"
    long_me: str = "keep"
    long_mae: str = "keep"
    long_me_frames: int = 200
    long_mae_frames: int = 900

    def __post_init__(self) -> None:
        for name, allowed in RULES.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"CAS(ME)³ rule {name}={getattr(self, name)!r}; expected one of {allowed}")
        for name in ("long_me_frames", "long_mae_frames"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"CAS(ME)³ {name} must be a positive whole number of frames")

    @classmethod
    def from_pairs(cls, pairs: Iterable[str] | Mapping[str, Any] | None) -> "Casme3Rules":
        """Rules from ``NAME=VALUE`` strings (the CLI's ``--casme3-rule``) or a mapping."""
        if pairs is None:
            return cls()
        items = pairs.items() if isinstance(pairs, Mapping) else (p.split("=", 1) if "=" in p else (p, None)
                                                                  for p in pairs)
        known = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, value in items:
            name = str(name).strip().replace("-", "_")
            if name not in known or value is None:
                raise ValueError(f"CAS(ME)³ rule {name!r}: expected NAME=VALUE with NAME one of {sorted(known)}")
            values[name] = int(value) if name.endswith("_frames") else str(value).strip()
        return cls(**values)


# --------------------------------------------------------------------------------------------------------------
# Workbooks


def _sheets(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet of an ``.xls``/``.xlsx`` workbook as rows of cell values (python-calamine)."""
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}
    except Exception as exc:  # calamine raises its own error types for unreadable files
        raise AnnotationError(f"{path}: cannot open as an .xls/.xlsx workbook ({exc})") from exc


def _pick_sheet(sheets: Mapping[str, Any], path: Path) -> str:
    by_norm = {header_key(n): n for n in sheets}
    for wanted in (SHEET_AU_EMOTION, SHEET_LABEL):
        if header_key(wanted) in by_norm:
            return by_norm[header_key(wanted)]
    raise AnnotationError(f"{path}: no sheet {SHEET_AU_EMOTION!r} (CAS(ME)3_part_A_v1/v2) or {SHEET_LABEL!r} "
                          f"(…_ME_label_JpgIndex_v2) among {list(sheets)}; is this a CAS(ME)³ Part A workbook?")


def describe_workbook(path: str | Path) -> dict[str, Any]:
    """Which sheet :func:`read_casme3` reads (``sheet``, ``layout`` ``au_emotion``/``label``) and which it does not
    read, with the reason (``ignored``: sheet → reason)."""
    path = Path(path)
    sheets = _sheets(path)
    sheet = _pick_sheet(sheets, path)
    ignored = {n: IGNORED_SHEETS.get(n, "not an expression sheet") for n in sheets if n != sheet}
    return {"sheet": sheet, "layout": "au_emotion" if header_key(sheet) == header_key(SHEET_AU_EMOTION) else "label",
            "ignored": ignored}


def _header(rows: list[list[Any]], required: tuple[str, ...], where: Where) -> tuple[int, dict[str, int]]:
    """(0-based header row index, normalised column name → index); names every missing required column."""
    first: tuple[int, list[str]] | None = None
    for i, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        if all(is_blank(v) for v in row):
            continue
        cols = {header_key(v): j for j, v in reversed(list(enumerate(row))) if not is_blank(v)}
        missing = [c for c in required if header_key(c) not in cols]
        if not missing:
            return i, cols
        if first is None:
            first = (i, missing)
    if first is None:
        raise where.error(None, "the sheet is empty")
    raise where.error(first[0] + 1, f"header lacks column(s) {first[1]}; expected {list(required)} "
                                    f"(optional {list(_OPTIONAL)})")


def read_casme3(path: str | Path, offset_fill: str = "apex", rules: Casme3Rules | None = None) -> list[Row]:
    """Parse a CAS(ME)³ Part A workbook into rows (``read_annotations(path, "casme3")`` is the public entry).

    ``offset_fill``: the offset-0 rule (``apex``, ``mirror`` or ``error``); ``rules``: the other quirks' rules.
    ``source_id`` is ``<subject>_<clip>_r<Excel row>`` (``spNO.1_a_r17``).
    """
    path = Path(path)
    rules = rules or Casme3Rules()
    sheets = _sheets(path)
    sheet = _pick_sheet(sheets, path)
    layout = SHEET_AU_EMOTION if header_key(sheet) == header_key(SHEET_AU_EMOTION) else SHEET_LABEL
    where = Where(path, sheet)
    rows = sheets[sheet]
    header_index, cols = _header(rows, _REQUIRED[layout], where)

    def get(cells: list[Any], name: str) -> Any:
        j = cols.get(header_key(name))
        return cells[j] if j is not None and j < len(cells) else None

    out: list[Row] = []
    for i in range(header_index + 1, len(rows)):
        cells, row = rows[i], i + 1
        if all(is_blank(v) for v in cells):
            continue
        try:
            subject = subject_name(get(cells, "Subject"))
            clip = cell_text(get(cells, "Filename"))
            video = video_id(subject, clip)
        except ValueError as exc:
            raise where.error(row, f"{exc}; expected Subject 'spNO.<N>' and Filename a clip like 'a'") from None
        kind = expression_kind(get(cells, "Expression type"), where, row) if layout == SHEET_AU_EMOTION else "ME"
        flags: list[str] = []
        values = {name: (None if is_blank(get(cells, name)) and name == "Apex"
                         else frame_number(get(cells, name), name, where, row, flags))
                  for name in ("Onset", "Apex", "Offset")}
        sheet_values = dict(values)
        onset, apex, offset = values["Onset"], values["Apex"], values["Offset"]
        if any(v is not None and v < 0 for v in values.values()):
            raise where.error(row, f"negative frame number in onset/apex/offset {onset}/{apex}/{offset}")

        def fix(quirk: str, message: str) -> str:
            rule = getattr(rules, quirk)
            if rule == "error":
                raise where.error(row, f"{message} (rule {quirk}=error; choose another rule: {RULES[quirk][:-1]})")
            return rule

        if apex is None or apex == 0:
            fix("apex_zero", f"apex {'empty' if apex is None else 0} (not annotated)")
            apex = None
            flags.append("apex_missing")
        if onset == 0:
            if fix("onset_zero", "onset 0 (frames start at 1)") == "first_frame":
                onset = 1
                flags.append("onset_raised")
            else:
                flags.append("onset_zero")
        if offset == 0:
            if offset_fill == "error":
                raise where.error(row, "offset is 0 (not annotated); choose an offset_fill rule ('apex', 'mirror')")
            if apex is None:
                offset = onset
                flags.append("offset_filled_onset")
            else:
                offset = apex if offset_fill == "apex" else max(onset, 2 * apex - onset)
                flags.append("offset_filled")
        if offset < onset:
            fix("onset_after_offset", f"onset {onset} is after offset {offset}")
            onset, offset = offset, onset
            flags.append("onset_after_offset_swapped")
        if apex is not None and not onset <= apex <= offset:
            if fix("apex_outside", f"apex {apex} is outside onset..offset {onset}..{offset}") == "null":
                apex = None
                flags.append("apex_outside_interval")
            else:
                flags.append("apex_before_onset" if apex < onset else "offset_before_apex")
        length = offset - onset + 1
        if kind == "ME" and length > rules.long_me_frames:
            if fix("long_me", f"micro-expression of {length} frames (> {rules.long_me_frames})") == "macro":
                kind = "MaE"
                flags.append("long_me_relabelled")
            else:
                flags.append("long_me")
        elif kind == "MaE" and length > rules.long_mae_frames:
            fix("long_mae", f"macro-expression of {length} frames (> {rules.long_mae_frames})")
            flags.append("long_mae")
        notes = []
        emotion = emotion_word(get(cells, "emotion"), flags)
        if (onset, apex, offset) != (sheet_values["Onset"], sheet_values["Apex"], sheet_values["Offset"]):
            notes.append("sheet: " + " ".join(f"{k.lower()}={'' if v is None else v}"
                                              for k, v in sheet_values.items()))
        aus = cell_text(get(cells, "AU"))
        out.append(Row(source_id=f"{subject}_{clip}_r{row}", subject=subject, video=video, onset=onset, apex=apex,
                        offset=offset, kind=kind, action_units="" if aus.lower() == "null" else aus,
                        notes="; ".join(notes), flags=flags, emotion=emotion, emotion_megc=fmt.megc_class(emotion),
                        objective_class=cell_text(get(cells, "Objective class")) or None))
    return out


def base_ids(rows: list[Row]) -> list[str]:
    """Interval ids ``<video>_<k>``, ``k`` the 1-based row order within the video in the sheet."""
    seen: dict[str, int] = {}
    out = []
    for r in rows:
        seen[r.video] = seen.get(r.video, 0) + 1
        out.append(f"{r.video}_{seen[r.video]}")
    return out


# --------------------------------------------------------------------------------------------------------------
# Frames


def frame_name(frame: int) -> str:
    """A colour frame's file name: ``<n>.jpg``, ``n`` the 1-based frame number, unpadded."""
    return f"{frame}.jpg"


def frames_base(root: Path) -> Path:
    """The folder holding the ``spNO.<N>`` folders: ``root`` or one of :data:`FRAME_SUBDIRS` under it."""
    for sub in FRAME_SUBDIRS:
        base = root / sub
        if base.is_dir() and any(p.is_dir() and _SUBJECT.fullmatch(p.name) for p in base.iterdir()):
            return base
    raise FileNotFoundError(f"{root}: no CAS(ME)³ subject folders (spNO.1, spNO.2, …) here or in "
                            f"{', '.join(s for s in FRAME_SUBDIRS if s != '.')} under it")


def _unreadable(path: str, size: int) -> str | None:
    """Why a JPEG cannot be read (empty, no start or end-of-image marker), or None; reads ≤ 66 bytes."""
    if size == 0:
        return "empty"
    with open(path, "rb") as f:
        head = f.read(2)
        if size > 66:
            f.seek(-64, os.SEEK_END)
        tail = f.read()
    if head != b"\xff\xd8":
        return "not a JPEG (no start-of-image marker)"
    try:
        check_jpeg_complete(Path(path), np.frombuffer(head + tail, dtype=np.uint8))
    except FrameReadError:
        return "truncated (no end-of-image marker)"
    return None


def clip_folders(root: Path) -> dict[str, tuple[str, Path]]:
    """``{video id: (subject, color folder)}`` for every clip; a clip folder without ``color/`` is an error."""
    base = frames_base(root)
    found: dict[str, tuple[str, Path]] = {}
    for sdir in sorted(p for p in base.iterdir() if p.is_dir() and _SUBJECT.fullmatch(p.name)):
        subject = subject_name(sdir.name)
        for cdir in sorted(p for p in sdir.iterdir() if p.is_dir()):
            if not _CLIP.fullmatch(cdir.name):
                raise FileNotFoundError(f"{cdir}: not a CAS(ME)³ clip folder (a letter like 'a'); rename or "
                                        "remove it")
            color = cdir / COLOR_DIR
            if not color.is_dir():
                raise FileNotFoundError(f"{cdir}: no '{COLOR_DIR}' folder of <n>.jpg frames")
            video = video_id(subject, cdir.name)
            if video in found:
                raise FileNotFoundError(f"{found[video][1].parent} and {cdir} are both video {video} (clip names "
                                        "are compared in lower case); remove one")
            found[video] = (subject, color)
    return found


def list_casme3(root: Path, fps: float, allow_gaps: bool, only: set[str] | None) -> list[VideoSource]:
    """VideoSources of a CAS(ME)³ Part A tree (see the module docstring; ``list_videos(root, "casme3")``).

    Unreadable JPEGs are named and then handled as missing frames: without ``allow_gaps`` a
    :class:`FrameGapError` lists them with every gap; with it, those inside the video are recorded in
    ``VideoSource.missing`` (a warning names them all, also those at either end, which shorten the video).
    """
    pattern = re.compile(r"(\d+)\.jpe?g", re.IGNORECASE)
    found = clip_folders(root)
    out = []
    for video, (subject, color) in tqdm([(v, f) for v, f in found.items() if only is None or v in only],
                                        desc="listing CAS(ME)³", unit="video", disable=None, leave=False):
        frames = frames_matching(color, pattern)
        bad = {n: why for n, p in frames if (why := _unreadable(str(p), p.stat().st_size))}
        if bad:
            named = ", ".join(f"{n}.jpg ({why})" for n, why in sorted(bad.items())[:20])
            more = f", … ({len(bad)} in all)" if len(bad) > 20 else ""
            if not allow_gaps:
                raise FrameGapError(f"{color}: video {video} has {len(bad)} unreadable frame(s): {named}{more}; "
                                    "replace them, or pass allow_gaps=True (--allow-gaps) to record them as "
                                    "missing", tuple(sorted(bad)))
            log.warning("video %s: %d unreadable frames recorded as missing (allow_gaps): %s%s", video, len(bad),
                        named, more)
            frames = [(n, p) for n, p in frames if n not in bad]
        out.append(numbered_video(video, subject, "casme3", fps, color, frames, allow_gaps))
    return out

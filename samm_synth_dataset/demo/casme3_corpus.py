"""A real-face test corpus in the CAS(ME)³ Part A layout, with workbooks in the authors' format, quirks included.

The frames are the SAMM-LV demo's (:mod:`samm_synth_dataset.demo.corpus`): its neutral faces animated by its
scripted local warps, here at 30 fps with CAS(ME)³-length events (micro-expressions 12–13 frames,
macro-expressions 40–91). Nothing here is CAS(ME)³ data: the layout and the quirks are the real ones, the rows
are made up.

Layout written under ``root``::

    part_A/data/part_A_split/part_A/spNO.<N>/<clip>/color/<n>.jpg   3-channel JPEG, n unpadded from 1, 30 fps
    part_A/data/part_A_split/part_A/spNO.<N>/<clip>/depth/<n>.png   16-bit depth stand-ins (first clip only)
    CAS(ME)3_part_A_v2.xlsx                      sheets AU+Emotion (ME and MaE) and eye blink
    cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx    sheets label (ME only), Sheet1 and Sheet3 (empty)
    references/…, references.csv                 the demo's colour reference faces, subjects renamed spNO.<N>
    ground_truth/intervals.csv                   per workbook row: the TRUE interval, the values written, quirk
    ground_truth/events.csv, videos.csv, neutral/ in the demo's format (``demo.corpus.true_displacement``
                                                 reads them)
    ground_truth/corpus.json                     written last

The authors publish ``.xls`` files; no maintained library writes ``.xls``, so the workbooks are ``.xlsx`` with the
same sheets and headers (the reader takes both).

Quirks (``quirks=True``; the frames and true intervals do not change), per workbook, as ``intervals.csv`` names
them: AU+Emotion ``onset_apex_zero`` (onset = apex = 0, as ``spNO.216 e``), ``apex_before_onset`` (``spNO.149
d``), ``apex_after_offset``, ``long_me`` (onset written 5: a 244-frame ME, as ``spNO.214 c``'s 5–3460 span);
JpgIndex ``offset_zero`` (as ``spNO.40 e``), ``onset_after_offset`` (a mistyped onset, as ``spNO.216 d``) and
``emotion_case`` (``Others`` for ``others``). The JpgIndex ``emotion`` column has ``happy``, ``disgust``,
``surprise`` and ``others``; both workbooks have ``Objective class``.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import pandas as pd

from samm_synth_dataset.demo.animation import (
    detect_face,
    displacement_field,
    encode_jpeg,
    encode_png,
    neutral_face,
    temporal_profile,
    warp,
    warp_components,
    write_references,
)
from samm_synth_dataset.demo.choreography import Event, VideoScript, event_components, subject_people
from samm_synth_dataset.demo.photos import write_corpus_about
from samm_synth_dataset.demo.workbook import FIXED_TIME, fixed_zip_times
from samm_synth_dataset.images import to_rgb
from samm_synth_dataset.sources.casme3 import (
    AU_EMOTION_HEADER,
    COLOR_DIR,
    FPS,
    FRAME_SUBDIRS,
    LABEL_HEADER,
    SHEET_AU_EMOTION,
    SHEET_LABEL,
    frame_name,
    video_id,
)

#: The deepest of the reader's frame folders: the path inside the authors' archive.
FRAMES_SUBDIR = FRAME_SUBDIRS[-1]
V2_WORKBOOK = "CAS(ME)3_part_A_v2.xlsx"
LABEL_WORKBOOK = "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
BLINK_COLUMNS = ("Subject", "Filename", "Onset", "Offset")
SCALE = 0.5  # of the demo photo: frames 256 × 300
#: CAS(ME)³ subject → the demo subject whose face it wears.
SUBJECTS: dict[str, str] = {"spNO.1": "006", "spNO.216": "007"}
_EMOTION = {"12": ("happy", "I"), "4": ("disgust", "II"), "1+2": ("surprise", "III")}
#: JpgIndex emotions that differ from the action units' (video, event → word); the ``emotion_case`` quirk writes
#: ``Others`` (the real sheet has 158 ``others`` and 3 ``Others``).
_LABEL_EMOTION = {("spNO1_c", "e2"): "others", ("spNO216_e", "e2"): "others"}

_E = Event


@dataclass(frozen=True)
class _Clip:
    subject: str
    folder: str  # clip folder name as on disk (``J`` keeps its case)
    n_frames: int
    events: tuple[Event, ...]
    # (event name, workbook "v2"/"label", quirk); applied only with quirks on
    quirks: tuple[tuple[str, str, str], ...] = ()


def _clips() -> list[_Clip]:
    return [
        _Clip("spNO.1", "a", 90, (_E("e1", "MaE", "12", 10, 35, 60, 4.0), _E("e2", "ME", "4", 70, 76, 82, 1.0))),
        _Clip("spNO.1", "J", 90, (_E("e1", "ME", "1+2", 20, 25, 31, 1.0), _E("e2", "MaE", "4", 40, 60, 85, 4.5)),
              quirks=(("e1", "v2", "apex_before_onset"), ("e1", "label", "offset_zero"))),
        _Clip("spNO.1", "c", 260, (_E("e1", "MaE", "12", 100, 140, 190, 4.0),
                                   _E("e2", "ME", "4", 236, 242, 248, 1.2)),
              quirks=(("e2", "v2", "long_me"),)),
        _Clip("spNO.216", "d", 90, (_E("e1", "ME", "12", 31, 36, 42, 1.0), _E("e2", "MaE", "1+2", 50, 65, 88, 4.0)),
              quirks=(("e2", "v2", "apex_after_offset"), ("e1", "label", "onset_after_offset"))),
        # under way at the first frame: the profile starts 30 frames before the clip
        _Clip("spNO.216", "e", 90, (_E("e1", "MaE", "4", -30, 5, 40, 4.0), _E("e2", "ME", "1+2", 60, 66, 72, 0.9)),
              quirks=(("e1", "v2", "onset_apex_zero"), ("e2", "label", "emotion_case"))),
    ]


@dataclass(frozen=True)
class Casme3Corpus:
    """Paths of a generated CAS(ME)³-layout corpus."""

    root: Path
    frames_root: Path
    annotations: Path  # the v2-style AU+Emotion workbook (ME and MaE)
    label_workbook: Path  # the JpgIndex-style ME-only workbook
    references_csv: Path
    ground_truth: Path
    videos: list[str]


def _sheet_values(clip: _Clip, ev: Event, workbook: str, quirks: bool) -> tuple[int, int, int, str]:
    """(onset, apex, offset, quirk) as ``workbook`` writes ``ev``."""
    onset, apex, offset = max(ev.onset, 1), ev.apex, min(ev.offset, clip.n_frames)
    quirk = next((q for name, wb, q in clip.quirks if quirks and name == ev.name and wb == workbook), "")
    if quirk == "apex_before_onset":
        apex = onset - 2
    elif quirk == "apex_after_offset":
        apex = offset + 1
    elif quirk == "long_me":
        onset = 5
    elif quirk == "offset_zero":
        offset = 0
    elif quirk == "onset_after_offset":  # a mistyped digit: 31 → 51, past the offset 42
        onset = onset + 20
    elif quirk == "onset_apex_zero":
        onset, apex = 0, 0
    elif not 1 <= apex <= clip.n_frames:
        raise AssertionError(f"{clip.subject}/{clip.folder} {ev.name}: apex outside the clip needs a quirk")
    return onset, apex, offset, quirk


def workbook_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    """An ``.xlsx`` of ``sheets`` (first row = header; empty list = empty sheet), deterministic bytes."""
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.properties.created = wb.properties.modified = FIXED_TIME
    wb.properties.creator = "samm_synth_dataset"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()
    return fixed_zip_times(buffer.getvalue(), {})


def write_corpus(root: Path, generate: Callable[[Path], tuple[list[str], dict[str, object]]]) -> list[str]:
    """Run ``generate(work)`` (its videos and the ``ground_truth/corpus.json`` content) in a temporary sibling of
    ``root`` (absent or an empty folder, else FileExistsError), write ``corpus.json`` last and move the folder into
    place; nothing is left behind on failure. Returns the videos."""
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise FileExistsError(f"{root}: exists and is not an empty folder; choose another output path")
    root.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{root.name}.partial-", dir=root.parent))
    try:
        videos, about = generate(work)
        (work / "ground_truth" / "corpus.json").write_text(json.dumps(about, indent=2) + "\n")
        if root.exists():
            root.rmdir()
        work.rename(root)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return videos


def write_clip(folder: Path, name: Callable[[int], str], script: VideoScript, neutral: np.ndarray,
               face: tuple[int, int, int, int], fps: float) -> tuple[list[dict[str, object]], dict[str, object]]:
    """Write the frames of ``script`` (positions 1..n) into ``folder`` (created) as colour JPEGs named
    ``name(frame)``: ``neutral`` warped by the script's events. Returns its ground-truth event components and
    its ``videos.csv`` row (the demo's format)."""
    components = event_components(script, face)
    height, width = neutral.shape
    x, y, w, h = face
    row = {"video": script.video, "subject": script.subject, "first_frame": 1, "last_frame": script.n_frames,
           "n_frames": script.n_frames, "width": width, "height": height, "fps": fps, "face_x": x, "face_y": y,
           "face_w": w, "face_h": h, "neutral": f"neutral/{script.subject}.png"}
    model = warp_components(pd.DataFrame(components)) if components else []
    folder.mkdir(parents=True)
    still = encode_jpeg(to_rgb(neutral))
    for frame in range(1, script.n_frames + 1):
        if any(temporal_profile(frame, c.onset, c.apex, c.offset) > 0.0 for c in model):
            data = encode_jpeg(to_rgb(warp(neutral, displacement_field(model, frame, height, width))))
        else:
            data = still
        (folder / name(frame)).write_bytes(data)
    return components, row


#: Clips with no expression at all (``unlabelled=True``): CAS(ME)³ Part A has many clips without a labelled
#: interval; the lister finds them and a build makes them, so the spotting benchmark must score them.
UNLABELLED_CLIPS: tuple[_Clip, ...] = (_Clip("spNO.1", "f", 60, ()), _Clip("spNO.216", "g", 60, ()))


def _generate(root: Path, quirks: bool, unlabelled: bool = False) -> list[str]:
    clips = _clips() + (list(UNLABELLED_CLIPS) if unlabelled else [])
    gt = root / "ground_truth"
    (gt / "neutral").mkdir(parents=True)
    frames_root = root / FRAMES_SUBDIR
    neutrals, faces = {}, {}
    for subject, variant in SUBJECTS.items():
        neutrals[subject] = neutral_face(variant, SCALE)
        faces[subject] = detect_face(neutrals[subject])
        (gt / "neutral" / f"{subject}.png").write_bytes(encode_png(neutrals[subject]))

    component_rows: list[dict[str, object]] = []
    video_rows: list[dict[str, object]] = []
    sheet_rows: list[dict[str, object]] = []
    v2: list[list[object]] = [list(AU_EMOTION_HEADER)]
    label: list[list[object]] = [list(LABEL_HEADER)]
    for ci, clip in enumerate(clips):
        video = video_id(clip.subject, clip.folder)
        color = frames_root / clip.subject / clip.folder / COLOR_DIR
        components, video_row = write_clip(color, frame_name, VideoScript(video, clip.subject, 1, clip.n_frames,
                                                                          clip.events),
                                           neutrals[clip.subject], faces[clip.subject], FPS)
        component_rows += components
        video_rows.append(video_row)
        if ci == 0:  # depth frames exist in the real tree and are ignored by the lister
            depth = color.parent / "depth"
            depth.mkdir()
            for frame in (1, 2):
                ok, buf = cv2.imencode(".png", np.full((8, 8), 1000 * frame, np.uint16))
                (depth / f"{frame}.png").write_bytes(buf.tobytes())
        for ev in sorted(clip.events, key=lambda e: (e.onset, e.name)):
            emotion, objective = _EMOTION[ev.action_units]
            emotion = _LABEL_EMOTION.get((video, ev.name), emotion)
            true = (max(ev.onset, 1), ev.apex if 1 <= ev.apex <= clip.n_frames else None,
                    min(ev.offset, clip.n_frames))
            for workbook in ("v2", "label") if ev.kind == "ME" else ("v2",):
                onset, apex, offset, quirk = _sheet_values(clip, ev, workbook, quirks)
                if workbook == "v2":
                    v2.append([clip.subject, clip.folder, onset, apex, offset, ev.action_units,
                               "Micro-expression" if ev.kind == "ME" else "Macro-expression", objective])
                    sheet_row = len(v2)
                else:
                    label.append([clip.subject, clip.folder, onset, apex, offset, ev.action_units, objective,
                                  emotion.capitalize() if quirk == "emotion_case" else emotion])
                    sheet_row = len(label)
                sheet_rows.append({"workbook": workbook, "sheet_row": sheet_row, "video": video,
                                   "subject": clip.subject, "clip": clip.folder, "event": f"{video}_{ev.name}",
                                   "kind": ev.kind, "onset": true[0], "apex": true[1], "offset": true[2],
                                   "action_units": ev.action_units, "emotion": emotion, "notes": "", "quirk": quirk,
                                   "sheet_onset": onset, "sheet_apex": apex, "sheet_offset": offset})
    blinks = [list(BLINK_COLUMNS), ["spNO.1", "a", 3, 6], ["spNO.216", "d", 20, 24]]
    (root / V2_WORKBOOK).write_bytes(workbook_bytes({SHEET_AU_EMOTION: v2, "eye blink": blinks}))
    (root / LABEL_WORKBOOK).write_bytes(workbook_bytes({SHEET_LABEL: label, "Sheet1": [], "Sheet3": []}))
    pd.DataFrame(component_rows).to_csv(gt / "events.csv", index=False)
    pd.DataFrame(video_rows).to_csv(gt / "videos.csv", index=False)
    pd.DataFrame(sheet_rows).astype({"apex": "Int64"}).to_csv(gt / "intervals.csv", index=False)
    refs = write_references(root, SCALE)
    refs["subject"] = refs["subject"].map({v: k for k, v in SUBJECTS.items()})
    refs.to_csv(root / "references.csv", index=False)
    people, shown = subject_people()
    write_corpus_about(root, "samm-synth demo corpus (CAS(ME)³ Part A layout)",
                       {s: people[d] for s, d in SUBJECTS.items()}, {s: shown[d] for s, d in SUBJECTS.items()})
    return [r["video"] for r in video_rows]


def make_casme3_corpus(root: str | Path, quirks: bool = True, unlabelled: bool = False) -> Casme3Corpus:
    """Write the CAS(ME)³-layout corpus into ``root`` (absent or empty) and return its paths.

    Two subjects (``spNO.1``: clips ``a``, ``J``, ``c``; ``spNO.216``: ``d``, ``e``), 620 frames of 256 × 300 in
    all; with ``unlabelled`` two more clips without any expression (``spNO.1/f``, ``spNO.216/g``, 60 frames each,
    in no sheet). Deterministic: the same arguments give the same bytes. Built in a temporary sibling folder, moved into
    place when complete.
    """
    def generate(work: Path) -> tuple[list[str], dict[str, object]]:
        videos = _generate(work, quirks, unlabelled)
        about: dict[str, object] = {"generator": "samm_synth_dataset.demo.casme3_corpus", "quirks": quirks,
                                    "fps": FPS, "videos": videos}
        if unlabelled:  # recorded only when on: the default corpus keeps its bytes
            about["unlabelled_clips"] = [video_id(c.subject, c.folder) for c in UNLABELLED_CLIPS]
        return videos, about

    root = Path(root)
    videos = write_corpus(root, generate)
    return Casme3Corpus(root=root, frames_root=root / FRAMES_SUBDIR, annotations=root / V2_WORKBOOK,
                        label_workbook=root / LABEL_WORKBOOK, references_csv=root / "references.csv",
                        ground_truth=root / "ground_truth", videos=videos)

"""A real-face demo corpus in the SAMM Long Videos (SAMM-LV) on-disk layout, with exact ground truth.

The face is matplotlib's public-domain sample photo ``grace_hopper.jpg``, found with OpenCV's Haar frontal-face
cascade. Each "subject" is a variant of it (``006``: the photo; ``007``: mirrored and re-lit). Every video is the
subject's neutral greyscale image animated by scripted, smooth local warps placed from the detected face box:

* ``AU12`` lip corners up and out, ``AU4`` inner brows down and together, ``AU1+2`` brows up;
* micro-expressions (ME) last 40–100 frames with ~1 px peak displacement, macro-expressions (MaE) last ≥106
  frames with 4–5 px; one ME lies inside a MaE; one unlabelled small head translation (a uniform shift).

Conventions
-----------
* Frames are 1-based SOURCE frame numbers, as in the sheet; intervals are inclusive (``onset..offset``).
* Displacements are ``(dx, dy)`` in pixels of the source frames (x right, y down). A frame is the neutral image
  warped BACKWARD by the field: ``frame(x, y) = neutral(x - dx(x, y), y - dy(x, y))`` (``cv2.remap``, bilinear,
  reflected border), i.e. image content moves by ``+d`` to first order. The field of a frame is the sum over the
  events active at it; each event is a separable Gaussian bump (``sigma`` > 0, centred on a facial point, exactly
  0 beyond ``BUMP_RADIUS`` = 5 sigmas) or a
  uniform shift (``sigma`` = 0, head translation) scaled by a raised-cosine temporal profile that is 0 at frame
  ``onset - 1`` and ``offset + 1``, 1 at ``apex`` and non-zero at every frame of ``onset..offset``.
  Frames outside every event are byte-identical copies of the JPEG-encoded neutral image.
* An event may start before the first frame or end after the last (its profile onset/offset in ``events.csv``
  then lies outside the video); its labelled interval in ``intervals.csv`` is clipped to the video.

Layout written under ``root``::

    SAMM_longvideos/<sss>_<c>/<sss>_<c>_<n>.jpg    greyscale 8-bit JPEG (quality 95), 200 fps, n ≥ 4 digits
    SAMM_LongVideos_Demo.xlsx                      sheet FACS_Movement_Only, SAMM-LV layout (header row 10)
    references/ref<NN>_*.png, references.csv       colour reference faces: subject,reference_path,domain,reference_id
    subjects.csv                                   subject,gender,glasses
    ground_truth/intervals.csv                     the TRUE labelled intervals and how the sheet wrote them
    ground_truth/events.csv                        warp parameters; ``true_displacement`` rebuilds fields from them
    ground_truth/displacement.csv                  per video, frame and facial region: dx, dy at the region
                                                   centre and the maximum magnitude in the region's window
    ground_truth/videos.csv                        per video: subject, frame range, size, fps, face box, neutral
    ground_truth/neutral/<sss>.png                 each subject's neutral greyscale image (lossless)
    ground_truth/corpus.json                       generator parameters; written last (marks a complete corpus)

Quirks (``quirks=True``) change only the workbook, never the frames or the ground truth; ``intervals.csv``
names the quirk of each sheet row (``fractional``, ``apex_missing``, ``onset_zero``, ``duplicate_filename``,
``offset_past_end``).
"""

from __future__ import annotations

import functools
import io
import json
import logging
import math
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, NamedTuple

import cv2
import numpy as np
import pandas as pd
from tqdm import tqdm

log = logging.getLogger(__name__)

FPS = 200.0
JPEG_QUALITY = 95
WORKBOOK_NAME = "SAMM_LongVideos_Demo.xlsx"
SHEET_NAME = "FACS_Movement_Only"
SHEET_COLUMNS: tuple[str, ...] = ("Subject", "Filename", "Inducement Code", "Onset", "Apex", "Offset",
                                  "Duration", "Type", "Action Units", "Notes")
HEADER_ROW = 10  # 1-based Excel row of the header; data start on the next row
TYPE_MACRO = "Macro"
TYPE_MICRO = "Micro - 1/2"
HAAR_CASCADE = "haarcascade_frontalface_default.xml"
GENERATOR_VERSION = 1
BUMP_RADIUS = 5.0  # Gaussian bumps are exactly 0 beyond this many sigmas from their centre
_FIXED_TIME = datetime(2020, 1, 1, 0, 0, 0)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

Size = Literal["full", "small"]

#: Facial points as fractions (fx, fy) of the detected face box (x right, y down, image left = "left").
#: ``face`` is the box centre, used for the head translation.
REGIONS: dict[str, tuple[float, float]] = {
    "brow_left": (0.30, 0.30),
    "brow_right": (0.70, 0.30),
    "brow_inner_left": (0.40, 0.31),
    "brow_inner_right": (0.60, 0.31),
    "lip_corner_left": (0.36, 0.79),
    "lip_corner_right": (0.64, 0.79),
    "face": (0.50, 0.50),
}

#: Action units → Gaussian components (region, unit direction (ux, uy), sigma as a fraction of the face width).
#: Directions are in image coordinates of the ORIGINAL photo's left/right; mirrored subjects keep them because
#: the components are named by image side ("left" = smaller x), where "out" for a lip corner is away from the
#: face centre either way.
_AU_COMPONENTS: dict[str, tuple[tuple[str, tuple[float, float], float], ...]] = {
    "12": (("lip_corner_left", (-0.6, -0.8), 0.075), ("lip_corner_right", (0.6, -0.8), 0.075)),
    "4": (("brow_inner_left", (0.55, 0.835), 0.07), ("brow_inner_right", (-0.55, 0.835), 0.07)),
    "1+2": (("brow_left", (0.0, -1.0), 0.09), ("brow_right", (0.0, -1.0), 0.09)),
}

_SUBJECTS: dict[str, dict[str, object]] = {
    # subject: variant of the photo, gender, glasses (the photo's sitter wears glasses in both variants)
    "006": {"variant": "original", "gender": "F", "glasses": True},
    "007": {"variant": "mirrored_relit", "gender": "F", "glasses": True},
}


@dataclass(frozen=True)
class DemoCorpus:
    """Paths of a generated demo corpus (see the module docstring for the layout)."""

    root: Path
    frames_root: Path
    annotations: Path
    references_csv: Path
    subjects_csv: Path
    ground_truth: Path
    videos: list[str]


@dataclass(frozen=True)
class _Event:
    """One scripted movement. Frames are 1-based POSITIONS in the video (1 = first frame).

    ``kind`` is ME, MaE or head (unlabelled). ``onset``/``offset`` of the temporal profile may lie outside
    ``1..n_frames``; the labelled interval is then clipped. ``sheet_quirks`` lists quirks applied to its sheet row
    when quirks are on.
    """

    name: str
    kind: Literal["ME", "MaE", "head"]
    action_units: str
    onset: int
    apex: int
    offset: int
    amplitude: float  # peak displacement in pixels
    shift: tuple[float, float] = (0.0, 0.0)  # head only: unit direction of the uniform shift
    sheet_quirks: tuple[str, ...] = ()
    duplicate_of: str = ""  # quirk duplicate_filename: reuse this event's Filename


@dataclass(frozen=True)
class _VideoScript:
    video: str
    subject: str
    first_frame: int
    n_frames: int
    events: tuple[_Event, ...]


def _scripts(size: Size) -> list[_VideoScript]:
    """The scripted videos. ``small`` is a shorter cut of the same design (every quirk and case is present)."""
    n = 500 if size == "full" else 270
    full = size == "full"
    v006_1 = [
        _Event("e1", "MaE", "12", 40, 100, 180, 4.0),
        _Event("e2", "ME", "1+2", 90, 118, 150, 1.0, sheet_quirks=("duplicate_filename",), duplicate_of="e1"),
        _Event("h1", "head", "", 200, 225, 250, 3.0, shift=(0.8, -0.6)),
    ]
    v006_2 = [
        _Event("e1", "ME", "12", 30, 55, 85, 1.0),
        _Event("e2", "MaE", "4", 110, 160, 230, 4.5, sheet_quirks=("apex_missing",)),
    ]
    v007_1 = [
        # in progress at the first frame: the profile starts 30 frames before the video
        _Event("e1", "MaE", "1+2", -30, 30, 140, 4.0, sheet_quirks=("onset_zero",)),
        _Event("e2", "ME", "4", 160, 185, 210, 0.8),
        # still in progress at the last frame: the profile ends 60 frames after the video
        _Event("e3", "MaE", "12", n - 125, n - 40, n + 60, 5.0, sheet_quirks=("offset_past_end",)),
    ]
    v007_2 = [
        _Event("e1", "MaE", "4", 20, 70, 140, 4.0, sheet_quirks=("fractional",)),
        _Event("e2", "ME", "12", 180, 205, 240, 1.2),  # frames 9980..10040: crosses 9999 -> 10000
    ]
    if full:
        v006_1 += [_Event("e3", "ME", "4", 300, 330, 370, 1.2),
                   _Event("e4", "MaE", "1+2", 380, 440, 495, 5.0)]
        v006_2 += [_Event("h1", "head", "", 250, 280, 320, 2.5, shift=(-0.6, 0.8)),
                   _Event("e3", "ME", "1+2", 330, 355, 380, 1.0),
                   _Event("e4", "MaE", "12", 385, 440, 495, 4.0)]
        v007_1 = v007_1[:2] + [_Event("h1", "head", "", 230, 255, 290, 3.0, shift=(1.0, 0.0)),
                               _Event("e4", "ME", "1+2", 300, 325, 360, 1.0)] + v007_1[2:]
        v007_2 += [_Event("e3", "MaE", "12", 280, 340, 420, 4.5),
                   _Event("e4", "ME", "1+2", 320, 345, 380, 1.0),
                   _Event("h1", "head", "", 440, 465, 490, 2.0, shift=(0.0, 1.0))]
    return [
        _VideoScript("006_1", "006", 1, n, tuple(v006_1)),
        _VideoScript("006_2", "006", 1, n, tuple(v006_2)),
        _VideoScript("007_1", "007", 1, n, tuple(v007_1)),
        _VideoScript("007_2", "007", 9801, n, tuple(v007_2)),
    ]


def check_design(scripts: list[_VideoScript]) -> None:
    """Raise ValueError unless the scripts meet the corpus design: labelled intervals (clipped to the video) of
    MEs last 40–100 frames with peak 0.5–1.5 px, of MaEs ≥ 106 frames with 3–6 px; onset ≤ apex ≤ offset; only
    the ``onset_zero``/``offset_past_end`` events run past the video; at least one ME inside a MaE and one head
    translation; each AU kind and each sheet quirk present."""
    quirks: list[str] = []
    me_in_mae = heads = 0
    units: set[str] = set()
    for script in scripts:
        spans = {}
        for ev in script.events:
            where = f"{script.video} {ev.name}"
            quirks += ev.sheet_quirks
            if not ev.onset <= ev.apex <= ev.offset:
                raise ValueError(f"{where}: onset ≤ apex ≤ offset violated")
            if (ev.onset < 1) != ("onset_zero" in ev.sheet_quirks) or (
                    (ev.offset > script.n_frames) != ("offset_past_end" in ev.sheet_quirks)):
                raise ValueError(f"{where}: only the onset_zero/offset_past_end events may leave the video")
            if ev.kind == "head":
                heads += 1
                continue
            units.add(ev.action_units)
            start, stop = max(ev.onset, 1), min(ev.offset, script.n_frames)
            spans[ev.name] = (ev.kind, start, stop)
            length = stop - start + 1
            ok = (40 <= length <= 100 and 0.5 <= ev.amplitude <= 1.5) if ev.kind == "ME" else (
                length >= 106 and 3.0 <= ev.amplitude <= 6.0)
            if not ok:
                raise ValueError(f"{where}: {ev.kind} of {length} frames and {ev.amplitude} px is off the design")
        me_in_mae += sum(1 for k, a, b in spans.values() if k == "ME" and any(
            k2 == "MaE" and a2 <= a and b <= b2 for k2, a2, b2 in spans.values()))
    missing = {"fractional", "apex_missing", "onset_zero", "duplicate_filename", "offset_past_end"} - set(quirks)
    if missing or me_in_mae == 0 or heads == 0 or units != set(_AU_COMPONENTS):
        raise ValueError(f"demo design incomplete: quirks missing {sorted(missing)}, {me_in_mae} ME inside MaE, "
                         f"{heads} head translations, AUs {sorted(units)}")


# --------------------------------------------------------------------------------------------------- images


def _photo_bgr() -> np.ndarray:
    """The sample photo (600×512 BGR uint8), read from matplotlib's bundled data (nothing is downloaded)."""
    from matplotlib import cbook

    path = Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise RuntimeError(f"{path}: cannot read matplotlib's sample photo; reinstall matplotlib")
    return image


def _haar() -> cv2.CascadeClassifier:
    path = Path(cv2.data.haarcascades) / HAAR_CASCADE
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise RuntimeError(f"{path}: OpenCV's Haar cascade is missing; install opencv-python-headless>=4.10,<5")
    return cascade


def detect_face(gray: np.ndarray) -> tuple[int, int, int, int]:
    """The largest Haar frontal-face box ``(x, y, w, h)`` in pixels of a greyscale image; raises when none."""
    side = min(gray.shape[:2])
    boxes = _haar().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(side // 4, side // 4))
    if len(boxes) == 0:
        raise RuntimeError("the Haar frontal-face cascade found no face in the demo image")
    x, y, w, h = max((tuple(int(v) for v in b) for b in boxes), key=lambda b: b[2] * b[3])
    return x, y, w, h


def _neutral(subject: str, scale: float) -> np.ndarray:
    """The subject's neutral greyscale image (H×W uint8) at ``scale`` of the photo's size."""
    bgr = _photo_bgr()
    if scale != 1.0:
        bgr = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    variant = _SUBJECTS[subject]["variant"]
    if variant == "original":
        return gray
    if variant == "mirrored_relit":
        gray = np.ascontiguousarray(gray[:, ::-1])
        h, w = gray.shape
        # re-lit: gamma 0.85 and light falling off from the image's left to its right (×1.08 .. ×0.80)
        ramp = np.linspace(1.08, 0.80, w, dtype=np.float64)[None, :]
        lit = 255.0 * (gray.astype(np.float64) / 255.0) ** 0.85 * ramp
        return np.clip(np.rint(lit), 0, 255).astype(np.uint8)
    raise ValueError(f"unknown subject variant {variant!r}")


def _encode_jpeg(gray: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY, cv2.IMWRITE_JPEG_OPTIMIZE, 0])
    if not ok:
        raise RuntimeError("OpenCV failed to encode a JPEG frame")
    return buf.tobytes()


def _encode_png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:
        raise RuntimeError("OpenCV failed to encode a PNG image")
    return buf.tobytes()


def frame_name(video: str, frame: int) -> str:
    """SAMM-LV frame file name: ``<video>_<n>.jpg`` with ``n`` zero-padded to at least 4 digits."""
    return f"{video}_{frame:04d}.jpg"


# --------------------------------------------------------------------------------------------- displacement


def temporal_profile(frame: float, onset: float, apex: float, offset: float) -> float:
    """Raised-cosine weight in [0, 1] at ``frame``: 0 at ``onset - 1`` and ``offset + 1`` and outside, 1 at
    ``apex``, strictly positive on ``onset..offset`` (all frame numbers, inclusive ends)."""
    start, stop = onset - 1.0, offset + 1.0
    if frame <= start or frame >= stop:
        return 0.0
    if frame <= apex:
        return 0.5 * (1.0 - math.cos(math.pi * (frame - start) / (apex - start)))
    return 0.5 * (1.0 + math.cos(math.pi * (frame - apex) / (stop - apex)))


class _Component(NamedTuple):
    """One warp component of ``events.csv`` (pixels; profile frames are source numbers)."""

    cx: float
    cy: float
    sigma: float
    peak_dx: float
    peak_dy: float
    onset: float
    apex: float
    offset: float


def _components(events: pd.DataFrame) -> list[_Component]:
    return [_Component(*(float(v) for v in row))
            for row in events[list(_Component._fields)].itertuples(index=False, name=None)]


def _field(components: list[_Component], frame: int, height: int, width: int) -> np.ndarray:
    """Sum of the displacement components of one video at ``frame`` (source number): H×W×2 float32 (dx, dy)."""
    field = np.zeros((height, width, 2), dtype=np.float64)
    for c in components:
        weight = temporal_profile(frame, c.onset, c.apex, c.offset)
        if weight == 0.0:
            continue
        if c.sigma == 0.0:
            field[..., 0] += weight * c.peak_dx
            field[..., 1] += weight * c.peak_dy
            continue
        # the bump is truncated to exactly 0 beyond BUMP_RADIUS sigmas (exp(-12.5) ≈ 4e-6 of the peak there)
        reach = BUMP_RADIUS * c.sigma
        x0, x1 = max(0, math.ceil(c.cx - reach)), min(width, math.floor(c.cx + reach) + 1)
        y0, y1 = max(0, math.ceil(c.cy - reach)), min(height, math.floor(c.cy + reach) + 1)
        if x0 >= x1 or y0 >= y1:
            continue
        gx = np.exp(-((np.arange(x0, x1, dtype=np.float64) - c.cx) ** 2) / (2.0 * c.sigma ** 2))
        gy = np.exp(-((np.arange(y0, y1, dtype=np.float64) - c.cy) ** 2) / (2.0 * c.sigma ** 2))
        bump = np.outer(gy, gx)
        field[y0:y1, x0:x1, 0] += (weight * c.peak_dx) * bump
        field[y0:y1, x0:x1, 1] += (weight * c.peak_dy) * bump
    return field.astype(np.float32)


@functools.lru_cache(maxsize=4)
def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    grid_x.flags.writeable = False
    grid_y.flags.writeable = False
    return grid_x, grid_y


def warp(neutral: np.ndarray, field: np.ndarray) -> np.ndarray:
    """``neutral`` warped backward by ``field`` (H×W×2 float32 dx, dy): out(x, y) = neutral(x - dx, y - dy)."""
    grid_x, grid_y = _grid(*neutral.shape[:2])
    return cv2.remap(neutral, grid_x - field[..., 0], grid_y - field[..., 1], interpolation=cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REFLECT_101)


def _region_windows(face: tuple[int, int, int, int], height: int, width: int
                    ) -> dict[str, tuple[float, float, slice, slice]]:
    """Per region: centre (x, y) and the window (rows, cols) over which its maximum magnitude is taken: a square
    of ±0.15 face widths around the centre, or the whole face box for ``face``."""
    x, y, w, h = face
    out: dict[str, tuple[float, float, slice, slice]] = {}
    for region, (fx, fy) in REGIONS.items():
        cx, cy = x + fx * w, y + fy * h
        half = 0.5 * w if region == "face" else 0.15 * w
        rows = slice(max(0, int(cy - half)), min(height, int(cy + half) + 1))
        cols = slice(max(0, int(cx - half)), min(width, int(cx + half) + 1))
        out[region] = (cx, cy, rows, cols)
    return out


def _bilinear(field: np.ndarray, cx: float, cy: float) -> tuple[float, float]:
    """Field value at a sub-pixel point (bilinear), (dx, dy)."""
    x0, y0 = int(math.floor(cx)), int(math.floor(cy))
    ax, ay = cx - x0, cy - y0
    patch = field[y0:y0 + 2, x0:x0 + 2].astype(np.float64)
    value = ((1 - ay) * ((1 - ax) * patch[0, 0] + ax * patch[0, 1])
             + ay * ((1 - ax) * patch[1, 0] + ax * patch[1, 1]))
    return float(value[0]), float(value[1])


# ----------------------------------------------------------------------------------------------- generation


def _event_components(script: _VideoScript, face: tuple[int, int, int, int]) -> list[dict[str, object]]:
    """Rows of ``events.csv`` for one video (one per Gaussian component or uniform shift)."""
    x, y, w, h = face
    rows: list[dict[str, object]] = []
    for ev in script.events:
        onset = script.first_frame + ev.onset - 1
        apex = script.first_frame + ev.apex - 1
        offset = script.first_frame + ev.offset - 1
        common = {"video": script.video, "event": f"{script.video}_{ev.name}", "kind": ev.kind,
                  "labelled": ev.kind != "head", "action_units": ev.action_units,
                  "onset": onset, "apex": apex, "offset": offset, "amplitude": ev.amplitude}
        if ev.kind == "head":
            rows.append({**common, "component": 1, "region": "face", "cx": x + 0.5 * w, "cy": y + 0.5 * h,
                         "sigma": 0.0, "peak_dx": ev.amplitude * ev.shift[0],
                         "peak_dy": ev.amplitude * ev.shift[1]})
            continue
        for i, (region, (ux, uy), sigma_frac) in enumerate(_AU_COMPONENTS[ev.action_units], start=1):
            fx, fy = REGIONS[region]
            rows.append({**common, "component": i, "region": region, "cx": x + fx * w, "cy": y + fy * h,
                         "sigma": sigma_frac * w, "peak_dx": ev.amplitude * ux, "peak_dy": ev.amplitude * uy})
    return rows


def _sheet_rows(scripts: list[_VideoScript], quirks: bool) -> list[dict[str, object]]:
    """One row per labelled event: the true interval and the values the sheet shows (in sheet order)."""
    rows: list[dict[str, object]] = []
    excel_row = HEADER_ROW + 1
    for script in scripts:
        last = script.first_frame + script.n_frames - 1
        labelled = sorted((e for e in script.events if e.kind != "head"), key=lambda e: (e.onset, e.name))
        numbers: dict[str, int] = {}
        next_number = 1
        for ev in labelled:
            if quirks and ev.duplicate_of:
                numbers[ev.name] = numbers[ev.duplicate_of]
            else:
                numbers[ev.name] = next_number
                next_number += 1
        spans = {ev.name: (max(ev.onset, 1), min(ev.offset, script.n_frames)) for ev in labelled}
        for ev in labelled:
            inside = ev.kind == "ME" and any(
                other.kind == "MaE" and spans[other.name][0] <= spans[ev.name][0]
                and spans[ev.name][1] <= spans[other.name][1] for other in labelled)
            notes = "Micro inside of a macro" if inside else ""
            onset = max(script.first_frame + ev.onset - 1, script.first_frame)
            apex = script.first_frame + ev.apex - 1
            offset = min(script.first_frame + ev.offset - 1, last)
            sheet_onset: float = onset
            sheet_apex: float = apex
            sheet_offset: float = offset
            applied: list[str] = []
            if quirks:
                for quirk in ev.sheet_quirks:
                    if quirk == "fractional":  # as V1's 566.4 / 647.6: rounding half up restores the truth
                        sheet_onset, sheet_apex = onset + 0.4, apex - 0.4
                    elif quirk == "apex_missing":
                        sheet_apex = -1
                    elif quirk == "onset_zero":  # in progress at the first frame; the sheet writes 0
                        sheet_onset = 0
                    elif quirk == "offset_past_end":  # the profile's own end, past the last frame
                        sheet_offset = script.first_frame + ev.offset - 1
                    elif quirk != "duplicate_filename":
                        raise AssertionError(quirk)
                    applied.append(quirk)
            rows.append({
                "event": f"{script.video}_{ev.name}", "video": script.video, "subject": script.subject,
                "source_id": f"{script.video}_{numbers[ev.name]}", "sheet_row": excel_row,
                "onset": onset, "apex": apex, "offset": offset, "kind": ev.kind,
                "action_units": ev.action_units,
                "region": "mouth" if ev.action_units == "12" else "brows",
                "amplitude": ev.amplitude, "notes": notes, "quirk": ";".join(applied),
                "sheet_onset": sheet_onset, "sheet_apex": sheet_apex, "sheet_offset": sheet_offset,
                "sheet_type": TYPE_MACRO if ev.kind == "MaE" else TYPE_MICRO,
            })
            excel_row += 1
    return rows


def _write_workbook(path: Path, rows: list[dict[str, object]]) -> None:
    """The annotation workbook in the SAMM-LV V1 layout (9-row preamble, header row 10, Duration formulas)."""
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_NAME
    ws["A1"] = "SAMM Long Videos Dataset - FACS Codes"
    ws["A3"] = "Symbol Key"
    ws["A4"] = '"/" = or'
    ws["A5"] = '"L2 or R2" = unilateral AU (left or right)'
    ws["A6"] = '"A2" = asymmetric AU'
    ws["F7"] = "NOTE: Subjects with Apex Frame not annotated were labelled as -1."
    ws["A8"] = "Synthetic demo sheet generated by samm_synth_dataset.sources.demo (not SAMM data)."
    for col, name in enumerate(SHEET_COLUMNS, start=1):
        ws.cell(row=HEADER_ROW, column=col, value=name)
    for row in rows:
        r = int(row["sheet_row"])
        values = [row["subject"], row["source_id"], int(str(row["video"]).split("_")[1]),
                  _excel_number(row["sheet_onset"]), _excel_number(row["sheet_apex"]),
                  _excel_number(row["sheet_offset"]), f"=SUM(F{r}-D{r})+1", row["sheet_type"],
                  row["action_units"], row["notes"] or None]
        for col, value in enumerate(values, start=1):
            ws.cell(row=r, column=col, value=value)
    wb.properties.created = _FIXED_TIME
    wb.properties.modified = _FIXED_TIME
    wb.properties.creator = "samm_synth_dataset"
    # ExcelWriter directly: openpyxl's save() would stamp the current time as "modified"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()
    durations = {int(row["sheet_row"]): _excel_number(float(row["sheet_offset"]) - float(row["sheet_onset"]) + 1)
                 for row in rows}
    path.write_bytes(_fixed_zip_times(buffer.getvalue(), durations))


def _cache_durations(sheet_xml: bytes, durations: dict[int, int | float]) -> bytes:
    """Store each Duration formula's value as Excel does (``<f>…</f><v>value</v>``): openpyxl writes formulas
    with an empty cached value, and readers of the real sheet (pandas, openpyxl ``data_only``) see the values."""
    text = sheet_xml.decode("utf-8")
    for r, value in durations.items():
        formula = f'<c r="G{r}"><f>SUM(F{r}-D{r})+1</f><v /></c>'
        if formula not in text:
            raise RuntimeError(f"demo workbook: Duration formula of row {r} not found in the sheet XML")
        text = text.replace(formula, f'<c r="G{r}"><f>SUM(F{r}-D{r})+1</f><v>{value}</v></c>')
    return text.encode("utf-8")


def _excel_number(value: object) -> int | float:
    number = float(value)  # type: ignore[arg-type]
    return int(number) if number.is_integer() else number


def _fixed_zip_times(data: bytes, durations: dict[int, int | float]) -> bytes:
    """Re-pack a zip (an .xlsx) with every member dated 1980-01-01 so the bytes depend only on the content,
    the Duration formulas' cached values filled in."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            member = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                member = _cache_durations(member, durations)
            dst.writestr(fixed, member)
    return out.getvalue()


def _write_references(root: Path, scale: float) -> pd.DataFrame:
    """Colour reference faces derived from the photo (graded crops), two per subject; returns references.csv."""
    bgr = _photo_bgr()
    x, y, w, h = detect_face(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
    cx, cy, half = x + w / 2.0, y + h / 2.0, 0.8 * w
    x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
    x1, y1 = min(bgr.shape[1], int(cx + half)), min(bgr.shape[0], int(cy + half))
    side = max(64, int(round(256 * scale)))
    crop = cv2.resize(bgr[y0:y1, x0:x1], (side, side), interpolation=cv2.INTER_AREA).astype(np.float64)

    def graded(gains_bgr: tuple[float, float, float], gamma: float = 1.0, mirror: bool = False) -> np.ndarray:
        img = 255.0 * (crop / 255.0) ** gamma * np.array(gains_bgr)[None, None, :]
        img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(img[:, ::-1]) if mirror else img

    specs = [  # (subject, id, file stem, image)
        ("006", "ref01", "grace_hopper_warm", graded((0.80, 0.98, 1.15))),
        ("006", "ref02", "grace_hopper_cool", graded((1.18, 1.00, 0.82), gamma=0.9)),
        ("007", "ref03", "grace_hopper_mirrored_rose", graded((1.00, 0.88, 1.12), mirror=True)),
        ("007", "ref04", "grace_hopper_mirrored_bright", graded((1.05, 1.05, 1.05), gamma=0.75, mirror=True)),
    ]
    (root / "references").mkdir(parents=True)
    rows = []
    for subject, ref_id, stem, image in specs:
        rel = f"references/{ref_id}_{stem}.png"
        (root / rel).write_bytes(_encode_png(image))
        rows.append({"subject": subject, "reference_path": rel, "domain": "female", "reference_id": ref_id})
    return pd.DataFrame(rows, columns=["subject", "reference_path", "domain", "reference_id"])


def _generate(root: Path, seed: int, size: Size, quirks: bool) -> list[str]:
    """Write the whole corpus into the empty folder ``root``; returns the video ids."""
    # The design is fixed; the seed jitters each event's amplitude by up to ±10 % (seed 0 = the nominal design).
    rng = np.random.default_rng(seed)
    scripts = _scripts(size)
    check_design(scripts)
    jittered: list[_VideoScript] = []
    for script in scripts:
        events = tuple(
            e if seed == 0 else _replace_amplitude(e, e.amplitude * float(rng.uniform(0.9, 1.1)))
            for e in script.events)
        jittered.append(_VideoScript(script.video, script.subject, script.first_frame, script.n_frames, events))
    scripts = jittered
    check_design(scripts)
    scale = 1.0 if size == "full" else 0.5
    gt = root / "ground_truth"
    (gt / "neutral").mkdir(parents=True)
    frames_root = root / "SAMM_longvideos"

    neutrals: dict[str, np.ndarray] = {}
    faces: dict[str, tuple[int, int, int, int]] = {}
    for subject in sorted({s.subject for s in scripts}):
        neutrals[subject] = _neutral(subject, scale)
        faces[subject] = detect_face(neutrals[subject])
        (gt / "neutral" / f"{subject}.png").write_bytes(_encode_png(neutrals[subject]))
        log.info("subject %s: %d×%d, face box %s", subject, neutrals[subject].shape[1], neutrals[subject].shape[0],
                 faces[subject])

    component_rows: list[dict[str, object]] = []
    video_rows: list[dict[str, object]] = []
    for script in scripts:
        component_rows += _event_components(script, faces[script.subject])
        height, width = neutrals[script.subject].shape
        x, y, w, h = faces[script.subject]
        video_rows.append({"video": script.video, "subject": script.subject, "first_frame": script.first_frame,
                           "last_frame": script.first_frame + script.n_frames - 1, "n_frames": script.n_frames,
                           "width": width, "height": height, "fps": FPS, "face_x": x, "face_y": y, "face_w": w,
                           "face_h": h, "neutral": f"neutral/{script.subject}.png"})
    events = pd.DataFrame(component_rows, columns=[
        "video", "event", "component", "kind", "labelled", "action_units", "region", "cx", "cy", "sigma",
        "peak_dx", "peak_dy", "amplitude", "onset", "apex", "offset"])
    events.to_csv(gt / "events.csv", index=False)
    # re-read so the frames are made from exactly the numbers true_displacement will read
    events = pd.read_csv(gt / "events.csv", dtype={"video": str})
    pd.DataFrame(video_rows).to_csv(gt / "videos.csv", index=False)

    displacement_rows: list[tuple[str, int, str, float, float, float]] = []
    total = sum(s.n_frames for s in scripts)
    with tqdm(total=total, desc="demo corpus frames", unit="frame", disable=None) as bar:
        for script in scripts:
            neutral = neutrals[script.subject]
            height, width = neutral.shape
            neutral_jpeg = _encode_jpeg(neutral)
            windows = _region_windows(faces[script.subject], height, width)
            components = _components(events[events["video"] == script.video])
            folder = frames_root / script.video
            folder.mkdir(parents=True)
            for frame in range(script.first_frame, script.first_frame + script.n_frames):
                if not any(temporal_profile(frame, c.onset, c.apex, c.offset) > 0.0 for c in components):
                    data = neutral_jpeg
                    for region in windows:
                        displacement_rows.append((script.video, frame, region, 0.0, 0.0, 0.0))
                else:
                    field = _field(components, frame, height, width)
                    data = _encode_jpeg(warp(neutral, field))
                    magnitude = np.hypot(field[..., 0], field[..., 1])
                    for region, (cx, cy, rows, cols) in windows.items():
                        dx, dy = _bilinear(field, cx, cy)
                        displacement_rows.append((script.video, frame, region, dx, dy,
                                                  float(magnitude[rows, cols].max())))
                (folder / frame_name(script.video, frame)).write_bytes(data)
                bar.update(1)

    pd.DataFrame(displacement_rows, columns=["video", "frame", "region", "dx", "dy", "max_magnitude"]).to_csv(
        gt / "displacement.csv", index=False, float_format="%.6g")

    sheet = _sheet_rows(scripts, quirks)
    pd.DataFrame(sheet).to_csv(gt / "intervals.csv", index=False)
    _write_workbook(root / WORKBOOK_NAME, sheet)

    refs = _write_references(root, scale)
    refs.to_csv(root / "references.csv", index=False)
    pd.DataFrame([{"subject": s, "gender": _SUBJECTS[s]["gender"], "glasses": _SUBJECTS[s]["glasses"]}
                  for s in sorted(neutrals)]).to_csv(root / "subjects.csv", index=False)
    return [s.video for s in scripts]


def _replace_amplitude(event: _Event, amplitude: float) -> _Event:
    from dataclasses import replace

    return replace(event, amplitude=round(amplitude, 4))


def make_demo_corpus(root: str | Path, seed: int = 0, size: Size = "full", quirks: bool = False) -> DemoCorpus:
    """Generate the demo corpus into ``root`` and return its paths.

    ``size="full"`` (the ``samm-synth demo`` corpus): 2 subjects × 2 videos of 500 frames (2.5 s at 200 fps),
    frames 512 wide × 600 high (the photo's size). ``size="small"`` (tests): 270 frames per video at half size
    (256 × 300). ``quirks`` writes the real sheet's quirks into the workbook (the frames and the true intervals
    are unchanged; ``intervals.csv`` records each row's quirk and the values as written). ``seed`` 0 is the
    nominal design; other seeds jitter every event's amplitude by up to ±10 %. Deterministic: the same arguments
    give the same bytes. ``root`` must be absent, empty, or a previous demo corpus (it is replaced);
    the corpus is built in a temporary sibling folder and moved into place only when complete.
    """
    if size not in ("full", "small"):
        raise ValueError(f"size must be 'full' or 'small', got {size!r}")
    root = Path(root)
    if root.exists():
        if not root.is_dir():
            raise FileExistsError(f"{root}: exists and is not a folder; choose another output path")
        if any(root.iterdir()) and not (root / "ground_truth" / "corpus.json").is_file():
            raise FileExistsError(f"{root}: folder is not empty and is not a demo corpus; "
                                  "remove it or choose another output path")
    root.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{root.name}.partial-", dir=root.parent))
    try:
        log.info("making the %s demo corpus (seed %d, quirks %s) in %s", size, seed, quirks, root)
        videos = _generate(work, seed, size, quirks)
        (work / "ground_truth" / "corpus.json").write_text(json.dumps(
            {"generator": "samm_synth_dataset.sources.demo", "version": GENERATOR_VERSION, "seed": seed,
             "size": size, "quirks": quirks, "fps": FPS, "videos": videos}, indent=2) + "\n")
        if root.exists():
            shutil.rmtree(root)
        work.rename(root)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _read_csv.cache_clear()
    _video_models.cache_clear()
    log.info("demo corpus written: %s (%d videos)", root, len(videos))
    return DemoCorpus(root=root, frames_root=root / "SAMM_longvideos", annotations=root / WORKBOOK_NAME,
                      references_csv=root / "references.csv", subjects_csv=root / "subjects.csv",
                      ground_truth=root / "ground_truth", videos=videos)


# ------------------------------------------------------------------------------------------------ reading


@functools.lru_cache(maxsize=32)
def _read_csv(path: str, mtime_ns: int) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"video": str, "subject": str, "source_id": str, "event": str,
                                    "action_units": str, "quirk": str, "notes": str},
                       keep_default_na=False, na_values=[""])


def _ground_truth_csv(root: str | Path, name: str) -> pd.DataFrame:
    path = Path(root) / "ground_truth" / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; {Path(root)} is not a complete demo corpus "
                                "(make one with `samm-synth make-demo-corpus`)")
    return _read_csv(str(path.resolve()), path.stat().st_mtime_ns).copy()


def load_ground_truth(root: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(intervals, events)`` of a demo corpus.

    ``intervals``: one row per labelled event (sheet order): ``event`` (unique id), ``video``, ``subject``,
    ``source_id`` (the sheet's Filename, not unique with the duplicate quirk), ``sheet_row`` (1-based Excel row),
    true ``onset``/``apex``/``offset`` (source frame numbers, inclusive), ``kind`` (ME|MaE), ``action_units``,
    ``region`` (mouth|brows), ``quirk`` (``;``-joined, empty when none) and the ``sheet_*`` values as written.
    ``events``: one row per warp component: ``video``, ``event``, ``component``, ``kind`` (ME|MaE|head),
    ``labelled``, ``region``, centre ``cx``/``cy`` and ``sigma`` in source pixels (``sigma`` 0 = uniform shift),
    peak ``peak_dx``/``peak_dy`` in pixels, profile ``onset``/``apex``/``offset`` (may lie outside the video).
    """
    intervals = _ground_truth_csv(root, "intervals.csv")
    intervals["quirk"] = intervals["quirk"].fillna("")
    intervals["notes"] = intervals["notes"].fillna("")
    return intervals, _ground_truth_csv(root, "events.csv")


def load_displacement_table(root: str | Path) -> pd.DataFrame:
    """``displacement.csv``: per ``video``, ``frame`` and ``region``: ``dx``/``dy`` at the region centre and
    ``max_magnitude`` over the region's window, pixels (zero when no event is active)."""
    return _ground_truth_csv(root, "displacement.csv")


def load_videos_table(root: str | Path) -> pd.DataFrame:
    """``videos.csv``: per video its subject, frame range, size, fps, face box and neutral image path."""
    return _ground_truth_csv(root, "videos.csv")


@functools.lru_cache(maxsize=8)
def _video_models(root: str, mtime_ns: int) -> dict[str, tuple[int, int, int, int, list[_Component]]]:
    """Per video: (first_frame, last_frame, height, width, its rows of events.csv)."""
    videos = load_videos_table(root)
    _, events = load_ground_truth(root)
    return {str(v.video): (int(v.first_frame), int(v.last_frame), int(v.height), int(v.width),
                           _components(events[events["video"] == v.video]))
            for v in videos.itertuples(index=False)}


def true_displacement(root: str | Path, video: str, frame: int) -> np.ndarray:
    """The displacement applied at source frame ``frame`` of ``video``: H×W×2 float32 ``(dx, dy)`` in source
    pixels (backward warp of the neutral image, see the module docstring); all zeros outside every event."""
    events_csv = Path(root) / "ground_truth" / "events.csv"
    if not events_csv.is_file():
        raise FileNotFoundError(f"{events_csv}: missing; {Path(root)} is not a complete demo corpus "
                                "(make one with `samm-synth make-demo-corpus`)")
    models = _video_models(str(Path(root).resolve()), events_csv.stat().st_mtime_ns)
    if video not in models:
        raise ValueError(f"{root}: no video {video!r} in the demo corpus (videos: {', '.join(models)})")
    first, last, height, width, components = models[video]
    if not first <= frame <= last:
        raise ValueError(f"video {video}: frame {frame} is outside {first}..{last}")
    return _field(components, frame, height, width)


def neutral_image(root: str | Path, video: str) -> np.ndarray:
    """The neutral greyscale image (H×W uint8) every frame of ``video`` is warped from."""
    videos = load_videos_table(root)
    match = videos[videos["video"] == video]
    if match.empty:
        raise ValueError(f"{root}: no video {video!r} in the demo corpus")
    path = Path(root) / "ground_truth" / str(match.iloc[0]["neutral"])
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise FileNotFoundError(f"{path}: neutral image missing or unreadable")
    return image

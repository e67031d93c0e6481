"""The demo's images: the subjects' neutral faces, the warps that animate them, frame encoding, reference faces.

The faces are two people's public-domain photos (:mod:`~samm_synth_dataset.demo.photos`; nothing is downloaded),
found with OpenCV's Haar frontal-face cascade; which subject is whom is in
:mod:`~samm_synth_dataset.demo.choreography`. Each subject's reference faces are edited photos of the OTHER person,
so that the identity measurement sees a real change of person.

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
* Images are H×W uint8 greyscale or H×W×3 uint8 (BGR as OpenCV reads and writes them); frames are JPEG of
  quality :data:`JPEG_QUALITY`, neutral and reference images lossless PNG.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
import pandas as pd

from samm_synth_dataset.demo.choreography import _SUBJECTS
from samm_synth_dataset.demo.photos import photo_bgr
from samm_synth_dataset.faces.locate import haar_cascade
from samm_synth_dataset.images import encode_image
from samm_synth_dataset.sources.listing import samm_frame_name

JPEG_QUALITY = 95
BUMP_RADIUS = 5.0  # Gaussian bumps are exactly 0 beyond this many sigmas from their centre


# --------------------------------------------------------------------------------------------------- images


def detect_face(gray: np.ndarray) -> tuple[int, int, int, int]:
    """The largest Haar frontal-face box ``(x, y, w, h)`` in pixels of a greyscale image; raises when none."""
    side = min(gray.shape[:2])
    boxes = haar_cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(side // 4, side // 4))
    if len(boxes) == 0:
        raise RuntimeError("the Haar frontal-face cascade found no face in the demo image")
    x, y, w, h = max((tuple(int(v) for v in b) for b in boxes), key=lambda b: b[2] * b[3])
    return x, y, w, h


def neutral_face(subject: str, scale: float) -> np.ndarray:
    """The subject's neutral greyscale image (H×W uint8): its person's photo at ``scale`` of its size."""
    bgr = photo_bgr(str(_SUBJECTS[subject]["person"]))
    if scale != 1.0:
        bgr = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)


def encode_jpeg(image: np.ndarray) -> bytes:
    """A greyscale (H×W) or RGB (H×W×3) frame as the demo's JPEG (quality :data:`JPEG_QUALITY`, baseline)."""
    return encode_image(image, "jpg", JPEG_QUALITY)


def encode_png(image: np.ndarray) -> bytes:
    """A lossless PNG of a greyscale or BGR image (colour order as stored: BGR arrays are written as BGR)."""
    return encode_image(image if image.ndim == 2 else image[:, :, ::-1], "png")


def frame_name(video: str, frame: int) -> str:
    """SAMM-LV frame file name (the reader's naming): ``<video>_<n>.jpg``, ``n`` zero-padded to 4 digits."""
    return samm_frame_name(video, frame)


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


def warp_components(events: pd.DataFrame) -> list[_Component]:
    return [_Component(*(float(v) for v in row))
            for row in events[list(_Component._fields)].itertuples(index=False, name=None)]


def displacement_field(components: list[_Component], frame: int, height: int, width: int) -> np.ndarray:
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


# ----------------------------------------------------------------------------------------------- references


def _face_crop(person: str, scale: float) -> np.ndarray:
    """A square colour crop (BGR float64) around ``person``'s face: 1.6 face widths, ``256 × scale`` pixels
    (at least 64)."""
    bgr = photo_bgr(person)
    x, y, w, h = detect_face(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
    cx, cy, half = x + w / 2.0, y + h / 2.0, 0.8 * w
    x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
    x1, y1 = min(bgr.shape[1], int(cx + half)), min(bgr.shape[0], int(cy + half))
    side = max(64, int(round(256 * scale)))
    return cv2.resize(bgr[y0:y1, x0:x1], (side, side), interpolation=cv2.INTER_AREA).astype(np.float64)


def _graded(crop: np.ndarray, gains_bgr: tuple[float, float, float], gamma: float = 1.0,
            mirror: bool = False) -> np.ndarray:
    """``crop`` colour-graded (per-channel gains after a gamma), optionally mirrored; uint8 BGR."""
    img = 255.0 * (crop / 255.0) ** gamma * np.array(gains_bgr)[None, None, :]
    img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(img[:, ::-1]) if mirror else img


def write_references(root: Path, scale: float) -> pd.DataFrame:
    """Colour reference faces, two per subject, each an edited photo of the OTHER subject's person (graded,
    mirrored), so that a synthetic video's reference is a different person from its source; returns the rows
    of references.csv."""
    people = sorted({str(v["references"]) for v in _SUBJECTS.values()})
    crops = {person: _face_crop(person, scale) for person in people}
    edits = {  # reference id: (file stem suffix, gains BGR, gamma, mirror)
        "ref01": ("warm", (0.80, 0.98, 1.15), 1.0, False),
        "ref02": ("cool_mirrored", (1.18, 1.00, 0.82), 0.9, True),
        "ref03": ("rose_mirrored", (1.00, 0.88, 1.12), 1.0, True),
        "ref04": ("bright", (1.05, 1.05, 1.05), 0.75, False),
    }
    ids = iter(edits)
    specs = []  # (subject, id, file stem, image)
    for subject in sorted(_SUBJECTS):
        person = str(_SUBJECTS[subject]["references"])
        for ref_id in (next(ids), next(ids)):
            suffix, gains, gamma, mirror = edits[ref_id]
            specs.append((subject, ref_id, f"{person}_{suffix}", _graded(crops[person], gains, gamma, mirror)))
    (root / "references").mkdir(parents=True)
    rows = []
    for subject, ref_id, stem, image in specs:
        rel = f"references/{ref_id}_{stem}.png"
        (root / rel).write_bytes(encode_png(image))
        rows.append({"subject": subject, "reference_path": rel, "domain": "female", "reference_id": ref_id})
    return pd.DataFrame(rows, columns=["subject", "reference_path", "domain", "reference_id"])

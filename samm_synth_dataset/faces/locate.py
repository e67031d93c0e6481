"""One face crop per video from OpenCV's Haar frontal-face cascade (or a CSV of boxes).

The crop is computed ONCE per video and never moves: frames spread over the video are searched, the largest
face of each frame is kept, and the median box over the frames that have a face is expanded to the framing
StarGAN v2's CelebA-HQ models expect (whole head with some hair and chin):

* side   = ``margin`` × the median detected side (default :data:`MARGIN` = 1.9; the Haar box spans roughly
  brows to mouth/chin, CelebA-HQ shows the whole head in about half the image width);
* centre = the median detected centre moved UP by ``shift_up`` × the detected side (default
  :data:`SHIFT_UP` = 0.1: the head extends further above the Haar box, hair, than below it, chin);
* the square is shifted to lie inside the image; if the image is smaller than the square, the square becomes
  the largest one that fits (side = the image's shorter side).

A box given in a boxes CSV (``video,x,y,w,h``) is the CROP itself, not a face box: no margin or upward shift is
added. It is made square the same way: side = its longer side, centred on the box's centre (the shorter side is
expanded equally on both sides), shifted inside the image (the largest square that fits when the image is
smaller). So every crop is square and :meth:`FaceCrop.apply` never stretches the face.

Boxes are source pixels, 0-based, top-left origin, end exclusive.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import cv2
import numpy as np

from samm_synth_dataset.faces.crop import FaceCrop
from samm_synth_dataset.sources.frames import read_frames_at
from samm_synth_dataset.sources.records import VideoSource

log = logging.getLogger(__name__)

#: Crop side / detected face side.
MARGIN = 1.9
#: Upward shift of the crop centre, as a fraction of the detected face side.
SHIFT_UP = 0.1
#: Frames are shrunk to at most this many pixels on their longer side before detection (speed only; boxes are
#: returned in source pixels).
DETECT_MAX_SIDE = 480
#: Smallest face searched, as a fraction of the (shrunk) image's shorter side.
MIN_FACE_FRACTION = 0.1
CASCADE = "haarcascade_frontalface_default.xml"


class NoFaceError(RuntimeError):
    """No face was found in any sampled frame of a video."""


@dataclass(frozen=True)
class Detection:
    """The largest face found in one frame: source frame number and box (x, y, w, h) in source pixels."""

    frame: int
    x: int
    y: int
    w: int
    h: int


_cascade: cv2.CascadeClassifier | None = None


def haar_cascade() -> cv2.CascadeClassifier:
    """OpenCV's bundled Haar frontal-face cascade, loaded once (nothing is downloaded)."""
    global _cascade
    if _cascade is None:
        path = Path(cv2.data.haarcascades) / CASCADE
        cascade = cv2.CascadeClassifier(str(path))
        if cascade.empty():
            raise RuntimeError(f"{path}: cannot load OpenCV's Haar cascade; reinstall opencv-python-headless")
        _cascade = cascade
    return _cascade


def detect_faces_in_image(image: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Every frontal face ``(x, y, w, h)`` (source pixels) in one H×W or H×W×3 RGB uint8 image, largest first."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
    small = cv2.resize(grey, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) \
        if scale < 1.0 else grey
    small = cv2.equalizeHist(small)
    min_side = max(20, int(MIN_FACE_FRACTION * min(small.shape)))
    faces = haar_cascade().detectMultiScale(small, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side))
    boxes = sorted((tuple(int(v) for v in f) for f in faces), key=lambda b: b[2] * b[3], reverse=True)
    return [(round(fx / scale), round(fy / scale), round(fw / scale), round(fh / scale)) for fx, fy, fw, fh in boxes]


def detect_largest_face(image: np.ndarray) -> tuple[int, int, int, int] | None:
    """The largest frontal face ``(x, y, w, h)`` in one H×W or H×W×3 RGB uint8 image, or None."""
    faces = detect_faces_in_image(image)
    return faces[0] if faces else None


def sample_positions(n_frames: int, n_samples: int) -> list[int]:
    """``n_samples`` 0-based positions spread evenly over ``0..n_frames-1`` (ends included, no repeats)."""
    if n_frames <= 0:
        return []
    return sorted({int(round(p)) for p in np.linspace(0, n_frames - 1, max(1, min(n_samples, n_frames)))})


def detect_faces(video: VideoSource, n_samples: int = 25) -> list[Detection]:
    """The largest face in each of ``n_samples`` frames spread over ``video`` (frames without a face omitted)."""
    out = []
    for _, number, image in read_frames_at(video, sample_positions(video.n_frames, n_samples)):
        box = detect_largest_face(image)
        if box is not None:
            out.append(Detection(number, *box))
    return out


def square_crop(cx: float, cy: float, side: float, width: int, height: int) -> tuple[int, int, int]:
    """A square ``(x, y, side)`` centred on ``(cx, cy)`` moved inside a ``width``×``height`` image; the
    largest square that fits when ``side`` exceeds the image's shorter side."""
    s = int(round(min(side, width, height)))
    x = int(round(cx - s / 2))
    y = int(round(cy - s / 2))
    x = min(max(x, 0), width - s)
    y = min(max(y, 0), height - s)
    return x, y, s


def crop_from_detections(detections: Sequence[Detection], width: int, height: int, size: int = 256,
                         margin: float = MARGIN, shift_up: float = SHIFT_UP) -> FaceCrop:
    """The median detected box expanded by ``margin`` and moved up by ``shift_up`` (see module docstring)."""
    if not detections:
        raise ValueError("no detections to build a crop from")
    boxes = np.array([(d.x + d.w / 2, d.y + d.h / 2, max(d.w, d.h)) for d in detections], dtype=np.float64)
    cx, cy, face = np.median(boxes, axis=0)
    x, y, s = square_crop(cx, cy - shift_up * face, margin * face, width, height)
    return FaceCrop(x=x, y=y, w=s, h=s, size=size)


def crop_from_box(box: tuple[int, int, int, int], width: int, height: int, size: int = 256,
                  video: str = "?") -> FaceCrop:
    """The square crop for a given crop box ``(x, y, w, h)`` (source pixels): side = max(w, h), same centre,
    moved inside the ``width``×``height`` image (see the module docstring). Raises ValueError naming ``video``
    when the box leaves the image."""
    x, y, w, h = box
    if x < 0 or y < 0 or w <= 0 or h <= 0 or x + w > width or y + h > height:
        raise ValueError(f"boxes CSV: box {(x, y, w, h)} of video {video} leaves its {width}×{height} frames; "
                         "correct the box")
    sx, sy, s = square_crop(x + w / 2, y + h / 2, max(w, h), width, height)
    if s < max(w, h):
        log.warning("video %s: the square crop for box %s is cut to %d pixels (the %d×%d frames are smaller "
                    "than its longer side)", video, box, s, width, height)
    elif w != h:
        log.info("video %s: box %s made square: (%d, %d, %d, %d)", video, box, sx, sy, s, s)
    return FaceCrop(x=sx, y=sy, w=s, h=s, size=size)


def read_boxes_csv(path: str | Path) -> dict[str, tuple[int, int, int, int]]:
    """``{video: (x, y, w, h)}`` from a CSV with header ``video,x,y,w,h`` (source pixels, 0-based)."""
    path = Path(path)
    boxes: dict[str, tuple[int, int, int, int]] = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        need = {"video", "x", "y", "w", "h"}
        if reader.fieldnames is None or not need <= {c.strip() for c in reader.fieldnames}:
            raise ValueError(f"{path}: header must be 'video,x,y,w,h', got {reader.fieldnames}")
        for row_no, row in enumerate(reader, start=2):
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
            try:
                box = tuple(int(float(row[k])) for k in ("x", "y", "w", "h"))
            except ValueError:
                raise ValueError(f"{path}, row {row_no}: x, y, w, h must be integers, got {row}") from None
            if box[2] <= 0 or box[3] <= 0 or box[0] < 0 or box[1] < 0:
                raise ValueError(f"{path}, row {row_no}: box {box} needs x, y >= 0 and w, h > 0")
            if row["video"] in boxes:
                raise ValueError(f"{path}, row {row_no}: video {row['video']!r} has a box already")
            boxes[row["video"]] = box  # type: ignore[assignment]
    return boxes


def locate_face(video: VideoSource, size: int = 256, n_samples: int = 25, margin: float = MARGIN,
                shift_up: float = SHIFT_UP,
                boxes_csv: str | Path | Mapping[str, tuple[int, int, int, int]] | None = None) -> FaceCrop:
    """ONE square face crop for the whole video, resized to ``size``×``size`` by :meth:`FaceCrop.apply`.

    A box for this video in ``boxes_csv`` (a ``video,x,y,w,h`` CSV or the dict from :func:`read_boxes_csv`)
    is used as the crop, made square about its centre (:func:`crop_from_box`; no margin). Otherwise the Haar
    cascade runs on ``n_samples`` frames spread over the video and the median box is framed as the module
    docstring says. Frames where the face is lost are simply not counted; the crop never moves. Raises
    :class:`NoFaceError` if no sampled frame has a face.
    """
    if boxes_csv is not None:
        boxes = boxes_csv if isinstance(boxes_csv, Mapping) else read_boxes_csv(boxes_csv)
        if video.video in boxes:
            x, y, w, h = boxes[video.video]
            return crop_from_box((x, y, w, h), video.width, video.height, size, video=video.video)
    detections = detect_faces(video, n_samples)
    if not detections:
        raise NoFaceError(f"video {video.video}: no frontal face found in {min(n_samples, video.n_frames)} "
                          "frames spread over the video; give its crop in a boxes CSV (video,x,y,w,h in source "
                          "pixels; --boxes) or check the frames")
    if len(detections) < min(n_samples, video.n_frames) / 2:
        log.warning("video %s: a face in only %d of %d sampled frames; check the crop", video.video,
                    len(detections), min(n_samples, video.n_frames))
    return crop_from_detections(detections, video.width, video.height, size, margin, shift_up)

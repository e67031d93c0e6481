"""Facial regions (brows, eyes, nose, mouth, jaw) inside the square face crop.

Without landmarks, each region is a fixed box given as fractions of the crop side, for the framing of
``faces.locate_face`` (crop side = 1.9 × the Haar face box, centre moved up by 0.1 × the box; so the Haar box
spans x 0.24-0.76 and y 0.29-0.82 of the crop) and the usual anatomy inside a Haar box (brows at about 0.25 of
its height, eyes 0.4, nose tip 0.6, mouth 0.78, chin 1.0)::

    region   x0    x1    y0    y1        (fractions of the crop; x to the right, y down)
    brows    0.28  0.72  0.37  0.46
    eyes     0.28  0.72  0.45  0.54
    nose     0.42  0.58  0.53  0.65
    mouth    0.34  0.66  0.64  0.77
    jaw      0.26  0.74  0.76  0.90

With 68 iBUG landmarks (FAN) in crop pixels, each region is the landmark group's bounding box with a margin of
8 % of the crop: jaw 0-16 (lower half of the contour, 4-12), brows 17-26, nose 27-35, eyes 36-47, mouth 48-67.
Boxes are pixel slices, end exclusive, 0-based.
"""

from __future__ import annotations

import numpy as np

REGIONS: tuple[str, ...] = ("brows", "eyes", "nose", "mouth", "jaw")

#: region -> (x0, x1, y0, y1) as fractions of the crop side.
FRACTIONS: dict[str, tuple[float, float, float, float]] = {
    "brows": (0.28, 0.72, 0.37, 0.46),
    "eyes": (0.28, 0.72, 0.45, 0.54),
    "nose": (0.42, 0.58, 0.53, 0.65),
    "mouth": (0.34, 0.66, 0.64, 0.77),
    "jaw": (0.26, 0.74, 0.76, 0.90),
}

_LANDMARK_GROUPS: dict[str, range] = {
    "brows": range(17, 27), "eyes": range(36, 48), "nose": range(27, 36), "mouth": range(48, 68),
    "jaw": range(4, 13),
}

Box = tuple[slice, slice]


def region_boxes(height: int, width: int | None = None, landmarks: np.ndarray | None = None) -> dict[str, Box]:
    """``region -> (rows, cols)`` slices for a crop of ``height``×``width`` pixels.

    ``landmarks``: optional 68×2 array of (x, y) crop pixels; when given, boxes come from the landmark groups.
    """
    width = height if width is None else width
    boxes: dict[str, Box] = {}
    if landmarks is not None:
        lm = np.asarray(landmarks, dtype=np.float64)
        if lm.shape != (68, 2):
            raise ValueError(f"landmarks must be 68×2 (x, y) crop pixels, got shape {lm.shape}")
        margin = 0.08 * min(height, width)
        for name, idx in _LANDMARK_GROUPS.items():
            pts = lm[list(idx)]
            x0, y0 = np.floor(pts.min(axis=0) - margin).astype(int)
            x1, y1 = np.ceil(pts.max(axis=0) + margin).astype(int)
            boxes[name] = (slice(max(0, y0), min(height, y1)), slice(max(0, x0), min(width, x1)))
        return boxes
    for name, (fx0, fx1, fy0, fy1) in FRACTIONS.items():
        boxes[name] = (slice(int(round(fy0 * height)), int(round(fy1 * height))),
                       slice(int(round(fx0 * width)), int(round(fx1 * width))))
    return boxes


def region_masks(height: int, width: int | None = None, landmarks: np.ndarray | None = None
                 ) -> dict[str, np.ndarray]:
    """Boolean H×W masks, one per region, plus ``face`` (the whole crop)."""
    width = height if width is None else width
    masks = {"face": np.ones((height, width), dtype=bool)}
    for name, (rows, cols) in region_boxes(height, width, landmarks).items():
        m = np.zeros((height, width), dtype=bool)
        m[rows, cols] = True
        masks[name] = m
    return masks

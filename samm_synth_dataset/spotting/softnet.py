"""The steps of the ``softnet`` and ``mtsn`` recipes (``recipes``), one function each, on 128×128 greyscale face
crops (the recipes' ``flow_size``). Coordinates: pixels, x to the right, y down, 0-based; landmarks are 68 iBUG
points (0-based indices) as an array of (x, y); slices are end-exclusive.

* ``tvl1_flow``: OpenCV contrib's Dual TV-L1 (``cv2.optflow.DualTVL1OpticalFlow_create()`` with its defaults) from
  frame i to frame i + k → u, v (px).
* ``forward_strain``: u_x = u − u[:, x+1], v_y = v − v[y+1, :], u_y = u − u[y+1, :], v_x = v − v[:, x+1] (the last
  column/row repeats the one before it); ε = sqrt(u_x² + v_y² + ½(u_y + v_x)²).
* ``nose_box``: the 11×11 patch centred on landmark 28 (rows y28 − 5 .. y28 + 5, cols x28 − 5 .. x28 + 5, inclusive);
  ``remove_head_motion`` subtracts each channel's mean over it, then takes |u|, |v| (ε keeps its sign).
* ``eye_hexagons``/``eye_mask``: one hexagon per eye through landmarks 36..41 and 42..47, each point pushed out by
  15 px (36/42 x − 15; 37, 38/43, 44 y − 15; 39/45 x + 15; 40, 41/46, 47 y + 15), clipped to [0, 128]; set to 0 in
  every channel.
* ``softnet_rois``: top = rows min(y19, y24) − 12 .. max(y41, y46) + 12 (brows down to the lower eyelids), cols
  x17 − 12 .. x26 + 12; mouth = rows y50 − 12 .. y57 + 12, cols x60 − 12 .. x64 + 12; clipped to the crop.
  ``softnet_map``: each resized (bilinear) to 42 wide × 21 high, top above mouth → 42×42×3 (u, v, ε).
* ``mtsn_map``: u, v, ε of the whole crop resized (area) to 28×28.

Landmarks: ``dlib68_landmarks`` (dlib's 68-point predictor from ``face_recognition_models`` on the first frame's
crop; opt-in, see ``recipes.DLIB68_LICENCE``) or ``template_landmarks``: proportional points of the package's face
crop (the framing of ``metrics.regions``: brows at 0.38 of the side, eyes 0.47–0.52, nose root 0.53, lips
0.67–0.75) with the same geometry — the top box still reaches the lower eyelids. Only the points the steps use are
set; the others are NaN.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np

#: Landmarks the steps read (0-based iBUG indices).
NOSE_ROOT = 28
LEFT_EYE = (36, 37, 38, 39, 40, 41)
RIGHT_EYE = (42, 43, 44, 45, 46, 47)
#: Per eye point: the direction (dx, dy) it is pushed out.
_PUSH = ((-1, 0), (0, -1), (0, -1), (1, 0), (0, 1), (0, 1))
#: The template's points as fractions (x, y) of the crop side.
TEMPLATE: dict[int, tuple[float, float]] = {
    17: (0.28, 0.41), 19: (0.36, 0.38), 21: (0.45, 0.40), 22: (0.55, 0.40), 24: (0.64, 0.38), 26: (0.72, 0.41),
    28: (0.50, 0.53),
    36: (0.31, 0.495), 37: (0.35, 0.475), 38: (0.40, 0.475), 39: (0.44, 0.495), 40: (0.40, 0.515), 41: (0.35, 0.515),
    42: (0.56, 0.495), 43: (0.60, 0.475), 44: (0.65, 0.475), 45: (0.69, 0.495), 46: (0.65, 0.515), 47: (0.60, 0.515),
    50: (0.45, 0.67), 57: (0.50, 0.75), 60: (0.40, 0.70), 64: (0.60, 0.70),
}
DLIB68_FILE = "shape_predictor_68_face_landmarks.dat"


class LandmarkError(ValueError):
    """A landmark model that cannot be used: one line saying what to install."""


def tvl1_flow(prev: np.ndarray, next_: np.ndarray) -> np.ndarray:
    """Dual TV-L1 flow (OpenCV contrib defaults) from ``prev`` to ``next_`` (uint8 greyscale, same size):
    float32 H×W×2 (u = dx, v = dy, px)."""
    tvl1 = cv2.optflow.DualTVL1OpticalFlow_create()
    return tvl1.calc(prev, next_, None)


def _forward(a: np.ndarray, axis: int) -> np.ndarray:
    """a − a shifted by one along ``axis``; the last row/column repeats the one before it."""
    d = np.empty_like(a)
    if axis == 1:
        d[:, :-1] = a[:, :-1] - a[:, 1:]
        d[:, -1] = d[:, -2]
    else:
        d[:-1] = a[:-1] - a[1:]
        d[-1] = d[-2]
    return d


def forward_strain(flow: np.ndarray) -> np.ndarray:
    """Optical strain of an H×W×2 flow by forward differences (module docstring): H×W float32."""
    u = flow[..., 0].astype(np.float64)
    v = flow[..., 1].astype(np.float64)
    u_x, v_y, u_y, v_x = _forward(u, 1), _forward(v, 0), _forward(u, 0), _forward(v, 1)
    return np.sqrt(u_x ** 2 + v_y ** 2 + 0.5 * (u_y + v_x) ** 2).astype(np.float32)


def _point(landmarks: np.ndarray, i: int) -> tuple[int, int]:
    x, y = landmarks[i]
    if not (np.isfinite(x) and np.isfinite(y)):
        raise ValueError(f"landmark {i} is missing; the recipe needs it")
    return int(round(float(x))), int(round(float(y)))


def nose_box(landmarks: np.ndarray, size: int, patch: int = 11) -> tuple[slice, slice]:
    """The ``patch`` × ``patch`` box centred on landmark 28, moved inside a ``size`` × ``size`` crop."""
    x, y = _point(landmarks, NOSE_ROOT)
    h = patch // 2
    x0 = min(max(x - h, 0), size - patch)
    y0 = min(max(y - h, 0), size - patch)
    return slice(y0, y0 + patch), slice(x0, x0 + patch)


def remove_head_motion(maps: np.ndarray, box: tuple[slice, slice]) -> np.ndarray:
    """``maps`` (H×W×3: u, v, ε) minus each channel's mean over ``box``, then |u|, |v| (in place, returned)."""
    maps -= maps[box].reshape(-1, maps.shape[-1]).mean(axis=0, dtype=np.float64).astype(maps.dtype)
    np.abs(maps[..., :2], out=maps[..., :2])
    return maps


def eye_hexagons(landmarks: np.ndarray, size: int, push: int = 15) -> list[np.ndarray]:
    """The two eye hexagons (6×2 int32 (x, y) each), every point pushed out by ``push`` px, clipped to [0, size]."""
    out = []
    for eye in (LEFT_EYE, RIGHT_EYE):
        pts = np.array([[x + dx * push, y + dy * push] for i, (dx, dy) in zip(eye, _PUSH)
                        for x, y in [_point(landmarks, i)]], dtype=np.int32)
        out.append(np.clip(pts, 0, size))
    return out


def eye_mask(landmarks: np.ndarray, size: int, push: int = 15) -> np.ndarray:
    """Boolean ``size`` × ``size`` mask: True inside (and on the edge of) either pushed-out eye hexagon."""
    canvas = np.zeros((size, size), dtype=np.uint8)
    cv2.fillPoly(canvas, eye_hexagons(landmarks, size, push), 1)
    return canvas.astype(bool)


def softnet_rois(landmarks: np.ndarray, size: int, margin: int = 12) -> dict[str, tuple[slice, slice]]:
    """``{"top": (rows, cols), "mouth": (rows, cols)}`` (module docstring), clipped to the crop."""
    p = {i: _point(landmarks, i) for i in (17, 19, 24, 26, 41, 46, 50, 57, 60, 64)}

    def box(y0: int, y1: int, x0: int, x1: int, name: str) -> tuple[slice, slice]:
        rows = slice(max(0, y0), min(size, y1))
        cols = slice(max(0, x0), min(size, x1))
        if rows.stop - rows.start < 1 or cols.stop - cols.start < 1:
            raise ValueError(f"the {name} ROI is empty at {size} px; check the landmarks")
        return rows, cols

    return {
        "top": box(min(p[19][1], p[24][1]) - margin, max(p[41][1], p[46][1]) + margin,
                   p[17][0] - margin, p[26][0] + margin, "top"),
        "mouth": box(p[50][1] - margin, p[57][1] + margin, p[60][0] - margin, p[64][0] + margin, "mouth"),
    }


def softnet_map(maps: np.ndarray, rois: dict[str, tuple[slice, slice]], output_size: int = 42) -> np.ndarray:
    """The top ROI resized to ``output_size`` wide × ``output_size // 2`` high above the mouth ROI resized
    likewise: ``output_size`` × ``output_size`` × 3 float32."""
    half = output_size // 2
    parts = [cv2.resize(np.ascontiguousarray(maps[rois[name]]), (output_size, half), interpolation=cv2.INTER_LINEAR)
             for name in ("top", "mouth")]
    return np.concatenate(parts, axis=0)


def flow_maps(prev: np.ndarray, next_: np.ndarray) -> np.ndarray:
    """H×W×3 float32 (u, v, ε): TV-L1 flow and its forward-difference strain."""
    flow = tvl1_flow(prev, next_)
    maps = np.empty(flow.shape[:2] + (3,), dtype=np.float32)
    maps[..., :2] = flow
    maps[..., 2] = forward_strain(flow)
    return maps


def softnet_pair(prev: np.ndarray, next_: np.ndarray, landmarks: np.ndarray, nose_patch: int = 11,
                 push: int = 15, margin: int = 12, output_size: int = 42) -> np.ndarray:
    """SOFTNet's input of one pair of square greyscale crops: flow, strain, head motion, eye masks, ROIs."""
    size = prev.shape[0]
    maps = remove_head_motion(flow_maps(prev, next_), nose_box(landmarks, size, nose_patch))
    maps[eye_mask(landmarks, size, push)] = 0.0
    return softnet_map(maps, softnet_rois(landmarks, size, margin), output_size)


def mtsn_map(prev: np.ndarray, next_: np.ndarray, output_size: int = 28) -> np.ndarray:
    """One MTSN stream of a pair: u, v, ε of the whole crop resized (area) to ``output_size``² × 3 float32."""
    return cv2.resize(flow_maps(prev, next_), (output_size, output_size), interpolation=cv2.INTER_AREA)


def template_landmarks(size: int) -> np.ndarray:
    """68×2 float64 proportional landmarks of a ``size`` × ``size`` crop (``TEMPLATE``; others NaN)."""
    lm = np.full((68, 2), np.nan)
    for i, (fx, fy) in TEMPLATE.items():
        lm[i] = (fx * size, fy * size)
    return lm


def dlib68_model(folder: Path | None = None) -> Path:
    """The path of dlib's 68-point predictor in ``folder`` (default: the installed ``face_recognition_models``'s
    ``models``); LandmarkError when the package or the file is missing."""
    if folder is None:
        spec = importlib.util.find_spec("face_recognition_models")
        locations = list(spec.submodule_search_locations or []) if spec else []
        folder = Path(locations[0]) / "models" if locations else None
    path = folder / DLIB68_FILE if folder else None
    if path is None or not path.is_file():
        raise LandmarkError(f"--landmarks dlib68: {DLIB68_FILE} not found (install dlib and "
                            "face_recognition_models, or leave --landmarks out for proportional regions)")
    return path


def dlib68_landmarks(grey: np.ndarray, model: Path | None = None) -> tuple[np.ndarray, str]:
    """68×2 landmarks of a greyscale crop by dlib's predictor inside the box of dlib's HOG face detector
    (upsample 1), or inside the whole crop when it finds no face; with a note saying which."""
    import dlib

    predictor = dlib.shape_predictor(str(model or dlib68_model()))
    faces = dlib.get_frontal_face_detector()(grey, 1)
    h, w = grey.shape[:2]
    box, note = (faces[0], "dlib68 in the HOG detector's box") if len(faces) else (
        dlib.rectangle(0, 0, w - 1, h - 1), "dlib68 in the whole crop (the HOG detector found no face)")
    shape = predictor(grey, box)
    return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64), note

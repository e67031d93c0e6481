"""SOFTNet-style optical-flow features of frame pairs (i, i + k): the input of the spotting baseline.

For a video's frames (already cropped to the face by the release's fixed per-video crop, RGB uint8, all the same
size) and the MEGC ``k`` of the kind, feature ``i`` describes the pair (position ``i``, position ``i + k``), for
``i = 0 .. N - 1 - k`` (0-based positions in the sequence given, NOT source frame numbers): ``N - k`` features.

Per pair (``FeatureParams`` defaults in brackets):

1. both frames to greyscale, resized to ``flow_size`` × ``flow_size`` [128];
2. Farneback dense flow from frame i to frame i + k (``metrics.flow.FARNEBACK``; SOFTNet used TV-L1, Farneback is
   our documented substitute) → u, v (px at ``flow_size``); optical strain
   ε = sqrt(u_x² + v_y² + ½(u_y + v_x)²) by central differences;
3. global head motion removed: each channel minus its mean over a ``nose_patch`` × ``nose_patch`` [11] patch at the
   nose root; then |u|, |v|;
4. the eyes box set to zero (blinks are not expressions);
5. ROI: the brows box resized to ``input_size`` × ``input_size // 2`` (width × height) on top, the mouth box
   resized likewise below → one ``input_size`` × ``input_size`` × 3 (u, v, ε) float32 map [42 × 42 × 3].

Regions: without landmarks, the fixed proportional boxes of ``metrics.regions`` (for the package's face crop;
SOFTNet placed them with 68 landmarks of the first frame: eye polygons widened by 15 px, brows/mouth with a
12 px margin); the nose root is then the point (0.5, 0.53) of the crop (top of the nose box). With 68 iBUG landmarks
(x, y in the pixels of the frames given, from the video's first frame), the boxes are ``region_boxes``'s landmark
boxes and the nose root is landmark 28 (0-based, as SOFTNet). Features are NOT normalised: per-sample min-max
scaling belongs to the model input (``train.model_inputs``), so saved features keep their magnitudes (px).

Files: the ``default`` recipe of ``recipes``; ``samm-synth features`` (``export``) writes them into the release,
where the spotting benchmark reads them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import cv2
import numpy as np

from samm_synth_dataset.metrics import flow as optical_flow
from samm_synth_dataset.metrics.regions import region_boxes
from samm_synth_dataset.spotting.recipe import check_feature_sizes

#: Nose root (x, y) as fractions of the crop when no landmarks are given.
NOSE_ROOT_FRACTION: tuple[float, float] = (0.5, 0.53)
#: 68-point landmark (0-based) used as the nose root when landmarks are given.
NOSE_ROOT_LANDMARK = 28
CHANNELS: tuple[str, ...] = ("u", "v", "strain")


@dataclass(frozen=True)
class FeatureParams:
    """Parameters of the features: ``flow_size`` (px, square) where flow is computed, ``input_size`` (px, square,
    even) of the network input, ``nose_patch`` (px, odd) of the head-motion patch, Farneback parameters."""

    flow_size: int = 128
    input_size: int = 42
    nose_patch: int = 11
    farneback: Mapping[str, float | int] = field(default_factory=lambda: dict(optical_flow.FARNEBACK), hash=False)

    def __post_init__(self) -> None:
        check_feature_sizes(self.flow_size, self.input_size, self.nose_patch)

    def as_dict(self) -> dict[str, Any]:
        return {"flow_size": self.flow_size, "input_size": self.input_size, "nose_patch": self.nose_patch,
                "farneback": {k: self.farneback[k] for k in sorted(self.farneback)}}


@dataclass(frozen=True)
class Layout:
    """Pixel boxes at ``flow_size``: eyes (zeroed), brows and mouth (ROIs), and the nose patch (rows, cols)."""

    eyes: tuple[slice, slice]
    brows: tuple[slice, slice]
    mouth: tuple[slice, slice]
    nose: tuple[slice, slice]


def layout(params: FeatureParams, landmarks: np.ndarray | None = None, frame_size: tuple[int, int] | None = None
           ) -> Layout:
    """The region boxes at ``params.flow_size``. ``landmarks``: 68×2 (x, y) in pixels of frames of
    ``frame_size`` = (width, height); scaled to the flow size."""
    s = params.flow_size
    lm = None
    if landmarks is not None:
        lm = np.asarray(landmarks, dtype=np.float64)
        if lm.shape != (68, 2):
            raise ValueError(f"landmarks must be 68×2 (x, y) pixels, got shape {lm.shape}")
        if frame_size is None:
            raise ValueError("landmarks need the frame size (width, height) they are given in")
        lm = lm * np.array([s / frame_size[0], s / frame_size[1]])
    boxes = region_boxes(s, s, lm)
    if lm is not None:
        cx, cy = lm[NOSE_ROOT_LANDMARK]
    else:
        cx, cy = NOSE_ROOT_FRACTION[0] * s, NOSE_ROOT_FRACTION[1] * s
    h = params.nose_patch // 2
    x0 = int(np.clip(round(cx) - h, 0, s - params.nose_patch))
    y0 = int(np.clip(round(cy) - h, 0, s - params.nose_patch))
    nose = (slice(y0, y0 + params.nose_patch), slice(x0, x0 + params.nose_patch))
    for name in ("eyes", "brows", "mouth"):
        rows, cols = boxes[name]
        if rows.stop - rows.start < 1 or cols.stop - cols.start < 1:
            raise ValueError(f"the {name} region is empty at {s} px; check the landmarks")
    return Layout(boxes["eyes"], boxes["brows"], boxes["mouth"], nose)


def pair_feature(grey_a: np.ndarray, grey_b: np.ndarray, params: FeatureParams, where: Layout) -> np.ndarray:
    """The ``input_size`` × ``input_size`` × 3 float32 (|u|, |v|, ε) map of one pair of ``flow_size`` greyscale
    uint8 frames (steps 2-5 of the module docstring)."""
    flow = optical_flow.farneback(grey_a, grey_b, params.farneback)
    maps = np.empty(flow.shape[:2] + (3,), dtype=np.float32)
    maps[..., :2] = flow
    maps[..., 2] = optical_flow.optical_strain(flow)
    maps -= maps[where.nose].reshape(-1, 3).mean(axis=0)
    np.abs(maps[..., :2], out=maps[..., :2])
    maps[where.eyes] = 0.0
    n, half = params.input_size, params.input_size // 2
    out = np.empty((n, n, 3), dtype=np.float32)
    for rows, box in ((slice(0, half), where.brows), (slice(half, n), where.mouth)):
        region = np.ascontiguousarray(maps[box])
        interp = cv2.INTER_AREA if region.shape[1] > n else cv2.INTER_LINEAR
        out[rows] = cv2.resize(region, (n, half), interpolation=interp)
    return out


def flow_features(frames: Iterable[np.ndarray], k: int, params: FeatureParams | None = None,
                  landmarks: np.ndarray | None = None, video: str = "video") -> np.ndarray:
    """Features of all pairs (i, i + k) of a video: float32 (N - k) × S × S × 3 (S = ``input_size``; channels
    |u|, |v|, ε), i = 0-based position. ``frames``: the cropped face frames in order (RGB or greyscale uint8, one
    size), streamed: only k + 1 small greyscale frames are held. ``landmarks``: optional 68×2 (x, y) pixels of the
    first frame. A video with N <= k frames has no pair: a ValueError names it."""
    return flow_features_by_k(frames, (k,), params, landmarks, video)[k]


def flow_features_by_k(frames: Iterable[np.ndarray], ks: Sequence[int], params: FeatureParams | None = None,
                       landmarks: np.ndarray | None = None, video: str = "video") -> dict[int, np.ndarray]:
    """:func:`flow_features` for every k in ``ks`` from ONE pass over the frames (max(ks) + 1 frames held)."""
    if not ks or min(ks) < 1:
        raise ValueError(f"{video}: k must be >= 1 frame, got {list(ks)}")
    params = params or FeatureParams()
    size = (params.flow_size, params.flow_size)
    window: deque[np.ndarray] = deque(maxlen=max(ks) + 1)
    out: dict[int, list[np.ndarray]] = {k: [] for k in ks}
    where: Layout | None = None
    shape: tuple[int, ...] | None = None
    for pos, frame in enumerate(frames):
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] != 3):
            raise ValueError(f"{video}, frame position {pos}: expected H×W or H×W×3 uint8, got {frame.dtype} "
                             f"{frame.shape}")
        if shape is None:
            shape = frame.shape
            where = layout(params, landmarks, (frame.shape[1], frame.shape[0]))
        elif frame.shape != shape:
            raise ValueError(f"{video}, frame position {pos}: size {frame.shape} differs from the first frame's "
                             f"{shape}; crop every frame with the video's one crop")
        window.append(optical_flow.to_grey(frame, size))
        assert where is not None
        for k in ks:
            if len(window) > k:
                out[k].append(pair_feature(window[-1 - k], window[-1], params, where))
    empty = [k for k in ks if not out[k]]
    if empty:
        raise ValueError(f"{video}: {len(window)} frame(s) but k = {empty[0]}; a pair (i, i + k) needs more than "
                         f"{empty[0]} frames")
    return {k: np.stack(v) for k, v in out.items()}

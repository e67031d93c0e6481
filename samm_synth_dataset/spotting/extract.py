"""A video's features by a recipe (``recipes``): every pair (i, i + k) of its frames, for several k in one pass.

``video_features(frames, recipe, ks)`` → ``k -> array`` of shape ``(N − k, *recipe.shape)`` (pairs × streams ×
height × width × channels u, v, ε) in the recipe's dtype, i = 0-based position in the frames given. The ``default``
recipe is ``features.flow_features_by_k`` (today's baseline, unchanged values, one stream); ``softnet`` and ``mtsn``
follow ``softnet``'s steps on greyscale crops resized to the recipe's ``flow_size``. Only ``max(ks) + 1`` small
frames are held. TV-L1 runs on one OpenCV thread (a 128 px pair is too small to share; parallelism comes from the
stage's worker processes), restored afterwards. ``Landmarks`` says where the softnet regions come from (stated in
the output's metadata).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Iterable, Sequence

import cv2
import numpy as np

from samm_synth_dataset.metrics.flow import to_grey
from samm_synth_dataset.spotting import softnet
from samm_synth_dataset.spotting.features import FeatureParams, flow_features_by_k
from samm_synth_dataset.spotting.recipes import Recipe


@dataclass(frozen=True)
class Landmarks:
    """The 68×2 points (px at the recipe's flow size; NaN where unused) and how they were found."""

    points: np.ndarray
    note: str


def default_params(recipe: Recipe) -> FeatureParams:
    """The ``default`` recipe's parameters as ``features.FeatureParams``."""
    return FeatureParams(flow_size=recipe.flow_size, input_size=recipe.output_size, nose_patch=recipe.nose_patch)


def find_landmarks(first_grey: np.ndarray, source: str) -> Landmarks:
    """Landmarks of a video from its first frame's greyscale crop at the flow size: ``dlib68`` or
    ``proportional`` (``softnet.template_landmarks``)."""
    if source == "dlib68":
        points, note = softnet.dlib68_landmarks(first_grey)
        return Landmarks(points, note)
    return Landmarks(softnet.template_landmarks(first_grey.shape[0]),
                     "proportional points of the face crop (no landmark model; same ROI geometry)")


def _check(frame: np.ndarray, pos: int, shape: tuple[int, ...] | None, video: str) -> None:
    if frame.dtype != np.uint8 or frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] != 3):
        raise ValueError(f"{video}, frame position {pos}: expected H×W or H×W×3 uint8, got {frame.dtype} "
                         f"{frame.shape}")
    if shape is not None and frame.shape != shape:
        raise ValueError(f"{video}, frame position {pos}: size {frame.shape} differs from the first frame's "
                         f"{shape}; crop every frame with the video's one crop")


def video_features(frames: Iterable[np.ndarray], recipe: Recipe, ks: Sequence[int], landmarks: str = "proportional",
                   video: str = "video") -> tuple[dict[int, np.ndarray], Landmarks | None]:
    """Features of every pair (i, i + k) for each k in ``ks`` (see the module docstring) and the landmarks used
    (None for recipes without landmarks). A video with no more frames than a k raises ValueError naming it."""
    ks = sorted(set(int(k) for k in ks))
    if not ks or ks[0] < 1:
        raise ValueError(f"{video}: k must be >= 1 frame, got {list(ks)}")
    dtype = np.dtype(recipe.dtype)
    if recipe.flow == "farneback":
        out = flow_features_by_k(frames, ks, default_params(recipe), None, video)
        return {k: v[:, None].astype(dtype, copy=False) for k, v in out.items()}, None
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        return _tvl1_features(frames, recipe, ks, landmarks, video)
    finally:
        cv2.setNumThreads(threads)


def _tvl1_features(frames: Iterable[np.ndarray], recipe: Recipe, ks: list[int], landmarks: str, video: str
                   ) -> tuple[dict[int, np.ndarray], Landmarks | None]:
    dtype = np.dtype(recipe.dtype)
    size = (recipe.flow_size, recipe.flow_size)
    window: deque[np.ndarray] = deque(maxlen=ks[-1] + 1)
    ones: deque[np.ndarray] = deque(maxlen=ks[-1] + 1)  # stream "1": ones[j] = pair (j, j + 1), aligned to window
    rows: dict[int, list[np.ndarray]] = {k: [] for k in ks}
    found: Landmarks | None = None
    shape: tuple[int, ...] | None = None
    for pos, frame in enumerate(frames):
        frame = np.asarray(frame)
        _check(frame, pos, shape, video)
        shape = frame.shape
        grey = to_grey(frame, size)
        if pos == 0 and recipe.uses_landmarks:
            found = find_landmarks(grey, landmarks)
        window.append(grey)
        if "1" in recipe.streams and len(window) > 1:
            ones.append(softnet.mtsn_map(window[-2], window[-1], recipe.output_size))
        for k in ks:
            if len(window) <= k:
                continue
            a, b = window[-1 - k], window[-1]
            if recipe.roi == "softnet":
                assert found is not None
                maps = [softnet.softnet_pair(a, b, found.points, recipe.nose_patch, recipe.eye_push,
                                             recipe.roi_margin, recipe.output_size)]
            else:
                maps = [softnet.mtsn_map(a, b, recipe.output_size)]
            if "1" in recipe.streams:
                maps.append(ones[-k])  # the pair (i, i + 1) of this pair's first frame i
            rows[k].append(np.stack(maps).astype(dtype))
    empty = [k for k in ks if not rows[k]]
    if empty:
        raise ValueError(f"{video}: {len(window)} frame(s) but k = {empty[0]}; a pair (i, i + k) needs more than "
                         f"{empty[0]} frames")
    return {k: np.stack(v) for k, v in rows.items()}, found

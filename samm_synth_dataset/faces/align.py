"""The official StarGAN v2 face alignment (``--mode align``), computed ONCE per video from FAN landmarks.

Similarity transform = T_ref · S · R · T_src, as the official ``align_faces`` computes it, here directly in
source pixels:

* T_src moves the centroid of the 98 WFLW source landmarks to the origin;
* R rotates the source "x-axis" onto the reference one, x-axis = normalise((eyeR − eyeL) − rot90(eyeCentre −
  mouthCentre)) with rot90(x, y) = (y, −x), eyeL = mean of points 60–67 and 96, eyeR = mean of 68–75 and 97,
  mouth ends = points 76 and 82;
* S = mean over points {96, 97, 76, 82} of |ref_i − ref_centroid| / |src_i − src_centroid|;
* T_ref moves the origin to the centroid of the reference (mean CelebA-HQ) landmarks, given in a 256×256 frame
  and scaled by ``size / 256``.

The reference landmarks (``celeba_lm_mean.npz``'s ``mean``) come with the StarGAN v2 weights; the transfer
stage loads them and the FAN. Landmarks of several frames are combined by their per-point median first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from samm_synth_dataset.faces.crop import FaceCrop

N_LANDMARKS = 98
_EYE_LEFT = list(range(60, 68)) + [96]
_EYE_RIGHT = list(range(68, 76)) + [97]
_SCALE_POINTS = [96, 97, 76, 82]


def _check(points: np.ndarray, what: str) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64)
    if points.shape != (N_LANDMARKS, 2) or not np.isfinite(points).all():
        raise ValueError(f"{what}: expected {N_LANDMARKS} finite (x, y) WFLW points, got shape {points.shape}")
    return points


def landmarks_xaxis(points: np.ndarray) -> np.ndarray:
    """The unit "x-axis" of a 98-point WFLW face (see module docstring)."""
    eye_l = points[_EYE_LEFT].mean(axis=0)
    eye_r = points[_EYE_RIGHT].mean(axis=0)
    mouth = (points[76] + points[82]) / 2
    yp = (eye_l + eye_r) / 2 - mouth
    axis = (eye_r - eye_l) - np.array([yp[1], -yp[0]])
    norm = np.linalg.norm(axis)
    if norm == 0:
        raise ValueError("degenerate landmarks: eyes and mouth give no face direction")
    return axis / norm


def similarity_matrix(landmarks: np.ndarray, reference: np.ndarray, size: int = 256) -> np.ndarray:
    """The 2×3 source → output matrix of the official alignment for one set of 98 landmarks (source pixels)."""
    src = _check(landmarks, "landmarks")
    ref = _check(reference, "reference landmarks") * (size / 256.0)
    src_c, ref_c = src.mean(axis=0), ref.mean(axis=0)
    a, b = landmarks_xaxis(src), landmarks_xaxis(ref)
    angle = np.arctan2(a[0] * b[1] - a[1] * b[0], a @ b)  # rotates a onto b
    c, s = np.cos(angle), np.sin(angle)
    src_norm = np.linalg.norm(src[_SCALE_POINTS] - src_c, axis=1)
    if np.any(src_norm == 0):
        raise ValueError("degenerate landmarks: eye/mouth points coincide with the centroid")
    scale = float(np.mean(np.linalg.norm(ref[_SCALE_POINTS] - ref_c, axis=1) / src_norm))
    rs = scale * np.array([[c, -s], [s, c]])
    return np.hstack([rs, (ref_c - rs @ src_c)[:, None]])


def align_crop(landmarks: np.ndarray, reference: np.ndarray, size: int = 256,
               image_size: tuple[int, int] | None = None) -> FaceCrop:
    """A :class:`FaceCrop` with ``matrix`` set: the official alignment, once for the whole video.

    ``landmarks``: 98×2 or K×98×2 (K frames; per-point median) WFLW points in SOURCE pixels. ``reference``:
    the 98×2 mean CelebA-HQ landmarks in a 256 frame. ``x, y, w, h`` of the result are the bounding box of the
    source region the output covers (clipped to ``image_size`` = (width, height) when given).
    """
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.ndim == 3:
        pts = np.median(pts, axis=0)
    m = similarity_matrix(pts, reference, size)
    inv = np.linalg.inv(np.vstack([m, [0.0, 0.0, 1.0]]))[:2]
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], dtype=np.float64)
    src = corners @ inv.T
    x0, y0 = np.floor(src.min(axis=0)).astype(int)
    x1, y1 = np.ceil(src.max(axis=0)).astype(int)
    if image_size is not None:
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, image_size[0]), min(y1, image_size[1])
    matrix = tuple(tuple(float(v) for v in row) for row in m)
    return FaceCrop(x=int(x0), y=int(y0), w=int(x1 - x0), h=int(y1 - y0), size=size,
                    matrix=matrix)  # type: ignore[arg-type]


def load_reference_landmarks(path: str | Path) -> np.ndarray:
    """The mean CelebA-HQ landmarks that come with the StarGAN v2 weights (``celeba_lm_mean.npz``, array
    ``mean``): 98×2 (x, y) in a 256×256 frame. Read without pickle."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: reference landmarks not found (the official celeba_lm_mean.npz, from "
                                "StarGAN v2's `bash download.sh wing`)")
    try:
        with np.load(path, allow_pickle=False) as data:
            names = sorted(data.keys())
            mean = np.asarray(data["mean"], dtype=np.float64) if "mean" in names else None
    except (OSError, ValueError) as exc:  # not an npz, or an object array (needs pickle)
        raise ValueError(f"{path}: not a readable .npz of plain arrays ({exc})") from exc
    if mean is None:
        raise ValueError(f"{path}: no array 'mean' (has {names}); expected the official celeba_lm_mean.npz")
    return _check(mean.reshape(-1, 2) if mean.size == 2 * N_LANDMARKS else mean, f"{path}: 'mean'")


def align_video(frames: list[np.ndarray], crop: FaceCrop, landmarks_fn: Callable[[np.ndarray], np.ndarray],
                reference: np.ndarray, image_size: tuple[int, int], video: str = "?") -> FaceCrop:
    """The official alignment for one video, from a few of its frames: each frame (source pixels, H×W or
    H×W×3 uint8) is cut with the video's box ``crop``, ``landmarks_fn`` finds the 98 landmarks in those
    crops (N×S×S[×3] uint8 → N×98×2 in crop pixels; the StarGAN v2 FAN: ``StarGANv2.landmarks``), they are
    mapped back to source pixels and combined by their per-point median, and :func:`align_crop` gives ONE
    transform for every frame. ``image_size`` = (width, height) of the source frames."""
    if not frames:
        raise ValueError(f"video {video}: no frames to find landmarks in")
    crops = np.stack([crop.apply(f) for f in frames])
    points = np.asarray(landmarks_fn(crops), dtype=np.float64)
    if points.shape != (len(frames), N_LANDMARKS, 2):
        raise ValueError(f"video {video}: landmarks_fn returned {points.shape}, expected "
                         f"({len(frames)}, {N_LANDMARKS}, 2)")
    source = points * np.array([crop.w / crop.size, crop.h / crop.size]) + np.array([crop.x, crop.y])
    try:
        return align_crop(source, reference, crop.size, image_size=image_size)
    except ValueError as exc:
        raise ValueError(f"video {video}: the FAN alignment failed ({exc}); leave alignment off for it or give "
                         "its crop in a boxes CSV") from exc

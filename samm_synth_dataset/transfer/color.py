"""``ColorTransfer``: a no-weights baseline — Reinhard et al. 2001 colour-statistics transfer in CIE Lab.

It moves each frame's Lab mean and standard deviation per channel, measured inside the face region, to the
reference's. It changes colour and contrast only: it does NOT change identity, face shape or texture, so a
dataset built with it is a colour-augmented copy of the source, not a synthetic identity.

Face region: an ellipse centred in the square crop (semi-axes ``FACE_AXES`` × width/height). Statistics are
measured and matched inside it; a feather band out to ``FEATHER``× the ellipse blends into the untouched frame;
pixels beyond the band are returned unchanged. Lab is OpenCV's on float RGB in [0, 1] (L in [0, 100]).
Greyscale frames (replicated to RGB) have flat a/b channels: a channel whose spread inside the region is below
``FLAT_STD`` Lab units only gets its mean shifted (a greyscale face takes the reference's mean colour).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import cv2
import numpy as np

from samm_synth_dataset.transfer.base import StyleCode, domain_index

METHOD_NAME = "color-transfer"
FACE_AXES = (0.40, 0.48)  # semi-axes of the face ellipse as fractions of width and height
FEATHER = 1.15            # the blend band ends at this multiple of the ellipse
FLAT_STD = 0.5            # Lab units


@lru_cache(maxsize=8)
def face_weights(height: int, width: int) -> np.ndarray:
    """H×W float32 blend weights: 1 inside the face ellipse, a linear ramp to 0 at FEATHER× it, 0 beyond."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cy, cx = (height - 1) / 2, (width - 1) / 2
    r = np.sqrt(((xx - cx) / (FACE_AXES[0] * width)) ** 2 + ((yy - cy) / (FACE_AXES[1] * height)) ** 2)
    w = np.clip((FEATHER - r) / (FEATHER - 1), 0, 1).astype(np.float32)
    w[r <= 1] = 1
    w.setflags(write=False)
    return w


def face_region(height: int, width: int) -> np.ndarray:
    """H×W bool: the face ellipse (where statistics are measured and matched)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cy, cx = (height - 1) / 2, (width - 1) / 2
    return ((xx - cx) / (FACE_AXES[0] * width)) ** 2 + ((yy - cy) / (FACE_AXES[1] * height)) ** 2 <= 1


def to_lab(image: np.ndarray) -> np.ndarray:
    """uint8 RGB (or greyscale, replicated) H×W×3 → float32 Lab."""
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def lab_stats(image: np.ndarray) -> np.ndarray:
    """[mean L, mean a, mean b, std L, std a, std b] inside the face ellipse of an RGB uint8 image."""
    lab = to_lab(image)[face_region(*image.shape[:2])]
    return np.concatenate([lab.mean(axis=0), lab.std(axis=0)]).astype(np.float32)


class ColorTransfer:
    """Reinhard colour transfer from a reference face to every frame (see module docstring). No weights;
    deterministic; does not change identity."""

    name = METHOD_NAME
    checkpoint_sha256: str | None = None
    has_landmarks = False
    description = ("Reinhard et al. 2001 Lab mean/std colour transfer inside an elliptical face region; "
                   "changes colour only, NOT identity")

    def __init__(self, image_size: int = 256, batch_size: int = 8) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be ≥ 1, got {batch_size}")
        self.image_size = image_size
        self.batch_size = batch_size

    def domain_index(self, domain: str | int) -> int:
        """``female`` → 0, ``male`` → 1, a number → itself; recorded in the style code, the colours ignore it."""
        return domain_index(domain)

    def landmarks(self, frames: np.ndarray) -> np.ndarray:
        raise ValueError("color-transfer has no landmark model; face alignment needs stargan-v2 with its FAN")

    def style(self, reference: np.ndarray, domain: int) -> StyleCode:
        """Lab statistics of the reference's face ellipse (``values`` = 3 means then 3 stds). ``domain`` is
        recorded but does not change the result."""
        reference = np.asarray(reference)
        if reference.dtype != np.uint8 or reference.ndim not in (2, 3):
            raise ValueError(f"reference must be a uint8 H×W×3 (or H×W) image, got {reference.dtype} "
                             f"{reference.shape}")
        return StyleCode(method=self.name, domain=int(domain), values=lab_stats(reference))

    def apply(self, frames: np.ndarray, style: StyleCode) -> np.ndarray:
        """N×H×W×3 (or N×H×W greyscale) uint8 → N×H×W×3 uint8 RGB."""
        if style.method != self.name:
            raise ValueError(f"style code was made by {style.method!r}, not {self.name!r}")
        frames = np.asarray(frames)
        if frames.dtype != np.uint8 or frames.ndim not in (3, 4):
            raise ValueError(f"frames must be uint8 N×H×W[×3], got {frames.dtype} {frames.shape}")
        return np.stack([self._one(f, np.asarray(style.values, np.float32)) for f in frames])

    def submit(self, frames: np.ndarray, style: StyleCode) -> Callable[[], np.ndarray]:
        """:meth:`apply` at once; returns a function handing out the result."""
        out = self.apply(frames, style)
        return lambda: out

    def _one(self, frame: np.ndarray, ref: np.ndarray) -> np.ndarray:
        rgb = np.repeat(frame[:, :, None], 3, axis=2) if frame.ndim == 2 else frame
        h, w = rgb.shape[:2]
        lab = to_lab(rgb)
        inside = lab[face_region(h, w)]
        mean, std = inside.mean(axis=0), inside.std(axis=0)
        scale = np.where(std > FLAT_STD, ref[3:] / np.maximum(std, 1e-12), 1.0).astype(np.float32)
        moved = (lab - mean) * scale + ref[:3]
        out = np.clip(cv2.cvtColor(moved.astype(np.float32), cv2.COLOR_LAB2RGB), 0, 1) * 255
        weights = face_weights(h, w)[:, :, None]
        blended = weights * out + (1 - weights) * rgb.astype(np.float32)
        result = np.rint(blended).astype(np.uint8)
        result[weights[:, :, 0] == 0] = rgb[weights[:, :, 0] == 0]  # exactly untouched outside the band
        return result

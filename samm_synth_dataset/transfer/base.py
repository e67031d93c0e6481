"""What every style-transfer method offers the builder: a style code per (reference, domain), and a batched
frames → frames map. Frames are uint8 RGB N×S×S×3 numpy arrays (S = ``image_size``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class StyleCode:
    """A style computed once per (reference, domain) and reused for every frame of a video.

    ``values`` is method-specific (StarGAN v2: the style vector, float32 of length style_dim; colour transfer:
    Lab mean and std of the reference face region)."""

    method: str
    domain: int
    values: np.ndarray


@runtime_checkable
class TransferMethod(Protocol):
    """A style-transfer method. ``name`` is ``"stargan-v2"`` or ``"color-transfer"``."""

    name: str
    image_size: int
    checkpoint_sha256: str | None

    def style(self, reference: np.ndarray, domain: int) -> StyleCode:
        """Style of one reference image (H×W×3 uint8 RGB, already cropped to the face)."""
        ...

    def apply(self, frames: np.ndarray, style: StyleCode) -> np.ndarray:
        """Restyle a batch of frames (N×S×S×3 uint8 RGB) → N×S×S×3 uint8 RGB."""
        ...

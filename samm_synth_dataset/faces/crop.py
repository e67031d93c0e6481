"""One face crop per video: a fixed transform from source pixels to the model's square input.

Never per frame: a crop that moves adds motion that is not in the face.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class FaceCrop:
    """A fixed square-ish box ``(x, y, w, h)`` in SOURCE pixels (0-based, top-left origin, end exclusive) resized
    to ``size``×``size``. When ``matrix`` (2×3, source → output pixels) is set, it is used instead of the box
    (FAN similarity alignment); ``x, y, w, h`` then describe the source region it covers."""

    x: int
    y: int
    w: int
    h: int
    size: int = 256
    matrix: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """Crop and resize one frame (H×W or H×W×3 uint8) to size×size (same channel layout)."""
        if self.matrix is not None:
            m = np.asarray(self.matrix, dtype=np.float64)
            return cv2.warpAffine(frame, m, (self.size, self.size), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_REPLICATE)
        region = frame[self.y:self.y + self.h, self.x:self.x + self.w]
        interp = cv2.INTER_AREA if self.w > self.size else cv2.INTER_LINEAR
        return cv2.resize(region, (self.size, self.size), interpolation=interp)

    def as_dict(self) -> dict[str, int]:
        """The box as the videos table's ``crop`` struct."""
        return {"x": int(self.x), "y": int(self.y), "w": int(self.w), "h": int(self.h)}

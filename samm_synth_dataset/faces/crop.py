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
            return self._warp(frame)
        region = frame[self.y:self.y + self.h, self.x:self.x + self.w]
        interp = cv2.INTER_AREA if self.w > self.size else cv2.INTER_LINEAR
        return cv2.resize(region, (self.size, self.size), interpolation=interp)

    def _warp(self, frame: np.ndarray) -> np.ndarray:
        """The similarity ``matrix``, bilinear. When it shrinks (scale < 1, as for full-size SAMM-LV frames), the
        covered region is first reduced with area averaging to about the output scale, so that the bilinear
        warp does not alias fine texture (micro-movements are a few pixels)."""
        m = np.asarray(self.matrix, dtype=np.float64)
        scale = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
        if scale < 1 and self.w > 0 and self.h > 0:
            rw, rh = max(1, round(self.w * scale)), max(1, round(self.h * scale))
            region = cv2.resize(frame[self.y:self.y + self.h, self.x:self.x + self.w], (rw, rh),
                                interpolation=cv2.INTER_AREA)
            fx, fy = self.w / rw, self.h / rh  # region pixel (u, v) ← source (x + (u + .5) fx - .5, …)
            to_source = np.array([[fx, 0.0, self.x + 0.5 * fx - 0.5], [0.0, fy, self.y + 0.5 * fy - 0.5]])
            m = np.hstack([m[:, :2] @ to_source[:, :2], (m[:, :2] @ to_source[:, 2] + m[:, 2])[:, None]])
            frame = region
        return cv2.warpAffine(frame, m, (self.size, self.size), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)

    def matrix_list(self) -> list[float] | None:
        """The 2×3 matrix row-major (6 floats) for the videos table's ``crop_matrix``; None for a plain box."""
        return None if self.matrix is None else [float(v) for row in self.matrix for v in row]

    def as_dict(self) -> dict[str, int]:
        """The box as the videos table's ``crop`` struct."""
        return {"x": int(self.x), "y": int(self.y), "w": int(self.w), "h": int(self.h)}

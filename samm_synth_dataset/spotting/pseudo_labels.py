"""SOFTNet pseudo-labels of frame pairs (i, i + k), one expression kind at a time.

Pair ``i`` (0-based position in the video's frame sequence) spans the SOURCE frames ``[frames[i], frames[i + k]]``
(inclusive). Its label is 1.0 when that span overlaps any ground-truth interval ``[onset, offset]`` of the kind
(source frame numbers, inclusive ends; IoU > 0, i.e. ``frames[i] <= offset`` and ``frames[i + k] >= onset``), else
0.0. The labels are regression targets (float32), one per feature of ``features.flow_features``.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np


def pseudo_labels(frames: Sequence[int] | np.ndarray, intervals: Iterable[tuple[int, int]], k: int,
                  video: str = "video") -> np.ndarray:
    """float32 labels of the ``N - k`` pairs of a video of ``N`` frames.

    ``frames``: the SOURCE frame number of each position (strictly increasing; ``np.arange(N)`` when intervals are
    given as 0-based positions). ``intervals``: ``(onset, offset)`` source frame numbers, inclusive, of ONE kind.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1 frame, got {k}")
    numbers = np.asarray(frames, dtype=np.int64)
    if numbers.ndim != 1:
        raise ValueError(f"{video}: frame numbers must be 1-D, got shape {numbers.shape}")
    if numbers.size <= k:
        raise ValueError(f"{video}: {numbers.size} frame(s) but k = {k}; a pair (i, i + k) needs more than k frames")
    if np.any(np.diff(numbers) <= 0):
        bad = int(np.argmax(np.diff(numbers) <= 0)) + 1
        raise ValueError(f"{video}: frame numbers must increase; position {bad} has {numbers[bad]} after "
                         f"{numbers[bad - 1]}")
    start, end = numbers[:-k], numbers[k:]
    labels = np.zeros(start.size, dtype=np.float32)
    for onset, offset in intervals:
        if offset < onset:
            raise ValueError(f"{video}: interval [{onset}, {offset}] has offset < onset; intervals are inclusive "
                             "[onset, offset]")
        labels[(start <= offset) & (end >= onset)] = 1.0
    return labels

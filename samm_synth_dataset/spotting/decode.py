"""Score curve → spotted intervals (SOFTNet's rule), and predictions in the MEGC submission layout.

Conventions: a video has ``N`` frames at positions ``0 .. N - 1`` (0-based) whose SOURCE frame numbers are
``frames``; intervals are ``(onset, offset)`` source frame numbers with inclusive ends.

1. ``frame_scores``: the score of pair (i, i + k) is placed at the centre of its window, position ``i + k // 2``;
   the first ``k // 2`` and last ``k - k // 2`` positions, which no pair centres on, repeat the nearest pair's
   score → one score per frame (length ``N = M + k``).
2. ``smooth_scores``: centred moving mean over ``2k + 1`` frames (edges: nearest value repeated). SOFTNet used
   ``2k`` frames, which cannot be centred; one frame more keeps the curve aligned with the frames.
3. threshold ``T = mean + p × (max − mean)`` of the smoothed curve, ``p = 0.55``;
4. peaks: ``scipy.signal.find_peaks(smoothed, height=T, distance=k)`` (a flat curve has none; the first and last
   frames are never peaks);
5. each peak at position ``c`` becomes ``[c − k, c + k]`` clipped to ``[0, N − 1]``, then mapped to source frame
   numbers. No merging: peaks are at least k apart, so intervals may overlap (as SOFTNet's).

``softnet_spot`` is SOFTNet's published rule instead (the ``softnet`` recipe): on the M pair scores s,
``agg[j] = mean(s[j : j + 2k])`` for j = 0 .. M − 2k − 1 (a non-centred 2k window; SOFTNet's cut index j is
pair j + k); the same threshold and ``find_peaks(height=T, distance=k)``; a peak at j gives [j − k, j + k] in the
cut index, which SOFTNet compares with ground truth shifted by −k, i.e. positions [j, j + 2k] of the frames
(clipped to N − 1): on an ideal curve intervals come out about k/2 early. A video with no peak gets SOFTNet's
dummy prediction [0, 0] of the cut index (the single frame at position k; one extra false positive).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy.ndimage import uniform_filter1d
from scipy.signal import find_peaks

from samm_synth_dataset import format as fmt
from samm_synth_dataset.spotting.recipe import P

#: Submission ``type`` of each kind.
SUBMISSION_TYPES: dict[str, str] = {"ME": "me", "MaE": "mae"}
SUBMISSION_COLUMNS: tuple[str, ...] = ("vid", "onset", "offset", "type")


def frame_scores(pair_scores: np.ndarray, k: int) -> np.ndarray:
    """One score per frame (length ``M + k``) from the ``M`` pair scores: pair i sits at position ``i + k // 2``."""
    s = np.asarray(pair_scores, dtype=np.float64)
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"pair scores must be a non-empty 1-D array, got shape {s.shape}")
    if k < 1:
        raise ValueError(f"k must be >= 1 frame, got {k}")
    return np.pad(s, (k // 2, k - k // 2), mode="edge")


def smooth_scores(curve: np.ndarray, k: int) -> np.ndarray:
    """Centred moving mean of the per-frame curve over ``2k + 1`` frames (edges: nearest value repeated)."""
    if k < 1:
        raise ValueError(f"k must be >= 1 frame, got {k}")
    return uniform_filter1d(np.asarray(curve, dtype=np.float64), size=2 * k + 1, mode="nearest")


def threshold(smoothed: np.ndarray, p: float = P) -> float:
    """``mean + p × (max − mean)`` of the smoothed curve."""
    mean = float(np.mean(smoothed))
    return mean + p * (float(np.max(smoothed)) - mean)


def spot_intervals(curve: np.ndarray, k: int, frames: Sequence[int] | np.ndarray, p: float = P,
                   video: str = "video") -> list[tuple[int, int]]:
    """Intervals ``(onset, offset)`` (source frame numbers, inclusive), in frame order, from a per-frame score
    curve (length N, e.g. ``frame_scores``) and the source frame number of each position (``frames``, length N)."""
    c = np.asarray(curve, dtype=np.float64)
    numbers = np.asarray(frames, dtype=np.int64)
    if c.ndim != 1 or c.size == 0:
        raise ValueError(f"{video}: the score curve must be a non-empty 1-D array, got shape {c.shape}")
    if numbers.shape != c.shape:
        raise ValueError(f"{video}: {numbers.size} frame numbers for {c.size} scores; give one per frame")
    if not np.all(np.isfinite(c)):
        bad = int(np.flatnonzero(~np.isfinite(c))[0])
        raise ValueError(f"{video}: score at position {bad} (frame {numbers[bad]}) is {c[bad]}; scores must be "
                         "finite")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    smoothed = smooth_scores(c, k)
    if np.ptp(smoothed) == 0:
        return []
    peaks, _ = find_peaks(smoothed, height=threshold(smoothed, p), distance=k)
    last = c.size - 1
    return [(int(numbers[max(0, q - k)]), int(numbers[min(last, q + k)])) for q in peaks]


def softnet_curve(pair_scores: np.ndarray, k: int) -> np.ndarray:
    """SOFTNet's smoothed curve ``agg[j] = mean(s[j : j + 2k])``, j = 0 .. M − 2k − 1 (empty when M <= 2k)."""
    s = np.asarray(pair_scores, dtype=np.float64)
    if s.size <= 2 * k:
        return np.zeros(0)
    return np.convolve(s, np.ones(2 * k) / (2 * k), mode="valid")[:-1]


def softnet_spot(pair_scores: np.ndarray, k: int, frames: Sequence[int] | np.ndarray, p: float = P,
                 video: str = "video") -> list[tuple[int, int]]:
    """SOFTNet's decoding (module docstring) of the ``M`` pair scores of a video of ``N = M + k`` frames whose
    SOURCE frame numbers are ``frames``: intervals (source frame numbers, inclusive), in frame order."""
    s = np.asarray(pair_scores, dtype=np.float64)
    numbers = np.asarray(frames, dtype=np.int64)
    if k < 1:
        raise ValueError(f"k must be >= 1 frame, got {k}")
    if s.ndim != 1 or numbers.size != s.size + k:
        raise ValueError(f"{video}: {s.size} pair scores need {s.size + k} frame numbers, got {numbers.size}")
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{video}: pair scores must be finite")
    last = numbers.size - 1
    dummy = [(int(numbers[min(k, last)]), int(numbers[min(k, last)]))]
    if s.size <= 2 * k:
        return dummy
    agg = softnet_curve(s, k)
    peaks, _ = find_peaks(agg, height=threshold(agg, p), distance=k) if np.ptp(agg) > 0 else ([], None)
    if len(peaks) == 0:
        return dummy
    return [(int(numbers[j]), int(numbers[min(last, j + 2 * k)])) for j in peaks]


def submission_frame(rows: Iterable[tuple[str, int, int, str]]) -> pd.DataFrame:
    """``vid, onset, offset, type`` rows (MEGC submission layout; type ``me``/``mae``) from
    ``(video, onset, offset, kind)`` tuples with kind ``ME``/``MaE``, in the order given."""
    out = []
    for n, (video, onset, offset, kind) in enumerate(rows):
        if kind not in SUBMISSION_TYPES:
            raise ValueError(f"prediction {n} ({video}): kind must be ME or MaE, not {kind!r}")
        if int(offset) < int(onset):
            raise ValueError(f"prediction {n} ({video}): offset {offset} < onset {onset}")
        out.append((str(video), int(onset), int(offset), SUBMISSION_TYPES[kind]))
    return pd.DataFrame(out, columns=list(SUBMISSION_COLUMNS)).astype({"onset": "int64", "offset": "int64"})


def write_submission(path: str | Path, rows: Iterable[tuple[str, int, int, str]]) -> Path:
    """Write ``submission_frame(rows)`` as CSV (header ``vid,onset,offset,type``) to ``path``, atomically."""
    path = Path(path)
    buf = io.StringIO()
    submission_frame(rows).to_csv(buf, index=False)
    fmt.atomic_write_bytes(path, buf.getvalue().encode())
    return path

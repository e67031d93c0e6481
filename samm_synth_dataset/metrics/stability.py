"""Temporal stability: motion the transfer adds where nothing should move.

Motion energy of a frame pair = mean Farneback flow magnitude (px per ``step`` frames) over a region. It is
measured on pairs ``(t, t + step)`` (SOURCE frame numbers) lying wholly outside every annotated interval (with a
``margin`` of frames on both sides), for the original (cropped) and the synthetic video. A synthetic/original
energy ratio near 1 means the transfer adds no flicker; the paper saw extra motion around the jaw.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from samm_synth_dataset.metrics.flow import farneback, magnitude, to_grey

#: Below this original motion energy (px) the synthetic/original ratio is undefined (NaN): the original is still.
MIN_ENERGY_PX = 1e-3


def quiet_pairs(frame_numbers: Sequence[int], intervals: Sequence[tuple[int, int]], step: int = 1,
                margin: int = 10, max_pairs: int = 16) -> list[tuple[int, int]]:
    """Up to ``max_pairs`` pairs ``(t, t + step)`` of existing frames, both outside every ``(onset, offset)``
    interval widened by ``margin`` frames, spread evenly over the video (inclusive ends)."""
    frames = np.asarray(sorted(int(f) for f in frame_numbers), dtype=np.int64)
    have = set(frames.tolist())
    busy = np.zeros(frames.size, dtype=bool)
    for on, off in intervals:
        busy |= (frames >= on - margin) & (frames <= off + margin)
    quiet = set(frames[~busy].tolist())
    candidates = [int(t) for t in frames if t in quiet and (t + step) in have and (t + step) in quiet]
    if len(candidates) <= max_pairs:
        chosen = candidates
    else:
        idx = np.linspace(0, len(candidates) - 1, max_pairs).round().astype(int)
        chosen = [candidates[i] for i in idx]
    return [(t, t + step) for t in chosen]


def motion_energy(frames: Mapping[int, np.ndarray], pairs: Sequence[tuple[int, int]],
                  masks: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Mean flow magnitude per region mask, averaged over ``pairs`` (px per pair)."""
    sums = {name: 0.0 for name in masks}
    for a, b in pairs:
        mag = magnitude(farneback(to_grey(frames[a]), to_grey(frames[b])))
        for name, m in masks.items():
            sums[name] += float(mag[m].mean())
    n = max(1, len(pairs))
    return {name: s / n for name, s in sums.items()} if pairs else {name: float("nan") for name in masks}


def stability_table(video: str, original: Mapping[int, np.ndarray], synthetic: Mapping[int, np.ndarray],
                    pairs: Sequence[tuple[int, int]], masks: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Rows ``video, region, pairs, energy_original, energy_synthetic, ratio`` (ratio = synthetic / original;
    NaN when the original's energy is below ``MIN_ENERGY_PX``: it does not move). ``original`` frames must
    already be cropped; they are resized to the synthetic size here."""
    size = None
    if pairs:
        s = next(iter(synthetic.values()))
        size = (s.shape[1], s.shape[0])
    orig = {k: to_grey(v, size) for k, v in original.items()}
    eo = motion_energy(orig, pairs, masks)
    es = motion_energy(synthetic, pairs, masks)
    rows = []
    for name in masks:
        ratio = es[name] / eo[name] if np.isfinite(eo[name]) and eo[name] >= MIN_ENERGY_PX else float("nan")
        rows.append({"video": video, "region": name, "pairs": len(pairs), "energy_original": eo[name],
                     "energy_synthetic": es[name], "ratio": ratio})
    return pd.DataFrame(rows)

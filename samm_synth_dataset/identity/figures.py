"""The identity section's figures: one point per video (median distance of the synthetic face to the original
and to the reference, Figure 9) and strips of original | synthetic | reference at one frame (Figure 10). Distances
are dlib ResNet descriptor distances (Euclidean, 128-D); images are uint8 RGB or greyscale."""

from __future__ import annotations

from typing import Mapping, Sequence

import cv2
import numpy as np
from matplotlib.figure import Figure

from samm_synth_dataset.identity import descriptor as identity
from samm_synth_dataset.metrics.document import subplots


def plot_identity_scatter(results: Sequence[identity.VideoIdentity], methods: Mapping[str, str] | None = None) -> Figure:
    """One point per video: x = median distance synthetic↔original, y = median distance synthetic↔reference,
    colour by method (``methods``: video → method name). The threshold is drawn on both axes; videos without
    both medians are left out and counted in the title."""
    methods = methods or {}
    if len({r.threshold for r in results}) > 1:
        raise ValueError("the videos were judged against different thresholds; use with_threshold to align them")
    threshold = results[0].threshold if results else identity.DEFAULT_THRESHOLD
    fig, ax = subplots(figsize=(5.2, 4.4))
    by_method: dict[str, list[tuple[float, float]]] = {}
    left_out = 0
    for r in results:
        x, y = r.median_synthetic_original, r.median_synthetic_reference
        if x is None or y is None:
            left_out += 1
            continue
        by_method.setdefault(methods.get(r.video, "unknown method"), []).append((x, y))
    top = max([threshold * 1.5] + [v for pts in by_method.values() for p in pts for v in p]) * 1.05
    for i, (method, pts) in enumerate(sorted(by_method.items())):
        xy = np.asarray(pts)
        ax.scatter(xy[:, 0], xy[:, 1], s=28, color=f"C{i}", label=f"{method} ({len(pts)})", alpha=0.85)
    ax.axvline(threshold, color="k", ls="--", lw=1)
    ax.axhline(threshold, color="k", ls=":", lw=1)
    ax.text(threshold * 0.5, top * 0.98, "still the\nsource person", ha="center", va="top", fontsize=8)
    ax.text(threshold + (top - threshold) / 2, top * 0.98, "another\nperson", ha="center", va="top", fontsize=8)
    ax.set_xlim(-0.02 * top, top)
    ax.set_ylim(-0.02 * top, top)
    ax.set_xlabel("median distance, synthetic ↔ original")
    ax.set_ylabel("median distance, synthetic ↔ reference")
    if by_method:
        ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    title = f"Identity per video (dlib ResNet, threshold {threshold:g}: dashed/dotted)"
    if left_out:
        title += f"\n{left_out} video(s) left out: no face measured"
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def strip_image(original: np.ndarray, synthetic: np.ndarray, reference: np.ndarray, height: int = 128,
                gap: int = 4) -> np.ndarray:
    """original | synthetic | reference side by side as one uint8 RGB image ``height`` px high (each resized
    keeping its aspect ratio; white gaps of ``gap`` px)."""
    panels = []
    for name, image in (("original", original), ("synthetic", synthetic), ("reference", reference)):
        rgb = identity.as_rgb(image, f"strip {name}")
        w = max(1, round(rgb.shape[1] * height / rgb.shape[0]))
        panels.append(cv2.resize(rgb, (w, height), interpolation=cv2.INTER_AREA))
    spacer = np.full((height, gap, 3), 255, dtype=np.uint8)
    return np.concatenate([panels[0], spacer, panels[1], spacer, panels[2]], axis=1)


def plot_strips(items: Sequence[tuple[identity.VideoIdentity, int, np.ndarray, np.ndarray, np.ndarray]]) -> Figure:
    """One row per video: its original | synthetic | reference at one sampled frame, titled with that frame's
    and the video's median distances. ``items``: ``(result, source frame, original, synthetic, reference)``."""
    n = len(items)
    if n == 0:
        raise ValueError("no videos to show")
    fig, axes = subplots(n, 3, figsize=(6.6, 2.3 * n + 0.5), squeeze=False)
    heads = ("original", "synthetic", "reference")
    for i, (r, frame, o, s, ref) in enumerate(items):
        pos = r.frames.index(int(frame)) if int(frame) in r.frames else None
        d_so = r.synthetic_to_original[pos] if pos is not None else None
        d_sr = r.synthetic_to_reference[pos] if pos is not None else None
        for j, img in enumerate((o, s, ref)):
            ax = axes[i, j]
            ax.imshow(identity.as_rgb(img, f"video {r.video} {heads[j]}"))
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(heads[j], fontsize=9)
        axes[i, 1].set_xlabel(f"to original {_fmt(d_so)}, to reference {_fmt(d_sr)}", fontsize=7)
        axes[i, 0].set_ylabel(f"{r.video}\nframe {frame}\nmedian {_fmt(r.median_synthetic_original)}\n"
                              f"{r.verdict()}", fontsize=7)
    fig.suptitle(f"Sample frames (distances: dlib ResNet, threshold {items[0][0].threshold:g})", fontsize=9)
    fig.tight_layout()
    return fig


def _fmt(d: float | None) -> str:
    return "no face" if d is None else f"{d:.2f}"

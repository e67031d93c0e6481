"""Dense optical flow (Farneback) between onset and apex, original vs synthetic: the paper's Figure 6 and more.

Flow convention (OpenCV): ``flow`` is float32 H×W×2 of (dx, dy) in pixels with
``prev(y, x) ≈ next(y + dy, x + dx)``: it points where the content of ``prev`` moved to in ``next``.
Both videos are compared in the synthetic frame's pixels: the original frame goes through the video's
``FaceCrop`` and is resized to the synthetic size, both are greyscale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import cv2
import numpy as np
from matplotlib.figure import Figure

from samm_synth_dataset.metrics.document import subplots

#: Farneback parameters (OpenCV dense-flow tutorial; MEGC2020 spotting baseline).
FARNEBACK: dict[str, float | int] = {
    "pyr_scale": 0.5, "levels": 3, "winsize": 15, "iterations": 3, "poly_n": 5, "poly_sigma": 1.2, "flags": 0,
}
#: A pixel "moves" when its flow magnitude exceeds this many pixels (cosine similarity is taken there).
MOVING_THRESHOLD_PX = 0.2


def to_grey(image: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """uint8 greyscale of an H×W or H×W×3 RGB image, optionally resized to ``size`` = (width, height)."""
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    if size is not None and (grey.shape[1], grey.shape[0]) != tuple(size):
        interp = cv2.INTER_AREA if grey.shape[1] > size[0] else cv2.INTER_LINEAR
        grey = cv2.resize(grey, tuple(size), interpolation=interp)
    return np.ascontiguousarray(grey)


def farneback(prev: np.ndarray, next_: np.ndarray, params: Mapping[str, float | int] | None = None) -> np.ndarray:
    """Farneback flow from ``prev`` to ``next_`` (uint8 greyscale or RGB, same size): float32 H×W×2 (dx, dy)."""
    p = {**FARNEBACK, **(params or {})}
    a, b = to_grey(prev), to_grey(next_)
    if a.shape != b.shape:
        raise ValueError(f"frames differ in size: {a.shape} vs {b.shape}")
    return cv2.calcOpticalFlowFarneback(a, b, None, p["pyr_scale"], int(p["levels"]), int(p["winsize"]),
                                        int(p["iterations"]), int(p["poly_n"]), p["poly_sigma"], int(p["flags"]))


def magnitude(flow: np.ndarray) -> np.ndarray:
    """Per-pixel flow magnitude (px)."""
    return np.hypot(flow[..., 0], flow[..., 1])


def flow_to_rgb(flow: np.ndarray, max_magnitude: float) -> np.ndarray:
    """HSV visualisation on a FIXED scale: hue = direction (OpenCV hue 0-179 = angle/2), saturation 255,
    value = 255 · min(|flow| / max_magnitude, 1). Same ``max_magnitude`` ⇒ comparable brightness. RGB uint8."""
    if max_magnitude <= 0:
        raise ValueError("max_magnitude must be > 0")
    mag, ang = cv2.cartToPolar(flow[..., 0].astype(np.float32), flow[..., 1].astype(np.float32))
    hsv = np.empty(flow.shape[:2] + (3,), dtype=np.uint8)
    hsv[..., 0] = (ang * (90.0 / np.pi)).astype(np.uint8) % 180
    hsv[..., 1] = 255
    hsv[..., 2] = np.clip(mag / max_magnitude * 255.0, 0, 255).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def optical_strain(flow: np.ndarray) -> np.ndarray:
    """Optical strain magnitude ``sqrt(u_x² + v_y² + ½(u_y + v_x)²)`` (central differences, ``np.gradient``);
    dimensionless, H×W float32."""
    u = flow[..., 0].astype(np.float64)
    v = flow[..., 1].astype(np.float64)
    u_y, u_x = np.gradient(u)
    v_y, v_x = np.gradient(v)
    return np.sqrt(u_x ** 2 + v_y ** 2 + 0.5 * (u_y + v_x) ** 2).astype(np.float32)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    # numpy's own sums, not BLAS dot products: the same bits whatever the number of BLAS threads
    a = a - a.mean()
    b = b - b.mean()
    den = float(np.sqrt(np.sum(a * a) * np.sum(b * b)))
    return float(np.clip(np.sum(a * b) / den, -1, 1)) if den > 0 else float("nan")


def compare_flows(reference: np.ndarray, candidate: np.ndarray, masks: Mapping[str, np.ndarray],
                  moving_threshold: float = MOVING_THRESHOLD_PX) -> dict[str, dict[str, float]]:
    """Similarity of two flows of the same size, per region mask.

    Per region: ``epe`` mean endpoint error ‖F_ref − F_cand‖ (px); ``cosine`` mean cosine similarity over pixels
    where BOTH magnitudes exceed ``moving_threshold`` px (NaN when none); ``moving`` the fraction of such pixels;
    ``magnitude_r`` Pearson r of the per-pixel magnitudes (NaN when either is constant); ``mag_ref`` /
    ``mag_cand`` mean magnitudes (px); ``strain_ref`` / ``strain_cand`` mean optical strain.
    """
    if reference.shape != candidate.shape:
        raise ValueError(f"flows differ in shape: {reference.shape} vs {candidate.shape}")
    mr, mc = magnitude(reference), magnitude(candidate)
    sr, sc = optical_strain(reference), optical_strain(candidate)
    err = magnitude(reference - candidate)
    dot = reference[..., 0] * candidate[..., 0] + reference[..., 1] * candidate[..., 1]
    both = (mr > moving_threshold) & (mc > moving_threshold)
    out: dict[str, dict[str, float]] = {}
    for name, m in masks.items():
        mv = m & both
        cos = dot[mv] / (mr[mv] * mc[mv])
        out[name] = {
            "epe": float(err[m].mean()),
            "cosine": float(cos.mean()) if cos.size else float("nan"),
            "moving": float(mv.sum() / max(1, m.sum())),
            "magnitude_r": _pearson(mr[m].astype(np.float64), mc[m].astype(np.float64)),
            "mag_ref": float(mr[m].mean()),
            "mag_cand": float(mc[m].mean()),
            "strain_ref": float(sr[m].mean()),
            "strain_cand": float(sc[m].mean()),
        }
    return out


@dataclass
class IntervalFlow:
    """Onset→apex flows of one interval: original (cropped, resized) and synthetic, in synthetic pixels."""

    interval_id: str
    video: str
    kind: str
    onset: int
    apex: int
    original: np.ndarray
    synthetic: np.ndarray
    original_apex: np.ndarray   # apex frames as given (original resized), for the figure
    synthetic_apex: np.ndarray


def interval_flow(interval_id: str, video: str, kind: str, onset: int, apex: int,
                  original_frames: tuple[np.ndarray, np.ndarray], synthetic_frames: tuple[np.ndarray, np.ndarray],
                  params: Mapping[str, float | int] | None = None) -> IntervalFlow:
    """Flows onset→apex for one interval. ``original_frames`` are (onset, apex) already cropped by the video's
    ``FaceCrop``; they are resized to the synthetic frames' size. All are converted to greyscale."""
    s_on, s_ap = (to_grey(f) for f in synthetic_frames)
    size = (s_on.shape[1], s_on.shape[0])
    o_on, o_ap = (to_grey(f, size) for f in original_frames)
    o_show = original_frames[1]
    if (o_show.shape[1], o_show.shape[0]) != size:
        o_show = cv2.resize(o_show, size, interpolation=cv2.INTER_AREA)
    return IntervalFlow(interval_id, video, kind, onset, apex, farneback(o_on, o_ap, params),
                        farneback(s_on, s_ap, params), o_show, synthetic_frames[1])


def shared_scale(flows: Sequence[np.ndarray], percentile: float = 90.0,
                 floor: float = MOVING_THRESHOLD_PX) -> float:
    """One robust display scale (px) for a set of flows: the ``percentile`` of the magnitudes of the pixels that
    move (more than ``MOVING_THRESHOLD_PX``), pooled over the flows, at least ``floor`` px. Static pixels (most
    of a face) and a few fast outliers (edges, background) do not set it, so the motion is visible; faster
    pixels saturate."""
    if not flows:
        return floor
    mags = np.concatenate([magnitude(f).ravel() for f in flows])
    moving = mags[mags > MOVING_THRESHOLD_PX]
    return float(max(floor, np.percentile(moving, percentile))) if moving.size else floor


def flow_overlay(flow: np.ndarray, max_magnitude: float, background: np.ndarray) -> np.ndarray:
    """The flow over its frame: hue = direction (as :func:`flow_to_rgb`, full saturation and value), opacity =
    speed, ``min(|flow| / max_magnitude, 1)``; where nothing moves the frame shows, greyscale at half brightness
    (``background``: H×W or H×W×3 uint8, RGB). RGB uint8."""
    if max_magnitude <= 0:
        raise ValueError("max_magnitude must be > 0")
    mag, ang = cv2.cartToPolar(flow[..., 0].astype(np.float32), flow[..., 1].astype(np.float32))
    hsv = np.full(flow.shape[:2] + (3,), 255, dtype=np.uint8)
    hsv[..., 0] = (ang * (90.0 / np.pi)).astype(np.uint8) % 180
    colour = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).astype(np.float32)
    grey = to_grey(background, (flow.shape[1], flow.shape[0])).astype(np.float32)[..., None] * 0.5
    alpha = np.clip(mag / max_magnitude, 0.0, 1.0)[..., None]
    return np.rint(alpha * colour + (1.0 - alpha) * grey).astype(np.uint8)


def wheel_key(size: int = 121) -> np.ndarray:
    """The key of :func:`flow_overlay`: a ``size``×``size`` RGB disc whose pixel at (x, y) from the centre shows
    the flow (x, y) / radius at scale 1 over mid grey (hue = direction in image axes, x right and y DOWN; opacity =
    speed: grey at the centre, full colour at the rim); white outside the disc."""
    r = (size - 1) / 2
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    flow = np.stack([(x - r) / r, (y - r) / r], axis=-1)
    rgb = flow_overlay(flow, 1.0, np.full((size, size), 255, np.uint8))
    rgb[np.hypot(flow[..., 0], flow[..., 1]) > 1.0] = 255
    return rgb


def plot_flow_grid(items: Sequence[IntervalFlow], scales: Sequence[float]) -> Figure:
    """Fig 6: per interval, the original and synthetic apex frames and their onset→apex flows drawn over the apex
    frame (:func:`flow_overlay`: hue = direction, opacity = speed, full at ``scales[i]`` px for row i, the same for
    its two flows), and a key: the colour wheel (direction) whose radius is the speed (rim = the row's scale)."""
    from matplotlib.patches import Circle

    n = len(items)
    if len(scales) != n:
        raise ValueError(f"one scale per interval: {n} intervals, {len(scales)} scales")
    fig, axes = subplots(n, 5, figsize=(10.0, 2.2 * max(n, 2) + 0.6), squeeze=False,
                         gridspec_kw={"width_ratios": [1, 1, 1, 1, 1.1]})
    heads = ("original apex", "synthetic apex", "original flow", "synthetic flow")
    for i, (it, scale) in enumerate(zip(items, scales)):
        panels = (it.original_apex, it.synthetic_apex, flow_overlay(it.original, scale, it.original_apex),
                  flow_overlay(it.synthetic, scale, it.synthetic_apex))
        for j, img in enumerate(panels):
            ax = axes[i, j]
            ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(heads[j], fontsize=9)
        axes[i, 0].set_ylabel(f"{it.video}\n{it.kind} {it.onset}→{it.apex}", fontsize=7)
        axes[i, 3].yaxis.set_label_position("right")
        axes[i, 3].set_ylabel(f"full at {scale:.2f} px", fontsize=7)
        axes[i, 4].axis("off")
    key = axes[0, 4]
    size = 121
    c = (size - 1) / 2
    key.imshow(wheel_key(size))
    key.add_patch(Circle((c, c), c / 2, fill=False, ls="--", lw=0.7, color="black"))
    key.text(c + c / 2 * 0.72, c - c / 2 * 0.72, "½", fontsize=7, ha="left", va="bottom")
    pad = 0.1 * size
    for text, (dx, dy) in {"→ right": (1, 0), "↓ down": (0, 1), "left ←": (-1, 0), "↑ up": (0, -1)}.items():
        key.text(c + dx * (c + 3), c + dy * (c + 3), text, fontsize=7,
                 ha="center" if dx == 0 else ("left" if dx > 0 else "right"),
                 va="center" if dy == 0 else ("top" if dy > 0 else "bottom"))
    key.set_xlim(-3 * pad, size + 3 * pad)
    key.set_ylim(size + 2 * pad, -2 * pad)
    key.set_title("key: hue = direction", fontsize=8)
    key.text(c, size + 2.2 * pad, "radius = speed: centre still,\ndashed ½, rim ≥ the row's\n\"full at\" speed",
             fontsize=7, ha="center", va="top")
    fig.suptitle("Onset→apex Farneback flow over the apex frame; hue = direction, opacity = speed, full at each "
                 f"row's scale (90th percentile of its moving pixels, > {MOVING_THRESHOLD_PX} px)", fontsize=8)
    fig.tight_layout()
    return fig

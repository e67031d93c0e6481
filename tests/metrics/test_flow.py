"""Farneback flow validated on the demo corpus's known warps, the flow measures, HSV images and strain."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from samm_synth_dataset.metrics import flow as F
from samm_synth_dataset.metrics.regions import region_masks


def _field_to_crop(field: np.ndarray, crop) -> np.ndarray:
    """A source-pixel displacement field sampled at the crop's pixel centres, in crop pixels."""
    s = crop.w / crop.size
    u = np.arange(crop.size, dtype=np.float32)
    mx, my = np.meshgrid(crop.x + (u + 0.5) * s - 0.5, crop.y + (u + 0.5) * s - 0.5)
    return cv2.remap(field, mx.astype(np.float32), my.astype(np.float32), cv2.INTER_LINEAR) / s


@pytest.fixture(scope="module")
def warps(demo_corpus):
    """(estimated flow, true flow) per labelled event: neutral frame → apex frame of the real corpus JPEGs,
    through the video's face crop at 256×256 (as the report compares them)."""
    from samm_synth_dataset.faces import locate_face
    from samm_synth_dataset.sources import list_videos, read_frames_at
    from samm_synth_dataset.demo.corpus import load_displacement_table, load_ground_truth, true_displacement

    _, events = load_ground_truth(demo_corpus.root)
    disp = load_displacement_table(demo_corpus.root)
    videos = {v.video: v for v in list_videos(demo_corpus.root, "samm-lv")}
    out = []
    for ev in events[events["labelled"] & (events["component"] == 1)].itertuples():
        v = videos[ev.video]
        if int(ev.apex) not in v.frame_numbers:
            continue
        moving = disp[disp["video"] == ev.video].groupby("frame")["max_magnitude"].max()
        neutral = int(moving[moving == 0].index[0])
        crop = locate_face(v, size=256)
        pos = {f: i for i, f in enumerate(v.frame_numbers)}
        imgs = {f: img for _, f, img in read_frames_at(v, [pos[neutral], pos[int(ev.apex)]])}
        est = F.farneback(crop.apply(imgs[neutral]), crop.apply(imgs[int(ev.apex)]))
        true = _field_to_crop(true_displacement(demo_corpus.root, ev.video, int(ev.apex)), crop)
        out.append((ev.event, ev.kind, est, true))
    assert len(out) >= 6
    return out


def test_flow_matches_known_warps(warps) -> None:
    """Moving regions (|true| ≥ 25 % of its peak): mean EPE ≤ 0.35 × mean true displacement and mean cosine
    ≥ 0.9 over all events; static regions (≥ 15 px from any true motion ≥ 0.01 px): mean EPE < 0.05 px."""
    err_sum = true_sum = cos_sum = n_moving = 0.0
    static_err = []
    for event, kind, est, true in warps:
        tm = F.magnitude(true)
        moving = tm >= 0.25 * tm.max()
        err = F.magnitude(est - true)
        cos = (est * true).sum(-1) / np.maximum(F.magnitude(est) * tm, 1e-12)
        err_sum += float(err[moving].sum())
        true_sum += float(tm[moving].sum())
        cos_sum += float(cos[moving].sum())
        n_moving += int(moving.sum())
        static = ~cv2.dilate((tm >= 0.01).astype(np.uint8), np.ones((31, 31), np.uint8)).astype(bool)
        static_err.append(float(err[static].mean()))
        # every single event is still close (the converging AU4 brow warps are the hardest, ~0.42 / 0.87)
        assert err[moving].mean() <= 0.5 * tm[moving].mean(), event
        assert cos[moving].mean() >= 0.85, event
    assert err_sum / true_sum <= 0.35
    assert cos_sum / n_moving >= 0.9
    assert max(static_err) < 0.05


def test_compare_flows_measures() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, (32, 32, 2)).astype(np.float32)
    masks = region_masks(32)
    same = F.compare_flows(a, a, masks)["face"]
    assert same["epe"] == 0 and same["cosine"] == pytest.approx(1, abs=1e-6) and same["magnitude_r"] == pytest.approx(1)
    opp = F.compare_flows(a, -a, masks)["face"]
    assert opp["cosine"] == pytest.approx(-1, abs=1e-6)
    assert opp["epe"] == pytest.approx(float(np.mean(2 * F.magnitude(a))), rel=1e-5)
    rot = np.stack([-a[..., 1], a[..., 0]], -1)                         # 90° rotation
    r = F.compare_flows(a, rot, masks)["face"]
    assert abs(r["cosine"]) < 1e-5 and r["magnitude_r"] == pytest.approx(1)
    zero = F.compare_flows(np.zeros_like(a), a, masks)["face"]
    assert np.isnan(zero["cosine"]) and np.isnan(zero["magnitude_r"]) and zero["moving"] == 0
    with pytest.raises(ValueError):
        F.compare_flows(a, a[:16], masks)


def test_optical_strain() -> None:
    y, x = np.mgrid[0:20, 0:20].astype(np.float64)
    # u = 0.1 x (stretch along x), v = 0: |ε| = 0.1; a pure translation has no strain
    flow = np.stack([0.1 * x, np.zeros_like(x)], -1)
    np.testing.assert_allclose(F.optical_strain(flow), 0.1, atol=1e-6)
    np.testing.assert_allclose(F.optical_strain(np.ones((20, 20, 2))), 0.0)
    # shear u = 0.2 y: ε_xy = 0.1 → sqrt(0.5 · 0.2²)
    np.testing.assert_allclose(F.optical_strain(np.stack([0.2 * y, np.zeros_like(y)], -1)), np.sqrt(0.02), atol=1e-6)


def test_flow_to_rgb_fixed_scale() -> None:
    flow = np.zeros((4, 4, 2), np.float32)
    flow[0, 0] = (1.0, 0.0)
    flow[0, 1] = (2.0, 0.0)
    flow[0, 2] = (0.0, 4.0)
    img = F.flow_to_rgb(flow, max_magnitude=2.0)
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    assert hsv[0, 0, 2] == pytest.approx(127, abs=2) and hsv[0, 1, 2] == 255 and hsv[0, 2, 2] == 255
    assert hsv[1, 1, 2] == 0
    assert hsv[0, 0, 0] == pytest.approx(0, abs=1) and hsv[0, 2, 0] == pytest.approx(45, abs=1)   # 90° → hue 45
    # same scale → same brightness for the same speed in another image
    assert F.flow_to_rgb(flow[:, :2], 2.0)[0, 0].tolist() == img[0, 0].tolist()


def test_interval_flow_resizes_original() -> None:
    rng = np.random.default_rng(1)
    base = cv2.GaussianBlur(rng.integers(0, 255, (128, 128), dtype=np.uint8), (0, 0), 3)
    shifted = np.roll(base, 2, axis=1)
    big = (cv2.resize(base, (256, 256)), cv2.resize(shifted, (256, 256)))      # original at twice the size
    rgb = tuple(np.repeat(f[..., None], 3, axis=2) for f in (base, shifted))
    it = F.interval_flow("v/1", "v", "ME", 1, 5, big, rgb)
    assert it.original.shape == it.synthetic.shape == (128, 128, 2)
    inner = (slice(20, 108), slice(20, 108))
    ms, mo = np.median(it.synthetic[inner][..., 0]), np.median(it.original[inner][..., 0])
    assert 1.3 < ms < 2.3 and mo == pytest.approx(ms, abs=0.15)        # both measured in synthetic pixels
    assert np.abs(it.synthetic[inner][..., 1]).mean() < 0.2
    assert it.synthetic_apex.ndim == 3 and it.original_apex.shape == (128, 128)


def test_flow_overlay_and_its_key() -> None:
    """Issue 25 item 4: the flow is drawn over its frame (opacity = speed, grey where still) and the key's colours
    are the panels' colours: the wheel's pixel in a direction at the rim equals a panel pixel moving that way at
    full scale."""
    background = np.full((4, 4), 200, np.uint8)
    flow = np.zeros((4, 4, 2), np.float32)
    flow[0, 0] = (2.0, 0.0)                 # right, full scale
    flow[0, 1] = (0.0, 1.0)                 # down, half scale
    img = F.flow_overlay(flow, 2.0, background)
    assert img[3, 3].tolist() == [100, 100, 100]                         # still: the frame at half brightness
    assert img[0, 0].tolist() == [255, 0, 0]                             # right = red, full colour
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    assert hsv[0, 1, 0] == pytest.approx(45, abs=2)                      # down = OpenCV hue 45 (90°), as flow_to_rgb
    assert 100 < int(img[0, 1].max()) < 255                              # half speed: half way to the colour
    key = F.wheel_key(101)
    assert key[50, 100].tolist() == [255, 0, 0] and key[0, 0].tolist() == [255, 255, 255]
    down = F.flow_overlay(np.array([[[0.0, 1.0]]], np.float32), 1.0, np.zeros((1, 1), np.uint8))[0, 0]
    assert np.abs(key[100, 50].astype(int) - down.astype(int)).max() <= 2
    with pytest.raises(ValueError):
        F.flow_overlay(flow, 0.0, background)


def test_shared_scale_is_robust_to_static_pixels_and_outliers() -> None:
    """The display scale is a percentile of the MOVING pixels: a face that is mostly still, with a few fast
    outliers at the border, still gets a scale near its real motion (so the motion is visible)."""
    flow = np.zeros((100, 100, 2), np.float32)
    flow[40:60, 40:60, 0] = 0.5                                          # 4% of the pixels move 0.5 px
    flow[0, :5, 0] = 40.0                                                # five outliers
    assert F.shared_scale([flow]) == pytest.approx(0.5)
    assert F.shared_scale([np.zeros((8, 8, 2), np.float32)]) == F.MOVING_THRESHOLD_PX   # nothing moves: the floor
    assert F.shared_scale([]) == F.MOVING_THRESHOLD_PX


def test_flow_grid_figure_is_deterministic(tmp_path) -> None:
    from samm_synth_dataset.metrics.document import save_figure

    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
    flow = np.zeros((32, 32, 2), np.float32)
    flow[10:20, 10:20] = (0.3, -0.4)
    items = [F.IntervalFlow("v/1", "v", "ME", 1, 5, flow, flow * 0.9, frame, frame)]
    names = [save_figure(F.plot_flow_grid(items, [0.5]), tmp_path / f"f{i}.png") for i in range(2)]
    assert (tmp_path / names[0]).read_bytes() == (tmp_path / names[1]).read_bytes()
    with pytest.raises(ValueError, match="one scale per interval"):
        F.plot_flow_grid(items, [0.5, 1.0])

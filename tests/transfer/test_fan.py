"""FAN mask preprocessing against the spec (§1.9): which landmark channels feed the coarse and fine masks, the
row shifts, thresholds and ranges; plus the network's coordinate channels and the masks of a loaded model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from samm_synth_dataset.transfer.fan import FAN, AddCoords, heatmaps_to_masks

from .conftest import face_images

ROW, COL = 120, 128


def _blob(channel: int, row: int = ROW, peak: float = 1.0) -> torch.Tensor:
    """1×98×256×256 heatmaps: zeros except a Gaussian blob (sigma 3 px) in one channel."""
    yy, xx = torch.meshgrid(torch.arange(256.0), torch.arange(256.0), indexing="ij")
    h = torch.zeros(1, 98, 256, 256)
    h[0, channel] = peak * torch.exp(-((yy - row) ** 2 + (xx - COL) ** 2) / (2 * 3.0 ** 2))
    return h


def _peak_rows(mask: torch.Tensor) -> list[int]:
    col = mask[0, 0, :, COL]
    return sorted(int(r) for r in torch.nonzero(col == col.max()).flatten())


# channel → (feeds coarse, feeds fine), from the spec's zeroing lists and the fine mask's dropped groups
ROUTES = {
    0: (False, False), 7: (False, False), 25: (False, False), 32: (False, False),  # contour outside the chin
    8: (True, False), 24: (True, False),                                          # chin
    33: (False, False), 46: (False, False), 34: (True, False), 50: (True, False),  # eyebrows (edges zeroed)
    51: (True, True), 53: (True, True), 57: (True, True),                         # nose, nostrils
    60: (True, True), 75: (True, True),                                           # eyes
    76: (False, False), 82: (False, False), 77: (True, False), 90: (True, False), 95: (True, False),  # mouth
    96: (True, True), 97: (True, True),                                           # pupils
}


@pytest.mark.parametrize("channel", sorted(ROUTES))
def test_which_landmark_channels_feed_which_mask(channel):
    coarse, fine = heatmaps_to_masks(_blob(channel))
    assert coarse.shape == fine.shape == (1, 1, 256, 256)
    want_coarse, want_fine = ROUTES[channel]
    assert bool(coarse.max() > 0.5) is want_coarse
    assert bool(fine.max() > 0.5) is want_fine


@pytest.mark.parametrize("channel,rows", [
    (34, [ROW + 7]),        # eyebrows move down 7
    (57, [ROW - 8]),        # nostrils up 8
    (78, [ROW + 8]),        # upper lip down 8
    (85, [ROW - 8]),        # lower lip up 8
    (90, [ROW + 2]),        # inner lip down 2
    (10, [ROW]),            # chin not moved
    (53, [ROW - 4]),        # nose 52:55 up 4
    (51, [ROW]),            # nose tip channel 51 not moved
    (96, [ROW]),            # pupils untouched
])
def test_part_shifts(channel, rows):
    coarse, _ = heatmaps_to_masks(_blob(channel))
    assert _peak_rows(coarse) == rows


def test_eyes_are_cubed_down_8_plus_down_24():
    coarse, _ = heatmaps_to_masks(_blob(65))
    col = coarse[0, 0, :, COL]
    assert col[ROW + 8] == pytest.approx(1.0, abs=1e-4) and col[ROW + 24] == pytest.approx(1.0, abs=1e-4)
    assert col[ROW] < 0.05
    # the cubed copy is narrower than the plain one
    assert col[ROW + 8 + 3] < col[ROW + 24 + 3]


def test_values_below_threshold_are_ignored_and_channels_min_max_normalised():
    coarse, _ = heatmaps_to_masks(_blob(60, peak=0.09))
    assert torch.count_nonzero(coarse) == 0
    weak, _ = heatmaps_to_masks(_blob(96, peak=0.5))  # normalised per channel: a weak peak still reaches ~1
    assert weak.max() == pytest.approx(1.0, abs=1e-4)


def test_masks_sum_channels_and_clip_to_unit_range():
    torch.manual_seed(0)
    coarse, fine = heatmaps_to_masks(torch.rand(2, 98, 256, 256) * 3 - 1)
    for m in (coarse, fine):
        assert m.min() >= 0 and m.max() <= 1
    assert (coarse >= fine - 1e-6).all()  # the fine set is a subset of the coarse one, both non-negative
    assert coarse.max() == 1.0


def test_add_coords_rows_then_columns_then_radius():
    coords = AddCoords(4, 5, with_r=True)(torch.zeros(1, 1, 4, 5))
    assert coords.shape == (1, 4, 4, 5)
    torch.testing.assert_close(coords[0, 1, :, 0], torch.linspace(-1, 1, 4))  # xx varies along rows
    torch.testing.assert_close(coords[0, 2, 0, :], torch.linspace(-1, 1, 5))  # yy along columns
    assert coords[0, 3].max() == pytest.approx(1.0)


def test_fan_forward_shape():
    fan = FAN().eval()
    with torch.inference_mode():
        assert fan(torch.rand(1, 3, 256, 256)).shape == (1, 99, 64, 64)


def test_model_masks_from_sources(celeba_model):
    x = face_images(2)
    coarse, fine = celeba_model.masks(x)
    assert coarse.shape == fine.shape == (2, 1, 256, 256) and coarse.dtype == torch.float32
    for m in (coarse, fine):
        assert m.min() >= 0 and m.max() <= 1
    assert 0 < float(coarse.mean()) < 1  # the calibrated random FAN gives partial masks
    other, _ = celeba_model.masks(face_images(1, seed=5))
    assert not torch.equal(other[0], coarse[0])


def _official_preprocess(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The spec's step list (§1.9, preprocess), written literally, for H = 256."""
    def shift(t, k):  # content moves k rows up
        return torch.roll(t, -k, dims=2)

    x = x.clone()
    x[x < 0.1] = 0
    n, c = x.shape[:2]
    flat = x.reshape(n, c, -1)
    lo, hi = flat.min(2, keepdim=True).values, flat.max(2, keepdim=True).values
    x = ((flat - lo) / (hi - lo + 1e-6)).reshape(x.shape)
    for start, end, k, p in [(8, 25, 0, 3), (33, 51, -7, 2), (55, 60, 8, 4), (77, 82, -8, 4), (83, 88, 8, 4),
                             (88, 96, -2, 3)]:
        x[:, start:end] = shift(x[:, start:end], k) ** p
    x[:, [*range(0, 8), *range(25, 33), 33, 46, 76, 82]] = 0
    x[:, 52:55] = shift(x[:, 52:55], 4)
    x[:, 60:76] = shift(x[:, 60:76], -8) ** 3 + shift(x[:, 60:76], -24)
    x2 = x.clone()
    x2[:, 8:25] = 0
    x2[:, 76:96] = 0
    x2[:, 33:51] = 0
    return x.sum(1, keepdim=True).clamp(0, 1), x2.sum(1, keepdim=True).clamp(0, 1)


def test_equals_the_literal_official_steps():
    torch.manual_seed(1)
    low = torch.rand(2, 98, 64, 64) ** 40 * 1.5 - 0.05  # sparse peaks, some negative values
    h = torch.nn.functional.interpolate(low, size=(256, 256), mode="bilinear", align_corners=True)
    for ours, ref in zip(heatmaps_to_masks(h), _official_preprocess(h)):
        torch.testing.assert_close(ours, ref, atol=1e-5, rtol=0)
        assert 0.02 < float(ref.mean()) < 0.98  # a non-trivial case


def _get_preds_fromhm_literal(hm: torch.Tensor) -> torch.Tensor:
    """face-alignment's get_preds_fromhm written out point by point (1-based argmax, quarter-pixel step toward
    the larger neighbour for interior points, minus 0.5), as StarGAN v2's get_landmark calls it."""
    n, c, h, w = hm.shape
    out = torch.zeros(n, c, 2)
    for i in range(n):
        for j in range(c):
            idx = int(hm[i, j].reshape(-1).argmax()) + 1
            x, y = float((idx - 1) % w + 1), float((idx - 1) // h + 1)
            px, py = int(x) - 1, int(y) - 1
            if 0 < px < 63 and 0 < py < 63:
                x += 0.25 * float(torch.sign(hm[i, j, py, px + 1] - hm[i, j, py, px - 1]))
                y += 0.25 * float(torch.sign(hm[i, j, py + 1, px] - hm[i, j, py - 1, px]))
            out[i, j] = torch.tensor([x - 0.5, y - 0.5])
    return out


def test_landmarks_equal_the_official_argmax_rule():
    from samm_synth_dataset.transfer.fan import heatmaps_to_landmarks

    gen = torch.Generator().manual_seed(0)
    hm = torch.rand(2, 98, 64, 64, generator=gen)
    hm[0, 0] = 0
    hm[0, 0, 20, 10], hm[0, 0, 20, 11], hm[0, 0, 19, 10] = 1.0, 0.5, 0.4  # larger neighbours: right, up
    hm[0, 1] = 0
    hm[0, 1, 0, 5] = 1.0  # on the border: no quarter-pixel step
    got = heatmaps_to_landmarks(hm)
    torch.testing.assert_close(got, _get_preds_fromhm_literal(hm) * 4)
    assert got[0, 0].tolist() == [(10 + 1 + 0.25 - 0.5) * 4, (20 + 1 - 0.25 - 0.5) * 4]
    assert got[0, 1].tolist() == [(5 + 0.5) * 4, 0.5 * 4]


def test_model_landmarks_in_crop_pixels(celeba_model):
    from samm_synth_dataset.transfer.fan import heatmaps_to_landmarks

    frames = np.full((2, 64, 64, 3), 120, np.uint8)
    frames[1, 20:40, 20:40] = 200
    points = celeba_model.landmarks(frames)
    assert points.shape == (2, 98, 2) and points.dtype == np.float64
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255 * 2 - 1
    with torch.inference_mode():
        x256 = torch.nn.functional.interpolate(x, size=(256, 256), mode="bilinear", align_corners=False)
        raw = celeba_model.fan(x256 * 0.5 + 0.5)[:, :98]
    np.testing.assert_allclose(points, heatmaps_to_landmarks(raw).double().numpy() * 64 / 256, atol=1e-9)
    assert ((points >= 0) & (points <= 64)).all()

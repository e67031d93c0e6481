"""Temporal stability: quiet frame pairs and motion energy."""

from __future__ import annotations

import numpy as np
import pytest

from samm_synth_dataset.metrics.regions import FRACTIONS, region_boxes, region_masks
from samm_synth_dataset.metrics.stability import quiet_pairs, stability_table


def test_quiet_pairs_avoid_intervals() -> None:
    frames = list(range(1, 101))
    pairs = quiet_pairs(frames, [(20, 30), (60, 61)], step=2, margin=5, max_pairs=100)
    for a, b in pairs:
        assert b == a + 2
        for on, off in [(20, 30), (60, 61)]:
            assert not (on - 5 <= a <= off + 5) and not (on - 5 <= b <= off + 5)
    assert (12, 14) in pairs and (13, 15) not in pairs and (98, 100) in pairs and (99, 101) not in pairs
    few = quiet_pairs(frames, [], max_pairs=4)
    assert few == [(1, 2), (34, 35), (66, 67), (99, 100)]
    assert quiet_pairs(frames, [(1, 100)]) == []


def test_stability_flags_added_flicker() -> None:
    rng = np.random.default_rng(0)
    import cv2

    face = cv2.GaussianBlur(rng.integers(0, 255, (64, 64), dtype=np.uint8), (0, 0), 2)
    frames = {f: face for f in range(1, 11)}
    # the synthetic jitters by a pixel in its lower part (the "jaw") every other frame
    synth = {}
    for f in range(1, 11):
        img = face.copy()
        if f % 2:
            img[40:] = np.roll(face, 1, axis=1)[40:]
        synth[f] = np.repeat(img[..., None], 3, axis=2)
    pairs = quiet_pairs(list(frames), [], max_pairs=5)
    masks = region_masks(64)
    t = stability_table("v", frames, synth, pairs, masks).set_index("region")
    assert (t["pairs"] == 5).all()
    assert t.loc["jaw", "energy_original"] < 0.01 and t.loc["jaw", "energy_synthetic"] > 0.3
    assert np.isnan(t.loc["jaw", "ratio"])                              # undefined, not inf
    assert t.loc["brows", "energy_synthetic"] < 0.05


def test_regions() -> None:
    boxes = region_boxes(256)
    assert set(boxes) == set(FRACTIONS)
    rows, cols = boxes["mouth"]
    assert (rows.start, rows.stop, cols.start, cols.stop) == (164, 197, 87, 169)
    lm = np.zeros((68, 2))
    lm[:, 0] = np.linspace(50, 200, 68)
    lm[:, 1] = np.linspace(60, 220, 68)
    b = region_boxes(256, landmarks=lm)
    assert b["mouth"][0].stop <= 256 and b["brows"][0].start < b["mouth"][0].start
    with pytest.raises(ValueError):
        region_boxes(256, landmarks=np.zeros((5, 2)))
    m = region_masks(100, 80)
    assert m["face"].shape == (100, 80) and m["face"].all() and 0 < m["eyes"].sum() < 8000

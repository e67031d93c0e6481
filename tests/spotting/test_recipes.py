"""Every step of the ``softnet`` recipe on hand-made inputs, checked against the published facts: forward-difference
strain on an analytic field, the nose-patch subtraction, the eye hexagons and ROIs on a 68-point fixture, the
42×42 layout, k from a small interval table, SOFTNet's decoding on an ideal curve (about k/2 early), and TV-L1
recovering a known sub-pixel shift of a real face."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from samm_synth_dataset.spotting import decode, softnet
from samm_synth_dataset.spotting.extract import video_features
from samm_synth_dataset.spotting.pseudo_labels import pseudo_labels
from samm_synth_dataset.spotting.recipes import (DEFAULT, MTSN, RECIPES, SOFTNET, RecipeError, check_landmarks,
                                                 dataset_k, get_recipe)


def _landmarks() -> np.ndarray:
    """A 68-point fixture on a 128 px crop (integer points, the ones the steps read)."""
    lm = np.full((68, 2), np.nan)
    pts = {17: (20, 40), 19: (35, 33), 24: (90, 35), 26: (108, 41), 28: (64, 70),
           36: (38, 56), 37: (44, 52), 38: (50, 52), 39: (55, 56), 40: (50, 60), 41: (44, 61),
           42: (73, 56), 43: (78, 52), 44: (84, 52), 45: (90, 56), 46: (84, 60), 47: (78, 59),
           50: (58, 92), 57: (64, 108), 60: (50, 99), 64: (78, 99)}
    for i, p in pts.items():
        lm[i] = p
    return lm


def test_forward_strain_on_a_linear_field():
    y, x = np.mgrid[0:20, 0:30].astype(np.float64)
    a, b, c, d = 0.3, -0.2, 0.5, 0.1
    flow = np.dstack([a * x + b * y, c * x + d * y]).astype(np.float32)
    # u_x = u − u[x+1] = −a, v_y = −d, u_y = −b, v_x = −c everywhere (last row/column repeated)
    want = np.sqrt(a ** 2 + d ** 2 + 0.5 * (b + c) ** 2)
    np.testing.assert_allclose(softnet.forward_strain(flow), want, rtol=1e-5)


def test_forward_strain_repeats_the_last_column():
    x = np.tile(np.arange(8, dtype=np.float32), (5, 1))
    flow = np.dstack([x ** 2, np.zeros_like(x)])
    strain = softnet.forward_strain(flow)
    # u_x = x² − (x + 1)² = −(2x + 1); the last column repeats column 6: |−13|
    np.testing.assert_allclose(strain[0], [1, 3, 5, 7, 9, 11, 13, 13], rtol=1e-6)


def test_nose_patch_is_11x11_on_landmark_28_and_its_mean_is_removed():
    lm = _landmarks()
    rows, cols = softnet.nose_box(lm, 128)
    assert (rows.start, rows.stop, cols.start, cols.stop) == (65, 76, 59, 70)  # y28 ± 5, x28 ± 5 inclusive
    maps = np.full((128, 128, 3), 2.0, dtype=np.float32)
    maps[..., 2] = 0.5
    maps[10, 10] = (1.0, -3.0, 0.25)  # outside the patch
    out = softnet.remove_head_motion(maps, (rows, cols))
    np.testing.assert_allclose(out[rows, cols], 0.0, atol=1e-7)
    np.testing.assert_allclose(out[10, 10], [1.0, 5.0, -0.25])  # |1 − 2|, |−3 − 2|, ε keeps its sign


def test_eye_hexagons_are_pushed_out_15_px_and_only_the_eyes_are_masked():
    lm = _landmarks()
    left, right = softnet.eye_hexagons(lm, 128)
    np.testing.assert_array_equal(left, [[23, 56], [44, 37], [50, 37], [70, 56], [50, 75], [44, 76]])
    np.testing.assert_array_equal(right[0], [58, 56])
    mask = softnet.eye_mask(lm, 128)
    assert mask[56, 24] and not mask[56, 21]       # 15 px beyond the outer corner 36, not 17
    assert mask[74, 47] and not mask[78, 47]       # 15 px below the lower lid
    assert not mask[40, 64]                        # glabella: visible
    assert not mask[90, 64]                        # mouth: visible


def test_rois_run_from_the_brows_to_the_lower_lids_and_around_the_mouth():
    rois = softnet.softnet_rois(_landmarks(), 128)
    top, mouth = rois["top"], rois["mouth"]
    assert (top[0].start, top[0].stop) == (33 - 12, 61 + 12)   # min(y19, y24) − 12 .. max(y41, y46) + 12
    assert (top[1].start, top[1].stop) == (20 - 12, 108 + 12)  # x17 − 12 .. x26 + 12
    assert (mouth[0].start, mouth[0].stop) == (92 - 12, 108 + 12)
    assert (mouth[1].start, mouth[1].stop) == (50 - 12, 78 + 12)


def test_template_landmarks_keep_the_geometry():
    lm = softnet.template_landmarks(128)
    rois = softnet.softnet_rois(lm, 128)
    lower_lids = max(lm[41, 1], lm[46, 1])
    assert rois["top"][0].stop >= lower_lids + 11 and rois["top"][0].start <= min(lm[19, 1], lm[24, 1]) - 11
    mask = softnet.eye_mask(lm, 128)
    assert mask[int(lm[37, 1]), int(lm[37, 0])] and not mask[int(lm[28, 1]) - 20, 64]


def test_the_42x42_layout_puts_the_top_roi_above_the_mouth():
    maps = np.zeros((128, 128, 3), dtype=np.float32)
    rois = {"top": (slice(20, 70), slice(10, 110)), "mouth": (slice(80, 110), slice(40, 90))}
    maps[rois["top"]] = (1.0, 2.0, 3.0)
    maps[rois["mouth"]] = (4.0, 5.0, 6.0)
    out = softnet.softnet_map(maps, rois)
    assert out.shape == (42, 42, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out[:21], np.broadcast_to([1.0, 2.0, 3.0], (21, 42, 3)))
    np.testing.assert_allclose(out[21:], np.broadcast_to([4.0, 5.0, 6.0], (21, 42, 3)))


def test_k_from_a_small_interval_table():
    # durations 10, 20, 31 → mean 20.33 → floor((20.33 + 1) / 2) = 10; a dropped row does not count
    assert dataset_k([(0, 10, True), (5, 25, True), (100, 131, True), (0, 500, False)]) == 10
    assert dataset_k([(0, 500, False)]) is None


def test_softnet_decoding_on_an_ideal_curve_is_about_k_over_2_early():
    k, n = 10, 400
    onset, offset = 200, 220  # 0-based positions
    scores = pseudo_labels(np.arange(n), [(onset, offset)], k)  # the ideal curve: the training target
    got = decode.softnet_spot(scores, k, np.arange(n))
    assert len(got) == 1
    centre, gt_centre = (got[0][0] + got[0][1]) / 2, (onset + offset) / 2
    assert got[0][1] - got[0][0] == 2 * k
    assert abs((gt_centre - centre) - k / 2) <= 1.5, (got, gt_centre)
    assert decode.softnet_spot(np.zeros(n - k), k, np.arange(n) + 1000) == [(1000 + k, 1000 + k)]  # dummy [0, 0]


def _face() -> np.ndarray:
    import matplotlib.cbook

    image = cv2.imread(str(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def test_tvl1_recovers_a_sub_pixel_shift_of_a_real_face():
    face = cv2.resize(_face()[40:440, 60:460], (128, 128), interpolation=cv2.INTER_AREA)
    dx, dy = 0.4, -0.3
    moved = cv2.warpAffine(face, np.float32([[1, 0, dx], [0, 1, dy]]), (128, 128), flags=cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REFLECT)
    flow = softnet.tvl1_flow(face, moved)
    inner = flow[24:104, 24:104].reshape(-1, 2)
    np.testing.assert_allclose(np.median(inner, axis=0), [dx, dy], atol=0.1)


def test_video_features_shapes_and_repeatability():
    rng = np.random.default_rng(0)
    base = cv2.resize(_face()[40:440, 60:460], (64, 64))
    frames = [np.clip(base.astype(int) + rng.integers(-3, 4, base.shape), 0, 255).astype(np.uint8)
              for _ in range(5)]
    for recipe in RECIPES.values():
        out, found = video_features(iter(frames), recipe, [1, 3])
        assert sorted(out) == [1, 3]
        assert out[3].shape == (2, *recipe.shape) and out[3].dtype == np.dtype(recipe.dtype)
        again, _ = video_features(iter(frames), recipe, [3])
        assert again[3].tobytes() == out[3].tobytes()
        assert (found is not None) == recipe.uses_landmarks
    mtsn, _ = video_features(iter(frames), MTSN, [1, 3])
    np.testing.assert_array_equal(mtsn[3][:, 1], mtsn[1][:2, 0])  # stream "1" of pair (i, i + 3) is pair (i, i + 1)


def test_recipes_are_named_and_versioned_and_bad_names_get_one_line():
    assert SOFTNET.shape == (1, 42, 42, 3) and MTSN.shape == (2, 28, 28, 3) and DEFAULT.dtype == "float32"
    assert get_recipe("softnet") is SOFTNET and SOFTNET.as_dict()["version"]
    with pytest.raises(RecipeError, match="unknown recipe 'softnett': choose one of default, softnet, mtsn"):
        get_recipe("softnett")
    with pytest.raises(RecipeError, match="places no region by landmarks"):
        check_landmarks(MTSN, "dlib68")


def test_dlib68_model_missing_is_one_line(tmp_path: Path):
    with pytest.raises(softnet.LandmarkError, match="shape_predictor_68_face_landmarks.dat not found"):
        softnet.dlib68_model(tmp_path)


def test_dlib68_landmarks_on_a_real_face():
    try:
        model = softnet.dlib68_model()
    except softnet.LandmarkError as exc:
        pytest.skip(str(exc))
    face = cv2.resize(_face()[40:440, 60:460], (128, 128), interpolation=cv2.INTER_AREA)
    points, note = softnet.dlib68_landmarks(face, model)
    assert points.shape == (68, 2) and "dlib68" in note
    assert points[19, 1] < points[41, 1] < points[57, 1]  # brows above the lower lids above the lower lip
    rois = softnet.softnet_rois(points, 128)
    assert rois["top"][0].stop <= rois["mouth"][0].stop

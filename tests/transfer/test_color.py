"""ColorTransfer (Reinhard 2001 in Lab): statistics inside the face ellipse move to the reference's; pixels
beyond the feather band are untouched; greyscale frames become RGB; deterministic."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from samm_synth_dataset.transfer import ColorTransfer, StyleCode, TransferMethod
from samm_synth_dataset.transfer.color import face_region, face_weights


def _smooth_colour_image(seed: int, size: int = 96, tint=(1.0, 1.0, 1.0)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.uniform(60, 200, (6, 6, 3)).astype(np.float32) * np.asarray(tint, np.float32)
    img = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
    return np.clip(img, 0, 255).round().astype(np.uint8)


def _lab_inside(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lab = cv2.cvtColor(img.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)[face_region(*img.shape[:2])]
    return lab.mean(axis=0), lab.std(axis=0)


def test_lab_statistics_inside_the_face_match_the_reference():
    method = ColorTransfer(image_size=96)
    assert isinstance(method, TransferMethod) and method.name == "color-transfer"
    assert method.checkpoint_sha256 is None and "NOT identity" in method.description
    ref = _smooth_colour_image(1, size=120, tint=(1.2, 0.8, 0.6))  # a reference of another size
    code = method.style(ref, 1)
    assert isinstance(code, StyleCode) and code.domain == 1 and code.values.shape == (6,)
    frames = np.stack([_smooth_colour_image(s, tint=(0.7, 1.0, 1.2)) for s in (2, 3)])
    out = method.apply(frames, code)
    assert out.shape == frames.shape and out.dtype == np.uint8
    ref_mean, ref_std = _lab_inside(ref)
    for frame_out in out:
        mean, std = _lab_inside(frame_out)
        np.testing.assert_allclose(mean, ref_mean, atol=1.0)  # Lab units; uint8 rounding and gamut clipping
        np.testing.assert_allclose(std, ref_std, atol=1.0)
    before_mean, _ = _lab_inside(frames[0])
    assert np.abs(before_mean - ref_mean).max() > 5  # it did move


def test_outside_the_feather_band_is_unchanged_and_inside_changed():
    method = ColorTransfer(image_size=96)
    code = method.style(_smooth_colour_image(1, tint=(1.2, 0.8, 0.6)), 0)
    frame = _smooth_colour_image(2)
    out = method.apply(frame[None], code)[0]
    outside = face_weights(96, 96) == 0
    assert outside.sum() > 1000
    assert np.array_equal(out[outside], frame[outside])
    assert np.abs(out[face_region(96, 96)].astype(int) - frame[face_region(96, 96)]).mean() > 5


def test_deterministic_and_greyscale_sources_become_rgb():
    method = ColorTransfer(image_size=96)
    code = method.style(_smooth_colour_image(1, tint=(1.2, 0.8, 0.6)), 0)
    grey = cv2.cvtColor(_smooth_colour_image(4), cv2.COLOR_RGB2GRAY)
    out = method.apply(np.stack([grey, grey]), code)
    assert out.shape == (2, 96, 96, 3)
    assert np.array_equal(out[0], out[1])
    assert np.array_equal(out, method.apply(np.repeat(np.stack([grey, grey])[..., None], 3, axis=3), code))
    mean, _ = _lab_inside(out[0])
    np.testing.assert_allclose(mean, code.values[:3], atol=1.0)  # a grey face takes the reference's mean colour


def test_wrong_inputs():
    method = ColorTransfer()
    with pytest.raises(ValueError, match="made by 'stargan-v2'"):
        method.apply(np.zeros((1, 8, 8, 3), np.uint8), StyleCode("stargan-v2", 0, np.zeros(64, np.float32)))
    with pytest.raises(ValueError, match="uint8"):
        method.style(np.zeros((8, 8, 3), np.float32), 0)


def test_real_faces_from_shared_data(shared_data):
    """Real photographs: reference single_face.jpg onto 0-f1-su-ph.jpg (greyscale copy, as SAMM frames are)."""
    from samm_synth_dataset.sources.frames import read_image
    from samm_synth_dataset.transfer.stargan import resize_official

    ref = read_image(shared_data / "faces" / "single_face.jpg")
    src = resize_official(read_image(shared_data / "faces" / "0-f1-su-ph.jpg"), 256)
    grey = cv2.cvtColor(src, cv2.COLOR_RGB2GRAY)
    method = ColorTransfer()
    code = method.style(ref, 0)
    out = np.concatenate([method.apply(src[None], code), method.apply(grey[None], code)])
    assert out.shape == (2, 256, 256, 3)
    ref_mean, ref_std = _lab_inside(ref)
    mean, std = _lab_inside(out[0])
    np.testing.assert_allclose(mean, ref_mean, atol=1.5)
    np.testing.assert_allclose(std, ref_std, atol=1.5)
    grey_mean, _ = _lab_inside(out[1])
    np.testing.assert_allclose(grey_mean, ref_mean, atol=1.5)

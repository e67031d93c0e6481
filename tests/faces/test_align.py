"""The official StarGAN v2 similarity alignment from 98 WFLW landmarks, tested on synthetic landmarks."""

from __future__ import annotations

import numpy as np
import pytest

from samm_synth_dataset.faces import align_crop, similarity_matrix
from samm_synth_dataset.faces.align import landmarks_xaxis


def _reference() -> np.ndarray:
    """A plausible 98-point WFLW face in a 256 frame (contour, brows, nose, eyes, mouth, pupils)."""
    pts = np.zeros((98, 2))
    t = np.linspace(np.pi * 0.95, np.pi * 0.05, 33)
    pts[0:33] = np.c_[128 - 70 * np.cos(t), 120 + 80 * np.sin(t)]
    pts[33:42] = np.c_[np.linspace(70, 120, 9), 95 - 5 * np.sin(np.linspace(0, np.pi, 9))]
    pts[42:51] = np.c_[np.linspace(136, 186, 9), 95 - 5 * np.sin(np.linspace(0, np.pi, 9))]
    pts[51:55] = np.c_[np.full(4, 128.0), np.linspace(110, 140, 4)]
    pts[55:60] = np.c_[np.linspace(115, 141, 5), np.full(5, 148.0)]
    a = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    pts[60:68] = np.c_[97 + 14 * np.cos(a), 115 + 6 * np.sin(a)]
    pts[68:76] = np.c_[159 + 14 * np.cos(a), 115 + 6 * np.sin(a)]
    b = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    pts[76:88] = np.c_[128 - 28 * np.cos(b), 175 + 9 * np.sin(b)]
    c = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    pts[88:96] = np.c_[128 - 18 * np.cos(c), 175 + 3 * np.sin(c)]
    pts[96], pts[97] = (97, 115), (159, 115)
    return pts


def _similar(points: np.ndarray, angle_deg: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    a = np.deg2rad(angle_deg)
    r = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return points @ r.T + np.asarray(shift)


@pytest.mark.parametrize("angle, scale, shift", [(0.0, 1.0, (0, 0)), (12.0, 3.5, (700, 240)),
                                                 (-25.0, 0.6, (40, -10))])
def test_recovers_a_similarity_exactly(angle, scale, shift):
    ref = _reference()
    src = _similar(ref, angle, scale, shift)  # the face as seen in a source frame
    m = similarity_matrix(src, ref)
    mapped = src @ m[:, :2].T + m[:, 2]
    np.testing.assert_allclose(mapped, ref, atol=1e-6)


def test_output_size_scales_reference():
    ref = _reference()
    src = _similar(ref, 5.0, 2.0, (300, 100))
    m = similarity_matrix(src, ref, size=512)
    np.testing.assert_allclose(src @ m[:, :2].T + m[:, 2], ref * 2, atol=1e-6)


def test_align_crop_once_for_several_frames_and_warp():
    ref = _reference()
    rng = np.random.default_rng(0)
    base = _similar(ref, 8.0, 2.5, (400, 150))
    frames = np.stack([base + rng.normal(0, 0.3, base.shape) for _ in range(5)])
    frames[2] += 40  # one frame with a bad detection: the per-point median ignores it
    crop = align_crop(frames, ref, size=256, image_size=(1280, 720))
    assert crop.matrix is not None and crop.size == 256
    m = np.asarray(crop.matrix)
    np.testing.assert_allclose(base @ m[:, :2].T + m[:, 2], ref, atol=1.0)
    # the source region covered by the 256×256 output (256 × 2.5 px, rotated 8°), clipped to the image
    assert 0 <= crop.x and 0 <= crop.y and crop.x + crop.w <= 1280 and crop.y + crop.h <= 720
    side = 256 * 2.5
    assert crop.w == pytest.approx(side * (np.cos(np.deg2rad(8)) + np.sin(np.deg2rad(8))), abs=3)
    unclipped = align_crop(frames, ref, size=256)
    assert unclipped.h == pytest.approx(crop.w, abs=2) and unclipped.y + unclipped.h > 720 == crop.y + crop.h
    # warping a frame puts a bright dot at a source landmark onto the reference landmark
    image = np.zeros((720, 1280), np.uint8)
    x, y = np.round(base[96]).astype(int)
    image[y - 3:y + 4, x - 3:x + 4] = 255
    out = crop.apply(image)
    assert out.shape == (256, 256)
    yy, xx = np.unravel_index(np.argmax(out), out.shape)
    assert abs(xx - ref[96, 0]) <= 2 and abs(yy - ref[96, 1]) <= 2


def test_xaxis_and_bad_input():
    ref = _reference()
    np.testing.assert_allclose(landmarks_xaxis(ref), [1.0, 0.0], atol=1e-9)  # upright face
    with pytest.raises(ValueError, match="98 finite"):
        similarity_matrix(ref[:68], ref)
    bad = ref.copy()
    bad[5] = np.nan
    with pytest.raises(ValueError, match="98 finite"):
        similarity_matrix(bad, ref)


def test_reference_landmarks_file_is_read_without_pickle(tmp_path):
    from samm_synth_dataset.faces.align import load_reference_landmarks

    good = tmp_path / "celeba_lm_mean.npz"
    np.savez(good, mean=_reference().astype(np.float32))
    np.testing.assert_allclose(load_reference_landmarks(good), _reference(), atol=1e-4)
    with pytest.raises(ValueError, match="no array 'mean'"):
        np.savez(tmp_path / "other.npz", landmarks=_reference())
        load_reference_landmarks(tmp_path / "other.npz")
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, mean=np.array([{"not": "an array"}], dtype=object))
    with pytest.raises(ValueError, match="not a readable .npz"):
        load_reference_landmarks(pickled)  # object arrays need pickle: refused
    with pytest.raises(FileNotFoundError, match="celeba_lm_mean.npz"):
        load_reference_landmarks(tmp_path / "absent.npz")


def test_align_video_maps_the_source_face_onto_the_reference():
    """Landmarks found in the box crops are mapped back to source pixels: the one transform of the video sends
    the face's true source landmarks onto the reference ones, whatever box it started from."""
    from samm_synth_dataset.faces import FaceCrop
    from samm_synth_dataset.faces.align import align_video

    ref = _reference()
    truth = _similar(ref, -7.0, 1.8, (350, 90))  # the face in source pixels (all frames: one crop per video)
    box = FaceCrop(x=300, y=60, w=520, h=520, size=256)
    frames = [np.zeros((720, 1280), np.uint8) for _ in range(3)]
    seen = []

    def landmarks_fn(crops: np.ndarray) -> np.ndarray:
        seen.append(crops.shape)
        in_crop = (truth - [box.x, box.y]) * (box.size / box.w)  # where a perfect FAN finds them in the crop
        return np.repeat(in_crop[None], len(crops), axis=0)

    crop = align_video(frames, box, landmarks_fn, ref, (1280, 720), video="006_1")
    assert seen == [(3, 256, 256)]
    m = np.asarray(crop.matrix)
    np.testing.assert_allclose(truth @ m[:, :2].T + m[:, 2], ref, atol=1e-6)
    assert crop.matrix_list() == [v for row in crop.matrix for v in row] and len(crop.matrix_list()) == 6
    with pytest.raises(ValueError, match="video 006_1: landmarks_fn returned"):
        align_video(frames, box, lambda c: np.zeros((len(c), 5, 2)), ref, (1280, 720), video="006_1")
    with pytest.raises(ValueError, match="video 006_1: the FAN alignment failed"):
        align_video(frames, box, lambda c: np.zeros((len(c), 98, 2)), ref, (1280, 720), video="006_1")


def test_shrinking_warp_averages_instead_of_aliasing():
    """A 1-pixel checkerboard shrunk 4× must come out as flat grey (area averaging), as the box crop does; a
    plain bilinear warp would sample it into stripes and noise."""
    from samm_synth_dataset.faces import FaceCrop

    board = (np.indices((1024, 1024)).sum(axis=0) % 2 * 255).astype(np.uint8)
    m = ((0.25, 0.0, 0.0), (0.0, 0.25, 0.0))
    out = FaceCrop(x=0, y=0, w=1024, h=1024, size=256, matrix=m).apply(board)
    assert out.shape == (256, 256)
    assert abs(float(out.mean()) - 127.5) < 2 and float(out[8:-8, 8:-8].std()) < 2
    # the pre-reduction keeps the geometry: a bright square lands where the matrix says
    img = np.zeros((1024, 1024), np.uint8)
    img[400:480, 600:680] = 255
    out = FaceCrop(x=0, y=0, w=1024, h=1024, size=256, matrix=m).apply(img)
    ys, xs = np.nonzero(out > 127)
    assert abs(xs.mean() - 639.5 * 0.25) < 0.5 and abs(ys.mean() - 439.5 * 0.25) < 0.5  # square centre

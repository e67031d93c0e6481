"""read_image / read_frames_at: greyscale kept, RGB order, truncated and corrupt files named."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from samm_synth_dataset.sources import FrameReadError, list_videos, read_frames_at, read_image, to_rgb


def test_greyscale_and_colour(tmp_path, helpers):
    grey = read_image(helpers.write_jpeg(tmp_path / "g.jpg", helpers.grey_frame()))
    assert grey.shape == (30, 40) and grey.dtype == np.uint8
    assert to_rgb(grey).shape == (30, 40, 3) and (to_rgb(grey)[..., 0] == grey).all()
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 2] = 255  # blue
    cv2.imwrite(str(tmp_path / "c.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    back = read_image(tmp_path / "c.png")
    assert (back == rgb).all() and to_rgb(back) is back


def test_truncated_and_corrupt(tmp_path, helpers):
    path = helpers.write_jpeg(tmp_path / "f.jpg", np.random.default_rng(0).integers(0, 255, (64, 64), np.uint8))
    data = path.read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) * 2 // 3])
    # some OpenCV builds decode a truncated JPEG with only a warning; read_image checks the end marker itself
    with pytest.raises(FrameReadError, match=r"cut.jpg: truncated JPEG"):
        read_image(cut)
    padded = tmp_path / "padded.jpg"
    padded.write_bytes(data + b"\x00" * 16)  # trailing padding after the end marker is fine
    assert read_image(padded).shape == (64, 64)
    garbage = tmp_path / "garbage.jpg"
    garbage.write_bytes(b"hello, not an image")
    with pytest.raises(FrameReadError, match=r"garbage.jpg: cannot decode"):
        read_image(garbage)
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(FrameReadError, match="missing or empty"):
        read_image(tmp_path / "empty.jpg")
    with pytest.raises(FrameReadError, match="missing or empty"):
        read_image(tmp_path / "absent.jpg")
    cv2.imwrite(str(tmp_path / "deep.png"), np.zeros((4, 4), np.uint16))
    with pytest.raises(FrameReadError, match="only 8-bit"):
        read_image(tmp_path / "deep.png")


def test_read_frames_at_video_file_matches_sequential(shared_data):
    video = list_videos(shared_data / "faces" / "single_face.mp4", "generic")[0]
    sequential = {n: img for n, img in video.iter_frames()}
    picked = list(read_frames_at(video, [71, 0, 35, 35]))
    assert [(p, n) for p, n, _ in picked] == [(0, 1), (35, 36), (71, 72)]
    for _, n, img in picked:
        assert np.array_equal(img, sequential[n])
    with pytest.raises(IndexError):
        list(read_frames_at(video, [72]))


def test_read_frames_at_folder(tmp_path, helpers):
    for n in range(1, 6):
        helpers.write_jpeg(tmp_path / "SAMM_longvideos" / "006_1" / f"006_1_{n:04d}.jpg", helpers.grey_frame(n * 40))
    video = list_videos(tmp_path, "samm-lv")[0]
    got = list(read_frames_at(video, [4, 1]))
    assert [(p, n) for p, n, _ in got] == [(1, 2), (4, 5)] and got[1][2].ndim == 2

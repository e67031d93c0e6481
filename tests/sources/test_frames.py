"""read_image / read_frames_at: greyscale kept, RGB order, truncated and corrupt files named."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from samm_synth_dataset.sources import FrameReadError, iter_video_frames, list_videos, read_frames_at, read_image, to_rgb


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
    sequential = {n: img for n, img in iter_video_frames(video)}
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


def test_iter_frames_from_start_equals_sequential_reading(shared_data):
    """start > 0 on a compressed video file gives exactly the frames sequential reading gives there."""
    video = list_videos(shared_data / "faces" / "single_face.mp4", "generic")[0]
    sequential = list(iter_video_frames(video))
    assert len(sequential) == video.n_frames == 72
    for k in (1, 13, 36, 59, 71):
        got = list(iter_video_frames(video, k))
        assert [n for n, _ in got] == [n for n, _ in sequential[k:]]
        assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(got, sequential[k:])), f"start={k}"
    window = list(iter_video_frames(video, 40, 44))
    assert [n for n, _ in window] == [41, 42, 43, 44]
    assert all(np.array_equal(img, sequential[40 + i][1]) for i, (_, img) in enumerate(window))
    assert list(iter_video_frames(video, 72)) == [] and list(iter_video_frames(video, 5, 5)) == []
    with pytest.raises(IndexError, match="start must be >= 0"):
        list(iter_video_frames(video, -1))


def _write_numbered_video(path, n: int) -> None:
    """An MJPG .avi whose frame i (0-based) is uniformly grey at level 10·i, so a frame tells its position."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (32, 24))
    assert writer.isOpened()
    for i in range(n):
        writer.write(np.full((24, 32, 3), 10 * i, np.uint8))
    writer.release()


def test_iter_frames_start_does_not_trust_seeking(tmp_path, monkeypatch):
    """A backend whose CAP_PROP_POS_FRAMES seek lands on the previous keyframe (as compressed video can, while
    still reporting the requested position) must not shift the frames: start > 0 reads from frame 0."""
    path = tmp_path / "numbered.avi"
    _write_numbered_video(path, 20)
    real_capture = cv2.VideoCapture

    class KeyframeSeekingCapture:
        def __init__(self, filename: str) -> None:
            self._filename = filename
            self._cap = real_capture(filename)

        def set(self, prop: int, value: float) -> bool:
            if prop != cv2.CAP_PROP_POS_FRAMES:
                return self._cap.set(prop, value)
            self._cap.release()
            self._cap = real_capture(self._filename)
            for _ in range(int(value) // 8 * 8):  # lands on the keyframe at or before the target
                self._cap.grab()
            return True

        def __getattr__(self, name: str):
            return getattr(self._cap, name)

    video = list_videos(path, "generic")[0]
    assert video.n_frames == 20
    monkeypatch.setattr(cv2, "VideoCapture", KeyframeSeekingCapture)
    got = list(iter_video_frames(video, 11, 14))
    assert [n for n, _ in got] == [12, 13, 14]
    assert [round(float(img.mean()) / 10) for _, img in got] == [11, 12, 13]

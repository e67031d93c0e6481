"""list_videos: SAMM-LV, CAS(ME)² and generic layouts; numbering, gaps, stray files, video files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from samm_synth_dataset.sources.frames import iter_video_frames
from samm_synth_dataset.sources import FrameGapError, FrameReadError, VideoSource, list_videos


def _samm_video(root: Path, helpers, video: str, numbers, width: int = 5) -> Path:
    folder = root / "SAMM_longvideos" / video
    for n in numbers:
        helpers.write_jpeg(folder / f"{video}_{n:0{width}d}.jpg", helpers.grey_frame(n % 250))
    return folder


def test_samm_lv_layout(tmp_path, helpers):
    _samm_video(tmp_path, helpers, "006_1", range(1, 13), width=4)
    # 4- and 5-digit names in one video (…9999, 10000…): numbers are parsed, never the width
    folder = _samm_video(tmp_path, helpers, "016_7", range(9995, 10000), width=4)
    _samm_video(tmp_path, helpers, "016_7", range(10000, 10004), width=5)
    (folder / "Thumbs.db").write_bytes(b"x")  # non-image files are ignored
    (tmp_path / "SAMM_longvideos" / "notes").mkdir()  # not a video folder
    for root in (tmp_path, tmp_path / "SAMM_longvideos"):
        videos = list_videos(root, "samm-lv")
        assert [v.video for v in videos] == ["006_1", "016_7"]
        v = videos[1]
        assert isinstance(v, VideoSource) and v.subject == "016" and v.dataset == "samm-lv" and v.fps == 200.0
        assert v.frame_numbers == tuple(range(9995, 10004))
        assert [p.name for p in v.frame_paths][4:6] == ["016_7_9999.jpg", "016_7_10000.jpg"]
        assert (v.width, v.height) == (40, 30) and v.missing == ()
    frames = list(iter_video_frames(videos[0], 0, 3))
    assert [n for n, _ in frames] == [1, 2, 3] and frames[0][1].ndim == 2  # greyscale stays greyscale
    assert list_videos(tmp_path, "samm-lv", videos=["016_7"], fps=100)[0].fps == 100
    with pytest.raises(FileNotFoundError, match=r"\['999_1'\]"):
        list_videos(tmp_path, "samm-lv", videos=["999_1"])


def test_samm_lv_gaps(tmp_path, helpers):
    _samm_video(tmp_path, helpers, "006_1", [1, 2, 3, 6, 7, 9], width=4)
    with pytest.raises(FrameGapError, match=r"006_1 lacks frame numbers 4, 5, 8 between 1 and 9") as err:
        list_videos(tmp_path, "samm-lv")
    assert err.value.missing == (4, 5, 8)
    v = list_videos(tmp_path, "samm-lv", allow_gaps=True)[0]
    assert v.missing == (4, 5, 8) and v.frame_numbers == (1, 2, 3, 6, 7, 9)


def test_samm_lv_bad_files(tmp_path, helpers):
    folder = _samm_video(tmp_path, helpers, "006_1", [1, 2], width=4)
    helpers.write_jpeg(folder / "006_1_00002.jpg", helpers.grey_frame())
    with pytest.raises(FrameReadError, match=r"frame numbers 2 appear more than once"):
        list_videos(tmp_path, "samm-lv")
    (folder / "006_1_00002.jpg").unlink()
    helpers.write_jpeg(folder / "frame_3.jpg", helpers.grey_frame())
    with pytest.raises(FrameReadError, match=r"frame_3.jpg: image file name does not follow"):
        list_videos(tmp_path, "samm-lv")
    (folder / "frame_3.jpg").unlink()
    (folder / "006_1_0001.jpg").write_bytes((folder / "006_1_0001.jpg").read_bytes()[:200])  # truncated frame 1
    with pytest.raises(FrameReadError, match=r"006_1_0001.jpg: truncated JPEG"):
        list_videos(tmp_path, "samm-lv")
    (tmp_path / "SAMM_longvideos" / "007_1").mkdir()
    with pytest.raises(FrameReadError, match="007_1 has no frame files"):
        list_videos(tmp_path, "samm-lv", videos=["007_1"])
    with pytest.raises(FileNotFoundError, match="no SAMM-LV video folders"):
        list_videos(tmp_path / "SAMM_longvideos" / "006_1", "samm-lv")


def test_demo_corpus_listing(demo_corpus):
    videos = list_videos(demo_corpus.root, "samm-lv")
    assert [v.video for v in videos] == sorted(demo_corpus.videos)
    for v in videos:
        assert v.fps == 200.0 and v.frame_numbers == tuple(range(v.first_frame, v.last_frame + 1))
        assert v.frame_paths[0].name.startswith(f"{v.video}_") and v.subject == v.video.split("_")[0]
    assert list_videos(demo_corpus.frames_root, "samm-lv") == videos


def test_casme2_layout(tmp_path, helpers):
    raw = tmp_path / "rawpic"
    colour = np.zeros((30, 40, 3), np.uint8)
    colour[..., 0] = 200  # red in RGB
    # img%03d (3-digit minimum padding): a short video with img001..img012 and one that crosses the 3→4 digit boundary
    for n in range(1, 13):
        helpers.write_jpeg(raw / "s15" / "15_0101disgustingteeth" / f"img{n:03d}.jpg", colour)
    for n in range(995, 1003):
        helpers.write_jpeg(raw / "s15" / "15_0503unnyfarting" / f"img{n:03d}.jpg", colour)
    helpers.write_jpeg(raw / "s19" / "23_0502funnyerrors" / "img001.jpg", colour)  # filed under s19
    for root in (tmp_path, raw):
        videos = list_videos(root, "casme2")
        assert [v.video for v in videos] == ["15_0101", "15_0503", "23_0502"]
        assert [v.subject for v in videos] == ["s15", "s15", "s23"]
        assert videos[1].frame_numbers == tuple(range(995, 1003)) and videos[0].fps == 30.0
    _, image = next(iter_video_frames(videos[0]))
    assert image.shape == (30, 40, 3) and image[0, 0, 0] > 150 and image[0, 0, 2] < 50  # RGB order
    helpers.write_jpeg(raw / "s16" / "16_0101disgustingteeth" / "img001.jpg", colour)
    helpers.write_jpeg(raw / "s16" / "16_0101disgustingteeth" / "img003.jpg", colour)
    with pytest.raises(FrameGapError, match="16_0101 lacks frame numbers 2 "):
        list_videos(tmp_path, "casme2")
    helpers.write_jpeg(raw / "s16" / "16_0101copy" / "img001.jpg", colour)
    with pytest.raises(FileNotFoundError, match="are both video 16_0101"):
        list_videos(tmp_path, "casme2")
    (raw / "s16" / "16_0101copy" / "img001.jpg").unlink()
    (raw / "s16" / "16_0101copy").rmdir()
    helpers.write_jpeg(raw / "s16" / "misc" / "img001.jpg", colour)
    with pytest.raises(FileNotFoundError, match="misc: not a CAS"):
        list_videos(tmp_path, "casme2")


def _write_video(path: Path, n: int, fps: float = 25.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (64, 48))
    assert writer.isOpened()
    for i in range(n):
        frame = np.full((48, 64, 3), 10 * i, np.uint8)
        writer.write(frame)
    writer.release()
    return path


def test_generic_video_file_and_folders(tmp_path, helpers):
    (tmp_path / "clips").mkdir()
    video = _write_video(tmp_path / "clips" / "my clip.avi", 7)
    v = list_videos(video, "generic")[0]
    assert (v.video, v.subject, v.n_frames, v.fps, v.width, v.height) == ("my_clip", "my", 7, 25.0, 64, 48)
    assert v.video_file == video and v.frame_paths is None and v.frame_numbers == tuple(range(1, 8))
    values = [int(img.mean()) for _, img in iter_video_frames(v, 2, 5)]
    assert values == pytest.approx([20, 30, 40], abs=3)
    folder = tmp_path / "clips" / "cam_2"
    for n in (10, 11, 12):
        helpers.write_jpeg(folder / f"frame{n}.jpg", helpers.grey_frame())
    with pytest.raises(ValueError, match="pass fps"):
        list_videos(folder, "generic")
    one = list_videos(folder, "generic", fps=50)[0]
    assert (one.video, one.frame_numbers, one.fps) == ("cam_2", (10, 11, 12), 50)
    both = list_videos(tmp_path / "clips", "generic", fps=50)
    assert [b.video for b in both] == ["cam_2", "my_clip"] and both[1].fps == 50
    helpers.write_jpeg(folder / "cover.jpg", helpers.grey_frame())
    with pytest.raises(FrameReadError, match="some image names carry a frame number"):
        list_videos(folder, "generic", fps=50)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no images, image folders or video files"):
        list_videos(empty, "generic")
    (tmp_path / "broken.mp4").write_bytes(b"\x00" * 100)
    with pytest.raises(FrameReadError, match="broken.mp4"):
        list_videos(tmp_path / "broken.mp4", "generic")
    with pytest.raises(ValueError, match="unknown dataset"):
        list_videos(tmp_path, "casme9")


def test_generic_real_video(shared_data):
    v = list_videos(shared_data / "faces" / "single_face.mp4", "generic")[0]
    assert (v.n_frames, v.width, v.height) == (72, 640, 360) and v.fps == pytest.approx(30.0)
    numbers = [n for n, img in iter_video_frames(v) if img.shape == (360, 640, 3)]
    assert numbers == list(range(1, 73))

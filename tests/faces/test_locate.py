"""locate_face: one fixed crop per video (Haar cascade, median box, documented margin), boxes CSV, no-face."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from samm_synth_dataset.sources.frames import iter_video_frames
from samm_synth_dataset.faces import (
    MARGIN,
    SHIFT_UP,
    Detection,
    FaceCrop,
    NoFaceError,
    crop_from_detections,
    detect_faces,
    detect_largest_face,
    locate_face,
    read_boxes_csv,
    square_crop,
)
from samm_synth_dataset.sources import list_videos, read_frames_at


def _inside(box: Detection | tuple[int, int, int, int], crop: FaceCrop) -> bool:
    x, y, w, h = (box.x, box.y, box.w, box.h) if isinstance(box, Detection) else box
    return crop.x <= x and crop.y <= y and x + w <= crop.x + crop.w and y + h <= crop.y + crop.h


def test_square_crop_rules():
    assert square_crop(100, 100, 50, 640, 360) == (75, 75, 50)            # centred
    assert square_crop(10, 10, 50, 640, 360) == (0, 0, 50)                 # shifted inside, still square
    assert square_crop(630, 350, 50, 640, 360) == (590, 310, 50)
    assert square_crop(320, 100, 500, 640, 360) == (140, 0, 360)          # too big: largest square that fits


def test_crop_from_detections_median_margin_and_shift():
    dets = [Detection(i, 100, 100, 100, 100) for i in range(5)] + [Detection(9, 400, 10, 40, 40)]  # one outlier
    crop = crop_from_detections(dets, 1000, 1000, size=128)
    side = round(MARGIN * 100)
    assert (crop.w, crop.h, crop.size) == (side, side, 128)
    assert crop.x == round(150 - side / 2) and crop.y == round(150 - SHIFT_UP * 100 - side / 2)
    with pytest.raises(ValueError):
        crop_from_detections([], 10, 10)


def test_single_face_crop_fixed_and_contains_face(shared_data):
    video = list_videos(shared_data / "faces" / "single_face.mp4", "generic")[0]
    crop = locate_face(video, n_samples=9)
    assert crop.w == crop.h and crop.matrix is None and crop.size == 256
    assert 0 <= crop.x and 0 <= crop.y and crop.x + crop.w <= video.width and crop.y + crop.h <= video.height
    # faces detected on other frames all over the video (not the sampled ones) lie inside the one crop
    checked = 0
    for _, _, image in read_frames_at(video, range(4, video.n_frames, 12)):
        box = detect_largest_face(image)
        assert box is not None and _inside(box, crop)
        checked += 1
        assert crop.apply(image).shape == (256, 256, 3)
    assert checked == 6
    # other samples → nearly the same crop (the median box is robust)
    other = locate_face(video, n_samples=5)
    assert abs(other.x - crop.x) <= 0.03 * crop.w and abs(other.w - crop.w) <= 0.03 * crop.w


def test_face_lost_part_way_does_not_move_crop(shared_data):
    video = list_videos(shared_data / "faces" / "face_noface.mov", "generic")[0]
    dets = detect_faces(video, n_samples=9)
    found = sorted(d.frame for d in dets)
    assert 2 <= len(dets) < 9 and found[0] == 1  # the face is there, then gone
    crop = locate_face(video, n_samples=9)
    assert crop == crop_from_detections(dets, video.width, video.height)  # face-less frames change nothing
    assert all(_inside(d, crop) for d in dets)
    # the crop from the part with the face only is (nearly) the same box: losing the face moves nothing
    with_face = dataclasses.replace(video, frame_numbers=video.frame_numbers[: found[-1]])
    early = locate_face(with_face, n_samples=9)
    assert abs(early.x - crop.x) <= 0.05 * crop.w and abs(early.y - crop.y) <= 0.05 * crop.h
    assert abs(early.w - crop.w) <= 0.05 * crop.w


def test_no_face_error(shared_data):
    video = list_videos(shared_data / "faces" / "no_face.mp4", "generic")[0]
    with pytest.raises(NoFaceError, match=r"video no_face: no frontal face found .* boxes CSV"):
        locate_face(video, n_samples=8)


def test_boxes_csv_overrides_detection(shared_data, tmp_path):
    video = list_videos(shared_data / "faces" / "no_face.mp4", "generic")[0]
    path = tmp_path / "boxes.csv"
    path.write_text("video,x,y,w,h\nno_face,100,50,300,300\nother,0,0,10,10\n")
    assert read_boxes_csv(path) == {"no_face": (100, 50, 300, 300), "other": (0, 0, 10, 10)}
    assert locate_face(video, size=128, boxes_csv=path) == FaceCrop(100, 50, 300, 300, size=128)
    assert locate_face(video, boxes_csv={"no_face": (0, 0, 540, 540)}).as_dict() == {"x": 0, "y": 0, "w": 540,
                                                                                     "h": 540}
    with pytest.raises(ValueError, match="leaves its 960×540 frames"):
        locate_face(video, boxes_csv={"no_face": (800, 0, 300, 300)})
    with pytest.raises(NoFaceError):  # a CSV without this video falls back to detection
        locate_face(video, n_samples=4, boxes_csv={"other": (0, 0, 10, 10)})
    path.write_text("video,left,top\n")
    with pytest.raises(ValueError, match="header must be 'video,x,y,w,h'"):
        read_boxes_csv(path)
    path.write_text("video,x,y,w,h\na,1,2,three,4\n")
    with pytest.raises(ValueError, match="row 2: x, y, w, h must be integers"):
        read_boxes_csv(path)
    path.write_text("video,x,y,w,h\na,1,2,0,4\n")
    with pytest.raises(ValueError, match="row 2: box"):
        read_boxes_csv(path)
    path.write_text("video,x,y,w,h\na,1,2,3,4\na,1,2,3,4\n")
    with pytest.raises(ValueError, match="row 3: video 'a' has a box already"):
        read_boxes_csv(path)


def test_demo_corpus_greyscale_crop(demo_corpus):
    """The demo corpus's greyscale frames: the crop holds the generator's face box and stays square."""
    truth = pd.read_csv(demo_corpus.ground_truth / "videos.csv", dtype={"video": str})
    video = list_videos(demo_corpus.root, "samm-lv")[0]
    crop = locate_face(video, n_samples=5)
    row = truth[truth["video"] == video.video].iloc[0]
    assert _inside((int(row.face_x), int(row.face_y), int(row.face_w), int(row.face_h)), crop)
    assert crop.w == crop.h
    _, frame = next(iter_video_frames(video))
    assert frame.ndim == 2 and crop.apply(frame).shape == (256, 256)


def test_non_square_box_becomes_a_square_crop_about_its_centre(caplog):
    """A CSV box is the crop (no margin), made square by growing its shorter side about the centre and moved
    inside the frames; the face is never stretched by the resize to size×size."""
    import logging
    from pathlib import Path

    import cv2
    import numpy as np

    from samm_synth_dataset.faces.locate import crop_from_box
    from samm_synth_dataset.sources import VideoSource

    video = VideoSource(video="v", subject="v", dataset="generic", fps=25.0, width=960, height=540,
                        frame_numbers=(1,), video_file=Path("unused.mp4"))  # a box needs no frame reading
    wide = locate_face(video, size=128, boxes_csv={"v": (100, 100, 300, 200)})
    assert wide == FaceCrop(100, 50, 300, 300, size=128)                       # height 200 → 300, same centre
    assert locate_face(video, boxes_csv={"v": (10, 40, 100, 400)}) == FaceCrop(0, 40, 400, 400)  # moved inside
    assert crop_from_box((800, 0, 160, 100), 960, 540) == FaceCrop(800, 0, 160, 160)
    assert crop_from_box((50, 60, 70, 70), 960, 540) == FaceCrop(50, 60, 70, 70)  # square: as given
    with caplog.at_level(logging.WARNING, logger="samm_synth_dataset.faces.locate"):
        too_wide = crop_from_box((0, 100, 900, 300), 960, 540, video="v")
    assert too_wide == FaceCrop(180, 0, 540, 540) and "cut to 540 pixels" in caplog.text
    with pytest.raises(ValueError, match="box .* of video v leaves its 960×540 frames"):
        crop_from_box((900, 0, 100, 50), 960, 540, video="v")
    # a round face in the 300×200 box stays round after the resize
    frame = np.zeros((540, 960), np.uint8)
    cv2.circle(frame, (250, 200), 90, 255, -1)
    out = wide.apply(frame)
    assert out.shape == (128, 128)
    ys, xs = np.nonzero(out > 127)
    assert abs((xs.max() - xs.min()) - (ys.max() - ys.min())) <= 2

"""Numbered frame folders: numeric order, gaps refused or recorded, duplicates and stray images named."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from samm_synth_dataset.sources.folders import FrameGapError, frames_matching, numbered_video
from samm_synth_dataset.sources.frames import FrameReadError

PATTERN = re.compile(r"(\d+)\.jpg")


def _folder(tmp_path: Path, numbers: list[int]) -> Path:
    for n in numbers:
        ok, buf = cv2.imencode(".jpg", np.full((6, 8), 100, np.uint8))
        (tmp_path / f"{n}.jpg").write_bytes(buf.tobytes())
    (tmp_path / "notes.txt").write_text("not an image: ignored")
    return tmp_path


def test_numbers_sorted_numerically_and_size_read(tmp_path: Path) -> None:
    folder = _folder(tmp_path, [1, 2, 10, 3, 4, 5, 6, 7, 8, 9])
    video = numbered_video("v", "s", "casme3", 30.0, folder, frames_matching(folder, PATTERN), allow_gaps=False)
    assert video.frame_numbers == tuple(range(1, 11)) and (video.width, video.height) == (8, 6)
    assert video.frame_paths[-1].name == "10.jpg"


def test_gaps_refused_or_recorded(tmp_path: Path) -> None:
    folder = _folder(tmp_path, [1, 2, 5, 7])
    with pytest.raises(FrameGapError, match=r"video v lacks frame numbers 3, 4, 6 between 1 and 7") as err:
        numbered_video("v", "s", "casme3", 30.0, folder, frames_matching(folder, PATTERN), allow_gaps=False)
    assert err.value.missing == (3, 4, 6)
    video = numbered_video("v", "s", "casme3", 30.0, folder, frames_matching(folder, PATTERN), allow_gaps=True)
    assert video.missing == (3, 4, 6) and video.frame_numbers == (1, 2, 5, 7)


def test_duplicates_and_stray_images_are_named(tmp_path: Path) -> None:
    folder = _folder(tmp_path, [1, 2])
    (folder / "01.jpg").write_bytes((folder / "1.jpg").read_bytes())
    with pytest.raises(FrameReadError, match=r"frame numbers 1 appear more than once"):
        numbered_video("v", "s", "casme3", 30.0, folder, frames_matching(folder, PATTERN), allow_gaps=True)
    (folder / "cover.png").write_bytes(b"x")
    with pytest.raises(FrameReadError, match=r"cover\.png: image file name does not follow the frame naming"):
        frames_matching(folder, PATTERN)
    with pytest.raises(FrameReadError, match="has no frame files"):
        numbered_video("v", "s", "casme3", 30.0, folder, [], allow_gaps=False)

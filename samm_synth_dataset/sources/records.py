"""Records shared by every stage: the source dataset names, an interval kind and a source video.

Frame numbers are always the SOURCE numbering (SAMM-LV: 1-based, as in its sheet; CAS(ME)²: as in its
``img<n>.jpg`` names), so labels join frames 1:1. Interval ends are inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal


Kind = Literal["ME", "MaE"]
#: Source datasets, named so by every reader, the builder and a release's ``source_dataset`` column.
Dataset = Literal["samm-lv", "casme2", "casme3", "generic"]
DATASETS: tuple[str, ...] = ("samm-lv", "casme2", "casme3", "generic")


@dataclass(frozen=True)
class VideoSource:
    """One source video: its frames in order with their SOURCE frame numbers.

    Either ``frame_paths`` (one image file per frame, same order as ``frame_numbers``) or ``video_file`` (a
    container OpenCV reads; frame numbers are then 1-based positions) is set. ``width``/``height`` are pixels of
    the source frames; ``fps`` frames per second. ``missing`` lists frame numbers absent inside the range when
    the reader was asked to flag gaps instead of failing.
    """

    video: str
    subject: str
    dataset: str
    fps: float
    width: int
    height: int
    frame_numbers: tuple[int, ...]
    frame_paths: tuple[Path, ...] | None = None
    video_file: Path | None = None
    missing: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        if (self.frame_paths is None) == (self.video_file is None):
            raise ValueError(f"video {self.video}: give exactly one of frame_paths or video_file")
        if self.frame_paths is not None and len(self.frame_paths) != len(self.frame_numbers):
            raise ValueError(f"video {self.video}: {len(self.frame_paths)} paths for "
                             f"{len(self.frame_numbers)} frame numbers")

    @property
    def n_frames(self) -> int:
        return len(self.frame_numbers)

    @property
    def first_frame(self) -> int:
        return self.frame_numbers[0]

    @property
    def last_frame(self) -> int:
        return self.frame_numbers[-1]

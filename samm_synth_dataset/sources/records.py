"""Records shared by every stage: an annotated interval and a source video.

Frame numbers are always the SOURCE numbering (SAMM-LV: 1-based, as in its sheet; CAS(ME)²: as in its
``img<n>.jpg`` names), so labels join frames 1:1. Interval ends are inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal


Kind = Literal["ME", "MaE"]


@dataclass(frozen=True, slots=True)
class Interval:
    """One annotated movement.

    ``onset``, ``apex`` and ``offset`` are source frame numbers; ``onset..offset`` is inclusive. ``apex`` is None
    when the sheet gives none. ``flags`` lists the fixes applied while reading (e.g. ``rounded``,
    ``apex_missing``, ``onset_zero``, ``offset_clipped``).
    """

    interval_id: str
    source_id: str
    subject: str
    video: str
    onset: int
    apex: int | None
    offset: int
    kind: Kind
    action_units: str = ""
    notes: str = ""
    flags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in ("ME", "MaE"):
            raise ValueError(f"interval {self.interval_id}: kind must be 'ME' or 'MaE', got {self.kind!r}")
        if self.offset < self.onset:
            raise ValueError(f"interval {self.interval_id}: offset {self.offset} < onset {self.onset}")

    @property
    def length(self) -> int:
        """Number of frames, ends inclusive (offset − onset + 1)."""
        return self.offset - self.onset + 1

    def contains(self, frame: int) -> bool:
        """True when source frame number ``frame`` lies in ``onset..offset`` (inclusive)."""
        return self.onset <= frame <= self.offset


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

"""Frame folders: numbered frame files → a :class:`VideoSource`, with gaps and duplicates named.

Frame numbers are parsed from the file names (never their zero-padding width) and kept as the
source's numbers; a gap inside a video is an error (:class:`FrameGapError`) unless gaps are allowed.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from samm_synth_dataset.sources.frames import FrameReadError, read_image
from samm_synth_dataset.sources.records import VideoSource

log = logging.getLogger(__name__)

#: Image file suffixes of frame files (lower case).
IMAGE_SUFFIXES: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"})
_SHOW = 20  # missing frame numbers quoted in an error


class FrameGapError(FrameReadError):
    """Frame numbers are missing inside a video (``missing`` lists them)."""

    def __init__(self, message: str, missing: tuple[int, ...]) -> None:
        super().__init__(message)
        self.missing = missing


def _quote(numbers: list[int]) -> str:
    head = ", ".join(str(n) for n in numbers[:_SHOW])
    return head + (f", … ({len(numbers)} in all)" if len(numbers) > _SHOW else "")


def numbered_video(video: str, subject: str, dataset: str, fps: float, folder: Path,
                   frames: list[tuple[int, Path]], allow_gaps: bool) -> VideoSource:
    """A VideoSource from ``(frame number, path)`` pairs: sorted numerically, gaps checked, size from frame 1."""
    if not frames:
        raise FrameReadError(f"{folder}: video {video} has no frame files")
    frames.sort(key=lambda t: t[0])
    numbers = [n for n, _ in frames]
    dupes = sorted({a for a, b in zip(numbers, numbers[1:]) if a == b})
    if dupes:
        paths = [str(p.name) for n, p in frames if n in dupes][:_SHOW]
        raise FrameReadError(f"{folder}: frame numbers {_quote(dupes)} appear more than once ({paths}); "
                             "remove the duplicate files")
    missing: list[int] = []
    if numbers[-1] - numbers[0] + 1 != len(numbers):
        have = set(numbers)
        missing = [n for n in range(numbers[0], numbers[-1] + 1) if n not in have]
        if not allow_gaps:
            raise FrameGapError(f"{folder}: video {video} lacks frame numbers {_quote(missing)} between "
                                f"{numbers[0]} and {numbers[-1]}; restore them, or pass allow_gaps=True "
                                "(--allow-gaps) to record them as missing", tuple(missing))
        log.warning("video %s: %d missing frame numbers recorded (allow_gaps)", video, len(missing))
    first = read_image(frames[0][1])
    return VideoSource(video=video, subject=subject, dataset=dataset, fps=fps, width=int(first.shape[1]),
                       height=int(first.shape[0]), frame_numbers=tuple(numbers),
                       frame_paths=tuple(p for _, p in frames), missing=tuple(missing))


def frames_matching(folder: Path, pattern: re.Pattern[str]) -> list[tuple[int, Path]]:
    """``(number, path)`` for every image file of ``folder`` whose name matches ``pattern`` (group 1 = number).

    An image file that does not match is an error (never silently skipped); non-image files are ignored.
    """
    out: list[tuple[int, Path]] = []
    for entry in os.scandir(folder):
        if not entry.is_file():
            continue
        m = pattern.fullmatch(entry.name)
        if m:
            out.append((int(m.group(1)), Path(entry.path)))
        elif Path(entry.name).suffix.lower() in IMAGE_SUFFIXES:
            raise FrameReadError(f"{entry.path}: image file name does not follow the frame naming "
                                 f"{pattern.pattern!r}; rename or remove it")
    return out

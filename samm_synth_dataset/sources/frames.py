"""Reading frames from image folders and video files (OpenCV). Images are returned as uint8 numpy arrays:
H×W for greyscale files (as stored), H×W×3 **RGB** for colour files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

import cv2
import numpy as np

from samm_synth_dataset.images import JPEG_SOI, ImageDecodeError, decode_image, to_rgb

if TYPE_CHECKING:
    from samm_synth_dataset.sources.records import VideoSource


class FrameReadError(RuntimeError):
    """A frame file is missing, truncated or corrupt."""


#: What to do about an unreadable source frame.
REREAD_HINT = ("re-extract this frame from the original video, or delete the file and build with --allow-gaps to "
               "leave it out as a gap")


_JPEG_EOI = b"\xff\xd9"
#: How far from the end of a JPEG file its end-of-image marker may sit (some writers pad the file).
_EOI_SEARCH_BYTES = 64


def check_jpeg_complete(path: Path, data: np.ndarray, hint: str = REREAD_HINT) -> None:
    """Raise FrameReadError when a JPEG stream lacks its end-of-image marker (FF D9) near the end of the file.

    OpenCV decodes a truncated JPEG "successfully" (grey bottom rows, a warning on stderr), so the marker is
    checked explicitly. Inside entropy-coded data FF is always followed by 00 or a restart marker, so FF D9 near
    the end can only be the real end-of-image marker.
    """
    if data.size < 4 or data[:2].tobytes() != JPEG_SOI:
        return
    if _JPEG_EOI not in data[-_EOI_SEARCH_BYTES:].tobytes():
        raise FrameReadError(f"{path}: truncated JPEG (no end-of-image marker FF D9); the file was cut short "
                             f"while copying or extracting; {hint}")


def read_image(path: str | Path, hint: str = REREAD_HINT) -> np.ndarray:
    """Decode one image file as it is stored: H×W (greyscale) or H×W×3 RGB, uint8.

    Raises FrameReadError naming the file when it cannot be decoded, with ``hint`` (what to do) appended.
    """
    path = Path(path)
    data = np.fromfile(path, dtype=np.uint8) if path.is_file() else None
    if data is None or data.size == 0:
        raise FrameReadError(f"{path}: image file is missing or empty; {hint}")
    check_jpeg_complete(path, data, hint)
    try:
        return decode_image(data, str(path), hint=hint)
    except ImageDecodeError as exc:
        raise FrameReadError(str(exc)) from exc


def iter_video_frames(video: "VideoSource", start: int = 0, stop: int | None = None
                      ) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(source frame number, image)`` for positions ``start..stop-1`` (0-based, stop exclusive).

    Video files are read sequentially from the first frame even when ``start > 0``: the frames before
    ``start`` are grabbed and discarded (not converted). Seeking with ``CAP_PROP_POS_FRAMES`` can land on a
    nearby frame in compressed video (and then reports the requested position anyway), so it is never used.
    """
    if start < 0:
        raise IndexError(f"video {video.video}: start must be >= 0, got {start}")
    stop = video.n_frames if stop is None else min(stop, video.n_frames)
    if start >= stop:
        return
    if video.frame_paths is not None:
        for pos in range(start, stop):
            yield video.frame_numbers[pos], read_image(video.frame_paths[pos])
        return
    cap = cv2.VideoCapture(str(video.video_file))
    if not cap.isOpened():
        raise FrameReadError(f"{video.video_file}: OpenCV cannot open this video file")
    try:
        for pos in range(start):
            if not cap.grab():
                raise FrameReadError(f"{video.video_file}: frame {video.frame_numbers[pos]} (position {pos}) "
                                     "could not be read; the file is truncated or corrupt")
        for pos in range(start, stop):
            ok, bgr = cap.read()
            if not ok:
                raise FrameReadError(f"{video.video_file}: frame {video.frame_numbers[pos]} (position {pos}) "
                                     "could not be decoded; the file is truncated or corrupt")
            yield video.frame_numbers[pos], cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()


def read_frames_at(video: "VideoSource", positions: Iterable[int]) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield ``(position, source frame number, image)`` for the given 0-based positions, in increasing order.

    Image folders read only the requested files; video files are read sequentially (``grab`` skips frames
    without converting them), which is exact where seeking in compressed video is not.
    """
    wanted = sorted({int(p) for p in positions})
    if not wanted:
        return
    if wanted[0] < 0 or wanted[-1] >= video.n_frames:
        raise IndexError(f"video {video.video}: positions must lie in 0..{video.n_frames - 1}, got {wanted}")
    if video.frame_paths is not None:
        for pos in wanted:
            yield pos, video.frame_numbers[pos], read_image(video.frame_paths[pos])
        return
    cap = cv2.VideoCapture(str(video.video_file))
    if not cap.isOpened():
        raise FrameReadError(f"{video.video_file}: OpenCV cannot open this video file")
    try:
        todo = iter(wanted)
        target = next(todo)
        for pos in range(wanted[-1] + 1):
            if not cap.grab():
                raise FrameReadError(f"{video.video_file}: frame {video.frame_numbers[pos]} (position {pos}) "
                                     "could not be read; the file is truncated or corrupt")
            if pos == target:
                ok, bgr = cap.retrieve()
                if not ok:
                    raise FrameReadError(f"{video.video_file}: frame {video.frame_numbers[pos]} (position "
                                         f"{pos}) could not be decoded; the file is truncated or corrupt")
                yield pos, video.frame_numbers[pos], cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                target = next(todo, -1)
    finally:
        cap.release()

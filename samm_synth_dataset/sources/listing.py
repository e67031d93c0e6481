"""Listing source videos: SAMM-LV and CAS(ME)² frame folders, generic image folders and video files.

Frame numbers keep the SOURCE numbering parsed from the file names (SAMM-LV ``<video>_<n>.jpg`` and CAS(ME)²
``img<n>.jpg``: 1-based; the number is parsed, never its zero-padding width). Video files are numbered by
1-based position.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Iterable

import cv2
from tqdm.auto import tqdm

from samm_synth_dataset.sources import casme3
from samm_synth_dataset.sources.folders import IMAGE_SUFFIXES, frames_matching, numbered_video
from samm_synth_dataset.sources.frames import FrameReadError
from samm_synth_dataset.sources.records import Dataset, VideoSource

log = logging.getLogger(__name__)


SAMM_FPS = 200.0
#: The SAMM-LV frames folder (``SAMM_longvideos/<video>/<video>_<n>.jpg``).
SAMM_FRAMES_DIR = "SAMM_longvideos"
CASME2_FPS = 30.0
VIDEO_SUFFIXES: frozenset[str] = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".mpg", ".mpeg", ".m4v",
                                            ".wmv"})
def samm_frame_name(video: str, frame: int) -> str:
    """A SAMM-LV frame file name, ``<video>_<n>.jpg`` with ``n`` 1-based and zero-padded to at least 4 digits (the
    reader parses the number, never its padding width)."""
    return f"{video}_{frame:04d}.jpg"


def _samm_lv(root: Path, fps: float, allow_gaps: bool, only: set[str] | None) -> list[VideoSource]:
    base = root / SAMM_FRAMES_DIR if (root / SAMM_FRAMES_DIR).is_dir() else root
    folders = sorted(p for p in base.iterdir() if p.is_dir() and re.fullmatch(r"\d+_[0-9A-Za-z]+", p.name))
    if not folders:
        raise FileNotFoundError(f"{root}: no SAMM-LV video folders (<subject>_<code>, e.g. 006_1) here or in "
                                f"{root / SAMM_FRAMES_DIR}")
    out = []
    for folder in tqdm([f for f in folders if only is None or f.name in only], desc="listing SAMM-LV",
                       unit="video", disable=None, leave=False):
        video = folder.name
        pattern = re.compile(rf"{re.escape(video)}_(\d+)\.jpe?g", re.IGNORECASE)
        out.append(numbered_video(video, f"{int(video.split('_')[0]):03d}", "samm-lv", fps, folder,
                                   frames_matching(folder, pattern), allow_gaps))
    return out


def _casme2(root: Path, fps: float, allow_gaps: bool, only: set[str] | None) -> list[VideoSource]:
    base = root / "rawpic" if (root / "rawpic").is_dir() else root
    subject_dirs = sorted(p for p in base.iterdir() if p.is_dir() and re.fullmatch(r"s\d+", p.name))
    if not subject_dirs:
        raise FileNotFoundError(f"{root}: no CAS(ME)² subject folders (s15, s16, …) here or in {root / 'rawpic'}")
    found: dict[str, Path] = {}
    for sdir in subject_dirs:
        for folder in sorted(p for p in sdir.iterdir() if p.is_dir()):
            m = re.match(r"(\d+)_(\d{4})", folder.name)
            if not m:
                raise FileNotFoundError(f"{folder}: not a CAS(ME)² video folder '<subject#>_<code><stimulus>' "
                                        "(e.g. 15_0101disgustingteeth); rename or remove it")
            video = f"{m.group(1)}_{m.group(2)}"
            if video in found:
                raise FileNotFoundError(f"{found[video]} and {folder} are both video {video}; remove one")
            if sdir.name != f"s{m.group(1)}":
                log.warning("%s: video %s is filed under %s; its subject is s%s", folder, video, sdir.name,
                            m.group(1))
            found[video] = folder
    out = []
    pattern = re.compile(r"img(\d+)\.jpe?g", re.IGNORECASE)
    for video, folder in tqdm([(v, f) for v, f in found.items() if only is None or v in only],
                              desc="listing CAS(ME)²", unit="video", disable=None, leave=False):
        out.append(numbered_video(video, f"s{video.split('_')[0]}", "casme2", fps, folder,
                                   frames_matching(folder, pattern), allow_gaps))
    return out


def _safe_video_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_\-]+", "_", name).strip("_") or "video"


def _generic_subject(video: str) -> str:
    return video.split("_")[0]


def _image_folder(folder: Path, fps: float | None, allow_gaps: bool) -> VideoSource:
    images = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    numbered = [(re.findall(r"\d+", p.stem), p) for p in images]
    if all(digits for digits, _ in numbered):
        frames = [(int(digits[-1]), p) for digits, p in numbered]
    elif not any(digits for digits, _ in numbered):
        frames = [(i + 1, p) for i, p in enumerate(images)]  # no numbers at all: 1-based name order
    else:
        odd = [p.name for digits, p in numbered if not digits][:5]
        raise FrameReadError(f"{folder}: some image names carry a frame number and some do not ({odd}); "
                             "name every frame with its number")
    if fps is None:
        raise ValueError(f"{folder}: an image folder has no frame rate; pass fps (--fps)")
    video = _safe_video_id(folder.name)
    return numbered_video(video, _generic_subject(video), "generic", fps, folder, frames, allow_gaps)


def _video_file(path: Path, fps: float | None) -> VideoSource:
    """A video container: fps from the file (unless given), frames counted by reading them (exact)."""
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise FrameReadError(f"{path}: OpenCV cannot open this video file")
    try:
        file_fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        n = 0
        while cap.grab():
            n += 1
    finally:
        cap.release()
    if n == 0:
        raise FrameReadError(f"{path}: no frame could be read; the file is empty or corrupt")
    if fps is None:
        if not file_fps > 0:
            raise ValueError(f"{path}: the file states no frame rate; pass fps (--fps)")
        fps = file_fps
    video = _safe_video_id(path.stem)
    return VideoSource(video=video, subject=_generic_subject(video), dataset="generic", fps=fps, width=width,
                       height=height, frame_numbers=tuple(range(1, n + 1)), video_file=path)


def _generic(root: Path, fps: float | None, allow_gaps: bool, only: set[str] | None) -> list[VideoSource]:
    if root.is_file():
        return [_video_file(root, fps)]
    entries = sorted(root.iterdir())
    if any(p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES for p in entries):
        return [_image_folder(root, fps, allow_gaps)]
    out: list[VideoSource] = []
    for p in tqdm(entries, desc="listing videos", unit="video", disable=None, leave=False):
        if only is not None and _safe_video_id(p.stem if p.is_file() else p.name) not in only:
            continue
        if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES:
            out.append(_video_file(p, fps))
        elif p.is_dir() and any(c.suffix.lower() in IMAGE_SUFFIXES for c in p.iterdir()):
            out.append(_image_folder(p, fps, allow_gaps))
    if not out:
        raise FileNotFoundError(f"{root}: no images, image folders or video files "
                                f"({', '.join(sorted(VIDEO_SUFFIXES))}) found")
    ids = [v.video for v in out]
    dupes = sorted({v for v in ids if ids.count(v) > 1})
    if dupes:
        raise ValueError(f"{root}: several files map to the same video id {dupes}; rename them")
    return out


def list_videos(root: str | Path, dataset: Dataset | str, *, allow_gaps: bool = False,
                fps: float | None = None, videos: Iterable[str] | None = None) -> list[VideoSource]:
    """List the source videos under ``root``, sorted by video id.

    * ``"samm-lv"``: ``SAMM_longvideos/<video>/<video>_<n>.jpg`` (``root`` is that folder or its parent),
      4- or 5-digit ``n``, 1-based; fps 200.
    * ``"casme2"``: ``rawpic/sNN/<NN>_<code><stimulus>/img<n>.jpg`` (``root`` is ``rawpic`` or its parent);
      video id ``<NN>_<code>`` (``15_0101``), subject ``sNN`` from the video folder's number; fps 30.
    * ``"casme3"``: ``[part_A/data/part_A_split/part_A/]spNO.<N>/<clip>/color/<n>.jpg``, unpadded 1-based ``n``
      (``depth/`` ignored); video id ``spNO<N>_<clip lower case>``, subject ``spNO.<N>``; fps 30; every JPEG is
      checked up front and unreadable ones are named and handled as gaps (see ``sources.casme3``).
    * ``"generic"``: a video file, a folder of numbered images (one video, named after the
      folder; ``fps`` required), or a folder of such videos/folders. Video files: fps from the file,
      frames numbered 1..N by position. Subject = the video id's first ``_`` field.

    Missing numbers inside a video raise :class:`FrameGapError` listing them, unless ``allow_gaps`` (then they
    are recorded in ``VideoSource.missing``). The size is read from the first frame, which must decode.
    ``fps`` overrides the dataset's rate; ``videos`` restricts the listing to those ids (all must exist).
    """
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"{root}: no such file or folder")
    only = set(videos) if videos is not None else None
    if dataset == "samm-lv":
        out = _samm_lv(root, fps or SAMM_FPS, allow_gaps, only)
    elif dataset == "casme2":
        out = _casme2(root, fps or CASME2_FPS, allow_gaps, only)
    elif dataset == "casme3":
        out = casme3.list_casme3(root, fps or casme3.FPS, allow_gaps, only)
    elif dataset == "generic":
        out = _generic(root, fps, allow_gaps, only)
    else:
        raise ValueError(f"unknown dataset {dataset!r}; expected 'samm-lv', 'casme2', 'casme3' or 'generic'")
    if only is not None:
        absent = sorted(only - {v.video for v in out})
        if absent:
            raise FileNotFoundError(f"{root}: videos {absent} were asked for but are not there")
    return sorted(out, key=lambda v: v.video)

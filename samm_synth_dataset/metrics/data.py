"""Reading what the metrics need from a release (videos, intervals, synthetic frames, AU tracks) and from the
source corpus (original frames through the video's crop). Frame numbers are SOURCE frame numbers."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

import cv2
import numpy as np
import pandas as pd
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from samm_synth_dataset import format as fmt
from samm_synth_dataset.faces.crop import FaceCrop
from samm_synth_dataset.images import decode_image
from samm_synth_dataset.sources import list_videos
from samm_synth_dataset.sources.frames import iter_video_frames, read_frames_at


def read_videos(release: str | Path) -> pd.DataFrame:
    """The release's videos table (one row per synthetic video)."""
    path = Path(release) / fmt.VIDEOS_PATH
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the release has no videos table; is this a finished release?")
    return pd.read_parquet(path)


def read_intervals(release: str | Path) -> pd.DataFrame:
    """The release's intervals table (source frame numbers, inclusive ends; ``apex`` may be null)."""
    path = Path(release) / fmt.INTERVALS_PATH
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the release has no intervals table; is this a finished release?")
    return pd.read_parquet(path)


def crop_of(row: pd.Series | dict[str, Any]) -> FaceCrop:
    """The video's ``FaceCrop`` from its videos-table row (box in source pixels, output = synthetic width;
    with the FAN alignment's ``crop_matrix`` (2×3 row-major, source → output pixels) when the build used it)."""
    c = row["crop"]
    m = row.get("crop_matrix") if hasattr(row, "get") else None
    matrix = None
    if m is not None and not isinstance(m, float) and len(m) == 6:  # null: None (or NaN from pandas)
        v = [float(x) for x in m]
        matrix = ((v[0], v[1], v[2]), (v[3], v[4], v[5]))
    return FaceCrop(int(c["x"]), int(c["y"]), int(c["w"]), int(c["h"]), size=int(row["width"]),
                    matrix=matrix)  # type: ignore[arg-type]


def decode(data: bytes, where: str) -> np.ndarray:
    """Decode a release frame's bytes as stored: H×W greyscale or H×W×3 RGB uint8."""
    return decode_image(data, where, hint="the release is corrupt (rebuild this video)")


def _frame_files(release: Path, video: str) -> list[Path]:
    pattern = f"{fmt.check_id(video, 'video id')}-[0-9][0-9][0-9][0-9][0-9].parquet"
    files = sorted((release / fmt.FRAMES_DIR).glob(pattern))
    if not files:
        raise FileNotFoundError(f"{release / fmt.FRAMES_DIR}: no Parquet frames for video {video}; the metrics "
                                "read the Parquet frames (build with --formats parquet)")
    return files


def synthetic_frames(release: str | Path, video: str, frames: Iterable[int]) -> dict[int, np.ndarray]:
    """Decode the synthetic frames of ``video`` with the given SOURCE frame numbers. Raises KeyError naming any
    frame the release does not hold."""
    release = Path(release)
    wanted = sorted({int(f) for f in frames})
    if not wanted:
        return {}
    ds = pads.dataset([str(p) for p in _frame_files(release, video)], format="parquet")
    table = ds.to_table(columns=["video", "frame", "image"],
                        filter=(pads.field("video") == video) & pads.field("frame").isin(wanted))
    out: dict[int, np.ndarray] = {}
    for frame, image in zip(table.column("frame").to_pylist(), table.column("image").to_pylist()):
        out[int(frame)] = decode(image["bytes"], f"{video} frame {frame}")
    missing = [f for f in wanted if f not in out]
    if missing:
        raise KeyError(f"{release}: video {video} has no synthetic frames {missing[:10]}")
    return out


def iter_synthetic_frames(release: str | Path, video: str) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(source frame, image)`` of every synthetic frame of ``video`` in ``index`` order."""
    for path in _frame_files(Path(release), video):
        pf = pq.ParquetFile(path)
        for rg in range(pf.num_row_groups):
            t = pf.read_row_group(rg, columns=["video", "frame", "index", "image"])
            for v, frame, image in zip(t.column("video").to_pylist(), t.column("frame").to_pylist(),
                                       t.column("image").to_pylist()):
                if v == video:
                    yield int(frame), decode(image["bytes"], f"{path} frame {frame}")


def synthetic_frame_numbers(release: str | Path, video: str) -> np.ndarray:
    """SOURCE frame numbers of the synthetic video, in index order."""
    ds = pads.dataset([str(p) for p in _frame_files(Path(release), video)], format="parquet")
    t = ds.to_table(columns=["frame", "index"], filter=pads.field("video") == video).to_pandas()
    return t.sort_values("index")["frame"].to_numpy(dtype=np.int64)


class OriginalFrames:
    """Original frames of one source video through the synthetic video's crop (size = synthetic width).

    ``source_root`` is the corpus root the release was built from; the source video is found with
    ``sources.list_videos(source_root, dataset)``.
    """

    def __init__(self, source_root: str | Path, row: pd.Series | dict[str, Any]) -> None:
        self.crop = crop_of(row)
        self.size = (int(row["width"]), int(row["height"]))
        self.source = _find_source(str(Path(source_root).resolve()), str(row["source_dataset"]),
                                   str(row["source_video"]))
        self._pos = {int(f): i for i, f in enumerate(self.source.frame_numbers)}

    @property
    def frame_numbers(self) -> tuple[int, ...]:
        return self.source.frame_numbers

    def get(self, frames: Iterable[int]) -> dict[int, np.ndarray]:
        """Cropped original frames (uint8, as the crop gives them: H×W or H×W×3) by SOURCE frame number."""
        wanted = sorted({int(f) for f in frames})
        missing = [f for f in wanted if f not in self._pos]
        if missing:
            raise KeyError(f"source video {self.source.video}: no frames {missing[:10]}")
        out = {}
        for _, frame, image in read_frames_at(self.source, [self._pos[f] for f in wanted]):
            img = self.crop.apply(image)
            if (img.shape[1], img.shape[0]) != self.size:
                img = cv2.resize(img, self.size, interpolation=cv2.INTER_AREA)
            out[int(frame)] = img
        return out

    def iter(self) -> Iterator[tuple[int, np.ndarray]]:
        """Yield every cropped original frame in order."""
        for frame, image in iter_video_frames(self.source):
            img = self.crop.apply(image)
            if (img.shape[1], img.shape[0]) != self.size:
                img = cv2.resize(img, self.size, interpolation=cv2.INTER_AREA)
            yield frame, img


@lru_cache(maxsize=8)
def _sources(source_root: str, dataset: str) -> dict[str, Any]:
    return {v.video: v for v in list_videos(source_root, dataset)}


def expected_source_path(source_root: str | Path, dataset: str, video: str) -> Path:
    """Where ``sources.list_videos`` looks for the frames of ``video`` (a folder; for CAS(ME)² the subject's folder,
    which holds ``<video><stimulus>/``), for messages."""
    root = Path(source_root)
    if dataset == "samm-lv":
        return (root / "SAMM_longvideos" if (root / "SAMM_longvideos").is_dir() else root) / video
    if dataset == "casme2":
        base = root / "rawpic" if (root / "rawpic").is_dir() else root
        return base / f"s{video.split('_')[0]}"
    if dataset == "casme3":  # spNO<N>_<clip> → spNO.<N>/<clip>/color (the clip folder's case may differ)
        number, clip = video.removeprefix("spNO").split("_", 1)
        return root / f"spNO.{number}" / clip / "color"
    return root / video


def _find_source(source_root: str, dataset: str, video: str):
    videos = _sources(source_root, dataset)
    if video not in videos:
        raise FileNotFoundError(f"source video {video} ({dataset}) not found: no frames folder "
                                f"{expected_source_path(source_root, dataset, video)}; pass the corpus root the "
                                "release was built from (--source-root)")
    return videos[video]


def source_root_of(release: str | Path) -> Path | None:
    """The ``source_root`` recorded in the release manifest's config, when it still exists here."""
    manifest = fmt.read_manifest(release, require_complete=False)
    root = (manifest.get("config") or {}).get("source_root")
    if root and Path(root).is_dir():
        return Path(root)
    return None

"""``samm-synth aus``: OpenFace AU tracks of every synthetic video and of its original, into ``data/aus/``.

For each synthetic video, the original track is computed on the source frames through the video's crop (the
videos table's ``crop``, resized to the synthetic size), the synthetic track on the release's frames, both over
the same SOURCE frame numbers (the synthetic video's, in index order). OpenFace numbers images 1, 2, ... in
sorted file-name order; image ``i`` (1-based) is the i-th of those frames. Precomputed CSVs must have been made
the same way (one image per frame of the synthetic video, in order).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from samm_synth_dataset import format as fmt
from samm_synth_dataset.metrics import data
from samm_synth_dataset.metrics.openface import (
    find_openface, read_openface_csv, run_openface, track_table, write_aus,
)

log = logging.getLogger(__name__)


def _write_rgb(path: Path, image: np.ndarray) -> None:
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    if not cv2.imwrite(str(path), bgr):
        raise OSError(f"{path}: cannot write image")


def export_original_frames(source_root: Path, row: pd.Series, frames: np.ndarray, out: Path) -> Path:
    """Write the cropped original frames (``frames``: SOURCE numbers, in order) as ``000001.png`` ... into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    originals = data.OriginalFrames(source_root, row)
    pos = {int(f): i for i, f in enumerate(frames)}
    written = 0
    for frame, image in originals.iter():
        if frame in pos:
            _write_rgb(out / f"{pos[frame] + 1:06d}.png", image)
            written += 1
    if written != len(frames):
        raise FileNotFoundError(f"source video {row['source_video']}: {len(frames) - written} of the synthetic "
                                "video's frames are missing from the source corpus")
    return out


def export_synthetic_frames(release: Path, video: str, out: Path) -> np.ndarray:
    """Write the synthetic frames as ``000001.png`` ... (index order) into ``out``; return their SOURCE numbers."""
    out.mkdir(parents=True, exist_ok=True)
    frames = []
    for i, (frame, image) in enumerate(data.iter_synthetic_frames(release, video)):
        _write_rgb(out / f"{i + 1:06d}.png", image)
        frames.append(frame)
    return np.asarray(frames, dtype=np.int64)


def original_key(row: pd.Series | dict[str, Any], frames: np.ndarray) -> tuple[str, str, int, int, str]:
    """Cache key of an original's OpenFace CSV: the source video, the crop (box, and ``crop_matrix`` when the
    videos table has one), the output size (px) and the SOURCE frame numbers exported (sha1 of them as int64, in
    order): two synthetic videos share the original's CSV only when all of these are equal."""
    face = data.crop_of(row)
    crop = repr((face.as_dict(), face.matrix_list()))
    digest = hashlib.sha1(np.ascontiguousarray(frames, dtype=np.int64).tobytes()).hexdigest()
    return str(row["source_video"]), crop, int(row["width"]), int(row["height"]), digest


def _precomputed(directory: Path, names: list[str]) -> Path:
    for name in names:
        p = directory / f"{name}.csv"
        if p.is_file():
            return p
    raise FileNotFoundError(f"{directory}: no precomputed OpenFace CSV {' or '.join(n + '.csv' for n in names)}")


def export_aus(release: str | Path, source_root: str | Path | None = None, openface_bin: str | Path | None = None,
               original_csv_dir: str | Path | None = None, synthetic_csv_dir: str | Path | None = None,
               au_static: bool = False, work_dir: str | Path | None = None, keep_frames: bool = False,
               progress: bool = True) -> pd.DataFrame:
    """Write ``data/aus/<video>.parquet`` for every synthetic video and add them to the manifest.

    Either ``original_csv_dir`` and ``synthetic_csv_dir`` (precomputed CSVs: ``<video>.csv``; for originals also
    ``<source video>.csv``) or OpenFace (``openface_bin`` or ``FeatureExtraction`` on PATH; then ``source_root``
    is needed for the originals). Returns the coverage table: per video, frames and the fraction of frames with
    ``success`` in each track.
    """
    release = Path(release)
    fmt.read_manifest(release)
    if (original_csv_dir is None) != (synthetic_csv_dir is None):
        raise ValueError("give both --original-csv-dir and --synthetic-csv-dir, or neither (then OpenFace runs)")
    precomputed = original_csv_dir is not None
    exe = None
    if not precomputed:
        exe = find_openface(openface_bin)
        source_root = Path(source_root) if source_root else data.source_root_of(release)
        if source_root is None:
            raise ValueError("the originals' AUs need the source corpus: pass --source-root DIR")
    videos = data.read_videos(release)
    tmp_root = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="samm-synth-aus-"))
    original_cache: dict[tuple[str, str, int, int, str], Path] = {}
    coverage = []
    written = []
    try:
        for row in tqdm([r for _, r in videos.iterrows()], desc="AU tracks", unit="video", disable=not progress):
            video = str(row["video"])
            frames = data.synthetic_frame_numbers(release, video)
            if precomputed:
                o_csv = _precomputed(Path(original_csv_dir), [video, str(row["source_video"])])
                s_csv = _precomputed(Path(synthetic_csv_dir), [video])
            else:
                s_dir = tmp_root / video / "synthetic"
                got = export_synthetic_frames(release, video, s_dir)
                assert np.array_equal(got, frames)
                s_csv = run_openface(s_dir, tmp_root / video, binary=exe, au_static=au_static, name="synthetic")
                key = original_key(row, frames)
                if key not in original_cache:
                    o_dir = tmp_root / video / "original"
                    export_original_frames(Path(source_root), row, frames, o_dir)
                    original_cache[key] = run_openface(o_dir, tmp_root / video, binary=exe, au_static=au_static,
                                                       name="original")
                    if not keep_frames:
                        shutil.rmtree(o_dir, ignore_errors=True)
                o_csv = original_cache[key]
                if not keep_frames:
                    shutil.rmtree(s_dir, ignore_errors=True)
            tables = []
            for track, csv in (("original", o_csv), ("synthetic", s_csv)):
                df = read_openface_csv(csv)
                if len(df) > len(frames):
                    raise ValueError(f"{csv}: {len(df)} frames but video {video} has {len(frames)}; this CSV was "
                                     "not made from this video's frames")
                tables.append(track_table(video, track, df, frames))
            path = write_aus(release / fmt.AUS_DIR / f"{video}.parquet", tables)
            written.append(path.relative_to(release).as_posix())
            coverage.append({"video": video, "frames": len(frames),
                             "original_success": float(tables[0]["success"].mean()),
                             "synthetic_success": float(tables[1]["success"].mean()),
                             "both_success": float((tables[0]["success"].to_numpy()
                                                    & tables[1]["success"].to_numpy()).mean())})
    finally:
        if not work_dir and not keep_frames:
            shutil.rmtree(tmp_root, ignore_errors=True)
    fmt.add_files(release, written)
    return pd.DataFrame(coverage)



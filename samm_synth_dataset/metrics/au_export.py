"""``samm-synth aus``: OpenFace AU tracks of every synthetic video and of its original, into ``data/aus/``.

For each synthetic video, the original track is computed on the source frames through the video's crop (the
videos table's ``crop``, resized to the synthetic size), the synthetic track on the release's frames, both over
the same SOURCE frame numbers (the synthetic video's, in index order). OpenFace numbers images 1, 2, ... in
sorted file-name order; image ``i`` (1-based) is the i-th of those frames. Precomputed CSVs must have been made
the same way (one image per frame of the synthetic video, in order).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shlex
import shutil
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from samm_synth_dataset import format as fmt
from samm_synth_dataset.metrics import data
from samm_synth_dataset.metrics.openface import (find_openface, parse_openface_args, read_openface_csv, run_openface,
                                                 track_table, write_aus)
from samm_synth_dataset.stages import Stage, Task, TaskDirs, release_digest

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


def _key_id(key: tuple[str, str, int, int, str]) -> str:
    """A file-safe task id of an original's cache key."""
    return "o-" + hashlib.sha1(repr(key).encode()).hexdigest()[:20]


def _openface_task(task: Task, dirs: TaskDirs) -> None:
    """One OpenFace run: export the frames (synthetic, or the original through the crop) into scratch, run
    FeatureExtraction (its output in ``dirs.log``), keep its CSV as ``track.csv``."""
    a = task.args
    frames_dir = dirs.scratch / "frames"
    if a["track"] == "synthetic":
        got = export_synthetic_frames(a["release"], a["video"], frames_dir)
        if not np.array_equal(got, a["frames"]):
            raise ValueError(f"video {a['video']}: its frames changed while the AU tracks were made")
    else:
        export_original_frames(a["source_root"], pd.Series(a["row"]), a["frames"], frames_dir)
    csv = run_openface(frames_dir, dirs.scratch / "openface", binary=a["exe"], au_static=a["au_static"],
                       name="track", extra_args=a["openface_args"], log_file=dirs.log)
    shutil.copyfile(csv, dirs.out / "track.csv")


def _tracks_task(task: Task, dirs: TaskDirs) -> None:
    """One video's ``data/aus`` file from its two OpenFace CSVs, and its coverage (``coverage.json``)."""
    a = task.args
    video, frames = a["video"], a["frames"]
    tables = []
    for track, csv in (("original", a["original_csv"]), ("synthetic", a["synthetic_csv"])):
        df = read_openface_csv(csv)
        if len(df) > len(frames):
            raise ValueError(f"{csv}: {len(df)} frames but video {video} has {len(frames)}; this CSV was "
                             "not made from this video's frames")
        tables.append(track_table(video, track, df, frames))
    write_aus(dirs.out / f"{video}.parquet", tables)
    o, s = (t["success"].to_numpy() for t in tables)
    fmt.atomic_write_json(dirs.out / "coverage.json", {
        "video": video, "frames": len(frames), "original_success": float(o.mean()),
        "synthetic_success": float(s.mean()), "both_success": float((o & s).mean())})


def _rerun(release: Path, options: dict[str, Any]) -> str:
    """The ``samm-synth aus`` command line of these options (what finishes an interrupted run)."""
    words = ["samm-synth", "aus", str(release)]
    for flag, value in options.items():
        if value is True:
            words.append(flag)
        elif value not in (None, False):  # a value that starts with "-" must be glued to its flag for argparse
            words += [f"{flag}={value}"] if str(value).startswith("-") else [flag, str(value)]
    return shlex.join(words)


def export_aus(release: str | Path, source_root: str | Path | None = None, openface_bin: str | Path | None = None,
               original_csv_dir: str | Path | None = None, synthetic_csv_dir: str | Path | None = None,
               au_static: bool = False, work_dir: str | Path | None = None, keep_frames: bool = False,
               progress: bool = True, workers: int | None = None,
               openface_args: str | list[str] | None = None) -> pd.DataFrame:
    """Write ``data/aus/<video>.parquet`` for every synthetic video and add them to the manifest, all or nothing.

    Either ``original_csv_dir`` and ``synthetic_csv_dir`` (precomputed CSVs: ``<video>.csv``; for originals also
    ``<source video>.csv``) or OpenFace (``openface_bin`` or ``FeatureExtraction`` on PATH; then ``source_root``
    is needed for the originals). OpenFace runs once per synthetic video and once per distinct original (source
    video, crop, size, frames), in ``workers`` processes (``stages.Stage``; under torchrun each rank takes its
    share), each capped to its share of the cores; its output is kept per run in
    ``.build/stages/aus/openface/logs/``. ``work_dir``: where the exported frames go, one folder per OpenFace
    run (default: the system's temp folder), kept with ``keep_frames``. A failed or killed run
    leaves the release unchanged and keeps the finished OpenFace runs: the same command finishes the job.
    Returns the coverage table: per video, frames and the fraction of frames with ``success`` in each track.
    """
    release = Path(release)
    manifest = fmt.read_manifest(release)
    if (original_csv_dir is None) != (synthetic_csv_dir is None):
        raise ValueError("give both --original-csv-dir and --synthetic-csv-dir, or neither (then OpenFace runs)")
    precomputed = original_csv_dir is not None
    extra = parse_openface_args(openface_args)
    if precomputed and (extra or au_static):
        raise ValueError("--openface-args and --au-static apply when OpenFace runs, not to precomputed CSVs "
                         "(--original-csv-dir/--synthetic-csv-dir): pass them to the OpenFace that made the CSVs")
    exe = None
    if not precomputed:
        exe = find_openface(openface_bin)
        source_root = Path(source_root) if source_root else data.source_root_of(release)
        if source_root is None:
            raise ValueError("the originals' AUs need the source corpus: pass --source-root DIR")
    rerun = _rerun(release, {"--source-root": source_root if not precomputed else None,
                             "--openface-bin": openface_bin, "--original-csv-dir": original_csv_dir,
                             "--synthetic-csv-dir": synthetic_csv_dir, "--au-static": au_static,
                              "--openface-args": shlex.join(extra) if extra else None, "--work-dir": work_dir,
                             "--keep-frames": keep_frames, "--workers": workers})
    videos = data.read_videos(release)
    rows = [r for _, r in videos.iterrows()]
    frames = {str(r["video"]): data.synthetic_frame_numbers(release, str(r["video"])) for r in rows}
    made = {"source": "precomputed" if precomputed else "openface", "au_static": au_static, "openface_args": extra}
    settings: dict[str, Any] = {"release": release_digest(manifest), **made}
    with Stage(release, "aus", rerun=rerun, workers=workers, progress=progress, scratch=work_dir,
               keep_scratch=keep_frames) as stage:
        csvs: dict[str, tuple[Path, Path]] = {}
        if precomputed:
            for r in rows:
                video = str(r["video"])
                csvs[video] = (_precomputed(Path(original_csv_dir), [video, str(r["source_video"])]),
                               _precomputed(Path(synthetic_csv_dir), [video]))
            settings["csv"] = {v: [str(o.resolve()), fmt.sha256_file(o), str(s.resolve()), fmt.sha256_file(s)]
                               for v, (o, s) in csvs.items()}
        else:
            settings.update(openface=str(Path(exe).resolve()), openface_sha256=fmt.sha256_file(exe),
                            source_root=str(Path(source_root).resolve()))
            common = {"release": release, "exe": exe, "au_static": au_static, "openface_args": extra,
                      "source_root": Path(source_root)}
            tasks: list[Task] = []
            original_of: dict[str, str] = {}   # video -> its original's task id
            originals: set[str] = set()
            for r in rows:
                video = str(r["video"])
                n = len(frames[video])
                tasks.append(Task(f"s-{video}", n, {**common, "track": "synthetic", "video": video,
                                                    "frames": frames[video]}))
                key_id = _key_id(original_key(r, frames[video]))
                if key_id not in originals:
                    originals.add(key_id)
                    tasks.append(Task(key_id, n, {**common, "track": "original", "video": video,
                                                  "row": r.to_dict(), "frames": frames[video]}))
                original_of[video] = key_id
            done = stage.run("openface", tasks, _openface_task, settings)
            csvs = {v: (done[original_of[v]] / "track.csv", done[f"s-{v}"] / "track.csv") for v in frames}
        tracks = stage.run("tracks", [Task(v, len(frames[v]), {"video": v, "frames": frames[v],
                                                               "original_csv": o, "synthetic_csv": s})
                                      for v, (o, s) in csvs.items()], _tracks_task, settings)
        coverage = pd.DataFrame([json.loads((tracks[v] / "coverage.json").read_text()) for v in frames])
        if stage.is_main:
            stage.commit({f"{fmt.AUS_DIR}/{v}.parquet": tracks[v] / f"{v}.parquet" for v in frames},
                         replace_folder=fmt.AUS_DIR, record={fmt.AUS_RECORD: made})
    return coverage

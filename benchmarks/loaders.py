"""Clip-streaming throughput: our shards vs the in-memory decode ceiling vs today's spotting-code reads.

Run: ``python benchmarks/loaders.py [--quick] [--workers 2] [--workdir DIR]``

It generates, in a temporary folder, SAMM-LV-sized source frames (2040×1088 greyscale JPEG, 200 fps layout
``SAMM_longvideos/<sss>_<c>/<sss>_<c>_<nnnn>.jpg``), crops a fixed face box to 256×256 RGB (as a build does), and
writes a release with the ``format`` schemas (Parquet parts + tars). It then times, side by side in one run, with the
same DataLoader (workers, batch size, clip length, stride):

* ``parquet`` / ``webdataset``: :class:`ClipDataset` on our shards (samples = clips per second);
* ``memory`` (ceiling): the same windows and decode-once logic, JPEG bytes served from RAM;
* ``files-256``: the same 256² JPEGs read as one file per frame (no goal);
* ``spotting-today``: per frame of every clip, read the full-size source JPEG from its folder, crop the face box
  and resize to 256² (what SoftNet-style code does per read).

* ``parquet+aus`` / ``webdataset+aus``: the same with ``aus=True`` (each frame's original and synthetic OpenFace
  AUs from ``data/aus``, written here with random values);
* ``wds-pipeline`` / ``wds-pipeline+aus``: ``load_webdataset(...).batched(batch × clip_len)`` (the clip runs'
  frames per batch) frames per second, reported per clip_len frames, without / with ``aus=True``.

Goals: parquet / memory >= 0.8; parquet / spotting-today >= 10; with AUs / frames alone >= 0.9.
Choose runs with ``--only parquet,parquet+aus`` (default: all).
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import resource
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from samm_synth_dataset import format as fmt  # noqa: E402
from samm_synth_dataset.loaders.clips import ClipDataset, VideoIndex, collate_clips  # noqa: E402
from samm_synth_dataset.loaders.wds import load_webdataset  # noqa: E402

SRC_W, SRC_H = 2040, 1088
FACE_BOX = (620, 120, 820, 820)     # x, y, w, h in source pixels
SIZE = 256


def source_frame(rng: np.random.Generator, base: np.ndarray, n: int) -> np.ndarray:
    shift = int(3 * np.sin(n / 15))
    img = np.roll(base, shift, axis=1).astype(np.int16) + rng.normal(0, 4, base.shape).astype(np.int16)
    return np.clip(img, 0, 255).astype(np.uint8)


def make_sources(root: Path, n_videos: int, n_frames: int) -> list[tuple[str, list[Path]]]:
    yy, xx = np.mgrid[0:SRC_H, 0:SRC_W]
    base = (60 + 80 * xx / SRC_W + 40 * yy / SRC_H).astype(np.float32)
    cx, cy = FACE_BOX[0] + FACE_BOX[2] / 2, FACE_BOX[1] + FACE_BOX[3] / 2
    face = ((xx - cx) / 330) ** 2 + ((yy - cy) / 420) ** 2 < 1
    base[face] = 170 + 30 * np.sin(xx[face] / 9) * np.cos(yy[face] / 11)
    base = base.astype(np.uint8)
    rng = np.random.default_rng(0)
    videos = []
    for v in range(n_videos):
        vid = f"{6 + v:03d}_1"
        folder = root / "SAMM_longvideos" / vid
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for n in tqdm(range(1, n_frames + 1), desc=f"source frames {vid}", leave=False):
            p = folder / f"{vid}_{n:04d}.jpg"
            if not p.exists():
                cv2.imwrite(str(p), source_frame(rng, base, n), [cv2.IMWRITE_JPEG_QUALITY, 95])
            paths.append(p)
        videos.append((vid, paths))
    return videos


def crop_resize(grey: np.ndarray) -> np.ndarray:
    x, y, w, h = FACE_BOX
    return cv2.resize(grey[y:y + h, x:x + w], (SIZE, SIZE), interpolation=cv2.INTER_AREA)


def write_release(root: Path, videos: list[tuple[str, list[Path]]], part_frames: int) -> dict[str, list[bytes]]:
    """Write Parquet parts, tars and one-file-per-frame JPEGs; return the JPEG bytes per video (for the ceiling)."""
    for d in (fmt.FRAMES_DIR, fmt.WDS_DIR, "files", "data/videos", "data/intervals"):
        (root / d).mkdir(parents=True, exist_ok=True)
    tint = np.array([1.0, 0.85, 0.7], dtype=np.float32)
    all_bytes: dict[str, list[bytes]] = {}
    for source, paths in videos:
        video = fmt.synthetic_video_id(source, "ref01")
        rows = []
        out_dir = root / "files" / video
        out_dir.mkdir(exist_ok=True)
        for i, p in enumerate(tqdm(paths, desc=f"release {video}", leave=False)):
            grey = crop_resize(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE))
            rgb = np.clip(grey[..., None] * tint, 0, 255).astype(np.uint8)
            ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
            data = buf.tobytes()
            (out_dir / f"{i:06d}.jpg").write_bytes(data)
            rows.append({"video": video, "source_video": source, "subject": source[:3], "frame": i + 1, "index": i,
                         "image": {"bytes": data, "path": None}, "me": False, "mae": False, "interval_ids": [],
                         "reference_id": "ref01"})
        all_bytes[video] = [r["image"]["bytes"] for r in rows]
        for part, lo in enumerate(range(0, len(rows), part_frames)):
            chunk = rows[lo: lo + part_frames]
            pq.write_table(pa.Table.from_pylist(chunk, schema=fmt.schema_for("frames")),
                           root / fmt.FRAMES_DIR / fmt.part_name(video, part, "parquet"),
                           row_group_size=fmt.FRAME_ROW_GROUP_SIZE)
            with tarfile.open(root / fmt.WDS_DIR / fmt.part_name(video, part, "tar"), "w") as tf:
                for r in chunk:
                    key = fmt.wds_key(video, r["index"])
                    meta = {k: v for k, v in r.items() if k != "image"}
                    for name, data in ((f"{key}.jpg", r["image"]["bytes"]), (f"{key}.json", json.dumps(meta).encode())):
                        info = tarfile.TarInfo(name)
                        info.size = len(data)
                        tf.addfile(info, io.BytesIO(data))
        write_aus_track(root, video, [r["frame"] for r in rows])
    (root / fmt.MANIFEST).write_text(json.dumps({"format_version": fmt.FORMAT_VERSION,
                                                 "status": fmt.STATUS_COMPLETE, "files": [], "summary": {}}))
    # the loaders open only a release whose manifest lists every file under data/ (as a build leaves it)
    fmt.add_files(root, sorted(p.relative_to(root).as_posix() for p in (root / "data").rglob("*") if p.is_file()))
    return all_bytes


def write_aus_track(root: Path, video: str, frames: list[int]) -> None:
    """``data/aus/<video>.parquet`` (``AUS_SCHEMA``) with random OpenFace-like values, 2 % failed frames."""
    rng = np.random.default_rng(len(frames))
    n = len(frames)
    cols: dict[str, Any] = {"video": [video] * 2 * n, "frame": frames * 2,
                            "track": ["original"] * n + ["synthetic"] * n,
                            "success": (rng.random(2 * n) > 0.02).tolist(),
                            "confidence": rng.uniform(0.8, 1.0, 2 * n).astype(np.float32)}
    for c in fmt.AU_INTENSITY_COLUMNS:
        cols[c] = np.round(rng.uniform(0, 5, 2 * n), 2).astype(np.float32)
    for c in fmt.AU_PRESENCE_COLUMNS:
        cols[c] = rng.integers(0, 2, 2 * n).astype(np.float32)
    (root / fmt.AUS_DIR).mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pydict(cols, schema=fmt.schema_for("aus")), root / fmt.au_path(video))


class MemoryClips(ClipDataset):
    """The ceiling: ClipDataset's windows and decode-once logic, JPEG bytes already in RAM."""

    def __init__(self, *args: Any, memory: dict[str, list[bytes]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.memory = memory

    def _image_bytes(self, v: VideoIndex, positions: np.ndarray) -> list[bytes]:
        frames = self.memory[v.video]
        return [frames[int(p)] for p in positions]


class FileClips(ClipDataset):
    """The same 256² JPEGs, one file per frame, same decode-once logic."""

    def _image_bytes(self, v: VideoIndex, positions: np.ndarray) -> list[bytes]:
        folder = self.root / "files" / v.video
        return [(folder / f"{int(p):06d}.jpg").read_bytes() for p in positions]


class SpottingToday(IterableDataset):
    """Per frame of each clip: read the full-size source JPEG, crop the face box, resize to 256² (no sharing)."""

    def __init__(self, videos: list[tuple[str, list[Path]]], clip_len: int, stride: int) -> None:
        self.windows = [(paths, s) for _, paths in videos for s in range(0, len(paths) - clip_len + 1, stride)]
        self.clip_len = clip_len

    def __iter__(self) -> Iterator[dict[str, Any]]:
        info = get_worker_info()
        w, n = (info.id, info.num_workers) if info else (0, 1)
        lo, hi = w * len(self.windows) // n, (w + 1) * len(self.windows) // n
        for paths, s in self.windows[lo:hi]:
            frames = [crop_resize(cv2.imread(str(paths[s + t]), cv2.IMREAD_GRAYSCALE)) for t in range(self.clip_len)]
            yield {"frames": torch.from_numpy(np.stack(frames)[:, None])}


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def throughput(ds: IterableDataset, workers: int, batch: int, min_seconds: float) -> tuple[float, float]:
    """(samples per wall second, samples per CPU second) over whole epochs with persistent workers.

    Wall time runs from the first batch on (worker start-up excluded) for at least ``min_seconds``; CPU time is
    the main process's plus its joined workers', start-up included: the figure a loaded machine disturbs least.
    """
    cpu0 = _cpu_seconds()
    loader = DataLoader(ds, batch_size=batch, num_workers=workers, collate_fn=collate_clips,
                        persistent_workers=workers > 0)
    n, total, t0 = 0, 0, None
    while True:
        for b in loader:
            total += len(b["frames"])
            if t0 is None:          # start the clock once the workers are up and the first batch is in
                t0 = time.perf_counter()
                continue
            n += len(b["frames"])
        if t0 is not None and time.perf_counter() - t0 >= min_seconds and n > 0:
            break
    dt = time.perf_counter() - t0
    del loader, b
    gc.collect()                    # shuts the persistent workers down and joins them (their CPU is counted)
    return n / dt, total / (_cpu_seconds() - cpu0)


def sample_rate(make: Any, workers: int, min_seconds: float) -> tuple[float, float]:
    """(samples per wall second, per CPU second) of a batched ``load_webdataset`` pipeline, repeated endlessly and
    read for ``min_seconds`` from the first batch on (worker start-up excluded from wall, included in CPU)."""
    cpu0 = _cpu_seconds()
    loader = DataLoader(make().repeat(), batch_size=None, num_workers=workers)
    n, total, t0 = 0, 0, None
    for b in loader:
        total += len(b["__key__"])
        if t0 is None:
            t0 = time.perf_counter()
            continue
        n += len(b["__key__"])
        if time.perf_counter() - t0 >= min_seconds:
            break
    dt = time.perf_counter() - t0
    del loader, b
    gc.collect()
    return n / dt, total / (_cpu_seconds() - cpu0)


def au_cost(release: Path, rounds: int = 5) -> tuple[float, float]:
    """(CPU µs to attach one frame's AUs in a stream, CPU µs to decode one frame), best of ``rounds``, in-process:
    the pairing cost without DataLoader transport or machine-load noise."""
    from samm_synth_dataset.loaders.au_tracks import AttachAUs, AUStore
    from samm_synth_dataset.loaders.wds import decode_image

    raw = list(load_webdataset(release, decode=False))
    metas = [{"json": s["json"]} for s in raw]
    attach, decode = float("inf"), float("inf")
    for _ in range(rounds):
        stage = AttachAUs(AUStore(release))           # cold cache: the file reads count
        t = time.process_time()
        for m in metas:
            stage(dict(m))
        attach = min(attach, (time.process_time() - t) / len(metas))
        t = time.process_time()
        for s in raw:
            decode_image(s["jpg"])
        decode = min(decode, (time.process_time() - t) / len(raw))
    return attach * 1e6, decode * 1e6


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small data (about a minute)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--clip-len", type=int, default=16)
    ap.add_argument("--stride", type=int, default=16, help="16 = no overlap (no decode-once advantage)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3.0, help="minimum timed seconds per measurement")
    ap.add_argument("--workdir", type=Path, default=None, help="keep the generated data here (reused if present)")
    ap.add_argument("--only", default=None, help="comma-separated runs to time (default: all)")
    args = ap.parse_args(argv)
    n_videos, n_frames = (2, 240) if args.quick else (4, 600)
    if args.quick:
        args.rounds, args.seconds = min(args.rounds, 2), min(args.seconds, 2.0)
    cv2.setNumThreads(1)
    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="samm-synth-bench-")
        work = Path(tmp.name)
    else:
        work = args.workdir
    try:
        videos = make_sources(work / "corpus", n_videos, n_frames)
        release = work / "release"
        if release.exists():
            import shutil
            shutil.rmtree(release)
        memory = write_release(release, videos, part_frames=256)
        kw = dict(clip_len=args.clip_len, stride=args.stride, seed=0, shuffle=True)
        results: dict[str, list[float]] = {}
        cpu: dict[str, list[float]] = {}
        runs = {
            "parquet": lambda: ClipDataset(release, backend="parquet", **kw),
            "webdataset": lambda: ClipDataset(release, backend="webdataset", **kw),
            "memory": lambda: MemoryClips(release, backend="parquet", memory=memory, **kw),
            "files-256": lambda: FileClips(release, backend="parquet", **kw),
            "spotting-today": lambda: SpottingToday(videos, args.clip_len, args.stride),
            "parquet+aus": lambda: ClipDataset(release, backend="parquet", aus=True, **kw),
            "webdataset+aus": lambda: ClipDataset(release, backend="webdataset", aus=True, **kw),
        }
        frames_per_batch = args.batch * args.clip_len
        pipelines = {
            "wds-pipeline": lambda: load_webdataset(release, shuffle_seed=0).batched(frames_per_batch),
            "wds-pipeline+aus": lambda: load_webdataset(release, shuffle_seed=0, aus=True).batched(frames_per_batch),
        }
        if args.only:
            chosen = set(args.only.split(","))
            unknown = chosen - set(runs) - set(pipelines)
            if unknown:
                ap.error(f"unknown runs {sorted(unknown)}; choose from {sorted(runs) + sorted(pipelines)}")
            runs = {k: v for k, v in runs.items() if k in chosen}
            pipelines = {k: v for k, v in pipelines.items() if k in chosen}
        for r in range(args.rounds):     # interleaved rounds: load drift on a shared machine hits all alike
            for name, make in runs.items():
                wall, per_cpu = throughput(make(), args.workers, args.batch, args.seconds)
                results.setdefault(name, []).append(wall)
                cpu.setdefault(name, []).append(per_cpu)
            for name, make in pipelines.items():
                wall, per_cpu = sample_rate(make, args.workers, args.seconds)
                results.setdefault(name, []).append(wall / args.clip_len)     # in clips of clip_len frames
                cpu.setdefault(name, []).append(per_cpu / args.clip_len)
        best = {name: max(v) for name, v in results.items()}
        best_cpu = {name: max(v) for name, v in cpu.items()}
        print(f"\nclip streaming, {n_videos} videos x {n_frames} frames, clip_len {args.clip_len}, stride "
              f"{args.stride}, {args.workers} workers, batch {args.batch}, 256x256 RGB JPEG q95 "
              f"(source {SRC_W}x{SRC_H} grey JPEG q95)")
        print(f"  best of {args.rounds} interleaved rounds of >= {args.seconds:g} s each; wall = clips per second, "
              "cpu = clips per CPU-second (main + workers)")
        for name, v in best.items():
            print(f"  {name:15s} wall {v:8.1f} clips/s ({v * args.clip_len:7.0f} frames/s)  cpu {best_cpu[name]:8.1f}"
                  f"   wall rounds: " + " ".join(f"{x:.0f}" for x in results[name]))
        attach_us, decode_us = au_cost(release)
        print(f"  AU pairing in-process: {attach_us:.1f} CPU-us per frame (json parse, lookup) vs {decode_us:.0f} "
              f"CPU-us to decode it: frames+AUs / frames alone = {decode_us / (decode_us + attach_us):.3f} "
              "(goal >= 0.9)")
        for label, ratio_of in (("wall", best), ("cpu", best_cpu)):
            r = ratio_of
            for base in ("parquet", "webdataset", "wds-pipeline"):
                if base in r and f"{base}+aus" in r:
                    print(f"  [{label}] {base}+aus / {base} (AUs paired, goal >= 0.9): "
                          f"{r[base + '+aus'] / r[base]:.2f}")
            if not {"parquet", "webdataset", "memory", "spotting-today", "files-256"} <= set(r):
                continue
            print(f"  [{label}] parquet / memory (ceiling, goal >= 0.8):   {r['parquet'] / r['memory']:.2f}   "
                  f"webdataset / memory: {r['webdataset'] / r['memory']:.2f}")
            print(f"  [{label}] parquet / spotting-today (goal >= 10):     {r['parquet'] / r['spotting-today']:.1f}   "
                  f"webdataset / spotting-today: {r['webdataset'] / r['spotting-today']:.1f}")
            print(f"  [{label}] parquet / files-256 (no goal):             {r['parquet'] / r['files-256']:.2f}")
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())

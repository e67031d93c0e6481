"""``ClipDataset``: clips of T consecutive frames, or pairs (i, i+k), streamed from a release for spotting models.

Samples
-------
Each sample is a dict:

* ``frames``: uint8 tensor ``T×C×H×W`` (RGB, or C = 1 for greyscale); for pairs T = 2 (frame i, frame i + k);
* ``me``, ``mae``: bool tensors ``(T,)``, the per-frame labels;
* ``frame``: int64 ``(T,)`` SOURCE frame numbers; ``index``: int64 ``(T,)`` 0-based positions in the video;
* ``video``, ``subject``: strings; ``interval_ids``: a tuple of T strings, the ids of the intervals covering each
  frame joined by ``;`` (``""`` when none);
* with ``emotions=True``, ``emotion`` and ``emotion_megc``: tuples of T strings, the labels of the intervals covering
  each frame (``format.frame_emotions``: distinct labels joined by ``;``, ``""`` when none), from the ``intervals``
  table; a release without emotion labels (SAMM-LV) is refused with a ValueError saying so;
* with ``aus=True``, per track (``original``, ``synthetic``) the OpenFace AUs of each frame (``loaders.aus``):
  ``<track>_au_r`` float32 ``(T, 17)`` intensities 0–5 and ``<track>_au_c`` float32 ``(T, 18)`` presences 0/1 (AU
  order ``format.AU_INTENSITY_COLUMNS`` / ``AU_PRESENCE_COLUMNS``; NaN where OpenFace failed),
  ``<track>_success`` bool ``(T,)``, ``<track>_confidence`` float32 ``(T,)``.

"Consecutive" means consecutive ``index`` (rows of the synthetic video). Windows never cross a video boundary and
run across part files. Samples batch with torch's default collate (no ``collate_fn`` needed): tensors stack to
``B×T×...``, strings become lists of B, and ``interval_ids`` a list of T tuples of B strings. ``collate_clips`` is
kept as an alias of ``default_collate``. ``transform``: an optional function applied to each sample dict (must
return a dict; picklable when the DataLoader has workers).

Windows, workers, ranks
-----------------------
Per video, windows start at ``0, S, 2S, ...`` while the window fits (span T, or k + 1 for pairs). Consecutive
windows of one video are grouped into *chunks* covering about ``chunk_frames`` frames; a chunk's frames are read and
decoded once and shared by all its windows.

Every epoch all ranks build the same global list: the chunks, shuffled with ``(seed, epoch)`` when ``shuffle``,
flattened into windows. Rank r of W takes the contiguous slice ``[r*n, (r+1)*n)`` with ``n = N // W``: every rank
gets exactly ``n`` windows (the last ``N mod W < W`` windows of the shuffled order are dropped that epoch; they
differ from epoch to epoch), so all ranks run the same number of batches and no window is seen by two ranks.
Inside a rank the slice is cut into near-equal contiguous pieces, one per DataLoader worker (sizes differ by at most
one and are the same on every rank, so batch counts per rank are equal too). A worker decodes
``shuffle_buffer_chunks`` chunks at a time and, when shuffling, yields their windows in a random order seeded by
``(seed, epoch, rank, worker)``. Everything is deterministic for (seed, epoch, world size, num_workers).

``len(ds)`` is the rank's window count; ``ds.num_batches(batch_size, num_workers)`` its batch count (equal on all
ranks; each worker ends with its own partial batch unless ``drop_last``).

Backends: ``parquet`` reads ``data/frames`` parts with pyarrow, one row group (100 frames) at a time, the image
column only; ``webdataset`` scans the tars' headers and ``.json`` members once at construction, then reads each
image member by byte offset. Both read a chunk's frames sequentially from one part.

Call ``set_epoch(e)`` before each epoch (like ``DistributedSampler``); with ``persistent_workers=True`` the workers
keep the epoch they were started with, so leave persistent workers off or rebuild the DataLoader each epoch.
Rank and world size come from ``torch.distributed`` when it is initialised, unless given explicitly. They are
resolved in the main process: pickling the dataset (as DataLoader workers started with ``spawn``/``forkserver``
do, which have no process group) records the live rank and world size, so workers see the rank's placement even
for a dataset created before ``init_process_group``.
"""

from __future__ import annotations

import json
import logging
import tarfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import cv2
import numpy as np
import pyarrow.parquet as pq
import torch
from torch.utils.data import IterableDataset, default_collate, get_worker_info

from samm_synth_dataset import format as fmt
from samm_synth_dataset.loaders.au_tracks import AUStore
from samm_synth_dataset.loaders.wds import IMAGE_EXTENSIONS, decode_image

log = logging.getLogger(__name__)

BACKENDS: tuple[str, ...] = ("parquet", "webdataset")


@dataclass
class VideoIndex:
    """Per-frame metadata of one synthetic video, ordered by ``index``, and where each frame's bytes live.

    ``loc_file[i]`` indexes ``ClipDataset.files``; for Parquet ``loc_a/loc_b`` are (row group, row in group), for
    tars (byte offset, byte size) of the image member.
    """

    video: str
    subject: str
    frame: np.ndarray
    me: np.ndarray
    mae: np.ndarray
    interval_ids: list[list[str]]
    loc_file: np.ndarray
    loc_a: np.ndarray
    loc_b: np.ndarray

    def __len__(self) -> int:
        return len(self.frame)


def to_chw(img: np.ndarray) -> np.ndarray:
    """H×W×C (or H×W) uint8 to a contiguous C×H×W array (``cv2.split``: far faster than a strided permute)."""
    if img.ndim == 2:
        return img[None]
    out = np.empty((img.shape[2], img.shape[0], img.shape[1]), dtype=img.dtype)
    cv2.split(img, [out[c] for c in range(img.shape[2])])
    return out


def placement(rank: int | None, world_size: int | None) -> tuple[int, int]:
    """``(rank, world_size)`` of a dataset: the explicit ones, else ``torch.distributed``'s if initialised, else
    (0, 1)."""
    if world_size is not None:
        return int(rank), int(world_size)  # type: ignore[arg-type]
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def collate_clips(batch: list[dict[str, Any]]) -> dict[str, Any]:
    """torch's ``default_collate`` (samples need no special collate; kept for code that passes it)."""
    return default_collate(batch)


class ClipDataset(IterableDataset):
    """Clips (or (i, i+k) pairs) of a release, as an ``IterableDataset``; see the module docstring.

    ``release``: a complete release directory. ``backend``: ``"parquet"`` (``data/frames``) or ``"webdataset"``
    (``data/wds``). ``clip_len`` T >= 1 and ``stride`` S >= 1 in frames; ``pair_k``: yield pairs (i, i+k) instead
    of clips (``clip_len`` is then ignored; the MEGC k of a fold is ``Split.k``). ``videos``: restrict to these
    synthetic video ids (e.g. a LOSO fold's ``train``). ``rank``/``world_size``: explicit DDP placement (default:
    ``torch.distributed`` if initialised, else 0/1). ``chunk_frames``: frames decoded together and shared by
    overlapping windows; ``shuffle_buffer_chunks``: chunks mixed by a worker's shuffle. ``aus``: add each frame's
    original and synthetic OpenFace AUs (``data/aus``, made by ``samm-synth aus``; FileNotFoundError without them).
    ``emotions``: add each frame's ``emotion`` and ``emotion_megc`` (module docstring).
    ``transform``: optional function applied to every sample dict before it is yielded.
    """

    def __init__(
        self,
        release: str | Path,
        backend: str = "parquet",
        clip_len: int = 16,
        stride: int = 1,
        pair_k: int | None = None,
        seed: int = 0,
        epoch: int = 0,
        shuffle: bool = True,
        videos: Sequence[str] | None = None,
        rank: int | None = None,
        world_size: int | None = None,
        chunk_frames: int = 128,
        shuffle_buffer_chunks: int = 4,
        aus: bool = False,
        emotions: bool = False,
        transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
        if pair_k is not None and pair_k < 1:
            raise ValueError(f"pair_k must be >= 1, got {pair_k}")
        if pair_k is None and clip_len < 1:
            raise ValueError(f"clip_len must be >= 1, got {clip_len}")
        if stride < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        if (rank is None) != (world_size is None):
            raise ValueError("give both rank and world_size, or neither")
        if world_size is not None and not (world_size >= 1 and 0 <= rank < world_size):  # type: ignore[operator]
            raise ValueError(f"need 0 <= rank < world_size, got rank={rank}, world_size={world_size}")
        self.root = Path(release)
        fmt.check_release(self.root)
        self.backend = backend
        self.pair_k = pair_k
        self.clip_len = 2 if pair_k is not None else clip_len
        self.offsets = np.array([0, pair_k] if pair_k is not None else list(range(clip_len)), dtype=np.int64)
        self.span = int(self.offsets[-1]) + 1
        self.stride = stride
        self.seed = seed
        self.epoch = epoch
        self.shuffle = shuffle
        self.rank = rank
        self.world_size = world_size
        self.chunk_frames = max(chunk_frames, self.span)
        self.shuffle_buffer_chunks = max(1, shuffle_buffer_chunks)
        self.transform = transform
        self.files: list[Path] = []
        self.index: list[VideoIndex] = self._build_index(set(videos) if videos is not None else None)
        self._handles: dict[int, Any] = {}
        self._rg_cache: OrderedDict[tuple[int, int], list[bytes]] = OrderedDict()
        self.aus = AUStore(self.root, [v.video for v in self.index]) if aus else None
        self.emotions = self._emotion_lookup() if emotions else None

    def _emotion_lookup(self) -> dict[str, tuple[str | None, str | None]]:
        path = self.root / fmt.INTERVALS_PATH
        lookup = fmt.interval_emotions(pq.read_table(path).to_pydict()) if path.is_file() else {}
        if not lookup:
            raise ValueError(f"{self.root}: emotions=True, but {fmt.NO_EMOTION_LABELS}")
        return lookup

    # ----------------------------------------------------------------------------------------------------------
    # index

    def _build_index(self, only: set[str] | None) -> list[VideoIndex]:
        if self.backend == "parquet":
            index = self._index_parquet(only)
        else:
            index = self._index_tars(only)
        if only is not None:
            missing = sorted(only - {v.video for v in index})
            if missing:
                raise ValueError(f"{self.root}: video(s) {missing[:5]} are not in the {self.backend} data")
        return index

    def _part_files(self, directory: str, suffix: str, only: set[str] | None) -> list[Path]:
        folder = self.root / directory
        files = sorted(folder.glob(f"*.{suffix}"))
        if not files:
            raise FileNotFoundError(f"{folder}: no .{suffix} parts; was the release built with the "
                                    f"{self.backend} format?")
        if only is not None:
            files = [f for f in files if f.stem.rsplit("-", 1)[0] in only]
        return files

    def _index_parquet(self, only: set[str] | None) -> list[VideoIndex]:
        cols = ["video", "subject", "frame", "index", "me", "mae", "interval_ids"]
        per_video: dict[str, list[dict[str, Any]]] = {}
        for path in self._part_files(fmt.FRAMES_DIR, "parquet", only):
            fid = len(self.files)
            self.files.append(path)
            pf = pq.ParquetFile(path)
            missing = [c for c in cols if c not in pf.schema_arrow.names]
            if missing:
                raise ValueError(f"{path}: frames part lacks columns {missing}")
            t = pf.read(columns=cols)
            rg_sizes = [pf.metadata.row_group(i).num_rows for i in range(pf.metadata.num_row_groups)]
            rg = np.repeat(np.arange(len(rg_sizes)), rg_sizes)
            row = np.concatenate([np.arange(n) for n in rg_sizes]) if rg_sizes else np.zeros(0, np.int64)
            d = t.to_pydict()
            per_video.setdefault(d["video"][0] if d["video"] else path.stem, []).append(
                {"d": d, "file": fid, "rg": rg, "row": row, "path": path})
        return [self._assemble(video, parts) for video, parts in sorted(per_video.items())]

    def _assemble(self, video: str, parts: list[dict[str, Any]]) -> VideoIndex:
        frame, index, me, mae, ids, files, la, lb, subjects = [], [], [], [], [], [], [], [], set()
        for p in parts:
            d = p["d"]
            if set(d["video"]) != {video}:
                raise ValueError(f"{p['path']}: a part must hold one video's frames; found {sorted(set(d['video']))}")
            n = len(d["frame"])
            frame.extend(d["frame"])
            index.extend(d["index"])
            me.extend(d["me"])
            mae.extend(d["mae"])
            ids.extend([list(x or []) for x in d["interval_ids"]])
            files.extend([p["file"]] * n)
            la.extend(p["rg"])
            lb.extend(p["row"])
            subjects.update(d["subject"])
        order = np.argsort(np.asarray(index, dtype=np.int64), kind="stable")
        idx = np.asarray(index, dtype=np.int64)[order]
        if not np.array_equal(idx, np.arange(len(idx))):
            raise ValueError(f"{self.root}: video {video}'s frame indices are not 0..{len(idx) - 1} "
                             "(a part is missing or duplicated); rebuild the release")
        return VideoIndex(
            video=video, subject=str(sorted(subjects)[0]) if subjects else "",
            frame=np.asarray(frame, dtype=np.int64)[order], me=np.asarray(me, dtype=bool)[order],
            mae=np.asarray(mae, dtype=bool)[order], interval_ids=[ids[i] for i in order],
            loc_file=np.asarray(files, dtype=np.int64)[order], loc_a=np.asarray(la, dtype=np.int64)[order],
            loc_b=np.asarray(lb, dtype=np.int64)[order])

    def _index_tars(self, only: set[str] | None) -> list[VideoIndex]:
        per_video: dict[str, list[dict[str, Any]]] = {}
        for path in self._part_files(fmt.WDS_DIR, "tar", only):
            fid = len(self.files)
            self.files.append(path)
            samples: dict[str, dict[str, Any]] = {}
            try:
                with tarfile.open(path, "r:") as tf:
                    for m in tf:
                        if not m.isfile():
                            continue
                        base = m.name.rsplit("/", 1)[-1]
                        if "." not in base:
                            continue
                        key = m.name[: len(m.name) - len(base)] + base.split(".", 1)[0]
                        ext = base.split(".", 1)[1].lower()
                        s = samples.setdefault(key, {})
                        if ext in IMAGE_EXTENSIONS:
                            s["img"] = (m.offset_data, m.size)
                        elif ext == "json":
                            f = tf.extractfile(m)
                            assert f is not None
                            s["json"] = json.loads(f.read())
            except tarfile.TarError as exc:
                raise ValueError(f"{path}: unreadable tar ({exc}); re-run the build with --resume") from exc
            d: dict[str, list[Any]] = {k: [] for k in ("video", "subject", "frame", "index", "me", "mae",
                                                         "interval_ids")}
            rg, row = [], []
            for key, s in samples.items():
                if "img" not in s or "json" not in s:
                    raise ValueError(f"{path}: sample {key} lacks its image or json member")
                meta = s["json"]
                try:
                    for k in d:
                        d[k].append(meta[k])
                except KeyError as exc:
                    raise ValueError(f"{path}: sample {key}'s json lacks field {exc}") from None
                rg.append(s["img"][0])
                row.append(s["img"][1])
            if d["video"]:
                per_video.setdefault(d["video"][0], []).append(
                    {"d": d, "file": fid, "rg": rg, "row": row, "path": path})
        return [self._assemble(video, parts) for video, parts in sorted(per_video.items())]

    # ----------------------------------------------------------------------------------------------------------
    # windows and placement

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch that seeds the chunk order (call before iterating, on every rank)."""
        self.epoch = int(epoch)

    def _placement(self) -> tuple[int, int]:
        return placement(self.rank, self.world_size)

    def _chunks(self) -> list[tuple[int, np.ndarray]]:
        """All chunks ``(video position, window starts)`` in canonical order."""
        per_chunk = max(1, (self.chunk_frames - self.span) // self.stride + 1)
        chunks: list[tuple[int, np.ndarray]] = []
        for vi, v in enumerate(self.index):
            starts = np.arange(0, len(v) - self.span + 1, self.stride, dtype=np.int64)
            for c in range(0, len(starts), per_chunk):
                chunks.append((vi, starts[c: c + per_chunk]))
        return chunks

    def windows(self, epoch: int | None = None, rank: int | None = None, world_size: int | None = None,
                worker: int = 0, num_workers: int = 1) -> list[tuple[int, int]]:
        """The ``(video position, start)`` windows one worker of one rank yields in ``epoch``, in chunk order
        (before the worker's in-buffer shuffle)."""
        epoch = self.epoch if epoch is None else epoch
        if rank is None or world_size is None:
            rank, world_size = self._placement()
        chunks = self._chunks()
        if self.shuffle:
            rng = np.random.default_rng(np.random.SeedSequence([self.seed, epoch]))
            chunks = [chunks[i] for i in rng.permutation(len(chunks))]
        flat = [(vi, int(s)) for vi, starts in chunks for s in starts]
        n = len(flat) // world_size
        mine = flat[rank * n: (rank + 1) * n]
        lo, hi = (worker * n) // num_workers, ((worker + 1) * n) // num_workers
        return mine[lo:hi]

    def __len__(self) -> int:
        """Windows this rank yields per epoch (summed over its DataLoader workers)."""
        _, world = self._placement()
        return sum(len(s) for _, s in self._chunks()) // world

    def num_batches(self, batch_size: int, num_workers: int = 0, drop_last: bool = False) -> int:
        """Batches this rank's ``DataLoader(batch_size, num_workers, drop_last)`` yields per epoch; the same on
        every rank. Each worker batches its own windows, so with ``drop_last=False`` every worker may end with a
        partial batch (``len(loader)`` from ``__len__`` can then be smaller than this)."""
        n = len(self)
        workers = max(1, num_workers)
        sizes = [((w + 1) * n) // workers - (w * n) // workers for w in range(workers)]
        return sum(s // batch_size if drop_last else -(-s // batch_size) for s in sizes)

    # ----------------------------------------------------------------------------------------------------------
    # reading

    def _image_bytes(self, v: VideoIndex, positions: np.ndarray) -> list[bytes]:
        out: list[bytes] = []
        if self.backend == "webdataset":
            for p in positions:
                fid = int(v.loc_file[p])
                fh = self._handles.get(fid)
                if fh is None:
                    fh = self._handles[fid] = open(self.files[fid], "rb")
                fh.seek(int(v.loc_a[p]))
                out.append(fh.read(int(v.loc_b[p])))
            return out
        for p in positions:
            fid, rg, row = int(v.loc_file[p]), int(v.loc_a[p]), int(v.loc_b[p])
            cached = self._rg_cache.get((fid, rg))
            if cached is None:
                pf = self._handles.get(fid)
                if pf is None:
                    pf = self._handles[fid] = pq.ParquetFile(self.files[fid])
                # use_threads=False: Arrow's pool only contends with the DataLoader's workers (5x slower here)
                table = pf.read_row_group(rg, columns=["image"], use_threads=False)
                col = table.column("image").combine_chunks()
                cached = col.field("bytes").to_pylist()
                self._rg_cache[(fid, rg)] = cached
                while len(self._rg_cache) > 4:
                    self._rg_cache.popitem(last=False)
            out.append(cached[row])
        return out

    def _decode_chunk(self, vi: int, starts: Sequence[int]) -> dict[int, np.ndarray]:
        """Decode each frame the chunk's windows need once, to C×H×W uint8."""
        v = self.index[vi]
        needed = np.unique(np.concatenate([s + self.offsets for s in starts]))
        datas = self._image_bytes(v, needed)
        return {int(p): to_chw(decode_image(b, f"{self.files[int(v.loc_file[p])]}: video {v.video} frame "
                                               f"{int(v.frame[p])}")) for p, b in zip(needed, datas)}

    def _sample(self, vi: int, start: int, images: dict[int, np.ndarray]) -> dict[str, Any]:
        v = self.index[vi]
        pos = start + self.offsets
        arr = np.stack([images[int(p)] for p in pos])
        return {
            "frames": torch.from_numpy(arr),
            "me": torch.from_numpy(v.me[pos].copy()),
            "mae": torch.from_numpy(v.mae[pos].copy()),
            "frame": torch.from_numpy(v.frame[pos].copy()),
            "index": torch.from_numpy(pos.copy()),
            "video": v.video,
            "subject": v.subject,
            "interval_ids": tuple(";".join(v.interval_ids[int(p)]) for p in pos),
            **({k: torch.from_numpy(a) for k, a in self.aus.lookup(v.video, v.frame[pos]).items()}
               if self.aus is not None else {}),
            **(self._emotion_fields(v, pos) if self.emotions is not None else {}),
        }

    def _emotion_fields(self, v: VideoIndex, pos: np.ndarray) -> dict[str, tuple[str, ...]]:
        assert self.emotions is not None
        labels = [fmt.frame_emotions(v.interval_ids[int(p)], self.emotions) for p in pos]
        return {"emotion": tuple(e for e, _ in labels), "emotion_megc": tuple(m for _, m in labels)}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        rank, world = self._placement()
        info = get_worker_info()
        worker, num_workers = (info.id, info.num_workers) if info is not None else (0, 1)
        mine = self.windows(self.epoch, rank, world, worker, num_workers)
        if not mine and worker == 0:
            log.warning("rank %d of %d has no windows in %s (too few windows for the world size?)",
                        rank, world, self.root)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, self.epoch, rank, worker, 1]))
        # Group the worker's windows back into (video, run of starts) pieces, in order.
        pieces: list[tuple[int, list[int]]] = []
        for vi, s in mine:
            if pieces and pieces[-1][0] == vi and s - pieces[-1][1][-1] > 0 \
                    and s + self.span - pieces[-1][1][0] <= self.chunk_frames:
                pieces[-1][1].append(s)
            else:
                pieces.append((vi, [s]))
        try:
            for b in range(0, len(pieces), self.shuffle_buffer_chunks):
                group = pieces[b: b + self.shuffle_buffer_chunks]
                decoded = [self._decode_chunk(vi, starts) for vi, starts in group]
                items = [(g, s) for g, (_, starts) in enumerate(group) for s in starts]
                if self.shuffle:
                    items = [items[i] for i in rng.permutation(len(items))]
                for g, s in items:
                    sample = self._sample(group[g][0], s, decoded[g])
                    yield sample if self.transform is None else self.transform(sample)
        finally:
            self._close()

    def _close(self) -> None:
        for h in self._handles.values():
            if hasattr(h, "close"):
                h.close()
        self._handles.clear()
        self._rg_cache.clear()

    def __getstate__(self) -> dict[str, Any]:
        """Picklable state without open files; an implicit placement is frozen to the pickling process's
        ``torch.distributed`` rank and world size (spawned DataLoader workers have no process group)."""
        state = self.__dict__.copy()
        state["_handles"] = {}
        state["_rg_cache"] = OrderedDict()
        if self.world_size is None and torch.distributed.is_available() and torch.distributed.is_initialized():
            state["rank"], state["world_size"] = self._placement()
        return state

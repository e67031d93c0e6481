"""``FeatureDataset``: a recipe's spotting features (``samm-synth features``) as a torch ``IterableDataset``.

One sample per frame pair (i, i + k) at the kind's k (the manifest's ``features`` block), from the release's
``data/features/<recipe>/`` and, when given, the originals' folder written by ``--originals-out`` (same layout)::

    {"feature": float32 tensor of the recipe's shape (streams × H × W × 3: u, v, ε),
     "label": the recipe's pseudo-label of the kind (float32),
     "ME", "MaE": 1.0 when frame i lies inside an interval of that kind, else 0.0 (float32),
     "video": str, "frame": SOURCE frame number of i (int), "origin": "synthetic" | "original"}

Order: files in name order (synthetic, then originals), rows as stored; ``shuffle`` permutes the files and the
rows inside each file (``seed`` + ``epoch``; call ``set_epoch``). DDP: every rank gets the same number of samples
(the last ``n mod world_size`` of an epoch's order are left out), placement from ``rank``/``world_size`` or
``torch.distributed``; DataLoader workers split a rank's share into contiguous blocks, each worker reading its
files once. Videos: ``videos`` keeps only those ids (synthetic ids or source ids of originals), e.g. a LOSO fold.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import torch
from torch.utils.data import IterableDataset, get_worker_info

from samm_synth_dataset import format as fmt
from samm_synth_dataset.loaders.clips import placement


def _frame_labels(intervals: Any, key: str) -> dict[str, dict[str, list[tuple[int, int]]]]:
    out: dict[str, dict[str, list[tuple[int, int]]]] = {}
    for video, kind, a, b in zip(intervals[key], intervals["kind"], intervals["onset"], intervals["offset"]):
        out.setdefault(str(video), {}).setdefault(str(kind), []).append((int(a), int(b)))
    return out


class FeatureDataset(IterableDataset):
    """The ``recipe``'s features of ``kind`` (ME or MaE) in ``release`` (and ``originals``); see the module
    docstring. FileNotFoundError naming ``samm-synth features`` when the release has none of that recipe."""

    def __init__(self, release: str | Path, recipe: str, kind: str, originals: str | Path | None = None,
                 videos: Iterable[str] | None = None, shuffle: bool = False, seed: int = 0, epoch: int = 0,
                 rank: int | None = None, world_size: int | None = None) -> None:
        if kind not in fmt.KINDS:
            raise ValueError(f"kind must be one of {', '.join(fmt.KINDS)}, not {kind!r}")
        if (rank is None) != (world_size is None):
            raise ValueError("give both rank and world_size, or neither")
        self.release = Path(release)
        manifest = fmt.check_release(self.release)
        block = (manifest.get(fmt.FEATURES_KEY) or {}).get(recipe)
        if block is None:
            raise FileNotFoundError(f"{self.release}: no {recipe} features; run `samm-synth features "
                                    f"{self.release} --recipe {recipe}`")
        if kind not in block["k"]:
            raise ValueError(f"{self.release}: the {recipe} features were made for {', '.join(block['k'])}, not "
                             f"{kind}; re-run `samm-synth features` with --kinds including {kind}")
        self.recipe, self.kind, self.k = recipe, kind, int(block["k"][kind])
        self.shape = tuple(int(n) for n in block["shape"])
        self.shuffle, self.seed, self.epoch = shuffle, seed, epoch
        self.rank, self.world_size = rank, world_size
        only = None if videos is None else set(videos)
        folder = f"{fmt.FEATURES_DIR}/{recipe}"
        files = [("synthetic", self.release / f["path"]) for f in manifest["files"]
                 if f["path"].startswith(folder + "/") and f["path"].endswith(".parquet")]
        if originals is not None:
            other = Path(originals) / folder
            path = other / fmt.FEATURES_BLOCK
            theirs = json.loads(path.read_text()) if path.is_file() else None
            if theirs is None:
                raise FileNotFoundError(f"{other}: no originals' {recipe} features; run `samm-synth features "
                                        f"{self.release} --recipe {recipe} --source-root DIR --originals-out "
                                        f"{originals}`")
            if theirs["recipe"] != block["recipe"] or theirs["k"].get(kind) != self.k:
                raise ValueError(f"{other}: made with another {recipe} recipe or k than the release's features; "
                                 "re-run both with the same options")
            files += [("original", p) for p in sorted(other.glob("*.parquet"))]
        intervals = pd.read_parquet(self.release / fmt.INTERVALS_PATH)
        self._labels = {"synthetic": _frame_labels(intervals, "video"),
                        "original": _frame_labels(fmt.source_intervals(intervals), "source_video")}
        self.files: list[tuple[str, Path]] = []
        self.rows: list[np.ndarray] = []  # per file: the row numbers at this k
        for origin, path in files:
            t = pq.read_table(path, columns=["video", "k"])
            keep = np.asarray(t.column("k").to_numpy()) == self.k
            if only is not None:
                keep &= np.isin(np.asarray(t.column("video").to_pylist(), dtype=object), list(only))
            if keep.any():
                self.files.append((origin, path))
                self.rows.append(np.flatnonzero(keep))

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _placement(self) -> tuple[int, int]:
        return placement(self.rank, self.world_size)

    def order(self) -> list[tuple[int, int]]:
        """This rank's ``(file number, row)`` pairs for the current epoch."""
        files = np.arange(len(self.files))
        rng = np.random.default_rng([self.seed, self.epoch]) if self.shuffle else None
        if rng is not None:
            files = rng.permutation(files)
        flat = [(int(f), int(r)) for f in files
                for r in (rng.permutation(self.rows[f]) if rng is not None else self.rows[f])]
        rank, world = self._placement()
        n = len(flat) // world
        return flat[rank * n:(rank + 1) * n]

    def __len__(self) -> int:
        return sum(len(r) for r in self.rows) // self._placement()[1]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        mine = self.order()
        info = get_worker_info()
        if info is not None:
            per = -(-len(mine) // info.num_workers)
            mine = mine[info.id * per:(info.id + 1) * per]
        size = int(np.prod(self.shape))
        current = -1
        for f, r in mine:
            if f != current:  # one file at a time: its arrays as one numpy block
                t = pq.read_table(self.files[f][1], columns=["video", "frame", "feature", f"pseudo_{self.kind}"])
                videos, frames = t.column("video").to_pylist(), t.column("frame").to_numpy()
                labels = t.column(f"pseudo_{self.kind}").to_numpy(zero_copy_only=False)
                block = t.column("feature").combine_chunks().flatten().to_numpy().reshape(-1, size)
                current = f
            origin = self.files[f][0]
            video, frame = str(videos[r]), int(frames[r])
            spans = self._labels[origin].get(video, {})
            yield {
                "feature": torch.from_numpy(block[r].astype(np.float32).reshape(self.shape)),
                "label": torch.tensor(float(labels[r]), dtype=torch.float32),
                **{kind: torch.tensor(float(any(a <= frame <= b for a, b in spans.get(kind, []))),
                                      dtype=torch.float32)
                   for kind in fmt.KINDS},
                "video": video, "frame": frame, "origin": origin,
            }

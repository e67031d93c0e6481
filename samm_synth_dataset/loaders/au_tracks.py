"""OpenFace AU tracks beside the frames: a per-video, on-demand reader of ``data/aus/<video>.parquet``.

``AUStore`` reads one video's AU file when a frame of that video is first asked for and keeps the last few videos
(a small LRU cache, per process: each DataLoader worker gets its own, empty, copy), so no loader ever holds the
whole release's AUs. Frames are matched on (video, SOURCE frame number). The fields, their order and units are the
release format's (``format.au_arrays``, ``format.au_key``): per track ``<track>_au_r`` (OpenFace intensity 0–5,
``AU_INTENSITY_COLUMNS`` order), ``<track>_au_c`` (presence 0/1, ``AU_PRESENCE_COLUMNS`` order),
``<track>_success`` and ``<track>_confidence``; AU values are NaN where OpenFace failed (``success`` False).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pyarrow.parquet as pq

from samm_synth_dataset import format as fmt

#: The flat per-AU columns ``load(..., aus=True)`` adds to the frames table, with their ``datasets`` dtypes.
FLAT_COLUMNS: dict[str, str] = {
    **{fmt.au_key(t, c): "float32" for t in fmt.AU_TRACKS
       for c in fmt.AU_INTENSITY_COLUMNS + fmt.AU_PRESENCE_COLUMNS},
    **{fmt.au_key(t, "success"): "bool" for t in fmt.AU_TRACKS},
    **{fmt.au_key(t, "confidence"): "float32" for t in fmt.AU_TRACKS},
}

HOW_TO_MAKE = "run `samm-synth aus RELEASE` (OpenFace, or precomputed CSVs) to add the AU tracks"


class AUStore:
    """Per-frame AU arrays of a release's videos, read on demand; see the module docstring.

    ``root``: the release directory, or a path inside ``fs`` (an fsspec filesystem, e.g. ``HfFileSystem`` with
    ``datasets/ORG/NAME@REV``). ``videos``: check now that each has its AU file (one error naming
    ``samm-synth aus`` otherwise). ``cache_videos``: videos kept in memory per process.
    """

    def __init__(self, root: str | Path, videos: Iterable[str] | None = None, cache_videos: int = 8,
                 fs: Any = None) -> None:
        self.root = str(root)
        self.fs = fs
        self.cache_videos = max(1, cache_videos)
        self._cache: OrderedDict[str, tuple[np.ndarray, dict[str, np.ndarray]]] = OrderedDict()
        self._rows: tuple[str, dict[int, int], dict[str, np.ndarray]] | None = None   # the last video, by frame
        if videos is not None:
            self.check(videos)

    def _path(self, video: str) -> str:
        return f"{self.root}/{fmt.au_path(video)}"

    def _exists(self, path: str) -> bool:
        return self.fs.exists(path) if self.fs is not None else Path(path).is_file()

    def check(self, videos: Iterable[str]) -> None:
        """Raise FileNotFoundError naming ``samm-synth aus`` when any of ``videos`` has no AU file."""
        videos = sorted(set(videos))
        missing = [v for v in videos if not self._exists(self._path(v))]
        if missing:
            what = "this release has no AU tracks" if len(missing) == len(videos) else \
                f"{len(missing)} of {len(videos)} videos have no AU track, e.g. {missing[:3]}"
            raise FileNotFoundError(f"{self.root}/{fmt.AUS_DIR}: {what}; {HOW_TO_MAKE}")

    def video(self, video: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``format.au_arrays`` of one video (sorted SOURCE frames, fields), from the cache or its file."""
        hit = self._cache.get(video)
        if hit is not None:
            self._cache.move_to_end(video)
            return hit
        path = self._path(video)
        if not self._exists(path):
            raise FileNotFoundError(f"{path}: no AU track for video {video}; {HOW_TO_MAKE}")
        if self.fs is None:
            table = pq.read_table(path)
        else:
            with self.fs.open(path, "rb") as f:
                table = pq.read_table(f)
        hit = self._cache[video] = fmt.au_arrays(table, path)
        while len(self._cache) > self.cache_videos:
            self._cache.popitem(last=False)
        return hit

    def lookup(self, video: str, frames: np.ndarray | Iterable[int]) -> dict[str, np.ndarray]:
        """Fields for these SOURCE frame numbers of ``video`` (arrays with one row per frame, in the given order).

        Raises ValueError naming the frame when the AU file lacks it (the AU tracks are older than the frames).
        """
        known, fields = self.video(video)
        frames = np.asarray(frames, dtype=np.int64).reshape(-1)
        pos = np.searchsorted(known, frames)
        bad = (pos >= len(known)) | (known[np.minimum(pos, len(known) - 1)] != frames)
        if bad.any():
            raise ValueError(f"{self._path(video)}: no AUs for video {video} frame {int(frames[bad][0])}; the AU "
                             f"tracks do not match the frames, {HOW_TO_MAKE} again")
        return {k: v[pos] for k, v in fields.items()}

    def one(self, video: str, frame: int) -> dict[str, np.ndarray]:
        """Fields of one SOURCE frame (``(17,)``, ``(18,)`` float32, bool, float32): :meth:`lookup` for a single
        frame, with the row positions of the last video kept as a dict (per-sample streams)."""
        if self._rows is None or self._rows[0] != video:
            known, fields = self.video(video)
            self._rows = (video, {int(f): i for i, f in enumerate(known)}, fields)
        i = self._rows[1].get(int(frame))
        if i is None:
            return {k: v[0] for k, v in self.lookup(video, [frame]).items()}     # raises, naming the frame
        return {k: v[i, ...] for k, v in self._rows[2].items()}

    def flat(self, video: str, frames: np.ndarray | Iterable[int]) -> dict[str, list[Any]]:
        """The ``FLAT_COLUMNS`` of these frames as lists (one value per frame): for tables."""
        got = self.lookup(video, frames)
        out: dict[str, list[Any]] = {}
        for t in fmt.AU_TRACKS:
            for what, cols in (("au_r", fmt.AU_INTENSITY_COLUMNS), ("au_c", fmt.AU_PRESENCE_COLUMNS)):
                values = got[fmt.au_key(t, what)]
                for j, c in enumerate(cols):
                    out[fmt.au_key(t, c)] = values[:, j].tolist()
            out[fmt.au_key(t, "success")] = got[fmt.au_key(t, "success")].tolist()
            out[fmt.au_key(t, "confidence")] = got[fmt.au_key(t, "confidence")].tolist()
        return out

    def __getstate__(self) -> dict[str, Any]:
        """Picklable state with an empty cache (each worker reads its own videos)."""
        state = self.__dict__.copy()
        state["_cache"] = OrderedDict()
        state["_rows"] = None
        return state


def sample_meta(sample: dict[str, Any], what: str) -> dict[str, Any]:
    """The ``json`` member of a WebDataset sample as a dict (decoded or raw bytes); ValueError naming the sample
    when it has none (``what``: what was to be matched on it)."""
    meta = sample.get("json")
    if meta is None:
        raise ValueError(f"{sample.get('__url__', '?')}:{sample.get('__key__', '?')}: no json member to match "
                         f"{what}")
    return json.loads(meta) if isinstance(meta, (bytes, bytearray, str)) else meta


class AttachAUs:
    """WebDataset map stage: add one frame's AU fields (numpy: ``(17,)``, ``(18,)`` float32, bool, float32) to a
    sample, matched on the ``video`` and ``frame`` of its ``json`` member (decoded or raw bytes)."""

    def __init__(self, store: AUStore) -> None:
        self.store = store

    def __call__(self, sample: dict[str, Any]) -> dict[str, Any]:
        meta = sample_meta(sample, "AUs on (video, frame)")
        sample.update(self.store.one(str(meta["video"]), int(meta["frame"])))
        return sample

"""``load_webdataset``: a ``webdataset.WebDataset`` over a release's tars, decoded safely.

Shards are ``data/wds/<video>-<part:05d>.tar``; a sample's key is ``<video>/<index:06d>`` (``format.wds_key``) and
its members are the frame image (``jpg`` or ``png``) and ``json`` (the frames-table fields except the image).
Decoding never unpickles: images are decoded with OpenCV to uint8 RGB arrays (H×W×3, or H×W for greyscale) and
``json`` with ``json.loads``; any other member raises (``webdataset``'s default decoders would unpickle ``.pyd``).

Shard order is a function of ``(seed, epoch)`` only: call ``set_epoch(e)`` on the returned pipeline before each
epoch (like ``DistributedSampler``). The epoch does not advance by itself, and DataLoader workers (fresh copies of
the pipeline) read the epoch it had when their iterator was created, so leave ``persistent_workers`` off.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
import pyarrow.parquet as pq
import webdataset as wds

from samm_synth_dataset import format as fmt, images
from samm_synth_dataset.images import IMAGE_EXTENSIONS
from samm_synth_dataset.loaders.au_tracks import AttachAUs, AUStore, sample_meta


def decode_image(data: bytes, where: str = "image") -> np.ndarray:
    """Decode a shard's image member (uint8 H×W×3 RGB or H×W greyscale); raises ValueError naming ``where``."""
    return images.decode_image(data, where, hint="the shard may be corrupt (re-run the build with --resume to "
                                                 "rewrite it)")


def decode_sample(sample: dict[str, Any]) -> dict[str, Any]:
    """Decode one raw WebDataset sample with safe decoders only (images → uint8 arrays, json → dict)."""
    out: dict[str, Any] = {}
    where = f"{sample.get('__url__', '?')}:{sample.get('__key__', '?')}"
    for name, value in sample.items():
        if name.startswith("__"):
            out[name] = value
            continue
        ext = name.rsplit(".", 1)[-1].lower()
        if ext in IMAGE_EXTENSIONS:
            out[name] = decode_image(value, f"{where}.{name}")
        elif ext == "json":
            out[name] = json.loads(value)
        elif ext in ("txt", "cls"):
            out[name] = value.decode("utf-8")
        else:
            raise ValueError(f"{where}: member .{name} has no safe decoder here; releases hold only "
                             f"{IMAGE_EXTENSIONS} images and json")
    return out


def shard_urls(release: str | Path) -> list[str]:
    """The release's tar shards, sorted by name (``<video>-<part>``, so a video's parts are in order)."""
    root = Path(release)
    fmt.check_release(root)
    urls = sorted(str(p) for p in (root / fmt.WDS_DIR).glob("*.tar"))
    if not urls:
        raise FileNotFoundError(f"{root / fmt.WDS_DIR}: no .tar shards; the release was built without the "
                                "webdataset format")
    return urls


class ShardShuffle:
    """Pipeline stage shuffling the stream of shard dicts with a generator seeded by ``(seed, epoch)``.

    ``seed=None`` keeps the order. ``bufsize``: shards held at once (``None``: all, a full permutation). It runs
    before the node and worker splits, so every rank and worker computes the same order and the splits stay
    disjoint and complete; which shards a rank or worker reads changes from epoch to epoch.
    """

    def __init__(self, seed: int | None, epoch: int = 0, bufsize: int | None = None) -> None:
        if seed is not None and seed < 0:
            raise ValueError(f"shuffle_seed must be >= 0, got {seed}")
        if bufsize is not None and bufsize < 1:
            raise ValueError(f"shardshuffle must be >= 1, got {bufsize}")
        self.seed = seed
        self.bufsize = bufsize
        self.epoch = 0
        self.set_epoch(epoch)

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch (>= 0) the next iteration's order is drawn for."""
        if int(epoch) < 0:
            raise ValueError(f"epoch must be >= 0, got {epoch}")
        self.epoch = int(epoch)

    def __call__(self, src: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        if self.seed is None:
            yield from src
            return
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, self.epoch]))
        buf: list[dict[str, Any]] = []
        for item in src:
            buf.append(item)
            if self.bufsize is not None and len(buf) >= self.bufsize:
                yield buf.pop(int(rng.integers(len(buf))))
        for i in rng.permutation(len(buf)):
            yield buf[i]


class ReleaseWebDataset(wds.WebDataset):
    """A ``webdataset.WebDataset`` whose shard order is set by ``(shuffle_seed, epoch)``; see
    :func:`load_webdataset`. Pipelines derived from it (``.map``, ``.shuffle``, ``.batched``...) share the shard
    shuffle, so ``set_epoch`` works on any of them."""

    def __init__(self, urls: list[str], shuffle_seed: int | None = None, shardshuffle: int | None = None,
                 epoch: int = 0, **kwargs: Any) -> None:
        super().__init__(urls, shardshuffle=False, **kwargs)
        self.shard_shuffle = ShardShuffle(shuffle_seed, epoch, shardshuffle)
        self.pipeline.insert(1, self.shard_shuffle)     # right after the shard list, before the node split

    @property
    def epoch(self) -> int:
        """The epoch the shard order is drawn for."""
        return self.shard_shuffle.epoch

    def set_epoch(self, epoch: int) -> None:
        """Draw the shard order of ``epoch`` (>= 0) from now on; call it before each epoch, on every rank, before
        iterating (workers copy the pipeline when the DataLoader's iterator is created)."""
        self.shard_shuffle.set_epoch(epoch)


def check_shard_counts(samples: Iterable[dict[str, Any]], expected: dict[str, int | None]
                       ) -> Iterator[dict[str, Any]]:
    """Pass samples on, and raise ValueError when a shard ends with another number of samples than the manifest
    lists: a damaged tar header ends Python's tar reader early without an error, which would drop samples
    silently. Samples of one shard arrive together (this stage runs before any sample shuffle)."""
    url, n = None, 0
    for sample in samples:
        if sample.get("__url__") != url:
            _check_count(url, n, expected)
            url, n = sample.get("__url__"), 0
        n += 1
        yield sample
    _check_count(url, n, expected)


def _check_count(url: str | None, n: int, expected: dict[str, int | None]) -> None:
    want = expected.get(url) if url is not None else None
    if want is not None and n != want:
        raise ValueError(f"{url}: {n} samples read, the manifest lists {want}; the shard is damaged (`samm-synth "
                         "verify` names it): rebuild it or load the Parquet frames")


class AttachEmotions:
    """WebDataset map stage: add ``emotion`` and ``emotion_megc`` (strings, ``format.frame_emotions``) to a sample
    from the ``interval_ids`` of its ``json`` member (decoded or raw bytes)."""

    def __init__(self, lookup: dict[str, tuple[str | None, str | None]]) -> None:
        self.lookup = lookup

    def __call__(self, sample: dict[str, Any]) -> dict[str, Any]:
        meta = sample_meta(sample, "emotions on (interval_ids)")
        sample["emotion"], sample["emotion_megc"] = fmt.frame_emotions(meta.get("interval_ids") or [], self.lookup)
        return sample


def load_webdataset(
    release: str | Path | Sequence[str],
    shuffle_seed: int | None = None,
    shardshuffle: int | None = None,
    decode: bool = True,
    nodesplitter: Callable[..., Any] | None = None,
    workersplitter: Callable[..., Any] | None = None,
    handler: Callable[..., Any] | None = None,
    empty_check: bool = True,
    epoch: int = 0,
    aus: bool = False,
    emotions: bool = False,
) -> ReleaseWebDataset:
    """A :class:`ReleaseWebDataset` (a ``webdataset.WebDataset``) over ``release``'s ``data/wds/*.tar`` (or an
    explicit list of shard URLs).

    With ``shuffle_seed`` set (>= 0), the shard list is shuffled with a generator seeded by
    ``(shuffle_seed, epoch)`` (``shardshuffle``: its buffer, default all shards), identically on every rank and
    worker; otherwise shards are read in name order. Change the epoch with ``ds.set_epoch(e)`` before each epoch:
    the order is then reproducible for ``(shuffle_seed, epoch)`` with or without DataLoader workers, and never
    advances on its own. The shards then go to ranks (``webdataset.split_by_node``) and DataLoader workers
    (``webdataset.split_by_worker``). Samples are shards' frames in order; shuffle samples yourself with
    ``.shuffle(n)``. With ``decode`` each sample is ``{"__key__", "__url__", "jpg"|"png": uint8 RGB array,
    "json": dict}``. Ranks get whole shards, so they may see unequal sample counts: for DDP training use
    :class:`ClipDataset`, which equalises them, or ``.with_epoch(n)`` on a resampled pipeline.

    ``aus`` (a release directory only): add the frame's original and synthetic OpenFace AUs to each sample,
    matched on its json's ``video`` and ``frame`` (``loaders.aus``: ``<track>_au_r`` float32 (17,),
    ``<track>_au_c`` (18,), NaN where OpenFace failed, ``<track>_success``, ``<track>_confidence``); each worker
    reads only the AU files of the videos it streams. FileNotFoundError naming ``samm-synth aus`` without them.

    ``emotions`` (a release directory only): add ``emotion`` and ``emotion_megc`` strings to each sample, the labels
    of the intervals covering the frame (``format.frame_emotions``; ``""`` when none), from the ``intervals`` table;
    a release without emotion labels (SAMM-LV) is refused with a ValueError saying so.
    """
    if isinstance(release, (str, Path)) and Path(release).is_dir():
        urls: list[str] = shard_urls(release)
    elif isinstance(release, (list, tuple)):
        urls = [str(u) for u in release]
    else:
        raise FileNotFoundError(f"{release}: not a release directory; give a release folder or a list of shard "
                                "URLs (fetch a Hub release first with huggingface_hub.snapshot_download)")
    ds = ReleaseWebDataset(
        urls,
        shuffle_seed=shuffle_seed,
        shardshuffle=int(shardshuffle) if shardshuffle is not None else None,
        epoch=epoch,
        handler=handler or wds.reraise_exception,
        nodesplitter=nodesplitter or wds.split_by_node,
        workersplitter=workersplitter or wds.split_by_worker,
        empty_check=empty_check,
    )
    if isinstance(release, (str, Path)) and Path(release).is_dir():
        rows = {f["path"]: f.get("rows") for f in fmt.read_manifest(release)["files"]}
        expected = {u: rows.get(Path(u).relative_to(Path(release)).as_posix()) for u in urls}
        ds = ds.compose(partial(check_shard_counts, expected=expected))
    if decode:
        ds = ds.map(decode_sample)
    if aus:
        if not (isinstance(release, (str, Path)) and Path(release).is_dir()):
            raise ValueError("aus=True needs the release directory (the AU tracks live in its data/aus)")
        videos = {Path(u).stem.rsplit("-", 1)[0] for u in urls}
        ds = ds.map(AttachAUs(AUStore(release, videos, cache_videos=2)))
    if emotions:
        if not (isinstance(release, (str, Path)) and Path(release).is_dir()):
            raise ValueError("emotions=True needs the release directory (the labels live in its intervals table)")
        path = Path(release) / fmt.INTERVALS_PATH
        lookup = fmt.interval_emotions(pq.read_table(path).to_pydict()) if path.is_file() else {}
        if not lookup:
            raise ValueError(f"{release}: emotions=True, but {fmt.NO_EMOTION_LABELS}")
        ds = ds.map(AttachEmotions(lookup))
    return ds

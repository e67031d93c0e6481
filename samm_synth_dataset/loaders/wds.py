"""``load_webdataset``: a ``webdataset.WebDataset`` over a release's tars, decoded safely.

Shards are ``data/wds/<video>-<part:05d>.tar``; a sample's key is ``<video>/<index:06d>`` (``format.wds_key``) and
its members are the frame image (``jpg`` or ``png``) and ``json`` (the frames-table fields except the image).
Decoding never unpickles: images are decoded with OpenCV to uint8 RGB arrays (H×W×3, or H×W for greyscale) and
``json`` with ``json.loads``; any other member raises (``webdataset``'s default decoders would unpickle ``.pyd``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Sequence

import cv2
import numpy as np

from samm_synth_dataset import format as fmt

IMAGE_EXTENSIONS: tuple[str, ...] = ("jpg", "jpeg", "png", "webp")


def decode_image(data: bytes, where: str = "image") -> np.ndarray:
    """Decode JPEG/PNG/WebP bytes to uint8 RGB (H×W×3) or greyscale (H×W); raises ValueError naming ``where``."""
    buf = np.frombuffer(data, dtype=np.uint8)
    img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError(f"{where}: cannot decode the image bytes ({len(data)} bytes); the shard may be corrupt "
                         "(re-run the build with --resume to rewrite it)")
    if img.dtype != np.uint8:
        raise ValueError(f"{where}: image is {img.dtype}, expected 8-bit")
    if img.ndim == 3:
        if img.shape[2] == 4:
            img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
        elif img.shape[2] == 3:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        elif img.shape[2] == 1:
            img = img[:, :, 0]
    return img


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
    fmt.read_manifest(root)
    urls = sorted(str(p) for p in (root / fmt.WDS_DIR).glob("*.tar"))
    if not urls:
        raise FileNotFoundError(f"{root / fmt.WDS_DIR}: no .tar shards; the release was built without the "
                                "webdataset format")
    return urls


def load_webdataset(
    release: str | Path | Sequence[str],
    shuffle_seed: int | None = None,
    shardshuffle: int | None = None,
    decode: bool = True,
    nodesplitter: Callable[..., Any] | None = None,
    workersplitter: Callable[..., Any] | None = None,
    handler: Callable[..., Any] | None = None,
    empty_check: bool = True,
) -> Any:
    """A ``webdataset.WebDataset`` over ``release``'s ``data/wds/*.tar`` (or an explicit list of shard URLs).

    Shards go first to ranks (``webdataset.split_by_node``), then to DataLoader workers
    (``webdataset.split_by_worker``); with ``shuffle_seed`` set, each worker's shards are then shuffled
    deterministically per epoch (``detshuffle``; ``shardshuffle`` is its buffer, default all shards), otherwise
    they are read in order. Samples are shards' frames in order; shuffle samples yourself with ``.shuffle(n)``.
    With ``decode`` each sample is ``{"__key__", "__url__", "jpg"|"png": uint8 RGB array, "json": dict}``.
    Ranks get whole shards, so they may see unequal sample counts: for DDP training use :class:`ClipDataset`,
    which equalises them, or ``.with_epoch(n)`` on a resampled pipeline.
    """
    import webdataset as wds

    if isinstance(release, (str, Path)) and Path(release).is_dir():
        urls: list[str] = shard_urls(release)
    elif isinstance(release, (list, tuple)):
        urls = [str(u) for u in release]
    else:
        raise FileNotFoundError(f"{release}: not a release directory; give a release folder or a list of shard "
                                "URLs (fetch a Hub release first with huggingface_hub.snapshot_download)")
    if shuffle_seed is None:
        shuffle: int | bool = False
    else:
        shuffle = int(shardshuffle) if shardshuffle is not None else max(len(urls), 1)
    ds = wds.WebDataset(
        urls,
        handler=handler or wds.reraise_exception,
        shardshuffle=shuffle,
        detshuffle=shuffle_seed is not None,
        seed=shuffle_seed if shuffle_seed is not None else 0,
        nodesplitter=nodesplitter or wds.split_by_node,
        workersplitter=workersplitter or wds.split_by_worker,
        empty_check=empty_check,
    )
    if decode:
        ds = ds.map(decode_sample)
    return ds

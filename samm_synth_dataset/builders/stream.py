"""The frame stream of one unit: decode + face crop (thread pool) → style transfer (batches) → encode (thread pool).

Each stage runs a bounded number of frames ahead, so memory is bounded by the batch size, never by the video's
length. Frames come out in source order.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from samm_synth_dataset.builders.config import BuildConfig
from samm_synth_dataset.images import encode_image
from samm_synth_dataset.sources import iter_video_frames, read_image, to_rgb
from samm_synth_dataset.transfer.base import StyleCode, TransferMethod
from samm_synth_dataset.transfer.engine import translate_frames


def thread_counts() -> tuple[int, int]:
    """(decode, encode) threads for this process: the CPUs shared among the ranks on this node (torchrun's
    ``LOCAL_WORLD_SIZE``), one left for the model; OpenCV releases the GIL while it decodes and encodes."""
    local = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1))
    cpus = max(1, (os.cpu_count() or 2) // local - 1)
    return min(8, cpus), min(4, cpus)


@dataclass
class Pools:
    """The decode and encode thread pools, shared by all units of a process."""

    decode: ThreadPoolExecutor
    encode: ThreadPoolExecutor


def make_pools() -> Pools:
    """Both pools, sized by :func:`thread_counts` (shut them down when done)."""
    n_decode, n_encode = thread_counts()
    return Pools(ThreadPoolExecutor(n_decode, "decode"), ThreadPoolExecutor(n_encode, "encode"))


def _ordered_map(fn: Any, items: Iterable[Any], pool: ThreadPoolExecutor, lookahead: int) -> Iterator[Any]:
    """``fn`` over ``items`` on ``pool``, at most ``lookahead`` in flight, results in input order."""
    pending: deque = deque()
    for item in items:
        if len(pending) >= lookahead:
            yield pending.popleft().result()
        pending.append(pool.submit(fn, item))
    while pending:
        yield pending.popleft().result()


def cropped_frames(source: Any, crop: Any, pool: ThreadPoolExecutor, lookahead: int) -> Iterator[np.ndarray]:
    """The source frames, face-cropped to S×S×3 RGB, in order. Image folders are decoded on ``pool`` (at most
    ``lookahead`` frames ahead: full-size SAMM-LV frames cost more to decode than a GPU model to translate);
    video files are read sequentially."""
    if source.frame_paths is None:
        for _, image in iter_video_frames(source):
            yield to_rgb(crop.apply(image))
        return

    def load(path: Path) -> np.ndarray:
        return to_rgb(crop.apply(read_image(path)))

    yield from _ordered_map(load, source.frame_paths, pool, lookahead)


def encoded_frames(config: BuildConfig, method: TransferMethod, style: StyleCode, source: Any, crop: Any,
                   pools: Pools) -> Iterator[bytes]:
    """The frames of ``source`` cropped by ``crop``, restyled by ``method`` with ``style`` in batches of
    ``method.batch_size``, encoded as ``config.image_format``; in order, up to two batches ahead per stage."""
    lookahead = 2 * method.batch_size
    out = translate_frames(method, style, cropped_frames(source, crop, pools.decode, lookahead))
    return _ordered_map(partial(encode_image, ext=config.image_format, jpeg_quality=config.jpeg_quality), out,
                        pools.encode, lookahead)

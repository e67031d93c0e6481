"""The method registry and the video engine.

``METHODS`` maps each method name to what the builder must know before loading it and to its loader;
``load_method`` is the one place a name becomes a :class:`TransferMethod`. ``translate_frames`` streams frames
through a method: the style code is computed ONCE per (reference, domain) by the caller (``method.style``) and
reused for every frame. Frames are read from the caller's iterable in a worker thread (so decoding overlaps
compute), replicated to RGB when greyscale, batched, translated and yielded in order. At most ``prefetch``
batches wait in the queue, one is being built and two are submitted to the method (the one being handed out and
the next), so memory is bounded by (prefetch + 3) × batch_size frames.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

import numpy as np

from samm_synth_dataset.transfer.base import StyleCode, TransferMethod
from samm_synth_dataset.transfer.color import ColorTransfer

if TYPE_CHECKING:
    import torch

_DONE = object()


def _load_color(checkpoint: str | Path | None, fan_checkpoint: str | Path | None, image_size: int,
                batch_size: int | None, **_: Any) -> TransferMethod:
    if checkpoint is not None or fan_checkpoint is not None:
        raise ValueError("color-transfer uses no weights; do not pass a checkpoint")
    return ColorTransfer(image_size=image_size, **({} if batch_size is None else {"batch_size": batch_size}))


def _load_stargan(checkpoint: str | Path | None, fan_checkpoint: str | Path | None, device: str,
                  dtype: "torch.dtype | str | None", batch_size: int | None, compile: bool, channels_last: bool,
                  **_: Any) -> TransferMethod:
    if checkpoint is None:
        raise ValueError("stargan-v2 needs checkpoint= (the official 100000_nets_ema.ckpt); for a run without "
                         "weights use the 'color-transfer' method")
    import torch

    from samm_synth_dataset.transfer.stargan import StarGANv2

    dev = torch.device(device)
    if dtype is None:
        if dev.type == "cuda":
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        else:
            dtype = torch.float32
    elif isinstance(dtype, str):
        if dtype not in ("float32", "bfloat16", "float16"):
            raise ValueError(f"dtype must be float32, bfloat16 or float16, got {dtype!r}")
        dtype = getattr(torch, dtype)
    return StarGANv2.from_checkpoint(checkpoint, fan_checkpoint, device=dev, dtype=dtype, batch_size=batch_size,
                                     channels_last=channels_last, compile=compile)


@dataclass(frozen=True)
class MethodInfo:
    """A registered method. ``weights``: it loads official weights, so it needs a checkpoint, the checkpoint
    fixes its image size, it runs on a torch device and its FAN (when present) can align faces; without
    weights it runs on the CPU at the configured image size."""

    name: str
    weights: bool
    load: Callable[..., TransferMethod]


#: Every transfer method by name (the names a release's ``videos.method`` column holds).
METHODS: dict[str, MethodInfo] = {
    "stargan-v2": MethodInfo("stargan-v2", weights=True, load=_load_stargan),
    "color-transfer": MethodInfo("color-transfer", weights=False, load=_load_color),
}


def method_info(name: str) -> MethodInfo:
    """The registry entry of ``name``; ValueError naming the known methods otherwise."""
    if name not in METHODS:
        raise ValueError(f"unknown transfer method {name!r}; choose one of {list(METHODS)}")
    return METHODS[name]


def load_method(name: str, checkpoint: str | Path | None = None, fan_checkpoint: str | Path | None = None,
                device: str = "cpu", dtype: "torch.dtype | str | None" = None, batch_size: int | None = None,
                compile: bool = False, channels_last: bool = True, image_size: int = 256) -> TransferMethod:
    """Build a transfer method by name.

    ``"stargan-v2"`` needs ``checkpoint`` (official ``*_nets_ema.ckpt``) and, for a masked model without a
    ``fan`` entry, ``fan_checkpoint`` (``wing.ckpt``). ``dtype`` is the compute precision: None = float32 on
    CPU (official outputs), bfloat16 autocast on CUDA (float16 where bf16 is unsupported); a torch dtype or
    ``"float32"``/``"bfloat16"``/``"float16"`` chooses explicitly. ``batch_size``: frames per model call
    (None: the method's default — StarGAN v2 1 on CPU, 16 on CUDA; colour transfer 8); ``compile``:
    ``torch.compile`` the FAN and generator (measured no faster on this CPU, minutes of compile time).
    ``"color-transfer"`` takes no weights; ``image_size`` is its frame size (a checkpoint fixes its own).
    """
    return method_info(name).load(checkpoint=checkpoint, fan_checkpoint=fan_checkpoint, device=device,
                                  dtype=dtype, batch_size=batch_size, compile=compile,
                                  channels_last=channels_last, image_size=image_size)


def as_rgb(frame: np.ndarray, index: int) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        raise ValueError(f"frame {index} (0-based position in the stream): expected uint8, got {frame.dtype}")
    if frame.ndim == 2:
        return np.repeat(frame[:, :, None], 3, axis=2)
    if frame.ndim == 3 and frame.shape[2] == 3:
        return frame
    raise ValueError(f"frame {index} (0-based position in the stream): expected H×W or H×W×3, got {frame.shape}")


def _producer(frames: Iterable[np.ndarray], size: int, batch_size: int, out: queue.Queue,
              stop: threading.Event) -> None:
    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    try:
        batch: list[np.ndarray] = []
        for index, frame in enumerate(frames):
            rgb = as_rgb(frame, index)
            if rgb.shape[:2] != (size, size):
                raise ValueError(f"frame {index} (0-based position in the stream) is {rgb.shape[1]}×{rgb.shape[0]}"
                                 f"; the method needs {size}×{size} face crops")
            batch.append(rgb)
            if len(batch) == batch_size:
                if not put(np.stack(batch)):
                    return
                batch = []
            if stop.is_set():
                return
        if batch and not put(np.stack(batch)):
            return
        put(_DONE)
    except BaseException as exc:  # forwarded to the consumer, which re-raises it
        put(exc)


def translate_frames(method: TransferMethod, style: StyleCode, frames: Iterable[np.ndarray],
                     batch_size: int | None = None, prefetch: int = 2) -> Iterator[np.ndarray]:
    """Yield ``method.apply`` of every frame (H×W×3 uint8 RGB, S×S where S = ``method.image_size``), in input
    order, in batches of ``batch_size`` frames (None: ``method.batch_size``). Input frames may be greyscale H×W
    (replicated to RGB). Errors from the input iterable are re-raised here; stopping early stops the reader.
    Frames are read in a worker thread (``prefetch`` batches ahead); batch i+1 is submitted before batch i is
    collected, so on CUDA the GPU computes while this thread hands out, encodes and writes the previous batch."""
    batch_size = method.batch_size if batch_size is None else batch_size
    if batch_size < 1 or prefetch < 1:
        raise ValueError(f"batch_size and prefetch must be ≥ 1, got {batch_size}, {prefetch}")
    pending: queue.Queue = queue.Queue(maxsize=prefetch)
    stop = threading.Event()
    worker = threading.Thread(target=_producer, args=(frames, method.image_size, batch_size, pending, stop),
                              name="translate-frames-reader", daemon=True)
    worker.start()
    in_flight: Callable[[], np.ndarray] | None = None
    try:
        while True:
            item = pending.get()
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise item
            started = method.submit(item, style)
            if in_flight is not None:
                yield from in_flight()
            in_flight = started
        if in_flight is not None:
            yield from in_flight()
    finally:
        stop.set()
        worker.join(timeout=5)

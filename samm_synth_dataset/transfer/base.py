"""What every style-transfer method offers the builder (:class:`TransferMethod`), and the domain naming.

Frames are uint8 RGB N×S×S×3 numpy arrays (S = ``image_size``). A style code is computed once per
(reference, domain) and reused for every frame of a video.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, runtime_checkable

import numpy as np

#: Domain names of the official StarGAN v2 checkpoints by number of domains, in label order (the official data
#: loader, torchvision ImageFolder, sorts the sub-folders): CelebA-HQ and AFHQ.
DOMAIN_NAMES: dict[int, tuple[str, ...]] = {2: ("female", "male"), 3: ("cat", "dog", "wild")}


def domain_index(domain: str | int, num_domains: int | None = None) -> int:
    """Domain label of ``domain``: a name of the ``num_domains``-domain naming (``female``/``male`` for 2,
    ``cat``/``dog``/``wild`` for 3; without ``num_domains``: ``female``/``male``) or an index (checked to be in
    ``0..num_domains-1`` when ``num_domains`` is given, else ≥ 0). Raises ValueError naming the choices."""
    names = DOMAIN_NAMES.get(num_domains if num_domains is not None else 2, ())
    text = str(domain).strip()
    if not text.lstrip("-").isdigit():
        if text.lower() not in names:
            span = f"0..{num_domains - 1}" if num_domains is not None else "a domain number"
            raise ValueError(f"unknown domain {domain!r}: use one of {list(names)} or {span}")
        return names.index(text.lower())
    index = int(text)
    if index < 0 or (num_domains is not None and index >= num_domains):
        span = f"0..{num_domains - 1}" if num_domains is not None else "≥ 0"
        raise ValueError(f"domain {index} is out of range ({span})")
    return index


@dataclass(frozen=True)
class StyleCode:
    """A style computed once per (reference, domain) and reused for every frame of a video.

    ``values`` is method-specific (StarGAN v2: the style vector, float32 of length style_dim; colour transfer:
    Lab mean and std of the reference face region)."""

    method: str
    domain: int
    values: np.ndarray


@runtime_checkable
class TransferMethod(Protocol):
    """A style-transfer method, as the builder uses it. ``transfer.engine.load_method`` makes one by name.

    ``image_size`` is the side S of the square face crops it takes; ``batch_size`` the frames per model call
    (the builder streams frames in batches of it); ``checkpoint_sha256`` the weights' hash (None without
    weights); ``has_landmarks`` is True when :meth:`landmarks` works (a StarGAN v2 checkpoint with its FAN)."""

    name: str
    image_size: int
    batch_size: int
    checkpoint_sha256: str | None
    has_landmarks: bool

    def domain_index(self, domain: str | int) -> int:
        """The method's label for a reference's domain name or number; ValueError when it has no such domain."""
        ...

    def style(self, reference: np.ndarray, domain: int) -> StyleCode:
        """Style of one reference image (H×W×3 uint8 RGB, already cropped to the face)."""
        ...

    def apply(self, frames: np.ndarray, style: StyleCode) -> np.ndarray:
        """Restyle a batch of frames (N×S×S×3 uint8 RGB) → N×S×S×3 uint8 RGB."""
        ...

    def submit(self, frames: np.ndarray, style: StyleCode) -> Callable[[], np.ndarray]:
        """Start :meth:`apply` on ``frames`` and return a function that waits for its result (a method that
        computes at once returns the finished result; StarGAN v2 on CUDA queues the work)."""
        ...

    def landmarks(self, frames: np.ndarray) -> np.ndarray:
        """98 WFLW landmarks per face crop, N×98×2 (x, y) pixels; ValueError when ``has_landmarks`` is False."""
        ...

"""Training and inference of the SOFTNet spotting baseline on in-memory features, deterministic for a seed.

One model per expression kind and LOSO fold (``fit_fold``), trained from fresh weights on ``items``: one
``(features, labels)`` pair per training video, ``features`` from ``features.flow_features`` (``M × S × S × 3``)
and ``labels`` from ``labels.pseudo_labels`` (``M``). The recipe (SOFTNet's):

* model input: each channel of each sample min-max scaled to [0, 1] (a constant channel becomes 0);
* sample selection, once per fit: every positive (label > 0) kept; negatives randomly downsampled to
  ``floor(max(n_neg, n_pos) / 2)`` (half the larger class), or all of them when fewer;
* ME only (``kind="ME"``): each positive also appears three more times, horizontally flipped, blurred by a 7×7
  Gaussian (σ from the size, OpenCV), and with Gaussian noise (σ = ``NOISE_SIGMA`` on the [0, 1] scale, drawn anew
  each epoch; SOFTNet drew it once);
* MSE loss, plain SGD (lr 0.0005, no momentum), batch 12, 10 epochs, samples shuffled every epoch.

Determinism: the seed fixes the initial weights (``torch.manual_seed``), the negatives kept, the shuffles and the
noise (one ``numpy`` generator); ``torch.use_deterministic_algorithms(True)`` is on during the fit (restored after).
On CPU, the same seed, data and thread count give bit-identical weights. ``device="cuda"`` trains on the GPU when
asked and present (deterministic cuBLAS needs ``CUBLAS_WORKSPACE_CONFIG``, set to ``:4096:8`` if unset); the
default is the CPU, and ``"auto"`` picks the GPU when there is one.
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator, Sequence

import cv2
import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from samm_synth_dataset import format as fmt
from samm_synth_dataset.spotting import decode
from samm_synth_dataset.spotting.network import SOFTNet
from samm_synth_dataset.spotting.recipe import BATCH_SIZE, EPOCHS, LEARNING_RATE, P

NOISE_SIGMA = 0.05
BLUR_SIZE = 7
#: Augmentation codes of a training sample: as is, flipped, blurred, noisy.
PLAIN, FLIP, BLUR, NOISE = 0, 1, 2, 3

Item = tuple[np.ndarray, np.ndarray]


def resolve_device(device: str) -> torch.device:
    """``"cpu"``, ``"cuda"`` (must be available) or ``"auto"`` (cuda when available, else cpu)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        return torch.device("cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} asked for but torch sees no CUDA GPU; use --device cpu or auto")
        return torch.device(device)
    raise ValueError(f"device must be cpu, cuda or auto, not {device!r}")


def model_inputs(features: np.ndarray) -> np.ndarray:
    """``B × S × S × 3`` features → ``B × 3 × S × S`` float32, each channel of each sample min-max scaled to
    [0, 1] (a constant channel becomes 0)."""
    x = np.asarray(features, dtype=np.float32)
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"features must be B×S×S×3, got shape {x.shape}")
    out = x.transpose(0, 3, 1, 2).copy()  # C order; never a view of the caller's features
    flat = out.reshape(out.shape[0], 3, -1)
    lo = flat.min(axis=2, keepdims=True)
    span = flat.max(axis=2, keepdims=True) - lo
    flat -= lo
    flat *= np.divide(1.0, span, out=np.zeros_like(span), where=span > 0)
    return out


def _augment(x: np.ndarray, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Apply each sample's augmentation code to ``B × 3 × S × S`` inputs in [0, 1] (in place, returned)."""
    for i in np.flatnonzero(codes == FLIP):
        x[i] = x[i, :, :, ::-1]
    for i in np.flatnonzero(codes == BLUR):
        x[i] = cv2.GaussianBlur(np.ascontiguousarray(x[i].transpose(1, 2, 0)), (BLUR_SIZE, BLUR_SIZE), 0
                                ).transpose(2, 0, 1)
    noisy = np.flatnonzero(codes == NOISE)
    if noisy.size:
        x[noisy] += rng.normal(0.0, NOISE_SIGMA, size=x[noisy].shape).astype(np.float32)
    return x


def _check_items(items: Sequence[Item]) -> int:
    if not items:
        raise ValueError("no training videos: a fold needs at least one (features, labels) item")
    size = None
    for n, (features, labels) in enumerate(items):
        if features.ndim != 4 or features.shape[-1] != 3 or features.shape[1] != features.shape[2]:
            raise ValueError(f"training item {n}: features must be M×S×S×3, got shape {features.shape}")
        if labels.shape != (features.shape[0],):
            raise ValueError(f"training item {n}: {labels.shape} labels for {features.shape[0]} features; one "
                             "label per pair (i, i + k)")
        if size is not None and features.shape[1] != size:
            raise ValueError(f"training item {n}: input size {features.shape[1]} differs from item 0's {size}")
        size = features.shape[1]
    assert size is not None
    return int(size)


def training_samples(items: Sequence[Item], kind: str, rng: np.random.Generator) -> np.ndarray:
    """The samples of one fit as rows ``(item, row, augmentation code)`` (int64 K × 3), before shuffling: all
    positives, half-the-larger-class negatives drawn by ``rng``, and for ME three augmented copies of each
    positive."""
    if kind not in fmt.KINDS:
        raise ValueError(f"kind must be one of {fmt.KINDS}, not {kind!r}")
    where = [np.stack([np.full(len(y), n), np.arange(len(y))], axis=1) for n, (_, y) in enumerate(items)]
    pairs = np.concatenate(where).astype(np.int64)
    labels = np.concatenate([np.asarray(y, dtype=np.float32) for _, y in items])
    pos, neg = pairs[labels > 0], pairs[labels <= 0]
    n_keep = min(len(neg), max(len(neg), len(pos)) // 2)
    neg = neg[np.sort(rng.choice(len(neg), size=n_keep, replace=False))] if n_keep < len(neg) else neg
    codes = [PLAIN, FLIP, BLUR, NOISE] if kind == "ME" else [PLAIN]
    rows = [np.column_stack([pos, np.full(len(pos), c)]) for c in codes]
    rows.append(np.column_stack([neg, np.full(len(neg), PLAIN)]))
    return np.concatenate(rows).astype(np.int64)


@contextlib.contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """Run with ``threads`` torch CPU threads (None: leave torch's setting), restored after."""
    previous = torch.get_num_threads()
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1 or None, got {threads}")
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def _deterministic(device: torch.device, threads: int | None) -> Iterator[None]:
    previous = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    try:
        with _torch_threads(threads):
            yield
    finally:
        torch.use_deterministic_algorithms(previous, warn_only=warn_only)


def fit_fold(items: Sequence[Item], kind: str, epochs: int = EPOCHS, seed: int = 0, device: str = "cpu",
             batch_size: int = BATCH_SIZE, lr: float = LEARNING_RATE, threads: int | None = 1,
             progress: bool = False) -> SOFTNet:
    """Train a fresh SOFTNet on ``items`` (``(features M×S×S×3, labels M)`` per video) for one kind (``"ME"``
    augments positives) and return it in eval mode on the CPU. Deterministic for ``seed`` (module docstring).
    ``threads``: torch CPU threads during the fit (default 1: batches of 12 on a 315 k-parameter net gain nothing
    from more, and lose much when cores are shared; None keeps torch's setting); restored after."""
    if epochs < 1 or batch_size < 1 or not lr > 0:
        raise ValueError(f"need epochs >= 1, batch_size >= 1 and lr > 0; got {epochs}, {batch_size}, {lr}")
    size = _check_items(items)
    dev = resolve_device(device)
    if not any(np.any(np.asarray(y) > 0) for _, y in items):
        raise ValueError(f"no positive {kind} pair in the training videos: nothing to learn; check the intervals "
                         "and k of the fold")
    rng = np.random.default_rng(seed)
    samples = training_samples(items, kind, rng)
    with _deterministic(dev, threads):
        torch.manual_seed(seed)
        model = SOFTNet(size).to(dev)
        optimiser = torch.optim.SGD(model.parameters(), lr=lr)
        loss_fn = nn.MSELoss()
        bar = None
        if progress:
            bar = tqdm(total=epochs * len(samples), desc=f"train {kind}", unit="sample", leave=False)
        model.train()
        for _ in range(epochs):
            order = samples[rng.permutation(len(samples))]
            for start in range(0, len(order), batch_size):
                batch = order[start:start + batch_size]
                feats = np.stack([items[i][0][r] for i, r, _ in batch])
                target = np.array([items[i][1][r] for i, r, _ in batch], dtype=np.float32)
                x = _augment(model_inputs(feats), batch[:, 2], rng)
                optimiser.zero_grad(set_to_none=True)
                loss = loss_fn(model(torch.from_numpy(x).to(dev)), torch.from_numpy(target).to(dev))
                loss.backward()
                optimiser.step()
                if bar is not None:
                    bar.update(len(batch))
        if bar is not None:
            bar.close()
    return model.cpu().eval()


def predict_scores(model: SOFTNet, features: np.ndarray, device: str = "cpu", batch_size: int = 64,
                   threads: int | None = 1) -> np.ndarray:
    """The model's score of every pair (i, i + k) of a video: float32 ``M`` for ``M × S × S × 3`` features
    (``threads``: torch CPU threads meanwhile, as in ``fit_fold``)."""
    dev = resolve_device(device)
    model = model.to(dev).eval()
    out = np.empty(len(features), dtype=np.float32)
    with torch.no_grad(), _torch_threads(threads):
        for start in range(0, len(features), batch_size):
            x = torch.from_numpy(model_inputs(features[start:start + batch_size])).to(dev)
            out[start:start + len(x)] = model(x).float().cpu().numpy()
    model.cpu()
    return out


def spot_video(model: SOFTNet, features: np.ndarray, k: int, frames: Sequence[int] | np.ndarray,
               p: float = P, device: str = "cpu") -> list[tuple[int, int]]:
    """Intervals ``(onset, offset)`` (SOURCE frame numbers, inclusive) spotted in one video: pair scores →
    per-frame curve → ``decode.spot_intervals``. ``frames``: the source frame number of each of the video's
    ``len(features) + k`` frames."""
    curve = decode.frame_scores(predict_scores(model, features, device), k)
    return decode.spot_intervals(curve, k, frames, p)

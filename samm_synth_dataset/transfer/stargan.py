"""``StarGANv2``: the official StarGAN v2 networks behind one object — tensor API for exact, official outputs and
the builder's uint8 ``TransferMethod`` API (``style`` once per reference, ``apply`` per batch of frames).

Tensor conventions (the official ones): images N×3×H×W RGB on [-1, 1] (uint8/255, then (x - 0.5) / 0.5);
outputs on the same scale, unclamped; uint8 output = round(255 · clamp((y + 1) / 2, 0, 1)) exactly as
``torchvision.utils.save_image`` writes it (×255, +0.5, truncate).
"""

from __future__ import annotations

import contextlib
import copy
import logging
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from samm_synth_dataset.transfer.base import StyleCode, domain_index
from samm_synth_dataset.transfer.checkpoint import LoadedNetworks, StarGANConfig, load_networks
from samm_synth_dataset.transfer.fan import FAN_SIZE, NUM_LANDMARKS, heatmaps_to_masks
from samm_synth_dataset.transfer.model import AdaIN

log = logging.getLogger(__name__)

METHOD_NAME = "stargan-v2"


def images_to_tensor(images: np.ndarray) -> Tensor:
    """uint8 images (H×W, H×W×3, N×H×W or N×H×W×3; greyscale replicated to RGB) → N×3×H×W float32 on
    [-1, 1], computed as the official ToTensor + Normalize(0.5, 0.5)."""
    arr = np.asarray(images)
    if arr.dtype != np.uint8:
        raise ValueError(f"expected uint8 images, got {arr.dtype}")
    arr = np.ascontiguousarray(arr) if arr.flags.writeable else arr.copy()
    return _uint8_to_input(torch.from_numpy(arr))


def _uint8_to_input(t: Tensor) -> Tensor:
    if t.ndim == 2 or (t.ndim == 3 and t.shape[-1] != 3):  # H×W or N×H×W greyscale
        t = t.unsqueeze(-1).expand(*t.shape, 3)
    if t.ndim == 3:
        t = t.unsqueeze(0)
    if t.ndim != 4 or t.shape[-1] != 3:
        raise ValueError(f"expected images shaped H×W[×3] or N×H×W[×3], got {tuple(t.shape)}")
    x = t.permute(0, 3, 1, 2).float().div(255)
    return x.sub(0.5).div(0.5)


def tensor_to_images(y: Tensor) -> np.ndarray:
    """Model outputs N×3×H×W ([-1, 1] scale, unclamped) → N×H×W×3 uint8, exactly as the official save."""
    return _output_to_uint8(y).permute(0, 2, 3, 1).cpu().numpy()


def _output_to_uint8(y: Tensor) -> Tensor:
    x = ((y.float() + 1) / 2).clamp(0, 1)
    return x.mul(255).add(0.5).clamp(0, 255).to(torch.uint8)


def resize_official(image: np.ndarray, size: int) -> np.ndarray:
    """Resize an RGB uint8 image to size×size as the official loader does (PIL bilinear; non-square images
    are squashed, not cropped). Returns the image unchanged when it already has that size."""
    if image.shape[0] == size and image.shape[1] == size:
        return image
    return np.asarray(Image.fromarray(image).resize((size, size), Image.BILINEAR))


def load_image(path: str | Path, size: int) -> Tensor:
    """One image file as the official test loader reads it: PIL RGB, bilinear resize to size×size, [-1, 1];
    returns 1×3×size×size."""
    with Image.open(path) as img:
        rgb = np.asarray(img.convert("RGB"))
    return images_to_tensor(resize_official(rgb, size))


class StarGANv2:
    """Official StarGAN v2 inference (reference- and latent-guided) from an official checkpoint.

    ``dtype`` is the compute precision: ``torch.float32`` gives the official outputs; ``torch.bfloat16`` or
    ``torch.float16`` are faster, not bit-exact: autocast on CUDA; on CPU the generator runs natively in bf16
    (weights cast once, style projections float32) and the style networks in float32.
    ``fp32_masks`` (default True) keeps the FAN in float32 under a reduced ``dtype``: its heatmaps are
    thresholded at 0.1 and min-max normalised, so bf16 rounding flips mask pixels (measured: max output error
    9 → 50 levels on random weights), and the masks decide which source regions (eyes, mouth) are kept.
    ``batch_size`` bounds how many frames one model call runs at once (None: 1 on CPU, where small batches keep
    activations in cache and measured fastest; 16 on CUDA).
    """

    name = METHOD_NAME
    description = ("StarGAN v2 (Choi et al. 2020) reference-guided image translation with the official "
                   "weights: the reference's style (identity appearance) on the source frame; w_hpf > 0 models "
                   "keep the source's eyes, nose and mouth through FAN masks")

    def __init__(self, nets: LoadedNetworks, device: str | torch.device = "cpu",
                 dtype: torch.dtype = torch.float32, batch_size: int | None = None, channels_last: bool = True,
                 compile: bool = False, fp32_masks: bool = True) -> None:
        if dtype not in (torch.float32, torch.bfloat16, torch.float16):
            raise ValueError(f"dtype must be torch.float32, bfloat16 or float16, got {dtype}")
        self.device = torch.device(device)
        if batch_size is None:
            batch_size = 16 if self.device.type == "cuda" else 1
        if batch_size < 1:
            raise ValueError(f"batch_size must be ≥ 1, got {batch_size}")
        if dtype == torch.float16 and self.device.type == "cpu":
            raise ValueError("float16 autocast is for CUDA; use torch.bfloat16 on CPU")
        self.dtype = dtype
        self.fp32_masks = fp32_masks
        self.batch_size = batch_size
        self.config: StarGANConfig = nets.config
        self.checkpoint_sha256: str | None = nets.sha256
        self.channels_last = channels_last
        memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.generator = nets.generator.to(self.device, memory_format=memory_format)
        # bf16 on CPU: the generator's weights are cast ONCE (autocast on CPU re-casts every conv weight at
        # every call and runs the norms in float32 with casts around them: measured 25% slower, same output
        # error); its style projections (AdaIN fc) stay float32. On CUDA, autocast.
        self.native_dtype = self.device.type == "cpu" and dtype == torch.bfloat16
        if self.native_dtype:
            self.generator = copy.deepcopy(self.generator).to(dtype)
            for module in self.generator.modules():
                if isinstance(module, AdaIN):
                    module.fc.float()
        self.mapping_network = nets.mapping_network.to(self.device)
        self.style_encoder = nets.style_encoder.to(self.device, memory_format=memory_format)
        self.fan = nets.fan.to(self.device, memory_format=memory_format) if nets.fan is not None else None
        self._generator_fn = self.generator
        self._fan_fn = self.fan
        if compile:
            self._generator_fn = torch.compile(self.generator, dynamic=False)
            if self.fan is not None:
                self._fan_fn = torch.compile(self.fan, dynamic=False)
        self._copy_stream = None
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed input sizes, as the official sample mode sets
            self._copy_stream = torch.cuda.Stream(self.device)

    @classmethod
    def from_checkpoint(cls, path: str | Path, fan_checkpoint: str | Path | None = None,
                        device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
                        batch_size: int | None = None, channels_last: bool = True, compile: bool = False,
                        fp32_masks: bool = True) -> "StarGANv2":
        """Load an official ``*_nets_ema.ckpt`` strictly (see :mod:`samm_synth_dataset.transfer.checkpoint`).
        ``fan_checkpoint``: the official ``wing.ckpt``, needed only when a masked (w_hpf > 0) file has no
        ``fan`` entry."""
        return cls(load_networks(path, fan_checkpoint), device, dtype, batch_size, channels_last, compile,
                   fp32_masks)

    # ----------------------------------------------------------------------------------------- properties
    @property
    def num_domains(self) -> int:
        return self.config.num_domains

    @property
    def style_dim(self) -> int:
        return self.config.style_dim

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def img_size(self) -> int:
        return self.config.img_size

    @property
    def image_size(self) -> int:
        """``TransferMethod`` name of :attr:`img_size`."""
        return self.config.img_size

    @property
    def w_hpf(self) -> float:
        return self.config.w_hpf

    @property
    def uses_masks(self) -> bool:
        """True for w_hpf > 0 models (CelebA-HQ): FAN masks of the source preserve its eyes, nose and mouth."""
        return self.config.w_hpf > 0

    # ----------------------------------------------------------------------------------------- tensor API
    @contextlib.contextmanager
    def _context(self) -> Iterator[None]:
        """inference_mode, and autocast to ``dtype`` unless float32 or the generator runs natively in it (then
        the style networks run in float32: once per reference, they cost nothing)."""
        enabled = self.dtype != torch.float32 and not self.native_dtype
        autocast = torch.autocast(self.device.type, dtype=self.dtype, enabled=enabled)
        with torch.inference_mode(), autocast:
            yield

    def _prepare(self, x: Tensor) -> Tensor:
        x = x.to(self.device, torch.float32)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x.contiguous()

    def _domains(self, y: Tensor | int | list[int], n: int) -> Tensor:
        y = torch.as_tensor(y, dtype=torch.long, device=self.device).reshape(-1)
        if y.numel() == 1 and n != 1:
            y = y.expand(n)
        if y.numel() != n:
            raise ValueError(f"got {y.numel()} domain labels for {n} images")
        if bool(((y < 0) | (y >= self.num_domains)).any()):
            raise ValueError(f"domain labels must be in 0..{self.num_domains - 1}, got {y.tolist()}")
        return y

    def _check_images(self, x: Tensor, what: str) -> None:
        size = (self.img_size, self.img_size)
        if x.ndim != 4 or x.shape[1] != 3 or tuple(x.shape[-2:]) != size:
            raise ValueError(f"{what} must be N×3×{size[0]}×{size[1]} on [-1, 1], got {tuple(x.shape)}")

    def masks(self, src: Tensor) -> tuple[Tensor, Tensor]:
        """(coarse, fine) masks of the SOURCE images, each N×1×256×256 float32 in [0, 1] (the FAN works at
        256×256 whatever img_size is). Raises for a model without masks (w_hpf = 0)."""
        if self._fan_fn is None:
            raise RuntimeError("this model uses no masks (w_hpf = 0, e.g. AFHQ); masks() is undefined")
        self._check_images(src, "src")
        with self._context():
            return self._masks(self._prepare(src))

    def _masks(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if x.shape[-2:] != (FAN_SIZE, FAN_SIZE):
            x = torch.nn.functional.interpolate(x, size=(FAN_SIZE, FAN_SIZE), mode="bilinear", align_corners=False)
        with torch.autocast(self.device.type, dtype=self.dtype,
                            enabled=self.dtype != torch.float32 and not self.fp32_masks):
            raw = self._fan_fn(x.float() * 0.5 + 0.5)[:, :NUM_LANDMARKS].float()
        heat = torch.nn.functional.interpolate(raw, size=(FAN_SIZE, FAN_SIZE), mode="bilinear", align_corners=True)
        return heatmaps_to_masks(heat)

    def style_from_reference(self, ref: Tensor, y: Tensor | int) -> Tensor:
        """Style codes N×style_dim (float32) of reference images ref (N×3×S×S, [-1, 1]) in target domains y."""
        self._check_images(ref, "ref")
        with self._context():
            return self.style_encoder(self._prepare(ref), self._domains(y, ref.shape[0])).float()

    def style_from_latent(self, z: Tensor, y: Tensor | int) -> Tensor:
        """Style codes N×style_dim (float32) from latents z (N×latent_dim) for target domains y."""
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must be N×{self.latent_dim}, got {tuple(z.shape)}")
        with self._context():
            return self.mapping_network(z.to(self.device, torch.float32), self._domains(y, z.shape[0])).float()

    def translate(self, src: Tensor, s: Tensor, masks: tuple[Tensor, Tensor] | None = None) -> Tensor:
        """Generator output N×3×S×S (float32, [-1, 1] scale, NOT clamped) for sources src (N×3×S×S, [-1, 1])
        and styles s (N×style_dim, or 1×style_dim / style_dim broadcast to every source). Masks are computed
        inside from src when the model uses them (pass ``masks`` to reuse ones already computed)."""
        self._check_images(src, "src")
        with self._context():
            return self._translate(self._prepare(src), self._style_rows(s, src.shape[0]), masks).float()

    def _style_rows(self, s: Tensor, n: int) -> Tensor:
        s = torch.as_tensor(s, dtype=torch.float32).to(self.device)
        s = s.reshape(1, -1) if s.ndim == 1 else s
        if s.ndim != 2 or s.shape[1] != self.style_dim or s.shape[0] not in (1, n):
            raise ValueError(f"style must be {n}×{self.style_dim} or 1×{self.style_dim}, got {tuple(s.shape)}")
        return s

    def _translate(self, x: Tensor, s: Tensor, masks: tuple[Tensor, Tensor] | None) -> Tensor:
        if self.uses_masks and masks is None:
            masks = self._masks(x)
        elif not self.uses_masks:
            masks = None
        else:
            masks = tuple(m.to(self.device) for m in masks)  # type: ignore[assignment]
        if self.native_dtype:
            x = x.to(self.dtype)
        return self._generator_fn(x, s, masks)

    # ----------------------------------------------------------------------------------------- TransferMethod
    @property
    def has_landmarks(self) -> bool:
        """True when the FAN is loaded (:meth:`landmarks` works)."""
        return self.fan is not None

    def domain_index(self, domain: str | int) -> int:
        """Label of ``domain`` for this checkpoint: female/male (CelebA-HQ), cat/dog/wild (AFHQ) or an index."""
        return domain_index(domain, self.num_domains)

    def style(self, reference: np.ndarray, domain: int | str) -> StyleCode:
        """Style code of one reference face (H×W×3 or H×W uint8; resized to img_size with PIL bilinear as the
        official loader does) in target ``domain`` (index, or "female"/"male" for CelebA-HQ)."""
        index = domain_index(domain, self.num_domains)
        ref = np.asarray(reference)
        if ref.ndim == 2:
            ref = np.repeat(ref[:, :, None], 3, axis=2)
        x = images_to_tensor(resize_official(ref, self.img_size))
        values = self.style_from_reference(x, index)[0].cpu().numpy().astype(np.float32)
        return StyleCode(method=self.name, domain=index, values=values)

    def landmarks(self, frames: np.ndarray) -> np.ndarray:
        """98 WFLW landmarks of face crops (N×S×S×3 uint8 RGB, or N×S×S greyscale) from the FAN, as the official
        ``--mode align`` finds them: N×98×2 float64 (x, y) in pixels of the S×S crops. Needs a FAN (w_hpf > 0
        files, or ``fan_checkpoint``)."""
        if self.fan is None:
            raise ValueError("landmarks need the FAN: this checkpoint has none (pass the official wing.ckpt)")
        frames = np.asarray(frames)
        if frames.dtype != np.uint8 or frames.ndim not in (3, 4):
            raise ValueError(f"frames must be uint8 N×S×S[×3], got {frames.dtype} {frames.shape}")
        size = frames.shape[1]
        with torch.inference_mode():
            x = _uint8_to_input(torch.from_numpy(np.ascontiguousarray(frames)).to(self.device))
            points = self.fan.landmarks(self._prepare(x).float())
        return points.double().cpu().numpy() * (size / FAN_SIZE)

    def apply(self, frames: np.ndarray, style: StyleCode) -> np.ndarray:
        """Translate frames (N×S×S×3 uint8 RGB, or N×S×S greyscale → replicated) with one style → N×S×S×3
        uint8; runs ``batch_size`` frames at a time."""
        return self.submit(frames, style)()

    def submit(self, frames: np.ndarray, style: StyleCode) -> Callable[[], np.ndarray]:
        """Start translating ``frames`` (as :meth:`apply`) and return a function that waits for the result.

        On CUDA the work is only queued: the upload (pinned memory, side stream), the model and the download
        into pinned memory run asynchronously, so a caller that submits batch i+1 before collecting batch i
        (the engine does) keeps the GPU busy while the host decodes, encodes and writes. On CPU it computes
        at once."""
        if style.method != self.name:
            raise ValueError(f"style code was made by {style.method!r}, not {self.name!r}")
        values = np.asarray(style.values, dtype=np.float32).reshape(-1)
        if values.shape[0] != self.style_dim:
            raise ValueError(f"style code has {values.shape[0]} values; this model needs {self.style_dim}")
        frames = np.asarray(frames)
        if frames.dtype != np.uint8 or frames.ndim not in (3, 4) or frames.shape[1:3] != (self.img_size,) * 2:
            raise ValueError(f"frames must be uint8 N×{self.img_size}×{self.img_size}[×3], got "
                             f"{frames.dtype} {frames.shape}")
        s = torch.from_numpy(values).to(self.device).reshape(1, -1)
        chunks = [self._submit_chunk(frames[start:start + self.batch_size], s)
                  for start in range(0, frames.shape[0], self.batch_size)]

        def result() -> np.ndarray:
            return np.concatenate([wait() for wait in chunks]) if len(chunks) != 1 else chunks[0]()

        return result

    def _submit_chunk(self, chunk: np.ndarray, s: Tensor) -> Callable[[], np.ndarray]:
        arr = np.ascontiguousarray(chunk)
        host = torch.from_numpy(arr if arr.flags.writeable else arr.copy())
        if self._copy_stream is None:  # CPU: compute now
            with self._context():
                y = _output_to_uint8(self._translate(self._prepare(_uint8_to_input(host)), s, None))
            out = np.ascontiguousarray(y.permute(0, 2, 3, 1).numpy())
            return lambda: out
        compute = torch.cuda.current_stream(self.device)
        host = host.pin_memory()
        with torch.cuda.stream(self._copy_stream):  # upload on a side stream, uint8 → float on the GPU
            dev = host.to(self.device, non_blocking=True)
        compute.wait_stream(self._copy_stream)
        dev.record_stream(compute)
        with self._context():
            y = _output_to_uint8(self._translate(self._prepare(_uint8_to_input(dev)), s, None))
        y = y.permute(0, 2, 3, 1)
        pinned = torch.empty(y.shape, dtype=torch.uint8, pin_memory=True)
        pinned.copy_(y, non_blocking=True)
        done = torch.cuda.Event()
        done.record(compute)

        def wait() -> np.ndarray:
            done.synchronize()
            return pinned.numpy()

        return wait

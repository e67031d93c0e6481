"""StarGAN v2 networks (Choi et al., CVPR 2020) with the exact module names of the official release, so that the
official ``*_nets_ema.ckpt`` state dicts (generator, mapping_network, style_encoder; fan in ``wing.ckpt`` or
the masked checkpoints) load strictly.

Images are N×3×H×W float tensors on the [-1, 1] scale; style codes are N×style_dim (one row broadcasts).
``dim_in`` defaults to the official ``2**14 // img_size``; it is a parameter only so tests can build tiny models.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

MASK_SIZES = (32, 64, 128)  # feature sizes at which a w_hpf > 0 generator adds high-passed source features


def _levels(img_size: int) -> int:
    levels = int(math.log2(img_size))
    if 2 ** levels != img_size or img_size < 32:
        raise ValueError(f"img_size must be a power of two ≥ 32, got {img_size}")
    return levels


class InstanceNorm(nn.InstanceNorm2d):
    """InstanceNorm2d (eps 1e-5, biased variance, no running stats; same state-dict keys) computed as a
    GroupNorm with one group per channel — the same statistic, but a kernel that is fast in channels_last."""

    def forward(self, x: Tensor) -> Tensor:
        return F.group_norm(x, self.num_features, self.weight, self.bias, self.eps)


class ResBlk(nn.Module):
    """Pre-activation residual block; output = (shortcut + residual) / √2. Shortcut: 1×1 conv (only when
    dim_in ≠ dim_out) then 2×2 average pool; residual pools after conv1."""

    def __init__(self, dim_in: int, dim_out: int, normalize: bool = False, downsample: bool = False) -> None:
        super().__init__()
        self.actv = nn.LeakyReLU(0.2)
        self.normalize = normalize
        self.downsample = downsample
        self.learned_sc = dim_in != dim_out
        self.conv1 = nn.Conv2d(dim_in, dim_in, 3, 1, 1)
        self.conv2 = nn.Conv2d(dim_in, dim_out, 3, 1, 1)
        if normalize:
            self.norm1 = InstanceNorm(dim_in, affine=True)
            self.norm2 = InstanceNorm(dim_in, affine=True)
        if self.learned_sc:
            self.conv1x1 = nn.Conv2d(dim_in, dim_out, 1, 1, 0, bias=False)

    def _shortcut(self, x: Tensor) -> Tensor:
        if self.learned_sc:
            x = self.conv1x1(x)
        return F.avg_pool2d(x, 2) if self.downsample else x

    def _residual(self, x: Tensor) -> Tensor:
        x = F.leaky_relu(self.norm1(x), 0.2, inplace=True) if self.normalize else self.actv(x)
        x = self.conv1(x)
        if self.downsample:
            x = F.avg_pool2d(x, 2)
        if self.normalize:
            x = self.norm2(x)
        return self.conv2(F.leaky_relu(x, 0.2, inplace=True))

    def forward(self, x: Tensor) -> Tensor:
        return (self._shortcut(x) + self._residual(x)) / math.sqrt(2)


class AdaIN(nn.Module):
    """Adaptive instance norm: (1 + gamma) · IN(x) + beta, with [gamma, beta] = fc(s)."""

    def __init__(self, style_dim: int, num_features: int) -> None:
        super().__init__()
        self.norm = InstanceNorm(num_features, affine=False)
        self.fc = nn.Linear(style_dim, num_features * 2)

    def forward(self, x: Tensor, s: Tensor) -> Tensor:
        h = self.fc(s)
        gamma, beta = torch.chunk(h, chunks=2, dim=1)
        if h.size(0) == 1:  # one style for the whole batch: fold the affine into the norm kernel
            return F.group_norm(x, x.size(1), (1 + gamma[0]).to(x.dtype), beta[0].to(x.dtype), self.norm.eps)
        return ((1 + gamma[:, :, None, None]) * self.norm(x) + beta[:, :, None, None]).to(x.dtype)


def _phase_kernels(weight: Tensor) -> Tensor:
    """3×3 kernels (Cout×Cin×3×3) → the 2×2 kernels (4·Cout×Cin×2×2, phases (0,0), (0,1), (1,0), (1,1)) that
    give conv3×3(nearest_up2(x)) directly from x: output pixel (2i+a, 2j+b) sees input rows (i-1, i) for a = 0
    with kernel rows (w0, w1+w2), and rows (i, i+1) for a = 1 with (w0+w1, w2); columns likewise."""
    rows = (torch.stack([weight[:, :, 0], weight[:, :, 1] + weight[:, :, 2]], 2),
            torch.stack([weight[:, :, 0] + weight[:, :, 1], weight[:, :, 2]], 2))
    kernels = []
    for r in rows:
        kernels.append(torch.stack([r[..., 0], r[..., 1] + r[..., 2]], 3))
        kernels.append(torch.stack([r[..., 0] + r[..., 1], r[..., 2]], 3))
    return torch.cat(kernels, 0)


def upsample_conv3x3(x: Tensor, conv: nn.Conv2d, kernels: Tensor) -> Tensor:
    """``conv(nearest_up2(x))`` (3×3, zero padding 1) in 16 instead of 36 MACs per output pixel and input
    channel, without materialising the upsampled tensor. Same function; float rounding differs (~1e-6)."""
    n, _, h, w = x.shape
    cout = conv.out_channels
    bias = conv.bias.repeat(4) if conv.bias is not None else None
    y = F.conv2d(x, kernels.to(x.dtype), bias.to(x.dtype) if bias is not None else None, padding=1)
    fmt = torch.channels_last if x.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format
    out = torch.empty((n, cout, 2 * h, 2 * w), dtype=y.dtype, device=y.device, memory_format=fmt)
    for k, (a, b) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        out[:, :, a::2, b::2] = y[:, k * cout:(k + 1) * cout, a:a + h, b:b + w]
    return out


class AdainResBlk(nn.Module):
    """Decoder block. With w_hpf > 0 the output is the residual ONLY (no skip path, no √2); its conv1x1 still
    exists (so the official files load) but is never used.

    ``fused_upsample`` (default True): the residual's nearest-up2 → conv1 runs as :func:`upsample_conv3x3`;
    set False for the official op sequence."""

    fused_upsample = True

    def __init__(self, dim_in: int, dim_out: int, style_dim: int = 64, w_hpf: float = 0,
                 upsample: bool = False) -> None:
        super().__init__()
        self.w_hpf = w_hpf
        self.actv = nn.LeakyReLU(0.2)
        self.upsample = upsample
        self.learned_sc = dim_in != dim_out
        self.conv1 = nn.Conv2d(dim_in, dim_out, 3, 1, 1)
        self.conv2 = nn.Conv2d(dim_out, dim_out, 3, 1, 1)
        self.norm1 = AdaIN(style_dim, dim_in)
        self.norm2 = AdaIN(style_dim, dim_out)
        if self.learned_sc:
            self.conv1x1 = nn.Conv2d(dim_in, dim_out, 1, 1, 0, bias=False)

    def _shortcut(self, x: Tensor) -> Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.conv1x1(x) if self.learned_sc else x

    def _residual(self, x: Tensor, s: Tensor) -> Tensor:
        x = F.leaky_relu(self.norm1(x, s), 0.2, inplace=True)
        if self.upsample and self.fused_upsample:
            x = upsample_conv3x3(x, self.conv1, self._kernels())
        else:
            if self.upsample:
                x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = self.conv1(x)
        x = F.leaky_relu(self.norm2(x, s), 0.2, inplace=True)
        return self.conv2(x)

    def _kernels(self) -> Tensor:
        """Phase kernels of conv1, cached until its weight changes (in place or replaced). Under
        ``torch.compile`` they are computed in the graph (the cache check would break it)."""
        weight = self.conv1.weight
        if torch.compiler.is_compiling():
            kernels = _phase_kernels(weight.float()).to(weight.dtype)
            return kernels.contiguous(memory_format=torch.channels_last) if weight.is_contiguous(
                memory_format=torch.channels_last) else kernels
        key = (weight.data_ptr(), weight._version, weight.device, weight.dtype)
        cached = getattr(self, "_kernel_cache", None)
        if cached is None or cached[0] != key:
            kernels = _phase_kernels(weight.detach().float()).to(weight.dtype)  # sums in float32
            if weight.is_contiguous(memory_format=torch.channels_last):
                kernels = kernels.contiguous(memory_format=torch.channels_last)
            cached = (key, kernels)
            self._kernel_cache = cached
        return cached[1]

    def forward(self, x: Tensor, s: Tensor) -> Tensor:
        out = self._residual(x, s)
        if self.w_hpf == 0:
            out = (out + self._shortcut(x)) / math.sqrt(2)
        return out


class HighPass(nn.Module):
    """Depthwise 3×3 Laplacian-like kernel [[-1,-1,-1],[-1,8,-1],[-1,-1,-1]] / w_hpf, zero padding 1.

    The kernel is a non-persistent buffer: it is not in the official files and not in our state dict."""

    def __init__(self, w_hpf: float) -> None:
        super().__init__()
        kernel = torch.tensor([[-1.0, -1.0, -1.0], [-1.0, 8.0, -1.0], [-1.0, -1.0, -1.0]]) / w_hpf
        self.register_buffer("filter", kernel, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        weight = self.filter.to(x.dtype).expand(x.size(1), 1, 3, 3)
        return F.conv2d(x, weight, padding=1, groups=x.size(1))


class Generator(nn.Module):
    """Encoder-decoder generator G(x, s, masks). Output is on the [-1, 1] scale but NOT clamped (no tanh).

    ``masks`` = (coarse, fine), each N×1×h×w in [0, 1] (any size; resized bilinearly, align_corners=False):
    the coarse mask gates the high-passed encoder features added at 32×32, the fine one at 64×64 and 128×128.
    """

    def __init__(self, img_size: int = 256, style_dim: int = 64, max_conv_dim: int = 512, w_hpf: float = 1,
                 dim_in: int | None = None) -> None:
        super().__init__()
        dim_in = dim_in or 2 ** 14 // img_size
        self.img_size = img_size
        self.w_hpf = w_hpf
        self.from_rgb = nn.Conv2d(3, dim_in, 3, 1, 1)
        self.encode = nn.ModuleList()
        self.decode = nn.ModuleList()
        self.to_rgb = nn.Sequential(InstanceNorm(dim_in, affine=True), nn.LeakyReLU(0.2),
                                    nn.Conv2d(dim_in, 3, 1, 1, 0))
        repeat_num = _levels(img_size) - 4 + (1 if w_hpf > 0 else 0)
        dim_out = dim_in
        for _ in range(repeat_num):
            dim_out = min(dim_in * 2, max_conv_dim)
            self.encode.append(ResBlk(dim_in, dim_out, normalize=True, downsample=True))
            self.decode.insert(0, AdainResBlk(dim_out, dim_in, style_dim, w_hpf=w_hpf, upsample=True))
            dim_in = dim_out
        for _ in range(2):
            self.encode.append(ResBlk(dim_out, dim_out, normalize=True))
            self.decode.insert(0, AdainResBlk(dim_out, dim_out, style_dim, w_hpf=w_hpf))
        if w_hpf > 0:
            self.hpf = HighPass(w_hpf)

    def forward(self, x: Tensor, s: Tensor, masks: tuple[Tensor, Tensor] | None = None) -> Tensor:
        x = self.from_rgb(x)
        cache: dict[int, Tensor] = {}
        for block in self.encode:
            if masks is not None and x.size(2) in MASK_SIZES:
                cache[x.size(2)] = x
            x = block(x)
        for block in self.decode:
            x = block(x, s)
            size = x.size(2)
            if masks is not None and size in MASK_SIZES:
                mask = masks[0] if size == 32 else masks[1]
                mask = F.interpolate(mask.to(x.dtype), size=(size, size), mode="bilinear", align_corners=False)
                x = x + self.hpf(mask * cache[size])
        return self.to_rgb(x)


class MappingNetwork(nn.Module):
    """z (N×latent_dim) and target domain y (N,) → style (N×style_dim). Every domain head runs; y selects."""

    def __init__(self, latent_dim: int = 16, style_dim: int = 64, num_domains: int = 2,
                 hidden_dim: int = 512) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Linear(latent_dim, hidden_dim), nn.ReLU()]
        for _ in range(3):
            layers += [nn.Linear(hidden_dim, hidden_dim), nn.ReLU()]
        self.shared = nn.Sequential(*layers)
        self.unshared = nn.ModuleList([
            nn.Sequential(nn.Linear(hidden_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, hidden_dim), nn.ReLU(),
                          nn.Linear(hidden_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, style_dim))
            for _ in range(num_domains)])

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        h = self.shared(z)
        out = torch.stack([head(h) for head in self.unshared], dim=1)  # N×D×style_dim
        return out[torch.arange(y.size(0), device=y.device), y]


class StyleEncoder(nn.Module):
    """Reference image x (N×3×S×S, [-1, 1]) and its domain y (N,) → style (N×style_dim)."""

    def __init__(self, img_size: int = 256, style_dim: int = 64, num_domains: int = 2, max_conv_dim: int = 512,
                 dim_in: int | None = None) -> None:
        super().__init__()
        dim_in = dim_in or 2 ** 14 // img_size
        blocks: list[nn.Module] = [nn.Conv2d(3, dim_in, 3, 1, 1)]
        dim_out = dim_in
        for _ in range(_levels(img_size) - 2):
            dim_out = min(dim_in * 2, max_conv_dim)
            blocks.append(ResBlk(dim_in, dim_out, downsample=True))
            dim_in = dim_out
        blocks += [nn.LeakyReLU(0.2), nn.Conv2d(dim_out, dim_out, 4, 1, 0), nn.LeakyReLU(0.2)]
        self.shared = nn.Sequential(*blocks)
        self.unshared = nn.ModuleList([nn.Linear(dim_out, style_dim) for _ in range(num_domains)])

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        h = self.shared(x).flatten(1)
        out = torch.stack([head(h) for head in self.unshared], dim=1)  # N×D×style_dim
        return out[torch.arange(y.size(0), device=y.device), y]

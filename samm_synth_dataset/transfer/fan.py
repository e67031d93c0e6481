"""The landmark network of the official StarGAN v2 release (``core/wing.py``: a 1-hourglass FAN with CoordConv,
98 WFLW landmarks + 1 boundary channel) and the mask preprocessing that turns its heatmaps into the generator's
(coarse, fine) source masks. Module names match the official ``fan`` / ``wing.ckpt`` state dicts (336 entries).

Conventions: FAN input is N×3×256×256 RGB on [0, 1]; heatmaps are 64×64; masks are N×1×256×256 in [0, 1].
WFLW channels: 0-32 contour, 33-50 eyebrows, 51-59 nose, 60-75 eyes, 76-95 mouth, 96/97 pupils, 98 boundary.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

FAN_SIZE = 256
NUM_LANDMARKS = 98

# The official ``preprocess`` (spec §1.9), regrouped. Per landmark channel: values < 0.1 → 0, then min-max
# normalisation. A part's channels are then rolled along the row axis and raised to a power; since roll and power
# act per pixel they commute with the channel sum, so each part contributes roll(Σ_c n_c ** power, shift).
# shift k moves content k rows UP (a circular roll by -k); k < 0 moves it down. ``scaled``: k is multiplied by
# H // 256 (the official code does not scale the two eye shifts).
# (name, channels, shift, power, scaled, in the fine mask)
PARTS: tuple[tuple[str, tuple[int, ...], int, int, bool, bool], ...] = (
    ("chin", tuple(range(8, 25)), 0, 3, True, False),
    ("eyebrows", tuple(c for c in range(34, 51) if c != 46), -7, 2, True, False),  # 33 and 46 are zeroed
    ("nose tip", (51,), 0, 1, True, True),
    ("nose", (52, 53, 54), 4, 1, True, True),
    ("nostrils", tuple(range(55, 60)), 8, 4, True, True),
    ("eyes cubed", tuple(range(60, 76)), -8, 3, False, True),
    ("eyes", tuple(range(60, 76)), -24, 1, False, True),
    ("upper lip", tuple(range(77, 82)), -8, 4, True, False),  # 76 and 82 (lip corners) are zeroed
    ("lower lip", tuple(range(83, 88)), 8, 4, True, False),
    ("inner lip", tuple(range(88, 96)), -2, 3, True, False),
    ("pupils", (96, 97), 0, 1, True, True),
)
# Channels that feed no mask: contour outside the chin (0-7, 25-32), eyebrow edges 33/46, lip corners 76/82.
UNUSED = (*range(0, 8), *range(25, 33), 33, 46, 76, 82)


class AddCoords(nn.Module):
    """Append coordinate channels: xx = 2i/(h-1)-1 (varies along rows), yy = 2j/(w-1)-1, and optionally
    rr = √(xx²+yy²)/max. Non-persistent: not in the state dict."""

    def __init__(self, height: int, width: int, with_r: bool) -> None:
        super().__init__()
        xx = (torch.arange(height, dtype=torch.float32) / (height - 1) * 2 - 1)[:, None].expand(height, width)
        yy = (torch.arange(width, dtype=torch.float32) / (width - 1) * 2 - 1)[None, :].expand(height, width)
        coords = [xx, yy]
        if with_r:
            rr = torch.sqrt(xx ** 2 + yy ** 2)
            coords.append(rr / rr.max())
        self.register_buffer("coords", torch.stack(coords)[None].contiguous(), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([x, self.coords.to(x.dtype).expand(x.size(0), -1, -1, -1)], dim=1)


class CoordConv(nn.Module):
    """AddCoords then a conv whose input has 2 (+1 with_r) extra channels. (The official boundary channels are
    never added: no heatmap is ever passed.)"""

    def __init__(self, height: int, width: int, with_r: bool, in_channels: int, out_channels: int,
                 kernel_size: int, stride: int = 1, padding: int = 0) -> None:
        super().__init__()
        self.addcoords = AddCoords(height, width, with_r)
        self.conv = nn.Conv2d(in_channels + 2 + int(with_r), out_channels, kernel_size, stride, padding)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(self.addcoords(x))


class ConvBlock(nn.Module):
    """Hierarchical bottleneck: cat(out1, out2, out3) + residual (BN→ReLU→1×1 conv when in ≠ out)."""

    def __init__(self, in_planes: int, out_planes: int) -> None:
        super().__init__()
        half, quarter = out_planes // 2, out_planes // 4
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, half, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(half)
        self.conv2 = nn.Conv2d(half, quarter, 3, 1, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(quarter)
        self.conv3 = nn.Conv2d(quarter, quarter, 3, 1, 1, bias=False)
        self.downsample: nn.Module | None = None
        if in_planes != out_planes:
            self.downsample = nn.Sequential(nn.BatchNorm2d(in_planes), nn.ReLU(True),
                                            nn.Conv2d(in_planes, out_planes, 1, 1, bias=False))

    def forward(self, x: Tensor) -> Tensor:
        out1 = self.conv1(F.relu(self.bn1(x)))
        out2 = self.conv2(F.relu(self.bn2(out1)))
        out3 = self.conv3(F.relu(self.bn3(out2)))
        residual = x if self.downsample is None else self.downsample(x)
        return torch.cat((out1, out2, out3), 1) + residual


class HourGlass(nn.Module):
    """Depth-4 hourglass on 256 features at 64×64, preceded by a 1×1 CoordConv (256+3 → 256)."""

    def __init__(self, depth: int = 4, features: int = 256) -> None:
        super().__init__()
        self.depth = depth
        self.coordconv = CoordConv(64, 64, True, features, features, 1)
        for level in range(depth, 0, -1):
            self.add_module(f"b1_{level}", ConvBlock(features, features))
            self.add_module(f"b2_{level}", ConvBlock(features, features))
        self.add_module("b2_plus_1", ConvBlock(features, features))
        for level in range(1, depth + 1):
            self.add_module(f"b3_{level}", ConvBlock(features, features))

    def _forward(self, level: int, inp: Tensor) -> Tensor:
        up1 = self._modules[f"b1_{level}"](inp)
        low1 = self._modules[f"b2_{level}"](F.avg_pool2d(inp, 2, stride=2))
        low2 = self._forward(level - 1, low1) if level > 1 else self._modules["b2_plus_1"](low1)
        low3 = self._modules[f"b3_{level}"](low2)
        return up1 + F.interpolate(low3, scale_factor=2, mode="nearest")

    def forward(self, x: Tensor) -> Tensor:
        return self._forward(self.depth, self.coordconv(x))


class FAN(nn.Module):
    """Face alignment network; ``forward`` maps N×3×256×256 on [0, 1] to N×99×64×64 heatmaps."""

    def __init__(self, num_landmarks: int = NUM_LANDMARKS) -> None:
        super().__init__()
        self.conv1 = CoordConv(256, 256, True, 3, 64, 7, 2, 3)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = ConvBlock(64, 128)
        self.conv3 = ConvBlock(128, 128)
        self.conv4 = ConvBlock(128, 256)
        self.m0 = HourGlass(4, 256)
        self.top_m_0 = ConvBlock(256, 256)
        self.conv_last0 = nn.Conv2d(256, 256, 1, 1, 0)
        self.bn_end0 = nn.BatchNorm2d(256)
        self.l0 = nn.Conv2d(256, num_landmarks + 1, 1, 1, 0)

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.avg_pool2d(self.conv2(x), 2, stride=2)
        x = self.conv4(self.conv3(x))
        x = self.top_m_0(self.m0(x))
        x = F.relu(self.bn_end0(self.conv_last0(x)))
        return self.l0(x)

    def heatmaps(self, x: Tensor) -> Tensor:
        """Landmark heatmaps (channels 0-97, boundary dropped) of images x on [-1, 1] (any size), upsampled
        to N×98×256×256 (bilinear, align_corners=True) as the official ``get_heatmap`` does."""
        if x.shape[-2:] != (FAN_SIZE, FAN_SIZE):
            x = F.interpolate(x, size=(FAN_SIZE, FAN_SIZE), mode="bilinear", align_corners=False)
        raw = self(x * 0.5 + 0.5)[:, :NUM_LANDMARKS]
        return F.interpolate(raw.float(), size=(FAN_SIZE, FAN_SIZE), mode="bilinear", align_corners=True)

    def landmarks(self, x: Tensor) -> Tensor:
        """98 WFLW landmarks N×98×2, (x, y) in pixels of the 256×256 FAN input (0 = left/top edge), of images
        x on [-1, 1] (any size; resized bilinearly as the official ``get_landmark`` does)."""
        if x.shape[-2:] != (FAN_SIZE, FAN_SIZE):
            x = F.interpolate(x, size=(FAN_SIZE, FAN_SIZE), mode="bilinear", align_corners=False)
        return heatmaps_to_landmarks(self(x * 0.5 + 0.5)[:, :NUM_LANDMARKS])

    def masks(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(coarse, fine) masks, each N×1×256×256 float32 in [0, 1], of source images x on [-1, 1]."""
        return heatmaps_to_masks(self.heatmaps(x))


def _runs(channels: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """Channels → maximal runs of consecutive channels, as (start, end-exclusive) slices."""
    runs: list[list[int]] = []
    for c in channels:
        if runs and runs[-1][1] == c:
            runs[-1][1] = c + 1
        else:
            runs.append([c, c + 1])
    return tuple((a, b) for a, b in runs)


FIRST_USED = 8  # channels 0-7 (contour) feed no mask and are never normalised
_PART_RUNS = tuple(_runs(channels) for _, channels, *_ in PARTS)


def heatmaps_to_masks(h: Tensor) -> tuple[Tensor, Tensor]:
    """The official ``preprocess``: 98 heatmaps N×98×H×W (H = 256 for the official model) → (coarse, fine),
    each N×1×H×W in [0, 1]. Coarse = every part; fine = nose, nostrils, eyes and pupils (no chin, eyebrows or
    mouth). Equal to the official step-by-step computation up to float summation order.

    The heatmaps are copied once into contiguous NCHW float32 (per-channel reductions over channels_last
    memory are strided and about twice as slow), then thresholded and normalised in place."""
    if h.ndim != 4 or h.shape[1] != NUM_LANDMARKS:
        raise ValueError(f"expected N×{NUM_LANDMARKS}×H×W heatmaps, got {tuple(h.shape)}")
    sw = h.shape[2] // 256
    x = h[:, FIRST_USED:].to(torch.float32, memory_format=torch.contiguous_format, copy=True)
    x.masked_fill_(x < 0.1, 0.0)
    flat = x.view(x.shape[0], x.shape[1], -1)
    lo, hi = torch.aminmax(flat, dim=2, keepdim=True)
    flat.sub_(lo).div_(hi - lo + 1e-6)
    coarse = torch.zeros_like(x[:, :1])
    fine = torch.zeros_like(coarse)
    for (_, _, shift, power, scaled, in_fine), runs in zip(PARTS, _PART_RUNS):
        part = None
        for a, b in runs:
            n = x[:, a - FIRST_USED:b - FIRST_USED]
            term = (n if power == 1 else n ** power).sum(dim=1, keepdim=True)
            part = term if part is None else part + term
        k = shift * sw if scaled else shift
        if k:
            part = torch.roll(part, shifts=-k, dims=2)
        coarse += part
        if in_fine:
            fine += part
    return (torch.nan_to_num(coarse, nan=0.0).clamp_(0, 1), torch.nan_to_num(fine, nan=0.0).clamp_(0, 1))


def heatmaps_to_landmarks(raw: Tensor, input_size: int = FAN_SIZE) -> Tensor:
    """The official ``get_landmark`` (face-alignment's ``get_preds_fromhm``) on RAW heatmaps N×C×h×w (no
    preprocessing) → N×C×2 (x, y) in pixels of the ``input_size`` FAN input: per channel the argmax (first
    one on ties), moved a quarter pixel towards the larger neighbour along x and along y when it is not on the
    heatmap border, minus 0.5 (the pixel centre), times ``input_size // h``."""
    if raw.ndim != 4:
        raise ValueError(f"expected N×C×h×w heatmaps, got {tuple(raw.shape)}")
    n, c, h, w = raw.shape
    flat = raw.float().reshape(n, c, h * w)
    idx = flat.argmax(dim=2)
    px, py = idx % w, idx // w  # 0-based

    def at(dy: int, dx: int) -> Tensor:
        j = (py + dy).clamp(0, h - 1) * w + (px + dx).clamp(0, w - 1)
        return flat.gather(2, j.unsqueeze(2)).squeeze(2)

    interior = ((px > 0) & (px < w - 1) & (py > 0) & (py < h - 1)).float()
    x = px.float() + 1 + 0.25 * torch.sign(at(0, 1) - at(0, -1)) * interior
    y = py.float() + 1 + 0.25 * torch.sign(at(1, 0) - at(-1, 0)) * interior
    return (torch.stack([x, y], dim=2) - 0.5) * (input_size // h)

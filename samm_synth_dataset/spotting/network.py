"""SOFTNet: the shallow optical-flow three-stream CNN (Liong, See and Wong, ICIP 2021), the MEGC 2022/2023
organisers' spotting baseline.

Input ``B × 3 × S × S`` float32 (channels |u|, |v|, ε, each min-max scaled to [0, 1] per sample; S = 42 in the
paper; torch's channels-first order). One stream per channel: a 5×5 convolution ("same" padding, ReLU) with 3, 5 and
8 filters for u, v and ε, then a 3×3 max-pool with stride 3 (42 → 14). The 16 maps are concatenated, max-pooled
2×2 (14 → 7), flattened, then dense 400 (ReLU) and dense 1 (linear): one score per pair, a regression of the
pseudo-label. 314,817 parameters at S = 42.
"""

from __future__ import annotations

import torch
from torch import nn

STREAM_FILTERS: tuple[int, int, int] = (3, 5, 8)


class SOFTNet(nn.Module):
    """The three-stream network for inputs of ``input_size`` × ``input_size`` (a multiple of 6)."""

    def __init__(self, input_size: int = 42) -> None:
        super().__init__()
        if input_size < 6 or input_size % 6:
            raise ValueError(f"input_size must be a positive multiple of 6 (two pools of 3 and 2), got {input_size}")
        self.input_size = input_size
        self.streams = nn.ModuleList(
            nn.Sequential(nn.Conv2d(1, n, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(3, stride=3))
            for n in STREAM_FILTERS)
        side = input_size // 6
        self.head = nn.Sequential(
            nn.MaxPool2d(2, stride=2), nn.Flatten(), nn.Linear(sum(STREAM_FILTERS) * side * side, 400), nn.ReLU(),
            nn.Linear(400, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``B × 3 × S × S`` → ``B`` scores."""
        if x.ndim != 4 or x.shape[1] != 3 or x.shape[2:] != (self.input_size, self.input_size):
            raise ValueError(f"SOFTNet expects B×3×{self.input_size}×{self.input_size}, got {tuple(x.shape)}")
        maps = [stream(x[:, c:c + 1]) for c, stream in enumerate(self.streams)]
        return self.head(torch.cat(maps, dim=1)).squeeze(1)

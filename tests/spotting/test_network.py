"""SOFTNet's shape and size."""

from __future__ import annotations

import pytest
import torch

from samm_synth_dataset.spotting.network import SOFTNet


def test_parameter_count_and_output() -> None:
    model = SOFTNet()
    # 3 streams (1→3, 1→5, 1→8 filters of 5×5 + biases), dense 7·7·16 → 400, dense 400 → 1.
    expected = (25 * 3 + 3) + (25 * 5 + 5) + (25 * 8 + 8) + (7 * 7 * 16 * 400 + 400) + (400 + 1)
    assert sum(p.numel() for p in model.parameters()) == expected == 314_817
    assert model(torch.zeros(4, 3, 42, 42)).shape == (4,)


def test_streams_see_one_channel_each() -> None:
    torch.manual_seed(0)
    model = SOFTNet().eval()
    x = torch.rand(1, 3, 42, 42)
    y = x.clone()
    y[:, 2] = 0  # change only the strain channel: only the third stream's maps change
    with torch.no_grad():
        a = [s(x[:, c:c + 1]) for c, s in enumerate(model.streams)]
        b = [s(y[:, c:c + 1]) for c, s in enumerate(model.streams)]
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and not torch.equal(a[2], b[2])


def test_bad_shapes() -> None:
    with pytest.raises(ValueError, match="multiple of 6"):
        SOFTNet(40)
    with pytest.raises(ValueError, match="B×3×42×42"):
        SOFTNet()(torch.zeros(2, 42, 42, 3))

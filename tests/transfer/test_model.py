"""The networks against the spec: official key names/shapes/counts (full size, not run) and block semantics."""

from __future__ import annotations

import math

import pytest
import torch

from samm_synth_dataset.transfer.fan import FAN
from samm_synth_dataset.transfer.model import (AdaIN, AdainResBlk, Generator, HighPass, MappingNetwork, ResBlk,
                                               StyleEncoder)

from .conftest import generator_shapes, mapping_shapes, style_encoder_shapes


def _shapes(module: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def _params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("domains,w_hpf,g_keys,g_params,m_keys,m_params,e_keys,e_params", [
    (2, 1, 124, 43_467_395, 24, 2_438_272, 35, 20_916_928),  # CelebA-HQ
    (3, 0, 108, 33_892_995, 32, 3_259_072, 37, 20_949_760),  # AFHQ
])
def test_full_size_state_dicts_match_the_official_layout(domains, w_hpf, g_keys, g_params, m_keys, m_params,
                                                         e_keys, e_params):
    with torch.device("meta"):
        g, m, e = Generator(w_hpf=w_hpf), MappingNetwork(num_domains=domains), StyleEncoder(num_domains=domains)
    assert _shapes(g) == generator_shapes(w_hpf=w_hpf)
    assert len(g.state_dict()) == g_keys and "hpf.filter" not in g.state_dict()
    assert _params(g) == g_params
    assert _shapes(m) == mapping_shapes(num_domains=domains) and len(m.state_dict()) == m_keys
    assert _params(m) == m_params
    assert _shapes(e) == style_encoder_shapes(num_domains=domains) and len(e.state_dict()) == e_keys
    assert _params(e) == e_params


def test_celeba_generator_spot_shapes_from_the_spec_table():
    sh = generator_shapes()
    assert sh["encode.2.conv1x1.weight"] == (512, 256, 1, 1) and "encode.3.conv1x1.weight" not in sh
    assert sh["decode.6.conv1.weight"] == (64, 128, 3, 3) and sh["decode.4.conv1x1.weight"] == (256, 512, 1, 1)
    assert sh["decode.0.norm1.fc.weight"] == (1024, 64) and "encode.6.conv1.weight" in sh
    assert "decode.7.conv1.weight" not in sh


def test_fan_state_dict_matches_the_spec():
    with torch.device("meta"):
        fan = FAN()
    sd = _shapes(fan)
    assert len(sd) == 336
    assert _params(fan) == 6_333_603
    assert sum(math.prod(s) for s in sd.values()) == 6_348_634
    assert sd["conv1.conv.weight"] == (64, 6, 7, 7)
    assert sd["m0.coordconv.conv.weight"] == (256, 259, 1, 1)
    assert sd["conv2.downsample.2.weight"] == (128, 64, 1, 1) and "conv3.downsample.0.weight" not in sd
    assert sd["m0.b2_plus_1.conv1.weight"] == (128, 256, 3, 3)
    assert sd["l0.weight"] == (99, 256, 1, 1) and sd["bn_end0.num_batches_tracked"] == ()


def test_resblk_merges_by_sqrt2_with_identity_shortcut():
    blk = ResBlk(4, 4, normalize=True)
    torch.nn.init.zeros_(blk.conv2.weight), torch.nn.init.zeros_(blk.conv2.bias)
    x = torch.randn(2, 4, 8, 8)
    torch.testing.assert_close(blk(x), x / math.sqrt(2))


def test_resblk_shortcut_convolves_before_pooling():
    blk = ResBlk(2, 3, downsample=True)
    torch.nn.init.zeros_(blk.conv2.weight), torch.nn.init.zeros_(blk.conv2.bias)
    x = torch.randn(1, 2, 8, 8)
    expected = torch.nn.functional.avg_pool2d(torch.nn.functional.conv2d(x, blk.conv1x1.weight), 2) / math.sqrt(2)
    torch.testing.assert_close(blk(x), expected)


def test_adain_scales_by_one_plus_gamma():
    ada = AdaIN(style_dim=3, num_features=2)
    torch.nn.init.zeros_(ada.fc.weight)
    with torch.no_grad():
        ada.fc.bias.copy_(torch.tensor([0.5, -1.0, 2.0, 3.0]))  # gamma (2), beta (2)
    x = torch.randn(1, 2, 5, 5)
    normed = (x - x.mean((2, 3), keepdim=True)) / torch.sqrt(x.var((2, 3), unbiased=False, keepdim=True) + 1e-5)
    expected = torch.tensor([1.5, 0.0]).view(1, 2, 1, 1) * normed + torch.tensor([2.0, 3.0]).view(1, 2, 1, 1)
    torch.testing.assert_close(ada(x, torch.randn(1, 3)), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("w_hpf", [0, 1])
def test_decoder_block_skip_path_only_without_hpf(w_hpf):
    blk = AdainResBlk(4, 2, style_dim=3, w_hpf=w_hpf, upsample=True)
    torch.nn.init.zeros_(blk.conv2.weight), torch.nn.init.zeros_(blk.conv2.bias)
    x, s = torch.randn(1, 4, 4, 4), torch.randn(1, 3)
    out = blk(x, s)
    assert out.shape == (1, 2, 8, 8)
    if w_hpf:
        assert torch.count_nonzero(out) == 0  # residual only: no skip path at all
    else:
        up = torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest")
        torch.testing.assert_close(out, torch.nn.functional.conv2d(up, blk.conv1x1.weight) / math.sqrt(2))


def test_highpass_kernel_is_built_in_code_and_not_persistent():
    hpf = HighPass(1)
    assert dict(hpf.state_dict()) == {}
    x = torch.zeros(1, 2, 5, 5)
    x[0, 1, 2, 2] = 1
    out = hpf(x)
    kernel = torch.tensor([[-1.0, -1, -1], [-1, 8, -1], [-1, -1, -1]])
    torch.testing.assert_close(out[0, 1, 1:4, 1:4], kernel)
    assert torch.count_nonzero(out[0, 0]) == 0
    torch.testing.assert_close(HighPass(2)(x)[0, 1, 2, 2], torch.tensor(4.0))


def test_generator_masks_enter_only_through_the_high_pass():
    torch.manual_seed(0)
    g = Generator(img_size=64, style_dim=4, max_conv_dim=16, w_hpf=1, dim_in=4).eval()
    x, s = torch.randn(2, 3, 64, 64), torch.randn(1, 4)
    zeros = torch.zeros(2, 1, 256, 256)
    ones = torch.ones(2, 1, 256, 256)
    with torch.no_grad():
        plain = g(x, s)
        torch.testing.assert_close(g(x, s, (zeros, zeros)), plain)  # zero masks add nothing
        coarse_only = g(x, s, (ones, zeros))
        fine_only = g(x, s, (zeros, ones))
    assert not torch.allclose(coarse_only, plain) and not torch.allclose(fine_only, plain)
    assert not torch.allclose(coarse_only, fine_only)


def test_generator_decoder_ignores_its_conv1x1_when_w_hpf_positive():
    torch.manual_seed(0)
    g = Generator(img_size=64, style_dim=4, max_conv_dim=16, w_hpf=1, dim_in=4).eval()
    x, s = torch.randn(1, 3, 64, 64), torch.randn(1, 4)
    with torch.no_grad():
        before = g(x, s)
        for blk in g.decode:
            if blk.learned_sc:
                blk.conv1x1.weight.normal_()
        torch.testing.assert_close(g(x, s), before)


def test_instance_norm_equals_torch_instance_norm():
    from samm_synth_dataset.transfer.model import InstanceNorm

    torch.manual_seed(0)
    ours, ref = InstanceNorm(6, affine=True), torch.nn.InstanceNorm2d(6, affine=True)
    torch.nn.init.normal_(ours.weight), torch.nn.init.normal_(ours.bias)
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(3, 6, 16, 16) * 4 + 2
    torch.testing.assert_close(ours(x), ref(x), atol=2e-5, rtol=1e-5)
    torch.testing.assert_close(ours(x.contiguous(memory_format=torch.channels_last)), ref(x), atol=2e-5, rtol=1e-5)


def test_adain_single_style_row_equals_per_sample_rows():
    torch.manual_seed(0)
    ada = AdaIN(style_dim=3, num_features=4)
    x, s = torch.randn(2, 4, 8, 8), torch.randn(1, 3)
    torch.testing.assert_close(ada(x, s), ada(x, s.expand(2, 3)), atol=2e-5, rtol=1e-5)


@pytest.mark.parametrize("channels_last", [False, True])
def test_fused_upsample_conv_equals_upsample_then_conv(channels_last):
    from samm_synth_dataset.transfer.model import upsample_conv3x3, _phase_kernels

    torch.manual_seed(0)
    conv = torch.nn.Conv2d(5, 7, 3, 1, 1)
    x = torch.randn(2, 5, 6, 9)
    if channels_last:
        conv, x = conv.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        expected = conv(torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest"))
        got = upsample_conv3x3(x, conv, _phase_kernels(conv.weight))
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_fused_decoder_block_equals_the_official_sequence_and_tracks_weight_changes():
    torch.manual_seed(0)
    blk = AdainResBlk(4, 3, style_dim=2, w_hpf=1, upsample=True)
    x, s = torch.randn(1, 4, 5, 5), torch.randn(1, 2)
    with torch.no_grad():
        fused = blk(x, s)
        blk.fused_upsample = False
        torch.testing.assert_close(fused, blk(x, s), atol=1e-5, rtol=1e-5)
        blk.fused_upsample = True
        blk.load_state_dict({k: v * 2 if k == "conv1.weight" else v for k, v in blk.state_dict().items()})
        refused = blk(x, s)
        blk.fused_upsample = False
        torch.testing.assert_close(refused, blk(x, s), atol=1e-5, rtol=1e-5)
    assert not torch.allclose(fused, refused)

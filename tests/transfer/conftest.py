"""Random-weight checkpoints in the official StarGAN v2 file layout, written from the spec (§2) — not from the
package's modules — so loading them checks our networks against the official key names and shapes.

Tiny configurations keep the tests fast: img_size 64, narrow channels, mapping hidden width 32. The FAN has a
fixed architecture (its shapes come from its own state dict; ``test_checkpoint`` checks them against the spec).
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import pytest
import torch

Shapes = dict[str, tuple[int, ...]]


def generator_shapes(img_size: int = 256, style_dim: int = 64, max_conv_dim: int = 512, w_hpf: float = 1,
                     dim_in: int | None = None) -> Shapes:
    """Spec §1.5 / §2.2: key → shape of an official generator state dict (no hpf.filter)."""
    dim_in = dim_in or 2 ** 14 // img_size
    sh: Shapes = {"from_rgb.weight": (dim_in, 3, 3, 3), "from_rgb.bias": (dim_in,)}
    levels = int(math.log2(img_size)) - 4 + (1 if w_hpf > 0 else 0)
    pairs, d = [], dim_in
    for _ in range(levels):
        o = min(2 * d, max_conv_dim)
        pairs.append((d, o))
        d = o
    for i, (ci, co) in enumerate(pairs + [(d, d), (d, d)]):
        p = f"encode.{i}."
        sh |= {p + "conv1.weight": (ci, ci, 3, 3), p + "conv1.bias": (ci,), p + "conv2.weight": (co, ci, 3, 3),
               p + "conv2.bias": (co,), p + "norm1.weight": (ci,), p + "norm1.bias": (ci,),
               p + "norm2.weight": (ci,), p + "norm2.bias": (ci,)}
        if ci != co:
            sh[p + "conv1x1.weight"] = (co, ci, 1, 1)
    for i, (ci, co) in enumerate([(d, d), (d, d)] + [(o, i_) for i_, o in reversed(pairs)]):
        p = f"decode.{i}."
        sh |= {p + "conv1.weight": (co, ci, 3, 3), p + "conv1.bias": (co,), p + "conv2.weight": (co, co, 3, 3),
               p + "conv2.bias": (co,), p + "norm1.fc.weight": (2 * ci, style_dim), p + "norm1.fc.bias": (2 * ci,),
               p + "norm2.fc.weight": (2 * co, style_dim), p + "norm2.fc.bias": (2 * co,)}
        if ci != co:
            sh[p + "conv1x1.weight"] = (co, ci, 1, 1)
    sh |= {"to_rgb.0.weight": (dim_in,), "to_rgb.0.bias": (dim_in,), "to_rgb.2.weight": (3, dim_in, 1, 1),
           "to_rgb.2.bias": (3,)}
    return sh


def mapping_shapes(latent_dim: int = 16, style_dim: int = 64, num_domains: int = 2, hidden: int = 512) -> Shapes:
    """Spec §1.6 / §2.3."""
    sh: Shapes = {"shared.0.weight": (hidden, latent_dim), "shared.0.bias": (hidden,)}
    for i in (2, 4, 6):
        sh |= {f"shared.{i}.weight": (hidden, hidden), f"shared.{i}.bias": (hidden,)}
    for d in range(num_domains):
        for i in (0, 2, 4):
            sh |= {f"unshared.{d}.{i}.weight": (hidden, hidden), f"unshared.{d}.{i}.bias": (hidden,)}
        sh |= {f"unshared.{d}.6.weight": (style_dim, hidden), f"unshared.{d}.6.bias": (style_dim,)}
    return sh


def style_encoder_shapes(img_size: int = 256, style_dim: int = 64, num_domains: int = 2, max_conv_dim: int = 512,
                         dim_in: int | None = None) -> Shapes:
    """Spec §1.7 / §2.4."""
    dim_in = dim_in or 2 ** 14 // img_size
    sh: Shapes = {"shared.0.weight": (dim_in, 3, 3, 3), "shared.0.bias": (dim_in,)}
    d = dim_in
    blocks = int(math.log2(img_size)) - 2
    for b in range(1, blocks + 1):
        o = min(2 * d, max_conv_dim)
        p = f"shared.{b}."
        sh |= {p + "conv1.weight": (d, d, 3, 3), p + "conv1.bias": (d,), p + "conv2.weight": (o, d, 3, 3),
               p + "conv2.bias": (o,)}
        if d != o:
            sh[p + "conv1x1.weight"] = (o, d, 1, 1)
        d = o
    sh |= {f"shared.{blocks + 2}.weight": (d, d, 4, 4), f"shared.{blocks + 2}.bias": (d,)}
    for k in range(num_domains):
        sh |= {f"unshared.{k}.weight": (style_dim, d), f"unshared.{k}.bias": (style_dim,)}
    return sh


def random_state(shapes: Shapes, seed: int) -> dict[str, torch.Tensor]:
    """Random tensors scaled like a trained net: weights ~ N(0, 1/fan_in), biases small, norm gains near 1."""
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for key, shape in shapes.items():
        if key.endswith("num_batches_tracked"):
            out[key] = torch.tensor(1000, dtype=torch.long)
        elif key.endswith("running_var"):
            out[key] = torch.rand(shape, generator=gen) * 0.5 + 0.75
        elif key.endswith("running_mean"):
            out[key] = torch.randn(shape, generator=gen) * 0.05
        elif len(shape) >= 2:
            fan_in = math.prod(shape[1:])
            out[key] = torch.randn(shape, generator=gen) / math.sqrt(fan_in)
        elif any(t in key for t in (".norm", "to_rgb.0", ".bn", "downsample.0")) or key.startswith("bn"):
            base = 1.0 if key.endswith("weight") else 0.0
            out[key] = base + 0.1 * torch.randn(shape, generator=gen)
        else:
            out[key] = 0.05 * torch.randn(shape, generator=gen)
    return out


def fan_state(seed: int = 3) -> dict[str, torch.Tensor]:
    return dict(_fan_state(seed))


@functools.lru_cache(maxsize=None)
def _fan_state(seed: int) -> dict[str, torch.Tensor]:
    """Random FAN weights whose heatmaps are sparse like real ones: each landmark channel's output bias is
    shifted so that about 2% of a synthetic face's 64×64 heatmap lies above the 0.1 threshold."""
    from samm_synth_dataset.transfer.fan import FAN

    with torch.device("meta"):
        shapes = {k: tuple(v.shape) for k, v in FAN().state_dict().items()}
    state = random_state(shapes, seed)
    fan = FAN().eval()
    fan.load_state_dict(state)
    with torch.inference_mode():
        heat = fan(face_images(1, 256, seed=99) * 0.5 + 0.5).transpose(0, 1).flatten(1)
    state["l0.bias"] = state["l0.bias"] - torch.quantile(heat, 0.98, dim=1) + 0.1
    return state


TINY = dict(img_size=64, style_dim=8, latent_dim=4, hidden=32, g_dim_in=8, g_max=32, e_dim_in=8, e_max=32)


def official_file(num_domains: int = 2, w_hpf: float = 1, with_fan: bool = True, seed: int = 0,
                  **overrides: int) -> dict[str, dict[str, torch.Tensor]]:
    cfg = TINY | overrides
    data = {
        "generator": random_state(generator_shapes(cfg["img_size"], cfg["style_dim"], cfg["g_max"], w_hpf,
                                                   cfg["g_dim_in"]), seed),
        "mapping_network": random_state(mapping_shapes(cfg["latent_dim"], cfg["style_dim"], num_domains,
                                                       cfg["hidden"]), seed + 1),
        "style_encoder": random_state(style_encoder_shapes(cfg["img_size"], cfg["style_dim"], num_domains,
                                                           cfg["e_max"], cfg["e_dim_in"]), seed + 2),
    }
    if with_fan:
        data["fan"] = fan_state(seed + 3)
    return data


@pytest.fixture(scope="session")
def celeba_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny CelebA-HQ-layout file: 2 domains, w_hpf 1, a ``fan`` entry."""
    path = tmp_path_factory.mktemp("ckpt") / "100000_nets_ema.ckpt"
    torch.save(official_file(), path)
    return path


@pytest.fixture(scope="session")
def afhq_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny AFHQ-layout file: 3 domains, w_hpf 0, no FAN."""
    path = tmp_path_factory.mktemp("ckpt") / "afhq_nets_ema.ckpt"
    torch.save(official_file(num_domains=3, w_hpf=0, with_fan=False, seed=10), path)
    return path


@pytest.fixture(scope="session")
def celeba_model(celeba_ckpt: Path):
    from samm_synth_dataset.transfer import StarGANv2

    return StarGANv2.from_checkpoint(celeba_ckpt)


def face_images(n: int, size: int = 64, seed: int = 0) -> torch.Tensor:
    """n smooth synthetic RGB images on [-1, 1] (N×3×size×size): a bright ellipse on a dark gradient."""
    gen = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    imgs = []
    for _ in range(n):
        cx, cy = (torch.rand(2, generator=gen) - 0.5) * 0.3
        face = ((xx - cx) / 0.6) ** 2 + ((yy - cy) / 0.8) ** 2 < 1
        colour = torch.rand(3, 1, 1, generator=gen)
        img = 0.3 * xx[None] + face[None] * colour + 0.1 * torch.randn(3, size, size, generator=gen)
        imgs.append(img.clamp(-1, 1))
    return torch.stack(imgs)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One intra-op thread: the tiny models gain nothing from more, and the shared CI machine is busy."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

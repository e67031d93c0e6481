"""The StarGANv2 facade: style selection by domain, translation semantics, uint8 conversion exactness and the
TransferMethod API (uint8 frames in, uint8 frames out)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.transforms as T
from PIL import Image

from samm_synth_dataset.transfer import StarGANv2, StyleCode, TransferMethod, images_to_tensor, tensor_to_images
from samm_synth_dataset.transfer.stargan import domain_index, load_image

from .conftest import face_images, official_file

DELTA = torch.tensor([0.5, -1.0, 2.0, 0.25, 0.0, -0.75, 1.5, 3.0])


@pytest.fixture(scope="module")
def twin_head_model(tmp_path_factory):
    """A file whose domain-1 heads equal the domain-0 heads except for their last bias (+ DELTA), so the
    style of domain 1 must be the style of domain 0 plus DELTA."""
    data = official_file(seed=50)
    se, mn = data["style_encoder"], data["mapping_network"]
    se["unshared.1.weight"] = se["unshared.0.weight"].clone()
    se["unshared.1.bias"] = se["unshared.0.bias"] + DELTA
    for key in [k for k in mn if k.startswith("unshared.0.")]:
        mn[key.replace("unshared.0.", "unshared.1.")] = mn[key].clone()
    mn["unshared.1.6.bias"] = mn["unshared.0.6.bias"] + DELTA
    path = tmp_path_factory.mktemp("twin") / "twin.ckpt"
    torch.save(data, path)
    return StarGANv2.from_checkpoint(path)


def test_style_selected_by_target_domain(twin_head_model):
    ref = face_images(2, seed=1)
    s0 = twin_head_model.style_from_reference(ref, 0)
    s1 = twin_head_model.style_from_reference(ref, torch.tensor([1, 1]))
    torch.testing.assert_close(s1 - s0, DELTA.expand(2, -1), atol=1e-5, rtol=0)
    mixed = twin_head_model.style_from_reference(ref, torch.tensor([1, 0]))
    torch.testing.assert_close(mixed, torch.stack([s1[0], s0[1]]))
    z = torch.randn(3, 4)
    l0, l1 = twin_head_model.style_from_latent(z, 0), twin_head_model.style_from_latent(z, 1)
    assert l0.shape == (3, 8)
    torch.testing.assert_close(l1 - l0, DELTA.expand(3, -1), atol=1e-5, rtol=0)


def test_bad_inputs_are_explained(celeba_model):
    with pytest.raises(ValueError, match="domain labels must be in 0..1"):
        celeba_model.style_from_reference(face_images(1), 2)
    with pytest.raises(ValueError, match="N×3×64×64"):
        celeba_model.translate(torch.zeros(1, 3, 32, 32), torch.zeros(1, 8))
    with pytest.raises(ValueError, match="style must be"):
        celeba_model.translate(face_images(2), torch.zeros(3, 8))
    with pytest.raises(ValueError, match="z must be N×4"):
        celeba_model.style_from_latent(torch.zeros(1, 16), 0)


def test_translate_semantics(celeba_model):
    x = face_images(2, seed=2)
    s = celeba_model.style_from_reference(face_images(1, seed=3), 1)
    out = celeba_model.translate(x, s)
    assert out.shape == (2, 3, 64, 64) and out.dtype == torch.float32
    assert (out.abs() > 1).any()  # not clamped
    masks = celeba_model.masks(x)
    torch.testing.assert_close(celeba_model.translate(x, s, masks=masks), out)  # masks are computed inside
    torch.testing.assert_close(celeba_model.translate(x, s.expand(2, -1), masks), out)  # one row broadcasts
    one_by_one = torch.cat([celeba_model.translate(x[i:i + 1], s) for i in range(2)])
    torch.testing.assert_close(one_by_one, out, atol=2e-3, rtol=0)  # batching changes only float rounding
    zeros = tuple(torch.zeros_like(m) for m in masks)
    ones = tuple(torch.ones_like(m) for m in masks)
    no_mask = celeba_model.translate(x, s, masks=zeros)
    torch.testing.assert_close(no_mask, celeba_model.generator(x, s, None))
    assert (out - no_mask).abs().mean() > 1e-3  # the FAN masks change the output
    assert (celeba_model.translate(x, s, masks=ones) - out).abs().mean() > 1e-3
    assert torch.equal(celeba_model.translate(x, s), out)  # deterministic on CPU
    assert torch.equal(celeba_model.masks(x)[1], masks[1])


def test_uint8_output_matches_the_official_save(celeba_model, tmp_path):
    y = torch.linspace(-1.3, 1.3, 3 * 8 * 8).reshape(1, 3, 8, 8)
    y[0, 0, 0, :4] = torch.tensor([-1.0, 1.0, 0.0, 2 / 255 - 1])
    ours = tensor_to_images(y)
    assert ours.shape == (1, 8, 8, 3) and ours.dtype == np.uint8
    expected = np.floor(np.clip((y.numpy() + 1) / 2, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(0, 2, 3, 1)
    assert np.array_equal(ours, expected)
    # the official save: torchvision.utils.save_image of clamp((y + 1) / 2)
    import torchvision.utils as vutils

    vutils.save_image(((y + 1) / 2).clamp_(0, 1), tmp_path / "o.png", nrow=1, padding=0)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "o.png").convert("RGB")), ours[0])


def test_uint8_input_matches_the_official_loader(tmp_path):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (50, 70, 3), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "a.png")
    official = T.Compose([T.Resize([64, 64]), T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3)])
    expected = official(Image.open(tmp_path / "a.png").convert("RGB"))[None]
    assert torch.equal(load_image(tmp_path / "a.png", 64), expected)
    square = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    assert torch.equal(images_to_tensor(square), official(Image.fromarray(square))[None])
    grey = rng.integers(0, 256, (2, 64, 64), dtype=np.uint8)
    assert torch.equal(images_to_tensor(grey), images_to_tensor(np.repeat(grey[..., None], 3, axis=3)))


def test_transfer_method_api_equals_the_tensor_api(celeba_model):
    assert isinstance(celeba_model, TransferMethod)
    rng = np.random.default_rng(1)
    ref = rng.integers(0, 256, (90, 80, 3), dtype=np.uint8)
    code = celeba_model.style(ref, "male")
    assert isinstance(code, StyleCode) and code.method == "stargan-v2" and code.domain == 1
    assert code.values.dtype == np.float32 and code.values.shape == (8,)
    frames = (face_images(2, seed=4).numpy().transpose(0, 2, 3, 1) * 127.5 + 127.5).round().astype(np.uint8)
    out = celeba_model.apply(frames, code)
    assert out.shape == (2, 64, 64, 3) and out.dtype == np.uint8
    s = celeba_model.style_from_reference(load_image_array(ref, 64), 1)
    expected = tensor_to_images(celeba_model.translate(images_to_tensor(frames), s))
    assert np.abs(out.astype(int) - expected).max() <= 1 and (out != expected).mean() < 0.001
    with pytest.raises(ValueError, match="made by 'color-transfer'"):
        celeba_model.apply(frames, StyleCode("color-transfer", 0, np.zeros(6, np.float32)))
    with pytest.raises(ValueError, match="uint8 N×64×64"):
        celeba_model.apply(frames[:, :32], code)


def load_image_array(img: np.ndarray, size: int) -> torch.Tensor:
    return T.Compose([T.Resize([size, size]), T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3)])(
        Image.fromarray(img))[None]


def test_bf16_option_is_close_to_fp32(celeba_ckpt):
    fp32 = StarGANv2.from_checkpoint(celeba_ckpt)
    bf16 = StarGANv2.from_checkpoint(celeba_ckpt, dtype=torch.bfloat16)
    frames = (face_images(2, seed=6).numpy().transpose(0, 2, 3, 1) * 127.5 + 127.5).round().astype(np.uint8)
    code = fp32.style(frames[0], 0)
    a, b = fp32.apply(frames, code), bf16.apply(frames, code)
    assert b.dtype == np.uint8 and np.abs(a.astype(int) - b).mean() < 8


def test_domain_names():
    assert domain_index("female", 2) == 0 and domain_index("male", 2) == 1 and domain_index("1", 2) == 1
    assert domain_index("wild", 3) == 2 and domain_index(2, 3) == 2
    with pytest.raises(ValueError, match="unknown domain 'dog'"):
        domain_index("dog", 2)
    with pytest.raises(ValueError, match="out of range"):
        domain_index(3, 3)


def test_bf16_masks_are_float32_by_default(celeba_ckpt):
    fp32 = StarGANv2.from_checkpoint(celeba_ckpt)
    bf16 = StarGANv2.from_checkpoint(celeba_ckpt, dtype=torch.bfloat16)
    x = face_images(1, seed=7)
    assert all(torch.equal(a, b) for a, b in zip(fp32.masks(x), bf16.masks(x)))

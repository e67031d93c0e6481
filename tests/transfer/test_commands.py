"""`samm-synth transfer` end to end on tiny official-layout files and real face images."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from samm_synth_dataset.cli import main
from samm_synth_dataset.sources.frames import read_image
from samm_synth_dataset.transfer import StarGANv2, load_image, tensor_to_images


@pytest.fixture()
def images(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for name, shape in [("a", (70, 60, 3)), ("b", (64, 64, 3)), ("ref", (90, 90, 3))]:
        path = tmp_path / f"{name}.png"
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def test_stargan_sample_mode_writes_the_official_outputs(tmp_path, images, celeba_ckpt):
    src_a, src_b, ref = images
    out = tmp_path / "out"
    status = main(["transfer", "--checkpoint", str(celeba_ckpt), "--source", str(src_a), str(src_b),
                   "--reference", str(ref), "--domain", "male", "--out", str(out), "--batch-size", "1"])
    assert status == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]
    model = StarGANv2.from_checkpoint(celeba_ckpt)
    s = model.style_from_reference(load_image(ref, 64), 1)
    expected = tensor_to_images(model.translate(load_image(src_a, 64), s))[0]
    written = read_image(out / "a.png")
    assert written.shape == (64, 64, 3)
    assert np.abs(written.astype(int) - expected).max() <= 1


def test_color_transfer_needs_no_checkpoint(tmp_path, images):
    src_a, src_b, ref = images
    out = tmp_path / "ct"
    assert main(["transfer", "--method", "color-transfer", "--source", str(src_a), str(src_b), "--reference",
                 str(ref), "--out", str(out), "--size", "48"]) == 0
    assert read_image(out / "b.png").shape == (48, 48, 3)


def test_errors_exit_1_with_a_message(tmp_path, images, capsys):
    src_a, _, ref = images
    assert main(["transfer", "--source", str(src_a), "--reference", str(ref), "--out", str(tmp_path)]) == 1
    assert "--checkpoint is required" in capsys.readouterr().err
    assert main(["transfer", "--checkpoint", str(tmp_path / "no.ckpt"), "--source", str(src_a), "--reference",
                 str(ref), "--out", str(tmp_path)]) == 1
    assert "no.ckpt" in capsys.readouterr().err
    celeba = tmp_path / "exists.ckpt"
    celeba.write_bytes(b"")
    assert main(["transfer", "--checkpoint", str(celeba), "--source", str(src_a), "--reference", str(ref),
                 "--out", str(tmp_path)]) == 1
    assert "--domain is required" in capsys.readouterr().err  # never a silent default domain
    assert main(["transfer", "--method", "color-transfer", "--source", str(src_a), str(src_a), "--reference",
                 str(ref), "--out", str(tmp_path)]) == 1
    assert "share the name" in capsys.readouterr().err

"""Loading official-layout files: config inference, strictness, FAN sources and every bad-file outcome."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import pytest
import torch

from samm_synth_dataset.transfer import CheckpointError, StarGANv2

from .conftest import face_images, fan_state, official_file


def _save(tmp_path: Path, data: dict, name: str = "x.ckpt", **kw) -> Path:
    path = tmp_path / name
    torch.save(data, path, **kw)
    return path


def test_celeba_layout_loads_with_inferred_config(celeba_ckpt):
    model = StarGANv2.from_checkpoint(celeba_ckpt)
    assert (model.num_domains, model.style_dim, model.latent_dim, model.img_size) == (2, 8, 4, 64)
    assert model.uses_masks and model.w_hpf == 1.0
    assert model.name == "stargan-v2" and model.image_size == 64
    assert model.checkpoint_sha256 == hashlib.sha256(celeba_ckpt.read_bytes()).hexdigest()
    # the loaded tensors are the file's
    data = torch.load(celeba_ckpt, weights_only=True)
    torch.testing.assert_close(model.generator.state_dict()["decode.2.conv1.weight"],
                               data["generator"]["decode.2.conv1.weight"], check_stride=False)
    torch.testing.assert_close(model.fan.state_dict()["l0.bias"], data["fan"]["l0.bias"])


def test_afhq_layout_loads_without_fan_and_uses_no_masks(afhq_ckpt):
    model = StarGANv2.from_checkpoint(afhq_ckpt)
    assert model.num_domains == 3 and not model.uses_masks and model.w_hpf == 0 and model.fan is None
    with pytest.raises(RuntimeError, match="no masks"):
        model.masks(face_images(1))
    x = face_images(2)
    s = model.style_from_reference(x[:1], 2)
    assert model.translate(x, s).shape == (2, 3, 64, 64)


def test_legacy_serialisation_loads(tmp_path, celeba_ckpt):
    """The 2020 files predate the zip format."""
    data = torch.load(celeba_ckpt, weights_only=True)
    path = _save(tmp_path, data, _use_new_zipfile_serialization=False)
    model = StarGANv2.from_checkpoint(path)
    assert model.uses_masks


def test_celeba_without_fan_needs_a_wing_checkpoint(tmp_path):
    data = official_file(with_fan=False, seed=20)
    path = _save(tmp_path, data)
    with pytest.raises(CheckpointError, match=r"no 'fan' entry.*wing\.ckpt"):
        StarGANv2.from_checkpoint(path)
    wing_state = fan_state(seed=21)
    extra = {"m1.b1_1.conv1.weight": torch.zeros(1), "bl0.weight": torch.zeros(1)}  # 4-stack keys: ignored
    wing = _save(tmp_path, {"state_dict": wing_state | extra, "epoch": 7}, "wing.ckpt")
    model = StarGANv2.from_checkpoint(path, fan_checkpoint=wing)
    torch.testing.assert_close(model.fan.state_dict()["m0.b1_1.conv1.weight"], wing_state["m0.b1_1.conv1.weight"])
    # the same FAN as a 'fan' entry gives the same outputs
    data_with_fan = data | {"fan": wing_state}
    same = StarGANv2.from_checkpoint(_save(tmp_path, data_with_fan, "y.ckpt"))
    x = face_images(1)
    s = same.style_from_latent(torch.zeros(1, 4), 0)
    torch.testing.assert_close(model.translate(x, s), same.translate(x, s))


def test_checkpoint_fan_entry_wins_over_wing_file(tmp_path, celeba_ckpt):
    wing = _save(tmp_path, {"state_dict": fan_state(seed=30)}, "wing.ckpt")
    model = StarGANv2.from_checkpoint(celeba_ckpt, fan_checkpoint=wing)
    data = torch.load(celeba_ckpt, weights_only=True)
    torch.testing.assert_close(model.fan.state_dict()["l0.bias"], data["fan"]["l0.bias"])


def test_wing_file_missing_fan_keys_is_an_error(tmp_path):
    state = fan_state(seed=21)
    del state["bn_end0.running_var"]
    wing = _save(tmp_path, {"state_dict": state}, "wing.ckpt")
    path = _save(tmp_path, official_file(with_fan=False, seed=20))
    with pytest.raises(CheckpointError, match="missing keys: bn_end0.running_var"):
        StarGANv2.from_checkpoint(path, fan_checkpoint=wing)
    no_state = _save(tmp_path, {"weights": state}, "bad_wing.ckpt")
    with pytest.raises(CheckpointError, match="no 'state_dict' entry"):
        StarGANv2.from_checkpoint(path, fan_checkpoint=no_state)


def test_missing_key_is_named(tmp_path):
    data = official_file(seed=40)
    del data["generator"]["decode.1.norm2.fc.bias"]
    with pytest.raises(CheckpointError, match=r"\[generator\].*missing keys: decode\.1\.norm2\.fc\.bias"):
        StarGANv2.from_checkpoint(_save(tmp_path, data))


def test_extra_key_is_named_including_head_hpf_filter(tmp_path):
    data = official_file(seed=40)
    data["generator"]["hpf.filter"] = torch.ones(3, 3)  # a file re-saved by the current official HEAD
    with pytest.raises(CheckpointError, match=r"unexpected keys: hpf\.filter"):
        StarGANv2.from_checkpoint(_save(tmp_path, data))


def test_misshaped_key_is_named_with_both_shapes(tmp_path):
    data = official_file(seed=40)
    data["style_encoder"]["shared.1.conv2.bias"] = torch.zeros(5)
    expected = r"mis-shaped keys: shared\.1\.conv2\.bias \(file \(5,\), model \(16,\)\)"
    with pytest.raises(CheckpointError, match=expected):
        StarGANv2.from_checkpoint(_save(tmp_path, data))


def test_bad_fan_entry_is_named(tmp_path):
    data = official_file(seed=40)
    data["fan"]["l0.weight"] = torch.zeros(98, 256, 1, 1)
    with pytest.raises(CheckpointError, match=r"\[fan\].*l0\.weight"):
        StarGANv2.from_checkpoint(_save(tmp_path, data))


def test_generator_from_another_architecture_is_refused(tmp_path):
    data = official_file(seed=40)
    data["generator"] = official_file(w_hpf=0, with_fan=False, seed=41, img_size=256)["generator"]
    with pytest.raises(CheckpointError, match="encoder blocks do not fit img_size 64"):
        StarGANv2.from_checkpoint(_save(tmp_path, data))


def test_entries_missing_or_unknown(tmp_path):
    data = official_file(seed=40)
    del data["mapping_network"]
    with pytest.raises(CheckpointError, match=r"missing \['mapping_network'\]"):
        StarGANv2.from_checkpoint(_save(tmp_path, data))
    data = official_file(seed=40) | {"discriminator": {"main.0.weight": torch.zeros(1)}}
    with pytest.raises(CheckpointError, match=r"unexpected \['discriminator'\]"):
        StarGANv2.from_checkpoint(_save(tmp_path, data))


def test_not_a_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError):
        StarGANv2.from_checkpoint(tmp_path / "absent.ckpt")
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match="junk.ckpt"):
        StarGANv2.from_checkpoint(junk)
    with pytest.raises(CheckpointError, match="expected a dict"):
        StarGANv2.from_checkpoint(_save(tmp_path, [torch.zeros(1)]))


def test_data_parallel_prefix_is_stripped_with_a_warning(tmp_path, celeba_ckpt):
    data = torch.load(celeba_ckpt, weights_only=True)
    prefixed = {name: {f"module.{k}": v for k, v in sd.items()} for name, sd in data.items()}
    with pytest.warns(UserWarning, match="module."):
        model = StarGANv2.from_checkpoint(_save(tmp_path, prefixed))
    plain = StarGANv2.from_checkpoint(celeba_ckpt)
    x = face_images(1)
    s = plain.style_from_reference(x, 1)
    torch.testing.assert_close(model.style_from_reference(x, 1), s)
    torch.testing.assert_close(model.translate(x, s), plain.translate(x, s))


def test_partly_prefixed_file_is_refused(tmp_path):
    data = official_file(seed=40)
    data["generator"] = {(f"module.{k}" if k.startswith("encode") else k): v for k, v in data["generator"].items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(CheckpointError, match="start with 'module.' and the rest do not"):
            StarGANv2.from_checkpoint(_save(tmp_path, data))


class _Payload:
    """Unpickling this would call open(marker, "w"): a detectable side effect."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_pickle_payload_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "payload_ran"
    data = official_file(seed=40)
    data["generator"]["from_rgb.bias"] = _Payload(marker)
    path = _save(tmp_path, data, "evil.ckpt")
    with pytest.raises(CheckpointError, match="refused .* needs pickle"):
        StarGANv2.from_checkpoint(path)
    assert not marker.exists()
    wing = _save(tmp_path, {"state_dict": {"x": _Payload(marker)}}, "evil_wing.ckpt")
    with pytest.raises(CheckpointError, match="refused"):
        StarGANv2.from_checkpoint(_save(tmp_path, official_file(with_fan=False)), fan_checkpoint=wing)
    assert not marker.exists()


def test_not_a_checkpoint_corrupt_and_needs_pickle_are_told_apart(tmp_path):
    """Issue 14 item 12: random bytes and a saved HTML page are 'not a torch checkpoint', a truncated file is
    'corrupt', only real pickled objects 'need pickle'; no message suggests weights_only=False."""
    import os

    from samm_synth_dataset.transfer.checkpoint import read_weights

    page = tmp_path / "page.ckpt"
    page.write_bytes(b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>\n")
    noise = tmp_path / "noise.ckpt"
    noise.write_bytes(os.urandom(4096).replace(b"<", b"a").replace(b"P", b"a").lstrip(b"\x80 \t\r\n") or b"x")
    empty = tmp_path / "empty.ckpt"
    empty.write_bytes(b"")
    good = _save(tmp_path, official_file(seed=41, with_fan=False), "good.ckpt")
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    expected = {
        page: rf"^{page}: not a torch checkpoint: an HTML/XML page \(starts with b'<!DOCTYPE html>'\), e\.g\. a "
              r"download error page saved under this name; download the checkpoint again$",
        noise: rf"^{noise}: not a torch checkpoint: unknown content \(starts with b'.*'\); download the checkpoint "
               r"again$",
        empty: rf"^{empty}: not a torch checkpoint: an empty file \(0 bytes\); download the checkpoint again$",
        truncated: rf"^{truncated}: corrupt or truncated torch checkpoint \(RuntimeError: PytorchStreamReader failed "
                   r"reading zip archive: failed finding central directory\); download it again$",
    }
    for path, pattern in expected.items():
        with pytest.raises(CheckpointError, match=pattern) as err:
            read_weights(path)
        assert "pickle" not in str(err.value) and "weights_only" not in str(err.value)
    marker = tmp_path / "payload_ran"
    evil = _save(tmp_path, {"generator": {"w": _Payload(marker)}}, "evil.ckpt")
    with pytest.raises(CheckpointError, match=rf"^{evil}: refused — it needs pickle to rebuild the Python object "
                                              r"\S+, and loading that could run code\.") as err:
        read_weights(evil)
    assert "weights_only" not in str(err.value) and not marker.exists()

"""Reading official StarGAN v2 checkpoints safely and strictly.

An official ``*_nets_ema.ckpt`` is a dict ``{"generator", "mapping_network", "style_encoder"[, "fan"]}`` of plain
state dicts (spec §2). Files are read with ``torch.load(..., weights_only=True)``: a file that needs pickle to load
arbitrary objects is refused. The configuration (img_size, style_dim, latent_dim, num_domains, w_hpf > 0, channel
widths) is inferred from the tensors; every network then loads strictly — missing, unexpected or mis-shaped keys
raise :class:`CheckpointError` naming them. Keys saved through ``nn.DataParallel`` (every key of a network
prefixed ``module.``) are stripped with a warning, since they denote the same weights.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import torch
from torch import Tensor, nn

from samm_synth_dataset import format as fmt
from samm_synth_dataset.transfer.fan import FAN
from samm_synth_dataset.transfer.model import Generator, MappingNetwork, StyleEncoder

log = logging.getLogger(__name__)

NETWORKS = ("generator", "mapping_network", "style_encoder")
OPTIONAL = ("fan",)
_SHOW = 8  # key names shown per error list


class CheckpointError(ValueError):
    """A checkpoint file cannot be used: unreadable, needs pickle, or its tensors do not match the networks."""


@dataclass(frozen=True)
class StarGANConfig:
    """Architecture inferred from a checkpoint. ``w_hpf`` is 1.0 for a masked (CelebA-HQ-style) generator and
    0.0 otherwise (the official files only use these two values)."""

    img_size: int
    style_dim: int
    latent_dim: int
    num_domains: int
    w_hpf: float
    generator_dim_in: int
    generator_max_conv_dim: int
    encoder_dim_in: int
    encoder_max_conv_dim: int
    mapping_hidden_dim: int

    def build(self) -> tuple[Generator, MappingNetwork, StyleEncoder]:
        return (Generator(self.img_size, self.style_dim, self.generator_max_conv_dim, self.w_hpf,
                          dim_in=self.generator_dim_in),
                MappingNetwork(self.latent_dim, self.style_dim, self.num_domains, self.mapping_hidden_dim),
                StyleEncoder(self.img_size, self.style_dim, self.num_domains, self.encoder_max_conv_dim,
                             dim_in=self.encoder_dim_in))


_GLOBAL = re.compile(r"Unsupported global: GLOBAL ([\w.]+)")
_OPERAND = re.compile(r"Unsupported operand \d+")


def _not_a_checkpoint(path: Path) -> str | None:
    """Why ``path`` is not a torch checkpoint at all (empty, an HTML page, other bytes), or None when it starts
    like one: a zip archive (``torch.save`` since 1.6) or a pickle stream (the legacy format)."""
    with open(path, "rb") as f:
        head = f.read(64)
    if not head:
        return "an empty file (0 bytes)"
    if head.startswith(b"PK\x03\x04") or head[:1] == b"\x80":
        return None
    if head.lstrip().startswith(b"<"):
        return (f"an HTML/XML page (starts with {head.lstrip()[:15]!r}), e.g. a download error page saved under "
                "this name")
    return f"unknown content (starts with {head[:8]!r})"


def read_weights(path: str | Path) -> dict:
    """``torch.load(path, map_location="cpu", weights_only=True)`` with clear errors that tell apart a file that
    is no checkpoint (empty, an HTML page, random bytes), a corrupt or truncated checkpoint, and one whose content
    needs pickle (custom classes, code): that one is refused and nothing in it is executed."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint file not found")
    why = _not_a_checkpoint(path)
    if why is not None:
        raise CheckpointError(f"{path}: not a torch checkpoint: {why}; download the checkpoint again")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises UnpicklingError, RuntimeError, EOFError, ...
        text = str(exc)
        needs = _GLOBAL.search(text)
        if needs:
            raise CheckpointError(
                f"{path}: refused — it needs pickle to rebuild the Python object {needs.group(1)}, and loading "
                "that could run code. Official StarGAN v2 checkpoints hold only tensors; re-save the state dicts "
                "with torch.save({name: module.state_dict()}) in a trusted environment.") from None
        operand = _OPERAND.search(text)
        detail = operand.group(0) if operand else (text.strip().splitlines() or [""])[0].split(". ")[0]
        raise CheckpointError(f"{path}: corrupt or truncated torch checkpoint ({type(exc).__name__}: {detail}); "
                              "download it again") from None
    if not isinstance(data, Mapping):
        raise CheckpointError(f"{path}: expected a dict of state dicts, found {type(data).__name__}")
    return dict(data)


def _strip_prefix(state: Mapping[str, Tensor], what: str) -> dict[str, Tensor]:
    keys = list(state)
    prefixed = [k for k in keys if k.startswith("module.")]
    if not prefixed:
        return dict(state)
    if len(prefixed) != len(keys):
        raise CheckpointError(f"{what}: {len(prefixed)} of {len(keys)} keys start with 'module.' and the rest do "
                              f"not (e.g. {prefixed[0]!r}, {next(k for k in keys if k not in prefixed)!r}); "
                              "the file is inconsistent")
    warnings.warn(f"{what}: keys carry the nn.DataParallel prefix 'module.'; stripped it", stacklevel=3)
    return {k[len("module."):]: v for k, v in state.items()}


def _names(keys: list[str]) -> str:
    shown = ", ".join(keys[:_SHOW])
    return shown + (f", … ({len(keys)} in all)" if len(keys) > _SHOW else "")


def load_strict(module: nn.Module, state: Mapping[str, Tensor], what: str) -> None:
    """Copy ``state`` into ``module``; every key must exist on both sides with the same shape."""
    if not isinstance(state, Mapping) or not all(isinstance(v, Tensor) for v in state.values()):
        raise CheckpointError(f"{what}: expected a state dict of tensors")
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [f"{k} (file {tuple(state[k].shape)}, model {tuple(v.shape)})"
              for k, v in expected.items() if k in state and state[k].shape != v.shape]
    problems = []
    if missing:
        problems.append(f"missing keys: {_names(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_names(unexpected)}")
    if shapes:
        problems.append(f"mis-shaped keys: {_names(shapes)}")
    if problems:
        raise CheckpointError(f"{what}: does not match the network — " + "; ".join(problems))
    module.load_state_dict(state, strict=True)


def _block_indices(state: Mapping[str, Tensor], pattern: str) -> list[int]:
    rx = re.compile(pattern)
    return sorted({int(m.group(1)) for k in state if (m := rx.fullmatch(k))})


def _shape(state: Mapping[str, Tensor], key: str, what: str) -> tuple[int, ...]:
    if key not in state:
        raise CheckpointError(f"{what}: missing key {key!r}; this is not an official StarGAN v2 state dict")
    return tuple(state[key].shape)


def infer_config(nets: Mapping[str, Mapping[str, Tensor]], path: str | Path) -> StarGANConfig:
    """Read the architecture off the tensors (no shape is assumed beyond the official construction rules)."""
    g, m, e = (nets[n] for n in NETWORKS)
    where = {n: f"{path} [{n}]" for n in NETWORKS}
    enc_blocks = _block_indices(e, r"shared\.(\d+)\.conv1\.weight")
    if not enc_blocks:
        raise CheckpointError(f"{where['style_encoder']}: no residual blocks found (keys shared.N.conv1.weight)")
    img_size = 2 ** (len(enc_blocks) + 2)  # the style encoder halves the size down to 4×4 before a 4×4 conv
    heads_e = _block_indices(e, r"unshared\.(\d+)\.weight")
    heads_m = _block_indices(m, r"unshared\.(\d+)\.6\.weight")
    if len(heads_e) != len(heads_m) or not heads_e:
        raise CheckpointError(f"{path}: style_encoder has {len(heads_e)} domain heads but mapping_network has "
                              f"{len(heads_m)}; the networks come from different models")
    style_dim = _shape(e, "unshared.0.weight", where["style_encoder"])[0]
    latent_dim = _shape(m, "shared.0.weight", where["mapping_network"])[1]
    hidden_dim = _shape(m, "shared.0.weight", where["mapping_network"])[0]
    g_blocks = _block_indices(g, r"encode\.(\d+)\.conv1\.weight")
    levels = len(g_blocks) - 2
    base = len(enc_blocks) + 2 - 4  # log2(img_size) - 4
    if levels == base + 1:
        w_hpf = 1.0
    elif levels == base:
        w_hpf = 0.0
    else:
        raise CheckpointError(f"{where['generator']}: {len(g_blocks)} encoder blocks do not fit img_size "
                              f"{img_size} (expected {base + 2} without or {base + 3} with the high-pass masks)")
    g_out = [_shape(g, f"encode.{i}.conv2.weight", where["generator"])[0] for i in g_blocks]
    e_out = [_shape(e, f"shared.{i}.conv2.weight", where["style_encoder"])[0] for i in enc_blocks]
    return StarGANConfig(
        img_size=img_size, style_dim=style_dim, latent_dim=latent_dim, num_domains=len(heads_e), w_hpf=w_hpf,
        generator_dim_in=_shape(g, "from_rgb.weight", where["generator"])[0], generator_max_conv_dim=max(g_out),
        encoder_dim_in=_shape(e, "shared.0.weight", where["style_encoder"])[0], encoder_max_conv_dim=max(e_out),
        mapping_hidden_dim=hidden_dim)


@dataclass
class LoadedNetworks:
    config: StarGANConfig
    generator: Generator
    mapping_network: MappingNetwork
    style_encoder: StyleEncoder
    fan: FAN | None
    sha256: str


def load_fan_file(path: str | Path) -> dict[str, Tensor]:
    """FAN weights from an official ``wing.ckpt``: its ``state_dict`` entry, keeping only the keys of the
    1-hourglass FAN (extra stacks m1-m3 etc. are ignored, as the official loader does). All FAN keys must be
    present (the official loader would silently keep random weights for missing ones)."""
    data = read_weights(path)
    state = data.get("state_dict")
    if not isinstance(state, Mapping):
        raise CheckpointError(f"{path}: no 'state_dict' entry (top-level keys: {sorted(map(str, data))}); "
                              "expected the official wing.ckpt")
    state = _strip_prefix(state, f"{path} [state_dict]")
    wanted = FAN().state_dict()
    return {k: v for k, v in state.items() if k in wanted}


def load_networks(path: str | Path, fan_checkpoint: str | Path | None = None) -> LoadedNetworks:
    """Read, validate and build the networks of an official checkpoint (on CPU, float32, eval mode)."""
    path = Path(path)
    data = read_weights(path)
    missing = [n for n in NETWORKS if n not in data]
    extra = [str(n) for n in data if n not in NETWORKS + OPTIONAL]
    if missing or extra:
        raise CheckpointError(
            f"{path}: expected entries {list(NETWORKS)} (+ optional 'fan'); "
            + (f"missing {missing}; " if missing else "") + (f"unexpected {extra}; " if extra else "")
            + "pass the official *_nets_ema.ckpt file")
    nets = {n: _strip_prefix(data[n], f"{path} [{n}]") for n in NETWORKS}
    config = infer_config(nets, path)
    generator, mapping, encoder = config.build()
    for name, module in zip(NETWORKS, (generator, mapping, encoder)):
        load_strict(module, nets[name], f"{path} [{name}]")
    fan = None
    if config.w_hpf > 0:
        fan = FAN()
        if "fan" in data:
            load_strict(fan, _strip_prefix(data["fan"], f"{path} [fan]"), f"{path} [fan]")
            if fan_checkpoint is not None:
                log.info("%s has a 'fan' entry; it is used (as the official code does) instead of %s",
                         path, fan_checkpoint)
        elif fan_checkpoint is not None:
            load_strict(fan, load_fan_file(fan_checkpoint), f"{fan_checkpoint} [state_dict, FAN keys]")
        else:
            raise CheckpointError(
                f"{path}: this generator uses face masks (w_hpf > 0: {len(generator.encode)} encoder blocks) but "
                "the file has no 'fan' entry; pass fan_checkpoint= / --fan-checkpoint with the official wing.ckpt")
    elif "fan" in data or fan_checkpoint is not None:
        # w_hpf = 0: no masks; the FAN is loaded (strictly) all the same, for alignment landmarks only
        fan = FAN()
        if "fan" in data:
            load_strict(fan, _strip_prefix(data["fan"], f"{path} [fan]"), f"{path} [fan]")
        else:
            load_strict(fan, load_fan_file(fan_checkpoint), f"{fan_checkpoint} [state_dict, FAN keys]")
        log.warning("%s: the generator uses no masks (w_hpf = 0); the FAN is used for alignment landmarks only",
                    path)
    for module in (generator, mapping, encoder, fan):
        if module is not None:
            module.eval().requires_grad_(False)
    return LoadedNetworks(config, generator, mapping, encoder, fan, fmt.sha256_file(path))

"""The spotting benchmark's settings: one frozen dataclass, the one definition of every ``spotting-benchmark``
flag (derived by ``settings``), of ``--settings FILE`` (TOML with these field names, or a ``spotting.json`` whose
``settings`` it reuses) and of what ``quality/spotting.json`` records. Defaults: SOFTNet's training recipe with
3 seeds and a 2,000-resample bootstrap. The demo's settings are the file ``demo_settings.toml`` beside this one.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samm_synth_dataset.settings import flag
from samm_synth_dataset.spotting import recipe, utility

PROTOCOLS: tuple[str, ...] = ("real", "synthetic", "real+synthetic")
RECIPES: tuple[str, ...] = ("default", "softnet")
TEST_VIDEOS: tuple[str, ...] = ("all", "with-kind")
DEVICES: tuple[str, ...] = ("cpu", "cuda", "auto")
#: The demo's settings (small and fast, not SOFTNet's recipe).
DEMO_SETTINGS_FILE = Path(__file__).with_name("demo_settings.toml")


class SettingsError(ValueError):
    """A settings file or value the benchmark cannot use: one line naming it and what to do."""


def parse_protocols(text: str) -> tuple[str, ...]:
    """``"real,synthetic"`` → the protocols in ``PROTOCOLS`` order; an unknown one is an error."""
    names = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [n for n in names if n not in PROTOCOLS]
    if unknown or not names:
        raise SettingsError(f"unknown protocol(s) {unknown or names}: choose from {', '.join(PROTOCOLS)} "
                            "(comma-separated)")
    return tuple(p for p in PROTOCOLS if p in names)


@dataclass(frozen=True)
class BenchmarkSettings:
    """Everything that decides the benchmark's numbers; the same for every protocol. Seeds are ``seed``,
    ``seed + 1``, … (``seeds`` of them), each protocol trained once per seed on every fold."""

    protocols: tuple[str, ...] = field(default=PROTOCOLS, metadata=flag(
        "comma-separated protocols of real, synthetic, real+synthetic", parse=parse_protocols, metavar="LIST"))
    seeds: int = field(default=3, metadata=flag("training runs per protocol and fold, one seed each"))
    seed: int = field(default=0, metadata=flag("the first seed (weights, sampling, shuffles); then seed+1, ..."))
    epochs: int = field(default=recipe.EPOCHS, metadata=flag("training epochs (SOFTNet: 10)"))
    batch_size: int = field(default=recipe.BATCH_SIZE, metadata=flag("batch size (SOFTNet: 12)"))
    lr: float = field(default=recipe.LEARNING_RATE, metadata=flag("SGD learning rate (SOFTNet: 0.0005)"))
    p: float = field(default=recipe.P, metadata=flag("peak threshold fraction of the smoothed score (SOFTNet: 0.55)"))
    recipe: str = field(default="default", metadata=flag(
        "feature recipe, read from `samm-synth features`' export (run first when missing): default (Farneback, "
        "per-fold k, centred decoding) or softnet (the published SOFTNet input, whole-dataset k and SOFTNet's "
        "decoding, so F1 compares with published SOFTNet numbers; flow_size, input_size and nose_patch do not "
        "apply)", choices=RECIPES))
    flow_size: int = field(default=128, metadata=flag("side in px of the frames the flow is computed on"))
    input_size: int = field(default=42, metadata=flag("side in px of the network input (even)"))
    nose_patch: int = field(default=11, metadata=flag("side in px of the head-motion patch at the nose (odd)"))
    test_videos: str = field(default="all", metadata=flag(
        "all: every test video is scored, predictions on a video without an interval of the kind are false "
        "positives; with-kind: each kind is scored only on the videos that contain it (as SOFTNet did)",
        choices=TEST_VIDEOS))
    bootstrap: int = field(default=utility.RESAMPLES, metadata=flag(
        "bootstrap resamples over held-out subjects for the intervals and verdicts", name="bootstrap"))
    bootstrap_seed: int = field(default=0, metadata=flag("seed of the bootstrap's draws"))
    level: float = field(default=utility.LEVEL, metadata=flag("confidence level of the intervals"))
    device: str = field(default="cpu", metadata=flag("training device (auto: cuda when present)", choices=DEVICES))

    def __post_init__(self) -> None:
        if self.seeds < 1 or self.epochs < 1 or self.batch_size < 1 or self.bootstrap < 1:
            raise SettingsError("seeds, epochs, batch_size and bootstrap must be >= 1")
        if not 0 < self.p < 1 or not 0 < self.level < 1:
            raise SettingsError(f"p and level must be in (0, 1), got {self.p} and {self.level}")
        try:
            recipe.check_feature_sizes(self.flow_size, self.input_size, self.nose_patch)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None

    @property
    def seed_list(self) -> list[int]:
        return list(range(self.seed, self.seed + self.seeds))

    def as_dict(self) -> dict[str, Any]:
        """Every setting, as ``quality/spotting.json`` records it (and ``--settings`` reads it back)."""
        out = dataclasses.asdict(self)
        out["protocols"] = ",".join(self.protocols)
        return out

    def replace(self, **changes: Any) -> BenchmarkSettings:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_mapping(cls, data: dict[str, Any], where: str) -> BenchmarkSettings:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SettingsError(f"{where}: unknown benchmark settings {unknown}; known: {sorted(known)}")
        values = dict(data)
        if isinstance(values.get("protocols"), str):
            values["protocols"] = parse_protocols(values["protocols"])
        elif "protocols" in values:
            values["protocols"] = parse_protocols(",".join(values["protocols"]))
        try:
            return cls(**values)
        except TypeError as exc:
            raise SettingsError(f"{where}: {exc}") from None

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> BenchmarkSettings:
        """Settings from a TOML file (top-level keys or a ``[spotting]`` table, this class's field names) or from
        a ``spotting.json`` (its ``settings``); ``overrides`` win."""
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise SettingsError(f"--settings {path}: cannot read it ({exc.strerror})") from None
        if path.suffix == ".json":
            try:
                data = dict(json.loads(text)["settings"])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise SettingsError(f"--settings {path}: not a spotting.json with settings ({exc})") from None
        else:
            try:
                loaded = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise SettingsError(f"--settings {path}: not valid TOML ({exc})") from None
            data = dict(loaded.get("spotting", loaded))
        data.update(overrides)
        return cls.from_mapping(data, f"--settings {path}")


def demo_settings() -> BenchmarkSettings:
    """The settings the demo runs the benchmark with (``demo_settings.toml``)."""
    return BenchmarkSettings.from_file(DEMO_SETTINGS_FILE)

"""``settings``: flags derived from a dataclass's fields (switches, tuples, parse, defaults in the help)."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from samm_synth_dataset import settings
from samm_synth_dataset.settings import flag, not_a_flag


def _both(value: str) -> tuple[str, ...]:
    return ("a", "b") if value == "both" else (value,)


@dataclass(frozen=True)
class Toy:
    root: Path = field(metadata=flag("input folder"))
    size: int = field(default=8, metadata=flag("side in pixels"))
    rate: float | None = field(default=None, metadata=flag("frame rate", none="the source's"))
    ratio: float = field(default=0.5, metadata=flag("share, 50% by default"))
    mode: str = field(default="fast", metadata=flag("how", choices=("fast", "slow")))
    dry_run: bool = field(default=False, metadata=flag("change nothing"))
    progress: bool = field(default=True, metadata=flag("no progress bar"))
    names: tuple[str, ...] | None = field(default=None, metadata=flag("only these", nargs="+", none="all"))
    rules: tuple[str, ...] = field(default=(), metadata=flag("a rule, repeatable", name="rule", append=True,
                                                             metavar="NAME=VALUE"))
    kinds: tuple[str, ...] = field(default=("a",), metadata=flag("a, b or both", name="kind",
                                                                 choices=("a", "b", "both"), parse=_both))
    workers: int | None = field(default=None, metadata=flag("processes; default: the cores",
                                                            show_default=False))
    timeout: float = field(default=72.0, metadata=not_a_flag("config file only"))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    settings.add_arguments(parser, Toy)
    return parser


def _helps(parser: argparse.ArgumentParser) -> dict[str, str]:
    return {a.option_strings[0]: a.help or "" for a in parser._actions if a.option_strings}


def test_flags_names_and_defaults_in_the_help() -> None:
    helps = _helps(_parser())
    assert set(helps) == {"-h", "--root", "--size", "--rate", "--ratio", "--mode", "--dry-run", "--no-progress",
                          "--names", "--rule", "--kind", "--workers"}
    assert helps["--root"] == "input folder"  # required: no default
    assert helps["--size"] == "side in pixels (default: 8)"
    assert helps["--rate"] == "frame rate (default: the source's)"
    assert helps["--ratio"] == "share, 50%% by default (default: 0.5)"  # argparse formats help with %
    assert helps["--mode"] == "how (default: fast)"
    assert helps["--dry-run"] == "change nothing" and helps["--no-progress"] == "no progress bar"
    assert helps["--names"] == "only these (default: all)"
    assert helps["--rule"] == "a rule, repeatable (default: none)"
    assert helps["--kind"] == "a, b or both (default: a)"
    assert helps["--workers"] == "processes; default: the cores"
    _parser().format_help()  # renders


def test_given_holds_only_the_flags_given() -> None:
    parser = _parser()
    assert settings.given(parser.parse_args([]), Toy) == {}
    args = parser.parse_args(["--root", "r", "--size", "3", "--rate", "29.97", "--dry-run", "--no-progress",
                              "--names", "x", "y", "--rule", "p=1", "--rule", "q=2", "--kind", "both",
                              "--mode", "slow", "--workers", "2"])
    assert settings.given(args, Toy) == {
        "root": Path("r"), "size": 3, "rate": 29.97, "dry_run": True, "progress": False, "names": ("x", "y"),
        "rules": ("p=1", "q=2"), "kinds": ("a", "b"), "mode": "slow", "workers": 2}
    assert Toy(**settings.given(args, Toy)).timeout == 72.0
    assert settings.settings_from_args(parser.parse_args(["--root", "r"]), Toy, timeout=1.0) == Toy(
        root=Path("r"), timeout=1.0)
    with pytest.raises(SystemExit):
        parser.parse_args(["--mode", "medium"])


def test_missing_required_names_the_flags() -> None:
    assert settings.missing_required(Toy, {}) == ["--root"]
    assert settings.missing_required(Toy, {"root": Path("r")}) == []


def test_every_field_must_say_whether_it_is_a_flag() -> None:
    @dataclass
    class Bare:
        size: int = 3

    with pytest.raises(TypeError, match="'size' has no flag metadata"):
        settings.add_arguments(argparse.ArgumentParser(), Bare)

    @dataclass
    class TupleWithoutNargs:
        names: tuple[str, ...] = field(default=(), metadata=flag("names"))

    with pytest.raises(TypeError, match="nargs"):
        settings.add_arguments(argparse.ArgumentParser(), TupleWithoutNargs)
    assert [f.name for f, _ in settings.flag_fields(Toy)] == [
        f.name for f in dataclasses.fields(Toy) if f.name != "timeout"]

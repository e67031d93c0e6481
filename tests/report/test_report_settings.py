"""``ReportSettings``: the `report` command's flags come from its fields; ``make_report`` takes it or keywords."""

from __future__ import annotations

import argparse
import dataclasses
import re

import pytest

from samm_synth_dataset import settings
from samm_synth_dataset.report.commands import _cmd_report, add_commands
from samm_synth_dataset.report.report_settings import ReportSettings


def _report_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("-q", "--quiet", action="store_true")
    add_commands(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_every_field_is_a_flag_or_says_why_not_and_the_help_shows_its_default() -> None:
    specs = {f.name: settings.spec(f) for f in dataclasses.fields(ReportSettings)}
    assert {n for n, s in specs.items() if isinstance(s, settings.NotAFlag)} == {"polyorder", "progress"}
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    add_commands(sub)
    helps = {a.option_strings[0]: a.help or "" for a in sub.choices["report"]._actions if a.option_strings}
    assert set(helps) == {"-h", "--source-root", "--smooth-window", "--stability-step", "--stability-pairs",
                          "--au-curves", "--identity-samples", "--identity-threshold", "--workers"}
    assert helps["--smooth-window"].endswith("(default: none)")
    assert helps["--stability-step"].endswith("(default: 1)")
    assert helps["--stability-pairs"].endswith("(default: 16)")
    assert helps["--au-curves"].endswith("(default: the best-tracked one)")
    assert helps["--identity-samples"].endswith(f"(default: {ReportSettings().identity_samples})")
    assert helps["--identity-threshold"].endswith(f"(default: {ReportSettings().identity_threshold:g})")
    assert "default: the cores" in helps["--workers"] and not re.search(r"\(default: ", helps["--workers"])


def test_command_lines_give_the_settings() -> None:
    args = _report_args(["report", "rel"])
    assert settings.settings_from_args(args, ReportSettings, progress=not args.quiet) == ReportSettings()
    args = _report_args(["-q", "report", "rel", "--source-root", "corpus", "--smooth-window", "7",
                         "--stability-step", "2", "--stability-pairs", "8", "--au-curves", "a_1", "b_2",
                         "--identity-samples", "3", "--identity-threshold", "0.5", "--workers", "2"])
    assert args.source_root == "corpus" and args.func is _cmd_report
    assert settings.settings_from_args(args, ReportSettings, progress=not args.quiet) == ReportSettings(
        window=7, stability_step=2, stability_pairs=8, figure3_videos=("a_1", "b_2"), identity_samples=3,
        identity_threshold=0.5, workers=2, progress=False)
    assert ReportSettings(figure3_videos=["a_1"]).figure3_videos == ("a_1",)  # type: ignore[arg-type]


def test_make_report_refuses_an_unknown_setting(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from samm_synth_dataset.report.report import make_report

    with pytest.raises(TypeError, match="smoothing"):
        make_report(tmp_path, smoothing=3)

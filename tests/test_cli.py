"""The `samm-synth` command line: every subcommand answers --help."""

from __future__ import annotations

import pytest

from samm_synth_dataset.cli import build_parser, main


def _subcommands() -> list[str]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return sorted(sub.choices)


def test_every_subcommand_has_help(capsys: pytest.CaptureFixture) -> None:
    names = _subcommands()
    assert {"demo", "make-demo-corpus", "inspect-source", "transfer", "build", "verify", "finalize", "aus",
            "report", "score-spotting", "splits", "release", "publish"} <= set(names)
    with pytest.raises(SystemExit) as top:
        main(["--help"])
    assert top.value.code == 0
    listing = capsys.readouterr().out
    for name in names:
        assert name in listing
        with pytest.raises(SystemExit) as exc:
            main([name, "--help"])
        assert exc.value.code == 0, name
        assert f"usage: samm-synth {name}" in capsys.readouterr().out


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture) -> None:
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out

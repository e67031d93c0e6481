"""Fault-injection hooks: silent without the variable, SIGKILL at exactly the chosen pass of a stage's point."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest

import samm_synth_dataset
from samm_synth_dataset.faults import KILL_AT, KILL_RANK, kill_point


def test_hooks_do_nothing_without_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KILL_AT, raising=False)
    for _ in range(3):
        kill_point("build", "frames"), kill_point("aus", "commit")


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    root = str(Path(samm_synth_dataset.__file__).parents[1])
    return subprocess.run([sys.executable, "-c", "from samm_synth_dataset.faults import kill_point\n" + code],
                          env={"PATH": "", "PYTHONPATH": root, **env}, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("env, code, survived", [
    ({KILL_AT: "build:frames:3"}, "for i in range(5):\n    print(i, flush=True); kill_point('build', 'frames')",
     "0\n1\n2\n"),
    ({KILL_AT: "build:tasks"}, "print(0, flush=True); kill_point('build', 'frames'); kill_point('build', 'tasks')"
                               "; print(1)", "0\n"),
    ({KILL_AT: "aus:commit"}, "kill_point('report', 'commit'); print(0, flush=True); kill_point('aus', 'commit')"
                              "; print(1)", "0\n"),
    ({KILL_AT: "aus:tasks:2", KILL_RANK: "0"},
     "for i in range(5):\n    print(i, flush=True); kill_point('aus', 'tasks')", "0\n1\n"),
])
def test_sigkill_at_the_chosen_point(env: dict[str, str], code: str, survived: str) -> None:
    proc = _run(code, env)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout == survived


def test_another_rank_is_spared() -> None:
    proc = _run("kill_point('aus', 'tasks'); print('alive')", {KILL_AT: "aus:tasks", KILL_RANK: "1", "RANK": "0"})
    assert proc.returncode == 0 and proc.stdout == "alive\n"

"""Fault-injection hooks: silent without the variables, SIGKILL at exactly the chosen point."""

import signal
import subprocess
import sys

import pytest

from samm_synth_dataset.builders.faults import KILL_AFTER_PARTS, KILL_AT, KillSwitch, kill_point


def test_hooks_do_nothing_without_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KILL_AT, raising=False)
    monkeypatch.delenv(KILL_AFTER_PARTS, raising=False)
    switch = KillSwitch()
    for _ in range(3):
        switch.part(), switch.frame(), switch.unit()
    kill_point("finalize", "tables")
    assert (switch.parts, switch.frames, switch.units) == (3, 3, 3)


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env={"PATH": "", **env}, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("env, code, survived", [
    ({KILL_AT: "frames:3"}, "s = KillSwitch()\nfor i in range(5):\n    print(i, flush=True); s.frame()", "0\n1\n2\n"),
    ({KILL_AFTER_PARTS: "2"}, "s = KillSwitch()\nfor i in range(5):\n    print(i, flush=True); s.part()", "0\n1\n"),
    ({KILL_AT: "units:1"}, "s = KillSwitch()\nprint(0, flush=True); s.frame(); s.part(); s.unit(); print(1)", "0\n"),
    ({KILL_AT: "finalize:manifest"},
     "kill_point('finalize', 'tables'); print(0, flush=True); kill_point('finalize', 'manifest'); print(1)", "0\n"),
])
def test_sigkill_at_the_chosen_point(env: dict[str, str], code: str, survived: str) -> None:
    import samm_synth_dataset

    root = str(__import__("pathlib").Path(samm_synth_dataset.__file__).parents[1])
    proc = _run("from samm_synth_dataset.builders.faults import KillSwitch, kill_point\n" + code,
                {**env, "PYTHONPATH": root})
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout == survived

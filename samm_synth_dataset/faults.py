"""Fault injection for crash tests: SIGKILL this process at a chosen point of a stage. One grammar for every stage.

``SAMM_SYNTH_KILL_AT=<stage>:<point>[:N]`` kills the process the N-th time (default: the first) it passes
``point`` of ``stage``; ``SAMM_SYNTH_KILL_RANK=R`` limits it to torchrun rank R. Points of every stage (see
``stages``): ``tasks`` (a task's result folder was published; counted per process, so in a worker it kills that
worker) and ``commit`` (the stage's files are in the release, the manifest does not list them yet). The build adds
``prepare`` (output folders made, no plan yet), ``frames`` (a frame was added to a part being written), ``parts``
(a part's files were committed inside the task's folder) and ``tables`` (the intervals and videos tables are
written, the manifest is still 'building'). Examples: ``build:frames:150``, ``build:tasks:1``, ``aus:commit``,
``report:tasks:2``.

With the variable unset every hook does nothing.
"""

from __future__ import annotations

import os
import signal

KILL_AT = "SAMM_SYNTH_KILL_AT"
KILL_RANK = "SAMM_SYNTH_KILL_RANK"

_passes: dict[tuple[str, str], int] = {}


def _target(stage: str) -> tuple[str, int] | None:
    """(point, N) of ``SAMM_SYNTH_KILL_AT`` when it names ``stage`` on this rank, else None."""
    name, _, rest = os.environ.get(KILL_AT, "").partition(":")
    if name != stage:
        return None
    rank = os.environ.get(KILL_RANK, "")
    if rank and rank != os.environ.get("RANK", "0"):
        return None
    point, _, n = rest.partition(":")
    return point, int(n) if n.isdigit() else 1


def kill_point(stage: str, point: str) -> None:
    """Count one pass of ``point`` of ``stage`` in this process; SIGKILL it at the pass the variable names."""
    target = _target(stage)
    if target is None or target[0] != point:
        return
    key = (stage, point)
    _passes[key] = _passes.get(key, 0) + 1
    if _passes[key] >= target[1]:
        os.kill(os.getpid(), signal.SIGKILL)

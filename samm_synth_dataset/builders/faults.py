"""Fault injection for crash tests: SIGKILL this process at a point of a build chosen by environment variables.

- ``SAMM_SYNTH_KILL_AFTER_PARTS=N``: after N parts were committed (their part markers written).
- ``SAMM_SYNTH_KILL_AT=STAGE:ARG``, one of
  ``prepare:folders`` (output folders made, no plan written yet), ``frames:N`` (after N frames were added to
  the part writers, mid-part), ``units:N`` (after N unit markers were written), ``finalize:tables`` (tables
  written, manifest still 'building') and ``finalize:manifest`` (card written, manifest not yet 'complete').

With neither variable set every hook does nothing.
"""

from __future__ import annotations

import os
import signal
from typing import Any

KILL_AFTER_PARTS = "SAMM_SYNTH_KILL_AFTER_PARTS"
KILL_AT = "SAMM_SYNTH_KILL_AT"


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _kill_at() -> tuple[str, str]:
    stage, _, arg = os.environ.get(KILL_AT, "").partition(":")
    return stage, arg


def kill_point(stage: str, point: str) -> None:
    """SIGKILL this process if ``SAMM_SYNTH_KILL_AT`` is ``stage:point`` (e.g. ``finalize:tables``)."""
    if _kill_at() == (stage, point):
        _die()


class KillSwitch:
    """The counting hooks of one build process (parts, frames, units); the variables are read once, here."""

    def __init__(self) -> None:
        after_parts = os.environ.get(KILL_AFTER_PARTS, "")
        self.after_parts = int(after_parts) if after_parts.strip().isdigit() else None
        self.stage, arg = _kill_at()
        self.n = int(arg) if arg.isdigit() else None
        self.parts = self.frames = self.units = 0

    def part(self, _record: Any = None) -> None:
        """After a part's marker was written (``VideoPartsWriter``'s ``on_part``)."""
        self.parts += 1
        if self.after_parts is not None and self.parts >= self.after_parts:
            _die()

    def frame(self) -> None:
        """After a frame was added to a unit's part writer."""
        self.frames += 1
        if self.stage == "frames" and self.n is not None and self.frames >= self.n:
            _die()

    def unit(self) -> None:
        """After a unit marker was written."""
        self.units += 1
        if self.stage == "units" and self.n is not None and self.units >= self.n:
            _die()

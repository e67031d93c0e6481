"""Builders: source videos × references × a style-transfer method → a release folder (see ``format``).

``build(BuildConfig(...)) -> BuildSummary``; ``finalize(release)``; checking a folder is ``format.verify``.
Crash-safe (temp names, fsync, rename, markers last; ``resume=True`` continues), and torchrun-aware.

Stages: ``config`` (BuildConfig), ``plan`` (with ``references``: which face restyles which subject), ``resume``,
``unit`` (one synthetic video; ``labels`` per frame), ``stream`` (decode → transfer → encode), ``writer``
(parts), ``manifest`` (build state, finalize), ``faults`` (crash-test hooks), ``pipeline`` (``build``). Names
are imported on first use (no torch, no OpenCV on import).
"""

from __future__ import annotations

from samm_synth_dataset import lazy_getattr

_LAZY: dict[str, str] = {
    "BuildConfig": "samm_synth_dataset.builders.config",
    "demo_config": "samm_synth_dataset.builders.config",
    "build": "samm_synth_dataset.builders.pipeline",
    "BuildSummary": "samm_synth_dataset.builders.pipeline",
    "finalize": "samm_synth_dataset.builders.finalize",
}

__all__ = [*_LAZY]

__getattr__ = lazy_getattr(__name__, _LAZY)

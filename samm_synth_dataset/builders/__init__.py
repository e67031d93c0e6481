"""Builders: source videos × references × a style-transfer method → a release folder (see ``format``).

``build(BuildConfig(...)) -> BuildSummary``; ``finalize(release)``; checking a folder is ``format.verify``.
Crash-safe (temp names, fsync, rename, markers last; ``resume=True`` continues), and torchrun-aware.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BuildConfig", "BuildSummary", "build", "demo_config", "finalize"]


def __getattr__(name: str) -> Any:
    # Lazy, so `import samm_synth_dataset.builders` stays light (no torch, no OpenCV).
    if name in ("BuildConfig", "demo_config"):
        from samm_synth_dataset.builders import config

        return getattr(config, name)
    if name in ("build", "BuildSummary"):
        from samm_synth_dataset.builders import pipeline as _build

        return getattr(_build, name)
    if name == "finalize":
        from samm_synth_dataset.builders.manifest import finalize

        return finalize
    raise AttributeError(f"module 'samm_synth_dataset.builders' has no attribute {name!r}")

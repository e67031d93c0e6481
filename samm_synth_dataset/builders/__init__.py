"""Builders: source videos × references × a style-transfer method → a release folder (see ``format``).

``build(BuildConfig(...)) -> BuildSummary``; ``finalize(release)``; ``verify(release) -> VerifyReport``.
Crash-safe (temp names, fsync, rename, markers last; ``resume=True`` continues), and torchrun-aware.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BuildConfig", "BuildSummary", "VerifyReport", "add_files", "build", "demo_config", "finalize", "verify"]


def __getattr__(name: str) -> Any:
    # Lazy, so `import samm_synth_dataset.builders` stays light (no torch, no OpenCV).
    if name in ("BuildConfig", "demo_config"):
        from samm_synth_dataset.builders import config

        return getattr(config, name)
    if name in ("build", "BuildSummary"):
        from samm_synth_dataset.builders import pipeline as _build

        return getattr(_build, name)
    if name in ("finalize", "add_files"):
        from samm_synth_dataset.builders import manifest

        return getattr(manifest, name)
    if name in ("verify", "VerifyReport"):
        from samm_synth_dataset.builders import verify as _verify

        return getattr(_verify, name)
    raise AttributeError(f"module 'samm_synth_dataset.builders' has no attribute {name!r}")

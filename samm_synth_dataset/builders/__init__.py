"""Builders: source videos × references × a style-transfer method → a release folder (see ``format``).

``build(BuildConfig(...)) -> BuildSummary``; ``finalize.finalize(release)``; checking a folder is
``format.verify``. Every unit is a task of the one per-video engine (``stages``): crash-safe, resumable
(``resume=True``), torchrun-aware.

Modules: ``config`` (BuildConfig), ``plan`` (with ``references``: which face restyles which subject; the resume
rule), ``unit`` (one synthetic video, the build stage's task; ``labels`` per frame), ``stream`` (decode → transfer
→ encode), ``writer`` (parts), ``finalize`` (the units into the release), ``pipeline`` (``build``). Importing the
package imports neither torch nor a model.
"""

from __future__ import annotations

from samm_synth_dataset.builders.config import BuildConfig, demo_config
from samm_synth_dataset.builders.pipeline import BuildSummary, build

__all__ = ["BuildConfig", "BuildSummary", "build", "demo_config"]

"""Versioned releases: the dataset card, versions with data meaning, release notes, publishing to the Hub.

``make_release`` (release.py) turns a finished build into release ``X.Y.Z``; ``render_card``/``validate_card``
(card.py) make and check its README.md; ``compare_releases``/``check_version`` (versioning.py) give versions their
data meaning; ``plan_publish``/``publish`` (publish.py) upload it and tag ``vX.Y.Z``. Imports are lazy.
"""

from __future__ import annotations

from typing import Any

__all__ = ["make_release", "render_card", "validate_card", "compare_releases", "check_version", "Version",
           "plan_publish", "publish"]

_WHERE = {
    "make_release": "release", "render_card": "card", "validate_card": "card", "compare_releases": "versioning",
    "check_version": "versioning", "Version": "versioning", "plan_publish": "publish", "publish": "publish",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"samm_synth_dataset.release.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'samm_synth_dataset.release' has no attribute {name!r}")

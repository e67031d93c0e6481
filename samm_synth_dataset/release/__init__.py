"""Versioned releases: the dataset card, versions with data meaning, release notes, publishing to the Hub.

``make_release`` (release.py) turns a finished build into release ``X.Y.Z``; ``render_card``/``validate_card``
(card.py) make and check its README.md; ``compare_releases``/``check_version`` (versioning.py) give versions their
data meaning; ``plan_publish``/``publish`` (publish.py) upload it and tag ``vX.Y.Z``. Imports are lazy.
"""

from __future__ import annotations

from samm_synth_dataset import lazy_getattr

_LAZY: dict[str, str] = {
    "make_release": "samm_synth_dataset.release.release",
    "render_card": "samm_synth_dataset.release.card",
    "validate_card": "samm_synth_dataset.release.card",
    "compare_releases": "samm_synth_dataset.release.versioning",
    "check_version": "samm_synth_dataset.release.versioning",
    "Version": "samm_synth_dataset.release.versioning",
    "plan_publish": "samm_synth_dataset.release.publish",
    "publish": "samm_synth_dataset.release.publish",
}

__all__ = [*_LAZY]

__getattr__ = lazy_getattr(__name__, _LAZY)

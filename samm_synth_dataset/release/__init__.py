"""Versioned releases: the dataset card, versions with data meaning, release notes, publishing to the Hub.

``make_release`` (release.py) turns a finished build into release ``X.Y.Z``; ``render_card`` (card.py) and
``validate_card`` (card_check.py) make and check its README.md; ``compare_releases``/``check_version``
(versioning.py) give versions their data meaning; ``publish.plan_publish``/``publish.publish`` upload it and tag
``vX.Y.Z``.
"""

from __future__ import annotations

from samm_synth_dataset.release.card import render_card
from samm_synth_dataset.release.card_check import validate_card
from samm_synth_dataset.release.release import make_release
from samm_synth_dataset.release.versioning import Version, check_version, compare_releases

__all__ = ["Version", "check_version", "compare_releases", "make_release", "render_card", "validate_card"]

"""Fixtures of the metrics tests: a release built by the real builder from two demo-corpus videos.

``tint_release``: source videos 006_1 and 007_2 (270 frames each, real face and scripted motion), one reference
per subject, colour transfer to 128×128 JPEG, Parquet only; subject 006 wears glasses, 007 does not (so both
glasses groups exist). Colour transfer keeps the geometry, so original and synthetic motion agree up to JPEG noise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

TINT: dict[str, Any] = {"videos": ("006_1", "007_2"), "refs": 1, "size": 128, "formats": ("parquet",),
                        "glasses": {"006": True, "007": False}}


@pytest.fixture(scope="session")
def tint_release_master(build_release, demo_corpus) -> Path:
    """The shared build behind ``tint_release`` (read-only: copy it before writing)."""
    return build_release(source=demo_corpus, **TINT)


@pytest.fixture
def tint_release(build_release, demo_corpus, tmp_path: Path) -> Path:
    """A private copy (tests write data/aus and quality/ into it)."""
    return build_release(tmp_path / "release", source=demo_corpus, **TINT)

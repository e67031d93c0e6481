"""Shared fixtures. Session-scoped builds are made once per test worker."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real face videos and OpenFace CSVs); skips when absent (a user's fresh clone)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent: real-data tests need ../shared/data beside the checkout")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_corpus(tmp_path_factory: pytest.TempPathFactory):
    """The tests' small demo corpus in SAMM-LV layout, with the real sheet's quirks on."""
    from samm_synth_dataset.sources.demo import make_demo_corpus

    return make_demo_corpus(tmp_path_factory.mktemp("demo") / "corpus", seed=0, size="small", quirks=True)

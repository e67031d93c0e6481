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
    from samm_synth_dataset.demo.corpus import make_demo_corpus

    return make_demo_corpus(tmp_path_factory.mktemp("demo") / "corpus", seed=0, size="small", quirks=True)


@pytest.fixture(scope="session")
def casme3_corpus(tmp_path_factory: pytest.TempPathFactory):
    """The demo faces in the CAS(ME)³ Part A layout (5 clips, 620 frames, 30 fps), both workbooks' quirks on."""
    from samm_synth_dataset.demo.casme3 import make_casme3_corpus

    return make_casme3_corpus(tmp_path_factory.mktemp("casme3") / "corpus", quirks=True)


# ---- builders: a complete small release (issue 5) -------------------------------------------------------------

@pytest.fixture(scope="session")
def small_release(demo_corpus, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete release built from ``demo_corpus``: colour transfer, Parquet frames + WebDataset tars, 2
    references per subject (8 synthetic videos of 270 frames, 128×128), parts of at most 100 frames (every video
    spans 3 parts). Session-scoped and shared: do not modify it — use ``small_release_copy`` to get a private copy."""
    from samm_synth_dataset.builders import build
    from samm_synth_dataset.builders.config import demo_config

    out = tmp_path_factory.mktemp("small_release") / "release"
    summary = build(demo_config(demo_corpus, out, max_part_frames=100, image_size=128, face_samples=5,
                                progress=False))
    if not summary.complete:
        raise RuntimeError(f"small_release fixture: the build did not complete:\n{summary.format()}")
    return out


@pytest.fixture
def small_release_copy(small_release: Path, tmp_path: Path) -> Path:
    """A fresh, private copy of ``small_release`` (function-scoped) for tests that modify the release."""
    import shutil

    dst = tmp_path / "release"
    shutil.copytree(small_release, dst)
    return dst

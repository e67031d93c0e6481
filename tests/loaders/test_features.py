"""Reading exported spotting features: ``load(release, "features/<recipe>")``, ``FeatureDataset`` (labels, the
originals' folder, DataLoader workers, DDP placement) and the card's training loop, run as written."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from samm_synth_dataset import format as fmt
from samm_synth_dataset.loaders import FeatureDataset, load
from samm_synth_dataset.metrics.data import source_root_of
from samm_synth_dataset.release.card import render_card
from samm_synth_dataset.spotting.export import export_features
from samm_synth_dataset.spotting.recipes import DEFAULT, SOFTNET

#: The softnet steps on 40 px flow (TV-L1 at 128 px is too slow for a unit test; each step is checked at 128 px
#: in tests/spotting/test_recipes.py).
SMALL_SOFTNET = SOFTNET.replace(flow_size=40, roi_margin=4, eye_push=5)


@pytest.fixture(scope="module")
def features(tiny_release: Path, tmp_path_factory) -> tuple[Path, Path]:
    where = tmp_path_factory.mktemp("features")
    release = where / "release"
    shutil.copytree(tiny_release, release)
    export_features(release, DEFAULT, workers=1, progress=False)
    export_features(release, SMALL_SOFTNET, ("MaE",), workers=1, progress=False,
                    source_root=source_root_of(tiny_release), originals_out=where / "originals")
    return release, where / "originals"


def test_load_reads_a_recipe_as_a_datasets_config(features):
    release, _ = features
    ds = load(release, "features/softnet")
    block = fmt.read_manifest(release)[fmt.FEATURES_KEY]["softnet"]
    assert len(ds) == block["rows"] and set(ds["k"]) == {5}
    assert len(ds[0]["feature"]) == 42 * 42 * 3
    with pytest.raises(FileNotFoundError, match="no mtsn features; run `samm-synth features"):
        load(release, "features/mtsn")


def test_feature_dataset_yields_features_and_labels(features):
    release, originals = features
    data = FeatureDataset(release, "softnet", "MaE", originals=originals)
    samples = list(data)
    assert len(samples) == len(data) > 0
    assert {s["origin"] for s in samples} == {"synthetic", "original"}
    assert samples[0]["feature"].shape == (1, 42, 42, 3) and samples[0]["feature"].dtype == torch.float32
    intervals = pd.read_parquet(release / fmt.INTERVALS_PATH)
    for s in samples:
        key = "video" if s["origin"] == "synthetic" else "source_video"
        mine = intervals[(intervals[key] == s["video"]) & (intervals["kind"] == "MaE")]
        inside = any(a <= s["frame"] <= b for a, b in zip(mine["onset"], mine["offset"]))
        assert float(s["MaE"]) == float(inside)
        assert float(s["label"]) in (0.0, 1.0)
    assert any(float(s["label"]) == 1.0 for s in samples) and any(float(s["label"]) == 0.0 for s in samples)
    with pytest.raises(ValueError, match="made for MaE, not ME"):
        FeatureDataset(release, "softnet", "ME")


def _key(s: dict) -> tuple:
    return (s["origin"], s["video"], s["frame"])


def test_workers_and_ranks_split_the_samples(features):
    release, originals = features
    data = FeatureDataset(release, "default", "ME", shuffle=True, seed=1)
    alone = Counter(_key(s) for s in data)
    loader = torch.utils.data.DataLoader(data, batch_size=None, num_workers=2)
    assert Counter(_key(s) for s in loader) == alone
    ranks = [Counter(_key(s) for s in FeatureDataset(release, "default", "ME", shuffle=True, seed=1, rank=r,
                                                      world_size=2)) for r in (0, 1)]
    assert sum(ranks[0].values()) == sum(ranks[1].values()) == sum(alone.values()) // 2
    assert not set(ranks[0]) & set(ranks[1])
    data.set_epoch(1)
    assert [_key(s) for s in data] != [_key(s) for s in FeatureDataset(release, "default", "ME", shuffle=True,
                                                                        seed=1)]


def test_the_cards_training_loop_runs_as_written(features):
    release, _ = features
    card = render_card(release)
    assert "## Spotting features" in card and "| `softnet` |" in card and "proportional points" in card
    code = re.search(r"```python\n(import torch\nfrom samm_synth_dataset.loaders import FeatureDataset\n.*?)```",
                     card, re.S)
    assert code is not None
    lines = code.group(1).strip().splitlines()
    assert len(lines) <= 11
    torch.manual_seed(0)
    scope: dict = {"release": release}
    exec(compile(code.group(1), "card", "exec"), scope)  # the loop as the card shows it
    assert np.isfinite(scope["loss"].item())

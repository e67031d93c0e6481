"""``spotting-benchmark --recipe softnet`` on the tests' tiny release: it reads the exported softnet features
(TV-L1, here on 40 px flow: 128 px takes minutes on a shared CPU, and every step at 128 px is checked in
test_recipes; made by ``samm-synth features`` when missing, the originals' outside the release), uses the
whole release's k and decodes by SOFTNet's rule (intervals of 2k + 1 frames, the [0, 0] dummy prediction), and
says so in ``spotting.json``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from samm_synth_dataset import format as fmt
from samm_synth_dataset.metrics.data import source_root_of
from samm_synth_dataset.spotting import benchmark as B
from samm_synth_dataset.spotting.benchmark_settings import BenchmarkSettings
from samm_synth_dataset.spotting.recipes import SOFTNET

SMALL_SOFTNET = SOFTNET.replace(flow_size=40, roi_margin=4, eye_push=5)


def test_softnet_recipe_reads_the_export_and_decodes_by_softnets_rule(tiny_release: Path, tmp_path: Path):
    release = tmp_path / "release"
    shutil.copytree(tiny_release, release)
    settings = BenchmarkSettings(recipe="softnet", epochs=1, seeds=1, lr=0.01, batch_size=32, bootstrap=50,
                                 protocols=("real", "synthetic"))
    doc = B.run_benchmark(release, source_root_of(tiny_release), settings=settings, progress=False, workers=1,
                          recipe=SMALL_SOFTNET)
    manifest = fmt.read_manifest(release)
    block = manifest[fmt.FEATURES_KEY]["softnet"]
    assert block["k"] == {"ME": 1, "MaE": 5} and block["recipe"]["flow"] == "tvl1"
    assert (release / B.ORIGINALS_FEATURES / fmt.FEATURES_DIR / "softnet" / "features.json").is_file()
    assert fmt.verify(release).ok
    stated = json.loads((release / fmt.SPOTTING_JSON).read_text())["features"]
    assert stated == doc["features"] and stated["recipe"]["name"] == "softnet"
    assert "non-centred 2k window" in stated["decoding"] and "whole release" in stated["k"]
    for fold in doc["folds"]:
        assert fold["k"] is not None
        for protocol in fold["protocols"].values():
            for run in protocol["seeds"].values():
                assert {k: v["k"] for k, v in run["kinds"].items()} == {"ME": 1, "MaE": 5}
                rows = pd.read_csv(release / run["predictions"])
                for r in rows.itertuples():
                    k = 1 if r.type == "me" else 5
                    assert r.offset == r.onset or r.offset - r.onset <= 2 * k  # [j, j + 2k] positions or dummy
    again = B.run_benchmark(release, source_root_of(tiny_release), settings=settings, progress=False, workers=1,
                          recipe=SMALL_SOFTNET)
    assert again == doc  # the export is reused: same features, same numbers

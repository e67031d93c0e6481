"""``samm-synth features`` on the tests' tiny release (built by the real builder): every recipe's files go into the
manifest with the recipe's block and pass ``verify``; one row per pair with the stated shape and pseudo-labels;
byte-identical for 1 and 2 workers; the originals' features go outside the release in the same layout; bad input
gets one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from samm_synth_dataset import format as fmt
from samm_synth_dataset.cli import main
from samm_synth_dataset.metrics.data import source_root_of
from samm_synth_dataset.spotting.export import FeaturesError, export_features, kinds_k
from samm_synth_dataset.spotting.pseudo_labels import pseudo_labels
from samm_synth_dataset.spotting.recipes import DEFAULT, MTSN, RECIPES, SOFTNET


#: TV-L1 costs about 0.1-0.4 s per 128 px pair on one core: the export tests run softnet and mtsn on 40 px flow
#: (the same steps, about 10× cheaper; each step at 128 px is checked in test_recipes).
SMALL_MTSN = MTSN.replace(flow_size=40)
SMALL_SOFTNET = SOFTNET.replace(flow_size=40, roi_margin=4, eye_push=5)
KINDS = {"default": ("ME", "MaE"), "softnet": ("MaE",), "mtsn": ("ME", "MaE")}
K = {"ME": 1, "MaE": 5}  # tiny intervals: ME durations 4, 0, 2; MaE 14, 7, 9


@pytest.fixture(scope="module")
def exported(build_release, tiny_release, tmp_path_factory) -> Path:
    release = tmp_path_factory.mktemp("features") / "release"
    import shutil

    shutil.copytree(tiny_release, release)
    for recipe in (DEFAULT, SMALL_SOFTNET, SMALL_MTSN):
        export_features(release, recipe, KINDS[recipe.name], workers=1, progress=False)
    return release


def test_every_recipe_is_listed_verified_and_described(exported: Path):
    manifest = fmt.read_manifest(exported)
    listed = {f["path"] for f in manifest["files"]}
    assert fmt.verify(exported).ok, fmt.verify(exported).problems
    videos = pd.read_parquet(exported / fmt.VIDEOS_PATH)
    for name, recipe in RECIPES.items():
        block = manifest[fmt.FEATURES_KEY][name]
        assert block["recipe"]["version"] == recipe.version and block["shape"] == list(recipe.shape)
        assert block["recipe"]["flow_size"] == (128 if name == "default" else 40)
        assert block["k"] == {kind: K[kind] for kind in KINDS[name]}
        files = sorted(p.relative_to(exported).as_posix() for p in (exported / fmt.FEATURES_DIR / name).iterdir())
        assert files and set(files) <= listed and block["files"] == len(files)
        table = pd.concat([pd.read_parquet(exported / f) for f in files])
        for row in videos.itertuples():
            mine = table[table["video"] == row.video]
            ks = sorted(K[kind] for kind in KINDS[name])
            assert sorted(set(mine["k"])) == ks
            for k in ks:
                assert (mine["k"] == k).sum() == row.n_frames - k  # one row per pair (i, i + k)
        assert {len(f) for f in table["feature"]} == {int(np.prod(recipe.shape))}
    softnet = manifest[fmt.FEATURES_KEY]["softnet"]
    assert "proportional" in softnet["landmarks"]["source"] and softnet["landmarks"]["substitution"]


def test_pseudo_labels_are_the_recipes(exported: Path):
    intervals = fmt.source_intervals(pd.read_parquet(exported / fmt.INTERVALS_PATH))
    files = sorted((exported / fmt.FEATURES_DIR / "softnet").glob("007_1-ref01-*.parquet"))
    table = pd.concat([pd.read_parquet(p) for p in files])
    mae = table[table["k"] == 5].sort_values("position")
    frames = np.concatenate([mae["frame"].to_numpy(), mae["end_frame"].to_numpy()[-5:]])
    gt = intervals[(intervals["source_video"] == "007_1") & (intervals["kind"] == "MaE")]
    want = pseudo_labels(frames, list(zip(gt["onset"], gt["offset"])), 5)
    assert want.any() and not want.all()
    np.testing.assert_array_equal(mae["pseudo_MaE"].to_numpy(), want)
    assert mae["pseudo_ME"].isna().all()  # only MaE was asked for
    assert pq.read_schema(files[0]).field("feature").type.value_type == "halffloat"
    both = pd.concat([pd.read_parquet(p) for p in sorted((exported / fmt.FEATURES_DIR / "default").glob(
        "006_1-ref01-*.parquet"))])
    assert both[both["k"] == 1]["pseudo_MaE"].isna().all() and both[both["k"] == 5]["pseudo_ME"].isna().all()


def test_two_workers_write_the_same_bytes_and_originals_go_outside(exported: Path, tiny_release: Path,
                                                                   tmp_path: Path):
    import shutil

    one, two = tmp_path / "one", tmp_path / "two"
    shutil.copytree(tiny_release, one)
    shutil.copytree(tiny_release, two)
    root = source_root_of(tiny_release)
    assert root is not None
    export_features(one, SMALL_SOFTNET, ("MaE",), workers=1, progress=False)
    export_features(two, SMALL_SOFTNET, ("MaE",), workers=2, progress=False, source_root=root,
                    originals_out=tmp_path / "originals")
    release = two
    for p in sorted((one / fmt.FEATURES_DIR / "softnet").iterdir()):
        assert (two / fmt.FEATURES_DIR / "softnet" / p.name).read_bytes() == p.read_bytes(), p.name
    outside = tmp_path / "originals" / fmt.FEATURES_DIR / "softnet"
    block = json.loads((outside / "features.json").read_text())
    assert block["origin"] == "original" and block["k"] == {"MaE": 5}
    names = sorted(p.name for p in outside.glob("*.parquet"))
    assert names and all(n.split("-")[0] in {"006_1", "006_2", "007_1", "008_1"} for n in names)
    assert pq.read_schema(outside / names[0]) == fmt.feature_schema("float16")
    assert not any(p.name in names for p in (release / fmt.FEATURES_DIR / "softnet").iterdir())


def test_bad_input_gets_one_line(tiny_release: Path, tmp_path: Path, capsys):
    assert main(["features", str(tiny_release), "--recipe", "softnett"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "samm-synth features: error: unknown recipe 'softnett': choose one of default, softnet, mtsn"
    assert main(["features", str(tiny_release), "--recipe", "mtsn", "--landmarks", "dlib68"]) == 1
    assert "places no region by landmarks" in capsys.readouterr().err
    only_mae = pd.DataFrame({"interval_id": ["a/1"], "source_video": ["a"], "onset": [1], "offset": [9],
                             "kind": ["MaE"], "flags": [[]]})
    with pytest.raises(FeaturesError, match="has no ME interval, so the ME k is undefined; pass --kinds MaE"):
        kinds_k(only_mae, SOFTNET, ["ME", "MaE"], "intervals.parquet")
    assert kinds_k(only_mae, SOFTNET, ["MaE"], "x") == {"MaE": 4}  # floor((8 + 1) / 2)


def test_verify_checks_the_features(exported: Path, tmp_path: Path):
    import shutil

    release = tmp_path / "release"
    shutil.copytree(exported, release)
    manifest = fmt.read_manifest(release)
    manifest[fmt.FEATURES_KEY]["mtsn"]["shape"] = [1, 28, 28, 3]
    del manifest[fmt.FEATURES_KEY]["softnet"]
    fmt.write_manifest(release, manifest)
    problems = fmt.verify(release).problems
    assert any("data/features/softnet: listed files without a features block" in p for p in problems)
    assert any("arrays of 4704 values, the block's shape [1, 28, 28, 3] has 2352" in p for p in problems)


def test_the_command_writes_a_recipe_and_says_what(tiny_release: Path, tmp_path: Path, capsys):
    import shutil

    release = tmp_path / "release"
    shutil.copytree(tiny_release, release)
    assert main(["features", str(release), "--recipe", "default", "--kinds", "MaE", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "pairs of default features (MaE k=5; 1 × 42 × 42 × 3 float32)" in out
    assert fmt.verify(release).ok
    assert "--landmarks" in _help(capsys) and "restriction" in _help(capsys)


def _help(capsys) -> str:
    with pytest.raises(SystemExit):
        main(["features", "--help"])
    return " ".join(capsys.readouterr().out.split())

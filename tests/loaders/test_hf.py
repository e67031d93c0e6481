"""Every config of a release loads through plain ``datasets.load_dataset``, streaming too, and through ``load``."""

from __future__ import annotations

import json
import re
import shutil

import datasets
import pyarrow.parquet as pq
import pytest

import samm_synth_dataset
from samm_synth_dataset import format as fmt


def declared_configs(release) -> list[str]:
    card = (release / fmt.CARD).read_text()
    yaml_head = card.split("---")[1]
    return re.findall(r"config_name:\s*([\w-]+)", yaml_head)


def test_every_config_loads_with_plain_datasets(release, tmp_path):
    configs = declared_configs(release)
    assert "frames" in configs and "intervals" in configs and "videos" in configs
    for config in configs:
        _, _, pattern = fmt.CONFIGS[config]
        rows = sum(pq.ParquetFile(p).metadata.num_rows for p in release.glob(pattern))
        ds = datasets.load_dataset(str(release), config, split="train", cache_dir=str(tmp_path / "cache"))
        assert ds.num_rows == rows, config
        stream = datasets.load_dataset(str(release), config, split="train", streaming=True)
        first = next(iter(stream))
        assert set(first) == set(ds.features), config
    frames = datasets.load_dataset(str(release), "frames", split="train", streaming=True)
    row = next(iter(frames))
    assert row["image"].size[0] > 0 and isinstance(row["frame"], int) and isinstance(row["interval_ids"], list)


def test_load_wrapper(release, tmp_path):
    ds = samm_synth_dataset.load(release, "intervals", cache_dir=str(tmp_path / "c"))
    assert ds.num_rows == pq.ParquetFile(release / fmt.INTERVALS_PATH).metadata.num_rows
    stream = samm_synth_dataset.load(release, "frames", streaming=True)
    assert isinstance(stream, datasets.IterableDataset)
    wds_rows = list(samm_synth_dataset.load(release, "wds", streaming=True))
    n_frames = sum(pq.ParquetFile(p).metadata.num_rows for p in (release / fmt.FRAMES_DIR).glob("*.parquet"))
    assert len(wds_rows) == n_frames
    assert {"__key__", "json"} <= set(wds_rows[0]) and {"png", "jpg"} & set(wds_rows[0])
    with pytest.raises(ValueError, match="unknown config"):
        samm_synth_dataset.load(release, "nope")
    with pytest.raises(ValueError, match="Hub repos only"):
        samm_synth_dataset.load(release, revision="v1.0.0")
    with pytest.raises(FileNotFoundError, match="no such release"):
        samm_synth_dataset.load(tmp_path / "missing")


def test_incomplete_release_is_refused(tiny_release, tmp_path):
    rel = tmp_path / "rel"
    shutil.copytree(tiny_release, rel)
    (rel / fmt.MANIFEST).write_text(json.dumps({"format_version": fmt.FORMAT_VERSION, "status": "building"}))
    with pytest.raises(fmt.ReleaseError, match="not 'complete'"):
        samm_synth_dataset.load(rel)


def test_a_truncated_or_unlisted_file_is_refused_naming_it(tiny_release, tmp_path):
    """Issue 14 item 2: ``load`` checks sizes and unlisted data files before `datasets` reads anything."""
    rel = tmp_path / "rel"
    shutil.copytree(tiny_release, rel)
    victim = sorted((rel / fmt.FRAMES_DIR).glob("*.parquet"))[0]
    victim.write_bytes(victim.read_bytes()[:-10])
    with pytest.raises(fmt.ReleaseError, match=rf"{victim.name}: \d+ bytes, manifest.json says \d+"):
        samm_synth_dataset.load(rel)
    shutil.copytree(tiny_release, tmp_path / "rel2")
    (tmp_path / "rel2" / fmt.FRAMES_DIR / "extra-00000.parquet").write_bytes(b"PAR1")
    with pytest.raises(fmt.ReleaseError, match=r"extra-00000\.parquet: not listed in manifest.json"):
        samm_synth_dataset.load(tmp_path / "rel2", "videos")


def test_a_mistyped_local_path_never_goes_to_the_hub(tmp_path, monkeypatch):
    """Issue 14 item 13: ``demo-output/relase`` beside ``demo-output/`` is a local path: refused at once."""
    from samm_synth_dataset.loaders.hf import is_hub_id

    def hub(*args, **kwargs):  # the Hub cannot be reached from the tests: any call is the bug
        raise AssertionError(f"sent to the Hub: {args}")

    monkeypatch.setattr(datasets, "load_dataset", hub)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo-output").mkdir()
    with pytest.raises(FileNotFoundError, match=r"^demo-output/relase: no such release folder \(read as a local "
                                                r"path: demo-output exists here\); check the path \(a Hub repo is "
                                                r"given as ORG/NAME\)$"):
        samm_synth_dataset.load("demo-output/relase")
    for text in ("./relase", str(tmp_path / "relase"), "../nowhere/rel"):
        assert not is_hub_id(text)
        with pytest.raises(FileNotFoundError, match="no such release folder"):
            samm_synth_dataset.load(text)
    assert is_hub_id("some-org/some-dataset")  # no local folder some-org/: a Hub id

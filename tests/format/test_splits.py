"""LOSO folds: one per source subject, no leak across references, MEGC k from the training intervals."""

from __future__ import annotations

import argparse
import json

import pandas as pd
import pytest

from samm_synth_dataset import format as fmt
from samm_synth_dataset.format.splits import Split, loso_splits, megc_k, read_splits, write_splits
from samm_synth_dataset.loaders.commands import add_commands


def assert_no_leak(folds: list[Split], videos: pd.DataFrame) -> None:
    subject_of = dict(zip(videos["video"], videos["subject"]))
    source_of = dict(zip(videos["video"], videos["source_video"]))
    for f in folds:
        assert not set(f.train) & set(f.test)
        assert all(subject_of[v] != f.test_subject for v in f.train), f.test_subject
        test_sources = {source_of[v] for v in f.test}
        assert not test_sources & {source_of[v] for v in f.train}
        # every synthetic video of the subject (all references) is in test
        assert set(f.test) == {v for v, s in subject_of.items() if s == f.test_subject}


def test_megc_k():
    assert megc_k([]) is None
    assert megc_k([2]) == 1                    # floor(3 / 2)
    assert megc_k([4, 0]) == 1                 # mean 2
    assert megc_k([14, 9]) == 6                # floor(12.5 / 2)
    assert megc_k([74] * 3) == 37              # SAMM-LV ME scale


def test_release_folds_never_leak(release):
    videos = pd.read_parquet(release / fmt.VIDEOS_PATH)
    folds = loso_splits(release)
    assert [f.test_subject for f in folds] == sorted(videos["subject"].astype(str).unique())
    assert videos.groupby("source_video")["reference_id"].nunique().max() >= 2   # several references
    assert_no_leak(folds, videos)
    for f in folds:
        assert sorted(f.train + f.test) == sorted(videos["video"])


def test_k_from_training_intervals(tiny_release):
    folds = {f.test_subject: f for f in loso_splits(tiny_release)}
    # worked by hand from TINY_INTERVALS in tests/conftest.py (offset - onset, each source interval once)
    assert folds["006"].k == {"ME": 1, "MaE": 4}     # ME [2]; MaE [7, 9]
    assert folds["007"].k == {"ME": 1, "MaE": 6}     # ME [4, 0]; MaE [14, 9]
    assert folds["008"].k == {"ME": 1, "MaE": 5}     # ME [4, 0, 2]; MaE [14, 7]
    assert folds["006"].n_test_intervals == {"ME": 2, "MaE": 1}


def test_dataframes_and_real_videos(tiny_release):
    videos = pd.read_parquet(tiny_release / fmt.VIDEOS_PATH)
    intervals = pd.read_parquet(tiny_release / fmt.INTERVALS_PATH)
    real = pd.DataFrame({"video": ["006_1", "006_2", "007_1", "008_1"], "subject": ["006", "006", "007", "008"]})
    folds = loso_splits(videos, intervals, real_videos=real)
    f6 = next(f for f in folds if f.test_subject == "006")
    assert {"006_1", "006_2"} <= set(f6.test) and not {"006_1", "006_2"} & set(f6.train)
    assert {"007_1", "008_1"} <= set(f6.train)
    assert f6.k == {"ME": 1, "MaE": 4}                # real copies are the same intervals: k unchanged
    only_real = loso_splits(videos, intervals, real_videos=real, test_on="real")
    f6r = next(f for f in only_real if f.test_subject == "006")
    assert f6r.test == ["006_1", "006_2"]
    assert not any(v.startswith("006_") for v in f6r.train)   # the subject's synthetic videos are left out


def test_bad_inputs(tiny_release):
    videos = pd.read_parquet(tiny_release / fmt.VIDEOS_PATH)
    with pytest.raises(ValueError, match="intervals"):
        loso_splits(videos)
    bad = videos.copy()
    bad.loc[0, "subject"] = "999"
    with pytest.raises(ValueError, match="several subjects"):
        loso_splits(bad, pd.read_parquet(tiny_release / fmt.INTERVALS_PATH))
    with pytest.raises(FileNotFoundError, match="not a built release"):
        loso_splits(tiny_release / "nowhere")


def test_write_read_and_cli(tiny_release, tmp_path, capsys):
    import shutil

    rel = tmp_path / "rel"
    shutil.copytree(tiny_release, rel)
    path = write_splits(rel)
    assert path == rel / fmt.SPLITS_PATH
    first = path.read_bytes()
    assert read_splits(rel) == loso_splits(rel)
    doc = json.loads(first)
    assert doc["folds"][0]["k"] == {"ME": 1, "MaE": 4}
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["splits", str(rel)])
    assert args.func(args) == 0
    assert path.read_bytes() == first                 # deterministic
    assert "3 folds" in capsys.readouterr().out


def test_loso_splits_of_a_release_missing_a_listed_file_is_refused(tiny_release, tmp_path):
    """Issue 14 item 2: folds are never computed from a release that lost a file its manifest lists."""
    import shutil

    rel = tmp_path / "rel"
    shutil.copytree(tiny_release, rel)
    (rel / fmt.VIDEOS_PATH).unlink()
    with pytest.raises(fmt.ReleaseError, match=r"videos\.parquet: listed in manifest.json but missing"):
        loso_splits(rel)


def _duplicate_filename_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """SAMM-LV's duplicated Filename 037_4_1 (one Micro row, one Macro row; the reader names the second interval
    037_4_1-2), copied into two synthetic videos; and one interval of another subject."""
    videos = pd.DataFrame({"video": ["037_4-ref01", "037_4-ref02", "006_1-ref01"],
                           "source_video": ["037_4", "037_4", "006_1"], "subject": ["037", "037", "006"]})
    rows = []
    for video in ("037_4-ref01", "037_4-ref02"):
        rows.append({"interval_id": f"{video}/037_4_1", "source_id": "037_4_1", "video": video,
                     "source_video": "037_4", "onset": 1488, "offset": 1577, "kind": "ME"})
        rows.append({"interval_id": f"{video}/037_4_1-2", "source_id": "037_4_1", "video": video,
                     "source_video": "037_4", "onset": 1487, "offset": 1605, "kind": "MaE"})
    rows.append({"interval_id": "006_1-ref01/006_1_1", "source_id": "006_1_1", "video": "006_1-ref01",
                 "source_video": "006_1", "onset": 10, "offset": 30, "kind": "MaE"})
    return videos, pd.DataFrame(rows)


def test_a_duplicated_sheet_id_is_two_intervals_and_copies_are_one():
    videos, intervals = _duplicate_filename_tables()
    keys = fmt.source_interval_keys(intervals)
    assert keys == ["037_4/037_4_1", "037_4/037_4_1-2"] * 2 + ["006_1/006_1_1"]
    assert fmt.source_intervals(intervals).index.tolist() == [0, 1, 4]
    # without interval_id (a user's CSV): source video, onset, offset and kind
    plain = intervals.drop(columns=["interval_id", "source_id"])
    assert fmt.source_intervals(plain).index.tolist() == [0, 1, 4]
    folds = {f.test_subject: f for f in loso_splits(videos, intervals)}
    assert folds["037"].n_test_intervals == {"ME": 1, "MaE": 1}
    assert folds["006"].k == {"ME": megc_k([1577 - 1488]), "MaE": megc_k([1605 - 1487])}

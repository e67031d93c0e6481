"""Versions with data meaning: parsing, bump levels, and the comparison of two real (tiny) releases."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from samm_synth_dataset import format as fmt
from samm_synth_dataset.format.splits import write_splits
from samm_synth_dataset.release.versioning import (Change, ChangeReport, Version, VersionError, bump_level,
                                                   check_version, compare_releases, suggest_version)


def test_version_parse_and_order():
    assert Version.parse("1.2.3") == Version(1, 2, 3)
    assert Version.parse("v0.10.0").tag == "v0.10.0"
    assert Version(1, 10, 0) > Version(1, 9, 9)
    for bad in ("1.2", "1.2.3.4", "01.2.3", "1.2.x", ""):
        with pytest.raises(VersionError, match="MAJOR.MINOR.PATCH"):
            Version.parse(bad)


def test_bump_levels_and_refusals():
    v = Version(1, 2, 3)
    assert bump_level(v, Version(1, 2, 4)) == Change.PATCH
    assert bump_level(v, Version(1, 3, 0)) == Change.MINOR
    assert bump_level(v, Version(2, 0, 0)) == Change.MAJOR
    with pytest.raises(VersionError, match="not greater"):
        bump_level(v, Version(1, 2, 3))
    report = ChangeReport()
    report.add(Change.MAJOR, "intervals: 1 records changed")
    with pytest.raises(VersionError, match=r"(?s)PATCH bump.*MAJOR level.*use version 2\.0\.0"):
        check_version(v, Version(1, 2, 4), report)
    assert check_version(v, Version(2, 0, 0), report) == Change.MAJOR
    assert check_version(v, Version(3, 0, 0), ChangeReport()) == Change.MAJOR  # overstating is allowed
    assert suggest_version(v, Change.MINOR) == Version(1, 3, 0)


@pytest.fixture
def pair(tmp_path: Path, build_mini) -> tuple[Path, Path]:
    a = build_mini(tmp_path / "a")
    write_splits(a)
    fmt.add_files(a, [fmt.SPLITS_PATH])
    b = tmp_path / "b"
    shutil.copytree(a, b)
    return a, b


def test_identical_releases_are_no_change(pair):
    a, b = pair
    assert compare_releases(a, b).level == Change.NONE


def test_rewritten_files_with_the_same_records_are_a_patch(pair):
    a, b = pair
    path = b / fmt.INTERVALS_PATH
    table = pq.read_table(path)
    pq.write_table(table, path, compression="gzip")  # other bytes, same records
    fmt.add_files(b, [fmt.INTERVALS_PATH])
    report = compare_releases(a, b)
    assert report.level == Change.PATCH, report.lines()


def test_a_changed_interval_is_major(pair):
    a, b = pair
    path = b / fmt.INTERVALS_PATH
    rows = pq.read_table(path).to_pylist()
    rows[0]["onset"] += 1
    pq.write_table(pa.Table.from_pylist(rows, schema=fmt.schema_for("intervals")), path)
    fmt.add_files(b, [fmt.INTERVALS_PATH])
    report = compare_releases(a, b)
    assert report.level == Change.MAJOR
    assert any("intervals: 1 records changed" in line for line in report.lines())


def test_a_removed_video_is_major_and_an_added_one_minor(tmp_path: Path, build_mini):
    base = build_mini(tmp_path / "base", videos={"006_1": (101, 6)})
    write_splits(base)
    fmt.add_files(base, [fmt.SPLITS_PATH])
    more = build_mini(tmp_path / "more", videos={"006_1": (101, 6), "007_2": (1, 5)})
    write_splits(more)
    fmt.add_files(more, [fmt.SPLITS_PATH])
    added = compare_releases(base, more)
    assert added.level == Change.MINOR, added.lines()
    assert any("added videos: 007_2-ref03" in line for line in added.lines())
    removed = compare_releases(more, base)
    assert removed.level == Change.MAJOR
    assert any("removed videos" in line for line in removed.lines())


def test_changed_splits_are_major(pair):
    a, b = pair
    path = b / fmt.SPLITS_PATH
    doc = json.loads(path.read_text())
    f0, f1 = doc["folds"][0], doc["folds"][1]
    f1["test"].append(f0["test"].pop())  # one video moved to another subject's fold
    path.write_text(json.dumps(doc))
    fmt.add_files(b, [fmt.SPLITS_PATH])
    report = compare_releases(a, b)
    assert report.level == Change.MAJOR and any("splits changed" in line for line in report.lines())

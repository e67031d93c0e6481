import hashlib
import json
import tarfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from samm_synth_dataset import format as fmt
from samm_synth_dataset.builders.writer import VideoPartsWriter, frame_json
from samm_synth_dataset.format import atomic_write_json, sha256_file


def _row(i: int) -> dict:
    return {"video": "006_1-ref01", "source_video": "006_1", "subject": "006", "frame": i + 1, "index": i,
            "me": i % 7 == 0, "mae": False, "interval_ids": ["006_1-ref01/006_1_1"] if i % 7 == 0 else [],
            "reference_id": "ref01"}


def _write(release: Path, sizes: list[int], max_bytes=None, max_frames=None, formats=("parquet", "webdataset")):
    seen = []
    w = VideoPartsWriter(release, "006_1-ref01", formats, "jpg", max_bytes, max_frames, on_part=seen.append)
    for i, n in enumerate(sizes):
        w.add(_row(i), bytes([i % 251]) * n)
    parts = w.close()
    assert seen == parts
    return parts


def test_parts_cut_by_bytes_and_frames_and_markers_match_files(tmp_path: Path) -> None:
    parts = _write(tmp_path, [100] * 25, max_bytes=1000)
    assert [p.rows for p in parts] == [10, 10, 5] and [p.start for p in parts] == [0, 10, 20]
    parts = _write(tmp_path / "b", [100] * 250, max_frames=120)
    assert [p.rows for p in parts] == [120, 120, 10]
    big = _write(tmp_path / "c", [5000, 10, 10], max_bytes=1000)  # an oversized frame gets its own part
    assert [p.rows for p in big] == [1, 2]
    for part in parts:
        assert type(part).from_dict(json.loads(json.dumps(part.as_dict()))) == part
        for f in part.files:
            p = tmp_path / "b" / f.path
            assert f.bytes == p.stat().st_size and f.sha256 == sha256_file(p) and f.rows == part.rows
    t = pq.ParquetFile(tmp_path / "b" / fmt.FRAMES_DIR / "006_1-ref01-00000.parquet")
    assert [t.metadata.row_group(i).num_rows for i in range(t.metadata.num_row_groups)] == [100, 20]
    assert t.schema_arrow.metadata[b"huggingface"] == fmt.schema_for("frames").metadata[b"huggingface"]
    assert t.read().column("index").to_pylist() == list(range(120))
    assert not list(tmp_path.rglob("*.tmp"))


def test_tar_members_are_consecutive_and_reproducible(tmp_path: Path) -> None:
    _write(tmp_path / "a", [50] * 12, max_frames=5, formats=("webdataset",))
    _write(tmp_path / "b", [50] * 12, max_frames=5, formats=("webdataset",))
    for name in ("006_1-ref01-00000.tar", "006_1-ref01-00002.tar"):
        a = (tmp_path / "a" / fmt.WDS_DIR / name).read_bytes()
        assert a == (tmp_path / "b" / fmt.WDS_DIR / name).read_bytes()
    with tarfile.open(tmp_path / "a" / fmt.WDS_DIR / "006_1-ref01-00001.tar") as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == [f"006_1-ref01/{i:06d}.{e}" for i in range(5, 10)
                                             for e in ("jpg", "json")]
        assert {(m.mtime, m.uid, m.gid, m.uname, m.mode) for m in members} == {(946684800, 0, 0, "", 0o644)}
        meta = json.loads(tar.extractfile(members[1]).read())
        assert meta == json.loads(frame_json(_row(5)))
    assert not (tmp_path / "a" / fmt.FRAMES_DIR).exists()


def test_parquet_parts_are_reproducible(tmp_path: Path) -> None:
    _write(tmp_path / "a", [300] * 130, max_frames=200, formats=("parquet",))
    _write(tmp_path / "b", [300] * 130, max_frames=200, formats=("parquet",))
    name = f"{fmt.FRAMES_DIR}/006_1-ref01-00000.parquet"
    assert hashlib.sha256((tmp_path / "a" / name).read_bytes()).digest() == \
        hashlib.sha256((tmp_path / "b" / name).read_bytes()).digest()


def test_abort_leaves_no_temp_files_and_no_final_name(tmp_path: Path) -> None:
    w = VideoPartsWriter(tmp_path, "v-r", ("parquet", "webdataset"), "png", None, 3)
    for i in range(4):
        w.add({**_row(i), "video": "v-r"}, b"abc")
    assert list(tmp_path.rglob("*.tmp"))  # the second part is open under temp names
    w.abort()
    assert not list(tmp_path.rglob("*.tmp"))
    assert sorted(p.name for p in tmp_path.glob("data/*/*")) == ["v-r-00000.parquet", "v-r-00000.tar"]


def test_atomic_json_is_canonical(tmp_path: Path) -> None:
    atomic_write_json(tmp_path / "x" / "a.json", {"b": 1, "a": [1, 2]})
    assert (tmp_path / "x" / "a.json").read_text() == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}\n'
    with pytest.raises(ValueError):
        fmt.part_name("bad.id", 0, "tar")

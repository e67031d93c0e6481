"""load_webdataset: safe decoding, seeded shard shuffle, worker split."""

from __future__ import annotations

import io
import json
import shutil
import tarfile

import numpy as np
import pyarrow.parquet as pq
import pytest
from torch.utils.data import DataLoader

from samm_synth_dataset import format as fmt
from samm_synth_dataset.loaders import load_webdataset
from samm_synth_dataset.loaders.wds import decode_image


def test_samples_match_frames_table(release):
    if not (release / fmt.WDS_DIR).is_dir():
        pytest.skip("release has no tars")
    rows = {(r["video"], r["index"]): r for r in pq.read_table(release / fmt.FRAMES_DIR).to_pylist()}
    samples = list(load_webdataset(release))
    assert len(samples) == len(rows)
    for s in samples:
        meta = s["json"]
        image = s.get("jpg", s.get("png"))
        row = rows[(meta["video"], meta["index"])]
        assert s["__key__"] == fmt.wds_key(meta["video"], meta["index"])
        assert image.dtype == np.uint8
        assert np.array_equal(image, decode_image(row["image"]["bytes"]))
        assert meta["frame"] == row["frame"] and meta["me"] == row["me"]


def test_seeded_shard_shuffle_is_deterministic(tiny_release):
    keys = lambda ds: [s["__key__"] for s in ds]  # noqa: E731
    plain = keys(load_webdataset(tiny_release, decode=False))
    a = keys(load_webdataset(tiny_release, shuffle_seed=3, decode=False))
    b = keys(load_webdataset(tiny_release, shuffle_seed=3, decode=False))
    assert a == b and a != plain and sorted(a) == sorted(plain)


def test_workers_split_shards(tiny_release):
    loader = DataLoader(load_webdataset(tiny_release, shuffle_seed=0, decode=False), batch_size=None,
                        num_workers=2)
    keys = [s["__key__"] for s in loader]
    assert len(keys) == len(set(keys)) == len(list(load_webdataset(tiny_release, decode=False)))


def test_pickle_members_are_refused(tiny_release, tmp_path):
    rel = tmp_path / "rel"
    shutil.copytree(tiny_release, rel)
    for p in (rel / fmt.WDS_DIR).glob("*.tar"):
        p.unlink()
    with tarfile.open(rel / fmt.WDS_DIR / "x_1-r-00000.tar", "w") as tf:
        data = b"\x80\x04K\x01."          # a pickle; never unpickled
        info = tarfile.TarInfo("x_1-r/000000.pyd")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    manifest = json.loads((rel / fmt.MANIFEST).read_text())  # a listed shard: the decoder is what refuses it
    manifest["files"] = [fmt.file_record(rel, p.relative_to(rel).as_posix(), None).as_dict()
                         for p in sorted(rel.rglob("*")) if p.is_file() and p.name != fmt.MANIFEST]
    (rel / fmt.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="no safe decoder"):
        list(load_webdataset(rel))


def test_set_epoch_reshuffles_reproducibly_through_a_worker(tiny_release):
    """Shard order is a function of (seed, epoch) alone: it changes with ``set_epoch``, is the same in a
    DataLoader worker (a fresh copy of the pipeline each epoch) as in the main process, and never advances by
    itself."""
    def keys(ds, num_workers: int) -> list[str]:
        return [s["__key__"] for s in DataLoader(ds, batch_size=None, num_workers=num_workers)]

    ds = load_webdataset(tiny_release, shuffle_seed=5, decode=False)
    by_epoch = []
    for epoch in range(3):
        ds.set_epoch(epoch)
        by_epoch.append(keys(ds, 1))
    assert len(set(map(tuple, by_epoch))) == 3                       # every epoch differs ...
    assert all(sorted(k) == sorted(by_epoch[0]) for k in by_epoch)   # ... over the same samples
    assert keys(ds, 1) == by_epoch[2]                                # no set_epoch: the epoch stays
    fresh = load_webdataset(tiny_release, shuffle_seed=5, decode=False, epoch=1)
    assert keys(fresh, 0) == keys(fresh, 0) == by_epoch[1]           # (seed, epoch) reproduces, in-process too
    derived = load_webdataset(tiny_release, shuffle_seed=5).batched(4)
    derived.set_epoch(2)                                             # works on derived pipelines as well
    assert [k for b in derived for k in b["__key__"]] == by_epoch[2]
    assert keys(load_webdataset(tiny_release, shuffle_seed=6, decode=False, epoch=1), 1) != by_epoch[1]


def test_a_deleted_or_unlisted_shard_is_refused_naming_it(tiny_release, tmp_path):
    """Issue 14 item 2: the manifest, not the folder, says which shards make the release."""
    rel = tmp_path / "rel"
    shutil.copytree(tiny_release, rel)
    victim = sorted((rel / fmt.WDS_DIR).glob("*.tar"))[2]
    victim.unlink()
    with pytest.raises(fmt.ReleaseError, match=rf"{victim.name}: listed in manifest.json but missing"):
        load_webdataset(rel)
    shutil.copytree(tiny_release, tmp_path / "rel2")
    stray = tmp_path / "rel2" / fmt.WDS_DIR / "extra-00000.tar"
    shutil.copy(sorted((tmp_path / "rel2" / fmt.WDS_DIR).glob("*.tar"))[0], stray)
    with pytest.raises(fmt.ReleaseError, match=r"extra-00000\.tar: not listed in manifest.json"):
        load_webdataset(tmp_path / "rel2")


def test_a_damaged_member_header_is_an_error_not_fewer_samples(tiny_release, tmp_path):
    """Issue 24 item 6: one flipped byte in a member's tar header (same size, so the cheap check passes) used to end
    Python's tar reader early and drop the rest of the shard without an error. The loader counts every shard's
    samples against the manifest and raises naming the shard."""
    import shutil
    import tarfile

    from samm_synth_dataset import format as fmt
    from samm_synth_dataset.loaders import load_webdataset

    release = tmp_path / "release"
    shutil.copytree(tiny_release, release)
    shard = sorted((release / fmt.WDS_DIR).glob("*.tar"))[0]
    with tarfile.open(shard) as tar:
        members = tar.getmembers()
    assert len(members) >= 4
    header = members[len(members) // 2].offset            # a member header in the middle of the shard
    data = bytearray(shard.read_bytes())
    data[header + 148] ^= 0x01                             # its checksum field: the header no longer verifies
    shard.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=rf"{shard.name}: \d+ samples read, the manifest lists \d+; the shard is "
                                         "damaged"):
        list(load_webdataset(release, decode=False))

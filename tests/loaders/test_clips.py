"""ClipDataset: contents match the frames table, windows stay inside videos, workers/ranks are disjoint."""

from __future__ import annotations

import os
import subprocess
import sys
import json
import textwrap
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from torch.utils.data import DataLoader

from samm_synth_dataset import format as fmt
from samm_synth_dataset.loaders import ClipDataset, collate_clips
from samm_synth_dataset.loaders.wds import decode_image

REPO = Path(__file__).resolve().parents[2]


def frames_table(release: Path) -> dict[tuple[str, int], dict]:
    """(video, index) -> row of the frames table, image decoded; read independently of the loader."""
    table = pq.read_table(release / fmt.FRAMES_DIR).to_pylist()
    return {(r["video"], r["index"]): {**r, "image": decode_image(r["image"]["bytes"])} for r in table}


def expected_windows(table: dict, span: int, stride: int) -> set[tuple[str, int]]:
    lengths = Counter(v for v, _ in table)
    return {(v, s) for v, n in lengths.items() for s in range(0, n - span + 1, stride)}


def check_sample(s: dict, table: dict, offsets: list[int]) -> None:
    start = int(s["index"][0])
    assert s["index"].tolist() == [start + o for o in offsets]
    assert s["frames"].dtype == torch.uint8 and s["frames"].ndim == 4
    for t, idx in enumerate(s["index"].tolist()):
        row = table[(s["video"], idx)]                     # KeyError = crossed the video's end
        img = row["image"] if row["image"].ndim == 3 else row["image"][..., None]
        assert np.array_equal(s["frames"][t].permute(1, 2, 0).numpy(), img)
        assert bool(s["me"][t]) == row["me"] and bool(s["mae"][t]) == row["mae"]
        assert int(s["frame"][t]) == row["frame"]
        assert s["interval_ids"][t] == ";".join(row["interval_ids"] or [])
        assert s["subject"] == row["subject"]


@pytest.mark.parametrize("backend", ["parquet", "webdataset"])
def test_clips_match_frames_table(release, backend):
    if backend == "webdataset" and not (release / fmt.WDS_DIR).is_dir():
        pytest.skip("release has no tars")
    table = frames_table(release)
    ds = ClipDataset(release, backend=backend, clip_len=5, stride=3, shuffle=False)
    samples = list(ds)
    got = [(s["video"], int(s["index"][0])) for s in samples]
    assert len(got) == len(set(got))
    assert set(got) == expected_windows(table, 5, 3)          # complete, never across a video boundary
    assert len(ds) == len(got)
    for s in samples:
        check_sample(s, table, [0, 1, 2, 3, 4])


@pytest.mark.parametrize("backend", ["parquet", "webdataset"])
def test_pairs_match_frames_table(tiny_release, backend):
    table = frames_table(tiny_release)
    ds = ClipDataset(tiny_release, backend=backend, pair_k=6, stride=1, seed=3)
    samples = list(ds)
    assert {(s["video"], int(s["index"][0])) for s in samples} == expected_windows(table, 7, 1)
    for s in samples:
        assert s["frames"].shape[0] == 2
        check_sample(s, table, [0, 6])


def test_video_subset_and_part_boundaries(tiny_release):
    ds = ClipDataset(tiny_release, clip_len=9, stride=1, videos=["006_1-ref02"], shuffle=False)
    samples = list(ds)
    assert [int(s["index"][0]) for s in samples] == list(range(0, 23 - 9 + 1))   # parts of 7 frames crossed
    assert {s["video"] for s in samples} == {"006_1-ref02"}
    with pytest.raises(ValueError, match="not in the parquet data"):
        ClipDataset(tiny_release, videos=["nope-ref01"])


def test_deterministic_per_seed_and_epoch(tiny_release):
    ds = ClipDataset(tiny_release, clip_len=3, stride=2, seed=5, chunk_frames=8)
    key = lambda it: [(s["video"], int(s["index"][0])) for s in it]  # noqa: E731
    a, b = key(ds), key(ds)
    assert a == b
    ds.set_epoch(1)
    c = key(ds)
    assert c != a and sorted(c) == sorted(a)
    assert key(ClipDataset(tiny_release, clip_len=3, stride=2, seed=5, chunk_frames=8, epoch=1)) == c


def test_ranks_equal_and_disjoint(tiny_release):
    world = 3
    per_rank = [ClipDataset(tiny_release, clip_len=4, stride=1, seed=1, rank=r, world_size=world, chunk_frames=10)
                for r in range(world)]
    got = [[(s["video"], int(s["index"][0])) for s in ds] for ds in per_rank]
    total = len(expected_windows(frames_table(tiny_release), 4, 1))
    assert len({len(g) for g in got}) == 1 and len(got[0]) == total // world == len(per_rank[0])
    flat = [w for g in got for w in g]
    assert len(flat) == len(set(flat)) and total - len(flat) < world


def test_dataloader_workers_disjoint_and_complete(tiny_release):
    ds = ClipDataset(tiny_release, clip_len=4, stride=2, seed=2, chunk_frames=9)
    loader = DataLoader(ds, batch_size=4, num_workers=2)  # torch's default collate
    seen = []
    for batch in loader:
        assert batch["frames"].shape[1:3] == (4, 3)
        seen += [(v, int(i[0])) for v, i in zip(batch["video"], batch["index"])]
    assert len(seen) == len(set(seen))
    assert set(seen) == expected_windows(frames_table(tiny_release), 4, 2)


DDP_SCRIPT = textwrap.dedent('''
    import json, os, sys
    import torch.distributed as dist
    from torch.utils.data import DataLoader
    from samm_synth_dataset.loaders import ClipDataset, collate_clips


    def main() -> None:
        release, out, backend, context = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[5]
        num_workers = int(sys.argv[4])
        make = lambda: ClipDataset(release, backend=backend, clip_len=3, stride=1, seed=7, epoch=2, chunk_frames=8)
        # with spawn, build the dataset before the process group exists: its placement must still be the rank's
        ds = make() if context == "spawn" else None
        dist.init_process_group("gloo")
        if ds is None:
            ds = make()
        rank = dist.get_rank()
        loader = DataLoader(ds, batch_size=4, num_workers=num_workers, collate_fn=collate_clips,
                            multiprocessing_context=None if context == "default" else context)
        windows, batches = [], 0
        for b in loader:
            batches += 1
            windows += [[v, int(i[0])] for v, i in zip(b["video"], b["index"])]
        with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
            json.dump({"batches": batches, "windows": windows, "world": dist.get_world_size(),
                       "predicted": ds.num_batches(4, num_workers)}, f)
        dist.destroy_process_group()


    if __name__ == "__main__":  # spawned DataLoader workers re-import this file as __mp_main__
        main()
''')


@pytest.mark.parametrize("backend, num_workers, context", [("parquet", 2, "default"), ("parquet", 1, "spawn")],
                         ids=["workers2-fork", "workers1-spawn"])
def test_ddp_two_processes(tiny_release, tmp_path, backend, num_workers, context):
    """Two gloo ranks: disjoint windows, equal (predicted) batch counts, also when workers are spawned (no process
    group in the worker: the rank must come from the main process)."""
    script = tmp_path / "ddp.py"
    script.write_text(DDP_SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(script), str(tiny_release), str(tmp_path), backend, str(num_workers), context]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert ranks[0]["world"] == 2
    assert ranks[0]["batches"] == ranks[1]["batches"] == ranks[0]["predicted"] > 0
    a = {tuple(w) for w in ranks[0]["windows"]}
    b = {tuple(w) for w in ranks[1]["windows"]}
    assert len(a) == len(ranks[0]["windows"]) and len(b) == len(ranks[1]["windows"])
    assert not a & b
    total = len(expected_windows(frames_table(tiny_release), 3, 1))
    assert len(a) == len(b) == total // 2


def test_overlapping_windows_decode_each_frame_once(tiny_release):
    requested: list[tuple[str, int]] = []

    class Counting(ClipDataset):
        def _image_bytes(self, v, positions):
            requested.extend((v.video, int(p)) for p in positions)
            return super()._image_bytes(v, positions)

    ds = Counting(tiny_release, clip_len=8, stride=2, chunk_frames=64, shuffle_buffer_chunks=1)
    samples = list(ds)
    covered = {(s["video"], int(i)) for s in samples for i in s["index"]}
    assert len(samples) * 8 > 2 * len(covered)          # windows overlap ...
    assert sorted(requested) == sorted(covered)         # ... yet each frame is read (and decoded) once


def test_a_deleted_part_is_refused_naming_it(tiny_release, tmp_path):
    """Issue 14 item 2: a release missing a listed part never yields fewer windows silently."""
    import shutil

    rel = tmp_path / "rel"
    shutil.copytree(tiny_release, rel)
    victim = sorted((rel / fmt.FRAMES_DIR).glob("*.parquet"))[1]
    victim.unlink()
    with pytest.raises(fmt.ReleaseError, match=rf"{victim.name}: listed in manifest.json but missing"):
        ClipDataset(rel, clip_len=2)

"""AU tracks travel with the frames: ClipDataset (both backends, clips and pairs, DataLoader workers),
load_webdataset and load(..., aus=True) give each frame the AUs of the precomputed OpenFace CSV row of that frame.

The tracks are made by ``samm-synth aus`` from precomputed CSVs: generated ones (OpenFace 2.2 spacing, a failed
frame written as OpenFace does, success 0 and AUs 0, and a frame OpenFace skipped) and, when ``../shared/data`` is
there, slices of the real OpenFace 2.0 / 2.2 CSVs. The expected values are read from the CSV text with plain pandas.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from torch.utils.data import DataLoader

import samm_synth_dataset
from samm_synth_dataset import format as fmt
from samm_synth_dataset.loaders import ClipDataset, collate_clips, load_webdataset
from samm_synth_dataset.loaders.au_tracks import FLAT_COLUMNS

R, C = list(fmt.AU_INTENSITY_COLUMNS), list(fmt.AU_PRESENCE_COLUMNS)
FAILED = 3          # image number (1-based) OpenFace fails on in every generated CSV
SKIPPED = 5         # image number missing from the generated synthetic CSVs


def generated_csv(path: Path, n: int, seed: int, skip: int | None) -> None:
    """An OpenFace 2.2 post-processed CSV of n images: random AUs, image FAILED failed (AUs written as 0)."""
    rng = np.random.default_rng(seed)
    lines = [", ".join(["frame", "face_id", "timestamp", "confidence", "success"] + R + C)]
    for i in range(1, n + 1):
        if i == skip:
            continue
        ok = i != FAILED
        r = np.round(rng.uniform(0, 5, len(R)), 2) if ok else np.zeros(len(R))
        c = rng.integers(0, 2, len(C)) if ok else np.zeros(len(C), int)
        head = ",  ".join([str(i), "0", f"{(i - 1) / 200:.3f}", "0.98" if ok else "0.03", "1" if ok else "0"])
        lines.append(head + "".join(f", {v:.2f}" for v in r) + "".join(f", {v:.1f}" for v in c))
    path.write_text("\n".join(lines) + "\n")


def real_csv(src: Path, path: Path, n: int, first: int) -> None:
    """Lines ``first .. first+n-1`` of a real OpenFace CSV renumbered 1..n, image FAILED made a failure the way
    OpenFace writes one (success 0, AUs 0), other columns and spacing as in the file."""
    lines = src.read_text().splitlines()
    header = [h.strip() for h in lines[0].split(",")]
    out = [lines[0]]
    for i, line in enumerate(lines[first: first + n], start=1):
        fields = line.split(",")
        pad = fields[0][: len(fields[0]) - len(fields[0].lstrip())]
        fields[0] = pad + str(i)
        if i == FAILED:
            for j, h in enumerate(header):
                if h == "success" or h in R or h in C:
                    sp = fields[j][: len(fields[j]) - len(fields[j].lstrip())]
                    fields[j] = sp + ("0" if h == "success" else "0.00")
        out.append(",".join(fields))
    path.write_text("\n".join(out) + "\n")


def expected_rows(csv: Path, frames: list[int]) -> dict[int, dict[str, Any]]:
    """SOURCE frame -> {success, confidence, au_r, au_c} from the CSV text (NaN AUs where success is 0 or the
    image has no row)."""
    df = pd.read_csv(csv, skipinitialspace=True)
    df.columns = [c.strip() for c in df.columns]
    by_image = {int(r["frame"]): r for _, r in df.iterrows()}
    out = {}
    for i, frame in enumerate(frames, start=1):
        r = by_image.get(i)
        ok = r is not None and int(r["success"]) == 1
        nan_r, nan_c = np.full(len(R), np.nan, np.float32), np.full(len(C), np.nan, np.float32)
        out[frame] = {
            "success": ok,
            "confidence": np.float32(r["confidence"]) if r is not None else np.float32(np.nan),
            "au_r": r[R].to_numpy(np.float32) if ok else nan_r,
            "au_c": r[C].to_numpy(np.float32) if ok else nan_c,
        }
    return out


def _make(tiny_release: Path, root: Path, shared: Path | None) -> tuple[Path, dict[tuple[str, int], dict]]:
    from samm_synth_dataset.metrics.au_export import export_aus

    rel = root / "release"
    shutil.copytree(tiny_release, rel)
    ocsv, scsv = root / "ocsv", root / "scsv"
    ocsv.mkdir()
    scsv.mkdir()
    videos = pd.read_parquet(rel / fmt.VIDEOS_PATH)
    frames_of = {v: sorted(t["frame"].tolist()) for v, t in
                 pq.read_table(rel / fmt.FRAMES_DIR, columns=["video", "frame"]).to_pandas().groupby("video")}
    expected: dict[tuple[str, int], dict] = {}
    for k, (video, n) in enumerate(zip(videos["video"], videos["n_frames"])):
        o, s = ocsv / f"{video}.csv", scsv / f"{video}.csv"
        if shared is not None:      # real OpenFace 2.2 rows as originals, real 2.0 rows as synthetics
            real_csv(shared / "open_dbm_subj01_2.2.csv", o, n, first=1 + 5 * k)
            real_csv(shared / "facsvatar_demo_2.0.csv", s, n, first=1 + 20 * k)
        else:
            generated_csv(o, n, seed=2 * k, skip=None)
            generated_csv(s, n, seed=2 * k + 1, skip=SKIPPED)
        frames = frames_of[video]
        eo, es = expected_rows(o, frames), expected_rows(s, frames)
        for f in frames:
            expected[(video, f)] = {"original": eo[f], "synthetic": es[f]}
    export_aus(rel, original_csv_dir=ocsv, synthetic_csv_dir=scsv, progress=False)
    card = (rel / fmt.CARD).read_text()          # declare the aus config, as `samm-synth release` does
    head, sep, rest = card.partition("\n---\n")
    (rel / fmt.CARD).write_text(head + f'\n- config_name: aus\n  data_files:\n  - split: train\n    path: '
                                f'"{fmt.AUS_DIR}/*.parquet"' + sep + rest)
    fmt.add_files(rel, [fmt.CARD])
    return rel, expected


@pytest.fixture(scope="module", params=["generated", "real"])
def aus_release(request: pytest.FixtureRequest, tiny_release: Path, tmp_path_factory: pytest.TempPathFactory):
    shared = request.getfixturevalue("shared_data") / "openface" if request.param == "real" else None
    return _make(tiny_release, tmp_path_factory.mktemp(f"aus-{request.param}"), shared)


def check_frame(got: dict[str, Any], want: dict[str, dict], where: str) -> None:
    """One frame's fields (numpy or tensors, per track) against the CSV rows."""
    for track in fmt.AU_TRACKS:
        w = want[track]
        success = bool(np.asarray(got[fmt.au_key(track, "success")]))
        assert success == w["success"], where
        conf = np.asarray(got[fmt.au_key(track, "confidence")], dtype=np.float32)
        np.testing.assert_array_equal(conf, w["confidence"], err_msg=where)
        for what in ("au_r", "au_c"):
            a = np.asarray(got[fmt.au_key(track, what)])
            assert a.dtype == np.float32 and a.shape == w[what].shape, where
            np.testing.assert_array_equal(a, w[what], err_msg=f"{where} {track} {what}")
            if not success:
                assert np.isnan(a).all(), where           # never a silent zero


def check_clips(samples: list[dict[str, Any]], expected: dict[tuple[str, int], dict]) -> int:
    n = 0
    for s in samples:
        for t, frame in enumerate(s["frame"].tolist()):
            check_frame({k: v[t] for k, v in s.items() if k.startswith(fmt.AU_TRACKS)}, expected[(s["video"], frame)],
                        f"{s['video']} frame {frame}")
            n += 1
    return n


@pytest.mark.parametrize("backend", ["parquet", "webdataset"])
def test_clip_dataset_aus(aus_release, backend: str) -> None:
    release, expected = aus_release
    ds = ClipDataset(release, backend=backend, clip_len=4, stride=3, shuffle=False, aus=True)
    samples = list(ds)
    assert samples and check_clips(samples, expected) == 4 * len(samples)
    s = samples[0]
    assert s["original_au_r"].shape == (4, len(R)) and s["synthetic_au_c"].shape == (4, len(C))
    assert str(s["original_success"].dtype) == "torch.bool"
    failed = [(v, f) for (v, f), w in expected.items() if not w["original"]["success"]]
    seen = {(s["video"], f) for s in samples for f in s["frame"].tolist()}
    assert failed and set(failed) & seen                 # the failed frames were checked


@pytest.mark.parametrize("backend", ["parquet", "webdataset"])
def test_pairs_and_workers(aus_release, backend: str) -> None:
    release, expected = aus_release
    ds = ClipDataset(release, backend=backend, pair_k=2, stride=1, shuffle=True, seed=1, aus=True)
    batches = list(DataLoader(ds, batch_size=4, num_workers=2, collate_fn=collate_clips))
    # torch's default collate batches every field; interval_ids (T strings per sample) comes back as T tuples
    samples = [{k: v[i] for k, v in b.items() if k != "interval_ids"} for b in batches for i in range(len(b["video"]))]
    assert len(samples) == len(ds)
    assert check_clips(samples, expected) == 2 * len(ds)
    assert batches[0]["synthetic_au_r"].shape == (4, 2, len(R))


def test_webdataset_aus(aus_release) -> None:
    release, expected = aus_release
    samples = list(load_webdataset(release, aus=True))
    assert len(samples) == len(expected)
    for s in samples:
        check_frame(s, expected[(s["json"]["video"], s["json"]["frame"])], s["__key__"])
    raw = list(DataLoader(load_webdataset(release, decode=False, shuffle_seed=0, aus=True), batch_size=None,
                          num_workers=2))
    assert len(raw) == len(expected)
    for s in raw:
        meta = json.loads(s["json"])
        check_frame(s, expected[(meta["video"], meta["frame"])], s["__key__"])


@pytest.mark.parametrize("streaming", [True, False])
def test_load_aus(aus_release, streaming: bool, tmp_path: Path) -> None:
    import samm_synth_dataset

    release, expected = aus_release
    ds = samm_synth_dataset.load(release, "frames", streaming=streaming, aus=True, cache_dir=str(tmp_path / "c"))
    rows = list(ds)
    assert len(rows) == len(expected)
    assert set(FLAT_COLUMNS) <= set(rows[0]) and "image" in rows[0] and rows[0]["image"].size[0] > 0
    for row in rows:
        want = expected[(row["video"], row["frame"])]
        got = {}
        for track in fmt.AU_TRACKS:
            got[fmt.au_key(track, "success")] = row[fmt.au_key(track, "success")]
            got[fmt.au_key(track, "confidence")] = np.float32(_nan(row[fmt.au_key(track, "confidence")]))
            got[fmt.au_key(track, "au_r")] = np.array([_nan(row[fmt.au_key(track, c)]) for c in R], np.float32)
            got[fmt.au_key(track, "au_c")] = np.array([_nan(row[fmt.au_key(track, c)]) for c in C], np.float32)
        check_frame(got, want, f"{row['video']} frame {row['frame']}")
    if not streaming:      # real columns: filter on AU agreement works natively
        kept = ds.filter(lambda r: r["original_success"] and r["synthetic_success"]
                         and r["original_AU12_c"] == r["synthetic_AU12_c"])
        assert 0 < kept.num_rows < ds.num_rows


def test_card_join_with_plain_datasets(aus_release, tmp_path: Path) -> None:
    """The card's two-line join (plain ``datasets`` + pandas) gives the CSV values for every streamed frame."""
    import re

    import datasets

    release, expected = aus_release
    template = (Path(samm_synth_dataset.__file__).parent / "templates" / "dataset_card.md").read_text()
    block = template[template.index("OpenFace AUs, of its original"):]
    code = re.search(r"```python\n(.*?)```", block, re.S).group(1)
    code = code.replace('"{{ location }}"', repr(str(release))).replace('{% if published %} revision="{{ tag }}",'
                                                                        '{% endif %}', "")
    code = code.replace('split="train")', f'split="train", cache_dir={str(tmp_path / "cache")!r})')
    assert "{{" not in code and len(code.strip().splitlines()) == 2
    scope: dict[str, Any] = {"load_dataset": datasets.load_dataset,
                             "frames": datasets.load_dataset(str(release), "frames", split="train", streaming=True)}
    exec(code, scope)
    rows = list(scope["frames"])
    assert len(rows) == len(expected)
    for row in rows:
        want = expected[(row["video"], row["frame"])]
        for track in fmt.AU_TRACKS:
            w = want[track]
            assert bool(row[fmt.au_key(track, "success")]) == w["success"]
            if w["success"]:                      # the plain join keeps OpenFace's zeros on failed frames
                got = np.array([row[fmt.au_key(track, c)] for c in R], np.float32)
                np.testing.assert_array_equal(got, w["au_r"])


def _nan(v: float | None) -> float:
    return math.nan if v is None else v


def test_no_au_tracks_is_one_clear_error(tiny_release: Path, tmp_path: Path) -> None:
    import samm_synth_dataset

    for make in (lambda: ClipDataset(tiny_release, aus=True), lambda: load_webdataset(tiny_release, aus=True),
                 lambda: samm_synth_dataset.load(tiny_release, "frames", aus=True, streaming=True),
                 lambda: samm_synth_dataset.load(tiny_release, "frames", aus=True, cache_dir=str(tmp_path / "c"))):
        with pytest.raises(FileNotFoundError, match=r"no AU tracks.*samm-synth aus"):
            make()
    assert not (tmp_path / "c").exists()            # refused before loading the frames
    with pytest.raises(ValueError, match="joins AUs to the frames config"):
        samm_synth_dataset.load(tiny_release, "videos", aus=True)


def test_partial_or_stale_au_tracks(aus_release, tmp_path: Path) -> None:
    release, _ = aus_release
    rel = tmp_path / "rel"
    shutil.copytree(release, rel)
    first = sorted((rel / fmt.AUS_DIR).glob("*.parquet"))[0]
    video = first.stem
    t = pq.read_table(first)
    pq.write_table(t.filter(pq.ParquetFile(first).read().column("frame").to_numpy()
                            != t.column("frame").to_numpy().max()), first)      # the last frame's AUs are gone
    fmt.add_files(rel, [first.relative_to(rel).as_posix()])                    # ... and the manifest says so
    with pytest.raises(ValueError, match=rf"no AUs for video {video} frame \d+.*samm-synth aus"):
        list(ClipDataset(rel, clip_len=1, shuffle=False, videos=[video], aus=True))
    first.unlink()
    manifest = fmt.read_manifest(rel)
    manifest["files"] = [f for f in manifest["files"] if f["path"] != first.relative_to(rel).as_posix()]
    fmt.write_manifest(rel, manifest)
    with pytest.raises(FileNotFoundError, match=r"1 of 8 videos have no AU track.*samm-synth aus"):
        ClipDataset(rel, aus=True)


def test_au_arrays_refuses_inconsistent_tracks(aus_release) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    release, _ = aus_release
    path = sorted((release / fmt.AUS_DIR).glob("*.parquet"))[0]
    table = pq.read_table(path)
    frames, fields = fmt.au_arrays(table, str(path))
    assert list(fields) == [fmt.au_key(t, w) for t in fmt.AU_TRACKS for w in fmt.AU_FIELDS]
    assert np.all(np.diff(frames) > 0) and all(len(v) == len(frames) for v in fields.values())
    synthetic = table.filter(pc.equal(table.column("track"), "synthetic"))
    with pytest.raises(ValueError, match=rf"{path.name}: no 'original' track"):
        fmt.au_arrays(synthetic, str(path))
    with pytest.raises(ValueError, match=r"frame \d+ appears twice in the 'original' track"):
        fmt.au_arrays(pa.concat_tables([table, table.slice(0, 1)]), str(path))
    with pytest.raises(ValueError, match="cover different frames"):
        fmt.au_arrays(table.slice(1), str(path))
    with pytest.raises(ValueError, match="track must be one of"):
        fmt.au_key("fake", "au_r")

"""The small demo release: content, labels, loading with `datasets` and `webdataset`."""

import io
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from samm_synth_dataset import format as fmt
from samm_synth_dataset.sources import list_videos, read_annotations


def _frames(release: Path):
    return pq.read_table(release / fmt.FRAMES_DIR).to_pandas()


def test_manifest_complete_and_lists_every_release_file(small_release: Path) -> None:
    manifest = fmt.read_manifest(small_release)
    assert manifest["status"] == "complete" and manifest["format_version"] == fmt.FORMAT_VERSION
    listed = {f["path"] for f in manifest["files"]}
    on_disk = {p.relative_to(small_release).as_posix() for p in small_release.rglob("*")
               if p.is_file() and not p.relative_to(small_release).as_posix().startswith(".build/")}
    assert on_disk - listed == {"manifest.json"}
    assert listed == on_disk - {"manifest.json"}
    assert manifest["config"]["method"] == "color-transfer" and "out" not in manifest["config"]
    assert {"torch", "pyarrow", "datasets", "python", "samm-synth-dataset"} <= set(manifest["versions"])
    assert manifest["summary"]["videos"] == 8 and manifest["summary"]["configs"] == ["frames", "intervals",
                                                                                     "videos"]
    assert not any(p.name.endswith(".tmp") for p in small_release.rglob("*"))
    # several parts per video, numbered without gaps, same cut in both formats
    for unit in manifest["units"]:
        assert len(unit["parts"]) >= 2
        assert [p["part"] for p in unit["parts"]] == list(range(len(unit["parts"])))
        assert sum(p["rows"] for p in unit["parts"]) == unit["frames"]
        for p in unit["parts"]:
            assert sorted(Path(f).suffix for f in p["files"]) == [".parquet", ".tar"]


def test_every_source_frame_once_per_synthetic_video(small_release: Path, demo_corpus) -> None:
    frames = _frames(small_release)
    sources = {v.video: v for v in list_videos(demo_corpus.frames_root, "samm-lv")}
    videos = pq.read_table(small_release / fmt.VIDEOS_PATH).to_pandas()
    assert len(videos) == 2 * len(sources)  # 2 references per subject
    for row in videos.itertuples():
        sub = frames[frames["video"] == row.video]
        src = sources[row.source_video]
        assert sub["frame"].tolist() == list(src.frame_numbers)  # every source frame once, in order
        assert sub["index"].tolist() == list(range(src.n_frames))
        assert row.n_frames == src.n_frames and row.fps == 200.0
        assert row.glasses is (row.subject == "006")  # Grace Hopper wears glasses, Eileen Collins not
        assert (sub["reference_id"] == row.reference_id).all() and (sub["subject"] == row.subject).all()
        assert row.method == "color-transfer" and row.checkpoint_sha256 != row.checkpoint_sha256  # null
        assert len(row.reference_sha256) == 64 and row.crop["w"] > 0
    # rows are sorted by (video, index) within each file and row groups hold 100 rows
    for path in sorted((small_release / fmt.FRAMES_DIR).glob("*.parquet")):
        f = pq.ParquetFile(path)
        assert all(f.metadata.row_group(i).num_rows <= fmt.FRAME_ROW_GROUP_SIZE
                   for i in range(f.metadata.num_row_groups))
        t = f.read(columns=["video", "index"]).to_pandas()
        assert t["video"].nunique() == 1 and t["index"].is_monotonic_increasing
    img = Image.open(io.BytesIO(frames.iloc[0]["image"]["bytes"]))
    assert img.format == "JPEG" and img.size == (128, 128) and img.mode == "RGB"


def test_frame_labels_equal_their_intervals(small_release: Path, demo_corpus) -> None:
    frames = _frames(small_release)
    intervals = pq.read_table(small_release / fmt.INTERVALS_PATH).to_pandas()
    assert intervals["interval_id"].is_unique
    sheet = read_annotations(demo_corpus.annotations, "samm-lv")
    videos = pq.read_table(small_release / fmt.VIDEOS_PATH).to_pandas()
    # each synthetic video carries all the intervals of its source video
    for row in videos.itertuples():
        mine = intervals[intervals["video"] == row.video]
        assert sorted(mine["interval_id"].str.split("/").str[1]) == sorted(
            sheet.loc[sheet["video"] == row.source_video, "interval_id"])
        assert (mine["source_video"] == row.source_video).all()
    assert (intervals["onset"] == 0).any() or not (sheet["onset"] == 0).any()  # onset 0 kept
    # independent check: scan every interval for every frame
    n_me = 0
    for video, sub in frames.groupby("video"):
        ivs = intervals[intervals["video"] == video]
        for frame, me, mae, ids in zip(sub["frame"], sub["me"], sub["mae"], sub["interval_ids"]):
            inside = ivs[(ivs["onset"] <= frame) & (frame <= ivs["offset"])]
            assert bool(me) == bool((inside["kind"] == "ME").any())
            assert bool(mae) == bool((inside["kind"] == "MaE").any())
            assert sorted(ids) == sorted(inside["interval_id"])
            n_me += bool(me)
    assert n_me > 0 and frames["mae"].any()
    last = frames.groupby("source_video")["frame"].max()
    for iv in intervals.itertuples():  # offsets never pass the last frame
        assert iv.offset <= last[iv.source_video]
        if "offset_clipped" in iv.flags:
            assert iv.offset == last[iv.source_video]


@pytest.mark.parametrize("streaming", [False, True])
def test_load_dataset_every_declared_config(small_release: Path, streaming: bool, tmp_path: Path) -> None:
    import datasets

    manifest = fmt.read_manifest(small_release)
    n = {"frames": manifest["summary"]["frames"], "videos": manifest["summary"]["videos"],
         "intervals": manifest["summary"]["intervals"]}
    for name in manifest["summary"]["configs"]:
        ds = datasets.load_dataset(str(small_release), name, split="train", streaming=streaming,
                                   cache_dir=str(tmp_path / "hf"))
        if streaming:
            rows = list(ds.take(3)) if name == "frames" else list(ds)
            if name != "frames":
                assert len(rows) == n[name]
        else:
            assert ds.num_rows == n[name]
            rows = [ds[0]]
        assert set(rows[0]) == set(fmt.CONFIGS[name][0].names)
        if name == "frames":
            assert isinstance(ds.features["image"], datasets.Image)
            assert rows[0]["image"].size == (128, 128)


def test_webdataset_yields_every_sample_with_its_json(small_release: Path) -> None:
    import webdataset as wds

    tars = sorted(str(p) for p in (small_release / fmt.WDS_DIR).glob("*.tar"))
    ds = wds.WebDataset(tars, shardshuffle=False, empty_check=True)
    frames = _frames(small_release)
    seen = []
    for sample in ds:
        assert {k for k in sample if not k.startswith("__")} == {"jpg", "json"}
        meta = json.loads(sample["json"])
        assert sample["__key__"] == fmt.wds_key(meta["video"], meta["index"])
        assert set(meta) == set(fmt.FRAMES_SCHEMA.names) - {"image"}
        seen.append((meta["video"], meta["index"]))
    assert len(seen) == len(frames) == len(set(seen))
    # the tar images are the Parquet images, byte for byte
    first = next(iter(wds.WebDataset(tars[:1], shardshuffle=False)))
    meta = json.loads(first["json"])
    row = frames[(frames["video"] == meta["video"]) & (frames["index"] == meta["index"])].iloc[0]
    assert row["image"]["bytes"] == first["jpg"]
    assert np.asarray(Image.open(io.BytesIO(first["jpg"]))).shape == (128, 128, 3)


def test_card_declares_parquet_configs_only(small_release: Path) -> None:
    import yaml

    text = (small_release / "README.md").read_text()
    header = yaml.safe_load(text.split("---")[1])
    names = [c["config_name"] for c in header["configs"]]
    assert names == ["frames", "intervals", "videos"]
    assert all(".tar" not in str(c["data_files"]) for c in header["configs"])


def test_tars_load_with_the_datasets_webdataset_builder(small_release: Path, tmp_path: Path) -> None:
    import datasets

    ds = datasets.load_dataset("webdataset", data_files=str(small_release / fmt.WDS_DIR / "*.tar"), split="train",
                               streaming=True, cache_dir=str(tmp_path / "hf"))
    sample = next(iter(ds))
    assert sample["json"]["video"] in sample["__key__"] and sample["jpg"].size == (128, 128)


def test_stargan_v2_build_records_its_checkpoint(demo_corpus, tmp_path: Path) -> None:
    """A tiny random-weight StarGAN v2 (official checkpoint layout) through the whole build."""
    import torch

    from samm_synth_dataset.builders import build, demo_config
    from samm_synth_dataset.format import sha256_file
    from samm_synth_dataset.transfer.model import Generator, MappingNetwork, StyleEncoder

    torch.manual_seed(0)
    nets = {"generator": Generator(64, style_dim=4, max_conv_dim=16, w_hpf=0, dim_in=4),
            "mapping_network": MappingNetwork(latent_dim=4, style_dim=4, num_domains=2, hidden_dim=8),
            "style_encoder": StyleEncoder(64, style_dim=4, num_domains=2, max_conv_dim=16, dim_in=4)}
    ckpt = tmp_path / "tiny_nets_ema.ckpt"
    torch.save({k: v.state_dict() for k, v in nets.items()}, ckpt)
    out = tmp_path / "release"
    summary = build(demo_config(demo_corpus, out, method="stargan-v2", checkpoint=ckpt, refs_per_subject=1,
                                videos=("006_1",), formats=("parquet",), face_samples=3, device="cpu",
                                progress=False))
    assert summary.complete, summary.format()
    videos = pq.read_table(out / fmt.VIDEOS_PATH).to_pylist()
    assert [(v["method"], v["checkpoint_sha256"], v["width"]) for v in videos] == [
        ("stargan-v2", sha256_file(ckpt), 64)]
    assert "image_size" not in fmt.read_manifest(out)["config"]


def test_fan_alignment_refines_each_video_crop_once(demo_corpus, tmp_path: Path) -> None:
    """--align-landmarks: the located box is refined by the official FAN similarity alignment, once per source
    video; the transform is recorded in the videos table and the landmark file's hash in the plan."""
    import json

    import numpy as np
    import torch

    from samm_synth_dataset.builders import build, demo_config
    from samm_synth_dataset.faces.crop import FaceCrop
    from samm_synth_dataset.format import sha256_file
    from samm_synth_dataset.metrics.data import crop_of
    from samm_synth_dataset.transfer.fan import FAN
    from samm_synth_dataset.transfer.model import Generator, MappingNetwork, StyleEncoder

    torch.manual_seed(0)
    nets = {"generator": Generator(64, style_dim=4, max_conv_dim=16, w_hpf=0, dim_in=4),
            "mapping_network": MappingNetwork(latent_dim=4, style_dim=4, num_domains=2, hidden_dim=8),
            "style_encoder": StyleEncoder(64, style_dim=4, num_domains=2, max_conv_dim=16, dim_in=4)}
    ckpt, wing, mean = tmp_path / "tiny_nets_ema.ckpt", tmp_path / "wing.ckpt", tmp_path / "celeba_lm_mean.npz"
    torch.save({k: v.state_dict() for k, v in nets.items()}, ckpt)
    torch.save({"state_dict": FAN().state_dict()}, wing)
    rng = np.random.default_rng(0)
    np.savez(mean, mean=rng.uniform(60, 200, (98, 2)).astype(np.float32))
    out = tmp_path / "release"
    config = demo_config(demo_corpus, out, method="stargan-v2", checkpoint=ckpt, fan_checkpoint=wing,
                         align_landmarks=mean, refs_per_subject=1, videos=("006_1",), formats=("parquet",),
                         face_samples=3, device="cpu", progress=False)
    summary = build(config)
    assert summary.complete, summary.format()
    (row,) = pq.read_table(out / fmt.VIDEOS_PATH).to_pylist()
    assert len(row["crop_matrix"]) == 6 and all(np.isfinite(row["crop_matrix"]))
    crop = crop_of(row)  # what the metrics use for the original frames: the same transform
    assert crop.matrix is not None and np.allclose(np.ravel(crop.matrix), row["crop_matrix"])
    assert isinstance(crop, FaceCrop) and crop.size == 64
    plan = json.loads((out / ".build" / "plan.json").read_text())
    assert plan["inputs"]["align_landmarks"] == sha256_file(mean)
    assert fmt.read_manifest(out)["config"]["align_landmarks"] == str(mean)
    with pytest.raises(ValueError, match="needs method stargan-v2"):
        demo_config(demo_corpus, tmp_path / "x", align_landmarks=mean)


def test_webdataset_only_png_release(demo_corpus, tmp_path: Path) -> None:
    import tarfile

    from samm_synth_dataset.builders import build, demo_config
    from samm_synth_dataset.format import verify

    out = tmp_path / "release"
    summary = build(demo_config(demo_corpus, out, formats=("webdataset",), image_format="png", image_size=32,
                                refs_per_subject=1, videos=("007_2",), face_samples=3, progress=False))
    assert summary.complete and summary.videos == 1
    manifest = fmt.read_manifest(out)
    assert manifest["summary"]["configs"] == ["intervals", "videos"]  # no Parquet frames: not declared
    assert "jpeg_quality" not in manifest["config"]
    assert "config_name: frames" not in (out / "README.md").read_text()
    assert not (out / fmt.FRAMES_DIR).exists()
    (tar_path,) = sorted((out / fmt.WDS_DIR).glob("*.tar"))
    with tarfile.open(tar_path) as tar:
        names = tar.getnames()
        assert names[0] == "007_2-ref03/000000.png" and names[1] == "007_2-ref03/000000.json"
        png = tar.extractfile(names[0]).read()
    assert Image.open(io.BytesIO(png)).format == "PNG" and len(names) == 2 * 270
    assert verify(out).ok


def _one_video_config(demo_corpus, out: Path, **changes):
    from samm_synth_dataset.builders.config import demo_config

    return demo_config(demo_corpus, out, videos=("006_1",), refs_per_subject=1, formats=("parquet",),
                       image_size=32, face_samples=3, progress=False, **changes)


def test_resume_of_a_complete_build_is_a_no_op_that_says_so(demo_corpus, tmp_path: Path) -> None:
    """Issue 14 item 4: files and manifest entries that later stages added (full card, splits, AU tracks, the
    release block) survive ``build --resume``."""
    from samm_synth_dataset.builders import build

    config = _one_video_config(demo_corpus, tmp_path / "release")
    assert build(config).complete
    out = config.out
    (out / fmt.CARD).write_text("---\nconfigs: []\n---\n# the full card of a later stage\n")
    (out / "splits").mkdir()
    (out / fmt.SPLITS_PATH).write_text("{}\n")
    fmt.add_files(out, [fmt.CARD, fmt.SPLITS_PATH])
    manifest = json.loads((out / fmt.MANIFEST).read_text())
    manifest["release"] = {"version": "1.0.0"}
    fmt.write_manifest(out, manifest)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    summary = build(config.replace(resume=True))
    assert summary.complete and summary.already_complete
    assert summary.format() == (f"release {out}: already complete, nothing to do (--resume of a finished build "
                                f"changes nothing; files added by later stages are kept): videos 1, frames "
                                f"{manifest['summary']['frames']}, {manifest['summary']['bytes'] / 1e6:.1f} MB")
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_an_unlabelled_build_says_so_in_manifest_and_card(demo_corpus, tmp_path: Path) -> None:
    """Issue 14 item 1: --no-labels is recorded in the manifest's config and stated in the card."""
    from samm_synth_dataset.builders import build
    from samm_synth_dataset.builders.finalize import NO_LABELS_SENTENCE

    config = _one_video_config(demo_corpus, tmp_path / "release", annotations=None, no_labels=True)
    assert build(config).complete
    manifest = fmt.read_manifest(config.out)
    assert manifest["config"]["no_labels"] is True and manifest["summary"]["intervals"] == 0
    assert NO_LABELS_SENTENCE in (config.out / fmt.CARD).read_text()
    frames = _frames(config.out)
    assert not frames["me"].any() and not frames["mae"].any()

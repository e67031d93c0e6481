"""The dataset card: the template is the packaged one; a built release's card renders with its real numbers,
validates, and loads with `datasets` for every declared config (plus the tars with the webdataset readers)."""

from __future__ import annotations

import ast
import io
import json
import re
import tarfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from samm_synth_dataset import format as fmt
from samm_synth_dataset.release import card as cardmod, card_check
from samm_synth_dataset.release.release import make_release

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def released(small_release_copy: Path) -> Path:
    make_release(small_release_copy, "1.0.0", notes="First public version.")
    return small_release_copy


def test_root_template_is_the_packaged_template():
    root = REPO / "dataset_card.md"
    assert root.is_file(), "the repository root must carry dataset_card.md"
    assert root.read_text(encoding="utf-8") == cardmod.template_text()


@pytest.mark.parametrize("n, label", [(0, "n<1K"), (999, "n<1K"), (1000, "1K<n<10K"), (123_456, "100K<n<1M"),
                                      (1_050_000, "1M<n<10M")])
def test_size_category(n: int, label: str):
    assert cardmod.size_category(n) == label


def test_card_of_a_built_release_has_the_real_numbers(released: Path):
    text = (released / fmt.CARD).read_text(encoding="utf-8")
    header = card_check.validate_card(released)
    videos = pq.read_table(released / fmt.VIDEOS_PATH).to_pydict()
    intervals = pq.read_table(released / fmt.INTERVALS_PATH).to_pydict()
    n_frames = sum(pq.ParquetFile(p).metadata.num_rows for p in (released / fmt.FRAMES_DIR).glob("*.parquet"))

    assert header["license"] == "cc0-1.0"  # the demo corpus: the gate and licence are in the demo test below
    assert header["size_categories"] == [cardmod.size_category(n_frames)]
    assert "video-classification" in header["task_categories"]
    names = [c["config_name"] for c in header["configs"]]
    assert names[0] == "frames" and header["configs"][0]["default"] is True
    assert set(names) == set(cardmod.present_configs(released))
    frames_info = next(i for i in header["dataset_info"] if i["config_name"] == "frames")
    assert frames_info["splits"][0]["num_examples"] == n_frames
    assert {"name": "image", "dtype": "image"} in frames_info["features"]

    assert f"| synthetic videos | {len(videos['video'])} " in text
    assert f"version 1.0.0" in text and "First public version." in text
    # every fix with its count over source intervals
    flags = [f for fl in intervals["flags"] for f in (fl or [])]
    for flag in set(flags):
        rows = flags.count(flag)
        assert f"| `{flag}` |" in text and f"| {rows} |" in text
    # cited only when used: the seed paper and the software always; no StarGAN v2 (colour transfer), no OpenFace
    # (no AU tracks); SOFTNet/MEGC with a spotting result, dlib with an identity result
    assert "10.3390/jimaging7080142" in text and "@software{samm_synth_dataset" in text
    assert "StarGAN v2: Diverse" not in text and "OpenFace 2.0" not in text
    assert ("Shallow Optical Flow Three-Stream CNN" in text) == (released / fmt.SPOTTING_JSON).is_file()
    if "color-transfer" in videos["method"]:
        assert "does not change identity" in text.lower() or "It does not change identity" in text
    # local paths of the build (absolute or relative) appear by their last component only
    config = fmt.read_manifest(released)["config"]
    for key in ("source_root", "annotations", "references"):
        path = Path(config[key])
        assert f"`{key}`: `{path.name}`" in text and str(path.parent) not in text
    assert "Not computed for this release" in text  # no quality/report.json in these fixtures
    for word in ("Glasses", "Blinks", "Background artifacts"):
        assert word in text


def test_card_renders_quality_headline_tables(small_release_copy: Path):
    quality = small_release_copy / fmt.QUALITY_DIR
    quality.mkdir(exist_ok=True)
    (quality / "report.json").write_text(json.dumps({
        "headline": {
            "au_correlation": fmt.headline_table("AU correlation", ["AU", "pearson r"],
                                                 [["AU12", 0.7412], ["AU06", 0.72]]),
            "spotting": fmt.headline_table("Spotting", ["kind", "f1"], [["ME", 0.1], ["MaE", None]])},
        "claims": {"identity": "In 2 of 2 synthetic videos the source person is still recognisable."}}))
    make_release(small_release_copy, "1.0.0")
    text = (small_release_copy / fmt.CARD).read_text()
    assert "**AU correlation**" in text and "| AU12 | 0.7412 |" in text
    assert "| ME | 0.1 |" in text and "| MaE | – |" in text
    assert "- In 2 of 2 synthetic videos the source person is still recognisable." in text
    manifest = fmt.read_manifest(small_release_copy)
    assert "quality/report.json" in {f["path"] for f in manifest["files"]}


def test_a_report_json_of_another_shape_is_refused_naming_the_file(small_release_copy: Path):
    quality = small_release_copy / fmt.QUALITY_DIR
    quality.mkdir(exist_ok=True)
    (quality / "report.json").write_text(json.dumps({"headline": {"spotting": [{"kind": "ME", "f1": 0.1}]}}))
    with pytest.raises(fmt.ReleaseError, match=r"report\.json: not a quality report"):
        make_release(small_release_copy, "1.0.0")


def _text(released: Path) -> str:
    return (released / fmt.CARD).read_text(encoding="utf-8")


def test_validate_card_rejects_a_glob_that_matches_nothing(released: Path):
    text = _text(released).replace("path: data/videos/videos.parquet", "path: data/videos/nothing-*.parquet")
    with pytest.raises(card_check.CardError, match="matches no file"):
        card_check.validate_card(released, text)


def test_validate_card_rejects_features_that_differ_from_the_parquet(released: Path):
    header, body = card_check.split_front_matter(_text(released))
    info = next(i for i in header["dataset_info"] if i["config_name"] == "intervals")
    next(f for f in info["features"] if f["name"] == "onset")["dtype"] = "int32"
    text = "---\n" + yaml.safe_dump(header, sort_keys=False) + "---\n" + body
    with pytest.raises(card_check.CardError, match="intervals.*schema differs"):
        card_check.validate_card(released, text)


def test_validate_card_rejects_broken_yaml_and_missing_parts(released: Path):
    with pytest.raises(card_check.CardError, match="does not parse"):
        card_check.validate_card(released, "---\nlicense: [unclosed\n---\nbody\n")
    with pytest.raises(card_check.CardError, match="no YAML header"):
        card_check.validate_card(released, "# just a title\n")
    text = _text(released).replace("## Limitations", "## Caveats")
    with pytest.raises(card_check.CardError, match="Limitations"):
        card_check.validate_card(released, text)
    text = _text(released).replace("license: cc0-1.0", "license: mit")
    with pytest.raises(card_check.CardError, match="license"):
        card_check.validate_card(released, text)


def test_load_dataset_works_for_every_declared_config(released: Path, tmp_path: Path):
    import datasets

    header = card_check.validate_card(released)
    for cfg in header["configs"]:
        name = cfg["config_name"]
        ds = datasets.load_dataset(str(released), name, split="train", cache_dir=str(tmp_path / "cache"))
        _, features, glob = fmt.CONFIGS[name]
        rows = sum(pq.ParquetFile(p).metadata.num_rows for p in released.glob(glob))
        assert ds.num_rows == rows, name
        assert ds.features == datasets.Features.from_dict(features), name
    frames = datasets.load_dataset(str(released), "frames", split="train", cache_dir=str(tmp_path / "cache"))
    first = frames[0]
    assert first["image"].size[0] > 0 and isinstance(first["frame"], int)


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def _unsafe_decodes(code: str) -> list[str]:
    """webdataset ``.decode(...)`` / ``Decoder(...)`` calls that keep the default post handlers (``basichandlers``,
    which unpickle ``.pyd``/``.pkl``/``.pickle``): every call that does not pass ``post=[]``."""
    unsafe = []
    for node in ast.walk(ast.parse(code)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in ("decode", "Decoder"):
            continue
        post = next((k.value for k in node.keywords if k.arg == "post"), None)
        if not (isinstance(post, ast.List) and not post.elts):
            unsafe.append(ast.unparse(node))
    return unsafe


def test_unsafe_decode_detector_flags_default_handlers():
    assert _unsafe_decodes('wds.WebDataset(u).decode("rgb8")') == ['wds.WebDataset(u).decode(\'rgb8\')']
    assert _unsafe_decodes("ds.decode(wds.imagehandler('rgb8'))")
    assert not _unsafe_decodes("ds.decode(wds.imagehandler('rgb8'), pre=[], post=[])")


def test_card_shows_no_pickling_decoder(released: Path):
    blocks = _python_blocks(_text(released))
    assert any("import webdataset" in b for b in blocks), "the card should show how to read the tars"
    for code in blocks:
        assert not _unsafe_decodes(code), code


def _card_webdataset(released: Path, urls: list[str]):
    """Run the card's own webdataset snippet on ``urls``; return its ``dataset``."""
    code = next(b for b in _python_blocks(_text(released)) if "import webdataset" in b)
    code, n = re.subn(r"^urls = .*$", f"urls = {urls!r}", code, flags=re.M)
    assert n == 1, code
    namespace: dict = {}
    exec(compile(code, "dataset_card.md", "exec"), namespace)
    return namespace["dataset"]


def test_webdataset_loading_shown_in_the_card_works(released: Path, tmp_path: Path):
    tars = sorted(str(p) for p in (released / fmt.WDS_DIR).glob("*.tar"))
    if not tars:
        pytest.skip("this release has no WebDataset shards")
    import datasets

    ds = datasets.load_dataset("webdataset", data_files={"train": tars}, split="train", streaming=True)
    sample = next(iter(ds))
    assert "/" in sample["__key__"] and "json" in sample
    sample = next(iter(_card_webdataset(released, tars)))
    image = next(v for k, v in sample.items() if k in ("jpg", "png"))
    assert image.ndim == 3 and image.shape[2] == 3 and str(image.dtype) == "uint8"
    assert isinstance(sample["json"], dict) and "/" in sample["__key__"]

    # a shard carrying a pickle member: the card's snippet must hand it over as bytes, never unpickle it
    pickled = b"\x80\x04K\x01."                       # pickle.dumps(1)
    evil = tmp_path / "evil-00000.tar"
    with tarfile.open(tars[0]) as src, tarfile.open(evil, "w") as dst:
        first = src.next()
        assert first is not None
        key = first.name.split(".", 1)[0]
        members = [m for m in src.getmembers() if m.name.split(".", 1)[0] == key]
        for m in members:
            dst.addfile(m, src.extractfile(m))
        info = tarfile.TarInfo(f"{key}.pyd")
        info.size = len(pickled)
        dst.addfile(info, io.BytesIO(pickled))
    sample = next(iter(_card_webdataset(released, [str(evil)])))
    assert sample["pyd"] == pickled


def test_datasets_checks_the_declared_split_sizes(released: Path, tmp_path: Path):
    """The card's `splits` are complete (name, num_bytes, num_examples), so `datasets` verifies them."""
    import datasets

    header, body = card_check.split_front_matter(_text(released))
    info = next(i for i in header["dataset_info"] if i["config_name"] == "videos")
    info["splits"][0]["num_examples"] += 1
    (released / fmt.CARD).write_text("---\n" + yaml.safe_dump(header, sort_keys=False) + "---\n" + body)
    with pytest.raises(datasets.exceptions.NonMatchingSplitsSizesError):
        datasets.load_dataset(str(released), "videos", split="train", cache_dir=str(tmp_path / "cache"))


def test_aus_config_is_declared_and_loads(tmp_path: Path, build_mini):
    import datasets

    build = build_mini(tmp_path / "build", with_aus=True)
    make_release(build, "1.0.0")
    header = card_check.validate_card(build)
    assert [c["config_name"] for c in header["configs"]] == ["frames", "intervals", "videos", "aus"]
    aus = datasets.load_dataset(str(build), "aus", split="train", cache_dir=str(tmp_path / "cache"))
    assert aus.num_rows == 2 * 17 and set(aus["track"]) == {"original", "synthetic"}
    assert "`aus`: OpenFace 2.0 action-unit tracks" in (build / fmt.CARD).read_text()


def test_card_states_an_unlabelled_release(mini_release: Path):
    """Issue 14 item 1: a release built with --no-labels says so in its card; a labelled one does not."""
    assert "**Unlabelled**" not in cardmod.render_card(mini_release)
    manifest = json.loads((mini_release / fmt.MANIFEST).read_text())
    manifest["config"]["no_labels"] = True
    text = cardmod.render_card(mini_release, manifest=manifest)
    assert "**Unlabelled**: built without annotations (`--no-labels`), so it has no intervals and every frame's " \
           "`me` and `mae`\nis False." in text


def _run_blocks(release: Path) -> str:
    """Run every Python block of ``release``'s card, in order, as one script from the folder holding it."""
    import subprocess
    import sys

    script = "\n".join(_python_blocks((release / fmt.CARD).read_text(encoding="utf-8")))
    done = subprocess.run([sys.executable, "-c", script + "\nprint('card blocks ran')"], cwd=release.parent,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_every_python_block_of_a_local_release_card_runs_as_written(released: Path):
    """Issue 25: the card's code blocks used ORG/NAME and failed with a ConnectionError; a local release's card
    loads the release folder by its name, so each block runs as written from the folder that holds it."""
    text = (released / fmt.CARD).read_text(encoding="utf-8")
    assert "ORG/NAME" not in text and "read_splits" not in text and "pip install samm-synth-dataset" not in text
    assert len(_python_blocks(text)) >= 5
    assert "card blocks ran" in _run_blocks(released)


def test_the_aus_block_of_a_local_release_card_runs_as_written(tmp_path: Path, build_mini):
    release = build_mini(tmp_path / "release", with_aus=True)
    make_release(release, "1.0.0")
    assert "\"aus\"" in (release / fmt.CARD).read_text(encoding="utf-8")
    assert "card blocks ran" in _run_blocks(release)


def test_a_published_release_card_loads_by_repo_id_and_tag(small_release_copy: Path):
    make_release(small_release_copy, "1.0.0", repo_id="someone/samm-synth-demo")
    text = (small_release_copy / fmt.CARD).read_text(encoding="utf-8")
    blocks = _python_blocks(text)
    for block in blocks:
        ast.parse(block)
    assert 'load_dataset("someone/samm-synth-demo", "frames", revision="v1.0.0"' in text
    assert 'snapshot_download("someone/samm-synth-demo", repo_type="dataset", revision="v1.0.0")' in text
    assert f'"{small_release_copy.name}"' not in text


def test_a_demo_release_card_says_it_is_a_demo_and_a_real_layout_keeps_the_samm_gate(released: Path,
                                                                                     mini_release: Path):
    """The demo corpus (two public-domain photos) gives a demo title, a public-domain licence, no SAMM gate and
    no SAMM-LV citation; a corpus without the demo marker keeps today's SAMM-LV wording and gate."""
    header = card_check.validate_card(released)
    text = (released / fmt.CARD).read_text(encoding="utf-8")
    assert header["license"] == "cc0-1.0" and "extra_gated_fields" not in header
    assert header["pretty_name"] == cardmod.DEMO_PRETTY_NAME and "**This is a demo release.**" in text
    assert "Grace Hopper" in text and "Eileen Collins" in text
    assert "yap2020samm" not in text and "SAMM licence agreement" not in text
    assert "baltrusaitis2018openface" not in text  # no AU tracks in it
    make_release(mini_release, "1.0.0")
    header = card_check.validate_card(mini_release)
    text = (mini_release / fmt.CARD).read_text(encoding="utf-8")
    assert header["license"] == "cc-by-nc-4.0" and header["pretty_name"] == cardmod.DEFAULT_PRETTY_NAME
    assert any("SAMM Long Videos licence" in k for k in header["extra_gated_fields"])
    assert "yap2020samm" in text and "demo release" not in text.lower()

"""A CAS(ME)³-layout corpus end to end: build (colour transfer, tiny) → release (card) → load → LOSO splits.

The corpus is the demo faces in the CAS(ME)³ Part A layout (``casme3_corpus``: 5 clips of 2 subjects, 620 frames
at 30 fps, the v2-style AU+Emotion workbook with its quirks).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from samm_synth_dataset import format as fmt
from samm_synth_dataset.builders import build
from samm_synth_dataset.builders.config import BuildConfig
from samm_synth_dataset.sources import clip_offsets, list_videos, read_annotations


@pytest.fixture(scope="module")
def casme3_release(casme3_corpus, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from samm_synth_dataset.release.release import make_release

    build_dir = tmp_path_factory.mktemp("casme3_build") / "build"
    summary = build(BuildConfig(source_root=casme3_corpus.root, references=casme3_corpus.references_csv,
                                out=build_dir, dataset="casme3", annotations=casme3_corpus.annotations,
                                casme3_rules=("onset_zero=keep",), image_size=32, face_samples=3,
                                formats=("parquet", "webdataset"), max_part_frames=100, progress=False))
    assert summary.complete, summary.format()
    release = build_dir.parent / "release"
    make_release(build_dir, "1.0.0", out=release, notes="CAS(ME)³-layout test release.")
    return release


def test_release_tables_keep_the_casme3_ids_fps_and_flags(casme3_corpus, casme3_release: Path) -> None:
    assert fmt.verify(casme3_release).ok
    manifest = fmt.read_manifest(casme3_release)
    assert manifest["config"]["dataset"] == "casme3"
    assert manifest["config"]["casme3_rules"] == ["onset_zero=keep"] and manifest["config"]["offset_fill"] == "apex"
    videos = pd.read_parquet(casme3_release / fmt.VIDEOS_PATH)
    assert sorted(videos["source_video"]) == sorted(casme3_corpus.videos)
    assert set(videos["subject"]) == {"spNO.1", "spNO.216"} and set(videos["source_dataset"]) == {"casme3"}
    assert set(videos["fps"]) == {30.0} and videos["n_frames"].sum() == 620
    intervals = pd.read_parquet(casme3_release / fmt.INTERVALS_PATH)
    flags = sorted(f for fl in intervals["flags"] for f in fl)
    assert flags == ["apex_before_onset", "apex_missing", "long_me", "offset_before_apex", "onset_zero"]


def test_loaders_read_the_casme3_release(casme3_release: Path) -> None:
    import samm_synth_dataset as sss
    from samm_synth_dataset.loaders.clips import ClipDataset

    frames = sss.load(casme3_release, config="frames")
    assert len(frames) == 620 and set(frames["subject"]) == {"spNO.1", "spNO.216"}
    intervals = sss.load(casme3_release, config="intervals").to_pandas()
    assert set(intervals["kind"]) == {"ME", "MaE"} and len(intervals) == 10
    clips = list(ClipDataset(casme3_release, clip_len=8, stride=30, shuffle=False, videos=["spNO1_a-ref01"]))
    assert [int(c["index"][0]) for c in clips] == [0, 30, 60]
    assert clips[0]["frames"].shape[0] == 8 and 32 in clips[0]["frames"].shape
    # the MaE of spNO.1 a spans source frames 10..60: frame 35 (the 2nd clip's 6th) is labelled MaE, not ME
    assert bool(clips[1]["mae"][5]) and not bool(clips[1]["me"][5])


def test_loso_by_spno_subject_with_megc_k_from_the_other_subject(casme3_corpus, casme3_release: Path) -> None:
    folds = {s.test_subject: s for s in fmt.read_splits(casme3_release)}
    assert sorted(folds) == ["spNO.1", "spNO.216"]
    assert all(v.startswith("spNO1_") for v in folds["spNO.1"].test)
    assert all(v.startswith("spNO216_") for v in folds["spNO.1"].train)
    # k from the training subject's intervals (30 fps source frames), each source interval once
    table = clip_offsets(read_annotations(casme3_corpus.annotations, "casme3"),
                         list_videos(casme3_corpus.root, "casme3"))
    for test_subject, fold in folds.items():
        train = table[table["subject"] != test_subject]
        for kind in ("ME", "MaE"):
            d = (train.loc[train["kind"] == kind, "offset"] - train.loc[train["kind"] == kind, "onset"]).tolist()
            assert fold.k[kind] == fmt.megc_k(d), (test_subject, kind)
    # by hand: spNO.216's MEs last 42−31 and 72−60 frames → floor((11.5 + 1) / 2) = 6; spNO.1's 82−70, 31−20 and
    # the long ME written from frame 5 (248−5) → floor((88.67 + 1) / 2) = 44
    assert (folds["spNO.1"].k["ME"], folds["spNO.216"].k["ME"]) == (6, 44)


def test_card_names_casme3_terms_and_flags(casme3_release: Path) -> None:
    from samm_synth_dataset.release.card import render_card
    from samm_synth_dataset.release.card_check import validate_card

    demo = (casme3_release / fmt.CARD).read_text()
    validate_card(casme3_release)  # the demo corpus's release: a demo card, no CAS(ME)³ gate
    assert "**This is a demo release.**" in demo and "I have signed the CAS(ME)³ licence" not in demo
    assert "@article{li2023casme3" not in demo
    manifest = fmt.read_manifest(casme3_release)
    manifest.pop("source_corpus")  # the same release as if its frames came from CAS(ME)³ itself
    card = render_card(casme3_release, manifest=manifest)
    assert "I have signed the CAS(ME)³ licence agreement" in card
    assert "CAS(ME)³ Part A (frames and annotation workbooks): obtained under the CAS(ME)³ licence" in card
    assert "SAMM Long Videos licence agreement" not in card
    assert "derived frame by frame from CAS(ME)³," in card and "@article{li2023casme3" in card
    assert "| `long_me` | CAS(ME)³ micro-expression longer than the long-ME limit" in card
    assert "| `onset_zero` | onset 0 in the sheet, kept as 0 (SAMM-LV: " in card
    assert "`long_me_relabelled`" not in card  # CAS(ME)³-only flags appear only when an interval carries them


def test_the_spotting_benchmark_runs_on_the_casme3_release(casme3_corpus, casme3_release: Path,
                                                           tmp_path: Path) -> None:
    """Issue 15: the spotting benchmark takes a CAS(ME)³ release: LOSO by spNO.<N>, tested on the real clips, k
    from the 30 fps intervals."""
    import shutil

    from samm_synth_dataset.spotting import benchmark
    from samm_synth_dataset.spotting.benchmark_settings import BenchmarkSettings

    release = tmp_path / "release"
    shutil.copytree(casme3_release, release)
    settings = BenchmarkSettings(protocols=("real", "synthetic"), epochs=1, seed=0, seeds=1, lr=0.01,
                                 batch_size=32, flow_size=32, input_size=12, nose_patch=5, bootstrap=100)
    doc = benchmark.run_benchmark(release, casme3_corpus.root, settings=settings, progress=False)
    assert [f["test_subject"] for f in doc["folds"]] == ["spNO.1", "spNO.216"]
    assert [f["test_videos"] for f in doc["folds"]] == [["spNO1_a", "spNO1_c", "spNO1_j"],
                                                          ["spNO216_d", "spNO216_e"]]
    splits = {s.test_subject: s.k for s in fmt.loso_splits(release)}
    assert {f["test_subject"]: f["k"] for f in doc["folds"]} == splits
    assert set(doc["pooled"]) == {"real", "synthetic"}
    # the benchmark's exported features are new data files of the release: its croissant.json (and card) are now
    # stale, verify says so and names the fix; re-releasing makes it whole again
    report = fmt.verify(release)
    assert not report.ok and any("croissant.json" in e and "samm-synth release" in e for e in report.problems)
    from samm_synth_dataset.release.release import make_release

    make_release(release, "1.0.0")
    assert fmt.verify(release).ok


@pytest.fixture(scope="module")
def casme3_emotion_release(casme3_corpus, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three clips built from the JpgIndex-style ME workbook, whose `emotion` column gives the words."""
    from samm_synth_dataset.release.release import make_release

    build_dir = tmp_path_factory.mktemp("casme3_label_build") / "build"
    summary = build(BuildConfig(source_root=casme3_corpus.root, references=casme3_corpus.references_csv,
                                out=build_dir, dataset="casme3", annotations=casme3_corpus.label_workbook,
                                videos=("spNO1_a", "spNO1_c", "spNO216_e"), image_size=32, face_samples=3,
                                formats=("parquet",), progress=False))
    assert summary.complete, summary.format()
    release = build_dir.parent / "release"
    make_release(build_dir, "1.0.0", out=release)
    return release


def test_a_jpgindex_release_carries_emotion_megc_class_and_objective_class(casme3_release: Path,
                                                                          casme3_emotion_release: Path) -> None:
    assert fmt.verify(casme3_emotion_release).ok
    intervals = fmt.source_intervals(pd.read_parquet(casme3_emotion_release / fmt.INTERVALS_PATH))
    got = intervals.set_index("source_video")[["emotion", "emotion_megc", "objective_class"]]
    assert got.to_dict("index") == {
        "spNO1_a": {"emotion": "disgust", "emotion_megc": "negative", "objective_class": "II"},
        "spNO1_c": {"emotion": "others", "emotion_megc": "others", "objective_class": "II"},
        "spNO216_e": {"emotion": "others", "emotion_megc": "others", "objective_class": "III"}}
    assert "emotion_case_normalised" in intervals.set_index("source_video").loc["spNO216_e", "flags"]  # 'Others'
    card = (casme3_emotion_release / fmt.CARD).read_text()
    assert "| `emotion_megc` | others | 2 |" in card and "| `objective_class` | II | 2 |" in card
    # the AU+Emotion build: objective classes only, no emotion word
    v2 = pd.read_parquet(casme3_release / fmt.INTERVALS_PATH)
    assert v2["objective_class"].notna().all() and v2["emotion"].isna().all()
    assert "| `objective_class` | II |" in (casme3_release / fmt.CARD).read_text()

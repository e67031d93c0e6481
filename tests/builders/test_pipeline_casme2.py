"""A CAS(ME)²-layout corpus end to end: build (colour transfer, tiny) → release (card) → loaders yield the
emotion → predictions → ``score-str`` on the release.

The corpus is the demo faces in the CAS(ME)² layout (``casme2_corpus``: 4 videos of 2 subjects, 480 frames at
30 fps, the 9-column workbook with both emotion columns and its quirks).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import pytest

from samm_synth_dataset import format as fmt
from samm_synth_dataset.builders import build
from samm_synth_dataset.builders.config import BuildConfig


@pytest.fixture(scope="module")
def casme2_release(casme2_corpus, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from samm_synth_dataset.release.release import make_release

    build_dir = tmp_path_factory.mktemp("casme2_build") / "build"
    summary = build(BuildConfig(source_root=casme2_corpus.frames_root, references=casme2_corpus.references_csv,
                                out=build_dir, dataset="casme2", annotations=casme2_corpus.annotations,
                                image_size=32, face_samples=3, formats=("parquet",), progress=False))
    assert summary.complete, summary.format()
    release = build_dir.parent / "release"
    make_release(build_dir, "1.0.0", out=release, notes="CAS(ME)²-layout test release.")
    return release


def test_the_release_carries_both_emotion_columns(casme2_release: Path) -> None:
    assert fmt.verify(casme2_release).ok
    intervals = pd.read_parquet(casme2_release / fmt.INTERVALS_PATH)
    assert {"emotion", "emotion_megc", "objective_class"} <= set(intervals.columns)
    source = fmt.source_intervals(intervals)
    assert source["emotion_megc"].value_counts().to_dict() == {"negative": 3, "others": 2, "positive": 2,
                                                               "surprise": 1}
    assert source["emotion"].notna().all() and intervals["objective_class"].isna().all()
    card = (casme2_release / fmt.CARD).read_text()
    assert "### Emotion labels" in card and "CAS(ME)²: its estimated-emotion column" in card
    n_refs = len(intervals) // len(source)
    assert f"| `emotion_megc` | negative | 3 | {3 * n_refs} |" in card
    assert f"| `emotion` | happyiness | 1 | {n_refs} |" in card        # the sheet's typo, kept as written


def test_loaders_yield_the_emotion_and_score_str_scores_the_release(casme2_release: Path, tmp_path: Path,
                                                                   capsys) -> None:
    from samm_synth_dataset.loaders.clips import ClipDataset
    from samm_synth_dataset.spotting.commands import add_commands

    video = "16_0401-" + pd.read_parquet(casme2_release / fmt.VIDEOS_PATH).query(
        "source_video == '16_0401'")["reference_id"].iloc[0]
    # 16_0401: anger MaE (20..70, apex 0 -> offset filled? no: offset written) and an 'Others' ME at 90..101
    clips = {int(c["frame"][0]): c for c in ClipDataset(casme2_release, clip_len=1, shuffle=False,
                                                        videos=[video], emotions=True)}
    assert (clips[45]["emotion"], clips[45]["emotion_megc"]) == (("anger",), ("negative",))
    assert clips[95]["emotion_megc"] == ("others",) and clips[5]["emotion"] == ("",)

    source = fmt.source_intervals(pd.read_parquet(casme2_release / fmt.INTERVALS_PATH))
    pred = source[["subject", "source_video", "onset", "offset", "emotion_megc"]].set_axis(
        ["subject", "video", "onset", "offset", "emotion"], axis=1).copy()
    pred.loc[pred["emotion"] == "surprise", "emotion"] = "positive"        # one analysed interval misnamed
    path = tmp_path / "pred.csv"
    pred.to_csv(path, index=False)
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["score-str", "--pred", str(path), "--release", str(casme2_release), "--mode",
                              "strict", "--json", "--write-gt", str(tmp_path / "gt.csv")])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    written = pd.read_csv(tmp_path / "gt.csv", dtype=str)
    assert list(written.columns) == ["subject", "video", "onset", "offset", "emotion"] and len(written) == 8
    assert written["emotion"].value_counts().to_dict() == {"negative": 3, "others": 2, "positive": 2, "surprise": 1}
    assert (out["spotting"]["tp"], out["spotting"]["fp"], out["spotting"]["fn"]) == (8, 0, 0)
    # analysed pairs (gt, pred): negative x3 right, positive x2 right, surprise -> positive.
    # negative P 1 R 1; positive P 2/3 R 1; surprise P 0 (none said) R 0 -> mean P 5/9, mean R 2/3.
    per = out["analysis"]["per_class"]
    assert per["positive"]["precision"] == pytest.approx(2 / 3) and per["surprise"]["recall"] == 0.0
    assert out["analysis"]["uar"] == pytest.approx(2 / 3)
    assert out["strs"] == pytest.approx(2 * (5 / 9) * (2 / 3) / (5 / 9 + 2 / 3))
    # The reference's rules: surprise's precision 0/0 counts 0, so megc agrees with strict here.
    args = parser.parse_args(["score-str", "--pred", str(path), "--release", str(casme2_release), "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mode"] == "megc" and out["analysis"]["per_class"]["surprise"]["precision"] == 0.0
    assert out["strs"] == pytest.approx(2 * (5 / 9) * (2 / 3) / (5 / 9 + 2 / 3)) and out["spotting"]["f1"] == 1.0

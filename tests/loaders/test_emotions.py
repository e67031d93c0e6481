"""Emotion labels from a build to the loaders and the STR scorer: build (with a user's --emotions file) → release →
the intervals table, the card, ClipDataset and ``load`` carry the emotion → predictions → ``score-str``."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from samm_synth_dataset import format as fmt


@pytest.fixture(scope="module")
def emotion_release(tiny_emotion_release, tmp_path_factory) -> Path:
    """``tiny_emotion_release`` (Happiness, disgust, others, surprise joined by id) released as 1.0.0."""
    from samm_synth_dataset.release.release import make_release

    rel = tmp_path_factory.mktemp("emotions") / "release"
    shutil.copytree(tiny_emotion_release, rel)
    make_release(rel, "1.0.0")
    return rel


def test_the_intervals_table_and_the_card_carry_the_emotions(emotion_release: Path, tiny_release: Path,
                                                             tmp_path: Path):
    from samm_synth_dataset.release.release import make_release

    table = pd.read_parquet(emotion_release / fmt.INTERVALS_PATH)
    by_source = fmt.source_intervals(table).set_index("source_id")
    assert by_source.loc["006_1_1", ["emotion", "emotion_megc"]].tolist() == ["happiness", "positive"]
    assert by_source.loc["006_1_2", ["emotion", "emotion_megc"]].tolist() == ["disgust", "negative"]
    assert by_source.loc["007_1_1", "emotion_megc"] == "others"
    assert pd.isna(by_source.loc["006_2_1", "emotion"]) and table["objective_class"].isna().all()
    assert "emotion_from_file" in by_source.loc["006_1_1", "flags"]
    assert fmt.verify(emotion_release).ok
    card = (emotion_release / fmt.CARD).read_text()
    assert "### Emotion labels" in card
    # per class: source intervals, then rows (2 synthetic videos per source video)
    assert "| `emotion_megc` | negative | 1 | 2 |" in card and "| `emotion_megc` | (none) | 2 | |" in card
    assert "| `emotion` | happiness | 1 | 2 |" in card
    shutil.copytree(tiny_release, tmp_path / "plain")
    make_release(tmp_path / "plain", "1.0.0")
    plain = (tmp_path / "plain" / fmt.CARD).read_text()
    assert "No emotion labels: this release's intervals carry no emotion labels (SAMM Long Videos has none" in plain


def test_clip_dataset_yields_each_frames_emotion(emotion_release: Path, tiny_release: Path):
    from samm_synth_dataset.loaders.clips import ClipDataset

    table = pd.read_parquet(emotion_release / fmt.INTERVALS_PATH)
    ds = ClipDataset(emotion_release, clip_len=3, shuffle=False, emotions=True)
    seen = set()
    for sample in ds:
        for f, frame in enumerate(sample["frame"].tolist()):
            inside = table[(table["video"] == sample["video"]) & (table["onset"] <= frame)
                           & (table["offset"] >= frame)].sort_values(["onset", "interval_id"])
            expected = ";".join(dict.fromkeys(e for e in inside["emotion_megc"] if isinstance(e, str)))
            assert sample["emotion_megc"][f] == expected
            seen.add(expected)
    assert {"positive", "positive;negative", "negative", "others", "surprise", ""} <= seen
    assert "emotion" not in next(iter(ClipDataset(emotion_release, clip_len=3, shuffle=False)))
    with pytest.raises(ValueError, match="emotions=True, but this release's intervals carry no emotion labels"):
        ClipDataset(tiny_release, clip_len=3, emotions=True)


def test_load_joins_each_frames_emotion(emotion_release: Path, tiny_release: Path, tmp_path: Path):
    from samm_synth_dataset.loaders.hf import load

    frames = load(emotion_release, "frames", emotions=True, cache_dir=str(tmp_path / "cache"))
    rows = frames.select_columns(["video", "frame", "interval_ids", "emotion", "emotion_megc"]).to_list()
    happy = [r for r in rows if r["video"] == "006_1-ref01" and r["frame"] == 5]
    assert happy and (happy[0]["emotion"], happy[0]["emotion_megc"]) == ("happiness", "positive")
    both = [r for r in rows if r["video"] == "006_1-ref01" and r["frame"] == 7]
    assert (both[0]["emotion"], both[0]["emotion_megc"]) == ("happiness;disgust", "positive;negative")
    assert all(r["emotion"] == "" for r in rows if not r["interval_ids"])
    with pytest.raises(ValueError, match="carry no emotion labels"):
        load(tiny_release, "frames", emotions=True, cache_dir=str(tmp_path / "cache2"))


def test_load_webdataset_adds_each_frames_emotion(emotion_release: Path, tiny_release: Path):
    from samm_synth_dataset.loaders.wds import load_webdataset

    samples = list(load_webdataset(emotion_release, emotions=True))
    by_key = {(s["json"]["video"], s["json"]["frame"]): s for s in samples}
    assert (by_key[("006_1-ref02", 7)]["emotion"], by_key[("006_1-ref02", 7)]["emotion_megc"]) == (
        "happiness;disgust", "positive;negative")
    assert by_key[("008_1-ref03", 5)]["emotion_megc"] == "surprise"
    assert all(s["emotion"] == "" for s in samples if not s["json"]["interval_ids"])
    with pytest.raises(ValueError, match="carry no emotion labels"):
        load_webdataset(tiny_release, emotions=True)


def _score_str(*argv: str) -> argparse.Namespace:
    from samm_synth_dataset.spotting.commands import add_commands

    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
    return parser.parse_args(["score-str", *argv])


def test_predictions_are_scored_on_the_release(emotion_release: Path, tiny_release: Path, tmp_path: Path, capsys):
    table = fmt.source_intervals(pd.read_parquet(emotion_release / fmt.INTERVALS_PATH))
    labelled = table[table["emotion_megc"].notna()]
    perfect = tmp_path / "perfect.csv"
    pd.DataFrame({"subject": labelled["subject"], "video": labelled["source_video"], "onset": labelled["onset"],
                  "offset": labelled["offset"], "emotion": labelled["emotion_megc"]}).to_csv(perfect, index=False)
    # 4 of the 6 source intervals predicted, all with their class: in megc mode the 2 unpredicted intervals of
    # subjects with predictions (006_2_1, 007_1_2) are misses: TP 4, FN 2.
    for mode in ("megc", "strict"):
        args = _score_str("--pred", str(perfect), "--release", str(emotion_release), "--mode", mode, "--json")
        assert args.func(args) == 0
        out = json.loads(capsys.readouterr().out)
        assert (out["spotting"]["tp"], out["spotting"]["fp"], out["spotting"]["fn"]) == (4, 0, 2)
        assert out["classes"] == ["negative", "positive", "surprise"] and out["analysis"]["f1"] == 1.0
        assert out["strs"] == pytest.approx(0.8)
    # Subject 008's only prediction dropped: megc ignores its GT; strict counts it as a miss.
    pd.read_csv(perfect, dtype=str).query("subject != '008'").to_csv(perfect, index=False)
    args = _score_str("--pred", str(perfect), "--release", str(emotion_release), "--compare", "--json")
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["spotting"]["fn"] == 2 and out["compare"]["other"]["spotting"]["fn"] == 3
    assert out["compare"]["differences"]["spotting_fn"] == {"megc": 2, "strict": 3}
    # a release without emotion labels says so
    args = _score_str("--pred", str(perfect), "--release", str(tiny_release))
    with pytest.raises(ValueError, match="no 'emotion_megc' labels \\(SAMM-LV has no emotion labels"):
        args.func(args)


def test_one_fold_is_scored_on_its_test_videos(emotion_release: Path, tmp_path: Path, capsys):
    folds = fmt.read_splits(emotion_release)
    assert folds[0].test_subject == "006"
    table = fmt.source_intervals(pd.read_parquet(emotion_release / fmt.INTERVALS_PATH))
    mine = table[(table["subject"] == "006") & table["emotion_megc"].notna()]
    path = tmp_path / "fold0.csv"
    pd.DataFrame({"subject": mine["subject"], "video": mine["source_video"], "onset": mine["onset"],
                  "offset": mine["offset"], "emotion": mine["emotion_megc"]}).to_csv(path, index=False)
    # subject 006: 006_1_1 (positive), 006_1_2 (negative) predicted, 006_2_1 (unlabelled) missed
    args = _score_str("--pred", str(path), "--release", str(emotion_release), "--fold", "0", "--json")
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["spotting"]["tp"], out["spotting"]["fp"], out["spotting"]["fn"]) == (2, 0, 1)
    args = _score_str("--pred", str(path), "--release", str(emotion_release), "--fold", "1")  # subject 007's
    with pytest.raises(ValueError, match="name videos that are not in the ground truth"):
        args.func(args)

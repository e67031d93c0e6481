"""The CAS(ME)²-layout demo corpus: the real on-disk layout and 9-column workbook (both emotion columns), read by
the real readers; the CLI writes the same bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from openpyxl import load_workbook

from samm_synth_dataset.cli import main
from samm_synth_dataset.demo import corpus
from samm_synth_dataset.sources import iter_video_frames, list_videos, read_annotations


def _tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_layout_and_the_workbook_are_the_real_ones(casme2_corpus):
    folder = casme2_corpus.frames_root / "s16" / "16_0503unnyfarting"   # the stimulus typo is in the data
    assert (folder / "img001.jpg").is_file() and (folder / "img120.jpg").is_file()
    videos = list_videos(casme2_corpus.root, "casme2")
    assert [(v.video, v.subject, v.n_frames, v.fps) for v in videos] == [
        ("15_0101", "s15", 120, 30.0), ("15_0502", "s15", 120, 30.0), ("16_0401", "s16", 120, 30.0),
        ("16_0503", "s16", 120, 30.0)]
    wb = load_workbook(casme2_corpus.annotations, read_only=True)
    assert wb.sheetnames == ["CASFEcode_final", "naming rule1", "naming rule2"]
    data = [tuple(r) for r in wb["CASFEcode_final"].iter_rows(values_only=True)]
    assert len(data) == 8 and all(len(r) == 9 for r in data)                  # no header row, 9 columns
    assert data[0] == (1, "disgust1_1", 10, 30, 0, "4", "negative", "macro-expression", "disgust")  # offset 0
    assert {r[6] for r in data} == {"negative", "positive", "surprise", "others", "Others"}
    assert [tuple(r) for r in wb["naming rule2"].iter_rows(values_only=True)][0] == ("0101", "disgust1")
    assert [tuple(r) for r in wb["naming rule1"].iter_rows(values_only=True)][0] == (15, "s15", 1)
    wb.close()


def test_the_reader_keeps_both_emotion_columns(casme2_corpus):
    df = read_annotations(casme2_corpus.annotations, "casme2").set_index("interval_id")
    assert len(df) == 8 and df["kind"].value_counts().to_dict() == {"MaE": 4, "ME": 4}
    assert df.loc["16_0401_2", ["emotion", "emotion_megc"]].tolist() == ["sympathy", "others"]
    assert df.loc["16_0401_2", "flags"] == ["emotion_case_normalised"]        # 'Others' in the sheet
    assert df.loc["16_0503_2", ["emotion", "emotion_megc"]].tolist() == ["happyiness", "positive"]
    assert df.loc["15_0101_1", "flags"] == ["offset_filled"] and df.loc["16_0401_1", "flags"] == ["apex_missing"]
    assert df["objective_class"].isna().all()                                 # CAS(ME)² has none


def test_frames_follow_the_ground_truth(casme2_corpus):
    video = next(v for v in list_videos(casme2_corpus.root, "casme2") if v.video == "15_0502")
    assert corpus.true_displacement(casme2_corpus.root, "15_0502", 1).max() == 0.0
    assert abs(corpus.true_displacement(casme2_corpus.root, "15_0502", 40)).max() > 3.0   # the MaE's apex
    frames = dict(iter_video_frames(video, 0, 40))
    assert frames[1].shape == (300, 256, 3) and abs(frames[40].astype(int) - frames[1].astype(int)).max() > 20


def test_make_demo_corpus_layout_casme2(casme2_corpus, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "c2"
    assert main(["-q", "make-demo-corpus", "--layout", "casme2", "--quirks", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "CAS(ME)²-layout demo corpus (quirks on)" in printed and "15_0101, 15_0502, 16_0401, 16_0503" in printed
    assert _tree_digest(out) == _tree_digest(casme2_corpus.root)

"""`samm-synth inspect-source` through the real CLI entry."""

from __future__ import annotations

import json

from samm_synth_dataset.cli import main


def test_inspect_source_demo_corpus(demo_corpus, capsys):
    rc = main(["inspect-source", "--dataset", "samm-lv", "--root", str(demo_corpus.root),
               "--annotations", str(demo_corpus.annotations)])
    out = capsys.readouterr().out
    assert rc == 0
    assert f"videos: {len(demo_corpus.videos)}" in out and "intervals:" in out and "fixes:" in out
    for flag in ("rounded", "apex_missing", "onset_zero", "offset_clipped"):
        assert flag in out
    rc = main(["inspect-source", "--dataset", "samm-lv", "--root", str(demo_corpus.frames_root),
               "--annotations", str(demo_corpus.annotations), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["n_videos"] == len(demo_corpus.videos)
    assert report["n_frames"] == sum(v["frames"] for v in report["videos"])
    assert sum(report["intervals_by_kind"].values()) == report["n_intervals"]
    assert report["fixes"]["offset_clipped"] >= 1 and report["videos_without_frames"] == []
    assert report["emotions"] == {}                             # SAMM-LV has no emotion column
    assert "emotions: none (the annotations carry no emotion labels; SAMM-LV has none)" in out


def test_inspect_source_casme_annotations_only(tmp_path, helpers, capsys):
    path = helpers.write_casme_xlsx(tmp_path / "CAS(ME)^2code_final.xlsx")
    assert main(["inspect-source", "--dataset", "casme2", "--annotations", str(path)]) == 0
    out = capsys.readouterr().out
    assert "intervals: 6 (ME 2, MaE 4)" in out and "offset_filled" in out and "offset_before_apex" in out
    # both emotion columns, counted per class ('Others' read as others)
    assert "  emotion_megc     negative 4, others 1, positive 1" in out
    assert "  emotion          disgust 3, anger 1, happiness 1, happyiness 1" in out


def test_inspect_source_joins_a_users_emotions(tmp_path, helpers, capsys):
    path = helpers.write_casme_xlsx(tmp_path / "CAS(ME)^2code_final.xlsx")
    mine = tmp_path / "mine.csv"
    mine.write_text("interval_id,emotion\n15_0101_1,Fear\n")
    assert main(["inspect-source", "--dataset", "casme2", "--annotations", str(path), "--emotions", str(mine),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["emotions"]["emotion"]["fear"] == 1 and report["fixes"]["emotion_from_file"] == 1
    mine.write_text("video,onset,offset,emotion\n15_0101,557,608,fear\n15_0101,1,2,fear\n")
    assert main(["inspect-source", "--dataset", "casme2", "--annotations", str(path), "--emotions", str(mine)]) == 1
    assert "mine.csv, row 3: video, onset, offset ('15_0101', 1, 2) matches no interval" in capsys.readouterr().err


def test_inspect_source_errors(tmp_path, helpers, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("video,onset,offset,kind\na,1,5,wink\n")
    assert main(["inspect-source", "--dataset", "csv", "--annotations", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.csv, row 2: unknown expression type 'wink'" in err
    assert main(["inspect-source", "--dataset", "csv"]) == 1
    assert "give --root, --annotations or both" in capsys.readouterr().err


def test_inspect_source_registered(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["inspect-source", "--help"])
    out = capsys.readouterr().out
    assert "--annotations" in out and "--offset-fill" in out and "--json" in out

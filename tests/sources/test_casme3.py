"""CAS(ME)³ Part A: workbook quirks and their flags, rules, the frame tree, the generated corpus, inspect-source.

Workbooks are written here as .xlsx with the authors' sheets and headers (no maintained library writes .xls);
the rows are made up, each quirk after one the authors' files show.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import pandas as pd
import pytest
from openpyxl import Workbook

from samm_synth_dataset import format as fmt
from samm_synth_dataset.sources import AnnotationError, FrameGapError, FrameReadError, fix_summary, list_videos
from samm_synth_dataset.sources import read_annotations
from samm_synth_dataset.sources.casme3 import Casme3Rules, canonical_video_id, describe_workbook, video_id

AU_EMOTION = ["Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Expression type", "Objective class"]
LABEL = ["Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Objective class", "emotion"]
MICRO, MACRO = "Micro-expression", "Macro-expression"


def write_workbook(path: Path, rows: Sequence[Sequence[Any]], sheet: str = "AU+Emotion",
                   header: Sequence[str] = AU_EMOTION, blinks: bool = True) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    if blinks:
        eb = wb.create_sheet("eye blink")
        eb.append(["Subject", "Filename", "Onset", "Offset"])
        eb.append(["spNO.1", "a", 100, 104])
    wb.save(path)
    return path


def read_rows(tmp_path: Path, rows, **kw) -> pd.DataFrame:
    return read_annotations(write_workbook(tmp_path / "CAS(ME)3_part_A_v2.xlsx", rows), "casme3", **kw)


def test_clean_rows_ids_and_notes(tmp_path):
    df = read_rows(tmp_path, [("spNO.1", "a", 10, 15, 20, "4+7", MICRO, "II"),
                              (1, "a", 30, 40, 80, "12", MACRO, "I"),         # subject as a bare number
                              ("spNO.3", "J", 5, 6, 9, "NULL", MICRO, None)])  # uppercase clip, AU NULL
    assert list(df.columns) == list(fmt.ANNOTATION_COLUMNS)
    assert df["interval_id"].tolist() == ["spNO1_a_1", "spNO1_a_2", "spNO3_j_1"]
    assert df["video"].tolist() == ["spNO1_a", "spNO1_a", "spNO3_j"]
    assert df["subject"].tolist() == ["spNO.1", "spNO.1", "spNO.3"]
    assert df["kind"].tolist() == ["ME", "MaE", "ME"]
    assert df["source_id"].tolist() == ["spNO.1_a_r2", "spNO.1_a_r3", "spNO.3_J_r4"]
    assert df["action_units"].tolist() == ["4+7", "12", ""]
    assert df["notes"].iloc[0] == ""
    assert df["objective_class"].tolist() == ["II", "I", None]
    assert df["emotion"].isna().all() and df["emotion_megc"].isna().all()  # AU+Emotion has no emotion word
    assert [f for f in df["flags"]] == [[], [], []]
    assert all(fmt.check_id(v) for v in [*df["interval_id"], *df["video"]])  # release-safe: no dots


def test_eye_blink_sheet_is_not_read(tmp_path):
    path = write_workbook(tmp_path / "v2.xlsx", [("spNO.1", "a", 10, 15, 20, "4", MICRO, "II")])
    assert len(read_annotations(path, "casme3")) == 1  # the blink row (100..104) is not an expression
    info = describe_workbook(path)
    assert info["sheet"] == "AU+Emotion" and info["layout"] == "au_emotion"
    assert info["ignored"] == {"eye blink": "eye blinks, not expressions"}


@pytest.mark.parametrize("row, flags, expected", [
    # onset = apex = 0 (spNO.216 e): onset kept as 0, apex null
    (("spNO.216", "e", 0, 0, 40, "4", MACRO, "II"), ["apex_missing", "onset_zero"], (0, None, 40)),
    # offset 0 (spNO.40 e): offset = apex
    (("spNO.40", "e", 100, 106, 0, "4", MICRO, "II"), ["offset_filled"], (100, 106, 106)),
    # onset after offset (spNO.216 d, 3647 vs 2694): exchanged, which makes a 954-frame ME (v2 says 2647)
    (("spNO.216", "d", 3647, 2700, 2694, "12", MICRO, "I"), ["onset_after_offset_swapped", "long_me"],
     (2694, 2700, 3647)),
    (("spNO.216", "d", 2700, 2690, 2694, "12", MICRO, "I"), ["apex_before_onset", "onset_after_offset_swapped"],
     (2694, 2690, 2700)),
    # apex before onset (spNO.149 d) and after offset: kept as written
    (("spNO.149", "d", 50, 45, 60, "1+2", MICRO, "III"), ["apex_before_onset"], (50, 45, 60)),
    (("spNO.149", "d", 50, 70, 60, "1+2", MICRO, "III"), ["offset_before_apex"], (50, 70, 60)),
    # a 5–3460 span (spNO.214 c) as a micro-expression, and a micro row of 201 frames
    (("spNO.214", "c", 5, 3400, 3460, "4", MICRO, "II"), ["long_me"], (5, 3400, 3460)),
    (("spNO.214", "c", 100, 150, 300, "4", MICRO, "II"), ["long_me"], (100, 150, 300)),
    (("spNO.214", "c", 100, 150, 299, "4", MICRO, "II"), [], (100, 150, 299)),  # 200 frames: not flagged
    (("spNO.214", "c", 5, 3400, 3460, "4", MACRO, "II"), ["long_mae"], (5, 3400, 3460)),
    (("spNO.1", "a", 10, None, 20, "4", MICRO, "II"), ["apex_missing"], (10, None, 20)),  # empty apex
    (("spNO.1", "a", 10.5, 15, 20, "4", MICRO, "II"), ["rounded"], (11, 15, 20)),
])
def test_each_quirk_is_flagged_not_dropped(tmp_path, row, flags, expected):
    df = read_rows(tmp_path, [("spNO.1", "b", 1, 2, 3, "4", MICRO, "II"), row])
    assert len(df) == 2 and df["flags"].iloc[0] == []
    rec = df.iloc[1]
    assert sorted(rec["flags"]) == sorted(flags)
    apex = None if pd.isna(rec["apex"]) else int(rec["apex"])
    assert (int(rec["onset"]), apex, int(rec["offset"])) == expected
    if expected != (row[2], row[3], row[4]) and flags != ["rounded"]:
        assert "sheet: onset=" in rec["notes"]  # what the sheet said is kept


def test_alternative_rules(tmp_path):
    rows = [("spNO.216", "e", 0, 0, 40, "4", MACRO, "II"),
            ("spNO.40", "e", 100, 106, 0, "4", MICRO, "II"),
            ("spNO.40", "f", 100, 0, 0, "4", MICRO, "II"),      # offset and apex 0: offset = onset
            ("spNO.149", "d", 50, 45, 60, "1+2", MICRO, "III"),
            ("spNO.214", "c", 5, 3400, 3460, "4", MICRO, "II")]
    rules = Casme3Rules(onset_zero="first_frame", apex_outside="null", long_me="macro")
    df = read_rows(tmp_path, rows, offset_fill="mirror", casme3_rules=rules)
    assert df["flags"].tolist() == [["apex_missing", "onset_raised"], ["offset_filled"],
                                    ["apex_missing", "offset_filled_onset"], ["apex_outside_interval"],
                                    ["long_me_relabelled"]]
    assert df["onset"].tolist()[0] == 1 and df["offset"].tolist()[1:3] == [112, 100]  # mirror: 2·106 − 100
    assert pd.isna(df["apex"].iloc[3]) and df["kind"].iloc[4] == "MaE"
    assert fix_summary(df) == {"apex_missing": 2, "offset_filled": 1, "apex_outside_interval": 1,
                               "long_me_relabelled": 1, "offset_filled_onset": 1, "onset_raised": 1}
    assert Casme3Rules.from_pairs(["onset_zero=first_frame", "long-me-frames=10"]) == Casme3Rules(
        onset_zero="first_frame", long_me_frames=10)


@pytest.mark.parametrize("row, rules, offset_fill, message", [
    (("spNO.216", "e", 0, 5, 40, "4", MACRO, "II"), {"onset_zero": "error"}, "apex", "onset 0"),
    (("spNO.216", "e", 3, 0, 40, "4", MACRO, "II"), {"apex_zero": "error"}, "apex", "apex 0"),
    (("spNO.40", "e", 100, 106, 0, "4", MICRO, "II"), {}, "error", "offset is 0"),
    (("spNO.216", "d", 3647, 2700, 2694, "12", MICRO, "I"), {"onset_after_offset": "error"}, "apex",
     "onset 3647 is after offset 2694"),
    (("spNO.149", "d", 50, 45, 60, "1", MICRO, "I"), {"apex_outside": "error"}, "apex", "apex 45 is outside"),
    (("spNO.214", "c", 5, 34, 3460, "4", MICRO, "II"), {"long_me": "error"}, "apex", "micro-expression of 3456"),
    (("spNO.214", "c", 5, 34, 3460, "4", MACRO, "II"), {"long_mae": "error"}, "apex", "macro-expression of 3456"),
])
def test_error_rules_name_the_row(tmp_path, row, rules, offset_fill, message):
    with pytest.raises(AnnotationError, match=rf"sheet 'AU\+Emotion', row 3: .*{message}"):
        read_rows(tmp_path, [("spNO.1", "b", 1, 2, 3, "4", MICRO, "II"), row], offset_fill=offset_fill,
                  casme3_rules=Casme3Rules(**rules))


def test_jpgindex_label_sheet(tmp_path):
    path = write_workbook(tmp_path / "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx",
                          [("spNO.1", "a", 10, 15, 20, "4", "II", "disgust"),
                           ("spNO.40", "e", 100, 106, 0, "12", "I", "Others")], sheet="label", header=LABEL,
                          blinks=False)
    df = read_annotations(path, "casme3")
    assert df["kind"].tolist() == ["ME", "ME"]  # micro-expressions only
    assert df["notes"].tolist()[0] == ""
    assert df["emotion"].tolist() == ["disgust", "others"] and df["emotion_megc"].tolist() == ["negative", "others"]
    assert df["objective_class"].tolist() == ["II", "I"]
    assert df["flags"].tolist() == [[], ["offset_filled", "emotion_case_normalised"]]  # 'Others' lower-cased
    assert describe_workbook(path)["layout"] == "label"


def test_bad_workbooks(tmp_path):
    header = [c for c in AU_EMOTION if c != "Offset"]
    path = write_workbook(tmp_path / "a.xlsx", [("spNO.1", "a", 1, 2, "4", MICRO, "I")], header=header)
    with pytest.raises(AnnotationError, match=r"row 1: header lacks column\(s\) \['Offset'\]"):
        read_annotations(path, "casme3")
    path = write_workbook(tmp_path / "b.xlsx", [("spNO.1", "a", 1, 2, 3)], sheet="Sheet1", header=AU_EMOTION[:5])
    with pytest.raises(AnnotationError, match=r"no sheet 'AU\+Emotion'.*\['Sheet1', 'eye blink'\]"):
        read_annotations(path, "casme3")
    path = write_workbook(tmp_path / "c.xlsx", [("subject one", "a", 1, 2, 3, "4", MICRO, "I")])
    with pytest.raises(AnnotationError, match=r"row 2: subject 'subject one' is not 'spNO.<N>'"):
        read_annotations(path, "casme3")
    path = write_workbook(tmp_path / "d.xlsx", [("spNO.1", "a", 1, 2, 3, "4", "blink", "I")])
    with pytest.raises(AnnotationError, match=r"row 2: unknown expression type 'blink'"):
        read_annotations(path, "casme3")
    (tmp_path / "e.xls").write_bytes(b"not a workbook")
    with pytest.raises(AnnotationError, match=r"e.xls: cannot open as an .xls/.xlsx workbook"):
        read_annotations(tmp_path / "e.xls", "casme3")
    with pytest.raises(ValueError, match="rule onset_zero='drop'"):
        Casme3Rules(onset_zero="drop")


def test_video_id_spelling():
    assert video_id("spNO.1", "a") == "spNO1_a" and video_id(216, "J") == "spNO216_j"
    assert canonical_video_id("spNO.1_a") == canonical_video_id("spno1_A") == "spNO1_a"
    assert canonical_video_id("006_1") == "006_1"
    with pytest.raises(ValueError):
        video_id("spNO.1", "a.b")


# ---- frames --------------------------------------------------------------------------------------------------


def _clip(root: Path, helpers, subject: str, clip: str, numbers) -> Path:
    color = root / "part_A" / "data" / "part_A_split" / "part_A" / subject / clip / "color"
    for n in numbers:
        helpers.write_jpeg(color / f"{n}.jpg", helpers.grey_frame(n % 250))
    return color


def test_casme3_layout(tmp_path, helpers):
    _clip(tmp_path, helpers, "spNO.1", "a", range(1, 13))  # 1..12: 9 → 10 crosses a digit, names unpadded
    color = _clip(tmp_path, helpers, "spNO.3", "J", range(1, 4))
    (color.parent / "depth").mkdir()
    (color.parent / "depth" / "1.png").write_bytes(b"ignored")
    (tmp_path / "part_A" / "readme.txt").write_text("x")
    base = tmp_path / "part_A" / "data" / "part_A_split" / "part_A"
    for root in (tmp_path, tmp_path / "part_A", base):
        videos = list_videos(root, "casme3")
        assert [v.video for v in videos] == ["spNO1_a", "spNO3_j"]
        v = videos[0]
        assert (v.subject, v.dataset, v.fps, v.frame_numbers) == ("spNO.1", "casme3", 30.0, tuple(range(1, 13)))
        assert [p.name for p in v.frame_paths][8:10] == ["9.jpg", "10.jpg"]
    assert list_videos(tmp_path, "casme3", videos=["spNO3_j"])[0].subject == "spNO.3"
    (base / "spNO.3" / "j" / "color").mkdir(parents=True)  # j and J are one video id
    with pytest.raises(FileNotFoundError, match="are both video spNO3_j"):
        list_videos(tmp_path, "casme3")
    (base / "spNO.3" / "j" / "color").rmdir()
    (base / "spNO.3" / "j").rmdir()
    (base / "spNO.3" / "k").mkdir()
    with pytest.raises(FileNotFoundError, match=r"k: no 'color' folder"):
        list_videos(tmp_path, "casme3")
    with pytest.raises(FileNotFoundError, match="no CAS\\(ME\\)³ subject folders"):
        list_videos(tmp_path / "part_A" / "data", "casme3")


def test_casme3_gap_and_unreadable_frame(tmp_path, helpers):
    color = _clip(tmp_path, helpers, "spNO.4", "j", [1, 2, 3, 4, 6, 7, 8])  # 5 missing
    (color / "3.jpg").write_bytes((color / "3.jpg").read_bytes()[:150])  # truncated, as the authors' list
    (color / "7.jpg").write_bytes(b"")
    with pytest.raises(FrameGapError, match=r"spNO4_j has 2 unreadable frame\(s\): 3.jpg \(truncated .*\), "
                                            r"7.jpg \(empty\)") as err:
        list_videos(tmp_path, "casme3")
    assert err.value.missing == (3, 7)
    (color / "7.jpg").unlink()
    helpers.write_jpeg(color / "7.jpg", helpers.grey_frame())
    with pytest.raises(FrameGapError, match=r"3.jpg \(truncated"):
        list_videos(tmp_path, "casme3")
    v = list_videos(tmp_path, "casme3", allow_gaps=True)[0]
    assert v.missing == (3, 5) and v.frame_numbers == (1, 2, 4, 6, 7, 8)
    helpers.write_jpeg(color / "03.jpg", helpers.grey_frame())
    (color / "3.jpg").unlink()
    helpers.write_jpeg(color / "3.jpg", helpers.grey_frame())
    with pytest.raises(FrameReadError, match=r"frame numbers 3 appear more than once"):
        list_videos(tmp_path, "casme3", allow_gaps=True)


# ---- the generated corpus ------------------------------------------------------------------------------------


EXPECTED_FLAGS = {("v2", "apex_before_onset"): ["apex_before_onset"],
                  ("v2", "apex_after_offset"): ["offset_before_apex"],
                  ("v2", "long_me"): ["long_me"],
                  ("v2", "onset_apex_zero"): ["apex_missing", "onset_zero"],
                  ("label", "offset_zero"): ["offset_filled"],
                  ("label", "onset_after_offset"): ["onset_after_offset_swapped", "apex_before_onset"],
                  ("label", "emotion_case"): ["emotion_case_normalised"]}


def test_corpus_reads_with_every_quirk_flagged(casme3_corpus):
    truth = pd.read_csv(casme3_corpus.ground_truth / "intervals.csv", dtype={"quirk": str}, keep_default_na=False)
    videos = list_videos(casme3_corpus.root, "casme3")
    assert [v.video for v in videos] == sorted(casme3_corpus.videos)
    assert {v.subject for v in videos} == {"spNO.1", "spNO.216"} and all(v.fps == 30.0 for v in videos)
    assert all(v.frame_numbers == tuple(range(1, v.n_frames + 1)) for v in videos)
    assert {(wb, q) for wb, q in zip(truth["workbook"], truth["quirk"]) if q} == set(EXPECTED_FLAGS)
    for workbook, path in (("v2", casme3_corpus.annotations), ("label", casme3_corpus.label_workbook)):
        df = read_annotations(path, "casme3", video_lengths=videos)
        rows = truth[truth["workbook"] == workbook].reset_index(drop=True)
        assert len(df) == len(rows) and set(df["video"]) <= set(casme3_corpus.videos)
        for rec, t in zip(df.to_dict("records"), rows.to_dict("records")):
            assert (rec["video"], rec["kind"]) == (t["video"], t["kind"])
            assert rec["flags"] == EXPECTED_FLAGS.get((workbook, t["quirk"]), []), t
            if not t["quirk"]:  # clean rows read back as the true intervals
                assert (rec["onset"], rec["apex"], rec["offset"]) == (t["onset"], int(t["apex"]), t["offset"])
    assert len(read_annotations(casme3_corpus.label_workbook, "casme3")) == (truth["workbook"] == "label").sum()


def test_inspect_source_casme3(casme3_corpus, capsys):
    from samm_synth_dataset.cli import main

    assert main(["inspect-source", "--dataset", "casme3", "--root", str(casme3_corpus.root),
                 "--annotations", str(casme3_corpus.annotations)]) == 0
    out = capsys.readouterr().out
    assert "videos: 5 (2 subjects), frames: 620, missing frames: 0" in out
    assert "intervals: 10 (ME 5, MaE 5)" in out
    for line in ("apex_missing", "onset_zero", "offset_before_apex", "apex_before_onset", "long_me"):
        assert f"  {line:<20} 1" in out
    assert "sheet not read: 'eye blink' (eye blinks, not expressions)" in out
    assert main(["inspect-source", "--dataset", "casme3", "--annotations", str(casme3_corpus.label_workbook),
                 "--json", "--casme3-rule", "onset_after_offset=swap", "--casme3-rule", "apex_outside=null"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["fixes"] == {"offset_filled": 1, "apex_outside_interval": 1, "onset_after_offset_swapped": 1,
                               "emotion_case_normalised": 1}
    assert report["emotions"]["emotion"] == {"others": 2, "disgust": 1, "happy": 1, "surprise": 1}
    assert report["emotions"]["emotion_megc"] == {"others": 2, "negative": 1, "positive": 1, "surprise": 1}
    assert report["intervals_by_kind"] == {"ME": 5, "MaE": 0}
    assert report["workbook"]["sheet"] == "label" and sorted(report["workbook"]["ignored"]) == ["Sheet1", "Sheet3"]
    assert main(["inspect-source", "--dataset", "casme3", "--annotations", str(casme3_corpus.annotations),
                 "--casme3-rule", "onset_zero=error"]) == 1
    assert "row 10: onset 0" in capsys.readouterr().err


def test_real_xls_file():
    """A 5.5 KB BIFF8 .xls with made-up rows (written once with xlwt 1.3.0, which is not a dependency): the
    authors publish .xls, which python-calamine reads."""
    path = Path(__file__).parent / "data" / "casme3_part_A_tiny.xls"
    df = read_annotations(path, "casme3")
    assert df["video"].tolist() == ["spNO1_a", "spNO216_e", "spNO216_d", "spNO149_d"]
    assert df["kind"].tolist() == ["MaE", "MaE", "ME", "ME"]
    assert df["flags"].tolist() == [[], ["apex_missing", "onset_zero"], ["onset_after_offset_swapped", "long_me"],
                                    ["apex_before_onset"]]
    assert (df["onset"].tolist(), df["offset"].tolist()) == ([12, 0, 2694, 50], [20, 40, 3647, 60])
    assert describe_workbook(path)["ignored"] == {"eye blink": "eye blinks, not expressions"}

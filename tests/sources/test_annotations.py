"""read_annotations: SAMM-LV V1/V2/CSV, CAS(ME)², generic CSV and MEGC2023 CSV, with every quirk and error."""

from __future__ import annotations

import pandas as pd
import pytest

from samm_synth_dataset.format import ANNOTATION_COLUMNS, check_id
from samm_synth_dataset.sources import (
    AnnotationError,
    clip_offsets,
    fix_summary,
    read_annotations,
)


def _check_contract(df: pd.DataFrame) -> None:
    assert tuple(df.columns) == ANNOTATION_COLUMNS
    assert df["onset"].dtype == "int64" and df["offset"].dtype == "int64"
    assert str(df["apex"].dtype) == "Int64"
    assert all(isinstance(f, list) and all(isinstance(x, str) for x in f) for f in df["flags"])
    assert df["interval_id"].is_unique
    for iid in df["interval_id"]:
        check_id(iid, "interval id")
    assert set(df["kind"]) <= {"ME", "MaE"}
    assert (df["offset"] >= df["onset"]).all()


def _row(df: pd.DataFrame, interval_id: str) -> dict:
    rows = df[df["interval_id"] == interval_id]
    assert len(rows) == 1, interval_id
    return rows.iloc[0].to_dict()


# ------------------------------------------------------------------------------------------------ SAMM-LV


def test_samm_v1_every_rule(samm_xlsx):
    df = read_annotations(samm_xlsx(), "samm-lv")
    _check_contract(df)
    assert len(df) == 8  # nothing dropped: onset-0 row and both duplicates kept
    r = _row(df, "006_1_1")
    assert (r["onset"], r["apex"], r["offset"]) == (566, 648, 743) and r["flags"] == ["rounded"]
    assert r["subject"] == "006" and r["video"] == "006_1" and r["kind"] == "MaE" and r["action_units"] == "R12"
    r = _row(df, "006_1_2")
    assert r["kind"] == "ME" and r["flags"] == [] and r["notes"] == "Eye movement"
    r = _row(df, "010_1_3")
    assert pd.isna(r["apex"]) and r["flags"] == ["apex_missing"] and r["notes"] == "Glasses"
    r = _row(df, "011_6_8")
    assert r["onset"] == 0 and r["flags"] == ["onset_zero"]
    first, second = _row(df, "037_4_1"), _row(df, "037_4_1-2")
    assert first["source_id"] == second["source_id"] == "037_4_1"
    assert (first["kind"], first["onset"]) == ("ME", 1488) and (second["kind"], second["onset"]) == ("MaE", 1487)
    r = _row(df, "011_3_6")  # half-up: 100.5 -> 101, 200.5 -> 201
    assert (r["onset"], r["offset"]) == (101, 201) and r["flags"] == ["rounded"]
    assert _row(df, "020_6_5")["offset"] == 5476  # not clipped until the frames are known
    assert fix_summary(df) == {"rounded": 2, "apex_missing": 1, "onset_zero": 1}


def test_samm_v2_int_subjects_other_header_row_same_result(samm_xlsx):
    v1 = read_annotations(samm_xlsx(), "samm-lv")
    v2 = read_annotations(samm_xlsx("v2.xlsx", header_row=13, subject_as_int=True, duration_formula=False),
                          "samm-lv")
    pd.testing.assert_frame_equal(v1, v2)
    no_preamble = read_annotations(samm_xlsx("bare.xlsx", header_row=1, preamble=False, sheet="Sheet1"),
                                   "samm-lv")
    pd.testing.assert_frame_equal(v1, no_preamble)


def test_samm_v3_workbook_reads_as_v1_v2(samm_xlsx):
    """SAMM_LongVideos_V3_Release.xlsx: same header on row 10, its one sheet not named FACS_Movement_Only."""
    v1 = read_annotations(samm_xlsx(), "samm-lv")
    v3 = read_annotations(samm_xlsx("SAMM_LongVideos_V3_Release.xlsx", sheet="SAMM_LV_V3", subject_as_int=True),
                          "samm-lv")
    pd.testing.assert_frame_equal(v1, v3)
    assert fix_summary(v3) == {"rounded": 2, "apex_missing": 1, "onset_zero": 1}


def test_samm_csv_export(tmp_path, helpers):
    df = read_annotations(helpers.write_samm_csv(tmp_path / "SAMM_LongVideos_V2_Release.csv"), "samm-lv")
    _check_contract(df)
    pd.testing.assert_frame_equal(df, read_annotations(helpers.write_samm_xlsx(tmp_path / "a.xlsx"), "samm-lv"))


def test_samm_type_spelling_tolerated(samm_xlsx, helpers):
    rows = [("006", "006_1_1", 1, 1, 2, 3, "micro-1/2", "", None), ("006", "006_1_2", 1, 1, 2, 3, " MACRO ", "",
                                                                     None)]
    df = read_annotations(samm_xlsx(rows=rows), "samm-lv")
    assert list(df["kind"]) == ["ME", "MaE"]


def test_samm_clip_offsets_with_lengths(samm_xlsx):
    df = read_annotations(samm_xlsx(), "samm-lv", video_lengths={"020_6": 5001})
    r = _row(df, "020_6_5")
    assert r["offset"] == 5001 and r["flags"] == ["offset_clipped"]
    assert fix_summary(df)["offset_clipped"] == 1


@pytest.mark.parametrize("bad, message", [
    ((("006", "006_1_1", 1, 10, 20, 30, "Mikro", "", None),), "unknown expression type 'Mikro'"),
    ((("006", "006_1_1", 1, "ten", 20, 30, "Macro", "", None),), "Onset 'ten' is not a frame number"),
    ((("006", "006_1_1", 1, None, 20, 30, "Macro", "", None),), "Onset is empty"),
    ((("006", "0061", 1, 10, 20, 30, "Macro", "", None),), "Filename '0061'"),
    ((("007", "006_1_1", 1, 10, 20, 30, "Macro", "", None),), "does not match Filename"),
    ((("006", "006_1_1", 1, 40, 20, 30, "Macro", "", None),), "offset 30 is before onset 40"),
    ((("006", "006_1_1", 1, 10, -3, 30, "Macro", "", None),), "Apex -3 is negative"),
    ((("six", "006_1_1", 1, 10, 20, 30, "Macro", "", None),), "Subject 'six' is not a subject number"),
    ((("006", "006_1_1", 1, -5, 20, 30, "Macro", "", None),), "negative onset/offset (-5, 30)"),
    ((("006", "006_1_1", 1, -2.5, 20, 30, "Macro", "", None),), "Onset -2.5 is negative and fractional"),
])
def test_samm_bad_row_names_file_sheet_row(samm_xlsx, bad, message):
    rows = [("006", "006_1_9", 1, 1, 2, 3, "Macro", "", None)] + list(bad)
    path = samm_xlsx(rows=rows)
    with pytest.raises(AnnotationError) as err:
        read_annotations(path, "samm-lv")
    assert isinstance(err.value, ValueError)
    text = str(err.value)
    assert str(path) in text and "sheet 'FACS_Movement_Only'" in text and "row 12" in text and message in text


def test_samm_no_header(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Subject", "Filenames", "Duration"])
    wb.save(tmp_path / "x.xlsx")
    with pytest.raises(AnnotationError, match="no SAMM-LV header row"):
        read_annotations(tmp_path / "x.xlsx", "samm-lv")
    (tmp_path / "bad.xlsx").write_bytes(b"not a zip")
    with pytest.raises(AnnotationError, match="cannot open"):
        read_annotations(tmp_path / "bad.xlsx", "samm-lv")
    with pytest.raises(FileNotFoundError):
        read_annotations(tmp_path / "absent.xlsx", "samm-lv")
    with pytest.raises(ValueError, match="unknown dataset"):
        read_annotations(tmp_path / "x.xlsx", "samm")


def test_demo_corpus_sheet_matches_ground_truth(demo_corpus):
    """The demo corpus (quirks on): every row read, fixes flagged, values equal to the generator's truth."""
    from samm_synth_dataset.sources import list_videos
    from samm_synth_dataset.demo.corpus import load_ground_truth

    videos = list_videos(demo_corpus.root, "samm-lv")
    df = read_annotations(demo_corpus.annotations, "samm-lv", video_lengths=videos)
    _check_contract(df)
    truth, _ = load_ground_truth(demo_corpus.root)
    assert len(df) == len(truth)
    for (_, t), (_, r) in zip(truth.iterrows(), df.iterrows()):  # same sheet order
        assert r["source_id"] == t["source_id"] and r["video"] == t["video"] and r["kind"] == t["kind"]
        quirks = set(str(t["quirk"]).split(";")) - {"", "nan"}
        assert r["offset"] == t["offset"]  # clipped to the video as the truth is
        if "onset_zero" in quirks:
            assert r["onset"] == 0 and "onset_zero" in r["flags"]
        else:
            assert r["onset"] == t["onset"]
        if "apex_missing" in quirks:
            assert pd.isna(r["apex"]) and "apex_missing" in r["flags"]
        else:
            assert r["apex"] == t["apex"]
        assert ("rounded" in r["flags"]) == ("fractional" in quirks)
        assert ("offset_clipped" in r["flags"]) == ("offset_past_end" in quirks)


# ------------------------------------------------------------------------------------------------ CAS(ME)²


def test_casme_every_rule(casme_xlsx):
    path = casme_xlsx()
    df = read_annotations(path, "casme2")
    _check_contract(df)
    assert len(df) == 6
    r = _row(df, "15_0101_1")
    assert (r["subject"], r["video"], r["source_id"]) == ("s15", "15_0101", "disgust1_1")
    assert (r["onset"], r["apex"], r["offset"], r["kind"]) == (557, 572, 608, "MaE")
    assert r["action_units"] == "4+7" and r["notes"] == ""
    assert (r["emotion"], r["emotion_megc"], r["objective_class"]) == ("disgust", "negative", None)
    assert _row(df, "15_0101_2")["kind"] == "ME"
    r = _row(df, "15_0502_1")  # offset 0 -> apex (default rule)
    assert (r["onset"], r["apex"], r["offset"]) == (300, 320, 320) and r["flags"] == ["offset_filled"]
    r = _row(df, "34_0401_1")  # apex 0 -> null; 'NULL' AUs -> ''
    assert pd.isna(r["apex"]) and r["flags"] == ["apex_missing"] and r["action_units"] == ""
    r = _row(df, "25_0101_5")  # offset < apex kept
    assert (r["apex"], r["offset"]) == (1230, 1224) and r["flags"] == ["offset_before_apex"]
    assert r["action_units"] == "4"
    r = _row(df, "15_0503_1")
    assert r["video"] == "15_0503"  # leading zero of the text code kept
    # both emotion columns kept: 'Others' lower-cased (flagged), the self-report's typo kept as written
    assert (r["emotion"], r["emotion_megc"], r["flags"]) == ("happyiness", "others", ["emotion_case_normalised"])
    assert fix_summary(df) == {"apex_missing": 1, "offset_filled": 1, "offset_before_apex": 1,
                               "emotion_case_normalised": 1}


def test_casme_refuses_an_unknown_estimated_emotion(casme_xlsx, helpers):
    rows = list(helpers.CASME_ROWS)
    rows[1] = rows[1][:6] + ("sad",) + rows[1][7:]
    with pytest.raises(AnnotationError, match=r"row 2: estimated emotion \(column 7\) 'sad' is not one of "
                                              r"negative, positive, surprise, others"):
        read_annotations(casme_xlsx(rows=rows), "casme2")


def test_samm_has_no_emotion_columns(samm_xlsx):
    df = read_annotations(samm_xlsx(), "samm-lv")
    assert df[["emotion", "emotion_megc", "objective_class"]].isna().all().all()


def test_casme_offset_fill_rules(casme_xlsx):
    path = casme_xlsx()
    mirror = read_annotations(path, "casme2", offset_fill="mirror")
    assert _row(mirror, "15_0502_1")["offset"] == 2 * 320 - 300
    with pytest.raises(AnnotationError, match=r"sheet 'CASFEcode_final', row 3: offset is 0"):
        read_annotations(path, "casme2", offset_fill="error")
    with pytest.raises(ValueError, match="unknown offset_fill"):
        read_annotations(path, "casme2", offset_fill="midpoint")


def test_casme_numeric_codes_and_clipping(casme_xlsx, helpers):
    codes = [(int(c), n) for c, n in helpers.CASME_CODES]  # a re-saved sheet: 101 instead of '0101'
    df = read_annotations(casme_xlsx(codes=codes), "casme2", video_lengths={"15_0101": 1210})
    assert _row(df, "15_0101_1")["video"] == "15_0101" and _row(df, "15_0101_1")["flags"] == []
    r = _row(df, "15_0101_2")
    assert r["offset"] == 1210 and r["flags"] == ["offset_clipped"]


@pytest.mark.parametrize("row, message", [
    ((1, "sadness1_1", 10, 20, 30, "4", "negative", "macro-expression", "sad"), "expression name 'sadness1_1'"),
    ((5, "disgust1_1", 10, 20, 30, "4", "negative", "macro-expression", "x"), "subject index 5 is not in"),
    (("one", "disgust1_1", 10, 20, 30, "4", "negative", "macro-expression", "x"), "subject index 'one'"),
    ((1, "disgust1_1", 10, 20, 30, "4", "negative", "mini-expression", "x"), "unknown expression type"),
    ((1, "disgust1_1", 10, 0, 0, "4", "negative", "macro-expression", "x"), "offset and apex are both 0"),
    ((1, "disgust1_1", 0, 20, 30, "4", "negative", "macro-expression", "x"), "must be 1-based"),
])
def test_casme_bad_rows(tmp_path, helpers, row, message):
    path = helpers.write_casme_xlsx(tmp_path / "c.xlsx", rows=list(helpers.CASME_ROWS[:2]) + [row])
    with pytest.raises(AnnotationError) as err:
        read_annotations(path, "casme2")
    assert f"{path}, sheet 'CASFEcode_final', row 3" in str(err.value) and message in str(err.value)


def _casme_naming_error(tmp_path, helpers, sheet: str, rows: list[list]) -> str:
    """A valid CAS(ME)² workbook whose naming sheet ``sheet`` is replaced by ``rows``; the error text."""
    from openpyxl import load_workbook

    path = helpers.write_casme_xlsx(tmp_path / "c.xlsx", rows=list(helpers.CASME_ROWS[:2]))
    wb = load_workbook(path)
    ws = wb[sheet]
    ws.delete_rows(1, ws.max_row)
    for row in rows:
        ws.append(row)
    wb.save(path)
    with pytest.raises(AnnotationError) as err:
        read_annotations(path, "casme2")
    assert f"{path}, sheet '{sheet}', row" in str(err.value)
    return str(err.value)


def test_casme_naming_sheet_errors_name_sheet_and_row(tmp_path, helpers):
    assert "expected (folder number, folder name, subject index)" in _casme_naming_error(
        tmp_path, helpers, "naming rule1", [[15, "s15", 1], ["fifteen", "s15", 1]])
    assert "subject index 1 maps to (15, 's15') and to (16, 's16')" in _casme_naming_error(
        tmp_path, helpers, "naming rule1", [[15, "s15", 1], [16, "s16", 1]])
    assert "row 2: expected (code like '0101'" in _casme_naming_error(
        tmp_path, helpers, "naming rule2", [["0101", "disgust1"], [None, "disgust2"]])
    assert "code 'x1' is not a number like '0101'" in _casme_naming_error(
        tmp_path, helpers, "naming rule2", [["x1", "disgust1"]])


def test_casme_header_row_added_by_users_is_skipped(tmp_path, helpers):
    header = ("subject", "name", "onset", "apex", "offset", "AUs", "emotion", "type", "self-report")
    path = helpers.write_casme_xlsx(tmp_path / "c.xlsx", rows=[header] + list(helpers.CASME_ROWS[:2]))
    assert len(read_annotations(path, "casme2")) == 2


def test_casme_needs_three_sheets(tmp_path, samm_xlsx):
    with pytest.raises(AnnotationError, match="three sheets"):
        read_annotations(samm_xlsx(), "casme2")


# ------------------------------------------------------------------------------------------------ generic CSV


def test_generic_csv(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("video,onset,offset,kind,apex,subject,action_units,notes\n"
                    "clip_a,10,20,ME,15,p1,AU12,smile\n"
                    "clip_a,30,80,macro,,p1,,\n"
                    "clip_a,30,80,MaE,-1,p1,,\n"
                    "clip_b,5.5,9,me,7,,,\n")
    df = read_annotations(path, "generic")
    _check_contract(df)
    assert list(df["interval_id"]) == ["clip_a_1", "clip_a_2", "clip_a_3", "clip_b_1"]
    assert list(df["kind"]) == ["ME", "MaE", "MaE", "ME"]
    assert list(df["subject"]) == ["p1", "p1", "p1", "clip"]
    assert df["apex"].iloc[0] == 15 and pd.isna(df["apex"].iloc[1]) and pd.isna(df["apex"].iloc[2])
    assert df["flags"].tolist() == [[], ["apex_missing"], ["apex_missing"], ["rounded"]]
    assert df["onset"].iloc[3] == 6


def test_megc2023_csv(tmp_path):
    path = tmp_path / "samm_pred.csv"
    path.write_text("vid,onset,offset,type\n006_1,100,150,me\n006_1,400,900,mae\n")
    df = read_annotations(path, "generic")
    _check_contract(df)
    assert list(df["kind"]) == ["ME", "MaE"] and list(df["subject"]) == ["006", "006"]
    assert df["apex"].isna().all() and df["flags"].tolist() == [[], []]


def test_generic_csv_errors(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("video,onset,kind\na,1,ME\n")
    with pytest.raises(AnnotationError, match=r"row 1: header .* lacks \['offset'\]"):
        read_annotations(path, "generic")
    path.write_text("video,onset,offset,kind\na,1,5,ME\na,1,5,blink\n")
    with pytest.raises(AnnotationError, match=rf"{path}, row 3: unknown expression type 'blink'"):
        read_annotations(path, "generic")
    path.write_text("")
    with pytest.raises(AnnotationError, match=rf"{path}: empty CSV"):
        read_annotations(path, "generic")
    path.write_text("video,onset,offset,kind\n,1,5,ME\n")
    with pytest.raises(AnnotationError, match=rf"{path}, row 2: video is empty"):
        read_annotations(path, "generic")
    path.write_text("video,onset,offset,kind,apex\na,1,5,ME,-4\n")
    with pytest.raises(AnnotationError, match=rf"{path}, row 2: negative frame number in \(1, -4, 5\)"):
        read_annotations(path, "generic")


def test_generic_ids_sanitised_and_unique(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("interval_id,video,onset,offset,kind\nev.1,a,1,5,ME\nev.1,a,2,6,ME\nev_1-2,a,3,7,ME\n")
    df = read_annotations(path, "generic")
    _check_contract(df)
    assert list(df["source_id"]) == ["ev.1", "ev.1", "ev_1-2"]
    assert list(df["interval_id"]) == ["ev_1", "ev_1-3", "ev_1-2"]  # never collides with an existing id


# ------------------------------------------------------------------------------------------------ helpers


def test_clip_offsets_rules(samm_xlsx):
    df = read_annotations(samm_xlsx(), "samm-lv")
    out = clip_offsets(df, {"006_1": 3620, "037_4": 1550})
    assert _row(out, "006_1_1")["offset"] == 743 and _row(out, "006_1_1")["flags"] == ["rounded"]
    assert _row(out, "006_1_2")["offset"] == 3620 and _row(out, "006_1_2")["flags"] == ["offset_clipped"]
    r = _row(out, "037_4_1")
    assert (r["apex"], r["offset"], r["flags"]) == (1529, 1550, ["offset_clipped"])
    assert _row(out, "037_4_1-2")["offset"] == 1550
    assert _row(df, "006_1_2")["flags"] == [] and _row(df, "006_1_2")["offset"] == 3640  # input untouched
    out = clip_offsets(df, {"037_4": 1530})
    assert pd.isna(_row(out, "037_4_1-2")["apex"]) and "apex_outside_video" in _row(out, "037_4_1-2")["flags"]
    with pytest.raises(AnnotationError, match="onset 1488 is past the video's last frame 1000"):
        clip_offsets(df, {"037_4": 1000})


def test_samm_missing_required_column_is_named(tmp_path, helpers):
    """Issue 14 item 14: a header lacking a column names it, not 'no header row'."""
    from openpyxl import load_workbook

    path = helpers.write_samm_xlsx(tmp_path / "x.xlsx")
    wb = load_workbook(path)
    ws = wb.active
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Subject")
    type_col = next(c for c in range(1, ws.max_column + 1) if ws.cell(header, c).value == "Type")
    ws.delete_cols(type_col)
    wb.save(path)
    with pytest.raises(AnnotationError, match=rf"^{path}, sheet 'FACS_Movement_Only', row {header}: the SAMM-LV "
                                              r"header row lacks column\(s\) Type \(a header needs Subject, "
                                              r"Filename, Onset, Apex, Offset and Type\)$"):
        read_annotations(path, "samm-lv")


def test_casme_missing_required_column_is_named(tmp_path, helpers):
    """Issue 14 item 14: a CAS(ME)² sheet cut short names the missing columns."""
    rows = [row[:7] for row in helpers.CASME_ROWS[:2]]  # no type, no self-report
    path = helpers.write_casme_xlsx(tmp_path / "c.xlsx", rows=rows)
    with pytest.raises(AnnotationError, match=rf"^{path}, sheet 'CASFEcode_final': 7 column\(s\), but a CAS\(ME\)² "
                                              r"sheet has 8 or 9: missing type \(columns in order: subject index, "
                                              r"expression name, onset, apex, offset, action units, emotion, type, "
                                              r"self-report\)$"):
        read_annotations(path, "casme2")


def test_an_exact_duplicate_row_is_kept_once_and_flagged(tmp_path, helpers):
    """Issue 24 item 3: a row the sheet repeats exactly used to give two intervals (``006_1_1`` and ``006_1_1-2``)
    with "fixes: none". It is kept once, flagged ``duplicate_row`` (counted by the fix summary); on request every
    copy is kept, each flagged. A repeated Filename with other content stays two intervals."""
    from samm_synth_dataset.sources.annotations import fix_summary

    rows = [("006", "006_1_1", 1, 566, 647, 743, "Macro", "R12", None)] * 2 + \
        [("006", "006_1_2", 1, 800, 810, 820, "Micro - 1/2", "L4", None),
         ("006", "006_1_2", 1, 900, 910, 1000, "Macro", "L4", None)]
    path = helpers.write_samm_csv(tmp_path / "sheet.csv", rows)
    df = read_annotations(path, "samm-lv")
    assert list(df["interval_id"]) == ["006_1_1", "006_1_2", "006_1_2-2"]
    assert list(df["flags"].iloc[0]) == ["duplicate_row"] and fix_summary(df)["duplicate_row"] == 1
    assert all("duplicate_row" not in f for f in df["flags"].iloc[1:])   # same Filename, other content: two
    kept = read_annotations(path, "samm-lv", keep_duplicate_rows=True)
    assert list(kept["interval_id"]) == ["006_1_1", "006_1_1-2", "006_1_2", "006_1_2-2"]
    assert all("duplicate_row" in f for f in kept["flags"].iloc[:2])


def test_join_emotions_by_id_or_frames(casme_xlsx, samm_xlsx, tmp_path):
    from samm_synth_dataset.sources import join_emotions

    df = read_annotations(samm_xlsx(), "samm-lv")
    first, second = df.iloc[0], df.iloc[1]
    mine = tmp_path / "mine.csv"
    mine.write_text(f"interval_id,emotion\n{first['interval_id']},Contempt\n")
    out = join_emotions(df, mine)
    assert (out["emotion"].iloc[0], out["emotion_megc"].iloc[0]) == ("contempt", "negative")
    assert out["flags"].iloc[0][-1] == "emotion_from_file" and out["emotion"].iloc[1:].isna().all()
    assert df["emotion"].isna().all()                           # a new table; the input is unchanged
    mine.write_text(f"source_video,onset,offset,emotion\n{second['video']},{second['onset']},{second['offset']},"
                    "tense\n")
    out = join_emotions(df, mine)
    assert (out["emotion"].iloc[1], out["emotion_megc"].iloc[1]) == ("tense", "others")
    mine.write_text(f"interval_id,emotion\n{first['interval_id']},fear\n{first['interval_id']},anger\n")
    with pytest.raises(AnnotationError, match=r"mine.csv, row 3: gives interval .* the emotion 'anger', but row 2 "
                                              r"gave it 'fear'"):
        join_emotions(df, mine)
    mine.write_text("interval_id,emotion\nnope,fear\n")
    with pytest.raises(AnnotationError, match=r"mine.csv, row 2: interval id 'nope' matches no interval"):
        join_emotions(df, mine)
    mine.write_text("video,emotion\n006_1,fear\n")
    with pytest.raises(AnnotationError, match=r"mine.csv, row 1: header .* needs 'emotion' and either"):
        join_emotions(df, mine)

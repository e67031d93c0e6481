"""The MEGC scorer on hand-worked cases (numbers worked out by hand in the comments)."""

from __future__ import annotations

import argparse
import json

import pandas as pd
import pytest

from samm_synth_dataset.spotting.commands import add_score_command as add_commands
from samm_synth_dataset.spotting.scorer import inclusive_iou, log_lines, match_spotting, score_spotting


def megc(rows: list[tuple[str, int, int, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["vid", "onset", "offset", "type"])


def counts(s: dict) -> tuple:
    return s["tp"], s["fp"], s["fn"], s["n_pred"], s["n_gt"]


def test_inclusive_iou():
    assert inclusive_iou(5, 5, 5, 5) == 1.0            # 1-frame intervals have length 1
    assert inclusive_iou(5, 6, 5, 5) == 0.5            # 1 / 2
    assert inclusive_iou(1, 4, 5, 8) == 0.0            # disjoint (the organisers' code would say 1 / 9)
    assert inclusive_iou(10, 20, 12, 22) == pytest.approx(9 / 13)


def test_overlapping_gts_both_rules():
    # GT A=[10,20], B=[12,22]. p1=[11,21]: IoU 10/12 with both (tie). p2=[10,20]: IoU 1 with A, 9/13 with B.
    gt = megc([("v1", 10, 20, "me"), ("v1", 12, 22, "me")])
    pred = megc([("v1", 11, 21, "me"), ("v1", 10, 20, "me")])
    s = score_spotting(pred, gt)
    assert counts(s["ME"]) == (2, 0, 0, 2, 2)          # both GTs found
    assert s["ME"]["f1"] == 1.0
    # SoftNet: p1 takes A (first on the tie); p2's best GT is A, already matched -> FP, although B would qualify.
    s1 = score_spotting(pred, gt, matching="one-to-one")
    assert counts(s1["ME"]) == (1, 1, 1, 2, 2)
    assert s1["ME"]["precision"] == 0.5 and s1["ME"]["recall"] == 0.5 and s1["ME"]["f1"] == 0.5


def test_duplicate_proposals_are_false_positives():
    gt = megc([("v1", 100, 150, "mae")])
    pred = megc([("v1", 100, 150, "mae"), ("v1", 101, 150, "mae"), ("v1", 100, 150, "mae")])
    for rule in ("megc2020", "one-to-one"):
        s = score_spotting(pred, gt, matching=rule)["MaE"]
        assert counts(s) == (1, 2, 0, 3, 1)
        assert s["precision"] == pytest.approx(1 / 3) and s["recall"] == 1.0 and s["f1"] == pytest.approx(0.5)


def test_one_proposal_over_two_gts():
    # GT [1,2] and [3,4]; the proposal [1,4] has IoU exactly 2/4 = 0.5 with each.
    gt = megc([("v1", 1, 2, "me"), ("v1", 3, 4, "me")])
    pred = megc([("v1", 1, 4, "me")])
    s = score_spotting(pred, gt)["ME"]
    # Organisers' rule: both GTs found by one proposal: TP 2, FP = 1 - 2 = -1, precision 2 (documented quirk).
    assert counts(s) == (2, -1, 0, 1, 2)
    assert s["precision"] == 2.0 and s["recall"] == 1.0 and s["f1"] == pytest.approx(4 / 3)
    s1 = score_spotting(pred, gt, matching="one-to-one")["ME"]
    assert counts(s1) == (1, 0, 1, 1, 2)
    assert s1["f1"] == pytest.approx(2 * 1 * 0.5 / 1.5)
    s2 = score_spotting(pred, gt, iou=0.6)["ME"]         # below threshold: nothing is hit
    assert counts(s2) == (0, 1, 2, 1, 2) and s2["f1"] == 0.0


def test_videos_without_gt_or_without_proposals():
    gt = megc([("v1", 10, 20, "me"), ("v2", 30, 40, "me")])
    pred = megc([("v1", 10, 20, "me"), ("v3", 1, 5, "me")])   # v2 has no proposal, v3 no GT
    s = score_spotting(pred, gt, videos=["v1", "v2", "v3"])["ME"]  # v3 is a known video without GT
    assert counts(s) == (1, 1, 1, 2, 2)
    assert s["precision"] == 0.5 and s["recall"] == 0.5


def test_one_frame_intervals():
    gt = megc([("v1", 5, 5, "me"), ("v1", 50, 50, "me"), ("v1", 80, 80, "me")])
    pred = megc([("v1", 5, 5, "me"), ("v1", 50, 51, "me"), ("v1", 81, 81, "me")])
    s = score_spotting(pred, gt)["ME"]
    assert counts(s) == (2, 1, 1, 3, 3)                 # [5,5] IoU 1; [50,51] IoU 1/2; [81,81] IoU 0


def test_kinds_are_separate_and_overall_pools_counts():
    gt = megc([("v1", 10, 20, "me"), ("v1", 100, 200, "mae"), ("v1", 300, 400, "mae")])
    pred = megc([("v1", 10, 20, "mae"),                           # right place, wrong kind: MaE FP, ME FN
                 ("v1", 100, 200, "mae"), ("v1", 300, 400, "mae"), ("v1", 500, 600, "mae")])
    s = score_spotting(pred, gt)
    assert counts(s["ME"]) == (0, 0, 1, 0, 1) and s["ME"]["f1"] == 0.0 and s["ME"]["precision"] == 0.0
    assert counts(s["MaE"]) == (2, 2, 0, 4, 2)
    assert counts(s["overall"]) == (2, 2, 1, 4, 3)
    # pooled: P = 2/4, R = 2/3, F1 = 4/7 -- not the mean of the per-kind F1s (0 and 2/3).
    assert s["overall"]["f1"] == pytest.approx(4 / 7)
    assert set(s) == {"ME", "MaE", "overall"}
    assert set(s["overall"]) == {"tp", "fp", "fn", "n_pred", "n_gt", "precision", "recall", "f1"}


def test_empty_predictions():
    gt = megc([("v1", 10, 20, "me")])
    with pytest.warns(UserWarning, match="predictions table: no predictions; every ground-truth interval counts "
                                         "as a miss"):
        s = score_spotting(megc([]), gt)
    assert counts(s["ME"]) == (0, 0, 1, 0, 1) and s["ME"]["f1"] == 0.0 and s["MaE"]["n_gt"] == 0


def test_intervals_table_gt_on_source_or_synthetic_ids():
    # Our intervals table: one source interval copied to two synthetic videos (two references).
    gt = pd.DataFrame({
        "interval_id": ["006_1-ref01/006_1_1", "006_1-ref02/006_1_1"],
        "source_id": ["006_1_1", "006_1_1"],
        "video": ["006_1-ref01", "006_1-ref02"], "source_video": ["006_1", "006_1"],
        "onset": [100, 100], "offset": [140, 140], "kind": ["ME", "ME"],
    })
    on_source = score_spotting(megc([("006_1", 100, 139, "me")]), gt)["ME"]
    assert counts(on_source) == (1, 0, 0, 1, 1)            # the two copies are one GT on the source video
    on_synth = score_spotting(megc([("006_1-ref01", 100, 140, "me")]), gt)["ME"]
    assert counts(on_synth) == (1, 0, 1, 1, 2)             # ref02's copy was not predicted


def test_a_duplicated_sheet_id_is_two_gt_intervals():
    # SAMM-LV's Filename 037_4_1 names a Micro and a Macro row (the reader ids them 037_4_1 and 037_4_1-2),
    # each copied to two synthetic videos: two GT intervals on the source video, one per kind.
    rows = [{"interval_id": f"037_4-{r}/{i}", "source_id": "037_4_1", "video": f"037_4-{r}", "source_video": "037_4",
             "onset": on, "offset": off, "kind": kind}
            for r in ("ref01", "ref02") for i, on, off, kind in (("037_4_1", 1488, 1577, "ME"),
                                                                 ("037_4_1-2", 1487, 1605, "MaE"))]
    s = score_spotting(megc([("037_4", 1488, 1577, "me")]), pd.DataFrame(rows))
    assert counts(s["ME"]) == (1, 0, 0, 1, 1) and s["MaE"]["n_gt"] == 1 and s["MaE"]["fn"] == 1


def test_csv_inputs_keep_ids_as_strings(tmp_path):
    pred = tmp_path / "pred.csv"
    gt = tmp_path / "gt.csv"
    pred.write_text("vid,onset,offset,type\n011_1,10,20,me\n15_0101,5,40,mae\n")
    gt.write_text("vid,onset,offset,type\n011_1,10,21,ME\n15_0101,5,40,MaE\n")
    s = score_spotting(pred, gt)
    assert s["overall"]["tp"] == 2 and s["overall"]["fp"] == 0


def test_bad_rows_are_named(tmp_path):
    gt = tmp_path / "gt.csv"
    gt.write_text("vid,onset,offset,type\nv1,10,20,me\nv1,30,25,me\n")
    with pytest.raises(ValueError, match=r"gt\.csv, row 2.*offset 25 < onset 30"):
        score_spotting(megc([]), gt)
    with pytest.raises(ValueError, match="unknown expression type 'blink'"):
        score_spotting(megc([("v1", 1, 2, "blink")]), megc([]))
    with pytest.raises(ValueError, match="missing column"):
        score_spotting(pd.DataFrame({"vid": ["v"], "onset": [1]}), megc([]))
    with pytest.raises(ValueError, match="matching"):
        score_spotting(megc([]), megc([]), matching="voc")


def test_log_format():
    gt = megc([("v1", 100, 150, "mae"), ("v2", 7, 9, "me")])
    pred = megc([("v1", 100, 150, "mae"), ("v1", 100, 150, "mae"), ("v3", 1, 2, "me")])
    lines = log_lines(match_spotting(pred, gt, videos=["v1", "v2", "v3"]), dataset_code=1)
    assert lines == [
        "1",
        "v1 100 150 100 150 TP",
        "v1 - - 100 150 FP",
        "v2 7 9 - - FN",
        "v3 - - 1 2 FP",
    ]


def test_cli_json_and_log(tmp_path, capsys):
    pred = tmp_path / "pred.csv"
    gt = tmp_path / "gt.csv"
    log = tmp_path / "out" / "log.txt"
    pred.write_text("vid,onset,offset,type\nv1,10,20,me\nv1,11,21,me\n")
    gt.write_text("vid,onset,offset,type\nv1,10,20,me\nv1,12,22,me\n")
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["score-spotting", "--pred", str(pred), "--gt", str(gt), "--json",
                              "--matching", "one-to-one", "--log", str(log)])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    # one-to-one: [10,20] takes GT [10,20] (IoU 1); [11,21] ties both GTs at 10/12, picks [10,20] -> FP.
    assert (out["ME"]["tp"], out["ME"]["fp"], out["ME"]["fn"]) == (1, 1, 1)
    assert log.read_text().splitlines()[0] == "1"
    args = parser.parse_args(["score-spotting", "--pred", str(pred), "--gt", str(gt), "--log", str(log),
                              "--log-kind", "MaE"])
    assert args.func(args) == 0
    assert log.read_text().splitlines() == ["1"]  # no MaE lines: the ME proposals are not in an MaE log
    capsys.readouterr()
    args = parser.parse_args(["score-spotting", "--pred", str(pred), "--gt", str(gt)])
    assert args.func(args) == 0
    assert "overall" in capsys.readouterr().out


def _release(tmp_path):
    """A complete release folder with two synthetic videos of 006_1 and one of 007_1, their intervals, LOSO
    splits and a manifest listing every file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from samm_synth_dataset import format as fmt

    rel = tmp_path / "rel"
    (rel / "data" / "intervals").mkdir(parents=True)
    (rel / "data" / "videos").mkdir(parents=True)
    videos = [("006_1", "006", "ref01"), ("006_1", "006", "ref02"), ("007_1", "007", "ref03")]
    rows = [{"interval_id": f"{s}-{r}/{s}_1", "source_id": f"{s}_1", "subject": subj, "video": f"{s}-{r}",
             "source_video": s, "onset": 10, "apex": None, "offset": 30, "kind": "MaE", "action_units": "",
             "notes": "", "flags": []} for s, subj, r in videos]
    pq.write_table(pa.Table.from_pylist(rows, schema=fmt.schema_for("intervals")), rel / fmt.INTERVALS_PATH)
    vrows = [{"video": f"{s}-{r}", "source_video": s, "subject": subj, "source_dataset": "samm-lv", "n_frames": 40,
              "fps": 200.0, "width": 8, "height": 8, "crop": {"x": 0, "y": 0, "w": 8, "h": 8},
              "reference_id": r, "reference_sha256": "0" * 64, "domain": "female", "method": "color-transfer",
              "checkpoint_sha256": None, "glasses": None} for s, subj, r in videos]
    pq.write_table(pa.Table.from_pylist(vrows, schema=fmt.schema_for("videos")), rel / fmt.VIDEOS_PATH)
    fmt.write_splits(rel)
    files = [fmt.file_record(rel, p.relative_to(rel).as_posix(), None).as_dict()
             for p in sorted(rel.rglob("*")) if p.is_file() and p.name != fmt.MANIFEST]
    (rel / fmt.MANIFEST).write_text(json.dumps({"format_version": fmt.FORMAT_VERSION, "status": "complete",
                                                "files": files}))
    return rel


def _score_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
    return parser.parse_args(["score-spotting", *argv])


def test_cli_release_ground_truth(tmp_path, capsys):
    from samm_synth_dataset import format as fmt

    rel = _release(tmp_path)
    manifest = (rel / fmt.MANIFEST).read_text()
    pred = tmp_path / "pred.csv"
    pred.write_text("vid,onset,offset,type\n006_1,10,30,mae\n")
    args = _score_args("--pred", str(pred), "--release", str(rel), "--json")
    (rel / fmt.MANIFEST).unlink()
    with pytest.raises(fmt.ReleaseError, match="manifest"):
        args.func(args)                                   # no manifest: not a finished release
    (rel / fmt.MANIFEST).write_text(manifest)
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["MaE"]["tp"], out["MaE"]["n_gt"], out["overall"]["f1"]) == (1, 2, pytest.approx(2 / 3))


def test_unknown_ids_are_errors_naming_rows_with_a_padding_hint(tmp_path):
    """Issue 14 item 10: ids that match no ground-truth video never score a silent F1 of 0."""
    gt = megc([("006_1", 10, 20, "me"), ("007_2", 30, 40, "mae")])
    pred = tmp_path / "pred.csv"
    pred.write_text("vid,onset,offset,type\n006_1,10,20,me\n6_1,10,20,me\n7_2,30,40,mae\n")
    with pytest.raises(ValueError, match=rf"^{pred}: 2 data row\(s\) name videos that are not in the ground truth: "
                                         r"row 2 '6_1', row 3 '7_2'; did you mean '6_1' → '006_1', "
                                         r"'7_2' → '007_2'\? \(ids are zero-padded\)$"):
        score_spotting(pred, gt)
    pred.write_text("vid,onset,offset,type\nxyz,10,20,me\n")
    with pytest.raises(ValueError, match=r"row 1 'xyz'; the ground truth has '006_1', '007_2'$"):
        score_spotting(pred, gt)


def test_negative_frames_are_errors_naming_rows(tmp_path):
    """Issue 14 item 10."""
    pred = tmp_path / "pred.csv"
    pred.write_text("vid,onset,offset,type\nv1,10,20,me\nv1,-5,3,me\nv1,-9,-2,mae\n")
    with pytest.raises(ValueError, match=rf"^{pred}: negative frame numbers in 2 data row\(s\): row 2 \(-5, 3\), "
                                         r"row 3 \(-9, -2\); frames are source frame numbers \(>= 0\)$"):
        score_spotting(pred, megc([("v1", 10, 20, "me")]))


def test_an_empty_prediction_file_is_scored_with_a_warning(tmp_path, capsys):
    """Issue 14 item 10: a 0-byte or header-only file is allowed, but said."""
    gt = tmp_path / "gt.csv"
    gt.write_text("vid,onset,offset,type\nv1,10,20,me\n")
    for text in ("", "vid,onset,offset,type\n"):
        pred = tmp_path / "pred.csv"
        pred.write_text(text)
        assert _score_args("--pred", str(pred), "--gt", str(gt), "--json").func(
            _score_args("--pred", str(pred), "--gt", str(gt), "--json")) == 0
        captured = capsys.readouterr()
        assert json.loads(captured.out)["ME"]["fn"] == 1
        assert captured.err == f"warning: {pred}: no predictions; every ground-truth interval counts as a miss\n"


def test_a_fold_is_scored_against_its_own_test_videos(tmp_path, capsys):
    """Issue 14 item 11: --fold N (from splits/loso.json) and --videos restrict the ground truth."""
    rel = _release(tmp_path)
    pred = tmp_path / "pred.csv"
    pred.write_text("vid,onset,offset,type\n006_1-ref01,10,30,mae\n006_1-ref02,10,30,mae\n")
    everything = _score_args("--pred", str(pred), "--release", str(rel), "--json")
    assert everything.func(everything) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["MaE"]["n_gt"] == 3   # 007_1-ref03 counts as a miss, and that is said
    assert captured.err.startswith("warning: the predictions cover 2 of the 3 videos with ground truth") \
        and "007_1-ref03" in captured.err and "--fold N" in captured.err and len(captured.err.splitlines()) == 1
    fold0 = _score_args("--pred", str(pred), "--release", str(rel), "--fold", "0", "--json")  # test subject 006
    assert fold0.func(fold0) == 0
    captured = capsys.readouterr()
    assert counts(json.loads(captured.out)["MaE"]) == (2, 0, 0, 2, 2) and captured.err == ""
    chosen = _score_args("--pred", str(pred), "--release", str(rel), "--videos", "006_1-ref01", "006_1-ref02",
                         "--json")
    assert chosen.func(chosen) == 0
    assert json.loads(capsys.readouterr().out)["MaE"]["f1"] == 1.0
    fold1 = _score_args("--pred", str(pred), "--release", str(rel), "--fold", "1")  # test subject 007
    with pytest.raises(ValueError, match=r"2 data row\(s\) name videos that are not in the ground truth"):
        fold1.func(fold1)
    bad = _score_args("--pred", str(pred), "--release", str(rel), "--fold", "5")
    with pytest.raises(ValueError, match=r"^--fold 5: .*loso.json has 2 folds \(0..1, test subjects 006, 007\)$"):
        bad.func(bad)


# ---- MEGC layouts (issue 15) ----------------------------------------------------------------------------------


def test_both_megc_headers_read_alike(tmp_path):
    from samm_synth_dataset.spotting.scorer import normalise_intervals

    old = tmp_path / "megc2022.csv"
    new = tmp_path / "megc2023.csv"
    old.write_text("vid,pred_onset,pred_offset,type\n006_1,10,20,ME\nspNO.1_a,5,9,Mae\n")
    new.write_text("vid,onset,offset,type\n006_1,10,20,me\nspNO1_A,5,9,MAE\n")
    a, b = normalise_intervals(old), normalise_intervals(new)
    assert a.equals(b)
    # CAS(ME)³ MEGC spellings map onto the package's video id spelling
    assert a.values.tolist() == [["006_1", 10, 20, "ME"], ["spNO1_a", 5, 9, "MaE"]]
    gt = megc([("006_1", 10, 20, "me"), ("spNO1_a", 5, 9, "mae")])
    assert score_spotting(old, gt)["overall"]["f1"] == 1.0
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("vid,onset,pred_offset,type\nv,1,2,me\n")
    with pytest.raises(ValueError, match="mix layouts"):
        normalise_intervals(mixed)


@pytest.mark.parametrize("layout, header", [("onset", "vid,onset,offset,type"),
                                            ("pred_onset", "vid,pred_onset,pred_offset,type")])
def test_write_megc_round_trip(tmp_path, layout, header):
    from samm_synth_dataset.spotting.scorer import normalise_intervals, write_megc

    preds = pd.DataFrame({"video": ["011", "spNO216_d", "011"], "onset": [3, 40, 100], "offset": [9, 52, 180],
                          "kind": ["ME", "ME", "MaE"]})
    path = write_megc(preds, tmp_path / "out" / "pred.csv", layout=layout)
    lines = path.read_text().splitlines()
    assert lines[0] == header and lines[1:] == ["011,3,9,me", "spNO216_d,40,52,me", "011,100,180,mae"]
    assert normalise_intervals(path).equals(normalise_intervals(preds))
    with pytest.raises(ValueError, match="layout must be one of"):
        write_megc(preds, tmp_path / "x.csv", layout="megc")


def test_cli_write_megc_without_ground_truth(tmp_path, capsys):
    pred = tmp_path / "pred.csv"
    pred.write_text("vid,onset,offset,type\nv1,10,20,me\n")
    out = tmp_path / "p2022.csv"
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["score-spotting", "--pred", str(pred), "--write-megc", str(out),
                              "--megc-layout", "pred_onset"])
    assert args.func(args) == 0
    assert out.read_text().splitlines() == ["vid,pred_onset,pred_offset,type", "v1,10,20,me"]
    args = parser.parse_args(["score-spotting", "--pred", str(pred)])
    with pytest.raises(ValueError, match="give --gt or --release"):
        args.func(args)


def test_one_id_resolution_mixed_spellings_are_refused_and_the_ground_truth_never_depends_on_the_predictions(
        tmp_path, capsys):
    """Issue 24 items 1–2: a file with a synthetic id (006_1-ref01) and a source id (007_1) used to be scored
    against one column (the source-id row, an exact match, counted as a false positive, and the GT doubled); an
    empty file counted the synthetic copies as GT (3) where the source count is 2."""
    rel = _release(tmp_path)
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("vid,onset,offset,type\n006_1-ref01,10,30,mae\n007_1,10,30,mae\n")
    args = _score_args("--pred", str(mixed), "--release", str(rel), "--json")
    with pytest.raises(ValueError, match=r"mix synthetic video ids \(006_1-ref01\) and source video ids "
                                         r"\(007_1\); score one kind at a time"):
        args.func(args)
    source_only = tmp_path / "source.csv"
    source_only.write_text("vid,onset,offset,type\n007_1,10,30,mae\n")
    args = _score_args("--pred", str(source_only), "--release", str(rel), "--json")
    assert args.func(args) == 0
    with_predictions = json.loads(capsys.readouterr().out)["MaE"]
    assert counts(with_predictions) == (1, 0, 1, 1, 2)       # source ids: each source interval once
    empty = tmp_path / "empty.csv"
    empty.write_text("vid,onset,offset,type\n")
    args = _score_args("--pred", str(empty), "--release", str(rel), "--json")
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out)["MaE"]["n_gt"] == with_predictions["n_gt"] == 2


def test_videos_with_kind_scores_each_kind_on_its_own_videos(tmp_path, capsys):
    """SOFTNet's protocol as an option: the ME proposal on v2 (a video with MaE ground truth only) is left out and
    counted instead of being a false positive; the default stays every video, and the output says which."""
    gt = megc([("v1", 10, 20, "me"), ("v2", 30, 90, "mae")])
    pred = megc([("v1", 10, 20, "me"), ("v2", 40, 45, "me"), ("v2", 30, 90, "mae")])
    every = match_spotting(pred, gt)
    assert counts(every.as_dict()["ME"]) == (1, 1, 0, 2, 1) and every.left_out is None
    only = match_spotting(pred, gt, videos_with_kind=True)
    assert counts(only.as_dict()["ME"]) == (1, 0, 0, 1, 1) and counts(only.as_dict()["MaE"]) == (1, 0, 0, 1, 1)
    assert only.left_out == {"ME": 1, "MaE": 0}
    p, g = tmp_path / "p.csv", tmp_path / "g.csv"
    pred.to_csv(p, index=False)
    gt.to_csv(g, index=False)
    args = _score_args("--pred", str(p), "--gt", str(g), "--videos-with-kind")
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "scored on each kind only on the videos whose ground truth has it (--videos-with-kind)" in out
    assert "proposals left out (on videos without ground truth of their kind): ME 1, MaE 0" in out
    args = _score_args("--pred", str(p), "--gt", str(g), "--json", "--videos-with-kind")
    assert args.func(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["scope"]["proposals_left_out"] == {"ME": 1, "MaE": 0} and doc["ME"]["fp"] == 0
    args = _score_args("--pred", str(p), "--gt", str(g))
    assert args.func(args) == 0
    assert "scored on every video" in capsys.readouterr().out

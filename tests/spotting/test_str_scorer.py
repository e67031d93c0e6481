"""The STR scorer: an example worked by hand, random cases against independent implementations of both modes'
rules written here, one hand case per reference quirk, bad rows, and the CLI."""

from __future__ import annotations

import argparse
import json
import math
import random

import numpy as np
import pandas as pd
import pytest

from samm_synth_dataset.spotting.commands import add_commands
from samm_synth_dataset.spotting.str_scorer import compare_modes, score_str

COLUMNS = ["subject", "video", "onset", "offset", "emotion"]


def table(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


# An example shaped like the reference README's (5 GT rows, 5 predictions, emotions happiness / others /
# repression, a negative onset) that scores STRS 0.2, worked by hand below.
EXAMPLE_GT = table([("1", "v1", 10, 30, "happiness"), ("1", "v1", 50, 70, "others"),
                    ("1", "v1", 90, 110, "repression"), ("1", "v1", 130, 150, "happiness"),
                    ("1", "v1", 200, 220, "others")])
EXAMPLE_PRED = table([("1", "v1", -5, 3, "happiness"),        # hits nothing: FP
                      ("1", "v1", 300, 320, "others"),         # FP
                      ("1", "v1", 90, 112, "happiness"),       # IoU 21/23 with repression [90,110]
                      ("1", "v1", 130, 148, "repression"),     # IoU 19/21 with happiness [130,150]
                      ("1", "v1", 202, 220, "others")])        # IoU 19/21 with others [200,220]


def test_the_worked_example_scores_strs_0_2_in_both_modes():
    # Spotting: TP 3, FP 2, FN 2 ([10,30] and [50,70]) -> P = R = F1 = 0.6.
    # Pairs (gt, pred): (repression, happiness), (happiness, repression), (others, others).
    # happiness: TP 0 FP 1 FN 1 -> 0/0/0; repression the same; others 1/1/1 -> mean P = mean R = 1/3 -> F1 1/3.
    # STRS = 0.6 * 1/3 = 0.2. No quirk is met, so strict agrees.
    for mode in ("megc", "strict"):
        r = score_str(EXAMPLE_PRED, EXAMPLE_GT, mode=mode)
        assert (r["spotting"]["tp"], r["spotting"]["fp"], r["spotting"]["fn"]) == (3, 2, 2)
        assert r["spotting"]["f1"] == pytest.approx(0.6)
        assert r["analysis"]["f1"] == pytest.approx(1 / 3)
        assert r["analysis"]["per_class"]["others"]["f1"] == 1.0
        assert r["strs"] == pytest.approx(0.2)
    assert compare_modes(score_str(EXAMPLE_PRED, EXAMPLE_GT), score_str(EXAMPLE_PRED, EXAMPLE_GT,
                                                                           mode="strict")) == {}


# The reference scorer's README example (genbing99/STRS-Metric, "Brief Example"), which prints STRS 0.2.
README_PRED = table([("1", "EP02_01f", 10, 70, "happiness"), ("1", "EP03_02", 100, 170, "others"),
                     ("1", "EP04_02", 0, 70, "others"), ("2", "EP01_11f", 20, 90, "happiness"),
                     ("2", "EP02_04f", 70, 140, "happiness")])
README_GT = table([("1", "EP02_01f", 45, 85, "happiness"), ("1", "EP03_02", 130, 160, "others"),
                   ("1", "EP04_02", 20, 75, "others"), ("2", "EP01_11f", 45, 95, "repression"),
                   ("2", "EP02_04f", 30, 140, "repression")])


def test_the_reference_readme_example_scores_strs_0_2() -> None:
    """Spotting (IoU of inclusive ranges): EP02_01f 26/76 and EP03_02 31/71 miss; EP04_02 51/76, EP01_11f 46/76
    and EP02_04f 71/111 hit -> TP 3, FP 2, FN 2, F1 0.6. Pairs (gt, pred): (others, others), (repression, happiness)
    twice; classes happiness, others, repression: P 0/1/0 (0/0 counted 0), R 0/1/0 -> analysis F1 1/3.
    STRS 0.6 × 1/3 = 0.2. Strict averages over the classes the pairs' ground truth has (others, repression):
    analysis F1 1/2, STRS 0.3."""
    megc, strict = score_str(README_PRED, README_GT, mode="megc"), score_str(README_PRED, README_GT, mode="strict")
    for r in (megc, strict):
        assert (r["spotting"]["tp"], r["spotting"]["fp"], r["spotting"]["fn"]) == (3, 2, 2)
    assert megc["analysis"]["f1"] == pytest.approx(1 / 3) and round(megc["strs"], 4) == 0.2
    assert strict["analysis"]["f1"] == pytest.approx(1 / 2) and round(strict["strs"], 4) == 0.3


# ---------------------------------------------------------------------------------------------------------------
# Independent implementations of the rules (sets of frames for IoU, a numpy confusion matrix that must unpack)


def _iou_sets(a: tuple[int, int], b: tuple[int, int]) -> float:
    x, y = set(range(a[0], a[1] + 1)), set(range(b[0], b[1] + 1))
    return len(x & y) / len(x | y)


def _unpack(truth: list[bool], said: list[bool]) -> tuple[int, int, int, int]:
    labels = sorted(set(truth) | set(said))
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, s in zip(truth, said):
        matrix[labels.index(t), labels.index(s)] += 1
    tn, fp, fn, tp = matrix.ravel()          # ValueError unless 2x2
    return tn, fp, fn, tp


def reference_strs(pred: pd.DataFrame, gt: pd.DataFrame, classes: list[str]) -> dict[str, float]:
    pairs, fp, fn = [], 0, 0
    for subject in pred["subject"].unique():
        sub_gt = gt[gt["subject"] == subject]
        for video in sub_gt["video"].unique():
            g = sub_gt[sub_gt["video"] == video]
            done = [False] * len(g)
            for p in pred[(pred["subject"] == subject) & (pred["video"] == video)].itertuples():
                hit = False
                for i, q in enumerate(g.itertuples()):
                    if _iou_sets((p.onset, p.offset), (q.onset, q.offset)) >= 0.5 and not done[i]:
                        done[i], hit = True, True
                        pairs.append((q.emotion, p.emotion))
                fp += not hit
            fn += done.count(False)
    tp = len(pairs)

    def metrics(ctp: int, cfp: int, cfn: int) -> tuple[float, float, float]:   # zero denominators give 0
        prec = ctp / (ctp + cfp) if ctp + cfp else 0.0
        rec = ctp / (ctp + cfn) if ctp + cfn else 0.0
        return prec, rec, (2 * prec * rec / (prec + rec) if prec + rec else 0.0)

    with np.errstate(divide="ignore", invalid="ignore"):
        spot_f1 = metrics(tp, fp, fn)[2]
        kept = [(g, p) for g, p in pairs if g in classes]
        precisions, recalls, f1s = [], [], []
        for c in classes:
            try:
                _, cfp, cfn, ctp = _unpack([g == c for g, _ in kept], [p == c for _, p in kept])
            except ValueError:
                cfp = cfn = ctp = 0
            for values, v in zip((precisions, recalls, f1s), metrics(ctp, cfp, cfn)):
                values.append(v)
        p_all, r_all = np.mean(precisions), np.mean(recalls)
        f1 = 2 * p_all * r_all / (p_all + r_all)   # numpy: 0/0 = NaN
    return {"tp": tp, "fp": fp, "fn": fn, "spot_f1": float(spot_f1), "f1": float(f1), "uf1": float(np.mean(f1s)),
            "uar": float(np.mean(precisions)), "strs": float(spot_f1 * f1)}


def strict_by_hand(pred: pd.DataFrame, gt: pd.DataFrame, videos: set[str], classes: list[str]) -> dict[str, float]:
    """One-to-one: each prediction in file order takes its best unmatched GT with IoU >= 0.5 (first on ties); every
    GT interval counts; every prediction in a known video counts; zero denominators are 0; means over the classes
    with support among the pairs."""
    pairs, fp, fn = [], 0, 0
    for video in videos | set(gt["video"]):
        g = list(gt[gt["video"] == video].itertuples())
        free = list(range(len(g)))
        for p in pred[pred["video"] == video].itertuples():
            scored = [(_iou_sets((p.onset, p.offset), (g[i].onset, g[i].offset)), -i) for i in free]
            best = max(scored, default=(0.0, 0))
            if best[0] >= 0.5:
                free.remove(-best[1])
                pairs.append((g[-best[1]].emotion, p.emotion))
            else:
                fp += 1
        fn += len(free)
    tp = len(pairs)
    kept = [(g, p) for g, p in pairs if g in classes]
    div = (lambda a, b: a / b if b else 0.0)
    ps, rs, fs = [], [], []
    for c in classes:
        ctp = sum(g == c and p == c for g, p in kept)
        cfp = sum(g != c and p == c for g, p in kept)
        cfn = sum(g == c and p != c for g, p in kept)
        if ctp + cfn:
            ps.append(div(ctp, ctp + cfp)), rs.append(div(ctp, ctp + cfn)), fs.append(div(2 * ctp, 2 * ctp + cfp + cfn))
    p_all, r_all = div(sum(ps), len(ps)), div(sum(rs), len(rs))
    f1 = div(2 * p_all * r_all, p_all + r_all)
    spot_f1 = div(2 * tp, 2 * tp + fp + fn)
    return {"tp": tp, "fp": fp, "fn": fn, "spot_f1": spot_f1, "f1": f1, "uf1": div(sum(fs), len(fs)),
            "uar": r_all, "strs": spot_f1 * f1}


def _random_case(rng: random.Random) -> tuple[pd.DataFrame, pd.DataFrame, set[str]]:
    emotions = ["negative", "positive", "surprise", "others"][:rng.randint(2, 4)]
    subjects = {f"s{i}": [f"s{i}_v{j}" for j in range(rng.randint(1, 3))] for i in range(rng.randint(1, 4))}
    gt_rows, pred_rows = [], []
    for subject, videos in subjects.items():
        for video in videos:
            gts = []
            for s in rng.sample(range(0, 120, 4), rng.randint(0, 5)):
                gts.append((subject, video, s, s + rng.randint(2, 14), rng.choice(emotions)))
                if rng.random() < 0.2:   # an overlapping GT: one prediction may then match two
                    gts.append((subject, video, s + 1, gts[-1][3] + 1, rng.choice(emotions)))
            gt_rows += gts
            if rng.random() < 0.2:
                continue      # a video, or a whole subject, without predictions
            preds = [(subject, video, g[2] + rng.randint(-2, 1), g[3] + rng.randint(-1, 2),
                      g[4] if rng.random() < 0.6 else rng.choice(emotions)) for g in gts if rng.random() < 0.7]
            for _ in range(rng.randint(0, 2)):
                s = rng.randint(-6, 120)
                preds.append((subject, video, s, s + rng.randint(0, 20), rng.choice(emotions)))
            rng.shuffle(preds)
            pred_rows += preds
    gt = table(gt_rows).drop_duplicates(["subject", "video", "onset", "offset"]).reset_index(drop=True)
    pred = table(pred_rows).drop_duplicates(["subject", "video", "onset", "offset"]).reset_index(drop=True)
    return pred, gt, {v for vs in subjects.values() for v in vs}


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, abs=1e-12)


@pytest.mark.parametrize("seed", range(60))
def test_random_cases_match_the_reference_rules_and_the_strict_rules(seed):
    rng = random.Random(seed)
    pred, gt, videos = _random_case(rng)
    classes = ["negative", "positive", "surprise"] if rng.random() < 0.5 or gt.empty else None
    if classes is None:   # a predicted label must be a GT emotion, a listed class or "others"
        labels = list(dict.fromkeys(gt["emotion"])) + ["others"]
        pred["emotion"] = [e if e in labels else labels[0] for e in pred["emotion"]]
    r = score_str(pred, gt, mode="megc", classes=classes, videos=videos)
    ref = reference_strs(pred, gt[gt["video"].isin(videos)], classes or list(dict.fromkeys(gt["emotion"])))
    got = {"tp": r["spotting"]["tp"], "fp": r["spotting"]["fp"], "fn": r["spotting"]["fn"],
           "spot_f1": r["spotting"]["f1"], "f1": r["analysis"]["f1"], "uf1": r["analysis"]["uf1"],
           "uar": r["analysis"]["uar"], "strs": r["strs"]}
    assert all(_same(got[k], ref[k]) for k in ref), (got, ref)
    s = score_str(pred, gt, mode="strict", classes=classes, videos=videos)
    hand = strict_by_hand(pred, gt, videos, classes or list(dict.fromkeys(gt["emotion"])))
    got = {"tp": s["spotting"]["tp"], "fp": s["spotting"]["fp"], "fn": s["spotting"]["fn"],
           "spot_f1": s["spotting"]["f1"], "f1": s["analysis"]["f1"], "uf1": s["analysis"]["uf1"],
           "uar": s["analysis"]["uar"], "strs": s["strs"]}
    assert all(_same(got[k], hand[k]) for k in hand), (got, hand)


def test_the_random_cases_meet_the_quirks_and_finite_scores():
    """The generator is not degenerate: many cases score a finite STRS, and many meet each quirk."""
    finite = multi = ignored_gt = ignored_pred = 0
    for seed in range(60):
        pred, gt, videos = _random_case(random.Random(seed))
        r = score_str(pred, gt, mode="megc", classes=["negative", "positive", "surprise"], videos=videos)
        finite += not math.isnan(r["strs"])
        multi += r["events"]["predictions_matching_several_gts"] > 0
        ignored_gt += r["events"]["gt_of_subjects_without_predictions_ignored"] > 0
        ignored_pred += r["events"]["predictions_outside_scored_videos_ignored"] > 0
    assert finite >= 20 and multi >= 15 and ignored_gt >= 10 and ignored_pred >= 10


# ---------------------------------------------------------------------------------------------------------------
# One hand case per quirk: where, and by how much, the modes differ


def test_quirk_one_prediction_matches_two_gts():
    # GT [0,9] and [2,11] (both negative); prediction [1,10]: IoU 9/11 with each.
    gt = table([("s", "v", 0, 9, "negative"), ("s", "v", 2, 11, "negative"), ("s", "v", 40, 50, "positive")])
    pred = table([("s", "v", 1, 10, "negative"), ("s", "v", 40, 50, "positive")])
    megc, strict = score_str(pred, gt, mode="megc"), score_str(pred, gt, mode="strict")
    assert (megc["spotting"]["tp"], megc["spotting"]["fp"], megc["spotting"]["fn"]) == (3, 0, 0)  # 3 TP, 2 preds
    assert megc["events"]["predictions_matching_several_gts"] == 1
    assert (strict["spotting"]["tp"], strict["spotting"]["fp"], strict["spotting"]["fn"]) == (2, 0, 1)
    assert megc["spotting"]["f1"] == 1.0 and strict["spotting"]["f1"] == pytest.approx(0.8)
    assert set(compare_modes(megc, strict)) >= {"spotting_tp", "spotting_fn", "spotting_f1", "strs"}


def test_quirk_a_subject_without_predictions_is_ignored():
    gt = table([("s1", "a", 10, 20, "negative"), ("s1", "a", 40, 50, "positive"), ("s2", "b", 10, 20, "surprise")])
    pred = table([("s1", "a", 10, 20, "negative"), ("s1", "a", 40, 50, "positive")])
    classes = ["negative", "positive"]
    megc, strict = score_str(pred, gt, mode="megc", classes=classes), score_str(pred, gt, "strict", classes)
    assert megc["spotting"]["fn"] == 0 and megc["events"]["gt_of_subjects_without_predictions_ignored"] == 1
    assert megc["strs"] == 1.0
    assert strict["spotting"]["fn"] == 1 and strict["spotting"]["f1"] == pytest.approx(0.8)
    assert strict["strs"] == pytest.approx(0.8)
    # By default every GT emotion is analysed: surprise has no pair, its 1x1 matrix gives 0/0/0, mean P = 2/3.
    assert score_str(pred, gt)["analysis"]["precision"] == pytest.approx(2 / 3)
    assert any("subjects without predictions" in n for n in megc["notes"])


def test_quirk_predictions_on_a_video_without_gt_are_ignored():
    gt = table([("s1", "a", 10, 20, "negative")])
    pred = table([("s1", "a", 10, 20, "negative"), ("s1", "quiet", 5, 9, "negative")])
    megc = score_str(pred, gt, mode="megc", videos=["a", "quiet"])
    strict = score_str(pred, gt, mode="strict", videos=["a", "quiet"])
    assert megc["spotting"]["fp"] == 0 and megc["events"]["predictions_outside_scored_videos_ignored"] == 1
    assert strict["spotting"]["fp"] == 1 and strict["spotting"]["precision"] == 0.5
    # SOFTNet's protocol: only the videos with ground truth, stated in the result.
    only = score_str(pred, gt, mode="strict", videos=["a", "quiet"], videos_with_gt=True)
    assert only["spotting"]["fp"] == 0 and any("1 prediction(s) on other videos" in n for n in only["notes"])


def test_quirk_uar_is_a_mean_of_precisions():
    # Pairs (gt, pred): (neg, neg), (neg, pos), (pos, pos). negative: P 1, R 1/2; positive: P 1/2, R 1.
    # Both means are 3/4 here, so make it lopsided with a third negative: (neg, pos) twice.
    gt = table([("s", "v", 0, 9, "negative"), ("s", "v", 20, 29, "negative"), ("s", "v", 40, 49, "positive"),
                ("s", "v", 60, 69, "negative")])
    pred = table([("s", "v", 0, 9, "negative"), ("s", "v", 20, 29, "positive"), ("s", "v", 40, 49, "positive"),
                  ("s", "v", 60, 69, "positive")])
    # negative: TP 1 FP 0 FN 2 -> P 1, R 1/3; positive: TP 1 FP 2 FN 0 -> P 1/3, R 1. Means: P 2/3, R 2/3.
    megc, strict = score_str(pred, gt, mode="megc"), score_str(pred, gt, mode="strict")
    assert megc["analysis"]["uar"] == pytest.approx(2 / 3) and strict["analysis"]["uar"] == pytest.approx(2 / 3)
    gt.loc[3, "emotion"] = "surprise"   # surprise: TP 0 FP 0 FN 1 -> P 0/0, R 0
    megc, strict = score_str(pred, gt, mode="megc"), score_str(pred, gt, mode="strict")
    # negative P 1 R 1/2; positive P 1/3 R 1; surprise P 0/0 = 0 (the reference's rule), R 0: both modes average
    # the three classes; megc's "UAR" is the mean precision, strict's the mean recall.
    assert megc["analysis"]["uar"] == pytest.approx((1 + 1 / 3 + 0) / 3) and not math.isnan(megc["strs"])
    assert strict["analysis"]["uar"] == pytest.approx((1 / 2 + 1 + 0) / 3)
    assert strict["analysis"]["precision"] == pytest.approx((1 + 1 / 3 + 0) / 3)


def test_quirk_a_class_whose_matrix_does_not_unpack_gets_zero():
    # Every pair is (negative, negative): negative's matrix is 1x1 -> 0/0/0; analysis F1 0/0 = NaN in megc.
    gt = table([("s", "v", 0, 9, "negative"), ("s", "v", 20, 29, "negative")])
    pred = table([("s", "v", 0, 9, "negative"), ("s", "v", 20, 29, "negative")])
    megc, strict = score_str(pred, gt, mode="megc"), score_str(pred, gt, mode="strict")
    assert megc["analysis"]["per_class"]["negative"]["f1"] == 0.0 and math.isnan(megc["analysis"]["f1"])
    assert math.isnan(megc["strs"])
    assert "class(es) negative scored 0/0/0: their confusion matrix over the pairs has one value only" in " ".join(
        megc["notes"]) and any("made the result NaN" in n for n in megc["notes"])
    assert strict["analysis"]["f1"] == 1.0 and strict["strs"] == 1.0
    assert "strs" in compare_modes(megc, strict)


# ---------------------------------------------------------------------------------------------------------------
# Bad rows: one line each


@pytest.mark.parametrize("rows, match", [
    ([("s", "nowhere", 0, 9, "negative")], r"1 data row\(s\) name videos that are not in the ground truth"),
    ([("s", "v", 0, 9, "Negative")], r"data row 1: unknown emotion 'Negative'"),
    ([("s", "v", 0, 9.5, "negative")], r"data row 1: onset/offset .* must be whole frame numbers"),
    ([("s", "v", 0, "x", "negative")], r"data row 1: onset/offset .* are not frame numbers"),
    ([("s", "v", 0, 9, "negative"), ("s", "v", 0, 9, "positive")], r"data row 2: repeats data row 1"),
    ([("t", "v", 0, 9, "negative")], r"data row 1: video 'v' belongs to subject 's'"),
    ([("s", "v", 9, 0, "negative")], r"data row 1: offset 0 < onset 9"),
    ([("s", "v", 0, 9, None)], r"data row 1: empty emotion"),
])
def test_bad_prediction_rows_are_refused_by_row(rows, match):
    gt = table([("s", "v", 0, 9, "negative")])
    with pytest.raises(ValueError, match=match):
        score_str(table(rows), gt)


def test_negative_onsets_and_a_listed_class_are_accepted():
    gt = table([("s", "v", 0, 9, "negative")])
    r = score_str(table([("s", "v", -3, 9, "fear")]), gt, mode="strict", classes=["negative", "fear"])
    assert r["spotting"]["tp"] == 1 and r["analysis"]["per_class"]["negative"]["recall"] == 0.0
    with pytest.raises(ValueError, match="missing column"):
        score_str(pd.DataFrame({"vid": ["v"], "onset": [1]}), gt)
    with pytest.raises(ValueError, match="mode must be one of"):
        score_str(table([]), gt, mode="lenient")


# ---------------------------------------------------------------------------------------------------------------
# CLI


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
    return parser.parse_args(["score-str", *argv])


def test_cli_json_and_compare(tmp_path, capsys):
    pred, gt = tmp_path / "pred.csv", tmp_path / "gt.csv"
    EXAMPLE_PRED.to_csv(pred, index=False)
    EXAMPLE_GT.to_csv(gt, index=False)
    args = _args("--pred", str(pred), "--gt", str(gt), "--json")
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mode"] == "megc" and out["strs"] == pytest.approx(0.2) and out["scope"] == "every video"
    quirky = tmp_path / "quirky.csv"
    table([("1", "v1", 10, 30, "happiness")]).to_csv(quirky, index=False)  # subject 1 predicts once
    args = _args("--pred", str(quirky), "--gt", str(gt), "--mode", "strict", "--compare")
    assert args.func(args) == 0
    text = capsys.readouterr().out
    assert "STR, mode strict" in text and "STR, mode megc" in text and "differences (megc vs strict)" in text
    args = _args("--pred", str(pred), "--gt", str(gt), "--kind", "ME")
    with pytest.raises(ValueError, match="--kind and --label read a release's intervals"):
        args.func(args)


def test_cli_videos_with_kind_is_stated(tmp_path, capsys):
    pred, gt = tmp_path / "pred.csv", tmp_path / "gt.csv"
    table([("1", "v1", 10, 30, "happiness"), ("1", "quiet", 1, 5, "others")]).to_csv(pred, index=False)
    EXAMPLE_GT.to_csv(gt, index=False)
    args = _args("--pred", str(pred), "--gt", str(gt), "--videos", "v1", "quiet", "--mode", "strict", "--json")
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["spotting"]["fp"] == 1 and out["scope"] == "every video"
    args = _args("--pred", str(pred), "--gt", str(gt), "--videos", "v1", "quiet", "--mode", "strict",
                 "--videos-with-kind", "--json")
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["spotting"]["fp"] == 0 and out["scope"].startswith("videos with any ground truth only")
    assert "videos with ground truth only: 1 prediction(s) on other videos left out" in out["notes"]


def test_ground_truth_may_repeat_an_interval_predictions_may_not():
    # an ME and a MaE labelled on the same frames: two GT intervals; one prediction matches both in megc mode
    gt = table([("s", "v", 0, 9, "negative"), ("s", "v", 0, 9, "negative")])
    pred = table([("s", "v", 0, 9, "negative")])
    megc, strict = score_str(pred, gt), score_str(pred, gt, mode="strict")
    assert (megc["spotting"]["tp"], megc["spotting"]["fn"]) == (2, 0)
    assert (strict["spotting"]["tp"], strict["spotting"]["fn"]) == (1, 1)
    with pytest.raises(ValueError, match="predictions table, data row 2: repeats data row 1"):
        score_str(pd.concat([pred, pred]), gt)

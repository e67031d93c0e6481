"""The spot-then-recognise (STR) scorer: STRS = F1(spotting) × F1(analysis), in two modes.

Files are ``subject,video,onset,offset,emotion`` (predictions and ground truth alike; the MEGC 2024–2025 STR
layout). Frames are inclusive ``[onset, offset]`` on one numbering for both files; onsets may be negative (the
reference's own example has them). IoU counts inclusive frames (:func:`scorer.inclusive_iou`); a hit is
``IoU >= iou`` (0.5). Expression types are not separated: every interval of a video meets every other.

``megc`` mode reproduces the reference scorer (Liong, See & Chan 2023; ``genbing99/STRS-Metric``), quirks included:

1. **one prediction, several GTs**: predictions are taken in file order; each one is compared with every GT row of
   its video in file order and *every* not-yet-matched GT with IoU >= 0.5 becomes a TP pair with it. A prediction
   that matches nothing is an FP; unmatched GTs are FNs. So TP can exceed the number of predictions.
2. **subjects from the predictions**: a subject with no prediction row has its ground truth ignored (no FN).
3. **videos from the ground truth**: a prediction on a video without ground truth is ignored (no FP).
4. **"UAR" is the mean per-class precision**; the true mean recall is reported beside it as ``mean_recall``.
5. **a class whose binary confusion matrix cannot be unpacked** (the pairs hold one value only for it, or no pair
   exists) gets precision = recall = F1 = 0.
6. **a zero denominator gives 0** for a class's (and the spotting) precision, recall and F1 (``P = TP / (TP + FP)``
   or 0, ``R`` likewise, ``F1 = 2PR / (P + R)`` or 0), but the analysis F1, ``2·P̄·R̄ / (P̄ + R̄)`` over the mean
   precision and mean recall, is numpy's 0/0 = NaN when both means are 0 (e.g. every analysed class gets 0/0/0),
   and so is STRS. The reference's own README example (5 predictions, 5 GTs) scores STRS 0.2 this way.
   (The reference also needs pandas < 2; this module does not.)

``strict`` mode keeps the STRS definition (the analysis F1 is the harmonic mean of the mean per-class precision and
the mean per-class recall) and fixes the quirks:

1. one-to-one matching: each prediction, in file order, takes the unmatched GT of its video with the highest IoU
   >= 0.5 (the first in file order on ties); each GT is matched at most once;
2. every ground-truth subject counts: a subject without predictions counts its intervals as FNs;
3. every listed video counts: a prediction on a known video without ground truth is an FP;
4. UAR is the mean per-class recall; UF1 the mean per-class F1;
5./6. a ratio with a zero denominator is 0, and the means run over the analysed classes that have ground truth
   among the scored pairs (a class listed but absent does not pull the means to 0).

Analysis in both modes: over the TP pairs whose GT emotion is an analysed class (``classes``; by default every
emotion of the ground truth file, as the reference does), for each class ``c`` the binary confusion of
``gt == c`` against ``pred == c``. Emotion labels are compared as written (after trimming spaces). Refused, each
with one line naming the file and data row: a predicted label that is neither a GT emotion, a listed class nor
``others`` (MEGC's label of what it does not analyse), unknown videos, a prediction whose subject is not its video's
GT subject, non-integer frames, offset < onset, empty fields and repeated ``subject, video, onset, offset``
prediction rows (the ground truth may repeat an interval).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Collection, Sequence

import pandas as pd

from samm_synth_dataset import format as fmt
from samm_synth_dataset.sources.casme3 import canonical_video_id
from samm_synth_dataset.spotting.scorer import (check_prediction_ids, choose_gt_column, first_items, inclusive_iou,
                                                is_blank, read_table, whole_frames)

STR_COLUMNS: tuple[str, ...] = ("subject", "video", "onset", "offset", "emotion")
STR_MODES: tuple[str, ...] = ("megc", "strict")

Pair = tuple[str | None, str]  # (GT emotion, predicted emotion) of one TP pair


# ---------------------------------------------------------------------------------------------------------------
# Reading


def normalise_str(table: pd.DataFrame | str | Path, what: str, emotion_required: bool = True,
                  unique: bool = True) -> pd.DataFrame:
    """A ``subject, video, onset, offset, emotion`` DataFrame (ids trimmed, CAS(ME)³ ids canonical, int frames) from
    a CSV/Parquet path or a DataFrame in the STR layout. ``emotion`` is None where blank (allowed only when
    ``emotion_required`` is False: ground-truth intervals without a label are spotted but not analysed). With
    ``unique`` a repeated ``subject, video, onset, offset`` is refused (predictions; ground truth may repeat an
    interval, e.g. an ME and a MaE on the same frames). Raises ValueError naming the file, the data row and what to
    fix."""
    df, name = read_table(table, what)
    missing = [c for c in STR_COLUMNS if c not in df.columns]
    if missing and df.empty:   # an empty file: no rows
        df = pd.DataFrame(columns=list(STR_COLUMNS))
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; the STR layout is "
                         f"`{','.join(STR_COLUMNS)}` (has {list(df.columns)})")
    rows: list[tuple[str, str, int, int, str | None]] = []
    seen: dict[tuple[str, str, int, int], int] = {}
    for i, (subject, video, onset, offset, emotion) in enumerate(zip(*(df[c] for c in STR_COLUMNS))):
        where = f"{name}, data row {i + 1}"
        for label, value in (("subject", subject), ("video", video)):
            if is_blank(value):
                raise ValueError(f"{where}: empty {label}")
        if is_blank(emotion) and emotion_required:
            raise ValueError(f"{where}: empty emotion; every row needs an emotion label")
        on, off = whole_frames(onset, offset, where)
        row = (_subject_id(subject), canonical_video_id(str(video).strip()), on, off,
               None if is_blank(emotion) else str(emotion).strip())
        key = row[:4]
        if unique and key in seen:
            raise ValueError(f"{where}: repeats data row {seen[key]} ({row[0]}, {row[1]}, {row[2]}, {row[3]}); "
                             "give each interval once")
        seen[key] = i + 1
        rows.append(row)
    columns = list(zip(*rows)) if rows else [()] * len(STR_COLUMNS)
    # object columns: a missing emotion stays None (pandas' string dtype would make it NaN)
    return pd.DataFrame({c: pd.Series(list(v), dtype="int64" if c in ("onset", "offset") else object)
                         for c, v in zip(STR_COLUMNS, columns)})


def _subject_id(value: Any) -> str:
    """A subject id as text (a float read from a CSV, ``15.0``, is ``15``)."""
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value).strip()


def release_ground_truth(intervals: pd.DataFrame, pred_videos: set[str], label: str = "emotion_megc",
                         kinds: Collection[str] = fmt.KINDS) -> pd.DataFrame:
    """The STR ground truth of a release's intervals table: ``label`` (``emotion_megc`` or ``emotion``) as the
    emotion, the video ids the predictions use (source ids: one row per source interval; synthetic ids: one per
    copy), only the intervals of ``kinds``. Raises ValueError when the release carries no emotion labels."""
    if label not in intervals.columns or intervals[label].isna().all():
        raise ValueError(f"the release's intervals have no {label!r} labels (SAMM-LV has no emotion labels; "
                         "join your own with `build --emotions FILE.csv`)")
    column = choose_gt_column(intervals, pred_videos, "auto")
    table = fmt.source_intervals(intervals) if column == "source_video" else intervals
    table = table[table["kind"].isin(set(kinds))]
    return pd.DataFrame({"subject": table["subject"].astype(str).to_numpy(),
                         "video": [canonical_video_id(str(v)) for v in table[column]],
                         "onset": table["onset"].astype(int).to_numpy(),
                         "offset": table["offset"].astype(int).to_numpy(),
                         "emotion": [None if is_blank(e) else str(e) for e in table[label]]})


def write_str(table: pd.DataFrame, path: str | Path) -> Path:
    """Write ``subject,video,onset,offset,emotion`` rows (in table order) as a CSV."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.loc[:, list(STR_COLUMNS)].to_csv(path, index=False)
    return path


# ---------------------------------------------------------------------------------------------------------------
# Spotting


@dataclass
class Spotting:
    """TP pairs and counts of one spotting pass, with the quirk events it met."""

    pairs: list[Pair] = field(default_factory=list)
    fp: int = 0
    fn: int = 0
    multi_match_predictions: int = 0     # predictions that matched more than one GT (megc only)
    ignored_gt: int = 0                  # GT of subjects without predictions (megc only)
    ignored_predictions: int = 0         # predictions on videos without GT (megc) or outside the scope (strict)

    @property
    def tp(self) -> int:
        return len(self.pairs)


def _rows(table: pd.DataFrame) -> dict[str, list[tuple[int, int, str | None]]]:
    out: dict[str, list[tuple[int, int, str | None]]] = {}
    for video, onset, offset, emotion in zip(table["video"], table["onset"], table["offset"], table["emotion"]):
        out.setdefault(video, []).append((int(onset), int(offset), emotion))
    return out


def spot_megc(pred: pd.DataFrame, gt: pd.DataFrame, iou: float = 0.5) -> Spotting:
    """The reference's spotting pass (quirks 1–3 of the module docstring)."""
    result = Spotting()
    preds, gts = _rows(pred), _rows(gt)
    pred_subjects = list(dict.fromkeys(pred["subject"]))
    gt_videos_of = {s: list(dict.fromkeys(gt.loc[gt["subject"] == s, "video"])) for s in dict.fromkeys(gt["subject"])}
    for subject in pred_subjects:
        for video in gt_videos_of.get(subject, []):
            g = gts[video]
            matched = [False] * len(g)
            for p_on, p_off, p_emotion in preds.get(video, []):
                hits = 0
                for i, (g_on, g_off, g_emotion) in enumerate(g):
                    if not matched[i] and inclusive_iou(p_on, p_off, g_on, g_off) >= iou:
                        matched[i] = True
                        hits += 1
                        result.pairs.append((g_emotion, str(p_emotion)))
                result.fp += hits == 0
                result.multi_match_predictions += hits > 1
            result.fn += matched.count(False)
    result.ignored_gt = int((~gt["subject"].isin(set(pred_subjects))).sum())
    result.ignored_predictions = int((~pred["video"].isin(set(gt["video"]))).sum())
    return result


def spot_strict(pred: pd.DataFrame, gt: pd.DataFrame, videos: Collection[str], iou: float = 0.5) -> Spotting:
    """One-to-one matching over every video in ``videos`` (and every GT video): see the module docstring."""
    result = Spotting()
    preds, gts = _rows(pred), _rows(gt)
    scope = set(videos) | set(gts)
    for video in sorted(scope):
        g = gts.get(video, [])
        matched = [False] * len(g)
        for p_on, p_off, p_emotion in preds.get(video, []):
            best_i, best_iou = -1, 0.0
            for i, (g_on, g_off, _) in enumerate(g):
                v = inclusive_iou(p_on, p_off, g_on, g_off)
                if not matched[i] and v >= iou and v > best_iou:
                    best_i, best_iou = i, v
            if best_i < 0:
                result.fp += 1
            else:
                matched[best_i] = True
                result.pairs.append((g[best_i][2], str(p_emotion)))
        result.fn += matched.count(False)
    result.ignored_predictions = int((~pred["video"].isin(scope)).sum())
    return result


# ---------------------------------------------------------------------------------------------------------------
# Analysis


def _div(a: float, b: float) -> float:
    """``a / b``, or 0 when ``b`` is 0 (the reference's per-class and spotting rule; strict's everywhere)."""
    return a / b if b else 0.0


def _mean(values: Sequence[float], mode: str) -> float:
    if not values:
        return math.nan if mode == "megc" else 0.0
    return sum(values) / len(values)  # NaN spreads, as numpy's mean


def analyse(pairs: list[Pair], classes: Sequence[str], mode: str) -> dict[str, Any]:
    """Per-class precision/recall/F1 over the TP pairs whose GT emotion is in ``classes``; the analysis F1
    (harmonic mean of the mean precision and the mean recall), UF1 and UAR (see the module docstring)."""
    scored = [(g, p) for g, p in pairs if g in set(classes)]
    per_class: dict[str, dict[str, float | int]] = {}
    for c in classes:
        truth = [g == c for g, _ in scored]
        said = [p == c for _, p in scored]
        tp = sum(t and s for t, s in zip(truth, said))
        fp = sum(s and not t for t, s in zip(truth, said))
        fn = sum(t and not s for t, s in zip(truth, said))
        support = sum(truth)
        unpacks = len(set(truth) | set(said)) == 2
        if mode == "megc" and not unpacks:   # the 1×1 (or empty) matrix does not unpack
            precision = recall = f1 = 0.0
        else:
            precision, recall, f1 = _div(tp, tp + fp), _div(tp, tp + fn), _div(2 * tp, 2 * tp + fp + fn)
        per_class[c] = {"tp": tp, "fp": fp, "fn": fn, "support": support,
                        "precision": precision, "recall": recall, "f1": f1, "matrix_unpacks": unpacks}
    averaged = list(classes) if mode == "megc" else [c for c in classes if per_class[c]["support"] > 0]
    precision = _mean([float(per_class[c]["precision"]) for c in averaged], mode)
    recall = _mean([float(per_class[c]["recall"]) for c in averaged], mode)
    f1_values = [float(per_class[c]["f1"]) for c in averaged]
    if math.isnan(precision + recall) or (mode == "megc" and precision + recall == 0):
        f1 = math.nan  # numpy's 0/0 in the reference
    else:
        f1 = _div(2 * precision * recall, precision + recall)
    return {"n_pairs": len(scored), "classes": list(classes), "averaged_over": averaged, "per_class": per_class,
            "precision": precision, "recall": recall, "f1": f1, "uf1": _mean(f1_values, mode),
            "uar": precision if mode == "megc" else recall, "mean_recall": recall}


# ---------------------------------------------------------------------------------------------------------------
# Scoring


def _check_predictions(pred: pd.DataFrame, gt: pd.DataFrame, known: set[str], vocabulary: set[str],
                       name: str) -> None:
    check_prediction_ids(pred, known, name)
    subject_of = dict(zip(gt["video"], gt["subject"]))
    for i, (subject, video, emotion) in enumerate(zip(pred["subject"], pred["video"], pred["emotion"])):
        if video in subject_of and subject_of[video] != subject:
            raise ValueError(f"{name}, data row {i + 1}: video {video!r} belongs to subject {subject_of[video]!r} "
                             f"in the ground truth, not {subject!r}")
        if emotion not in vocabulary:
            raise ValueError(f"{name}, data row {i + 1}: unknown emotion {emotion!r}; the classes are "
                             f"{first_items(sorted(vocabulary), 12)} (labels are compared as written)")


def score_str(
    predictions: pd.DataFrame | str | Path,
    ground_truth: pd.DataFrame | str | Path,
    mode: str = "megc",
    classes: Sequence[str] | None = None,
    iou: float = 0.5,
    videos: Collection[str] | None = None,
    videos_with_gt: bool = False,
) -> dict[str, Any]:
    """Score STR predictions against ground truth (both ``subject,video,onset,offset,emotion``).

    ``classes``: the analysed emotions (default: every emotion of the ground truth, in order of appearance).
    ``videos``: the known videos (e.g. a release's, or one fold's); GT of other videos is left out, and in strict
    mode a prediction on a listed video without GT is an FP. ``videos_with_gt``: score only the videos with GT
    (SOFTNet's protocol; predictions on the other known videos are left out and counted). Returns ``mode, iou, classes, spotting {tp, fp, fn,
    precision, recall, f1}, analysis {...}, strs, events {...}``.
    """
    if mode not in STR_MODES:
        raise ValueError(f"mode must be one of {STR_MODES}, not {mode!r}")
    if not 0.0 < iou <= 1.0:
        raise ValueError(f"iou must be in (0, 1], not {iou}")
    pred = normalise_str(predictions, "predictions")
    gt = normalise_str(ground_truth, "ground truth", emotion_required=False, unique=False)
    pred_name = predictions if isinstance(predictions, (str, Path)) else "predictions table"
    known = set(gt["video"])
    if videos is not None:
        known = {canonical_video_id(str(v)) for v in videos}
        gt = gt[gt["video"].isin(known)].reset_index(drop=True)
    gt_emotions = list(dict.fromkeys(e for e in gt["emotion"] if e is not None))
    chosen = list(dict.fromkeys(classes)) if classes else gt_emotions
    _check_predictions(pred, gt, known, set(gt_emotions) | set(chosen) | {fmt.MEGC_OTHERS}, str(pred_name))
    left_out = 0
    if videos_with_gt:
        keep = pred["video"].isin(set(gt["video"]))
        left_out, pred, known = int((~keep).sum()), pred[keep].reset_index(drop=True), set(gt["video"])
    spotting = spot_megc(pred, gt, iou) if mode == "megc" else spot_strict(pred, gt, known, iou)
    tp, fp, fn = spotting.tp, spotting.fp, spotting.fn
    spot = {"tp": tp, "fp": fp, "fn": fn, "precision": _div(tp, tp + fp), "recall": _div(tp, tp + fn),
            "f1": _div(2 * tp, 2 * tp + fp + fn)}
    analysis = analyse(spotting.pairs, chosen, mode)
    return {"mode": mode, "iou": iou, "classes": chosen, "spotting": spot, "analysis": analysis,
            "strs": spot["f1"] * analysis["f1"],
            "events": {"predictions_matching_several_gts": spotting.multi_match_predictions,
                       "gt_of_subjects_without_predictions_ignored": spotting.ignored_gt,
                       "predictions_outside_scored_videos_ignored": spotting.ignored_predictions},
            "notes": _notes(mode, spotting) + _analysis_notes(mode, analysis, spot["f1"]) + ([
                f"videos with ground truth only: {left_out} prediction(s) on other videos left out"]
                if videos_with_gt else [])}


def _analysis_notes(mode: str, analysis: dict[str, Any], spot_f1: float) -> list[str]:
    if mode != "megc":
        return []
    flat = [c for c, v in analysis["per_class"].items() if not v["matrix_unpacks"]]
    notes = [f"class(es) {', '.join(flat)} scored 0/0/0: their confusion matrix over the pairs has one value only "
             "(strict scores them)"] if flat else []
    if math.isnan(analysis["f1"]) or math.isnan(spot_f1):
        notes.append("a 0/0 made the result NaN, as in the reference (strict counts 0/0 as 0)")
    return notes


def _notes(mode: str, spotting: Spotting) -> list[str]:
    if mode == "strict":
        return ["strict: one-to-one matching, every GT subject and every listed video counted, UAR = mean recall"]
    notes = ["megc: the reference scorer's rules, quirks included; its 'UAR' is the mean per-class precision "
             "(mean_recall is the true UAR)"]
    if spotting.multi_match_predictions:
        notes.append(f"{spotting.multi_match_predictions} prediction(s) matched several GT intervals, each a TP "
                     "(strict matches one)")
    if spotting.ignored_gt:
        notes.append(f"{spotting.ignored_gt} GT interval(s) of subjects without predictions were ignored "
                     "(strict counts them as misses)")
    if spotting.ignored_predictions:
        notes.append(f"{spotting.ignored_predictions} prediction(s) on videos without GT were ignored "
                     "(strict counts them as false positives)")
    return notes


def compare_modes(megc: dict[str, Any], strict: dict[str, Any]) -> dict[str, Any]:
    """The numbers on which the two modes' results differ: ``{name: {"megc": x, "strict": y}}``."""
    def flat(result: dict[str, Any]) -> dict[str, Any]:
        out = {f"spotting_{k}": v for k, v in result["spotting"].items()}
        out.update({f"analysis_{k}": result["analysis"][k] for k in ("precision", "recall", "f1", "uf1", "uar")})
        out["strs"] = result["strs"]
        return out

    a, b = flat(megc), flat(strict)
    same = (lambda x, y: x == y or (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y)))
    return {k: {"megc": a[k], "strict": b[k]} for k in a if not same(a[k], b[k])}


def json_ready(value: Any) -> Any:
    """``value`` with NaN floats as None (JSON has no NaN)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_ready(v) for v in value]
    return value


def format_str_table(result: dict[str, Any]) -> str:
    """A plain-text summary of :func:`score_str`'s result."""
    s, a = result["spotting"], result["analysis"]
    uar_note = " (reference: mean per-class PRECISION)" if result["mode"] == "megc" else " (mean per-class recall)"
    lines = [f"STR, mode {result['mode']}, IoU >= {result['iou']}, classes {', '.join(result['classes']) or '-'}",
             f"spotting  TP {s['tp']}  FP {s['fp']}  FN {s['fn']}  P {s['precision']:.4f}  R {s['recall']:.4f}  "
             f"F1 {s['f1']:.4f}",
             f"analysis  ({a['n_pairs']} TP pairs with an analysed GT emotion)",
             f"{'':14}{'TP':>5}{'FP':>5}{'FN':>5}{'P':>9}{'R':>9}{'F1':>9}"]
    for c, v in a["per_class"].items():
        lines.append(f"{c[:14]:14}{v['tp']:>5}{v['fp']:>5}{v['fn']:>5}{v['precision']:>9.4f}{v['recall']:>9.4f}"
                     f"{v['f1']:>9.4f}")
    lines += [f"analysis  P {a['precision']:.4f}  R {a['recall']:.4f}  F1 {a['f1']:.4f}  UF1 {a['uf1']:.4f}  "
              f"UAR {a['uar']:.4f}{uar_note}",
              f"STRS {result['strs']:.4f}"]
    events = {k: v for k, v in result.get("events", {}).items() if v}
    if events:
        lines.append("events: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in events.items()))
    for note in result.get("notes", []):
        lines.append(f"note: {note}")
    return "\n".join(lines)

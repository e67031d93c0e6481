"""The MEGC interval-spotting scorer (MEGC2020 organisers' rule by default; SoftNet's one-to-one rule as an option).

Conventions
-----------
* Intervals are ``[onset, offset]`` frame numbers with **inclusive** ends, on any consistent numbering (0- or 1-based,
  the same for predictions and ground truth).
* IoU counts inclusive frames: ``inter = min(e1, e2) - max(s1, s2) + 1`` (0 if negative);
  ``union = (e1 - s1 + 1) + (e2 - s2 + 1) - inter``. A proposal hits a GT when ``IoU >= iou`` (default 0.5).
  A 1-frame interval ``[f, f]`` is a valid interval of length 1 (the organisers' code returns IoU 0 for it, a bug
  this scorer does not reproduce).
* ME and MaE are scored separately: a proposal only ever meets GTs of its own video and kind.

Matching rules
--------------
``"megc2020"`` (default; ``HeyingGithub/Baseline-project-for-MEGC2020_spotting``):
    a GT is *found* when any proposal of its video and kind hits it. ``TP`` = found GTs, ``FP = n_pred - TP``,
    ``FN = n_gt - TP``, ``precision = TP / n_pred``, ``recall = TP / n_gt``. Duplicate proposals on one GT are FPs.
    When one proposal hits several GTs (possible only when they overlap, or at exactly ``iou`` = 0.5), all of them
    are found, so ``TP`` may exceed the proposals that produced it: ``FP`` can then be negative and precision can
    exceed 1, exactly as in the organisers' code. Use ``"one-to-one"`` if that matters to you.
``"one-to-one"`` (``genbing99/SoftNet-SpotME``'s greedy VOC rule):
    proposals are taken in input order (SoftNet's scores are all equal, so its stable sort keeps input order); each
    is compared only with its best-IoU GT of the same video and kind (the first on ties). It is a TP if that IoU
    ``>= iou`` and that GT is not matched yet, else an FP, even when another GT would qualify. Each GT is matched
    at most once; ``FN = n_gt - TP``. SoftNet's dummy ``[0, 0]`` proposal for videos without peaks is not added.

In both rules proposals in known videos that have no GT (listed in ``videos``, e.g. a release's videos table)
count as FPs, and a proposal naming an unknown video is an error naming its rows; GTs in videos without proposals
count as FNs, and
``overall`` pools the counts of both kinds (it is not the mean of the two F1s). Precision, recall and F1 are 0 when
undefined (a zero denominator). Proposals are not length-filtered: classify them (ME vs MaE) before scoring.

Inputs
------
CSV paths or DataFrames in any of these layouts:
* MEGC submissions, ``type`` in ``me``/``mae`` (any case), 1-based frame numbers: ``vid,pred_onset,pred_offset,type``
  (MEGC2022; some MEGC2023 teams) or ``vid,onset,offset,type`` (other MEGC2023 teams; the official 2023 header was
  not found; 2024 and 2025 reuse the 2023 test set). :func:`write_megc` writes either (``layout``);
* our intervals table (``data/intervals/intervals.parquet``): ``video`` and/or ``source_video``, ``onset``,
  ``offset``, ``kind`` in ``ME``/``MaE``.
For a ground-truth intervals table holding both ``video`` (synthetic ids, e.g. ``006_1-ref03``) and ``source_video``
(``006_1``), the column whose ids the predictions use is chosen (``gt_video_column="auto"``); on source ids the
synthetic copies of one source interval are counted once. CAS(ME)³ ids in any MEGC spelling (``spNO.1_a``,
``spNO1_A``) are read as ``spNO1_a``, the spelling of this package's tables (``sources.casme3.video_id``).
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection

import pandas as pd

from samm_synth_dataset import format as fmt
from samm_synth_dataset.sources.casme3 import canonical_video_id

MATCHING_RULES: tuple[str, ...] = ("megc2020", "one-to-one")
#: MEGC prediction CSV layouts by name: the header :func:`write_megc` writes.
MEGC_LAYOUTS: dict[str, tuple[str, ...]] = {"onset": ("vid", "onset", "offset", "type"),
                                            "pred_onset": ("vid", "pred_onset", "pred_offset", "type")}

#: Dataset codes of the organisers' log file's first line.
LOG_DATASET_CODES: dict[str, int] = {"samm": 1, "cas": 2}

_KIND_ALIASES: dict[str, str] = {
    "me": "ME", "micro": "ME", "micro-expression": "ME",
    "mae": "MaE", "macro": "MaE", "macro-expression": "MaE",
}


# ---------------------------------------------------------------------------------------------------------------
# Input normalisation


def read_table(table: pd.DataFrame | str | Path, what: str) -> tuple[pd.DataFrame, str]:
    if isinstance(table, pd.DataFrame):
        return table.copy(), f"{what} table"
    path = Path(table)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {what} file not found")
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path), str(path)
    str_cols = {c: str for c in ("vid", "video", "source_video", "type", "kind", "subject", "emotion")}
    try:
        return pd.read_csv(path, dtype=str_cols), str(path)  # ids like "011" stay strings
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=list(MEGC_LAYOUTS["onset"])), str(path)  # an empty file: no rows
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the {what} CSV ({exc})") from exc


def normalise_intervals(
    table: pd.DataFrame | str | Path, what: str = "intervals", video_column: str | None = None
) -> pd.DataFrame:
    """Return a ``video, onset, offset, kind`` DataFrame (kind ``ME``/``MaE``, int frames) from either layout.

    ``video_column`` picks the id column (``vid``, ``video`` or ``source_video``); by default ``vid``, else
    ``video``, else ``source_video``. Raises ValueError naming the source, row and what to fix.
    """
    df, name = read_table(table, what)
    return _normalise(df, name, video_column)


def _normalise(df: pd.DataFrame, name: str, video_column: str | None) -> pd.DataFrame:
    pred_cols = [c for c in ("pred_onset", "pred_offset") if c in df.columns]
    if pred_cols:
        if "onset" in df.columns or "offset" in df.columns or len(pred_cols) == 1:
            raise ValueError(f"{name}: columns {list(df.columns)} mix layouts; use either onset,offset or "
                             "pred_onset,pred_offset")
        df = df.rename(columns={"pred_onset": "onset", "pred_offset": "offset"})
    if video_column is None:
        video_column = next((c for c in ("vid", "video", "source_video") if c in df.columns), None)
    kind_column = "type" if "type" in df.columns else ("kind" if "kind" in df.columns else None)
    missing = [c for c, ok in (("vid/video", video_column is not None and video_column in df.columns),
                               ("onset", "onset" in df.columns), ("offset", "offset" in df.columns),
                               ("type/kind", kind_column is not None)) if not ok]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; expected MEGC `vid,onset,offset,type` or "
                         "`vid,pred_onset,pred_offset,type` or our intervals table `video,onset,offset,kind` "
                         f"(has {list(df.columns)})")
    assert video_column is not None and kind_column is not None
    out = pd.DataFrame({"video": df[video_column], "onset": df["onset"], "offset": df["offset"],
                        "kind": df[kind_column]})
    rows: list[tuple[str, int, int, str]] = []
    for i, (video, onset, offset, kind) in enumerate(
            zip(out["video"], out["onset"], out["offset"], out["kind"])):
        where = f"{name}, row {i + 1} (data row, header excluded)"
        if is_blank(video):
            raise ValueError(f"{where}: empty video id")
        k = _KIND_ALIASES.get(str(kind).strip().lower())
        if k is None:
            raise ValueError(f"{where}: unknown expression type {kind!r}; use me/mae (MEGC2023) or ME/MaE")
        on, off = whole_frames(onset, offset, where)
        rows.append((canonical_video_id(str(video)), on, off, k))
    negative = [f"row {i + 1} ({on}, {off})" for i, (_, on, off, _) in enumerate(rows) if on < 0 or off < 0]
    if negative:
        raise ValueError(f"{name}: negative frame numbers in {len(negative)} data row(s): {first_items(negative)}; "
                         "frames are source frame numbers (>= 0)")
    result = pd.DataFrame(rows, columns=["video", "onset", "offset", "kind"])
    return result


def is_blank(value: Any) -> bool:
    """True for None, NaN and text that is empty after trimming (an empty CSV cell)."""
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def whole_frames(onset: Any, offset: Any, where: str) -> tuple[int, int]:
    """``(onset, offset)`` as ints; ValueError naming ``where`` unless both are whole numbers with offset >= onset."""
    try:
        on_f, off_f = float(onset), float(offset)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: onset/offset {onset!r}/{offset!r} are not frame numbers") from None
    if not (math.isfinite(on_f) and math.isfinite(off_f)) or on_f != int(on_f) or off_f != int(off_f):
        raise ValueError(f"{where}: onset/offset {onset!r}/{offset!r} must be whole frame numbers")
    if off_f < on_f:
        raise ValueError(f"{where}: offset {int(off_f)} < onset {int(on_f)}; intervals are inclusive "
                         "[onset, offset] with offset >= onset")
    return int(on_f), int(off_f)


def first_items(items: list[str], n: int = 5) -> str:
    return ", ".join(items[:n]) + (f", … ({len(items)} in all)" if len(items) > n else "")


def _unpadded(video: str) -> str:
    """``video`` with the leading zeros of its numbers dropped (``006_1`` → ``6_1``), to spot padding slips."""
    return re.sub(r"\d+", lambda m: str(int(m.group())), video)


def check_prediction_ids(pred: pd.DataFrame, known: set[str], name: str) -> None:
    """Raise ValueError naming the data rows whose video id is not in ``known`` (with a hint when the id matches a
    known one but for zero padding, e.g. ``6_1`` for ``006_1``)."""
    bad = [(i + 1, v) for i, v in enumerate(pred["video"]) if v not in known]
    if not bad:
        return
    by_unpadded: dict[str, str] = {}
    for k in sorted(known):
        by_unpadded.setdefault(_unpadded(k), k)
    hints = sorted({f"{v!r} → {by_unpadded[_unpadded(v)]!r}" for _, v in bad if _unpadded(v) in by_unpadded})
    hint = f"; did you mean {', '.join(hints[:5])}? (ids are zero-padded)" if hints else \
        f"; the ground truth has {first_items(sorted(repr(k) for k in known), 8) or 'no videos'}"
    raise ValueError(f"{name}: {len(bad)} data row(s) name videos that are not in the ground truth: "
                     f"{first_items([f'row {i} {v!r}' for i, v in bad])}{hint}")


def write_megc(predictions: pd.DataFrame | str | Path, path: str | Path, layout: str = "onset") -> Path:
    """Write predictions (any layout :func:`normalise_intervals` reads) as a MEGC CSV: header
    :data:`MEGC_LAYOUTS` ``[layout]`` (``onset``: ``vid,onset,offset,type``; ``pred_onset``:
    ``vid,pred_onset,pred_offset,type``), types ``me``/``mae``, frame numbers unchanged, rows in input order."""
    if layout not in MEGC_LAYOUTS:
        raise ValueError(f"layout must be one of {tuple(MEGC_LAYOUTS)}, not {layout!r}")
    df = normalise_intervals(predictions, "predictions")
    out = pd.DataFrame({"vid": df["video"], "on": df["onset"], "off": df["offset"],
                        "type": df["kind"].map({"ME": "me", "MaE": "mae"})})
    out.columns = list(MEGC_LAYOUTS[layout])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False)
    return path


def choose_gt_column(gt: pd.DataFrame, pred_videos: set[str], gt_video_column: str,
                      pred_name: str = "predictions") -> str | None:
    """The ground truth's video column the predictions' ids are in. One id resolution: on a release's intervals
    (``video`` = synthetic ids, ``source_video`` = source ids), predictions that use both kinds are refused, and
    predictions that name no known video (e.g. an empty file) are scored on the source videos, so the ground truth
    counted never depends on the predictions."""
    if gt_video_column != "auto":
        if gt_video_column not in gt.columns:
            raise ValueError(f"ground truth has no column {gt_video_column!r} (has {list(gt.columns)})")
        return gt_video_column
    candidates = [c for c in ("vid", "video", "source_video") if c in gt.columns]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    if "video" in candidates and "source_video" in candidates:
        synthetic = {canonical_video_id(v) for v in gt["video"].astype(str)}
        source = {canonical_video_id(v) for v in gt["source_video"].astype(str)}
        only_synthetic = sorted(v for v in pred_videos if v in synthetic and v not in source)
        only_source = sorted(v for v in pred_videos if v in source and v not in synthetic)
        if only_synthetic and only_source:
            raise ValueError(f"{pred_name}: the predictions mix synthetic video ids ({first_items(only_synthetic, 3)}) "
                             f"and source video ids ({first_items(only_source, 3)}); score one kind at a time (source "
                             "ids for spotting on the original videos, synthetic ids for the synthetic copies)")
        if not pred_videos & (synthetic | source):
            return "source_video"
    hits = {c: len(pred_videos & {canonical_video_id(v) for v in gt[c].astype(str)}) for c in candidates}
    best = max(candidates, key=lambda c: (hits[c], -candidates.index(c)))
    return best


def inclusive_iou(s1: int, e1: int, s2: int, e2: int) -> float:
    """IoU of the inclusive frame ranges ``[s1, e1]`` and ``[s2, e2]`` (0 when disjoint)."""
    inter = min(e1, e2) - max(s1, s2) + 1
    if inter <= 0:
        return 0.0
    union = (e1 - s1 + 1) + (e2 - s2 + 1) - inter
    return inter / union


# ---------------------------------------------------------------------------------------------------------------
# Matching


@dataclass(frozen=True)
class LogEntry:
    """One line of the per-video log: a GT and/or a proposal with its outcome ``TP``/``FP``/``FN``."""

    video: str
    kind: str
    gt: tuple[int, int] | None
    pred: tuple[int, int] | None
    outcome: str

    def line(self) -> str:
        """``"<vid> <gt_on> <gt_off> <pred_on> <pred_off> TP|FP|FN"`` with ``-`` for blanks (organisers' format)."""
        g = f"{self.gt[0]} {self.gt[1]}" if self.gt else "- -"
        p = f"{self.pred[0]} {self.pred[1]}" if self.pred else "- -"
        return f"{self.video} {g} {p} {self.outcome}"


@dataclass
class SpottingResult:
    """Counts per kind plus the per-video log entries."""

    counts: dict[str, dict[str, int]]
    entries: list[LogEntry]
    #: with ``videos_with_kind``: per kind, the proposals left out (on videos without GT of that kind)
    left_out: dict[str, int] | None = None

    def as_dict(self) -> dict[str, dict[str, float | int]]:
        out: dict[str, dict[str, float | int]] = {}
        for kind in fmt.KINDS:
            c = self.counts[kind]
            out[kind] = counts_summary(c["tp"], c["n_pred"], c["n_gt"])
        out["overall"] = counts_summary(sum(self.counts[k]["tp"] for k in fmt.KINDS),
                                  sum(self.counts[k]["n_pred"] for k in fmt.KINDS),
                                  sum(self.counts[k]["n_gt"] for k in fmt.KINDS))
        return out


def counts_summary(tp: int, n_pred: int, n_gt: int) -> dict[str, float | int]:
    """``tp, fp, fn, n_pred, n_gt, precision, recall, f1`` of MEGC counts (0.0 where a ratio is undefined)."""
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gt if n_gt else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"tp": tp, "fp": n_pred - tp, "fn": n_gt - tp, "n_pred": n_pred, "n_gt": n_gt,
            "precision": precision, "recall": recall, "f1": f1}


def _match_megc2020(video: str, kind: str, preds: list[tuple[int, int]], gts: list[tuple[int, int]],
                    iou: float) -> tuple[int, list[LogEntry]]:
    entries: list[LogEntry] = []
    used: set[int] = set()
    tp = 0
    for g in gts:
        best_j, best_iou = -1, -1.0
        for j, p in enumerate(preds):
            v = inclusive_iou(g[0], g[1], p[0], p[1])
            # Prefer a proposal not yet shown in the log, so each log line names a distinct proposal when possible.
            if v >= iou and (v > best_iou or (v == best_iou and best_j in used and j not in used)):
                best_j, best_iou = j, v
        if best_j >= 0:
            tp += 1
            used.add(best_j)
            entries.append(LogEntry(video, kind, g, preds[best_j], "TP"))
        else:
            entries.append(LogEntry(video, kind, g, None, "FN"))
    entries.extend(LogEntry(video, kind, None, p, "FP") for j, p in enumerate(preds) if j not in used)
    return tp, entries


def _match_one_to_one(video: str, kind: str, preds: list[tuple[int, int]], gts: list[tuple[int, int]],
                      iou: float) -> tuple[int, list[LogEntry]]:
    entries: list[LogEntry] = []
    matched: set[int] = set()
    for p in preds:
        best_i, best_iou = -1, 0.0
        for i, g in enumerate(gts):
            v = inclusive_iou(p[0], p[1], g[0], g[1])
            if v > best_iou:
                best_i, best_iou = i, v
        if best_i >= 0 and best_iou >= iou and best_i not in matched:
            matched.add(best_i)
            entries.append(LogEntry(video, kind, gts[best_i], p, "TP"))
        else:
            entries.append(LogEntry(video, kind, None, p, "FP"))
    entries.extend(LogEntry(video, kind, g, None, "FN") for i, g in enumerate(gts) if i not in matched)
    return len(matched), entries


def match_spotting(
    predictions: pd.DataFrame | str | Path,
    ground_truth: pd.DataFrame | str | Path,
    iou: float = 0.5,
    matching: str = "megc2020",
    gt_video_column: str = "auto",
    videos: Collection[str] | None = None,
    videos_with_kind: bool = False,
) -> SpottingResult:
    """Match predictions to ground truth per video and kind; see the module docstring for the rules.

    ``videos``: the videos scored (e.g. one LOSO fold's test videos, synthetic and/or source ids); GT of other
    videos is left out. A prediction whose video is neither in the (restricted) GT nor in ``videos`` is an error
    naming its rows; an empty prediction table is scored (every GT a miss) with a warning.
    ``videos_with_kind``: score each kind only on the videos whose GT has that kind (SOFTNet's protocol, e.g. ME
    on the 33 of 97 CAS(ME)² videos with an ME); the proposals of that kind on other videos are left out and
    counted in ``left_out``. Default: every video (such proposals are false positives).
    """
    if matching not in MATCHING_RULES:
        raise ValueError(f"matching must be one of {MATCHING_RULES}, not {matching!r}")
    if not 0.0 < iou <= 1.0:
        raise ValueError(f"iou must be in (0, 1], not {iou}")
    pred_raw, pred_name = read_table(predictions, "predictions")
    pred = _normalise(pred_raw, pred_name, None)
    if pred.empty:
        warnings.warn(f"{pred_name}: no predictions; every ground-truth interval counts as a miss", stacklevel=2)
    gt_raw, gt_name = read_table(ground_truth, "ground truth")
    column = choose_gt_column(gt_raw, set(pred["video"]), gt_video_column, pred_name)
    if column == "source_video":
        # Synthetic copies of one source interval (one per reference) are one GT on the source video.
        gt_raw = fmt.source_intervals(gt_raw).reset_index(drop=True)
    gt = _normalise(gt_raw, gt_name, column)
    known = set(gt["video"])
    if videos is not None:
        known = {canonical_video_id(str(v)) for v in videos}
        gt = gt[gt["video"].isin(known)].reset_index(drop=True)
    check_prediction_ids(pred, known, pred_name)

    match = _match_megc2020 if matching == "megc2020" else _match_one_to_one
    counts = {k: {"tp": 0, "n_pred": 0, "n_gt": 0} for k in fmt.KINDS}
    entries: list[LogEntry] = []
    videos = sorted(set(pred["video"]) | set(gt["video"]))
    pred_groups = {key: list(zip(g["onset"], g["offset"])) for key, g in pred.groupby(["video", "kind"], sort=False)}
    gt_groups = {key: list(zip(g["onset"], g["offset"])) for key, g in gt.groupby(["video", "kind"], sort=False)}
    left_out = {k: 0 for k in fmt.KINDS} if videos_with_kind else None
    for video in videos:
        for kind in fmt.KINDS:
            p = [(int(a), int(b)) for a, b in pred_groups.get((video, kind), [])]
            g = sorted((int(a), int(b)) for a, b in gt_groups.get((video, kind), []))
            if left_out is not None and not g:
                left_out[kind] += len(p)
                continue
            if not p and not g:
                continue
            tp, e = match(video, kind, p, g, iou)
            counts[kind]["tp"] += tp
            counts[kind]["n_pred"] += len(p)
            counts[kind]["n_gt"] += len(g)
            entries.extend(e)
    return SpottingResult(counts, entries, left_out)


def score_spotting(
    predictions: pd.DataFrame | str | Path,
    ground_truth: pd.DataFrame | str | Path,
    iou: float = 0.5,
    matching: str = "megc2020",
    gt_video_column: str = "auto",
    videos: Collection[str] | None = None,
    videos_with_kind: bool = False,
) -> dict[str, dict[str, float | int]]:
    """Score interval proposals against GT: ``{"ME": {...}, "MaE": {...}, "overall": {...}}``.

    Each entry has ``tp, fp, fn, n_pred, n_gt, precision, recall, f1``; ``overall`` pools both kinds' counts.
    ``matching``: ``"megc2020"`` (organisers' rule, default) or ``"one-to-one"`` (SoftNet's greedy rule).
    ``videos_with_kind``: see :func:`match_spotting`.
    """
    return match_spotting(predictions, ground_truth, iou, matching, gt_video_column, videos,
                          videos_with_kind).as_dict()


def log_lines(result: SpottingResult, dataset_code: int = 1, kind: str | None = None) -> list[str]:
    """The organisers' log: a dataset line (1 = SAMM, 2 = CAS(ME)²), then one line per GT/proposal.

    Lines are ``"<vid> <gt_on> <gt_off> <pred_on> <pred_off> TP|FP|FN"`` with ``-`` for blanks, grouped by video.
    ``kind`` restricts the log to ``ME`` or ``MaE``; by default both kinds follow each other per video.
    """
    lines = [str(dataset_code)]
    lines.extend(e.line() for e in result.entries if kind is None or e.kind == kind)
    return lines


def write_log(path: str | Path, result: SpottingResult, dataset_code: int = 1, kind: str | None = None) -> Path:
    """Write :func:`log_lines` to ``path`` (one line each, trailing newline)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(log_lines(result, dataset_code, kind)) + "\n")
    return path


# ---------------------------------------------------------------------------------------------------------------
# CLI


def release_videos(release: Path, fold: int | None = None) -> set[str]:
    """The videos of a (checked) release, synthetic and source ids, or with ``fold`` only the test videos of
    that LOSO fold (0-based, in ``splits/loso.json`` order) and their source videos."""
    table = pd.read_parquet(release / fmt.VIDEOS_PATH, columns=["video", "source_video"])
    if fold is not None:
        folds = fmt.read_splits(release)
        if not 0 <= fold < len(folds):
            raise ValueError(f"--fold {fold}: {release / fmt.SPLITS_PATH} has {len(folds)} folds (0..{len(folds) - 1}"
                             f", test subjects {', '.join(f.test_subject for f in folds)})")
        table = table[table["video"].isin(set(folds[fold].test))]
    return set(table["video"].astype(str)) | set(table["source_video"].astype(str))


#: How the output states the two protocols of ``videos_with_kind``.
SCOPE_EVERY_VIDEO = "every video"
SCOPE_VIDEOS_WITH_KIND = "each kind only on the videos whose ground truth has it (--videos-with-kind)"


def format_table(scores: dict[str, dict[str, Any]], iou: float = 0.5, matching: str = "megc2020",
                 scope: str = SCOPE_EVERY_VIDEO) -> str:
    """A plain-text table of :func:`score_spotting`'s result."""
    head = f"{'':8}{'TP':>6}{'FP':>6}{'FN':>6}{'N_pred':>8}{'N_gt':>6}{'P':>8}{'R':>8}{'F1':>8}"
    lines = [f"MEGC spotting, IoU >= {iou}, matching {matching}, scored on {scope}", head]
    for key in (*fmt.KINDS, "overall"):
        s = scores[key]
        lines.append(f"{key:8}{s['tp']:>6}{s['fp']:>6}{s['fn']:>6}{s['n_pred']:>8}{s['n_gt']:>6}"
                     f"{s['precision']:>8.4f}{s['recall']:>8.4f}{s['f1']:>8.4f}")
    return "\n".join(lines)



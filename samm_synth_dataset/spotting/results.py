"""The spotting benchmark's numbers: each run's MEGC scores on its test videos, the scores per seed pooled over
folds, their spread over seeds, and the paired bootstrap over held-out subjects (``utility``) with the verdict of
each difference from ``real``.

Counts: a run's TP/FP/FN follow the MEGC rule (``scorer.score_spotting``, IoU >= 0.5) on the held-out subject's
source videos. With ``test_videos="all"`` every test video is scored, so predictions on a video without an interval
of the kind are false positives; with ``"with-kind"`` a kind is scored only on the test videos that contain one (as
SOFTNet did). "Pooled" sums the counts (over folds, and over seeds where it says so) and computes precision, recall
and F1 from the sums.
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from samm_synth_dataset import format as fmt
from samm_synth_dataset.spotting import utility
from samm_synth_dataset.spotting.scorer import counts_summary, score_spotting

SCORE_KINDS: tuple[str, ...] = (*fmt.KINDS, "overall")


def run_scores(rows: Sequence[Sequence[Any]], gt: pd.DataFrame, test_sources: Sequence[str],
               test_videos: str) -> dict[str, dict[str, float | int]]:
    """MEGC scores of one run: ``rows`` ``[video, onset, offset, kind]`` against ``gt`` (``video, onset, offset,
    kind``) on ``test_sources`` (see the module docstring for ``test_videos``)."""
    pred = pd.DataFrame([list(r) for r in rows], columns=["video", "onset", "offset", "kind"])
    if test_videos == "with-kind":
        having = {(v, k) for v, k in zip(gt["video"], gt["kind"])}
        pred = pred[[(v, k) in having for v, k in zip(pred["video"], pred["kind"])]].reset_index(drop=True)
    return score_spotting(pred, gt, videos=list(test_sources))


def pooled(scores: Sequence[dict[str, dict[str, Any]]]) -> dict[str, dict[str, float | int]]:
    """Counts summed over ``scores`` (runs), with precision, recall and F1 of the sums, per kind and overall."""
    out: dict[str, dict[str, float | int]] = {}
    for kind in SCORE_KINDS:
        tp = sum(int(s[kind]["tp"]) for s in scores)
        n_pred = sum(int(s[kind]["n_pred"]) for s in scores)
        n_gt = sum(int(s[kind]["n_gt"]) for s in scores)
        out[kind] = {**counts_summary(tp, n_pred, n_gt),
                     "f1_defined": utility.f1(tp, n_pred - tp, n_gt - tp) is not None}
    return out


def summarise(folds: list[dict[str, Any]], protocols: Sequence[str], seeds: Sequence[int], resamples: int,
              bootstrap_seed: int, level: float) -> dict[str, Any]:
    """From every run's scores (``folds[i]["protocols"][p]["seeds"][str(seed)]["scores"]``): per seed pooled over
    folds, pooled over folds and seeds, the spread of F1 over seeds, and the bootstrap over held-out subjects."""
    per_seed = {p: {str(s): pooled([f["protocols"][p]["seeds"][str(s)]["scores"] for f in folds]) for s in seeds}
                for p in protocols}
    all_runs = {p: pooled([f["protocols"][p]["seeds"][str(s)]["scores"] for f in folds for s in seeds])
                for p in protocols}
    spread = {p: {kind: utility.spread([per_seed[p][str(s)][kind]["f1"] if per_seed[p][str(s)][kind]["f1_defined"]
                                        else None for s in seeds]) for kind in SCORE_KINDS} for p in protocols}
    baseline = "real" if "real" in protocols else protocols[0]
    bootstrap: dict[str, Any] = {"resamples": resamples, "seed": bootstrap_seed, "level": level,
                                 "min_subjects": utility.MIN_SUBJECTS,
                                 "baseline": baseline, "subjects": sorted(f["test_subject"] for f in folds),
                                 "f1": {}, "differences": {}, "verdicts": {}}
    for kind in SCORE_KINDS:
        counts = {p: {f["test_subject"]: sum((utility.Counts(int(r[kind]["tp"]), int(r[kind]["fp"]), int(r[kind]["fn"]))
                                              for r in (f["protocols"][p]["seeds"][str(s)]["scores"] for s in seeds)),
                                             utility.Counts(0, 0, 0)) for f in folds} for p in protocols}
        comparison = utility.paired_bootstrap(counts, baseline, resamples, bootstrap_seed, level)
        bootstrap["f1"][kind] = {p: e.as_dict() for p, e in comparison.f1.items()}
        bootstrap["differences"][kind] = {f"{p} - {baseline}": e.as_dict() for p, e in comparison.differences.items()}
        bootstrap["verdicts"][kind] = {f"{p} - {baseline}": v for p, v in comparison.verdicts.items()}
    n_intervals = {kind: int(per_seed[protocols[0]][str(seeds[0])][kind]["n_gt"]) for kind in SCORE_KINDS}
    return {"per_seed": per_seed, "pooled": all_runs, "spread": spread, "bootstrap": bootstrap,
            "n_subjects": len(folds), "n_intervals": n_intervals}

"""Is a protocol's spotting F1 different from the baseline's? Intervals over people, and a verdict from them.

Inputs are MEGC counts (TP, FP, FN) per protocol and held-out subject, pooled over seeds (the seeds' counts are
summed: every seed is one more run of the same test videos). F1 = 2·TP / (2·TP + FP + FN), as the MEGC pooled
F1; it is undefined (None) when there is neither a ground-truth interval nor a prediction.

Paired bootstrap over held-out subjects: ``resamples`` times, draw the n subjects with replacement (one draw for
all protocols, so the comparison is paired), sum each protocol's counts over the drawn subjects, and compute each
protocol's F1 and each difference ``protocol − baseline``. The interval is the percentile interval at ``level``
(default 95 %): the (1 − level)/2 and (1 + level)/2 quantiles (numpy's linear interpolation) of the resampled
values; resamples whose F1 is undefined are left out (their number is reported). A difference's verdict follows
from its interval alone: "helps" when the whole interval is above 0, "hurts" when it is below 0, "inconclusive"
otherwise. A verdict also needs at least :data:`MIN_SUBJECTS` held-out subjects: with fewer, the resamples only
re-mix a handful of people (2 subjects give 3 distinct sums), so a narrow interval says nothing about other people,
and the verdict is "inconclusive" whatever the interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

#: Default number of bootstrap resamples and confidence level.
RESAMPLES = 2000
LEVEL = 0.95
VERDICTS: tuple[str, ...] = ("helps", "hurts", "inconclusive")
#: Fewest held-out subjects for a "helps"/"hurts" verdict (see the module docstring).
MIN_SUBJECTS = 5


@dataclass(frozen=True)
class Counts:
    """MEGC counts of one protocol on one held-out subject (all seeds summed)."""

    tp: int
    fp: int
    fn: int

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)


def f1(tp: float, fp: float, fn: float) -> float | None:
    """2·TP / (2·TP + FP + FN); None when nothing was to be found and nothing was predicted."""
    denominator = 2 * tp + fp + fn
    return None if denominator == 0 else 2 * tp / denominator


@dataclass(frozen=True)
class Estimate:
    """A point estimate on all subjects, its bootstrap interval ``(low, high)`` (None when undefined) and the
    number of resamples left out because the value was undefined on them."""

    value: float | None
    low: float | None
    high: float | None
    undefined_resamples: int = 0

    def as_dict(self) -> dict[str, float | int | None]:
        return {"value": _round(self.value), "low": _round(self.low), "high": _round(self.high),
                "undefined_resamples": self.undefined_resamples}


def verdict(low: float | None, high: float | None, n_subjects: int = MIN_SUBJECTS) -> str:
    """"helps" (interval above 0), "hurts" (below 0) or "inconclusive" (contains 0, undefined, or fewer than
    :data:`MIN_SUBJECTS` held-out subjects behind it)."""
    if low is None or high is None or n_subjects < MIN_SUBJECTS:
        return "inconclusive"
    if low > 0:
        return "helps"
    if high < 0:
        return "hurts"
    return "inconclusive"


@dataclass(frozen=True)
class Comparison:
    """The bootstrap of one kind: each protocol's F1 and each difference ``protocol − baseline``, with the
    subjects, resamples, level and seed of the bootstrap."""

    f1: dict[str, Estimate]
    differences: dict[str, Estimate]
    verdicts: dict[str, str]
    subjects: list[str]
    resamples: int
    level: float
    seed: int
    baseline: str


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), 6)


def _interval(values: np.ndarray, level: float) -> tuple[float | None, float | None, int]:
    ok = values[~np.isnan(values)]
    if ok.size == 0:
        return None, None, int(values.size)
    low, high = np.quantile(ok, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high), int(values.size - ok.size)


def paired_bootstrap(counts: Mapping[str, Mapping[str, Counts]], baseline: str = "real",
                     resamples: int = RESAMPLES, seed: int = 0, level: float = LEVEL) -> Comparison:
    """``counts[protocol][subject]`` → F1 of each protocol and ``protocol − baseline`` for every other protocol,
    each with its percentile interval, from one paired bootstrap over the subjects (see the module docstring).
    Every protocol must have counts for the same subjects; ``baseline`` must be one of the protocols."""
    if baseline not in counts:
        raise ValueError(f"baseline protocol {baseline!r} has no counts (protocols: {sorted(counts)})")
    subjects = sorted(counts[baseline])
    for protocol, per_subject in counts.items():
        if sorted(per_subject) != subjects:
            raise ValueError(f"protocol {protocol!r} has counts for {sorted(per_subject)}, the baseline for "
                             f"{subjects}: a paired comparison needs the same held-out subjects")
    if not subjects:
        raise ValueError("no held-out subject: nothing to compare")
    if resamples < 1 or not 0 < level < 1:
        raise ValueError(f"resamples must be >= 1 and 0 < level < 1, got {resamples} and {level}")
    protocols = list(counts)
    table = np.array([[[counts[p][s].tp, counts[p][s].fp, counts[p][s].fn] for s in subjects] for p in protocols],
                     dtype=np.int64)                                     # protocol × subject × (tp, fp, fn)
    draws = np.random.default_rng(seed).integers(0, len(subjects), size=(resamples, len(subjects)))
    summed = table[:, draws, :].sum(axis=2)                             # protocol × resample × (tp, fp, fn)
    denominator = 2 * summed[..., 0] + summed[..., 1] + summed[..., 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = np.where(denominator > 0, 2 * summed[..., 0] / np.maximum(denominator, 1), np.nan)
    total = table.sum(axis=1)
    point = {p: f1(*(int(x) for x in total[i])) for i, p in enumerate(protocols)}
    estimates = {p: Estimate(point[p], *_interval(boot[i], level)) for i, p in enumerate(protocols)}
    base = protocols.index(baseline)
    differences: dict[str, Estimate] = {}
    for i, p in enumerate(protocols):
        if p == baseline:
            continue
        value = None if point[p] is None or point[baseline] is None else point[p] - point[baseline]
        differences[p] = Estimate(value, *_interval(boot[i] - boot[base], level))
    verdicts = {p: verdict(d.low, d.high, len(subjects)) for p, d in differences.items()}
    return Comparison(estimates, differences, verdicts, subjects, resamples, level, seed, baseline)


def spread(values: Sequence[float | None]) -> dict[str, float | int | None]:
    """Mean, sample standard deviation, minimum and maximum of per-seed values (undefined ones left out)."""
    ok = np.array([v for v in values if v is not None], dtype=float)
    if ok.size == 0:
        return {"n": 0, "mean": None, "sd": None, "min": None, "max": None}
    return {"n": int(ok.size), "mean": _round(ok.mean()), "sd": _round(ok.std(ddof=1)) if ok.size > 1 else None,
            "min": _round(ok.min()), "max": _round(ok.max())}

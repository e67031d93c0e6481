"""The utility statistics on hand-made counts: a known positive difference helps, a zero difference is
inconclusive, one subject that dominates the pooled counts cannot make a verdict on its own."""

from __future__ import annotations

import pytest

from samm_synth_dataset.spotting.utility import Counts, f1, paired_bootstrap, spread, verdict


def test_f1_is_the_megc_pooled_f1_and_undefined_without_anything() -> None:
    assert f1(3, 1, 2) == pytest.approx(6 / 9)
    assert f1(0, 4, 0) == 0.0
    assert f1(0, 0, 0) is None


def test_verdict_follows_the_interval_only() -> None:
    assert verdict(0.01, 0.3) == "helps"
    assert verdict(-0.3, -0.01) == "hurts"
    assert verdict(-0.1, 0.2) == "inconclusive"
    assert verdict(0.0, 0.2) == "inconclusive"          # touching 0 is not above it
    assert verdict(None, None) == "inconclusive"


def test_a_known_positive_difference_helps() -> None:
    """Every one of 8 subjects: the synthetic protocol finds 4 of 5 intervals with 1 FP, the real one 1 of 5."""
    subjects = [f"s{i}" for i in range(8)]
    counts = {"real": {s: Counts(1, 1, 4) for s in subjects}, "synthetic": {s: Counts(4, 1, 1) for s in subjects}}
    result = paired_bootstrap(counts, resamples=500, seed=1)
    assert result.f1["real"].value == pytest.approx(2 / 7)
    assert result.f1["synthetic"].value == pytest.approx(8 / 10)
    d = result.differences["synthetic"]
    assert d.value == pytest.approx(0.8 - 2 / 7)
    assert d.low == pytest.approx(d.value) and d.high == pytest.approx(d.value)   # identical subjects: no spread
    assert result.verdicts == {"synthetic": "helps"}
    assert result.subjects == subjects and result.resamples == 500


def test_a_zero_difference_is_inconclusive_and_its_interval_straddles_zero() -> None:
    counts = {"real": {"a": Counts(2, 1, 1), "b": Counts(0, 3, 2), "c": Counts(1, 0, 0)},
              "synthetic": {"a": Counts(1, 0, 2), "b": Counts(1, 2, 1), "c": Counts(1, 2, 0)}}
    result = paired_bootstrap(counts, resamples=2000, seed=0)
    assert result.f1["real"].value == pytest.approx(result.f1["synthetic"].value)  # 6/13 both
    d = result.differences["synthetic"]
    assert d.value == pytest.approx(0.0) and d.low < 0 < d.high
    assert result.verdicts["synthetic"] == "inconclusive"


def test_one_dominating_subject_cannot_carry_a_verdict() -> None:
    """Subject big has 100 intervals and the synthetic protocol wins there; it loses on the 5 small subjects.
    Pooled, synthetic is far ahead, but resampling people (not intervals) shows how much rests on one person."""
    counts = {"real": {"big": Counts(10, 10, 90), **{f"s{i}": Counts(2, 0, 0) for i in range(5)}},
              "synthetic": {"big": Counts(80, 10, 20), **{f"s{i}": Counts(0, 2, 2) for i in range(5)}}}
    result = paired_bootstrap(counts, resamples=2000, seed=0)
    d = result.differences["synthetic"]
    assert d.value > 0.4                                  # the pooled point estimate favours synthetic strongly
    assert d.low < 0 < d.high                             # but a resample without "big" reverses it
    assert result.verdicts["synthetic"] == "inconclusive"


def test_the_bootstrap_is_seeded_and_paired() -> None:
    real = [Counts(2, 1, 1), Counts(0, 3, 2), Counts(3, 0, 1), Counts(1, 1, 4), Counts(5, 2, 0), Counts(0, 0, 3)]
    both = [Counts(3, 1, 0), Counts(1, 2, 1), Counts(3, 1, 1), Counts(2, 0, 3), Counts(4, 4, 1), Counts(2, 1, 1)]
    counts = {"real": {f"s{i}": c for i, c in enumerate(real)},
              "real+synthetic": {f"s{i}": c for i, c in enumerate(both)}}
    one, two = (paired_bootstrap(counts, resamples=300, seed=7) for _ in range(2))
    assert one == two
    other = paired_bootstrap(counts, resamples=300, seed=8).differences["real+synthetic"]
    assert (other.low, other.high) != (one.differences["real+synthetic"].low, one.differences["real+synthetic"].high)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="baseline"):
        paired_bootstrap({"synthetic": {"a": Counts(1, 0, 0)}})
    with pytest.raises(ValueError, match="same held-out subjects"):
        paired_bootstrap({"real": {"a": Counts(1, 0, 0)}, "synthetic": {"b": Counts(1, 0, 0)}})


def test_spread_of_seeds() -> None:
    s = spread([0.2, 0.4, None])
    assert s["n"] == 2 and s["mean"] == pytest.approx(0.3) and s["min"] == 0.2 and s["max"] == 0.4
    assert s["sd"] == pytest.approx(0.141421, abs=1e-6)
    assert spread([None])["mean"] is None


def test_fewer_subjects_than_the_minimum_give_no_verdict() -> None:
    """Two subjects on which synthetic wins both times: the resamples only re-mix the two (the interval is narrow and
    above 0), yet that says nothing about other people, so the verdict stays inconclusive below MIN_SUBJECTS."""
    from samm_synth_dataset.spotting.utility import MIN_SUBJECTS

    def counts(n: int) -> dict[str, dict[str, Counts]]:
        subjects = [f"s{i}" for i in range(n)]
        return {"real": {s: Counts(1, 1, 4) for s in subjects}, "synthetic": {s: Counts(4, 1, 1) for s in subjects}}

    few = paired_bootstrap(counts(2), resamples=500, seed=0)
    assert few.differences["synthetic"].low > 0 and few.verdicts == {"synthetic": "inconclusive"}
    enough = paired_bootstrap(counts(MIN_SUBJECTS), resamples=500, seed=0)
    assert enough.verdicts == {"synthetic": "helps"}
    assert verdict(0.1, 0.2, n_subjects=MIN_SUBJECTS - 1) == "inconclusive"

"""AU correlations, Fisher-z means and the paper's tables, checked against direct SciPy/NumPy computations."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.signal import savgol_filter

from samm_synth_dataset import format as fmt
from samm_synth_dataset.metrics import au as A

AUS = fmt.AU_INTENSITY_COLUMNS


def _tracks(seed: int, n: int = 300, first: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    frames = np.arange(first, first + n)
    base = np.clip(np.cumsum(rng.normal(0, 0.1, (n, len(AUS))), axis=0) + 1, 0, 5)
    o = pd.DataFrame(base, index=pd.Index(frames, name="frame"), columns=AUS)
    s = pd.DataFrame(np.clip(base * 0.8 + rng.normal(0, 0.3, base.shape), 0, 5), index=o.index, columns=AUS)
    o["success"] = 1
    s["success"] = 1
    return o, s


def test_matches_scipy_after_dropping_frames() -> None:
    o, s = _tracks(0)
    o.loc[[5, 6, 7], "success"] = 0
    s.loc[[100], "success"] = 0
    s = s.drop(index=[200, 201])            # frames missing in the synthetic track
    o.loc[50, "AU12_r"] = np.nan            # NaN in one AU only
    res = A.correlate_video(o, s)
    keep = sorted(set(o.index[o["success"] == 1]) & set(s.index[s["success"] == 1]))
    for au in AUS:
        x, y = o.loc[keep, au].to_numpy(), s.loc[keep, au].to_numpy()
        m = np.isfinite(x) & np.isfinite(y)
        assert res.loc[au, "n"] == m.sum()
        assert res.loc[au, "pearson"] == pytest.approx(stats.pearsonr(x[m], y[m]).statistic, abs=1e-12)
        assert res.loc[au, "spearman"] == pytest.approx(stats.spearmanr(x[m], y[m]).statistic, abs=1e-12)
    assert res.loc["AU01_r", "n"] == 300 - 3 - 1 - 2
    assert res.loc["AU12_r", "n"] == 300 - 3 - 1 - 2 - 1
    assert list(res.columns) == ["pearson", "spearman", "n"] and list(res.index) == list(AUS)


@pytest.mark.parametrize("window", [5, 31])
def test_savgol_smoothing_matches_scipy(window: int) -> None:
    o, s = _tracks(1)
    res = A.correlate_video(o, s, window=window, polyorder=2)
    for au in ("AU01_r", "AU45_r"):
        x = savgol_filter(o[au].to_numpy(), window, 2, mode="interp")
        y = savgol_filter(s[au].to_numpy(), window, 2, mode="interp")
        assert res.loc[au, "pearson"] == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
        assert res.loc[au, "spearman"] == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)


def test_no_clipping_of_smoothed_values() -> None:
    """The smoothed track overshoots below 0 (spec §5.1); it is correlated as is."""
    spike = np.array([0, 0, 0, 1, 5, 1, 0, 0, 0, 0, 2, 0.5], float)
    o = pd.DataFrame({"AU01_r": spike, "success": 1}, index=np.arange(1, 13))
    s = pd.DataFrame({"AU01_r": spike[::-1].copy(), "success": 1}, index=np.arange(1, 13))
    res = A.correlate_video(o, s, window=5, polyorder=2, columns=["AU01_r"])
    x, y = savgol_filter(spike, 5, 2), savgol_filter(spike[::-1], 5, 2)
    assert x.min() < 0
    assert res.loc["AU01_r", "pearson"] == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
    assert res.loc["AU01_r", "pearson"] != pytest.approx(stats.pearsonr(np.clip(x, 0, 5), np.clip(y, 0, 5)).statistic)


def test_constant_track_is_nan_not_zero() -> None:
    o, s = _tracks(2)
    o["AU28"] = 0
    s["AU05_r"] = 0.0                       # constant in the synthetic
    o["AU09_r"] = 1.37                      # constant in the original
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # no ConstantInputWarning leaks
        res = A.correlate_video(o, s, window=7)
    for au in ("AU05_r", "AU09_r"):
        assert np.isnan(res.loc[au, "pearson"]) and np.isnan(res.loc[au, "spearman"])
        assert res.loc[au, "n"] == 300
    with pytest.warns(stats.ConstantInputWarning):  # SciPy agrees it is undefined
        assert np.isnan(stats.pearsonr(o["AU01_r"], s["AU05_r"]).statistic)
    # fewer than 2 usable frames: undefined
    o2, s2 = o.iloc[:3].copy(), s.iloc[:3].copy()
    o2["success"] = [1, 0, 0]
    assert np.isnan(A.correlate_video(o2, s2).loc["AU01_r", "pearson"])


def test_fisher_mean_rules() -> None:
    r = np.array([0.1, 0.5, np.nan, 0.9, -0.3])
    n = np.array([50, 100, 80, 20, 10])
    keep = np.isfinite(r)
    assert A.fisher_mean(r) == pytest.approx(np.tanh(np.mean(np.arctanh(r[keep]))), abs=1e-15)
    w = n[keep] - 3
    assert A.fisher_mean(r, n) == pytest.approx(np.tanh(np.sum(w * np.arctanh(r[keep])) / w.sum()), abs=1e-15)
    # r = ±1 is clipped, not inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = A.fisher_mean([1.0, 1.0])
    assert v == pytest.approx(1 - 1e-7, abs=1e-12) and np.isfinite(v)
    assert A.fisher_mean([1.0, -1.0]) == pytest.approx(0.0, abs=1e-12)
    # n <= 3 carries no weight; all NaN -> NaN
    assert A.fisher_mean([0.2, 0.8], [3, 50]) == pytest.approx(0.8)
    assert np.isnan(A.fisher_mean([np.nan, np.nan]))
    assert np.isnan(A.fisher_mean([]))
    with pytest.raises(ValueError):
        A.fisher_mean([0.1, 0.2], [10])


def test_tables_against_direct_computation() -> None:
    tracks = {}
    videos = []
    for i, (subject, glasses) in enumerate([("006", True), ("006", True), ("007", False), ("008", None)]):
        v = f"{subject}_{i}-ref01"
        o, s = _tracks(10 + i, n=200 + 40 * i)
        if i == 2:
            s["AU20_r"] = 0.0
        tracks[v] = (o, s)
        videos.append({"video": v, "subject": subject, "glasses": glasses})
    videos = pd.DataFrame(videos)
    corr = A.correlate_videos(tracks)
    assert len(corr) == 4 * len(AUS)
    t1 = A.table_per_au(corr)
    assert list(t1.index) == list(AUS)
    g = corr[corr["au"] == "AU12_r"]
    z = np.arctanh(g["pearson"].to_numpy())
    w = g["n"].to_numpy() - 3
    assert t1.loc["AU12_r", "pearson"] == pytest.approx(np.tanh((w * z).sum() / w.sum()))
    assert t1.loc["AU20_r", "videos"] == 3 and t1.loc["AU20_r", "undefined"] == 1
    assert t1.loc["AU12_r", "benchmark"] == 0.85 and np.isnan(t1.loc["AU07_r", "benchmark"])

    t2, summary = A.table_per_participant(corr, videos)
    assert list(t2.index) == ["006", "007", "008"] and t2.loc["006", "videos"] == 2
    g = corr[corr["video"].str.startswith("006")]
    z = np.arctanh(g["pearson"].to_numpy())
    w = g["n"].to_numpy() - 3
    assert t2.loc["006", "pearson"] == pytest.approx(np.tanh((w * z).sum() / w.sum()))
    assert t2.loc["007", "pairs"] == len(AUS) - 1
    assert summary["pearson_mean"] == pytest.approx(t2["pearson"].mean())
    assert summary["pearson_sd"] == pytest.approx(np.std(t2["pearson"].to_numpy(), ddof=1))

    gl = A.by_glasses(corr, videos)
    assert gl.attrs["summary"]["with"]["videos"] == 2 and gl.attrs["summary"]["without"]["videos"] == 1
    stale = r"\['007_2-ref01', '008_3-ref01'\] \(2 in all\).*not in the videos table.*stale.*delete"
    with pytest.raises(ValueError, match=stale):
        A.table_per_participant(corr, videos.iloc[:2])


def test_standardise_to_first() -> None:
    x = pd.Series([np.nan, 2.0, 3.0, 5.0])
    z = A.standardise_to_first(x)
    assert np.isnan(z.iloc[0]) and z.iloc[1] == 0.0
    assert z.iloc[3] == pytest.approx(3.0 / np.std([2.0, 3.0, 5.0]))
    assert A.standardise_to_first(pd.Series([1.0, 1.0])).tolist() == [0.0, 0.0]


def test_figures_render(tmp_path) -> None:
    o, s = _tracks(3)
    corr = A.correlate_videos({"006_1-r": (o, s), "007_1-r": _tracks(4)})
    videos = pd.DataFrame({"video": ["006_1-r", "007_1-r"], "subject": ["006", "007"], "glasses": [True, False]})
    for fig in (A.plot_au_curves(o, s, ["AU01_r", "AU12_r"], intervals=[(10, 40, "ME")]),
                A.plot_histograms(corr), A.plot_glasses(A.by_glasses(corr, videos))):
        fig.savefig(tmp_path / "f.png")
        assert (tmp_path / "f.png").stat().st_size > 1000
